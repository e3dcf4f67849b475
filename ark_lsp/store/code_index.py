"""The code index: files, symbols, imports, violations, calls and attribute bindings."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Literal

from ark_lsp.models import FileState, Import, IndexedFile, Tier
from ark_lsp.store import rows
from ark_lsp.store.connection import utc_now, write_transaction
from ark_lsp.store.records import (
    SYMBOL_RECORD_COLUMNS,
    AnalysedFileRecord,
    IndexCounts,
    SymbolRecord,
    Totals,
    ViolationRecord,
    symbol_record,
)
from ark_lsp.store.repository import Repository, guarded
from ark_lsp.store.search_text import dotted_name, match_expression, query_words

SymbolSort = Literal["complexity", "name", "line"]

_ORDER_BY: dict[str, str] = {
    "line": 's.path, s.line, s."column", s.id',
    "name": "s.name, s.path, s.line, s.id",
    "complexity": "s.complexity DESC, s.path, s.line, s.id",
}
_OVERLOAD = "(s.decorators LIKE '%overload%')"
"""Whether the symbol ``s`` is an ``@overload`` declaration (``typing.overload`` too)."""
# A symbol's module-qualified name, and its module's, each with a dot in front,
# so that a pattern '*.' || name matches whole parts only.
_FULL_NAME = "('.' || c.module || '.' || s.qualname)"
_MODULE_NAME = "('.' || c.module)"
_QUALIFIED_SEARCH = (
    f"SELECT {SYMBOL_RECORD_COLUMNS} FROM ("
    f"SELECT s.id AS id, CASE WHEN {_FULL_NAME} GLOB '*.' || ?1 THEN 0 "
    f"WHEN {_MODULE_NAME} GLOB '*.' || ?1 THEN 1 "
    f"WHEN {_FULL_NAME} LIKE '%.' || ?2 ESCAPE '\\' THEN 2 "
    f"WHEN {_MODULE_NAME} LIKE '%.' || ?2 ESCAPE '\\' THEN 3 ELSE 4 END AS how "
    "FROM symbols AS s JOIN code_index AS c ON c.path = s.path "
    f"WHERE {_FULL_NAME} LIKE '%.' || ?2 || '%' ESCAPE '\\') AS q "
    "JOIN symbols AS s ON s.id = q.id JOIN code_index AS c ON c.path = s.path "
    "ORDER BY q.how, CASE WHEN q.how IN (1, 3) THEN 0 ELSE length(s.qualname) END, "
    "s.path, s.line LIMIT ?3"
)
"""Symbols by a dotted name (see :meth:`CodeIndexRepository._qualified`)."""
_REEXPORTED_SEARCH = (
    f"SELECT {SYMBOL_RECORD_COLUMNS} FROM imports AS i "
    "JOIN code_index AS m ON m.path = i.path "
    "JOIN code_index AS c ON c.module = i.module "
    "JOIN symbols AS s ON s.path = c.path AND s.qualname = i.name "
    "WHERE ('.' || m.module) GLOB '*.' || ? AND i.bound = ? AND i.resolved "
    "ORDER BY s.path, s.line LIMIT ?"
)
"""Symbols a module imports under the name asked for (``marshmallow.Schema``)."""
# Weights of name, qualname, docstring and a CamelCase name's words in the ranking.
_BM25 = "bm25(symbols_fts, 10.0, 4.0, 1.0, 10.0)"


class CodeIndexRepository(Repository):
    """What the index holds of each file of the workspace (``store.index``)."""

    # --- writing ---------------------------------------------------------------------------

    @guarded
    def file_states(self, analysis_key: str = "") -> dict[str, FileState]:
        """What the index remembers of each file: size, mtime and content hash.

        A file analysed under another ``analysis_key`` (other rules, other
        settings, another ARK) comes back with no size, mtime or hash, so the
        indexer analyses it again even though its bytes did not change.
        """
        cursor = self._db.conn.execute(
            "SELECT path, size, mtime_ns, sha256, analysis_key FROM code_index"
        )
        return {
            path: FileState(size, mtime, sha) if key == analysis_key else FileState(-1, -1, "")
            for path, size, mtime, sha, key in cursor
        }

    def write_files(self, files: Sequence[IndexedFile], removed: Sequence[str] = ()) -> None:
        """Replace the index of ``files`` and drop ``removed``, in one transaction."""
        self.write_rows(rows.prepare_rows(files, utc_now()), removed)

    @guarded
    def write_rows(self, batch: rows.RowBatch, removed: Sequence[str] = ()) -> None:
        """Replace the index of the batch's files and drop ``removed``, in one transaction."""
        conn = self._db.conn
        with write_transaction(self._db):
            self._forget([*batch.paths, *removed])
            conn.executemany(rows.CODE_INDEX_INSERT, batch.code_index)
            (last_id,) = conn.execute("SELECT coalesce(max(id), 0) FROM symbols").fetchone()
            conn.executemany(rows.SYMBOLS_INSERT, batch.symbols)
            conn.execute(rows.SEARCH_ADD, (last_id,))
            conn.executemany(rows.IMPORTS_INSERT, batch.imports)
            conn.executemany(rows.VIOLATIONS_INSERT, batch.violations)
            conn.executemany(rows.CALLS_INSERT, batch.calls)
            conn.executemany(rows.ATTRIBUTE_BINDINGS_INSERT, batch.attribute_bindings)

    @guarded
    def touch_files(self, states: Mapping[str, FileState]) -> None:
        """Record the new size and mtime of files whose content did not change."""
        with write_transaction(self._db):
            self._db.conn.executemany(
                "UPDATE code_index SET size = ?, mtime_ns = ?, sha256 = ? WHERE path = ?",
                ((s.size, s.mtime_ns, s.sha256, path) for path, s in states.items()),
            )

    @guarded
    def remove_files(self, paths: Sequence[str]) -> None:
        """Forget files, with everything indexed from them."""
        with write_transaction(self._db):
            self._forget(paths)

    @guarded
    def clear(self) -> None:
        """Forget every file, to index the workspace anew; nothing else in the store changes.

        The file is checked first: one whose pages are damaged raises
        :class:`~ark_lsp.store.DatabaseCorrupt`, so that it is moved aside
        rather than built on.
        """
        conn = self._db.conn
        (verdict,) = conn.execute("PRAGMA quick_check(1)").fetchone()
        if verdict != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed ({verdict})")
        with write_transaction(self._db):
            conn.execute("INSERT INTO symbols_fts (symbols_fts) VALUES ('delete-all')")
            conn.execute("DELETE FROM code_index")  # symbols, imports, violations, calls follow

    def _forget(self, paths: Sequence[str]) -> None:
        """Delete files with everything indexed from them; call inside a transaction."""
        if not paths:
            return
        # One set-wise statement per table: per-row triggers cost several
        # times more. The search index goes first, while its rows still exist.
        doomed = json.dumps(list(paths))
        self._db.conn.execute(rows.SEARCH_FORGET, (doomed,))
        self._db.conn.execute(rows.FILES_DELETE, (doomed,))

    # --- symbols and violations ------------------------------------------------------------

    @guarded
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
        return [symbol_record(row) for row in self._db.conn.execute(sql, params)]

    @guarded
    def violations(self, *, path_prefixes: Sequence[str] | None = None) -> list[ViolationRecord]:
        """Violations in the files equal to or under ``path_prefixes``, in file order."""
        where, params = _prefix_clause("v.path", path_prefixes)
        cursor = self._db.conn.execute(
            'SELECT v.path, v.rule, v.severity, v.message, v.line, v."column", v.end_line, '
            f"v.end_column, c.tier FROM violations AS v JOIN code_index AS c ON c.path = v.path "
            f'WHERE {where} ORDER BY v.path, v.line, v."column", v.rule',
            params,
        )
        return [ViolationRecord(*row) for row in cursor]

    @guarded
    def analysed_file(self, path: str) -> AnalysedFileRecord | None:
        """What the index made of a file, violations in the analysis's order; None if unindexed."""
        # One statement, so that an index run writing meanwhile cannot pair one
        # version's hash with another's violations. Rows are inserted in the
        # report's order, so their ids keep it.
        rows = self._db.conn.execute(
            "SELECT c.sha256, c.analysis_key, c.encoding, c.tier, v.rule, v.severity, "
            'v.message, v.line, v."column", v.end_line, v.end_column '
            "FROM code_index AS c LEFT JOIN violations AS v ON v.path = c.path "
            "WHERE c.path = ? ORDER BY v.id",
            (path,),
        ).fetchall()
        if not rows:
            return None
        sha256, analysis_key, encoding, tier = rows[0][:4]
        violations = tuple(
            ViolationRecord(path, rule, severity, message, line, column, end_line, end_column, tier)
            for *_, rule, severity, message, line, column, end_line, end_column in rows
            if rule is not None
        )
        return AnalysedFileRecord(path, sha256, analysis_key, encoding, violations)

    @guarded
    def search(self, query: str, limit: int = 20) -> list[SymbolRecord]:
        """Symbols whose name, qualified name or docstring match ``query``, best first.

        Every word of the query must match the start of a word (``pars``
        finds ``parse_file``, ``decode`` ``TOMLDecodeError``; ``Store.open``
        finds the method). Punctuation is ignored, so no input is a syntax
        error. A dotted name (``fields.Nested``, ``marshmallow.utils``) first
        matches module-qualified names (:meth:`_qualified`).
        """
        words = query_words(query)
        if not words or limit <= 0:
            return []
        dotted = dotted_name(query)
        found = self._qualified(dotted, limit) if dotted else []
        found += self._matching_words(query, words, limit)
        return list(dict.fromkeys(found))[:limit]  # a symbol found twice stays where it came first

    def _qualified(self, dotted: str, limit: int) -> list[SymbolRecord]:
        """Symbols whose module-qualified name ends with ``dotted`` or goes on from it.

        In this order: what a module so named imports under the last name
        (``marshmallow.Schema``, from ``marshmallow.schema``); the symbols so
        named (``fields.Nested`` is ``marshmallow.fields.Nested``), then every
        symbol of a module so named (``marshmallow.utils``) in file order,
        each first with the case as written, then in any case; then the names
        ``dotted`` starts (``fields.Nes``), shortest first. Some may come twice.
        """
        conn = self._db.conn
        module, _, name = dotted.rpartition(".")
        imported = conn.execute(_REEXPORTED_SEARCH, (module, name, limit)).fetchall()
        like = dotted.replace("_", "\\_")
        named = conn.execute(_QUALIFIED_SEARCH, (dotted, like, limit)).fetchall()
        return [symbol_record(row) for row in [*imported, *named]]

    def _matching_words(self, query: str, words: list[str], limit: int) -> list[SymbolRecord]:
        """Symbols whose name, qualified name or docstring hold every word, best first."""
        match = match_expression(words)
        exact = query.strip()
        sql = (
            f"SELECT {SYMBOL_RECORD_COLUMNS} FROM symbols_fts "
            "JOIN symbols AS s ON s.id = symbols_fts.rowid "
            "JOIN code_index AS c ON c.path = s.path "
            "WHERE symbols_fts MATCH ? "
            "ORDER BY (s.name = ? COLLATE NOCASE) DESC, (s.qualname = ? COLLATE NOCASE) DESC, "
            # The code before its tests: `html` found 25 test methods before get_html_string.
            f"c.tier = ?, {_BM25}, s.path, s.line LIMIT ?"
        )
        cursor = self._db.conn.execute(sql, (match, exact, exact, Tier.TESTING.value, limit))
        return [symbol_record(row) for row in cursor]

    @guarded
    def symbol_named_at(self, path: str, line: int, name: str) -> SymbolRecord | None:
        """The symbol whose name is written on ``line`` of ``path``.

        An ``@overload`` declaration stands for its implementation, the first
        definition of its name in the file that is no overload, if there is one.
        """
        row = self._db.conn.execute(
            f"WITH hit AS (SELECT id, qualname, {_OVERLOAD} AS stub FROM symbols AS s "
            "WHERE path = ?1 AND name_line = ?2 AND name = ?3 LIMIT 1) "
            f"SELECT {SYMBOL_RECORD_COLUMNS} FROM hit, symbols AS s "
            "JOIN code_index AS c ON c.path = s.path WHERE s.id = hit.id "
            f"OR (hit.stub AND s.path = ?1 AND s.qualname = hit.qualname AND NOT {_OVERLOAD}) "
            "ORDER BY s.id = hit.id, s.line LIMIT 1",
            (path, line, name),
        ).fetchone()
        return symbol_record(row) if row else None

    @guarded
    def symbol_named(self, path: str, qualname: str) -> SymbolRecord | None:
        """The function, method or class of ``path`` with that qualified name, the first one.

        The first that is no ``@overload`` declaration, that is: hover shows
        what runs, not the first stub of ``normalize_and_validate``.
        """
        row = self._db.conn.execute(
            f"SELECT {SYMBOL_RECORD_COLUMNS} FROM symbols AS s "
            "JOIN code_index AS c ON c.path = s.path "
            f"WHERE s.path = ? AND s.qualname = ? ORDER BY {_OVERLOAD}, s.line LIMIT 1",
            (path, qualname),
        ).fetchone()
        return symbol_record(row) if row else None

    @guarded
    def overloads_of(self, path: str, qualname: str) -> int:
        """How many ``@overload`` declarations of ``qualname`` ``path`` has."""
        (count,) = self._db.conn.execute(
            f"SELECT count(*) FROM symbols AS s WHERE path = ? AND qualname = ? AND {_OVERLOAD}",
            (path, qualname),
        ).fetchone()
        return int(count)

    @guarded
    def definitions_in_force(self, path: str, qualname: str) -> int:
        """How many definitions of ``qualname`` in ``path`` may be in force: ``@overload`` aside."""
        (count,) = self._db.conn.execute(
            "SELECT count(*) FROM symbols AS s WHERE path = ? AND qualname = ? "
            f"AND NOT {_OVERLOAD}",
            (path, qualname),
        ).fetchone()
        return int(count)

    @guarded
    def top_level_spans(self, path: str) -> list[tuple[int, int]]:
        """The first and last lines of each module-level function and class of ``path``."""
        cursor = self._db.conn.execute(
            "SELECT line, end_line FROM symbols WHERE path = ? AND parent IS NULL ORDER BY line",
            (path,),
        )
        return [(first, last) for first, last in cursor]

    @guarded
    def class_bases(self, path: str, qualname: str) -> tuple[str, ...] | None:
        """The bases of a class of ``path`` as written; None if ``path`` has no such class."""
        row = self._db.conn.execute(
            "SELECT bases FROM symbols WHERE path = ? AND qualname = ? AND kind = 'class' "
            "ORDER BY line LIMIT 1",
            (path, qualname),
        ).fetchone()
        return tuple(json.loads(row[0])) if row else None

    @guarded
    def imports_of(self, path: str) -> list[Import]:
        """The names the imports of ``path`` bind, in file order."""
        cursor = self._db.conn.execute(
            'SELECT module, name, bound, line, "column", level, resolved FROM imports '
            'WHERE path = ? ORDER BY line, "column", id',
            (path,),
        )
        return [
            Import(module, name, bound, line, column, level, bool(resolved))
            for module, name, bound, line, column, level, resolved in cursor
        ]

    # --- calls and modules -----------------------------------------------------------------

    @guarded
    def call_count(self, name: str) -> int:
        """How many calls of ``name`` (as ``name(...)`` or ``x.name(...)``) the index holds."""
        (count,) = self._db.conn.execute(
            "SELECT coalesce(sum(count), 0) FROM calls WHERE name = ?", (name,)
        ).fetchone()
        return int(count)

    @guarded
    def files_calling(self, name: str, limit: int = 20, tier: Tier | None = None) -> list[str]:
        """Indexed files calling ``name`` (``name(...)`` or ``x.name(...)``), most calls first.

        With ``tier``, only the files of that tier (the workspace's tests).
        """
        if tier is None:
            cursor = self._db.conn.execute(
                "SELECT path FROM calls WHERE name = ? ORDER BY count DESC, path LIMIT ?",
                (name, limit),
            )
        else:
            cursor = self._db.conn.execute(
                "SELECT c.path FROM calls AS c JOIN code_index AS i ON i.path = c.path "
                "WHERE c.name = ? AND i.tier = ? ORDER BY c.count DESC, c.path LIMIT ?",
                (name, tier.value, limit),
            )
        return [path for (path,) in cursor]

    @guarded
    def files_importing(self, modules: Sequence[str], tier: Tier, limit: int = 50) -> list[str]:
        """Indexed files of ``tier`` that import one of ``modules`` (or a name from one)."""
        if not modules:
            return []
        marks = ", ".join("?" for _ in modules)
        cursor = self._db.conn.execute(
            "SELECT DISTINCT m.path FROM imports AS m JOIN code_index AS i ON i.path = m.path "
            f"WHERE m.module IN ({marks}) AND i.tier = ? ORDER BY m.path LIMIT ?",
            (*modules, tier.value, limit),
        )
        return [path for (path,) in cursor]

    @guarded
    def files_binding_attribute(self, name: str) -> list[str]:
        """Indexed files that may assign or delete an attribute ``name`` of any object.

        A file that calls ``setattr`` with a name it computes may bind any.
        """
        cursor = self._db.conn.execute(
            "SELECT DISTINCT path FROM attribute_bindings WHERE name IN (?, '*') ORDER BY path",
            (name,),
        )
        return [path for (path,) in cursor]

    @guarded
    def module_file(self, module: str) -> tuple[str, str] | None:
        """The indexed file of a module, with its tier, if the workspace has it."""
        row = self._db.conn.execute(
            "SELECT path, tier FROM code_index WHERE module = ? ORDER BY length(path) LIMIT 1",
            (module,),
        ).fetchone()
        return (row[0], row[1]) if row else None

    @guarded
    def module_edges(self) -> list[tuple[str, str]]:
        """The workspace's import graph: sorted, distinct (importer, imported) module pairs.

        An import points at the longest indexed module that prefixes its
        target: ``from a.b import c`` is an edge to ``a.b.c`` when that is a
        module of the workspace, else to ``a.b``, else to ``a``. Imports of
        modules outside the workspace make no edge. A file no import can name
        (a script, ``bin/run-me.py``) imports by its path.
        """
        conn = self._db.conn
        modules = {m for (m,) in conn.execute("SELECT DISTINCT module FROM code_index") if m}
        cursor = conn.execute(
            "SELECT DISTINCT CASE WHEN c.module != '' THEN c.module ELSE c.path END, "
            "i.module, i.name FROM imports AS i "
            "JOIN code_index AS c ON c.path = i.path WHERE i.resolved"
        )
        edges: set[tuple[str, str]] = set()
        for importer, module, name in cursor:
            imported = _longest_indexed(module, name, modules)
            if imported is not None and imported != importer:
                edges.add((importer, imported))
        return sorted(edges)

    # --- figures ---------------------------------------------------------------------------

    @guarded
    def totals(self, scopes: Sequence[str] | None = None) -> Totals:
        """Files, lines, symbols and mean function complexity under ``scopes`` (all by default)."""
        conn = self._db.conn
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

    @guarded
    def counts(self) -> IndexCounts:
        """How many files, symbols, imports and violations the whole index holds."""
        conn = self._db.conn
        return IndexCounts(
            *(
                int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in ("code_index", "symbols", "imports", "violations")
            )
        )


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


def _longest_indexed(module: str, name: str | None, modules: set[str]) -> str | None:
    target = module if name is None or name == "*" else f"{module}.{name}" if module else name
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None
