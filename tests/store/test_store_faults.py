"""Faults: corrupt, foreign, locked and half-written files, each one line a person can act on."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlite_utils import Database
from store_samples import make_file, outside_connection, rows, sym

from ark_lsp.store import (
    LATEST,
    DatabaseCorrupt,
    DatabaseLocked,
    Store,
    StoreError,
    migrate,
    move_aside,
)
from ark_lsp.store.errors import translate


def test_garbage_file_is_corrupt_and_can_be_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / ".ark" / "index.db"
    path.parent.mkdir()
    path.write_bytes(b"this is not sqlite at all\n" * 200)
    (tmp_path / ".ark" / "index.db-wal").write_bytes(b"junk")
    with pytest.raises(DatabaseCorrupt) as caught:
        Store.open(path)
    message = str(caught.value)
    assert message == (
        f"{path} is not a valid ARK database (file is not a database); "
        "move it aside or run `ark index --rebuild`"
    )
    assert "\n" not in message

    moved = move_aside(path)
    assert moved.parent == path.parent
    assert moved.name.startswith("index.db.corrupt-")
    assert moved.read_bytes().startswith(b"this is not sqlite")
    assert moved.with_name(moved.name + "-wal").read_bytes() == b"junk"
    assert not path.exists()
    with Store.open(path) as store:
        store.index.write_files([make_file("a.py")])
        assert store.index.counts().files == 1
    # A second move in the same second does not clobber the first.
    assert move_aside(path) != moved and moved.exists()


def test_another_programs_database_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (name TEXT)")
    with pytest.raises(DatabaseCorrupt, match="it holds another program's tables"):
        Store.open(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("customers",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_an_empty_file_in_ark_folder_becomes_a_database(tmp_path: Path) -> None:
    # SQLite creates the file before its first write: a run killed in between leaves it empty.
    path = tmp_path / ".ark" / "index.db"
    path.parent.mkdir()
    path.write_bytes(b"")
    with Store.open(path) as store:
        assert store.schema_version() == LATEST


def test_a_file_that_is_not_arks_database_is_never_written(tmp_path: Path) -> None:
    empty = tmp_path / "authorized_keys"
    empty.write_bytes(b"")
    with pytest.raises(DatabaseCorrupt, match="empty file"):
        Store.open(empty)
    assert empty.read_bytes() == b""

    target = tmp_path / "target"
    target.write_text("ssh-ed25519 AAAA user@host\n")
    link = tmp_path / ".ark" / "index.db"
    link.parent.mkdir()
    link.symlink_to(target)
    with pytest.raises(DatabaseCorrupt, match="is a link"):
        Store.open(link)
    (tmp_path / ".ark" / "index.db").unlink()
    (tmp_path / ".ark" / "index.db-wal").symlink_to(target)
    with pytest.raises(DatabaseCorrupt, match=r"index\.db-wal is a link"):
        Store.open(tmp_path / ".ark" / "index.db")
    assert target.read_text() == "ssh-ed25519 AAAA user@host\n"


def test_move_aside_of_a_missing_file_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot move the database aside"):
        move_aside(tmp_path / "nothing.db")


def damage(path: Path, pages: range) -> None:
    data = bytearray(path.read_bytes())
    for page in pages:
        data[page * 4096 : page * 4096 + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


def indexed_db(path: Path) -> int:
    with Store.open(path) as store:
        store.index.write_files(
            [make_file(f"m{i}.py", symbols=[sym(f"f{j}") for j in range(40)]) for i in range(20)]
        )
    return path.stat().st_size // 4096


def test_damaged_schema_pages_are_reported_as_corrupt_on_open(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    pages = indexed_db(path)
    damage(path, range(1, pages - 1))
    with pytest.raises(DatabaseCorrupt, match="database disk image is malformed"):
        Store.open(path)


def test_damaged_data_pages_are_reported_as_corrupt_by_queries(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    pages = indexed_db(path)
    damage(path, range(pages - 20, pages))
    noticed = []
    with Store.open(path) as store:
        index = store.index
        for query in (index.symbols, index.file_states, lambda: index.search("f1"), index.counts):
            try:
                query()
            except DatabaseCorrupt as error:
                noticed.append(str(error))
    assert noticed
    assert all("is not a valid ARK database" in message for message in noticed)


def test_translate_classifies_sqlite_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    assert isinstance(
        translate(sqlite3.DatabaseError("database disk image is malformed"), path, 1.0),
        DatabaseCorrupt,
    )
    locked = translate(sqlite3.OperationalError("database is locked"), path, 5.0)
    assert isinstance(locked, DatabaseLocked)
    assert str(locked).startswith(f"{path} is locked by another process (waited 5.0 s)")
    other = translate(sqlite3.OperationalError("disk I/O error"), path, 5.0)
    assert type(other) is StoreError and str(other) == f"{path}: database error (disk I/O error)"


def test_a_closed_store_raises_store_error(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "index.db")
    store.close()
    with pytest.raises(StoreError):
        store.index.file_states()
    with pytest.raises(StoreError):
        store.rules.load()
    with pytest.raises(StoreError):
        store.runs.history()
    with pytest.raises(StoreError):
        store.schema_version()


def test_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match="cannot create the folder"):
        Store.open(tmp_path / "file" / "index.db")
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match=r"dir\.db is not a regular file"):
        Store.open(tmp_path / "dir.db")


def test_a_writer_holding_the_lock_makes_writes_wait_then_fail(store: Store) -> None:
    before = store.index.file_states()
    other = outside_connection(store.path)
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT INTO improvement_tasks (title) VALUES ('held')")
    try:
        with Store.open(store.path, busy_timeout=0.2) as second:
            started = time.perf_counter()
            with pytest.raises(DatabaseLocked) as caught:
                second.index.write_files([make_file("new.py")])
            waited = time.perf_counter() - started
            assert 0.15 <= waited < 2.0
            assert str(caught.value) == (
                f"{store.path} is locked by another process (waited 0.2 s); "
                "try again when it has finished, or raise busy-timeout"
            )
            assert second.index.file_states() == before  # readers still read
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.index.write_files([make_file("new.py")])
    assert set(store.index.file_states()) == set(before) | {"new.py"}
    assert rows(store.path, "PRAGMA integrity_check") == [("ok",)]


def test_opening_a_database_locked_by_another_process_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    other = outside_connection(path)
    migrate(Database(other), target=1)  # an older ARK file, in rollback-journal mode
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT INTO improvement_tasks (title) VALUES ('held')")
    try:
        started = time.perf_counter()
        with pytest.raises(DatabaseLocked, match=r"waited 0\.2 s"):
            Store.open(path, busy_timeout=0.2)
        assert 0.15 <= time.perf_counter() - started < 2.0
    finally:
        other.execute("COMMIT")
        other.close()
    with Store.open(path) as store:
        assert store.schema_version() == LATEST
    assert rows(path, "SELECT title FROM improvement_tasks") == [("held",)]


_CRASHING_WRITER = """
import os, sys
sys.path.insert(0, {samples!r})
from store_samples import make_file, sym
from ark_lsp.store import Store, database, rows

