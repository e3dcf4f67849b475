"""Real git repositories for the tests, and what a user would look at in one.

Made with the git driver ARK uses, so that the repositories' own
configuration never runs anything in the tests either.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ark_lsp.git import git

USER = ("-c", "user.name=Test User", "-c", "user.email=user@example.com")
"""A committer for the tests' own commits (ARK's commits need none)."""


def make_repo(root: Path, files: dict[str, str], *, branch: str = "main") -> Path:
    """A repository at ``root`` whose first commit on ``branch`` holds ``files``."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", branch)
    write(root, files)
    commit_all(root, "base")
    return root


def write(root: Path, files: dict[str, str]) -> None:
    """Write files (relative path -> text) under ``root``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def commit_all(repo: Path, message: str) -> str:
    """Commit everything in the working tree; the new commit's name."""
    git(repo, "add", "-A")
    git(repo, *USER, "commit", "-qm", message)
    return head(repo)


def head(repo: Path) -> str:
    """The full name of the commit HEAD is at."""
    return git(repo, "rev-parse", "HEAD").strip()


def ark_branches(repo: Path) -> list[str]:
    """``git branch --list 'ark/*'``, names only."""
    listed = git(repo, "branch", "--list", "ark/*", "--format=%(refname:short)")
    return listed.split()


def worktree_paths(repo: Path) -> list[Path]:
    """``git worktree list``: the main worktree first."""
    listed = git(repo, "worktree", "list", "--porcelain")
    return [
        Path(line[len("worktree ") :])
        for line in listed.splitlines()
        if line.startswith("worktree ")
    ]


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
