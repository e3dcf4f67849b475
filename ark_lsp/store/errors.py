"""What can go wrong with the database, each as one line a person can act on."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

_CORRUPT_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_LOCKED_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_CORRUPT_MESSAGES = ("file is not a database", "database disk image is malformed")
_LOCKED_MESSAGES = ("database is locked", "database table is locked", "database schema is locked")


class StoreError(Exception):
    """The database cannot be used; ``str()`` is one line naming the file."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return self.message


class DatabaseCorrupt(StoreError):
    """The file is not an SQLite database, or its pages are damaged."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            path,
            f"{path} is not a valid ARK database ({detail}); "
            "move it aside or run `ark index --rebuild`",
        )
        self.detail = detail


class DatabaseLocked(StoreError):
    """Another process held the database longer than the busy timeout."""

    def __init__(self, path: Path, waited: float) -> None:
        super().__init__(
            path,
            f"{path} is locked by another process (waited {waited:.1f} s); "
            "try again when it has finished, or raise busy-timeout",
        )
        self.waited = waited


class DatabaseTooNew(StoreError):
    """The file's schema is newer than this version of ARK understands."""

    def __init__(self, path: Path, found: int, known: int) -> None:
        super().__init__(
            path,
            f"{path} was written by a newer ARK (schema {found}, this ARK knows {known}); "
            "upgrade ARK or use another --database",
        )
        self.found = found
        self.known = known


def translate(error: sqlite3.Error, path: Path, busy_timeout: float) -> StoreError:
    """The :class:`StoreError` that tells the user what ``error`` means for ``path``."""
    detail = " ".join(str(error).split()) or type(error).__name__
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    lowered = detail.lower()
    if primary in _CORRUPT_CODES or any(m in lowered for m in _CORRUPT_MESSAGES):
        return DatabaseCorrupt(path, detail)
    if primary in _LOCKED_CODES or any(m in lowered for m in _LOCKED_MESSAGES):
        return DatabaseLocked(path, busy_timeout)
    return StoreError(path, f"{path}: database error ({detail})")


def move_aside(path: Path, why: str = "corrupt") -> Path:
    """Rename a database (and its ``-wal``/``-shm`` files) to ``<name>.<why>-<timestamp>``.

    ``why`` says what is wrong with it (``corrupt``; ``schema-7`` for one a
    newer ARK wrote), so that a healthy file is never called corrupt.
    Nothing is deleted, so the old file stays available for inspection or
    recovery while a fresh database is made at ``path``. Returns the new path
    of the main file.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.{why}-{stamp}")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.name}.{why}-{stamp}-{counter}")
    try:
        path.rename(target)
        for suffix in ("-wal", "-shm"):
            sidecar = path.with_name(path.name + suffix)
            if sidecar.exists():
                sidecar.rename(target.with_name(target.name + suffix))
    except OSError as error:
        raise StoreError(
            path, f"{path}: cannot move the database aside ({error.strerror or error})"
        ) from error
    return target