configure = database.configure

def configure_tiny_cache(db):
    configure(db)
    # A tiny page cache makes SQLite spill the unfinished transaction into the WAL.
    db.conn.execute("PRAGMA cache_size = 1")

database.configure = configure_tiny_cache
store = Store.open(__import__("pathlib").Path({path!r}))
original = rows.prepare_rows

def dying_batch(files, indexed_at):
    batch = original(files, indexed_at)
    symbols = batch.symbols

    def dying():
        for number, row in enumerate(symbols):
            if number == 1500:
                os._exit(17)
            yield row

    batch.symbols = dying()
    return batch

rows.prepare_rows = dying_batch
files = [
    make_file(f"pkg/m{{i}}.py", sha="new", symbols=[sym(f"new_{{i}}_{{j}}") for j in range(50)])
    for i in range(40)
]
store.index.write_files(files, removed=["old/x.py"])
sys.exit(0)
"""


def test_a_writer_killed_mid_transaction_leaves_the_previous_index(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    old_files = [
        make_file(f"pkg/m{i}.py", symbols=[sym(f"old_{i}_{j}") for j in range(5)])
        for i in range(40)
    ] + [make_file("old/x.py", symbols=[sym("kept")])]
    with Store.open(path) as store:
        store.index.write_files(old_files)
        before_states = store.index.file_states()
        before_symbols = store.index.symbols()
    script = _CRASHING_WRITER.format(samples=str(Path(__file__).parent), path=str(path))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 17, done.stderr
    wal = path.with_name(path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 100_000  # the dead writer got far

    with Store.open(path) as store:
        assert rows(path, "PRAGMA integrity_check") == [("ok",)]
        assert rows(path, "INSERT INTO symbols_fts (symbols_fts) VALUES ('integrity-check')") == []
        assert store.index.file_states() == before_states
        assert store.index.symbols() == before_symbols
        assert store.index.search("new") == []
        assert [r.name for r in store.index.search("kept")] == ["kept"]
