"""Why a change cannot be proposed, found or used: one line each, nothing written.

Three families, which the front ends turn into their own exit codes:

- :class:`BadRequest`: what the user asked for cannot be (not a git
  repository, an unknown or ambiguous id, a range that is not one);
- :class:`ChangeRefused`: the repository's state or the change itself
  rules it out (a detached HEAD, a dirty base, an empty or binary patch, a
  patch that does not apply, a base commit that no longer exists);
- :class:`ChangeError` itself: anything else (git failing, the changes
  being busy in another ARK).
"""

from __future__ import annotations

from collections.abc import Sequence


class ChangeError(Exception):
    """A change could not be proposed, found or materialized; the message is one line."""


class BadRequest(ChangeError):
    """What was asked for cannot be: the place, the id or the range named is not one."""


class NotAGitRepository(BadRequest):
    """The workspace is in no git repository (or one with no working tree)."""

    def __init__(self, where: object, reason: str = "") -> None:
        why = f" ({reason})" if reason else ""
        super().__init__(f"{where} is not in a git repository{why}")


class ChangeNotFound(BadRequest):
    """No change, or more than one, answers to the id given."""


class UnknownChange(ChangeNotFound):
    """No recorded change has that id or prefix."""

    def __init__(self, ident: str) -> None:
        super().__init__(f"no change set {ident!r} (see `ark change list`)")


class AmbiguousChange(ChangeNotFound):
    """Several recorded changes start with the prefix given."""

    def __init__(self, ident: str, candidates: Sequence[str]) -> None:
        shown = ", ".join(c[:12] for c in candidates[:5])
        super().__init__(f"{ident!r} is ambiguous: {len(candidates)} change sets ({shown}...)")


class BadChangeId(ChangeNotFound):
    """What was given is not an id, a prefix of one or a change's branch."""

    def __init__(self, ident: str) -> None:
        super().__init__(
            f"{ident!r} is not a change id (at least 4 hex digits, or the change's ark/ branch)"
        )


class ChangeRefused(ChangeError):
    """The change, or the repository as it stands, rules the change out."""


class DetachedHead(ChangeRefused):
    """HEAD names no branch, so there is nowhere for the change to land."""

    def __init__(self) -> None:
        super().__init__(
            "HEAD is detached: check out the branch the change is for (git switch BRANCH)"
        )


class NoBaseCommit(ChangeRefused):
    """The branch has no commit yet to base a change on."""

    def __init__(self, branch: str) -> None:
        super().__init__(f"the branch {branch} has no commits yet: commit a base first")


class DirtyBase(ChangeRefused):
    """Files the change touches have uncommitted changes, so HEAD is not what it was made on."""

    def __init__(self, paths: Sequence[str]) -> None:
        shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        super().__init__(
            f"the change touches files with uncommitted changes ({shown}): commit or stash "
            "them, or propose them too with --from-worktree"
        )
        self.paths = tuple(paths)


class EmptyPatch(ChangeRefused):
    """There is nothing in the change."""


class BinaryPatch(ChangeRefused):
    """The change touches binary files, which a change set does not carry."""

    def __init__(self, paths: Sequence[str]) -> None:
        super().__init__(f"the change touches binary files ({', '.join(paths[:5])})")
        self.paths = tuple(paths)


class PatchDoesNotApply(ChangeRefused):
    """The patch does not apply to its base commit."""

    def __init__(self, base: str, reason: str) -> None:
        super().__init__(f"the patch does not apply to {base[:12]}: {reason}")


class BaseMissing(ChangeRefused):
    """The change's base commit is gone from the repository (history rewritten, then gc)."""

    def __init__(self, short_id: str, base: str) -> None:
        super().__init__(
            f"change {short_id}: its base commit {base[:12]} no longer exists in the "
            f"repository; drop it with `ark change drop {short_id}`"
        )


class BadRange(BadRequest):
    """A commit range that is not ``A..B`` of two commits of the repository."""


class ChangesBusy(ChangeError):
    """Another ARK holds the repository's changes for longer than a command waits."""


__all__ = [
    "AmbiguousChange",
    "BadChangeId",
    "BadRange",
    "BadRequest",
    "BaseMissing",
    "BinaryPatch",
    "ChangeError",
    "ChangeNotFound",
    "ChangeRefused",
    "ChangesBusy",
    "DetachedHead",
    "DirtyBase",
    "EmptyPatch",
    "NoBaseCommit",
    "NotAGitRepository",
    "PatchDoesNotApply",
    "UnknownChange",
]
