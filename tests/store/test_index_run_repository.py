"""Index runs (``store.index_runs``): the figures of each run, in a table of their own."""

from __future__ import annotations

import json

from sqlite_utils import Database
from store_samples import rows

from ark_lsp.store import Store


def test_the_figures_of_an_index_run_are_kept(store: Store, outside: Database) -> None:
    run_id = store.index_runs.record(
        {
            "root": "/ws",
            "files_scanned": 9,
            "files_indexed": 5,
            "files_unchanged": 3,
            "files_skipped": 1,
            "files_errors": 0,
            "files_removed": 0,
            "lines": 50,
            "average_complexity": 7.2,
            "duration_ms": 12,
            "jobs": 4,
            "problems": ["a.py:1: bad"],
            "not_a_column": 1,
        }
    )
    [report] = outside.table("index_runs").rows
    assert report["id"] == run_id
    assert report["root"] == "/ws" and report["files_scanned"] == 9 and report["jobs"] == 4
    assert report["average_complexity"] == 7.2
    assert json.loads(report["problems"]) == ["a.py:1: bad"]
    assert report["created_at"].endswith("Z")
    # code_quality_reports is the quality gate's: no index run lands there.
    assert rows(store.path, "SELECT count(*) FROM code_quality_reports") == [(0,)]
