"""Hover: what ARK knows of the function, class or import under the cursor.

A definition is found in the document's own report. A call site is
resolved from what ARK already knows (:mod:`ark_lsp.workflows.definitions`:
the report and the index, class hierarchies included); only what that
cannot decide is asked of jedi, which runs in a thread of its own, started
by the first question it is asked, and is waited for no longer than its
budget (:mod:`ark_lsp.workflows.jedi_definitions`). This module renders.

What resolves a call site (the workflows above, the references, the
interpreter's library folders) is imported by the first hover, or in the
background once the first diagnostics are out: a start does not wait for it.
"""

from __future__ import annotations

import builtins
import functools
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from ark_lsp.models import Import, Span, Symbol
from ark_lsp.rules import import_is_forbidden
from ark_lsp.server.convert import lsp_hover, server_position
from ark_lsp.server.core import ArkServer, Feature
from ark_lsp.server.documents import Snapshot
from ark_lsp.server.folders import FolderState
from ark_lsp.server.protocol import ArkProtocol
from ark_lsp.store import PerformanceRecord, QualityRow, StoreError, SymbolRecord
from ark_lsp.workflows.gate_reports import function_quality

if TYPE_CHECKING:
    from ark_lsp.workflows.background import Quiet
    from ark_lsp.workflows.definitions import Definition
    from ark_lsp.workflows.jedi_definitions import JediDefinitions
    from ark_lsp.workflows.library_modules import LibraryModules
    from ark_lsp.workspace import IndexFigures

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
    overloads: int = 0
    """How many ``@overload`` declarations its name has (hover shows their implementation)."""

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
    if facts.overloads:
        summary.append(f"{facts.overloads} overload{'s' * (facts.overloads != 1)}")
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
    item: Import,
    module_file: tuple[str, str] | None,
    forbidden_by: str | None,
    own_tier: str,
    *,
    is_module: bool,
) -> str:
    """The hover text for an import: what it names, where, and whether the tier allows it.

    ``is_module``: the name imported is a module (``from pkg import parser``).
    """
    where = f"`{module_file[0]}`, tier {module_file[1]}" if module_file else OUTSIDE
    if is_module or item.name is None:
        lines = [f"module `{item.target}` — {where}"]
    else:
        lines = [f"`{item.name}` from module `{item.module}` — {where}"]
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


def _overloads(symbols: Sequence[Symbol], qualname: str) -> int:
    """How many ``@overload`` declarations of ``qualname`` a module's symbols hold."""
    return sum(1 for symbol in symbols if symbol.qualname == qualname and symbol.is_overload)


def _implementation(symbols: Sequence[Symbol], symbol: Symbol) -> Symbol:
    """The implementation an ``@overload`` declaration stands for; any other symbol itself."""
    if not symbol.is_overload:
        return symbol
    for other in symbols:
        if other.qualname == symbol.qualname and not other.is_overload:
            return other
    return symbol  # a stub file's overloads: no implementation to show


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


@functools.cache
def library_folders() -> tuple[Path, ...]:
    """The interpreter's own libraries: a call into them is hovered from their files too."""
    import sysconfig

    return tuple(
        Path(folder)
        for kind in ("stdlib", "platstdlib", "purelib", "platlib")
        if (folder := sysconfig.get_paths().get(kind))
    )


@functools.lru_cache(maxsize=64)
def _lines_of_file(
    path: Path, mtime_ns: int, read: Callable[[Path], bytes]
) -> tuple[str, ...] | None:
    del mtime_ns  # part of the cache key: a changed file is read again
    try:
        return tuple(read(path).decode("utf-8", "replace").splitlines())
    except OSError:
        return None


