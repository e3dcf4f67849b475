"""Hover: what ARK knows of the function, class or import under the cursor.

A definition is found in the document's own report; a call site is
resolved by jedi, then looked up in the index (or, outside the workspace,
in a report of the file it lives in).
"""

from __future__ import annotations

import builtins
import functools
import logging
import re
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from ark_lsp.analysis import analyze
from ark_lsp.models import Import, Span, Symbol
from ark_lsp.rules import import_is_forbidden
from ark_lsp.server.convert import lsp_hover, server_position
from ark_lsp.server.core import ArkServer, Feature
from ark_lsp.server.documents import Snapshot
from ark_lsp.server.folders import FolderState
from ark_lsp.store import PerformanceRecord, QualityRow, SymbolRecord
from ark_lsp.workflows.gate_reports import function_quality

if TYPE_CHECKING:
    import jedi

logger = logging.getLogger(__name__)

_IDENTIFIER = re.compile(r"\w+")
OUTSIDE = "outside the workspace"


@dataclass(frozen=True)
class SymbolFacts:
    """What a hover says about a function, method or class."""

    kind: str
    qualname: str
    signature: str | None
    docstring: str | None
    complexity: int
    rank: str
    lines: int
    tier: str
    location: str
    callers: int | None = None
    last_run: PerformanceRecord | None = None
    quality: QualityRow | None = None
    """What the latest gate run that measured the function found of its tests."""

    @classmethod
    def of_symbol(cls, symbol: Symbol, tier: str, location: str) -> SymbolFacts:
        """Facts from a symbol of a fresh report."""
        return cls(
            kind=symbol.kind.value,
            qualname=symbol.qualname,
            signature=symbol.signature.render() if symbol.signature else None,
            docstring=symbol.docstring,
            complexity=symbol.complexity,
            rank=symbol.rank,
            lines=symbol.lines,
            tier=tier,
            location=location,
        )

    @classmethod
    def of_record(cls, record: SymbolRecord) -> SymbolFacts:
        """Facts from the index."""
        return cls(
            kind=record.kind,
            qualname=record.qualname,
            signature=record.signature,
            docstring=record.docstring,
            complexity=record.complexity,
            rank=record.rank,
            lines=record.end_line - record.line + 1,
            tier=record.tier,
            location=f"{record.path}:{record.line}",
        )


def _first_line(docstring: str | None) -> str | None:
    if not docstring:
        return None
    return next((line.strip() for line in docstring.splitlines() if line.strip()), None)


def _declaration(facts: SymbolFacts) -> str:
    keyword = "class" if facts.kind == "class" else "def"
    return f"{keyword} {facts.qualname}{facts.signature or ('' if keyword == 'class' else '()')}"


def render_symbol(facts: SymbolFacts, markdown: bool) -> str:
    """The hover text for a symbol."""
    summary = [
        f"complexity {facts.complexity} ({facts.rank})",
        f"{facts.lines} lines",
        f"tier {facts.tier}",
    ]
    if facts.callers is not None:
        summary.append(f"called from {facts.callers} place{'s' * (facts.callers != 1)}")
    parts = [f"```python\n{_declaration(facts)}\n```" if markdown else _declaration(facts)]
    first_line = _first_line(facts.docstring)
    if first_line:
        parts.append(first_line)
    parts.append(" · ".join(summary))
    if facts.last_run is not None:
        run = facts.last_run
        parts.append(
            f"last sandbox run: {run.last_outcome} ({run.passed} of {run.runs} runs passed)"
        )
    if facts.quality is not None:
        parts.append(render_quality(facts.quality))
    parts.append(facts.location)
    return "\n\n".join(parts)


def render_quality(row: QualityRow) -> str:
    """A function's coverage and mutation score, and which gate run measured them."""
    figures = []
    if row.coverage is not None:
        figures.append(f"coverage {row.coverage:.0%} of its changed lines")
    if row.mutation_score is not None:
        killed = f" ({row.mutants_killed} of {row.mutants} mutants killed)" if row.mutants else ""
        figures.append(f"mutation score {row.mutation_score:.0%}{killed}")
    when = row.created_at[:16].replace("T", " ")
    judged = f"change {row.change_id[:12]}" if row.change_id else row.subject
    return f"{' · '.join(figures)} (quality gate on {judged}, {when} UTC)"


