"""Turning analysis results into rows, as plain tuples for ``executemany``.

This is the indexer's write path: thousands of files, tens of thousands of
symbols per batch, so rows are built as tuples in generator expressions with
no per-row dicts or attribute lookups that can be hoisted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ark_lsp.models import IndexedFile, Signature
from ark_lsp.store.schema import SEARCH_COLUMNS
from ark_lsp.store.search_text import name_words

_SEARCHED = ", ".join(SEARCH_COLUMNS)
SEARCH_FORGET = (
    f"INSERT INTO symbols_fts (symbols_fts, rowid, {_SEARCHED}) "
    f"SELECT 'delete', id, {_SEARCHED} FROM symbols "
    "WHERE path IN (SELECT value FROM json_each(?))"
)
"""Take the symbols of the files in a JSON list out of the search index."""
SEARCH_ADD = (
    f"INSERT INTO symbols_fts (rowid, {_SEARCHED}) SELECT id, {_SEARCHED} FROM symbols WHERE id > ?"
)
"""Put the symbols inserted after a given id into the search index."""
FILES_DELETE = "DELETE FROM code_index WHERE path IN (SELECT value FROM json_each(?))"
"""Delete the files in a JSON list; their other rows go by ``ON DELETE CASCADE``."""

CODE_INDEX_INSERT = (
    "INSERT INTO code_index (path, module, tier, size, mtime_ns, sha256, lines_total, "
    "lines_code, lines_comment, lines_blank, parsed, encoding, indexed_at, analysis_key) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SYMBOLS_INSERT = (
    'INSERT INTO symbols (path, name, qualname, kind, is_async, line, "column", end_line, '
    "end_column, name_line, name_column, signature, parameters, returns, bases, decorators, "
    "docstring, complexity, rank, lines, parent, name_words) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
IMPORTS_INSERT = (
    'INSERT INTO imports (path, module, name, bound, line, "column", level, resolved) '
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
VIOLATIONS_INSERT = (
    'INSERT INTO violations (path, rule, severity, message, line, "column", end_line, '
    "end_column) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)

CALLS_INSERT = "INSERT INTO calls (path, name, count) VALUES (?, ?, ?)"
ATTRIBUTE_BINDINGS_INSERT = "INSERT INTO attribute_bindings (path, name) VALUES (?, ?)"

Row = tuple[object, ...]


def _json_list(items: Sequence[str]) -> str:
    return json.dumps(list(items)) if items else "[]"


def _parameters_json(signature: Signature) -> str:
    return json.dumps(
        [
            {"name": p.name, "kind": p.kind.value, "annotation": p.annotation, "default": p.default}
            for p in signature.parameters
        ]
    )


def _signature_columns(
    signature: Signature | None, cache: dict[str, str]
) -> tuple[str | None, str | None, str | None]:
    """The rendered signature, its parameters as JSON, and its return annotation."""
    if signature is None:
        return None, None, None
    rendered = signature.render()
    # Most signatures recur (``(self)``, ``(self, other)``...), and the text
    # spells out every name, kind, annotation and default, so it is a safe key.
    parameters = cache.get(rendered)
    if parameters is None:
        parameters = cache[rendered] = _parameters_json(signature)
    return rendered, parameters, signature.returns


def code_index_rows(
    files: Sequence[IndexedFile], indexed_at: str, analysis_key: str
) -> Iterator[Row]:
    """One ``code_index`` row per file."""
    for file in files:
        report, state, lines = file.report, file.state, file.report.lines
        yield (
            file.path,
            report.module,
            report.tier.value,
            state.size,
            state.mtime_ns,
            state.sha256,
            lines.total,
            lines.code,
            lines.comment,
            lines.blank,
            report.parsed,
            report.encoding,
            indexed_at,
            analysis_key,
        )


def symbol_rows(files: Sequence[IndexedFile]) -> Iterator[Row]:
    """One ``symbols`` row per symbol of every file."""
    cache: dict[str, str] = {}
    # Bases and decorators recur even more (none, ``(models.Model)``, ``@property``).
    lists: dict[tuple[str, ...], str] = {(): "[]"}
    for file in files:
        path = file.path
        for symbol in file.report.symbols:
            span, name_span = symbol.span, symbol.name_span
            rendered, parameters, returns = _signature_columns(symbol.signature, cache)
            bases, decorators = symbol.bases, symbol.decorators
            bases_json = lists.get(bases)
            if bases_json is None:
                bases_json = lists[bases] = _json_list(bases)
            decorators_json = lists.get(decorators)
            if decorators_json is None:
                decorators_json = lists[decorators] = _json_list(decorators)
            yield (
                path,
                symbol.name,
                symbol.qualname,
                symbol.kind.value,
                symbol.is_async,
                span.line,
                span.column,
                span.end_line,
                span.end_column,
                name_span.line,
                name_span.column,
                rendered,
                parameters,
                returns,
                bases_json,
                decorators_json,
                symbol.docstring,
                symbol.complexity,
                symbol.rank,
                span.end_line - span.line + 1,
                symbol.parent,
                name_words(symbol.name),
            )


def import_rows(files: Sequence[IndexedFile]) -> Iterator[Row]:
    """One ``imports`` row per bound name of every file."""
    for file in files:
        path = file.path
        for item in file.report.imports:
            yield (
                path,
                item.module,
                item.name,
                item.bound,
                item.line,
                item.column,
                item.level,
                item.resolved,
            )


def violation_rows(files: Sequence[IndexedFile]) -> Iterator[Row]:
    """One ``violations`` row per violation of every file."""
    for file in files:
        path = file.path
        for violation in file.report.violations:
            span = violation.span
            yield (
                path,
                violation.rule,
                violation.severity.value,
                violation.message,
                span.line,
                span.column,
                span.end_line,
                span.end_column,
            )


def call_rows(files: Sequence[IndexedFile]) -> Iterator[Row]:
    """One ``calls`` row per callee name of every file."""
    for file in files:
        path = file.path
        for name, count in file.report.called:
            yield (path, name, count)


def attribute_binding_rows(files: Sequence[IndexedFile]) -> Iterator[Row]:
    """One ``attribute_bindings`` row per attribute name every file assigns or deletes."""
    for file in files:
        path = file.path
        for name in file.report.bound_attributes:
            yield (path, name)


@dataclass
class RowBatch:
    """Rows of several files, ready for :meth:`CodeIndexRepository.write_rows`.

    Plain tuples pickle several times faster than the dataclasses they come
    from, so index workers send these, not reports, to the writing process.
    """

    paths: list[str] = field(default_factory=list)
    code_index: list[Row] = field(default_factory=list)
    symbols: list[Row] = field(default_factory=list)
    imports: list[Row] = field(default_factory=list)
    violations: list[Row] = field(default_factory=list)
    calls: list[Row] = field(default_factory=list)
    attribute_bindings: list[Row] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)

    def extend(self, other: RowBatch) -> None:
        """Append another batch's rows to this one."""
        self.paths += other.paths
        self.code_index += other.code_index
        self.symbols += other.symbols
        self.imports += other.imports
        self.violations += other.violations
        self.calls += other.calls
        self.attribute_bindings += other.attribute_bindings


def prepare_rows(files: Sequence[IndexedFile], indexed_at: str, analysis_key: str = "") -> RowBatch:
    """Every row of ``files``; a path given twice keeps its last version."""
    latest = list({file.path: file for file in files}.values())
    return RowBatch(
        paths=[file.path for file in latest],
        code_index=list(code_index_rows(latest, indexed_at, analysis_key)),
        symbols=list(symbol_rows(latest)),
        imports=list(import_rows(latest)),
        violations=list(violation_rows(latest)),
        calls=list(call_rows(latest)),
        attribute_bindings=list(attribute_binding_rows(latest)),
    )