class Hovers(Feature):
    """Builds hovers; asks jedi, in its own thread, only what the index cannot answer."""

    deferred_imports = (
        "sysconfig",
        "ark_lsp.analysis.references",
        "ark_lsp.workflows.definitions",
        "ark_lsp.workflows.jedi_definitions",
        "ark_lsp.workflows.library_modules",
    )

    def __init__(self, server: ArkServer) -> None:
        super().__init__(server)
        self._prefetched: set[str] = set()
        """Documents whose imported library modules were asked for ahead."""

    @functools.cached_property
    def quiet(self) -> Quiet:
        """When requests and typing pause, which jedi and the library modules' work wait for."""
        from ark_lsp.workflows.background import Quiet

        server = self.server
        return Quiet(typing_pause=lambda: server.documents.typing_pause_begins())

    @functools.cached_property
    def jedi(self) -> JediDefinitions:
        """jedi, asked in its own thread (made by the first hover that needs it)."""
        from ark_lsp.workflows.jedi_definitions import JediDefinitions

        # jedi's start and its background answers hold the interpreter: not while the user types.
        return JediDefinitions(quiet=self.quiet)

    @functools.cached_property
    def library(self) -> LibraryModules:
        """The reports of the interpreter's library modules, made in their own thread."""
        from ark_lsp.workflows.library_modules import LibraryModules

        return LibraryModules(library_folders(), self._read_module, self.quiet)

    def register(self) -> None:
        """Answer hover requests."""

        @self.server.feature(types.TEXT_DOCUMENT_HOVER)
        def hover(ls: ArkServer, params: types.HoverParams) -> types.Hover | None:
            snapshot = ls.documents.latest(params.text_document.uri)
            if snapshot is None:
                return None
            return self.hover(snapshot, params.position)

    async def initialized(self) -> None:
        """Make the hover messages' converters, so that the first hover finds them made."""
        protocol = self.server.protocol
        if isinstance(protocol, ArkProtocol):  # the first hover finds its converters made
            at = types.Position(line=0, character=0)
            protocol.rehearse(
                types.HoverRequest(
                    id=0,
                    params=types.HoverParams(types.TextDocumentIdentifier(uri="file:///"), at),
                ),
                types.HoverResponse(
                    id=0,
                    result=types.Hover(
                        types.MarkupContent(types.MarkupKind.Markdown, ""), types.Range(at, at)
                    ),
                ),
            )

    def indexed(self, folder: FolderState, figures: IndexFigures) -> None:
        """Open the folder's query connection now, so that the first hover does not."""
        store = folder.reader()
        try:
            if store is not None:  # the first queries read the schema and the first pages
                store.index.call_count("")
                store.runs.performance("", "")
                function_quality(store, "", "")
        except StoreError as error:
            logger.debug("index of %s not warmed: %s", folder.root, error)

    def stop(self) -> None:
        """Let jedi's thread and the library modules' end (those that were started)."""
        if "jedi" in self.__dict__:
            self.jedi.close()
        if "library" in self.__dict__:
            self.library.close()

    def hover(self, snapshot: Snapshot, position: types.Position) -> types.Hover | None:
        """The hover at a position of a document, if ARK has something to say."""
        self.quiet.request_began()
        # jedi's budget is the hover's: what the index took of it, jedi is not waited for.
        deadline = time.monotonic() + self.jedi.budget_s
        line, column = server_position(snapshot.document, position)
        lines = snapshot.document.lines
        if not 1 <= line <= len(lines):
            return None
        found = _word_at(lines[line - 1], column)
        if found is None:
            return None
        word, start = found
        text = self._describe(snapshot, line, column, word, start, deadline)
        if text is None:
            return None
        span = Span(line, start, line, start + len(word))
        return lsp_hover(snapshot.document, span, text, self.server.client_support.markdown_hover)

    def _describe(
        self, snapshot: Snapshot, line: int, column: int, word: str, start: int, deadline: float
    ) -> str | None:
        markdown = self.server.client_support.markdown_hover
        folder = snapshot.folder
        symbol = _definition_at(snapshot, line, column)
        if symbol is not None:
            facts = SymbolFacts.of_symbol(
                symbol, snapshot.report.tier.value, f"{snapshot.relative}:{symbol.span.line}"
            )
            facts = replace(facts, overloads=_overloads(snapshot.report.symbols, symbol.qualname))
            return render_symbol(self._with_index_facts(facts, folder, snapshot.relative), markdown)
        item = _import_at(snapshot, line, word)
        if item is not None:
            return self._describe_import(snapshot, item)
        called = self._resolve(snapshot, line, column, start, deadline)
        return render_symbol(called, markdown) if called is not None else None

    def _resolve(
        self, snapshot: Snapshot, line: int, column: int, start: int, deadline: float
    ) -> SymbolFacts | None:
        """The function or class used at a place: from the index, else from jedi in time."""
        from ark_lsp.analysis.references import reference_at
        from ark_lsp.workflows.definitions import Definition, DefinitionFinder, Outcome

        reference = reference_at(snapshot.report, snapshot.document.lines[line - 1], line, start)
        if reference is None:
            return None
        if reference.receiver is None and _is_builtin(snapshot, reference.name):
            return None  # ARK knows nothing of builtins worth a hover: no tier, no complexity
        folder = snapshot.folder
        index = store.index if folder and (store := folder.reader()) else None
        finder = DefinitionFinder(
            snapshot.report,
            snapshot.relative,
            index,
            self.library.report,
            lines=snapshot.document.lines,
            read=functools.partial(self._workspace_lines, folder.root) if folder else None,
        )
        if snapshot.uri not in self._prefetched:
            self._prefetched.add(snapshot.uri)
            # The library's modules the document imports (the workspace's are the index's).
            imported = {i.module for i in snapshot.report.imports if i.module and i.resolved}
            self.library.prepare(
                (m for m in imported if index is None or index.module_file(m) is None), ahead=True
            )
        try:
            found: Definition | Outcome = finder.find(reference, line)
        except StoreError as error:  # a locked or damaged index: as if it knew nothing
            logger.debug("index unavailable for a hover: %s", error)
            found = Outcome.UNKNOWN
        if isinstance(found, Definition):
            return self._facts_of(snapshot, found)
        if found is Outcome.ABSENT:
            return None
        return self._resolve_by_jedi(snapshot, line, column, deadline)

    def _facts_of(self, snapshot: Snapshot, found: Definition) -> SymbolFacts:
        folder = snapshot.folder
        if found.external and found.symbol is not None:
            facts = SymbolFacts.of_symbol(
                found.symbol, OUTSIDE, f"{found.path}:{found.symbol.span.line}"
            )
            return replace(facts, overloads=found.overloads)
        if found.symbol is not None:
            facts = SymbolFacts.of_symbol(
                found.symbol, snapshot.report.tier.value, f"{found.path}:{found.symbol.span.line}"
            )
        else:
            assert found.record is not None
            facts = SymbolFacts.of_record(found.record)
        facts = replace(facts, overloads=found.overloads)
        return self._with_index_facts(facts, folder, found.path)

    def _describe_import(self, snapshot: Snapshot, item: Import) -> str:
        folder = snapshot.folder
        store = folder.reader() if folder else None
        module_file = None
        is_module = False
        if store is not None:
            index = store.index
            module_file = index.module_file(item.target)
            is_module = module_file is not None
            module_file = module_file or index.module_file(item.module)
        tier = snapshot.report.tier
        forbidden = snapshot.settings.ruleset.forbidden_imports.get(tier, ())
        for candidate in (item.target, item.module):
            forbidden_by = import_is_forbidden(candidate, forbidden)
            if forbidden_by:
                break
        return render_import(item, module_file, forbidden_by, tier.value, is_module=is_module)

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

    def _resolve_by_jedi(
        self, snapshot: Snapshot, line: int, column: int, deadline: float
    ) -> SymbolFacts | None:
        from ark_lsp.workflows.jedi_definitions import JediQuestion

        folder = snapshot.folder
        question = JediQuestion(
            snapshot.document.source, snapshot.path, folder.root if folder else None, line, column
        )
        key = (snapshot.uri, snapshot.version, line, column)
        places = self.jedi.definitions(key, question, budget_s=deadline - time.monotonic())
        for place in places or ():
            facts = self._facts_at(snapshot, place.module_path, place.line, place.name)
            if facts is not None:
                return facts
        return None

    def _facts_at(
        self, snapshot: Snapshot, module_path: Path | None, line: int, name: str
    ) -> SymbolFacts | None:
        folder = snapshot.folder
        if module_path is None or (snapshot.path is not None and module_path == snapshot.path):
            symbols = snapshot.report.symbols
            for symbol in symbols:
                if symbol.name == name and symbol.name_span.line == line:
                    symbol = _implementation(symbols, symbol)
                    facts = SymbolFacts.of_symbol(
                        symbol,
                        snapshot.report.tier.value,
                        f"{snapshot.relative}:{symbol.span.line}",
                    )
                    facts = replace(facts, overloads=_overloads(symbols, symbol.qualname))
                    return self._with_index_facts(facts, folder, snapshot.relative)
            return None
        if folder is not None and module_path.is_relative_to(folder.root):
            relative = folder.relative(module_path)
            store = folder.reader()
            record = store.index.symbol_named_at(relative, line, name) if store else None
            if store is not None and record is not None:
                facts = replace(
                    SymbolFacts.of_record(record),
                    overloads=store.index.overloads_of(relative, record.qualname),
                )
                return self._with_index_facts(facts, folder, relative)
        # Analysing a library file (typeshed's builtins.pyi) takes longer than a hover may:
        # it is made in the background, and this place answered the next time.
        report = self.library.file_report(module_path)
        symbols = report.symbols if report is not None else ()
        for symbol in symbols:
            if symbol.name == name and symbol.name_span.line == line:
                symbol = _implementation(symbols, symbol)
                facts = SymbolFacts.of_symbol(symbol, OUTSIDE, f"{module_path}:{symbol.span.line}")
                return replace(facts, overloads=_overloads(symbols, symbol.qualname))
        return None

    def _workspace_lines(self, root: Path, relative: str) -> tuple[str, ...] | None:
        """A workspace file's lines, for its module-level objects (read once per change)."""
        path = root / relative
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return None
        return _lines_of_file(path, mtime, self.server.documents.read_disk)

    def _read_module(self, path: Path) -> bytes:
        return self.server.documents.read_disk(path, also_within=library_folders())