def render_import(
    item: Import, module_file: tuple[str, str] | None, forbidden_by: str | None, own_tier: str
) -> str:
    """The hover text for an import."""
    where = f"`{module_file[0]}`, tier {module_file[1]}" if module_file else OUTSIDE
    lines = [f"module `{item.target}` — {where}"]
    if forbidden_by:
        lines.append(f"forbidden in this file's tier ({own_tier}): `{forbidden_by}` (ARK010)")
    else:
        lines.append(f"allowed in this file's tier ({own_tier})")
    return "\n\n".join(lines)


def _word_at(line_text: str, column: int) -> tuple[str, int] | None:
    for match in _IDENTIFIER.finditer(line_text):
        if match.start() <= column <= match.end():
            return match.group(), match.start()
    return None


def _definition_at(snapshot: Snapshot, line: int, column: int) -> Symbol | None:
    for symbol in snapshot.report.symbols:
        start = symbol.name_span
        if start.line == line and start.column <= column <= start.column + len(symbol.name):
            return symbol
    return None


def _import_at(snapshot: Snapshot, line: int, word: str) -> Import | None:
    for item in snapshot.report.imports:
        if item.line == line and (item.bound == word or word in item.target.split(".")):
            return item
    return None


def _is_builtin(snapshot: Snapshot, word: str) -> bool:
    """Whether a name means the builtin: defined in ``builtins`` and not bound by this file."""
    if not hasattr(builtins, word):
        return False
    bound = {s.name for s in snapshot.report.symbols} | {i.bound for i in snapshot.report.imports}
    return word not in bound


LIBRARY_FOLDERS = tuple(
    Path(folder)
    for kind in ("stdlib", "platstdlib", "purelib", "platlib")
    if (folder := sysconfig.get_paths().get(kind))
)
"""The interpreter's own libraries: a call into them is hovered from their files too."""


@functools.lru_cache(maxsize=64)
def _report_of_file(path: Path, mtime_ns: int, read: Callable[[Path], bytes]) -> tuple[Symbol, ...]:
    del mtime_ns  # part of the cache key: a changed file is read again
    try:
        return analyze(read(path), path.name).symbols
    except OSError:
        return ()


