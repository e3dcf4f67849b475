"""Sandbox runs: ``sandbox_executions``, and ``code_performance`` that a trigger keeps from it."""

from __future__ import annotations

from collections.abc import Mapping

from ark_lsp.store.records import (
    EXECUTION_RECORD_COLUMNS,
    ExecutionRecord,
    PerformanceRecord,
    execution_record,
)
from ark_lsp.store.repository import Repository, guarded


class SandboxRunRepository(Repository):
    """Every code or test run in a sandbox, and what the runs of each target came to.

    Reached as ``store.runs``.
    """

    @guarded
    def record(self, execution: Mapping[str, object]) -> int:
        """Record a sandbox run in ``sandbox_executions``; return its id.

        Keys are column names; ``command`` and ``limits`` may be given as
        lists or dicts and are stored as JSON. The ``code_performance`` row of
        the target is updated by a trigger in the same transaction.
        """
        return self._insert("sandbox_executions", execution)

    @guarded
    def history(self, *, limit: int = 20, target_path: str | None = None) -> list[ExecutionRecord]:
        """The most recent sandbox runs, newest first (of one target, when given)."""
        where, params = ("WHERE target_path = ?", [target_path]) if target_path else ("", [])
        cursor = self._db.conn.execute(
            f"SELECT {EXECUTION_RECORD_COLUMNS} FROM sandbox_executions {where} "
            "ORDER BY started_at DESC, id DESC LIMIT ?",
            [*params, limit],
        )
        return [execution_record(row) for row in cursor]

    @guarded
    def performance(self, path: str, name: str = "") -> PerformanceRecord | None:
        """What the sandbox runs of a target came to, if it was ever run."""
        row = self._db.conn.execute(
            "SELECT target_path, target_name, runs, passed, failed, timeouts, errors, "
            "avg_duration_ms, max_peak_memory_bytes, last_outcome, last_run_at "
            "FROM code_performance WHERE target_path = ? AND target_name = ?",
            (path, name),
        ).fetchone()
        return PerformanceRecord(*row) if row else None
