"""The quality gate's reports: ``code_quality_reports``, a row set per gate run.

A run writes one row for itself (its verdict), one per check, one per
changed file and one per touched function, all carrying the run's id
(``gate_run``) and what was judged: the change id of a change set, the
subject (the change id, ``BASE..HEAD``, or the working tree) and the two
commits. Rows are written in one transaction: a run is kept whole or not at all.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ark_lsp.store.connection import write_transaction
from ark_lsp.store.repository import Repository, guarded

COLUMNS = (
    "gate_run", "change_id", "subject", "base_commit", "head_commit", "scope", "check_name",
    "path", "qualname", "line", "status", "summary", "reason", "duration_ms", "findings",
    "coverage", "branch_coverage", "mutation_score", "mutants", "mutants_killed",
    "complexity_before", "complexity_after", "details",
)  # fmt: skip
"""The columns a caller may give; ``id`` and ``created_at`` are the table's own."""


@dataclass(frozen=True, slots=True)
class QualityRow:
    """One row of a gate run: the run, a check, a file or a function."""

    gate_run: str
    created_at: str
    scope: str
    subject: str
    change_id: str | None
    base_commit: str
    head_commit: str
    check_name: str | None = None
    path: str | None = None
    qualname: str | None = None
    line: int | None = None
    status: str | None = None
    summary: str | None = None
    reason: str | None = None
    duration_ms: float | None = None
    findings: int | None = None
    coverage: float | None = None
    branch_coverage: float | None = None
    mutation_score: float | None = None
    mutants: int | None = None
    mutants_killed: int | None = None
    complexity_before: int | None = None
    complexity_after: int | None = None
    details: Mapping[str, Any] | None = None


_SELECT = (
    "SELECT gate_run, created_at, scope, subject, change_id, base_commit, head_commit, "
    "check_name, path, qualname, line, status, summary, reason, duration_ms, findings, "
    "coverage, branch_coverage, mutation_score, mutants, mutants_killed, complexity_before, "
    "complexity_after, details FROM code_quality_reports"
)


def _row(values: Sequence[Any]) -> QualityRow:
    details = values[-1]
    try:
        decoded = json.loads(details) if details else {}
    except ValueError:
        decoded = {}
    row = QualityRow(*values[:-1])
    return dataclasses.replace(row, details=decoded if isinstance(decoded, dict) else {})


@dataclass(frozen=True, slots=True)
class QualityRun:
    """A past gate run as ``ark gate --history`` lists it: its row and its checks' rows."""

    run: QualityRow
    checks: tuple[QualityRow, ...]


class QualityReportRepository(Repository):
    """Every gate run's rows (``store.quality``)."""

    @guarded
    def record(self, rows: Sequence[Mapping[str, object]]) -> int:
        """Keep one gate run's rows, all or none; return how many were written.

        Keys are column names (:data:`COLUMNS`; others are left out); ``None``
        means "not measured" and is stored as NULL.
        """
        statement = (
            f"INSERT INTO code_quality_reports ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in COLUMNS)})"
        )
        values = [
            [
                json.dumps(row.get(c) or {}) if c == "details" and not isinstance(row.get(c), str)
                else row.get(c)
                for c in COLUMNS
            ]
            for row in rows
        ]  # fmt: skip
        with write_transaction(self._db):
            self._db.conn.executemany(statement, values)
        return len(values)

    @guarded
    def rows(self, gate_run: str) -> list[QualityRow]:
        """Every row of one gate run, in the order they were written."""
        cursor = self._db.conn.execute(f"{_SELECT} WHERE gate_run = ? ORDER BY id", (gate_run,))
        return [_row(values) for values in cursor]

    @guarded
    def runs(
        self, *, limit: int = 20, subject: str | None = None, change_id: str | None = None
    ) -> list[QualityRun]:
        """The most recent gate runs, newest first, with their checks; of one change if asked."""
        where, params = ["scope = 'run'"], []
        if subject is not None:
            where.append("subject = ?")
            params.append(subject)
        if change_id is not None:
            where.append("change_id = ?")
            params.append(change_id)
        cursor = self._db.conn.execute(
            f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY created_at DESC, id DESC LIMIT ?",
            [*params, limit],
        )
        found = [_row(values) for values in cursor]
        runs = []
        for run in found:
            checks = self._db.conn.execute(
                f"{_SELECT} WHERE gate_run = ? AND scope = 'check' ORDER BY id", (run.gate_run,)
            )
            runs.append(QualityRun(run, tuple(_row(values) for values in checks)))
        return runs

    @guarded
    def latest_function(self, path: str, qualname: str) -> QualityRow | None:
        """What the latest gate run that measured a function found of it (hover's figures)."""
        values = self._db.conn.execute(
            f"{_SELECT} WHERE scope = 'function' AND path = ? AND qualname = ? "
            "ORDER BY created_at DESC, id DESC LIMIT 1",
            (path, qualname),
        ).fetchone()
        return _row(values) if values else None

    @guarded
    def latest_functions(self, path: str) -> list[QualityRow]:
        """Each function of a file as the latest gate run that measured it found it, by line."""
        cursor = self._db.conn.execute(
            f"{_SELECT} AS q WHERE scope = 'function' AND path = ? AND id = ("
            "SELECT id FROM code_quality_reports WHERE scope = 'function' AND path = q.path "
            "AND qualname = q.qualname ORDER BY created_at DESC, id DESC LIMIT 1"
            ") ORDER BY line, qualname",
            (path,),
        )
        return [_row(values) for values in cursor]
