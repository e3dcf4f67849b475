"""Real git repositories for the tests of change sets and the gate, and what a user sees in one.

Made with the git driver ARK uses, so that the repositories' own
configuration never runs anything in the tests either.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ark_lsp.git import git

USER = ("-c", "user.name=ARK tests", "-c", "user.email=tests@ark.invalid")
"""A committer for the tests' own commits (ARK's commits need none)."""


def make_repo(root: Path, files: Mapping[str, str] | None = None, *, branch: str = "main") -> Path:
    """A new repository at ``root`` (on ``branch``), with ``files`` committed if given."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", branch)
    if files:
        write(root, files)
        commit(root, "base")
    return root


def write(root: Path, files: Mapping[str, str | None]) -> None:
    """Write each file (dedented text), or delete it where the text is None."""
    for relative, text in files.items():
        path = root / relative
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def commit(root: Path, message: str) -> str:
    """Commit everything in the working tree; return the new commit's id."""
    git(root, "add", "-A")
    git(root, *USER, "commit", "-q", "--allow-empty", "-m", message)
    return head(root)


commit_all = commit


def head(root: Path) -> str:
    """The id of the commit HEAD names."""
    return git(root, "rev-parse", "HEAD").strip()


def worktrees(root: Path) -> list[str]:
    """The folders of the worktrees git knows of the repository (``git worktree list``)."""
    listing = git(root, "worktree", "list", "--porcelain")
    return [
        line.removeprefix("worktree ")
        for line in listing.splitlines()
        if line.startswith("worktree ")
    ]


def status(root: Path) -> str:
    """``git status --porcelain`` with untracked files: what the user sees as their work."""
    return git(root, "status", "--porcelain", "--untracked-files=all")


def ark_branches(repo: Path) -> list[str]:
    """``git branch --list 'ark/*'``, names only."""
    listed = git(repo, "branch", "--list", "ark/*", "--format=%(refname:short)")
    return listed.split()


def worktree_paths(repo: Path) -> list[Path]:
    """``git worktree list``: the main worktree first."""
    return [Path(folder) for folder in worktrees(repo)]


@dataclass(frozen=True)
class UserState:
    """What the user has in their checkout: status, stash, index, HEAD, the files' bytes."""

    status: str
    stash: str
    index: str
    index_file: bytes
    head: str
    files: dict[str, bytes]


def user_state(repo: Path) -> UserState:
    """Everything about the user's checkout ARK must leave as it was."""
    files = {
        path.relative_to(repo).as_posix(): path.read_bytes()
        for path in sorted(repo.rglob("*"))
        if path.is_file()
        and ".git" not in path.relative_to(repo).parts
        and ".ark" not in path.relative_to(repo).parts
    }
    return UserState(
        status=git(repo, "status", "--porcelain", "--untracked-files=all"),
        stash=git(repo, "stash", "list"),
        index=git(repo, "ls-files", "--stage", "--debug"),
        index_file=(repo / ".git" / "index").read_bytes(),
        head=git(repo, "symbolic-ref", "-q", "HEAD", check=False) + head(repo),
        files=files,
    )
