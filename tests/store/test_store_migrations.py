"""The schema's migrations: an older file is brought forward in place, a newer one refused."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database
from store_samples import rows

from ark_lsp.models import FileState
from ark_lsp.store import LATEST, DatabaseTooNew, Store, migrate


def test_an_older_file_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    db = Database(sqlite3.connect(path, isolation_level=None))
    assert migrate(db, target=1) == 1
    assert "symbols_fts" not in db.table_names() and db.view_names() == []
    db.execute(
        "INSERT INTO code_index (path, module, tier, size, mtime_ns, sha256, indexed_at)"
        " VALUES ('old.py', 'old', 'trusted', 1, 2, 'abc', 'then')"
    )
    db.execute(
        'INSERT INTO symbols (path, name, qualname, kind, line, "column", end_line, '
        "end_column, name_line, name_column, complexity, rank, lines, docstring) "
        "VALUES ('old.py', 'legacy_parser', 'legacy_parser', 'function', 1, 0, 3, 0, "
        "1, 4, 2, 'A', 3, 'From before.')"
    )
    db.close()

    with Store.open(path) as store:
        assert store.schema_version() == LATEST
        assert store.index.file_states() == {"old.py": FileState(1, 2, "abc")}
        assert [r.name for r in store.index.search("legacy")] == ["legacy_parser"]
        assert [r.name for r in store.index.search("before")] == ["legacy_parser"]
    assert rows(path, "SELECT qualname FROM complexity_hotspots") == [("legacy_parser",)]


def test_an_index_from_before_camel_case_words_finds_them_after_the_upgrade(
    tmp_path: Path,
) -> None:
    path = tmp_path / "index.db"
    db = Database(sqlite3.connect(path, isolation_level=None))
    assert migrate(db, target=9) == 9
    db.execute(
        "INSERT INTO code_index (path, module, tier, size, mtime_ns, sha256, indexed_at)"
        " VALUES ('tomli/_parser.py', 'tomli._parser', 'trusted', 1, 2, 'abc', 'then')"
    )
    for name, line in [("TOMLDecodeError", 1), ("parse_basic_str", 9)]:
        db.execute(
            'INSERT INTO symbols (path, name, qualname, kind, line, "column", end_line, '
            "end_column, name_line, name_column, complexity, rank, lines) "
            "VALUES ('tomli/_parser.py', ?, ?, 'class', ?, 0, ?, 0, ?, 6, 1, 'A', 3)",
            (name, name, line, line + 2, line),
        )
    db.execute("INSERT INTO symbols_fts (symbols_fts) VALUES ('rebuild')")
    assert [
        n for (n,) in db.execute("SELECT name FROM symbols_fts WHERE symbols_fts MATCH 'decode'")
    ] == []
    db.close()

    with Store.open(path) as store:
        assert store.schema_version() == LATEST
        assert [r.name for r in store.index.search("decode error")] == ["TOMLDecodeError"]
        assert [r.name for r in store.index.search("str")] == ["parse_basic_str"]
        # The file is not analysed again for it: its remembered state is kept.
        assert store.index.file_states() == {"tomli/_parser.py": FileState(1, 2, "abc")}
    assert rows(path, "INSERT INTO symbols_fts (symbols_fts) VALUES ('integrity-check')") == []


_INDEX_RUN = (
    "INSERT INTO code_quality_reports (created_at, root, files_scanned, files_indexed, "
    "files_unchanged, files_skipped, files_errors, files_removed, lines, average_complexity, "
    "duration_ms, jobs, problems) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def test_index_runs_move_out_of_code_quality_reports(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    db = Database(sqlite3.connect(path, isolation_level=None))
    assert migrate(db, target=5) == 5
    recorded = [
        ("2025-01-01T00:00:00.000Z", "/ws", 9, 5, 3, 1, 0, 0, 50, 7.2, 12, 4, '["a.py:1: bad"]'),
        ("2025-01-02T00:00:00.000Z", "/ws", 9, 0, 9, 0, 0, 1, 48, 7.0, 3, 1, "[]"),
    ]
    db.conn.executemany(_INDEX_RUN, recorded)
    db.close()

    with Store.open(path) as store:
        assert store.schema_version() == LATEST
        store.index_runs.record({"root": "/ws", "files_scanned": 10})

    moved = rows(
        path,
        "SELECT created_at, root, files_scanned, files_indexed, files_unchanged, files_skipped, "
        "files_errors, files_removed, lines, average_complexity, duration_ms, jobs, problems "
        "FROM index_runs ORDER BY id",
    )
    assert moved[:2] == recorded
    assert [r[0] for r in rows(path, "SELECT id FROM index_runs ORDER BY id")] == [1, 2, 3]
    assert moved[2][1:3] == ("/ws", 10)
    assert json.loads(str(moved[0][-1])) == ["a.py:1: bad"]
    # Free for the quality gate: empty, and no index run lands there any more.
    assert rows(path, "SELECT count(*) FROM code_quality_reports") == [(0,)]


def test_migrate_is_idempotent_and_checks_its_target(tmp_path: Path) -> None:
    db = Database(sqlite3.connect(tmp_path / "x.db", isolation_level=None))
    assert migrate(db) == LATEST
    assert migrate(db) == LATEST
    assert migrate(db, target=1) == LATEST  # never downgrades
    with pytest.raises(ValueError, match=f"between 0 and {LATEST}"):
        migrate(db, target=LATEST + 1)
    db.close()


def test_a_newer_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    newer = LATEST + 1
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {newer}")
    with pytest.raises(DatabaseTooNew) as caught:
        Store.open(path)
    assert str(caught.value) == (
        f"{path} was written by a newer ARK (schema {newer}, this ARK knows {LATEST}); "
        "upgrade ARK or use another --database"
    )
    with sqlite3.connect(path) as conn:  # untouched
        assert conn.execute("PRAGMA user_version").fetchone() == (newer,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
