"""Analyse an edited text again, re-parsing and re-walking only the blocks the edit touched.

A keystroke in a 3,000-line file changes one statement; parsing and walking
the other ninety-nine again is most of what a full analysis costs. The
analysis of a text is kept by top-level block (:class:`AnalysedText`, see
:mod:`ark_lsp.analysis.blocks`). For the next version, :func:`reparse` finds
the blocks the edit touched and parses their new text alone, with its real
line numbers; :func:`analyse_edit` walks only those, keeps the records of the
blocks above as they were and moves those below by the lines the edit added
or removed. A kept block is walked again only when the module's namespace
changed for a name it calls (the edited statements leave the name bound to
something else, or hold other imports or definitions of it: see
:func:`~ark_lsp.analysis.bindings.changed_names`), or when one of its fixes
names an import and the module's imports, what an imported name is bound
to, or the line where a new import goes, changed. What a statement binds,
and what module-level code finds where it runs, depends on the block's own
text (:mod:`ark_lsp.analysis.flow`); what the blocks above left bound comes
from the namespace, by bisection.

The piece is only trusted when it stands on its own: if it does not parse,
the whole text is parsed, so that a syntax error is reported exactly as a
full parse reports it. Whatever the path, the report equals a full analysis
of the new text; tests/test_incremental.py holds it to that over random edits.
"""

from __future__ import annotations

import ast
import io
import operator
import tokenize
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from typing import NamedTuple

from ark_lsp.analysis.bindings import ModuleBindings, changed_names
from ark_lsp.analysis.blocks import (
    Block,
    Lead,
    first_line,
    group_statements,
    import_line,
    lead_of,
)
from ark_lsp.analysis.collector import Collector, ModuleContext
from ark_lsp.analysis.compiler_errors import late_future_import
from ark_lsp.analysis.source import Source, line_counts
from ark_lsp.models import Import, LineCounts, ModuleReport, Symbol, Violation

_HEAD_LINES = 2
"""Edits this close to the top can change the file's encoding: parse it all."""


class Region(NamedTuple):
    """The blocks an edit replaced, and what the new text holds in their place."""

    first: int
    """Index of the first block replaced."""
    stop: int
    """Index past the last block replaced."""
    statements: list[ast.stmt]
    """The top-level statements parsed from the new text of those lines, in order."""
    shift: int
    """Lines the edit added (removed, if negative): how far the blocks below move."""
    same_start: int
    """How many lines at the start the edit left as they were."""
    same_end: int
    """How many lines at the end the edit left as they were."""


UNCHANGED = Region(0, 0, [], 0, 0, 0)
"""What :func:`reparse` answers for a text that did not change."""


def reparse(
    old: Sequence[bytes], spans: Sequence[tuple[int, int]], new: Sequence[bytes]
) -> Region | None:
    """Parse the blocks of ``new`` that differ from ``old``; ``None`` to parse it all.

    ``old`` and ``new`` are lines with their endings; ``spans`` are the first
    and last lines (1-based, decorators included) of each block of ``old``,
    in order, no two sharing a line.
    """
    shortest = min(len(old), len(new))
    same_start = _same_run(old, new, shortest)
    if same_start == len(old) == len(new):
        return UNCHANGED
    same_end = _same_run(reversed(old), reversed(new), shortest - same_start)
    if same_start < _HEAD_LINES or not spans or not _decodes_as_utf8(new):
        return None

    # 1-based lines of the old text that changed (empty when lines were only inserted).
    changed_from, changed_to = same_start + 1, len(old) - same_end
    first = next((i for i, (_, end) in enumerate(spans) if end >= changed_from), len(spans))
    if first < len(spans) and spans[first][0] < changed_from and changed_to < spans[first][1]:
        # Inside one block, its first and last lines untouched: the lines around it
        # still start and end statements, so the block's new text parses as it would
        # in the whole file.
        last = first
    else:
        last = max((i for i, (start, _) in enumerate(spans) if start <= changed_to), default=-1)
        # One block more on each side: an edit can extend the one before it (an
        # indented line typed under a def) or join the one after.
        first, last = max(first - 1, 0), min(max(last, first) + 1, len(spans) - 1)
    start = min(spans[first][0], changed_from)
    end = max(spans[last][1], changed_to)

    shift = len(new) - len(old)
    # Blank lines in front give the piece its real line numbers as it is parsed.
    piece = b"\n" * (start - 1) + b"".join(new[start - 1 : end + shift])
    try:
        statements = ast.parse(piece).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return Region(first, last + 1, statements, shift, same_start, same_end)


def _same_run(old: Iterable[bytes], new: Iterable[bytes], longest: int) -> int:
    """How many lines the two texts have in common from their start (at most ``longest``)."""
    # Compared in C, a line at a time: this runs over the whole file on every edit.
    differs = list(islice(map(operator.ne, old, new), longest))
    return differs.index(True) if True in differs else len(differs)


