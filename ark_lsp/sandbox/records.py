"""Recording runs in ``sandbox_executions`` (the ``code_performance`` trigger does the rest)."""

from __future__ import annotations

import dataclasses

from ark_lsp.sandbox.models import RunRequest, RunResult
from ark_lsp.store import Store

EXCERPT_CHARS = 4000
"""Characters of each stream kept in the record: stdout's first, stderr's last (the traceback)."""


def execution_row(request: RunRequest, result: RunResult) -> dict[str, object]:
    """The ``sandbox_executions`` columns of one run."""
    return {
        "started_at": result.started_at or None,
        "finished_at": result.finished_at or None,
        "backend": result.backend,
        "image": result.image,
        "kind": request.kind,
        "target_path": request.target_path,
        "target_name": request.target_name,
        "command": list(request.command),
        "limits": {**request.limits.as_dict(), "files": len(request.files)},
        "exit_code": result.exit_code,
        "killed_by": result.killed_by.value,
        "limits_hit": [limit.value for limit in result.limits_hit],
        "duration_ms": round(result.duration_ms, 3),
        "peak_memory_bytes": result.peak_memory_bytes,
        "cpu_time_ms": result.cpu_time_ms,
        "stdout_excerpt": result.stdout[:EXCERPT_CHARS],
        "stderr_excerpt": result.stderr[-EXCERPT_CHARS:],
        "outcome": result.outcome.value,
        "isolation": result.isolation,
        "detail": result.error,
    }


def record_run(store: Store, request: RunRequest, result: RunResult) -> RunResult:
    """Store the run; return the result with its ``execution_id``."""
    execution_id = store.runs.record(execution_row(request, result))
    return dataclasses.replace(result, execution_id=execution_id)
