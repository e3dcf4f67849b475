"""The plain data every check of the gate shares: what changed, and what each check found."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from ark_lsp.config import GateSettings


class CheckStatus(enum.StrEnum):
    """How one check of the gate ended."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not run"
    """The check could not judge (its tool is missing, it was switched off): never a pass."""


class FileStatus(enum.StrEnum):
    """What a change did to a file."""

    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    RENAMED = "renamed"


@dataclass(frozen=True)
class ChangedFile:
    """One file a change touched, with the lines of the head it added or changed."""

    path: str
    """Workspace-relative POSIX path in the head (in the base, for a deleted file)."""
    status: FileStatus
    lines: frozenset[int] = frozenset()
    """1-based line numbers of the head that the change added or rewrote."""
    old_path: str | None = None
    """The path in the base, when the file was renamed."""
    binary: bool = False

    @property
    def base_path(self) -> str:
        """Where the file was in the base."""
        return self.old_path or self.path

    @property
    def is_python(self) -> bool:
        """Whether the gate's Python checks look at it."""
        return self.path.endswith(".py") and not self.binary


@dataclass(frozen=True)
class GateInput:
    """What every check judges: the base and the head, checked out, and what changed."""

    base_dir: Path
    """A checkout of the base commit (outside the user's working tree)."""
    head_dir: Path
    """A checkout of the change (its worktree)."""
    files: tuple[ChangedFile, ...]
    settings: GateSettings = field(default_factory=GateSettings)
    """The gate's settings, read from the base commit."""

    @property
    def python_files(self) -> tuple[ChangedFile, ...]:
        """The changed Python files that still exist in the head."""
        return tuple(f for f in self.files if f.is_python and f.status is not FileStatus.DELETED)

    def changed_lines(self, path: str) -> frozenset[int]:
        """The head lines the change added or rewrote in ``path`` (none for an unknown file)."""
        for changed in self.files:
            if changed.path == path:
                return changed.lines
        return frozenset()


def fingerprint(*parts: str) -> str:
    """A stable identity for a finding: what it is and where, in words, not line numbers.

    Built from the rule or message code, the enclosing qualified name and the
    normalised text of the offending code, so that moving a function does not
    make its findings new.
    """
    text = "\x1f".join(" ".join(part.split()) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Finding:
    """One problem a check reports (an ARK rule, a type error, a lint message, a survivor)."""

    check: str
    path: str
    line: int | None
    code: str
    """The rule id, mypy error code, pylint symbol, or mutant operator."""
    message: str
    fingerprint: str
    severity: str = "error"
    symbol: str = ""
    """The enclosing function or class, qualified: ``Parser.feed``; empty at module level."""
    column: int | None = None
    """1-based column (code points) where it starts, as editors show it; None when unknown."""
    end_line: int | None = None
    end_column: int | None = None
    """1-based column just past its end; None when unknown."""


@dataclass(frozen=True)
class FunctionMetrics:
    """What the gate measured of one touched function, before and after the change."""

    path: str
    qualname: str
    line: int
    complexity_before: int | None = None
    """None for a function the change added."""
    complexity_after: int | None = None
    """None for a function the change removed."""
    coverage: float | None = None
    """Share of its changed lines the tests ran; None when not measured."""
    untested: bool | None = None
    """No test ran a line of its body the change wrote; None when not measured, or when the
    change wrote none (its ``def`` line is left out: it runs when the module is imported)."""
    mutants: int = 0
    mutants_killed: int = 0

    @property
    def mutation_score(self) -> float | None:
        """Share of its mutants the tests killed; None when none were made."""
        return self.mutants_killed / self.mutants if self.mutants else None


class IntegrityKind(enum.StrEnum):
    """How a change touches what judges it: the tests, or the gate's, CI's or ARK's settings."""

    TEST_FILE_DELETED = "test file deleted"
    TEST_DELETED = "test deleted"
    ASSERTIONS_WEAKENED = "assertions weakened"
    SKIP_ADDED = "skip or xfail added"
    CONFIG_EDITED = "configuration edited"


@dataclass(frozen=True)
class IntegrityFlag:
    """Something a person should look at before trusting the gate's verdict on a change.

    A change that deletes or weakens tests, or edits the configuration of the
    gate, of CI or of ARK, may pass the gate by lowering the bar; the
    approval stage sends a flagged change to a person.
    """

    kind: IntegrityKind
    path: str
    """The file, as in the head (as in the base, for a deleted one)."""
    reason: str
    """What the change did, in words: "test_parse: 3 assertions -> 1"."""
    symbol: str = ""
    """The test function, qualified (``TestParser.test_feed``); empty for a whole file."""


@dataclass(frozen=True)
class CheckResult:
    """How one check judged a change, with what it found and measured."""

    name: str
    status: CheckStatus
    summary: str
    """One line for a person: "2 new findings on changed lines", "coverage 73% < 80%"."""
    reason: str | None = None
    """Why a check did not run or could not finish, in words."""
    findings: tuple[Finding, ...] = ()
    """What is new in the change (only the new: the baseline's are not listed)."""
    measures: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    """Whole-change figures: ``{"coverage": 0.73, "branch_coverage": 0.5}``."""
    files: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: MappingProxyType({}))
    """Per-file figures, by path."""
    functions: tuple[FunctionMetrics, ...] = ()
    duration_ms: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether the check judged the change good."""
        return self.status is CheckStatus.PASSED


def not_run(name: str, reason: str) -> CheckResult:
    """A check that could not judge, and why."""
    return CheckResult(name, CheckStatus.NOT_RUN, f"{name}: not run ({reason})", reason=reason)
