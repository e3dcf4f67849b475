"""What the store hands back from its queries."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SymbolRecord:
    """One indexed function, method or class, as the front ends list it.

    Lines are 1-based and columns 0-based code points, as in
    :mod:`ark_lsp.models`; ``column``/``end_column`` complete the span of
    the definition for editors.
    """

    path: str
    name: str
    qualname: str
    kind: str
    line: int
    end_line: int
    complexity: int
    rank: str
    tier: str
    signature: str | None = None
    docstring: str | None = None
    column: int = 0
    end_column: int = 0


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums over the indexed files of a part of the workspace."""

    files: int = 0
    lines: int = 0
    symbols: int = 0
    average_complexity: float = 0.0
    """Mean complexity of functions and methods (classes excluded), as ``radon cc -a``."""


@dataclass(frozen=True, slots=True)
class IndexCounts:
    """How many rows of each kind the whole index holds."""

    files: int = 0
    symbols: int = 0
    imports: int = 0
    violations: int = 0


SYMBOL_RECORD_COLUMNS = (
    "s.path, s.name, s.qualname, s.kind, s.line, s.end_line, s.complexity, s.rank, "
    'c.tier, s.signature, s.docstring, s."column", s.end_column'
)
"""The select list, in field order, that :func:`symbol_record` reads."""


def symbol_record(row: tuple[object, ...]) -> SymbolRecord:
    """Build a record from a row selected with :data:`SYMBOL_RECORD_COLUMNS`."""
    return SymbolRecord(*row)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ViolationRecord:
    """A stored violation with the tier of its file (lines 1-based, columns 0-based)."""

    path: str
    rule: str
    severity: str
    message: str
    line: int
    column: int
    end_line: int
    end_column: int
    tier: str


@dataclass(frozen=True, slots=True)
class AnalysedFileRecord:
    """What the index made of one file: the bytes it analysed, how, and what it found."""

    path: str
    sha256: str
    """The hex SHA-256 of the file's bytes as read; empty for a file left unread (too large)."""
    analysis_key: str
    """The rules, settings and ARK version it was analysed under (``Settings.analysis_key``)."""
    encoding: str
    """The encoding its bytes were decoded with (a BOM or coding line's, else ``utf-8``)."""
    violations: tuple[ViolationRecord, ...]
    """Its violations in the order the analysis reported them."""


@dataclass(frozen=True, slots=True)
class PerformanceRecord:
    """The sandbox record of one target (a file, or a function in it)."""

    target_path: str
    target_name: str
    runs: int
    passed: int
    failed: int
    timeouts: int
    errors: int
    avg_duration_ms: float | None
    max_peak_memory_bytes: int | None
    last_outcome: str | None
    last_run_at: str | None


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    """One recorded sandbox run, as ``ark history`` lists it."""

    id: int
    started_at: str
    backend: str
    image: str | None
    kind: str
    target_path: str
    target_name: str
    command: list[str]
    outcome: str
    exit_code: int | None
    killed_by: str | None
    limits_hit: list[str]
    duration_ms: float | None
    peak_memory_bytes: int | None
    cpu_time_ms: float | None
    detail: str | None
    reason: str | None = None
    """Why a run that did not pass did not, in one line (see :func:`failure_reason`)."""


EXECUTION_RECORD_COLUMNS = (
    "id, started_at, backend, image, kind, target_path, target_name, command, outcome, "
    "exit_code, killed_by, limits_hit, duration_ms, peak_memory_bytes, cpu_time_ms, detail, "
    "stdout_excerpt, stderr_excerpt"
)
"""The select list, in field order, that :func:`execution_record` reads."""

REASON_CHARS = 200
"""Characters of a failure's reason kept: one line of a listing."""


def failure_reason(
    outcome: str,
    exit_code: int | None,
    killed_by: str | None,
    limits_hit: list[str],
    detail: str | None,
    stdout: str | None,
    stderr: str | None,
) -> str | None:
    """Why a run did not pass, from what its record holds; None for a run that passed.

    The sandbox's own error when it could not run the code; else the limit
    that ended it; else the exit code with the last line the run wrote on
    stderr (a traceback's exception), or on stdout (pytest's summary).
    """
    if outcome == "passed":
        return None
    if detail:
        reason = detail
    elif killed_by not in (None, "", "none"):
        reason = f"killed at its {killed_by} limit"
    elif limits_hit:
        reason = f"reached its {', '.join(limits_hit)} limit"
    elif outcome == "cancelled":
        reason = "cancelled"
    else:
        last = _last_line(stderr) or _last_line(stdout)
        code = "no exit code" if exit_code is None else f"exit {exit_code}"
        reason = f"{code}: {last}" if last else code
    reason = " ".join(reason.split())
    return reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 3] + "..."


def _last_line(text: str | None) -> str | None:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


def _json_list(text: object) -> list[str]:
    try:
        value = json.loads(text) if isinstance(text, str) else []
    except ValueError:
        return []
    return [str(item) for item in value] if isinstance(value, list) else []


def execution_record(row: tuple[object, ...]) -> ExecutionRecord:
    """Build a record from a row selected with :data:`EXECUTION_RECORD_COLUMNS`."""
    *values, stdout, stderr = row
    values[7] = _json_list(values[7])
    values[11] = _json_list(values[11])
    record = ExecutionRecord(*values)  # type: ignore[arg-type]
    reason = failure_reason(
        record.outcome,
        record.exit_code,
        record.killed_by,
        record.limits_hit,
        record.detail,
        stdout if isinstance(stdout, str) else None,
        stderr if isinstance(stderr, str) else None,
    )
    return dataclasses.replace(record, reason=reason)