def _decodes_as_utf8(lines: Sequence[bytes]) -> bool:
    """Whether the text is read as UTF-8, as a piece of it without its coding line is."""
    head = lines[:_HEAD_LINES]
    if not any(b"coding" in line for line in head):
        return True
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(b"".join(head)).readline)
    except SyntaxError:
        return False
    return encoding in ("utf-8", "utf-8-sig")


@dataclass(frozen=True, slots=True)
class AnalysedText:
    """A text's analysis, kept by block, to analyse its next version from.

    Immutable: the next version's analysis shares the blocks it did not
    touch, so any number of threads may start from one.
    """

    context: ModuleContext
    lines: tuple[bytes, ...]
    """The text parsed, in lines with their endings."""
    blocks: tuple[Block, ...]
    namespace: ModuleBindings
    import_line: int
    called: Counter[str]
    """The sum of the blocks' calls by name."""
    report: ModuleReport
    futures: int
    """The compile flags of the module's ``__future__`` features: an edit below its
    leading ``__future__`` imports compiles its statements with them."""


def report_of_tree(
    context: ModuleContext, source: Source, lines: LineCounts, tree: ast.Module
) -> ModuleReport:
    """Analyse a whole parsed module, keeping nothing for a next version."""
    collector, _ = _walk_module(context, source, tree.body, once=True)
    return _report(
        context,
        source,
        lines,
        collector.symbols,
        collector.imports,
        collector.violations,
        collector.called(),
        ((s.lineno, lead_of(s)) for s in tree.body),
        collector.bound_attributes(),
    )


def analyse_tree(
    context: ModuleContext, source: Source, lines: LineCounts, tree: ast.Module
) -> AnalysedText:
    """Analyse a whole parsed module, keeping its blocks for the next version."""
    collector, groups = _walk_module(context, source, tree.body)
    blocks = collector.blocks(groups)
    futures = collector.futures or 0
    return _kept(context, source, lines, blocks, collector.called(), _lines_of(source), futures)


def _walk_module(
    context: ModuleContext, source: Source, body: list[ast.stmt], *, once: bool = False
) -> tuple[Collector, list[list[ast.stmt]]]:
    """The module walked whole; ``once``: no version of it follows (an index, a check)."""
    groups = list(group_statements(body))
    spans = [_span(group) for group in groups]
    collector = Collector(source, context, once=once).collect(body)
    namespace = ModuleBindings([collector.bindings])
    where = import_line(((s.lineno, lead_of(s)) for s in body), spans[-1][1] if spans else 0)
    collector.finish(namespace, where, spans)
    return collector, groups


def analyse_edit(
    previous: AnalysedText, context: ModuleContext, source: Source
) -> AnalysedText | None:
    """Analyse a new version of ``previous``'s text, re-walking only the blocks it touched.

    ``None`` when the text must be parsed whole: the edit reached its first
    lines, or the statements it touched do not parse alone (a syntax error,
    or an edit that opened a bracket or a string).
    """
    data = source.parse_input
    if context != previous.context or not isinstance(data, bytes) or _FLUFL in data:
        return None
    new_lines = tuple(data.splitlines(keepends=True))
    old = previous.blocks
    region = reparse(previous.lines, [(b.first, b.last) for b in old], new_lines)
    if region is None:
        return None
    if region is UNCHANGED:
        return previous

    above, replaced = old[: region.first], old[region.first : region.stop]
    if _declares_global(region.statements, (*above, *old[region.stop :])):
        return None  # the compiler checks a module-level global against the whole module
    if _may_change_futures(region.statements, above, replaced, old[region.stop :]):
        return None  # the compiler takes every statement by the module's __future__ features
    futures = previous.futures
    below = [block.moved(region.shift) for block in old[region.stop :]]
    groups = list(group_statements(region.statements))
    spans = [_span(group) for group in groups]
    collector = Collector(source, context, futures=futures).collect(region.statements)
    namespace = ModuleBindings(
        [*(b.bindings for b in above), collector.bindings, *(b.bindings for b in below)]
    )
    heads = chain(
        chain.from_iterable(block.statements for block in above),
        ((s.lineno, lead_of(s)) for s in region.statements),
        chain.from_iterable(block.statements for block in below),
    )
    ends = [block.last for block in (*above[-1:], *below[-1:])] + [last for _, last in spans]
    where = import_line(heads, max(ends, default=0))
    walked = collector.finish(namespace, where, spans).blocks(groups)

    # A kept block resolves its calls again only where the module's namespace
    # changed for a name it calls, or where a fix of its names an import or
    # the line where one goes.
    renamed = changed_names(
        chain.from_iterable(block.bindings for block in replaced), collector.bindings
    )
    # A fix names an imported module by a name bound to it where the fix goes.
    fix_context_changed = (
        where != previous.import_line
        or list(namespace.imported.items()) != list(previous.namespace.imported.items())
        or not renamed.isdisjoint(namespace.imported)
    )

    def kept(block: Block) -> Block | None:
        if block.roots & renamed or (fix_context_changed and block.uses_fix_context):
            return _again(context, source, new_lines, block, namespace, where, futures)
        return block

    again = [*map(kept, above), *walked, *map(kept, below)]
    blocks = [block for block in again if block is not None]
    if len(blocks) < len(again):
        return None
    called = previous.called.copy()
    for block in replaced:
        called.subtract(block.called)
    for block in walked:
        called.update(block.called)
    called = Counter({name: count for name, count in called.items() if count})
    removed = previous.lines[region.same_start : len(previous.lines) - region.same_end]
    added = new_lines[region.same_start : len(new_lines) - region.same_end]
    lines = _counted(previous.report.lines, line_counts(removed), line_counts(added))
    return _kept(context, source, lines, blocks, called, new_lines, futures, namespace, where)


