"""Change sets: what a change is, how it is made from each source, and where it is checked out.

- :mod:`~ark_lsp.changes.model`: :class:`ChangeSet` (base commit, patch,
  provenance, targets; its id the SHA-256 of base and patch), its branch
  name ``ark/<short id>-<slug>``;
- :mod:`~ark_lsp.changes.repository`: the git repository a workspace is in,
  HEAD and what is uncommitted;
- :mod:`~ark_lsp.changes.patches`: a patch from a file, the working tree, a
  commit range or whole files, checked against its base in an index of
  ARK's own and stored in one canonical form;
- :mod:`~ark_lsp.changes.worktrees`: the branch and disposable worktree of
  a change, in the user's cache, and the sweep that leaves nothing stale
  after a crash;
- :mod:`~ark_lsp.changes.errors`: why a change cannot be, one line each.

Nothing here opens the store or knows a project: the use cases
(:mod:`ark_lsp.workflows.changes`) put them together.
"""

from __future__ import annotations

from ark_lsp.changes.errors import (
    AmbiguousChange,
    BadChangeId,
    BadRange,
    BadRequest,
    BaseMissing,
    BinaryPatch,
    ChangeError,
    ChangeNotFound,
    ChangeRefused,
    ChangesBusy,
    DetachedHead,
    DirtyBase,
    EmptyPatch,
    NoBaseCommit,
    NotAGitRepository,
    PatchDoesNotApply,
    UnknownChange,
)
from ark_lsp.changes.model import (
    BRANCH_PREFIX,
    MIN_PREFIX,
    SHORT_ID_LENGTH,
    ChangeSet,
    Provenance,
    SourceKind,
    change_id,
    is_id_prefix,
    slug,
)
from ark_lsp.changes.repository import GitRepository, Head

__all__ = [
    "BRANCH_PREFIX",
    "MIN_PREFIX",
    "SHORT_ID_LENGTH",
    "AmbiguousChange",
    "BadChangeId",
    "BadRange",
    "BadRequest",
    "BaseMissing",
    "BinaryPatch",
    "ChangeError",
    "ChangeNotFound",
    "ChangeRefused",
    "ChangeSet",
    "ChangesBusy",
    "DetachedHead",
    "DirtyBase",
    "EmptyPatch",
    "GitRepository",
    "Head",
    "NoBaseCommit",
    "NotAGitRepository",
    "PatchDoesNotApply",
    "Provenance",
    "SourceKind",
    "UnknownChange",
    "change_id",
    "is_id_prefix",
    "slug",
]
