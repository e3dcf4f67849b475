"""Bad input to ``ark change``: one line on stderr, a documented exit code, nothing written.

Nothing written means no record in the index, no ``ark/`` branch, no
worktree (registered or left in the cache), and the user's checkout as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import ark
from support.git_repos import (
    USER,
    ark_branches,
    commit_all,
    head,
    user_state,
    worktree_paths,
    write,
)

from ark_lsp.changes import ChangeSet, Provenance, SourceKind
from ark_lsp.git import git
from ark_lsp.store import Store

USAGE = 2
REFUSED = 5


def refused(repo: Path, *args: str, code: int, says: str, input: str | None = None) -> None:
    """``ark change ARGS`` fails with ``code``, one line saying ``says``, and writes nothing."""
    before = (user_state(repo), made(repo))
    result = ark("change", *args, cwd=repo, check=False, input=input)
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("ark: error: ")
    assert says in result.stderr
    assert (user_state(repo), made(repo)) == before


def made(repo: Path) -> tuple[object, ...]:
    """What ARK could have made: records, branches, worktrees, folders and journal entries."""
    cached = sorted(
        path.relative_to(folder).as_posix()
        for folder in worktree_folders()
        for path in folder.rglob("*")
        if path.name != ".lock"
    )
    return records(repo), ark_branches(repo), worktree_paths(repo), cached


def records(repo: Path) -> list[ChangeSet]:
    database = repo / ".ark" / "index.db"
    if not database.exists():
        return []
    with Store.open(database) as store:
        return store.changes.all()


def worktree_folders() -> Iterator[Path]:
    changes = Path(os.environ["XDG_CACHE_HOME"]) / "ark" / "changes"
    yield from changes.glob("*") if changes.is_dir() else []


def patch_of(repo: Path, relative: str, new_text: str) -> str:
    path = repo / relative
    original = path.read_text()
    path.write_text(new_text)
    patch = git(repo, "diff", "--no-ext-diff")
    path.write_text(original)
    return patch


def test_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    write(plain, {"pyproject.toml": '[project]\nname = "p"\n', "a.py": "a = 1\n"})
    result = ark("change", "propose", "--from-worktree", "--reason", "r", cwd=plain, check=False)
    assert result.returncode == USAGE
    assert result.stderr.count("\n") == 1
    assert f"ark: error: {plain} is not in a git repository" in result.stderr
    listed = ark("change", "list", cwd=plain, check=False)
    assert listed.returncode == USAGE and "is not in a git repository" in listed.stderr


def test_a_repository_another_user_owns_is_named_as_git_refuses_it(repo: Path) -> None:
    # An sdist unpacked as root keeps its owner's uid: git refuses the repository made
    # in it, and ARK said "error: git config --global --add safe.directory ...", or that
    # it was in no repository at all. git's own switch stands in for another owner.
    env = {**os.environ, "GIT_TEST_ASSUME_DIFFERENT_OWNER": "1"}
    for command in (["change", "list"], ["gate"]):
        result = ark(*command, cwd=repo, env=env, check=False)
        assert result.stderr == (
            f"ark: error: git refuses the repository at {repo}: another user owns it "
            f"(`git config --global --add safe.directory {repo}` trusts it)\n"
        ), command
        assert result.returncode == (USAGE if command[0] == "change" else 4)


@pytest.mark.parametrize("how", ["unstaged", "staged"])
def test_a_patch_on_files_with_uncommitted_changes_is_refused(repo: Path, how: str) -> None:
    patch = patch_of(repo, "README.md", "A big shop.\n")
    write(repo, {"README.md": "A shop, being edited.\n"})
    if how == "staged":
        git(repo, "add", "README.md")
    refused(repo, "propose", "--patch", "-", "--reason", "r", input=patch, code=REFUSED,
            says="touches files with uncommitted changes (README.md)")  # fmt: skip
    assert made(repo) == ([], [], [repo], [])


def test_an_untracked_file_where_the_patch_creates_one_is_a_dirty_base(repo: Path) -> None:
    write(repo, {"shop/extra.py": "X = 1\n"})
    git(repo, "add", "-N", "shop/extra.py")
    patch = git(repo, "diff", "--no-ext-diff")
    git(repo, "rm", "-q", "--cached", "shop/extra.py")
    refused(repo, "propose", "--patch", "-", "--reason", "r", input=patch, code=REFUSED,
            says="uncommitted changes (shop/extra.py)")  # fmt: skip


def test_uncommitted_changes_to_other_files_do_not_matter(repo: Path) -> None:
    patch = patch_of(repo, "README.md", "A big shop.\n")
    write(repo, {"shop/pricing.py": "EDITED = True\n", "notes.txt": "mine\n"})
    result = ark("change", "propose", "--patch", "-", "--reason", "r", cwd=repo, input=patch)
    assert result.stdout.startswith("Proposed change ")


def test_a_patch_that_does_not_apply(repo: Path) -> None:
    patch = patch_of(repo, "README.md", "A big shop.\n").replace("-A shop.", "-A mall.")
    refused(repo, "propose", "--patch", "-", "--reason", "r", input=patch, code=REFUSED,
            says="the patch does not apply to ")  # fmt: skip


def test_a_patch_that_is_not_a_patch(repo: Path) -> None:
    refused(repo, "propose", "--patch", "-", "--reason", "r", input="just words\n",
            code=REFUSED, says="the patch holds no change of a file")  # fmt: skip


@pytest.mark.parametrize("binary_flag", [[], ["--binary"]])
def test_a_binary_patch(repo: Path, binary_flag: list[str]) -> None:
    (repo / "logo.png").write_bytes(bytes(range(256)))
    git(repo, "add", "logo.png")
    patch = git(repo, "diff", "--no-ext-diff", "--cached", *binary_flag)
    git(repo, "rm", "-q", "--cached", "logo.png")
    (repo / "logo.png").unlink()
    refused(repo, "propose", "--patch", "-", "--reason", "r", input=patch, code=REFUSED,
            says="the change touches binary files (logo.png)")  # fmt: skip


def test_an_untracked_binary_file_in_the_working_tree(repo: Path) -> None:
    (repo / "logo.png").write_bytes(bytes(range(256)))
    refused(repo, "propose", "--from-worktree", "--reason", "r", code=REFUSED,
            says="binary files (logo.png)")  # fmt: skip


def test_empty_patches(repo: Path) -> None:
    refused(repo, "propose", "--patch", "-", "--reason", "r", input="", code=REFUSED,
            says="the patch is empty")  # fmt: skip
    refused(repo, "propose", "--from-worktree", "--reason", "r", code=REFUSED,
            says="the change changes nothing")  # fmt: skip
    refused(repo, "propose", "--range", "HEAD..main", "--reason", "r", code=REFUSED,
            says="the change changes nothing")  # fmt: skip


def test_a_detached_head(repo: Path) -> None:
    write(repo, {"README.md": "Two.\n"})
    commit_all(repo, "two")
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    write(repo, {"README.md": "Three.\n"})
    refused(repo, "propose", "--from-worktree", "--reason", "r", code=REFUSED,
            says="HEAD is detached")  # fmt: skip


def test_a_branch_with_no_commits(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q", "-b", "trunk")
    write(fresh, {"a.py": "a = 1\n"})
    result = ark("change", "propose", "--from-worktree", "--reason", "r", cwd=fresh, check=False)
    assert result.returncode == REFUSED
    assert result.stderr == "ark: error: the branch trunk has no commits yet: commit a base first\n"


def test_ranges_that_are_not_ranges(repo: Path) -> None:
    for text, says in [
        ("main", "is not a range of two commits"),
        ("main...main", "is not a range of two commits"),
        ("main..nowhere", "'nowhere' names no commit"),
        ("--help..main", "'--help' names no commit"),
    ]:
        refused(repo, "propose", "--range", text, "--reason", "r", code=USAGE, says=says)


def test_sources_and_reasons_are_usage_errors(repo: Path) -> None:
    refused(repo, "propose", "--reason", "r", code=USAGE, says="give one of --patch FILE")
    refused(repo, "propose", "--from-worktree", "--range", "a..b", "--reason", "r", code=USAGE,
            says="give one of")  # fmt: skip
    refused(repo, "propose", "--from-worktree", "--reason", "  ", code=USAGE, says="--reason")
    refused(repo, "propose", "--from-worktree", code=USAGE, says="Missing option '--reason'")


def _record(repo: Path, ident: str) -> None:
    with Store.open(repo / ".ark" / "index.db") as store:
        store.changes.record(
            ChangeSet(
                ident,
                head(repo),
                b"x",
                Provenance("r", "t", SourceKind.PATCH),
                (),
                "main",
                "2025-01-01T00:00:00.000Z",
            )
        )


def test_unknown_ambiguous_and_malformed_ids(repo: Path) -> None:
    ark("change", "list", cwd=repo)
    _record(repo, "beef" + "1" * 60)
    _record(repo, "beef" + "2" * 60)
    for command in ("show", "diff", "drop"):
        result = ark("change", command, "beef", cwd=repo, check=False)
        assert result.returncode == USAGE
        assert result.stderr == (
            f"ark: error: 'beef' is ambiguous: 2 change sets ({'beef' + '1' * 8}, "
            f"{'beef' + '2' * 8}...)\n"
        )
        result = ark("change", command, "cafe", cwd=repo, check=False)
        assert result.returncode == USAGE
        assert result.stderr == "ark: error: no change set 'cafe' (see `ark change list`)\n"
        for bad in ("bee", "not-hex", "beef" * 20):
            result = ark("change", command, bad, cwd=repo, check=False)
            assert result.returncode == USAGE and "is not a change id" in result.stderr
    assert len(records(repo)) == 2


def test_a_change_whose_base_was_rewritten_away(repo: Path) -> None:
    patch = patch_of(repo, "README.md", "A big shop.\n")
    ark("change", "propose", "--patch", "-", "--reason", "Bigger", cwd=repo, input=patch)
    change = json.loads(ark("change", "list", "--format", "json", cwd=repo).stdout)["changes"][0]
    # The user removes ARK's branch by hand, rewrites history and collects the garbage.
    git(repo, "worktree", "remove", "--force", change["worktree"])
    git(repo, "branch", "-D", change["branch"])
    git(repo, *USER, "commit", "-q", "--amend", "-m", "rewritten")
    git(repo, "reflog", "expire", "--expire=now", "--all")
    git(repo, "gc", "-q", "--prune=now")
    assert (
        subprocess.run(
            ["git", "cat-file", "-e", change["base"]], cwd=repo, capture_output=True, check=False
        ).returncode
        != 0
    )
    short = change["short_id"]

    says = f"change {short}: its base commit {change['base'][:12]} no longer exists"
    for command in ("show", "diff"):
        refused(repo, command, short, code=REFUSED, says=says)

    listed = ark("change", "list", cwd=repo).stdout
    assert listed.rstrip().endswith("(base missing)")
    as_json = json.loads(ark("change", "list", "--format", "json", cwd=repo).stdout)
    assert as_json["changes"][0]["base_exists"] is False
    assert (
        ark("change", "drop", short, cwd=repo).stdout
        == f"Dropped change {short} ({change['branch']})\n"
    )
    assert records(repo) == []