def _declares_global(statements: Sequence[ast.stmt], blocks: Iterable[Block]) -> bool:
    return any(type(s) is ast.Global for s in statements) or any(
        lead is Lead.GLOBAL for block in blocks for _, lead in block.statements
    )


def _may_change_futures(
    statements: Sequence[ast.stmt],
    above: Sequence[Block],
    replaced: Sequence[Block],
    below: Sequence[Block],
) -> bool:
    """Whether an edit may change the module's ``__future__`` features.

    It may if it adds or removes a ``__future__`` import, or edits what comes
    before one while only a docstring and ``__future__`` imports stand above
    the edit (whether the import is still leading, so in force, is then new).
    """
    future = Lead.FUTURE
    if any(lead_of(s) is future for s in statements) or any(
        lead is future for block in replaced for _, lead in block.statements
    ):
        return True
    leads = (lead for block in above for _, lead in block.statements)
    leading = all(
        lead is future or (lead is Lead.DOCSTRING and index == 0)
        for index, lead in enumerate(leads)
    )
    return leading and any(lead is future for block in below for _, lead in block.statements)


_FLUFL = b"barry_as_FLUFL"
"""The one __future__ import that changes how the rest of the file tokenizes."""


def _counted(counts: LineCounts, removed: LineCounts, added: LineCounts) -> LineCounts:
    """The counts of a text whose ``removed`` lines were replaced by ``added`` ones."""
    return LineCounts(
        total=counts.total - removed.total + added.total,
        code=counts.code - removed.code + added.code,
        comment=counts.comment - removed.comment + added.comment,
        blank=counts.blank - removed.blank + added.blank,
    )


def _span(statements: Sequence[ast.stmt]) -> tuple[int, int]:
    return first_line(statements[0]), max(s.end_lineno or s.lineno for s in statements)


def _again(
    context: ModuleContext,
    source: Source,
    lines: Sequence[bytes],
    block: Block,
    namespace: ModuleBindings,
    where: int,
    futures: int,
) -> Block | None:
    """Walk a kept block again, parsed from its unchanged lines; ``None`` if they do not parse.

    A statement whose last line ends in a backslash, continued by a blank line,
    parses only with the line after it.
    """
    piece = b"\n" * (block.first - 1) + b"".join(lines[block.first - 1 : block.last])
    try:
        statements = ast.parse(piece).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    collector = Collector(source, context, futures=futures).collect(statements)
    return collector.finish(namespace, where, [(block.first, block.last)]).blocks([statements])[0]


def _lines_of(source: Source) -> tuple[bytes, ...]:
    data = source.parse_input
    return tuple(data.splitlines(keepends=True)) if isinstance(data, bytes) else ()


def _report(
    context: ModuleContext,
    source: Source,
    lines: LineCounts,
    symbols: Iterable[Symbol],
    imports: Iterable[Import],
    violations: Iterable[Violation],
    called: Counter[str],
    heads: Iterable[tuple[int, Lead]],
    attributes: Iterable[str],
) -> ModuleReport:
    late = late_future_import(heads)
    if late is not None:
        violations = sorted((*violations, late), key=lambda v: (v.span.line, v.span.column, v.rule))
    return ModuleReport(
        path=context.path,
        module=context.module,
        tier=context.tier,
        lines=lines,
        symbols=tuple(symbols),
        imports=tuple(imports),
        violations=tuple(violations),
        called=tuple(sorted(called.items())),
        bound_attributes=tuple(sorted(set(attributes))),
        encoding=source.encoding,
    )


def _kept(
    context: ModuleContext,
    source: Source,
    lines: LineCounts,
    blocks: Sequence[Block],
    called: Counter[str],
    text_lines: tuple[bytes, ...],
    futures: int,
    namespace: ModuleBindings | None = None,
    where: int | None = None,
) -> AnalysedText:
    report = _report(
        context,
        source,
        lines,
        chain.from_iterable(block.symbols for block in blocks),
        chain.from_iterable(block.imports for block in blocks),
        chain.from_iterable(block.violations for block in blocks),
        called,
        chain.from_iterable(block.statements for block in blocks),
        chain.from_iterable(block.attributes for block in blocks),
    )
    if namespace is None:
        namespace = ModuleBindings(block.bindings for block in blocks)
    if where is None:
        end = blocks[-1].last if blocks else 0
        where = import_line(chain.from_iterable(block.statements for block in blocks), end)
    return AnalysedText(
        context, text_lines, tuple(blocks), namespace, where, called, report, futures
    )
