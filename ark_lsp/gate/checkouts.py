"""The base and head of a change, checked out where the user's work cannot be touched.

The gate never looks at the user's working tree, index or branches while it
judges: it checks each commit out as a disposable, detached ``git worktree``
in the user's cache (``<cache>/gate/<run id>/base`` and ``head``), and takes
them away when it is done, also after an error or Ctrl-C. A run that was
killed outright leaves its folder behind, with the id of its process: the
next gate run in the same repository removes what dead runs left, and has
git forget their worktrees.

Uncommitted work is judged by first making a commit of it that no branch
holds (:func:`snapshot_working_tree`), staged in an index file of ARK's own:
the user's index and files stay as they are.

Checking out and staging are where git runs a repository's content filters
(``filter.<driver>.smudge``/``clean``, named by ``.gitattributes``): a
repository that came with a ``.git/config`` of its own could run any
program through them, so the gate switches every configured filter off for
those calls (files are checked out as committed; a Git LFS file stays its
pointer), and never signs the commit it makes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ark_lsp.git import GitError, git, stage_working_tree
from ark_lsp.trust import user_cache_folder

OWNER_FILE = "owner.json"
"""In each run's folder: the process that made it and the repository it belongs to."""

ORPHAN_AGE = 3600.0
"""Seconds after which a run folder that never said whose it is counts as left behind."""

_SNAPSHOT_AUTHOR = {
    "GIT_AUTHOR_NAME": "ARK gate",
    "GIT_AUTHOR_EMAIL": "ark-gate@localhost",
    "GIT_COMMITTER_NAME": "ARK gate",
    "GIT_COMMITTER_EMAIL": "ark-gate@localhost",
}


def gate_folder() -> Path:
    """Where the gate keeps its runs' checkouts: the user's cache."""
    return user_cache_folder() / "gate"


@dataclass(frozen=True)
class Checkouts:
    """The two trees a gate run judges, each a detached worktree of its commit."""

    base: Path
    head: Path
    scratch: Path
    """The run's own folder, holding both (and anything else the run needs to write)."""


def without_filters(repo: Path) -> tuple[str, ...]:
    """Options for a git call that switch off every content filter the configuration names."""
    listed = git(
        repo, "config", "--name-only", "--get-regexp", r"^filter\..+\.(clean|smudge|process)$",
        check=False,
    )  # fmt: skip
    drivers = {name.rsplit(".", 1)[0] for name in listed.split()}
    options: list[str] = []
    for driver in sorted(drivers):
        for key in ("clean", "smudge", "process"):
            options += ["-c", f"{driver}.{key}="]
        options += ["-c", f"{driver}.required=false"]
    return tuple(options)


def snapshot_working_tree(repo: Path, scratch: Path) -> str:
    """A commit of the working tree as it is (tracked and untracked files, not ignored ones).

    Untracked files in a virtual environment, build output or a cache are
    left out (:func:`~ark_lsp.git.stage_working_tree`).

    Staged in an index file under ``scratch``, committed with HEAD as its
    parent and held by no branch: the user's index, files and refs stay as
    they were. Raises :class:`GitError` in a repository without commits.
    """
    staging = {"GIT_INDEX_FILE": str(scratch / "index"), **_SNAPSHOT_AUTHOR}
    filters_off = without_filters(repo)
    git(repo, *filters_off, "read-tree", "HEAD", env=staging)
    stage_working_tree(repo, *filters_off, env=staging)
    tree = git(repo, *filters_off, "write-tree", env=staging).strip()
    message = b"ARK gate: the working tree's uncommitted changes\n"
    return git(
        repo, *filters_off, "commit-tree", "--no-gpg-sign", tree, "-p", "HEAD",
        input=message, env=staging,
    ).strip()  # fmt: skip


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # somebody else's process: alive
    return True


def _owner(run: Path) -> tuple[int, str] | None:
    try:
        data = json.loads((run / OWNER_FILE).read_text())
        return int(data["pid"]), str(data["repo"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def sweep(repo: Path, folder: Path | None = None) -> list[Path]:
    """Remove what killed gate runs in ``repo`` left behind; return the folders removed."""
    folder = folder or gate_folder()
    removed = []
    try:
        runs = list(folder.iterdir())
    except OSError:
        return []
    for run in runs:
        owner = _owner(run)
        if owner is None:
            with contextlib.suppress(OSError):
                if time.time() - run.stat().st_mtime > ORPHAN_AGE:
                    shutil.rmtree(run, ignore_errors=True)
                    removed.append(run)
            continue
        pid, owner_repo = owner
        if owner_repo == str(repo) and not _alive(pid):
            shutil.rmtree(run, ignore_errors=True)
            removed.append(run)
    if removed:
        with contextlib.suppress(GitError):
            git(repo, "worktree", "prune")
    return removed


def _add_worktree(repo: Path, path: Path, commit: str) -> None:
    options = without_filters(repo)
    git(repo, *options, "worktree", "add", "--detach", "--quiet", str(path), commit)


def _remove_worktree(repo: Path, path: Path) -> None:
    with contextlib.suppress(GitError):
        # Removing looks for changes in the worktree first: a clean filter would run.
        git(repo, *without_filters(repo), "worktree", "remove", "--force", "--force", str(path))


@contextlib.contextmanager
def scratch_folder(repo: Path, run_id: str, folder: Path | None = None) -> Iterator[Path]:
    """The run's own folder in the cache, marked as this process's, removed at the end."""
    folder = folder or gate_folder()
    sweep(repo, folder)
    scratch = folder / run_id
    scratch.mkdir(parents=True)
    try:
        owner = {"pid": os.getpid(), "repo": str(repo), "started": time.time()}
        (scratch / OWNER_FILE).write_text(json.dumps(owner))
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def checked_out(repo: Path, scratch: Path, base: str, head: str) -> Iterator[Checkouts]:
    """``base`` and ``head`` of ``repo`` as detached worktrees in ``scratch``, for the block.

    Both are removed, and git made to forget them, when the block ends,
    however it ends.
    """
    checkouts = Checkouts(scratch / "base", scratch / "head", scratch)
    try:
        _add_worktree(repo, checkouts.base, base)
        _add_worktree(repo, checkouts.head, head)
        yield checkouts
    finally:
        for path in (checkouts.head, checkouts.base):
            if path.exists():
                _remove_worktree(repo, path)
                shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(GitError):
            git(repo, "worktree", "prune")


__all__ = [
    "Checkouts",
    "checked_out",
    "gate_folder",
    "scratch_folder",
    "snapshot_working_tree",
    "sweep",
    "without_filters",
]
