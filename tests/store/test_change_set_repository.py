"""Change sets (``store.changes``): written once, found by id or prefix, never edited."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database
from store_samples import outside_connection

from ark_lsp.changes import ChangeSet, Provenance, SourceKind, change_id
from ark_lsp.store import LATEST, Store, StoreError, migrate

PATCH = b"diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"


def change(number: int = 1, *, ident: str | None = None) -> ChangeSet:
    base = f"{number:040x}"
    return ChangeSet(
        id=ident or change_id(base, PATCH),
        base=base,
        patch=PATCH,
        provenance=Provenance(f"Change {number}", "alice", SourceKind.PATCH, "fix.patch"),
        targets=("pkg.mod.f", "pkg.mod.g"),
        onto="main",
        created_at=f"2025-01-0{number}T00:00:00.000Z",
    )


def test_a_change_is_recorded_once_and_read_back_whole(store: Store) -> None:
    first = change(1)
    assert store.changes.record(first) is True
    assert store.changes.record(first) is False  # the same id: already there, left alone
    assert store.changes.get(first.id) == first
    assert store.changes.get("0" * 64) is None
    assert store.changes.all() == [first]


def test_changes_are_found_by_prefix_and_listed_oldest_first(store: Store) -> None:
    a = change(2, ident="abcd" + "0" * 60)
    b = change(1, ident="abce" + "1" * 60)
    c = change(3, ident="abcd" + "2" * 60)
    for one in (a, b, c):
        store.changes.record(one)
    assert store.changes.all() == [b, a, c]
    assert store.changes.starting_with("abcd") == [a, c]
    assert store.changes.starting_with("abce") == [b]
    assert store.changes.starting_with("abc") == [b, a, c]
    assert store.changes.starting_with("ffff") == []


def test_a_recorded_change_cannot_be_edited_only_forgotten(store: Store, outside: Database) -> None:
    recorded = change(1)
    store.changes.record(recorded)
    with pytest.raises(sqlite3.IntegrityError, match="a change set is immutable"):
        outside.execute("UPDATE change_sets SET patch = x'00' WHERE id = ?", [recorded.id])
    assert store.changes.get(recorded.id) == recorded
    assert store.changes.delete(recorded.id) is True
    assert store.changes.delete(recorded.id) is False
    assert store.changes.all() == []


def test_an_id_is_a_full_sha256(store: Store) -> None:
    with pytest.raises(StoreError):
        store.changes.record(change(1, ident="abc"))


def test_a_file_of_schema_six_gains_the_table(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    db = Database(sqlite3.connect(path, isolation_level=None))
    assert migrate(db, target=6) == 6
    assert "change_sets" not in db.table_names()
    db.close()

    with Store.open(path) as store:
        assert store.schema_version() == LATEST
        store.changes.record(change(1))
    conn = outside_connection(path)
    try:
        assert conn.execute("SELECT count(*) FROM change_sets").fetchone() == (1,)
    finally:
        conn.close()
