"""What every repository of the store shares: the connection, error translation, inserts."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from ark_lsp.store.connection import Connection, write_transaction
from ark_lsp.store.errors import translate

_JSON_COLUMNS = frozenset({"command", "limits", "problems", "limits_hit"})
"""Columns a caller may give as lists or dicts, stored as JSON text."""

_P = ParamSpec("_P")
_R = TypeVar("_R")
_Repo = TypeVar("_Repo", bound="Repository")


class Repository:
    """The queries of one concern (the index, the rule pack, sandbox runs...) over one connection.

    The :class:`~ark_lsp.store.Store` makes one of each over its connection;
    use them as its attributes (``store.index``, ``store.rules``...). Every
    public method raises :class:`~ark_lsp.store.StoreError`, never a raw
    :mod:`sqlite3` error: decorate it with :func:`guarded`.
    """

    def __init__(self, db: Connection, path: Path, busy_timeout: float) -> None:
        """Work on ``db``, the open, migrated database at ``path``."""
        self._db = db
        self._path = path
        self._busy_timeout = busy_timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self._path)!r})"

    def _insert(self, table: str, values: Mapping[str, object]) -> int:
        """Insert one row of ``table`` in its own transaction; return its id.

        Keys that are not columns of the table are left out, and so are
        ``None`` values, which mean "not known": the column's default applies.
        """
        columns = {row[1] for row in self._db.conn.execute(f'PRAGMA table_info("{table}")')}
        row = {
            k: _to_column(v, k)
            for k, v in values.items()
            if k in columns and k != "id" and v is not None
        }
        names = ", ".join(f'"{name}"' for name in row)
        marks = ", ".join("?" for _ in row)
        sql = (
            f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
            if row
            else f'INSERT INTO "{table}" DEFAULT VALUES'
        )
        with write_transaction(self._db):
            cursor = self._db.conn.execute(sql, list(row.values()))
        return int(cursor.lastrowid or 0)


def guarded(
    method: Callable[Concatenate[_Repo, _P], _R],
) -> Callable[Concatenate[_Repo, _P], _R]:
    """Turn any sqlite3 error out of ``method`` into a one-line :class:`StoreError`."""

    @functools.wraps(method)
    def wrapper(repository: _Repo, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(repository, *args, **kwargs)
        except sqlite3.Error as error:
            raise translate(error, repository._path, repository._busy_timeout) from error

    return wrapper


def _to_column(value: object, name: str) -> object:
    if name in _JSON_COLUMNS and not isinstance(value, str | bytes | None):
        return json.dumps(value, default=str)
    return value
