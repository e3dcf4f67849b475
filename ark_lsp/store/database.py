"""The :class:`Store`: ARK's one SQLite file, opened once, with a repository per concern."""

from __future__ import annotations

import os
import sqlite3
import stat
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Self

from ark_lsp.store.changes import ChangeSetRepository
from ark_lsp.store.code_index import CodeIndexRepository
from ark_lsp.store.connection import Connection, configure, connect
from ark_lsp.store.errors import DatabaseCorrupt, DatabaseTooNew, StoreError, translate
from ark_lsp.store.generations import GenerationRepository
from ark_lsp.store.index_runs import IndexRunRepository
from ark_lsp.store.quality_reports import QualityReportRepository
from ark_lsp.store.rule_pack import RulePackRepository
from ark_lsp.store.sandbox_runs import SandboxRunRepository
from ark_lsp.store.schema import LATEST, migrate, schema_version

_SQLITE_HEADER = b"SQLite format 3\x00"


class Store:
    """The index database of one workspace, over one connection.

    Its queries are grouped by concern, one repository each:

    - ``index``: the code index (files, symbols, imports, violations, calls,
      search, totals);
    - ``rules``: the rule pack;
    - ``runs``: sandbox runs and the performance of their targets;
    - ``generations``: generated code;
    - ``index_runs``: the figures of each indexing run;
    - ``changes``: the change sets proposed.
    - ``quality``: the quality gate's reports, a row set per run.

    Make one Store per thread; its repositories share its connection. Every
    method raises :class:`StoreError` (one of its subclasses when the file is
    corrupt, locked or too new), never a raw :mod:`sqlite3` error.
    """

    def __init__(self, db: Connection, path: Path, busy_timeout: float) -> None:
        """Wrap an open, migrated database; use :meth:`open` instead."""
        self._db = db
        self.path = path
        self.busy_timeout = busy_timeout
        self.index = CodeIndexRepository(db, path, busy_timeout)
        """The code index: file states, writes, symbols, violations, search, calls, totals."""
        self.rules = RulePackRepository(db, path, busy_timeout)
        """The rule pack: load it, switch a rule on or off, add one."""
        self.runs = SandboxRunRepository(db, path, busy_timeout)
        """Sandbox executions: record one, list the history, the performance of a target."""
        self.generations = GenerationRepository(db, path, busy_timeout)
        """Generated code, with what analysis and its tests said of it."""
        self.index_runs = IndexRunRepository(db, path, busy_timeout)
        """The figures of each indexing run."""
        self.changes = ChangeSetRepository(db, path, busy_timeout)
        """Change sets: record one, find one by id or prefix, list, forget."""
        self.quality = QualityReportRepository(db, path, busy_timeout)
        """The quality gate's reports: a row set per gate run."""

    @classmethod
    def open(cls, path: Path, *, busy_timeout: float = 5.0) -> Store:
        """Open (creating and migrating as needed) the database at ``path``."""
        path = Path(path)
        _prepare_folder(path)
        _check_header(path)
        try:
            db = connect(path, busy_timeout)
        except sqlite3.Error as error:
            raise translate(error, path, busy_timeout) from error
        try:
            found = schema_version(db)
            if found > LATEST:
                raise DatabaseTooNew(path, found, LATEST)
            if found == 0 and db.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                # Unversioned but not empty: another program's database.
                raise DatabaseCorrupt(path, "it holds another program's tables")
            configure(db)
            migrate(db)
        except sqlite3.Error as error:
            db.close()
            raise translate(error, path, busy_timeout) from error
        except BaseException:
            db.close()
            raise
        return cls(db, path, busy_timeout)

    def close(self) -> None:
        """Close the connection; the Store and its repositories cannot be used afterwards."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def schema_version(self) -> int:
        """The schema version of the file (:data:`LATEST` once opened)."""
        try:
            return schema_version(self._db)
        except sqlite3.Error as error:
            raise translate(error, self.path, self.busy_timeout) from error


def _check_header(path: Path) -> None:
    """Refuse a file that is not an SQLite database of its own before SQLite opens it.

    SQLite would open such a file, fail, and on closing delete a ``-wal``
    file lying next to it, which may be all that is left worth recovering.
    It would also follow a link, block on a FIFO, and turn an empty file of
    somebody else's into a database: ARK writes only to a database file, or
    creates a new one where nothing is.
    """
    for candidate in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
        try:
            mode = candidate.lstat().st_mode
        except FileNotFoundError:
            continue
        except OSError:
            return  # SQLite reports the problem in its own words
        if stat.S_ISLNK(mode):
            reason = f"{candidate.name} is a link; ARK opens only a file of its own"
            raise DatabaseCorrupt(path, reason)
        if not stat.S_ISREG(mode):
            raise DatabaseCorrupt(path, f"{candidate.name} is not a regular file")
    try:
        with path.open("rb") as file:
            header = file.read(len(_SQLITE_HEADER))
    except OSError:
        return  # missing is fine; otherwise SQLite reports the problem in its own words
    if not header and path.parent.name == ".ark":
        return  # SQLite makes the file before its first write: a run killed in between
    if header != _SQLITE_HEADER:
        reason = "it is an empty file, not ARK's" if not header else "file is not a database"
        raise DatabaseCorrupt(path, reason)


def _prepare_folder(path: Path) -> None:
    """Create the database's folder; a new ``.ark`` folder keeps itself out of git."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(
            path, f"{path}: cannot create the folder {folder} ({error.strerror or error})"
        ) from error
    if folder.name == ".ark":
        # A missing .gitignore only makes git noisier; the index still works. Never
        # through a link or over an existing file: either may be the repository's.
        with suppress(OSError):
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            descriptor = os.open(folder / ".gitignore", flags, 0o644)
            with os.fdopen(descriptor, "w", encoding="utf-8") as ignore:
                ignore.write("*\n")
