"""The :class:`Store`: ARK's one SQLite file, and the queries the engine asks of it."""

from __future__ import annotations

import functools
import json
import os
import re
import sqlite3
import stat
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Concatenate, Literal, ParamSpec, Self, TypeVar

from sqlite_utils import Database

from ark_lsp.models import FileState, IndexedFile
from ark_lsp.rules import DEFAULT_RULES, Rule
from ark_lsp.store import rows
from ark_lsp.store import rule_rows as stored_rules
from ark_lsp.store.connection import configure, connect, utc_now, write_transaction
from ark_lsp.store.errors import DatabaseCorrupt, DatabaseTooNew, StoreError, translate
from ark_lsp.store.records import (
    EXECUTION_RECORD_COLUMNS,
    SYMBOL_RECORD_COLUMNS,
    ExecutionRecord,
    PerformanceRecord,
    SymbolRecord,
    Totals,
    ViolationRecord,
    execution_record,
    symbol_record,
)
from ark_lsp.store.schema import LATEST, migrate, schema_version

SymbolSort = Literal["complexity", "name", "line"]

_ORDER_BY: dict[str, str] = {
    "line": 's.path, s.line, s."column", s.id',
    "name": "s.name, s.path, s.line, s.id",
    "complexity": "s.complexity DESC, s.path, s.line, s.id",
}
_SEARCH_WORD = re.compile(r"[^\W_]+")
# Weights of name, qualname and docstring in the ranking of search results.
_BM25 = "bm25(symbols_fts, 10.0, 4.0, 1.0)"
_SQLITE_HEADER = b"SQLite format 3\x00"
_JSON_COLUMNS = frozenset({"command", "limits", "problems", "limits_hit"})

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _guarded(method: Callable[Concatenate[Store, _P], _R]) -> Callable[Concatenate[Store, _P], _R]:
    """Turn any sqlite3 error out of ``method`` into a one-line :class:`StoreError`."""

    @functools.wraps(method)
    def wrapper(store: Store, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(store, *args, **kwargs)
        except sqlite3.Error as error:
            raise translate(error, store.path, store.busy_timeout) from error

    return wrapper


def _prefix_clause(column: str, prefixes: Sequence[str] | None) -> tuple[str, list[object]]:
    """SQL restricting ``column`` to paths equal to or under any prefix ("" means all)."""
    if prefixes is None:
        return "1", []
    clauses: list[str] = []
    params: list[object] = []
    for prefix in prefixes:
        cleaned = prefix.strip().removeprefix("./").strip("/")
        if cleaned in ("", "."):
            return "1", []
        # A range on the raw bytes, not LIKE, which folds case and needs escaping.
        clauses.append(f"({column} = ? OR ({column} >= ? AND {column} < ?))")
        params += [cleaned, cleaned + "/", cleaned + "0"]
    return ("(" + " OR ".join(clauses) + ")" if clauses else "0"), params


def _to_column(value: object, name: str) -> object:
    if name in _JSON_COLUMNS and not isinstance(value, str | bytes | None):
        return json.dumps(value, default=str)
    return value


class Store:
    """The index database of one workspace, over one connection.

    Make one Store per thread. Every method raises :class:`StoreError` (one of
    its subclasses when the file is corrupt, locked or too new), never a raw
    :mod:`sqlite3` error.
    """

    def __init__(self, db: Database, path: Path, busy_timeout: float) -> None:
        """Wrap an open, migrated database; use :meth:`open` instead."""
        self.db = db
        """The sqlite-utils Database, for features that read or write their own tables."""
        self.path = path
        self.busy_timeout = busy_timeout

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
        """Close the connection; the Store cannot be used afterwards."""
        self.db.close()

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

    @_guarded
    def schema_version(self) -> int:
        """The schema version of the file (:data:`LATEST` once opened)."""
        return schema_version(self.db)

    @_guarded
    def rules(self) -> tuple[Rule, ...]:
        """The rule pack, the built-in rules added on first use and kept as edited."""
        stored = stored_rules.load(self.db)
        if {r.name for r in DEFAULT_RULES} - {r.name for r in stored}:
            # Only then a write: read-only commands must not need the write lock.
            with write_transaction(self.db):
                stored_rules.seed(self.db, DEFAULT_RULES)
            stored = stored_rules.load(self.db)
        return stored

    @_guarded
    def set_rule_enabled(self, rule_id: str, enabled: bool) -> int:
        """Switch a rule on or off; return the rows changed (0: no such rule)."""
        with write_transaction(self.db):
            stored_rules.seed(self.db, DEFAULT_RULES)
            return stored_rules.set_enabled(self.db, rule_id, enabled)

    @_guarded
    def add_rule(self, rule: Rule) -> None:
        """Store a rule of the user's own (replacing one of the same name)."""
        with write_transaction(self.db):
            stored_rules.add(self.db, rule)

    @_guarded
    def file_states(self, analysis_key: str = "") -> dict[str, FileState]:
        """What the index remembers of each file: size, mtime and content hash.

        A file analysed under another ``analysis_key`` (other rules, other
        settings, another ARK) comes back with no size, mtime or hash, so the
        indexer analyses it again even though its bytes did not change.
        """
        cursor = self.db.conn.execute(
            "SELECT path, size, mtime_ns, sha256, analysis_key FROM code_index"
        )
        return {
            path: FileState(size, mtime, sha) if key == analysis_key else FileState(-1, -1, "")
            for path, size, mtime, sha, key in cursor
        }

    def write_files(self, files: Sequence[IndexedFile], removed: Sequence[str] = ()) -> None:
        """Replace the index of ``files`` and drop ``removed``, in one transaction."""
        self.write_rows(rows.prepare_rows(files, utc_now()), removed)

    @_guarded
    def write_rows(self, batch: rows.RowBatch, removed: Sequence[str] = ()) -> None:
        """Replace the index of the batch's files and drop ``removed``, in one transaction."""
        conn = self.db.conn
        with write_transaction(self.db):
            self._forget([*batch.paths, *removed])
            conn.executemany(rows.CODE_INDEX_INSERT, batch.code_index)
            (last_id,) = conn.execute("SELECT coalesce(max(id), 0) FROM symbols").fetchone()
            conn.executemany(rows.SYMBOLS_INSERT, batch.symbols)
            conn.execute(rows.SEARCH_ADD, (last_id,))
            conn.executemany(rows.IMPORTS_INSERT, batch.imports)
            conn.executemany(rows.VIOLATIONS_INSERT, batch.violations)
            conn.executemany(rows.CALLS_INSERT, batch.calls)

    def _forget(self, paths: Sequence[str]) -> None:
        """Delete files with everything indexed from them; call inside a transaction."""
        if not paths:
            return
        # One set-wise statement per table: per-row triggers cost several
        # times more. The search index goes first, while its rows still exist.
        doomed = json.dumps(list(paths))
        self.db.conn.execute(rows.SEARCH_FORGET, (doomed,))
        self.db.conn.execute(rows.FILES_DELETE, (doomed,))

    @_guarded
    def touch_files(self, states: Mapping[str, FileState]) -> None:
        """Record the new size and mtime of files whose content did not change."""
        with write_transaction(self.db):
            self.db.conn.executemany(
                "UPDATE code_index SET size = ?, mtime_ns = ?, sha256 = ? WHERE path = ?",
                ((s.size, s.mtime_ns, s.sha256, path) for path, s in states.items()),
            )

    @_guarded
    def remove_files(self, paths: Sequence[str]) -> None:
        """Forget files, with everything indexed from them."""
        with write_transaction(self.db):
            self._forget(paths)

    @_guarded
    def record_index_run(self, figures: Mapping[str, object]) -> None:
        """Keep the figures of an ``ark index`` run in ``code_quality_reports``."""
        self._insert("code_quality_reports", figures)

    @_guarded
    def record_execution(self, execution: Mapping[str, object]) -> int:
        """Record a sandbox run in ``sandbox_executions``; return its id.

        Keys are column names; ``command`` and ``limits`` may be given as
        lists or dicts and are stored as JSON. The ``code_performance`` row of
        the target is updated by a trigger in the same transaction.
        """
        return self._insert("sandbox_executions", execution)

    @_guarded
    def record_generation(
        self,
        *,
        kind: str,
        target: str,
        template: str,
        text: str,
        validation: Mapping[str, object],
        test_outcome: Mapping[str, object] | None = None,
    ) -> int:
        """Record a generated text in ``generated_code``; return its id.

        ``validation`` and ``test_outcome`` are stored as JSON: what the
        analysis said of the text, and what running its tests came to.
        """
        return self._insert(
            "generated_code",
            {
                "kind": kind,
                "target": target,
                "template": template,
                "text": text,
                "validation": json.dumps(validation, default=str),
                "test_outcome": None
                if test_outcome is None
                else json.dumps(test_outcome, default=str),
            },
        )

    @_guarded
    def executions(
        self, *, limit: int = 20, target_path: str | None = None
    ) -> list[ExecutionRecord]:
        """The most recent sandbox runs, newest first (of one target, when given)."""
        where, params = ("WHERE target_path = ?", [target_path]) if target_path else ("", [])
        cursor = self.db.conn.execute(
            f"SELECT {EXECUTION_RECORD_COLUMNS} FROM sandbox_executions {where} "
            "ORDER BY started_at DESC, id DESC LIMIT ?",
            [*params, limit],
        )
        return [execution_record(row) for row in cursor]

    def _insert(self, table: str, values: Mapping[str, object]) -> int:
        columns = set(self.db.table(table).columns_dict)
        # None means "not known": leave it to the column's default.
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
        with write_transaction(self.db):
            cursor = self.db.conn.execute(sql, list(row.values()))
        return int(cursor.lastrowid or 0)

    @_guarded
    def symbols(
        self,
        *,
        path_prefixes: Sequence[str] | None = None,
        min_complexity: int | None = None,
        sort: SymbolSort = "line",
        limit: int | None = None,
    ) -> list[SymbolRecord]:
        """Symbols of the files equal to or under ``path_prefixes`` (all by default).

        ``sort="complexity"`` puts the most complex first (ties by path and
        line); ``"name"`` and ``"line"`` are ascending.
        """
        if sort not in _ORDER_BY:
            raise ValueError(f"sort must be one of {', '.join(_ORDER_BY)}, not {sort!r}")
        where, params = _prefix_clause("s.path", path_prefixes)
        if min_complexity is not None:
            where += " AND s.complexity >= ?"
            params.append(min_complexity)
        sql = (
            f"SELECT {SYMBOL_RECORD_COLUMNS} FROM symbols AS s "
            f"JOIN code_index AS c ON c.path = s.path WHERE {where} ORDER BY {_ORDER_BY[sort]}"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [symbol_record(row) for row in self.db.conn.execute(sql, params)]

    @_guarded
    def violations(self, *, path_prefixes: Sequence[str] | None = None) -> list[ViolationRecord]:
        """Violations in the files equal to or under ``path_prefixes``, in file order."""
        where, params = _prefix_clause("v.path", path_prefixes)
        cursor = self.db.conn.execute(
            'SELECT v.path, v.rule, v.severity, v.message, v.line, v."column", v.end_line, '
            f"v.end_column, c.tier FROM violations AS v JOIN code_index AS c ON c.path = v.path "
            f'WHERE {where} ORDER BY v.path, v.line, v."column", v.rule',
            params,
        )
        return [ViolationRecord(*row) for row in cursor]

    @_guarded
    def search(self, query: str, limit: int = 20) -> list[SymbolRecord]:
        """Symbols whose name, qualified name or docstring match ``query``, best first.

        Every word of the query must match the start of a word (``pars``
        finds ``parse_file``; ``Store.open`` finds the method). Punctuation is
        ignored, so no input is a syntax error.
        """
        words = _SEARCH_WORD.findall(query)
        if not words or limit <= 0:
            return []
        match = " ".join(f'"{word}"*' for word in words)
        exact = query.strip()
        sql = (
            f"SELECT {SYMBOL_RECORD_COLUMNS} FROM symbols_fts "
            "JOIN symbols AS s ON s.id = symbols_fts.rowid "
            "JOIN code_index AS c ON c.path = s.path "
            "WHERE symbols_fts MATCH ? "
            "ORDER BY (s.name = ? COLLATE NOCASE) DESC, (s.qualname = ? COLLATE NOCASE) DESC, "
            f"{_BM25}, s.path, s.line LIMIT ?"
        )
        cursor = self.db.conn.execute(sql, (match, exact, exact, limit))
        return [symbol_record(row) for row in cursor]

    @_guarded
    def call_count(self, name: str) -> int:
        """How many calls of ``name`` (as ``name(...)`` or ``x.name(...)``) the index holds."""
        (count,) = self.db.conn.execute(
            "SELECT coalesce(sum(count), 0) FROM calls WHERE name = ?", (name,)
        ).fetchone()
        return int(count)

    @_guarded
    def files_calling(self, name: str, limit: int = 20) -> list[str]:
        """Indexed files calling ``name`` (``name(...)`` or ``x.name(...)``), most calls first."""
        cursor = self.db.conn.execute(
            "SELECT path FROM calls WHERE name = ? ORDER BY count DESC, path LIMIT ?",
            (name, limit),
        )
        return [path for (path,) in cursor]

    @_guarded
    def module_file(self, module: str) -> tuple[str, str] | None:
        """The indexed file of a module, with its tier, if the workspace has it."""
        row = self.db.conn.execute(
            "SELECT path, tier FROM code_index WHERE module = ? ORDER BY length(path) LIMIT 1",
            (module,),
        ).fetchone()
        return (row[0], row[1]) if row else None

    @_guarded
    def symbol_named_at(self, path: str, line: int, name: str) -> SymbolRecord | None:
        """The symbol whose name is written on ``line`` of ``path``."""
        row = self.db.conn.execute(
            f"SELECT {SYMBOL_RECORD_COLUMNS} FROM symbols AS s "
            "JOIN code_index AS c ON c.path = s.path "
            "WHERE s.path = ? AND s.name_line = ? AND s.name = ? LIMIT 1",
            (path, line, name),
        ).fetchone()
        return symbol_record(row) if row else None

    @_guarded
    def performance(self, path: str, name: str = "") -> PerformanceRecord | None:
        """What the sandbox runs of a target came to, if it was ever run."""
        row = self.db.conn.execute(
            "SELECT target_path, target_name, runs, passed, failed, timeouts, errors, "
            "avg_duration_ms, max_peak_memory_bytes, last_outcome, last_run_at "
            "FROM code_performance WHERE target_path = ? AND target_name = ?",
            (path, name),
        ).fetchone()
        return PerformanceRecord(*row) if row else None

    @_guarded
    def module_edges(self) -> list[tuple[str, str]]:
        """The workspace's import graph: sorted, distinct (importer, imported) module pairs.

        An import points at the longest indexed module that prefixes its
        target: ``from a.b import c`` is an edge to ``a.b.c`` when that is a
        module of the workspace, else to ``a.b``, else to ``a``. Imports of
        modules outside the workspace make no edge.
        """
        conn = self.db.conn
        modules = {m for (m,) in conn.execute("SELECT DISTINCT module FROM code_index") if m}
        cursor = conn.execute(
            "SELECT DISTINCT c.module, i.module, i.name FROM imports AS i "
            "JOIN code_index AS c ON c.path = i.path WHERE i.resolved AND c.module != ''"
        )
        edges: set[tuple[str, str]] = set()
        for importer, module, name in cursor:
            imported = _longest_indexed(module, name, modules)
            if imported is not None and imported != importer:
                edges.add((importer, imported))
        return sorted(edges)

    @_guarded
    def totals(self, scopes: Sequence[str] | None = None) -> Totals:
        """Files, lines, symbols and mean function complexity under ``scopes`` (all by default)."""
        conn = self.db.conn
        where, params = _prefix_clause("path", scopes)
        files, lines = conn.execute(
            f"SELECT count(*), coalesce(sum(lines_total), 0) FROM code_index WHERE {where}", params
        ).fetchone()
        symbols, average = conn.execute(
            "SELECT count(*), avg(CASE WHEN kind != 'class' THEN complexity END) "
            f"FROM symbols WHERE {where}",
            params,
        ).fetchone()
        return Totals(files, lines, symbols, float(average or 0.0))

    @_guarded
    def stats(self) -> dict[str, int]:
        """Row counts: files, symbols, imports, violations, and the schema version."""
        conn = self.db.conn
        counts = {
            key: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for key, table in (
                ("files", "code_index"),
                ("symbols", "symbols"),
                ("imports", "imports"),
                ("violations", "violations"),
            )
        }
        counts["schema_version"] = schema_version(self.db)
        return counts


def _longest_indexed(module: str, name: str | None, modules: set[str]) -> str | None:
    target = module if name is None or name == "*" else f"{module}.{name}" if module else name
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


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