class Hovers(Feature):
    """Builds hovers; keeps one jedi project per workspace folder."""

    def __init__(self, server: ArkServer) -> None:
        super().__init__(server)
        self._jedi_projects: dict[Path, jedi.Project] = {}

    def register(self) -> None:
        """Answer hover requests."""

        @self.server.feature(types.TEXT_DOCUMENT_HOVER)
        def hover(ls: ArkServer, params: types.HoverParams) -> types.Hover | None:
            snapshot = ls.documents.latest(params.text_document.uri)
            if snapshot is None:
                return None
            return self.hover(snapshot, params.position)

    def hover(self, snapshot: Snapshot, position: types.Position) -> types.Hover | None:
        """The hover at a position of a document, if ARK has something to say."""
        line, column = server_position(snapshot.document, position)
        lines = snapshot.document.lines
        if not 1 <= line <= len(lines):
            return None
        found = _word_at(lines[line - 1], column)
        if found is None:
            return None
        word, start = found
        text = self._describe(snapshot, line, column, word, start)
        if text is None:
            return None
        span = Span(line, start, line, start + len(word))
        return lsp_hover(snapshot.document, span, text, self.server.client_support.markdown_hover)

    def _describe(
        self, snapshot: Snapshot, line: int, column: int, word: str, start: int
    ) -> str | None:
        markdown = self.server.client_support.markdown_hover
        folder = snapshot.folder
        symbol = _definition_at(snapshot, line, column)
        if symbol is not None:
            facts = SymbolFacts.of_symbol(
                symbol, snapshot.report.tier.value, f"{snapshot.relative}:{symbol.span.line}"
            )
            return render_symbol(self._with_index_facts(facts, folder, snapshot.relative), markdown)
        item = _import_at(snapshot, line, word)
        if item is not None:
            return self._describe_import(snapshot, item)
        if _is_builtin(snapshot, word):
            return None  # ARK knows nothing of builtins worth a hover: no tier, no complexity
        called = self._resolve_by_name(snapshot, line, start, word) or self._resolve_call(
            snapshot, line, column
        )
        return render_symbol(called, markdown) if called is not None else None

    def _resolve_by_name(
        self, snapshot: Snapshot, line: int, start: int, word: str
    ) -> SymbolFacts | None:
        """A plain call of a function or class this file defines or imports, without jedi.

        Most calls in a file are of such names, and jedi's inference costs
        10 to 20 ms a hover. A local variable shadowing a module-level name
        is the case this misses (it then shows the module-level one).
        """
        text = snapshot.document.lines[line - 1]
        called = text[start + len(word) :].lstrip().startswith("(")
        if text[:start].rstrip().endswith(".") or not called:
            return None
        folder = snapshot.folder
        defined = [s for s in snapshot.report.symbols if s.qualname == word and s.parent is None]
        if len(defined) == 1:
            facts = SymbolFacts.of_symbol(
                defined[0],
                snapshot.report.tier.value,
                f"{snapshot.relative}:{defined[0].span.line}",
            )
            return self._with_index_facts(facts, folder, snapshot.relative)
        imported = [i for i in snapshot.report.imports if i.bound == word and i.name]
        store = folder.reader() if folder else None
        if len(imported) != 1 or store is None or folder is None:
            return None
        module_file = store.index.module_file(imported[0].module)
        if module_file is None:
            return None
        name = imported[0].name
        records = [
            r for r in store.index.symbols(path_prefixes=[module_file[0]]) if r.qualname == name
        ]
        if len(records) != 1:
            return None
        return self._with_index_facts(SymbolFacts.of_record(records[0]), folder, module_file[0])

    def _describe_import(self, snapshot: Snapshot, item: Import) -> str:
        folder = snapshot.folder
        store = folder.reader() if folder else None
        module_file = None
        if store is not None:
            index = store.index
            module_file = index.module_file(item.target) or index.module_file(item.module)
        tier = snapshot.report.tier
        forbidden = snapshot.settings.ruleset.forbidden_imports.get(tier, ())
        for candidate in (item.target, item.module):
            forbidden_by = import_is_forbidden(candidate, forbidden)
            if forbidden_by:
                break
        return render_import(item, module_file, forbidden_by, tier.value)

    def _with_index_facts(
        self, facts: SymbolFacts, folder: FolderState | None, relative: str
    ) -> SymbolFacts:
        store = folder.reader() if folder else None
        if store is None:
            return facts
        name = facts.qualname.rsplit(".", 1)[-1]
        is_function = facts.kind != "class"
        return replace(
            facts,
            callers=store.index.call_count(name),
            last_run=store.runs.performance(relative, facts.qualname),
            quality=function_quality(store, relative, facts.qualname) if is_function else None,
        )

    def _resolve_call(self, snapshot: Snapshot, line: int, column: int) -> SymbolFacts | None:
        import jedi  # imported on first use: it costs the server's start-up 50 ms

        path = snapshot.path
        folder = snapshot.folder
        try:
            script = jedi.Script(
                snapshot.document.source,
                path=path,
                project=self._jedi_project(folder.root) if folder else None,
            )
            definitions = script.goto(line, column, follow_imports=True)
        except Exception:  # jedi's inference can fail on half-typed code; no hover then
            logger.debug(
                "jedi could not resolve %s:%s:%s", snapshot.uri, line, column, exc_info=True
            )
            return None
        for definition in definitions:
            if definition.type not in ("function", "class") or definition.line is None:
                continue
            facts = self._facts_at(
                snapshot, definition.module_path, definition.line, definition.name
            )
            if facts is not None:
                return facts
        return None

    def _facts_at(
        self, snapshot: Snapshot, module_path: Path | None, line: int, name: str
    ) -> SymbolFacts | None:
        folder = snapshot.folder
        if module_path is None or (snapshot.path is not None and module_path == snapshot.path):
            for symbol in snapshot.report.symbols:
                if symbol.name == name and symbol.name_span.line == line:
                    facts = SymbolFacts.of_symbol(
                        symbol,
                        snapshot.report.tier.value,
                        f"{snapshot.relative}:{symbol.span.line}",
                    )
                    return self._with_index_facts(facts, folder, snapshot.relative)
            return None
        if folder is not None and module_path.is_relative_to(folder.root):
            relative = folder.relative(module_path)
            store = folder.reader()
            record = store.index.symbol_named_at(relative, line, name) if store else None
            if record is not None:
                return self._with_index_facts(SymbolFacts.of_record(record), folder, relative)
        try:
            mtime = module_path.stat().st_mtime_ns
        except OSError:
            return None
        for symbol in _report_of_file(module_path, mtime, self._read_module):
            if symbol.name == name and symbol.name_span.line == line:
                return SymbolFacts.of_symbol(symbol, OUTSIDE, f"{module_path}:{symbol.span.line}")
        return None

    def _read_module(self, path: Path) -> bytes:
        return self.server.documents.read_disk(path, also_within=LIBRARY_FOLDERS)

    def _jedi_project(self, root: Path) -> jedi.Project:
        import jedi

        if root not in self._jedi_projects:
            self._jedi_projects[root] = jedi.Project(path=root)
        return self._jedi_projects[root]
