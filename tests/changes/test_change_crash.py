"""A killed ``ark change propose`` leaves nothing that the next change command does not remove.

The deterministic case kills ARK while it blocks on something real: the
test holds the index database's write lock, so ARK, having made its
branch, worktree and commit, waits to record the change (``busy-timeout``
is a minute) until it is killed. The others kill it the moment each step
of a run shows: its journal entry, its worktree's folder, its branch
(while the git making them may still be running).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.cli import ARK, ark
from support.git_repos import ark_branches, commit_all, worktree_paths, write

from ark_lsp.git import git


def start_propose(repo: Path, patch: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(ARK), "change", "propose", "--patch", str(patch), "--reason", "Killed mid-way"],
        cwd=repo,
        env={**os.environ, "ARK_DATABASE": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def committed_branches(repo: Path) -> list[str]:
    """``ark/`` branches whose commit ARK has made (it carries the change's trailer)."""
    listed = git(
        repo, "for-each-ref", "refs/heads/ark/",
        "--format=%(refname:short) %(trailers:key=Ark-Change,valueonly,separator=)",
    )  # fmt: skip
    return [line.split()[0] for line in listed.splitlines() if len(line.split()) == 2]


def cached_worktrees(cache: Path) -> list[Path]:
    changes = cache / "ark" / "changes"
    return [
        entry
        for folder in (changes.iterdir() if changes.is_dir() else [])
        for entry in folder.iterdir()
        if entry.name not in (".lock", "journal")
    ] + [
        entry
        for folder in (changes.iterdir() if changes.is_dir() else [])
        for entry in (folder / "journal").glob("*")
    ]


@pytest.fixture
def patch(repo: Path, tmp_path: Path) -> Path:
    write(repo, {"pyproject.toml": '[project]\nname = "shop"\n\n[tool.ark]\nbusy-timeout = 60\n'})
    commit_all(repo, "wait a minute for the index")
    (repo / "README.md").write_text("A shop that survives.\n")
    path = tmp_path / "change.patch"
    path.write_text(git(repo, "diff", "--no-ext-diff"))
    git(repo, "checkout", "-q", "--", "README.md")
    ark("change", "list", cwd=repo)  # the index exists, its rule pack stored
    return path


def test_killed_while_waiting_to_record_the_change(repo: Path, patch: Path, cache: Path) -> None:
    database = sqlite3.connect(repo / ".ark" / "index.db", isolation_level=None)
    database.execute("BEGIN IMMEDIATE")  # the index is busy: ARK waits to record its change
    try:
        proposing = start_propose(repo, patch)
        deadline = time.monotonic() + 60
        while not committed_branches(repo) and time.monotonic() < deadline:
            assert proposing.poll() is None, proposing.communicate()
            time.sleep(0.05)
        assert committed_branches(repo), "ARK never made its commit"
        assert proposing.poll() is None  # blocked on the database, holding branch and worktree
        proposing.send_signal(signal.SIGKILL)
        proposing.communicate()
    finally:
        database.execute("ROLLBACK")
        database.close()
    assert proposing.returncode == -signal.SIGKILL
    assert len(ark_branches(repo)) == 1 and len(worktree_paths(repo)) == 2  # left behind

    listed = ark("change", "list", "--format", "json", cwd=repo)

    assert json.loads(listed.stdout) == {"changes": []}
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert git(repo, "branch", "--list", "ark/*") == ""
    assert cached_worktrees(cache) == []
    assert git(repo, "status", "--porcelain") == ""

    again = ark("change", "propose", "--patch", str(patch), "--reason", "Killed mid-way", cwd=repo)
    assert again.stdout.startswith("Proposed change ")


def _journaled(repo: Path, cache: Path) -> bool:
    return any((cache / "ark" / "changes").glob("*/journal/*.json"))


def _worktree_made(repo: Path, cache: Path) -> bool:
    return any(
        entry.name not in (".lock", "journal") for entry in (cache / "ark" / "changes").glob("*/*")
    )


def _branch_made(repo: Path, cache: Path) -> bool:
    return (repo / ".git" / "refs" / "heads" / "ark").is_dir()


@pytest.mark.parametrize("moment", [_journaled, _worktree_made, _branch_made])
def test_killed_the_moment_it_starts_each_step(
    repo: Path, patch: Path, cache: Path, moment: Callable[[Path, Path], bool]
) -> None:
    proposing = start_propose(repo, patch)
    deadline = time.monotonic() + 60
    while not moment(repo, cache) and proposing.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    proposing.send_signal(signal.SIGKILL)
    proposing.communicate()

    # A git that ARK started may still be running: it holds ARK's lock until it ends.
    listed = json.loads(ark("change", "list", "--format", "json", cwd=repo).stdout)["changes"]

    # Whatever was left is either gone, or a recorded change's own.
    branches = {change["branch"] for change in listed}
    assert set(ark_branches(repo)) <= branches
    trees = {Path(change["worktree"]) for change in listed if change["worktree"]}
    assert set(worktree_paths(repo)[1:]) == trees
    assert set(cached_worktrees(cache)) == trees
    assert git(repo, "status", "--porcelain") == ""
    again = ark("change", "propose", "--patch", str(patch), "--reason", "again", cwd=repo)
    worktree = Path(again.stdout.split("worktree: ")[1].strip())
    assert (worktree / "README.md").read_text() == "A shop that survives.\n"


def test_an_index_busy_past_its_timeout_fails_the_proposal_and_takes_back_what_was_made(
    repo: Path, patch: Path, cache: Path
) -> None:
    write(repo, {"pyproject.toml": '[project]\nname = "shop"\n\n[tool.ark]\nbusy-timeout = 1\n'})
    commit_all(repo, "impatient")
    database = sqlite3.connect(repo / ".ark" / "index.db", isolation_level=None)
    database.execute("BEGIN IMMEDIATE")
    try:
        result = ark("change", "propose", "--patch", str(patch), "--reason", "r", cwd=repo,
                     check=False)  # fmt: skip
    finally:
        database.execute("ROLLBACK")
        database.close()
    assert result.returncode == 3, result.stderr
    assert result.stderr.count("\n") == 1 and "locked" in result.stderr
    assert ark_branches(repo) == [] and worktree_paths(repo) == [repo]
    assert cached_worktrees(cache) == []
