"""Opening the SQLite file and running write transactions on it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.db import Table


class Connection:
    """One connection to the file: plain :mod:`sqlite3`, and sqlite-utils over it when needed.

    Queries and ARK's own writes are SQL on :attr:`conn`. sqlite-utils (its
    full-text search and views, for migrations) is imported and put over the
    same connection only when one of those is asked for: opening a current
    database, reading the rule pack and the index need none of it, and the
    language server starts without its imports (click and dateutil among them).
    """

    def __init__(self, conn: sqlite3.Connection, utils: Database | None = None) -> None:
        self.conn = conn
        self._utils = utils

    @property
    def utils(self) -> Database:
        """sqlite-utils' Database over this connection, made on first use."""
        if self._utils is None:
            from sqlite_utils import Database

            self._utils = Database(self.conn, execute_plugins=False)
        return self._utils

    def execute(self, sql: str, parameters: Any = None) -> sqlite3.Cursor:
        """Run one statement (as sqlite-utils' ``Database.execute``)."""
        return self.conn.execute(sql) if parameters is None else self.conn.execute(sql, parameters)

    def table(self, name: str) -> Table:
        """sqlite-utils' table ``name``."""
        return self.utils.table(name)

    def create_view(self, name: str, sql: str) -> None:
        """Create a view, as sqlite-utils does."""
        self.utils.create_view(name, sql)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def as_connection(db: Connection | Database) -> Connection:
    """``db`` as a :class:`Connection` (a sqlite-utils Database is wrapped, connection and all)."""
    return db if isinstance(db, Connection) else Connection(db.conn, db)


def connect(path: Path, busy_timeout: float) -> Connection:
    """One new connection to ``path``.

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
    return Connection(conn)


def configure(db: Connection) -> None:
    """Apply the per-connection settings ARK relies on."""
    conn = db.conn
    conn.execute("PRAGMA journal_mode=WAL").fetchall()
    conn.execute("PRAGMA foreign_keys=ON")
    # In WAL mode NORMAL survives a killed process; only power loss can
    # drop the last commits, and the index can always be rebuilt.
    conn.execute("PRAGMA synchronous=NORMAL")


@contextmanager
def write_transaction(db: Connection | Database) -> Iterator[None]:
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
