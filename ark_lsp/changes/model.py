"""What a change is: a base commit, a patch, and who proposed it and why.

A change set is content-addressed: its id is the SHA-256 of the base
commit's name and the patch's bytes (:func:`change_id`), so a changed byte
of either is a new change, and everything keyed on the id (gate reports,
approvals, deployments) speaks of exactly one. Once recorded it is never
edited: a different change is a new change set.
"""

from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
from dataclasses import dataclass

from ark_lsp.gate.diff import parse_diff
from ark_lsp.gate.model import ChangedFile

SHORT_ID_LENGTH = 12
"""Hex digits of the id in branch names and listings."""

MIN_PREFIX = 4
"""The shortest id prefix a command accepts for a change."""

BRANCH_PREFIX = "ark/"
"""Every branch ARK makes for a change is under this prefix."""

_SLUG_LENGTH = 40


class SourceKind(enum.StrEnum):
    """Where a change came from."""

    PATCH = "patch"
    """A patch file or standard input (``ark change propose --patch``)."""
    WORKTREE = "worktree"
    """The working tree's uncommitted changes (``--from-worktree``)."""
    RANGE = "range"
    """A range of commits (``--range A..B``)."""
    FIX = "fix"
    """ARK's safe fixes (``ark check --fix --as-change``)."""
    TESTS = "tests"
    """Tests ARK generated (``ark generate tests --as-change``)."""
    STUB = "stub"
    """A function, class or module ARK generated (``ark generate ... --as-change``)."""


@dataclass(frozen=True)
class Provenance:
    """Who or what proposed a change, why, and from what."""

    reason: str
    """Why: the first line names the change (its branch's slug, its commit's subject)."""
    proposed_by: str
    """Who or what: a person's login, ``ark check --fix``, an external generator's name."""
    source: SourceKind
    detail: str = ""
    """What it was made from: the patch file, the range, the command's target."""


@dataclass(frozen=True)
class ChangeSet:
    """One immutable change: a patch on a base commit, with its provenance."""

    id: str
    """SHA-256 (hex) of the base and the patch: see :func:`change_id`."""
    base: str
    """The full name of the commit the patch applies to."""
    patch: bytes
    """The change as ``git diff`` writes it (see :mod:`ark_lsp.changes.patches`)."""
    provenance: Provenance
    targets: tuple[str, ...] = ()
    """The symbols the change means to change (qualified names), as its proposer said."""
    onto: str = ""
    """The branch HEAD was on when it was proposed: where the change is meant to land."""
    created_at: str = ""
    """When it was recorded, ISO 8601 UTC."""

    @property
    def short_id(self) -> str:
        """The first :data:`SHORT_ID_LENGTH` hex digits of the id."""
        return self.id[:SHORT_ID_LENGTH]

    @property
    def branch(self) -> str:
        """``ark/<short id>-<slug of the reason>``: where the change is committed."""
        return f"{BRANCH_PREFIX}{self.short_id}-{slug(self.provenance.reason)}"

    @property
    def subject(self) -> str:
        """The reason's first line."""
        lines = self.provenance.reason.strip().splitlines()
        return lines[0].strip() if lines else ""

    @property
    def files(self) -> tuple[ChangedFile, ...]:
        """The files the patch touches."""
        return parse_diff(self.patch.decode("utf-8", "replace"))

    def file_stats(self) -> tuple[FileStat, ...]:
        """Each file the patch touches, with what happened to it and its lines added and removed."""
        counts: list[list[int]] = []
        in_hunk = False
        for line in self.patch.split(b"\n"):
            if line.startswith(b"diff --git "):
                counts.append([0, 0])
                in_hunk = False
            elif line.startswith(b"@@"):
                in_hunk = True
            elif in_hunk and counts and line.startswith(b"+"):
                counts[-1][0] += 1
            elif in_hunk and counts and line.startswith(b"-"):
                counts[-1][1] += 1
        return tuple(
            FileStat(changed.path, changed.status.value, added, removed)
            for changed, (added, removed) in zip(self.files, counts, strict=False)
        )

    def line_counts(self) -> tuple[int, int]:
        """Lines the patch adds and removes."""
        stats = self.file_stats()
        return sum(s.added for s in stats), sum(s.removed for s in stats)


@dataclass(frozen=True)
class FileStat:
    """One file of a change: its path, what happened to it, lines added and removed."""

    path: str
    status: str
    """``added``, ``modified`` or ``deleted``."""
    added: int
    removed: int


def change_id(base: str, patch: bytes) -> str:
    """The id of ``patch`` on ``base``: SHA-256 over the base's hex name, a newline, the patch."""
    return hashlib.sha256(base.encode("ascii") + b"\n" + patch).hexdigest()


def slug(reason: str) -> str:
    """A branch-name-safe slug of a reason's first line: ``fix-the-parser``; ``change`` if none."""
    lines = reason.strip().splitlines()
    first = lines[0] if lines else ""
    ascii_text = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    text = ""
    for word in words:
        candidate = f"{text}-{word}" if text else word
        if len(candidate) > _SLUG_LENGTH:
            break
        text = candidate
    return text or (words[0][:_SLUG_LENGTH] if words else "change")


def is_id_prefix(text: str) -> bool:
    """Whether ``text`` could start a change id (hex, at least :data:`MIN_PREFIX` digits)."""
    return (
        len(text) >= MIN_PREFIX and len(text) <= 64 and re.fullmatch(r"[0-9a-f]+", text) is not None
    )


__all__ = [
    "BRANCH_PREFIX",
    "MIN_PREFIX",
    "SHORT_ID_LENGTH",
    "ChangeSet",
    "FileStat",
    "Provenance",
    "SourceKind",
    "change_id",
    "is_id_prefix",
    "slug",
]
