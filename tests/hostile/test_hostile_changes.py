"""A repository cannot make ``ark change`` run a program of its own.

The attacker hands over a repository whose ``.git`` they wrote too (a
tarball, a shared folder): its configuration names programs for git to
run, through content filters that ``.gitattributes`` selects, hooks, a
file-system monitor, an external diff and commit signing. Proposing a
change reads the working tree, checks the change out and commits it:
each of those would run them if git were asked naively. None may run,
and the change must still be made, holding exactly the bytes proposed.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from support.cli import ark
from support.git_repos import make_repo, write

from ark_lsp.git import git

FILES = {
    "pyproject.toml": '[project]\nname = "victim"\n',
    "app.py": "def main():\n    return 1\n",
}


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def program(path: Path, marker: Path) -> str:
    """A script that leaves ``marker`` behind if anything runs it, and passes its input on."""
    path.write_text(f'#!/bin/sh\necho "$0 $*" >> {marker}\ncat\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def propose_both_ways(repo: Path) -> list[dict[str, object]]:
    """A change from the working tree, and one from a patch: both checked out and committed."""
    write(repo, {"app.py": "def main():\n    return 2\n"})
    first = ark("change", "propose", "--from-worktree", "--reason", "Two", "--format", "json",
                cwd=repo)  # fmt: skip
    patch = git(repo, "diff", "--no-ext-diff", "--no-textconv")
    git(repo, "checkout", "-q", "--", "app.py")
    write(repo, {"other.py": "X = 1\n"})
    second = ark("change", "propose", "--patch", "-", "--reason", "Two again", "--format",
                 "json", cwd=repo, input=patch.replace("return 2", "return 3"))  # fmt: skip
    return [json.loads(first.stdout)["change"], json.loads(second.stdout)["change"]]


def assert_made_and_nothing_ran(repo: Path, changes: list[dict[str, object]], marker: Path) -> None:
    assert not marker.exists(), marker.read_text()
    for change, value in zip(changes, ("2", "3"), strict=True):
        worktree = Path(str(change["worktree"]))
        assert (worktree / "app.py").read_bytes() == f"def main():\n    return {value}\n".encode()
        blob = git(repo, "show", f"{change['branch']}:app.py")
        assert blob == f"def main():\n    return {value}\n"


def test_content_filters_named_by_gitattributes_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    repo = make_repo(tmp_path / "victim", FILES)
    evil = program(tmp_path / "filter.sh", marker)
    (repo / ".gitattributes").write_text("*.py filter=evil\n* filter=proc\n")
    for key, value in [
        ("filter.evil.clean", evil), ("filter.evil.smudge", evil),
        ("filter.evil.required", "true"), ("filter.proc.process", evil),
    ]:  # fmt: skip
        git(repo, "config", key, value)
    git(repo, "add", ".gitattributes")  # committed by the attacker, as a clone would hold it
    git(repo, "-c", "user.name=a", "-c", "user.email=a@a", "commit", "-qm", "attributes")
    assert not marker.exists()

    changes = propose_both_ways(repo)

    assert_made_and_nothing_ran(repo, changes, marker)


def test_hooks_in_the_repository_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    repo = make_repo(tmp_path / "victim", FILES)
    hooks = repo / ".git" / "hooks"
    own = repo / "githooks"
    own.mkdir()
    for folder in (hooks, own):
        for name in ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit",
                     "post-checkout", "reference-transaction", "post-index-change"):  # fmt: skip
            program(folder / name, marker)
    git(repo, "config", "core.hooksPath", str(own))

    changes = propose_both_ways(repo)

    assert_made_and_nothing_ran(repo, changes, marker)


def test_fsmonitor_external_diff_and_signing_programs_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    repo = make_repo(tmp_path / "victim", FILES)
    evil = program(tmp_path / "evil.sh", marker)
    (repo / ".gitattributes").write_text("*.py diff=evil\n")
    for key, value in [
        ("core.fsmonitor", evil), ("diff.external", evil), ("diff.evil.command", evil),
        ("diff.evil.textconv", evil), ("commit.gpgSign", "true"), ("gpg.program", evil),
        ("core.editor", evil), ("sequence.editor", evil),
    ]:  # fmt: skip
        git(repo, "config", key, value)

    changes = propose_both_ways(repo)

    assert_made_and_nothing_ran(repo, changes, marker)
    assert os.path.exists(evil)  # the program was there all along
