"""Opening the SQLite file and running write transactions on it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database


def connect(path: Path, busy_timeout: float) -> Database:
    """A sqlite-utils Database over one new connection to ``path``.

    The connection is in autocommit mode: every write goes through
    :func:`write_transaction`, so nothing is ever left in an implicit,
    half-open transaction.
    """
    conn = sqlite3.connect(
        str(path),
        timeout=busy_timeout,
        isolation_level=None,
        # One Store per thread, but it may be opened in one and used in another.
        check_same_thread=False,
    )
    try:
        return Database(conn, execute_plugins=False)
    except BaseException:
        conn.close()
        raise


def configure(db: Database) -> None:
    """Apply the per-connection settings ARK relies on."""
    conn = db.conn
    conn.execute("PRAGMA journal_mode=WAL").fetchall()
    conn.execute("PRAGMA foreign_keys=ON")
    # In WAL mode NORMAL survives a killed process; only power loss can
    # drop the last commits, and the index can always be rebuilt.
    conn.execute("PRAGMA synchronous=NORMAL")


@contextmanager
def write_transaction(db: Database) -> Iterator[None]:
    """Run the block in one ``BEGIN IMMEDIATE`` transaction; roll back on any exception.

    ``IMMEDIATE`` takes the write lock up front, so waiting for another
    writer honours the busy timeout instead of failing at the first write.
    """
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise


def utc_now() -> str:
    """The current time as ISO 8601 UTC text, as the schema's defaults write it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
