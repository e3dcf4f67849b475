"""Sandbox runs (``store.runs``): recorded, listed, and summed per target by a trigger."""

from __future__ import annotations

import json

import pytest
from sqlite_utils import Database
from store_samples import rows

from ark_lsp.store import Store


def test_trigger_keeps_code_performance_current(store: Store, outside: Database) -> None:
    runs = [
        ("passed", 100.0, 1000, "2025-01-01T00:00:01Z"),
        ("failed", 300.0, 5000, "2025-01-01T00:00:03Z"),
        ("timeout", 200.0, None, "2025-01-01T00:00:02Z"),  # recorded late
        ("error", None, 2000, "2025-01-01T00:00:00Z"),
    ]
    for outcome, duration, memory, finished in runs:
        store.runs.record(
            {
                "backend": "local",
                "target_path": "pkg/parser.py",
                "target_name": "parse_file",
                "command": ["python", "-m", "pytest"],
                "limits": {"timeout": 5},
                "outcome": outcome,
                "duration_ms": duration,
                "peak_memory_bytes": memory,
                "finished_at": finished,
            }
        )
    other = store.runs.record(
        {"backend": "docker", "target_path": "pkg2/other.py", "outcome": "passed", "duration_ms": 5}
    )
    assert other == 5
    perf = outside.table("code_performance").get(("pkg/parser.py", "parse_file"))
    assert (perf["runs"], perf["passed"], perf["failed"], perf["timeouts"], perf["errors"]) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert perf["avg_duration_ms"] == pytest.approx(200.0)
    assert perf["max_peak_memory_bytes"] == 5000
    assert (perf["last_outcome"], perf["last_run_at"]) == ("failed", "2025-01-01T00:00:03Z")
    assert outside.table("code_performance").get(("pkg2/other.py", ""))["runs"] == 1
    assert json.loads(outside.table("sandbox_executions").get(1)["command"]) == [
        "python",
        "-m",
        "pytest",
    ]
    assert rows(store.path, "SELECT * FROM sandbox_outcomes") == [
        ("pkg/parser.py", "parse_file", 4, 1, 1, 1, "2025-01-01T00:00:03Z"),
        (
            "pkg2/other.py",
            "",
            1,
            1,
            0,
            0,
            rows(store.path, "SELECT started_at FROM sandbox_executions WHERE id = 5")[0][0],
        ),
    ]


def test_performance_of_a_target_follows_its_runs(store: Store) -> None:
    assert store.runs.performance("pkg/parser.py", "parse_file") is None
    for outcome in ("passed", "failed"):
        store.runs.record(
            {
                "backend": "local",
                "target_path": "pkg/parser.py",
                "target_name": "parse_file",
                "outcome": outcome,
                "duration_ms": 10.0,
            }
        )
    record = store.runs.performance("pkg/parser.py", "parse_file")
    assert record is not None
    assert (record.runs, record.passed, record.failed, record.last_outcome) == (2, 1, 1, "failed")


def test_history_is_newest_first_and_of_one_target_when_asked(store: Store) -> None:
    for number, (target, started) in enumerate(
        [
            ("a.py", "2025-01-01T00:00:01Z"),
            ("b.py", "2025-01-01T00:00:03Z"),
            ("a.py", "2025-01-01T00:00:02Z"),
        ]
    ):
        store.runs.record(
            {
                "backend": "local",
                "target_path": target,
                "command": ["python", f"{number}.py"],
                "limits_hit": ["timeout"] if number == 1 else [],
                "outcome": "passed",
                "started_at": started,
            }
        )
    history = store.runs.history()
    assert [(r.id, r.target_path) for r in history] == [(2, "b.py"), (3, "a.py"), (1, "a.py")]
    assert history[0].command == ["python", "1.py"] and history[0].limits_hit == ["timeout"]
    assert [r.id for r in store.runs.history(target_path="a.py")] == [3, 1]
    assert [r.id for r in store.runs.history(limit=1)] == [2]
