"""Real git repositories for the tests of change sets and the gate: made, written, committed."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

from ark_lsp.git import git

IDENTITY = ("-c", "user.name=ARK tests", "-c", "user.email=tests@ark.invalid")


def make_repo(root: Path, files: Mapping[str, str] | None = None) -> Path:
    """A new repository at ``root`` (on branch main), with ``files`` committed if given."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
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
    git(root, *IDENTITY, "commit", "-q", "--allow-empty", "-m", message)
    return head(root)


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
