"""The gate's reports (``store.quality``): a row set per run, kept whole or not at all."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database
from store_samples import rows

from ark_lsp.store import Store, StoreError, migrate

KEY = {
    "gate_run": "run-1",
    "change_id": None,
    "subject": "HEAD~1..HEAD",
    "base_commit": "a" * 40,
    "head_commit": "b" * 40,
}


def run_rows(gate_run: str = "run-1", verdict: str = "fail") -> list[dict[str, object]]:
    key = {**KEY, "gate_run": gate_run}
    return [
        {**key, "scope": "run", "status": verdict, "summary": f"gate {verdict}ed", "findings": 1},
        {**key, "scope": "check", "check_name": "findings", "status": "failed", "findings": 1,
         "duration_ms": 4.5, "details": {"measures": {"new_findings": 1.0}}},
        {**key, "scope": "check", "check_name": "types", "status": "not run",
         "reason": "not available in this ARK"},
        {**key, "scope": "file", "path": "shop/pricing.py", "status": "modified", "findings": 1,
         "coverage": 0.75},
        {**key, "scope": "function", "path": "shop/pricing.py", "qualname": "label", "line": 9,
         "complexity_before": 2, "complexity_after": 5, "coverage": 0.5, "mutants": 4,
         "mutants_killed": 3, "mutation_score": 0.75},
    ]  # fmt: skip


def test_a_run_is_kept_and_read_back_row_by_row(store: Store) -> None:
    assert store.quality.record(run_rows()) == 5

    kept = store.quality.rows("run-1")
    assert [(r.scope, r.check_name, r.path, r.qualname) for r in kept] == [
        ("run", None, None, None),
        ("check", "findings", None, None),
        ("check", "types", None, None),
        ("file", None, "shop/pricing.py", None),
        ("function", None, "shop/pricing.py", "label"),
    ]
    assert kept[1].details == {"measures": {"new_findings": 1.0}}
    assert kept[2].reason == "not available in this ARK"
    function = kept[4]
    assert (function.complexity_before, function.complexity_after) == (2, 5)
    assert (function.coverage, function.mutants, function.mutation_score) == (0.5, 4, 0.75)
    assert all(r.created_at.endswith("Z") and r.subject == "HEAD~1..HEAD" for r in kept)


def test_runs_are_listed_newest_first_with_their_checks(store: Store) -> None:
    store.quality.record(run_rows("run-1", "fail"))
    store.quality.record(run_rows("run-2", "pass"))
    store.quality.record([{**row, "subject": "other"} for row in run_rows("run-3")])

    listed = store.quality.runs(subject="HEAD~1..HEAD")

    newest_first = [("run-2", "pass"), ("run-1", "fail")]
    assert [(r.run.gate_run, r.run.status) for r in listed] == newest_first
    assert [c.check_name for c in listed[0].checks] == ["findings", "types"]
    assert len(store.quality.runs(limit=1)) == 1
    latest = store.quality.latest_function("shop/pricing.py", "label")
    assert latest is not None and latest.gate_run == "run-3"
    assert store.quality.latest_function("shop/pricing.py", "nothing") is None


def test_each_function_of_a_file_is_read_from_the_latest_run_that_measured_it(
    store: Store,
) -> None:
    def function(run: str, qualname: str, line: int, coverage: float) -> dict[str, object]:
        return {**KEY, "gate_run": run, "scope": "function", "path": "shop/pricing.py",
                "qualname": qualname, "line": line, "coverage": coverage}  # fmt: skip

    store.quality.record([function("run-1", "total", 4, 0.0), function("run-1", "label", 9, 0.0)])
    store.quality.record([function("run-2", "label", 9, 1.0)])  # label only, now tested
    store.quality.record([{**function("run-3", "total", 4, 0.5), "path": "shop/other.py"}])

    latest = store.quality.latest_functions("shop/pricing.py")

    assert [(r.qualname, r.gate_run, r.coverage) for r in latest] == [
        ("total", "run-1", 0.0),
        ("label", "run-2", 1.0),
    ]
    assert store.quality.latest_functions("shop/none.py") == []


def test_a_run_is_kept_whole_or_not_at_all(store: Store) -> None:
    broken = [*run_rows(), {**KEY, "scope": "not a scope"}]
    with pytest.raises(StoreError):
        store.quality.record(broken)
    assert rows(store.path, "SELECT count(*) FROM code_quality_reports") == [(0,)]


def test_the_gate_takes_over_the_empty_code_quality_reports(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    db = Database(sqlite3.connect(path, isolation_level=None))
    assert migrate(db, target=6) == 6
    db.close()

    with Store.open(path) as store:
        store.quality.record(run_rows())
        assert [r.scope for r in store.quality.rows("run-1")][:2] == ["run", "check"]
    indexes = rows(path, "SELECT name FROM sqlite_master WHERE tbl_name = 'code_quality_reports'")
    assert {name for (name,) in indexes} >= {
        "code_quality_reports_run",
        "code_quality_reports_change",
        "code_quality_reports_function",
    }
