"""The git repository a workspace is in, as change sets need it: its top, HEAD, its state."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from ark_lsp.changes.errors import BadRequest, DetachedHead, NoBaseCommit, NotAGitRepository
from ark_lsp.git import GitError, UnsafeRepository, git


@dataclass(frozen=True)
class Head:
    """The commit HEAD is at and the branch it is on."""

    commit: str
    branch: str
    """The branch's short name: ``main``."""


@dataclass(frozen=True)
class GitRepository:
    """A git repository with a working tree, found from a folder inside it."""

    top: Path
    """The top folder of the working tree the folder is in."""
    common_dir: Path
    """The repository's own ``.git`` folder, shared by all its worktrees."""

    @classmethod
    def containing(cls, folder: Path) -> GitRepository:
        """The repository whose working tree holds ``folder``.

        Raises :class:`NotAGitRepository` when there is none (or no working tree).
        """
        try:
            found = git(folder, "rev-parse", "--show-toplevel", "--git-common-dir")
        except UnsafeRepository as error:
            raise BadRequest(str(error)) from None
        except GitError as error:
            raise NotAGitRepository(folder, str(error)) from None
        lines = found.splitlines()
        if len(lines) != 2:
            raise NotAGitRepository(folder)
        top = Path(lines[0])
        common = Path(lines[1])
        return cls(top, (common if common.is_absolute() else folder / common).resolve())

    def git(self, *args: str, input: bytes | None = None) -> str:
        """Run git at the top of the working tree (where a patch's paths start)."""
        return git(self.top, *args, input=input)

    def head(self) -> Head:
        """Where HEAD is: :class:`DetachedHead` or :class:`NoBaseCommit` when nowhere to land."""
        ref = git(self.top, "symbolic-ref", "-q", "HEAD", check=False).strip()
        if not ref.startswith("refs/heads/"):
            raise DetachedHead()
        branch = ref.removeprefix("refs/heads/")
        commit = self.commit(ref)
        if commit is None:
            raise NoBaseCommit(branch)
        return Head(commit, branch)

    def commit(self, revision: str) -> str | None:
        """The full name of the commit ``revision`` names, or None when it names none."""
        if revision.startswith("-"):
            return None
        found = git(
            self.top, "rev-parse", "--verify", "--quiet", "--end-of-options",
            f"{revision}^{{commit}}", check=False,
        ).strip()  # fmt: skip
        return found or None

    def has_commit(self, name: str) -> bool:
        """Whether the full commit name ``name`` is a commit the repository holds."""
        return not self.missing_commits([name])

    def missing_commits(self, names: Collection[str]) -> set[str]:
        """Which of the full commit names ``names`` the repository no longer holds."""
        ordered = [name for name in names if name and not name.startswith("-")]
        if not ordered:
            return set(names)
        listed = "".join(f"{name}\n" for name in ordered).encode()
        # A missing object is answered "<name> missing", whatever the format asks.
        answer = git(self.top, "cat-file", "--batch-check=%(objecttype)", input=listed)
        kinds = answer.splitlines()
        found = {name for name, kind in zip(ordered, kinds, strict=False) if kind == "commit"}
        return set(names) - found

    def uncommitted(self, paths: Collection[str]) -> list[str]:
        """Those of ``paths`` (top-relative) that differ from HEAD in the index or working tree.

        Staged, unstaged and untracked (not ignored) files all count: a file
        the change creates must not already be lying there untracked either.
        """
        if not paths:
            return []
        status = git(
            self.top, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames",
            "--ignore-submodules=none",
        )  # fmt: skip
        touched = set(paths)
        dirty = {entry[3:] for entry in status.split("\0") if len(entry) > 3} & touched
        return sorted(dirty)


__all__ = ["GitRepository", "Head"]
