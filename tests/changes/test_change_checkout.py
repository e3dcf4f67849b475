"""The workflow API: proposing ARK's own edits, and ``checkout``, the quality gate's seam."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.git_repos import USER, ark_branches, head, user_state, worktree_paths, write

from ark_lsp.changes import DirtyBase, Provenance, SourceKind, UnknownChange
from ark_lsp.git import git
from ark_lsp.project import Project
from ark_lsp.trust import TrustStore
from ark_lsp.workflows.changes import (
    AsChange,
    ChangeCheckout,
    checkout,
    drop_change,
    list_changes,
    propose_edits,
    propose_generated,
)

NEW_PRICING = (
    '"""Prices."""\n\n\ndef total(prices: list[float]) -> float:\n    return sum(prices)\n'
)


@pytest.fixture
def project(repo: Path, tmp_path: Path) -> Project:
    return Project.load(repo.resolve(), trust_store=TrustStore(tmp_path / "trust.json"))


def proposed(project: Project) -> ChangeCheckout:
    provenance = Provenance("Simplify total", "a generator", SourceKind.STUB, "test")
    proposal = propose_edits(
        project,
        {"shop/pricing.py": NEW_PRICING, "shop/extra.py": "X = 1\n", "README.md": None},
        provenance,
        ["shop.pricing.total"],
    )
    return checkout(project, proposal.change.id)


def test_edits_become_a_change_and_checkout_gives_its_base_and_a_clean_worktree(
    project: Project, repo: Path, cache: Path
) -> None:
    before = user_state(repo)

    checked = proposed(project)

    assert user_state(repo) == before
    assert checked.base == head(repo) == checked.change.base
    assert git(repo, "rev-parse", f"{checked.head}^").strip() == checked.base
    assert checked.worktree.is_relative_to(cache) and not checked.worktree.is_relative_to(repo)
    assert (checked.worktree / "shop" / "pricing.py").read_text() == NEW_PRICING
    assert (checked.worktree / "shop" / "extra.py").read_text() == "X = 1\n"
    assert not (checked.worktree / "README.md").exists()
    assert git(checked.worktree, "status", "--porcelain", "--ignored") == ""
    assert {f.path: f.status for f in checked.change.file_stats()} == {
        "README.md": "deleted",
        "shop/extra.py": "added",
        "shop/pricing.py": "modified",
    }
    assert checked.change.targets == ("shop.pricing.total",)
    assert checkout(project, checked.change.short_id[:4]) == checked


def test_checkout_makes_the_same_commit_again_whatever_was_removed_or_changed(
    project: Project, repo: Path, cache: Path
) -> None:
    checked = proposed(project)
    ident = checked.change.id

    shutil.rmtree(cache)  # the user clears the cache
    assert checkout(project, ident) == checked
    assert (checked.worktree / "shop" / "extra.py").read_text() == "X = 1\n"

    git(repo, "worktree", "remove", "--force", str(checked.worktree))
    git(repo, "branch", "-D", checked.change.branch)  # the user deletes ARK's branch
    assert checkout(project, ident) == checked

    write(checked.worktree, {"shop/extra.py": "X = 2\n", "stray.txt": "made by a test run\n"})
    (checked.worktree / "__pycache__").mkdir()
    assert checkout(project, ident) == checked
    assert (checked.worktree / "shop" / "extra.py").read_text() == "X = 1\n"
    assert not (checked.worktree / "stray.txt").exists()
    assert not (checked.worktree / "__pycache__").exists()

    git(checked.worktree, *USER, "commit", "-qam", "sneaked in", "--allow-empty")
    git(checked.worktree, "checkout", "-q", "--detach")
    assert checkout(project, ident) == checked  # a change is immutable: its branch is put back
    assert ark_branches(repo) == [checked.change.branch]
    assert worktree_paths(repo) == [repo, checked.worktree]


def test_edits_of_files_with_uncommitted_changes_are_refused(project: Project, repo: Path) -> None:
    write(repo, {"shop/pricing.py": "EDITED = 1\n"})
    with pytest.raises(DirtyBase) as refused:
        proposed(project)
    assert refused.value.paths == ("shop/pricing.py",)
    assert ark_branches(repo) == [] and list_changes(project) == []


def test_a_generated_edit_says_who_asked_and_why(project: Project) -> None:
    proposal = propose_generated(
        project,
        {"shop/util.py": "def helper() -> None:\n    pass\n"},
        AsChange("ark generate function (alice)"),
        SourceKind.STUB,
        reason="Add the function helper",
        detail="shop/util.py",
        targets=["shop.util.helper"],
    )
    change = proposal.change
    assert change.provenance == Provenance(
        "Add the function helper", "ark generate function (alice)", SourceKind.STUB, "shop/util.py"
    )
    assert change.branch == f"ark/{change.short_id}-add-the-function-helper"
    why = AsChange("ark generate function (alice)", reason="Because the caller needs it")
    other = propose_generated(
        project, {"shop/util.py": "X = 1\n"}, why, SourceKind.STUB, reason="ignored"
    )
    assert other.change.provenance.reason == "Because the caller needs it"


def test_dropped_changes_are_gone_for_checkout(project: Project, repo: Path) -> None:
    checked = proposed(project)
    dropped = drop_change(project, checked.change.short_id)
    assert dropped.branch_removed and dropped.change == checked.change
    assert not checked.worktree.exists() and ark_branches(repo) == []
    with pytest.raises(UnknownChange):
        checkout(project, checked.change.id)


def test_a_workspace_in_a_folder_of_the_repository_names_its_files_from_the_top(
    repo: Path, tmp_path: Path
) -> None:
    write(repo, {"services/api/pyproject.toml": '[project]\nname = "api"\n'})
    write(repo, {"services/api/api/__init__.py": ""})
    git(repo, "add", "-A")
    git(repo, *USER, "commit", "-qm", "api")
    api = Project.load(
        (repo / "services" / "api").resolve(), trust_store=TrustStore(tmp_path / "trust.json")
    )
    provenance = Provenance("Add a route", "a generator", SourceKind.STUB)

    proposal = propose_edits(api, {"api/routes.py": "ROUTES = []\n"}, provenance)

    assert [f.path for f in proposal.change.files] == ["services/api/api/routes.py"]
    assert (proposal.worktree / "services" / "api" / "api" / "routes.py").is_file()
    assert checkout(api, proposal.change.id).worktree == proposal.worktree
