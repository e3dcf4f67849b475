"""Re-parse only the top-level statements an edit touched.

A keystroke in a 3,000-line file changes one statement; parsing the other
ninety-nine again is most of what a full parse costs. Given the lines of
the previous version and where its top-level blocks were (see
:mod:`ark_lsp.analysis.blocks`), :func:`reparse` finds the blocks the edit
touched and parses their new text alone, with its real line numbers; the
blocks above stay where they were, those below move by the number of lines
the edit added or removed.

The piece is only trusted when it stands on its own: if it does not parse,
:func:`reparse` says so and the whole text must be parsed, so that a syntax
error is reported exactly as a full parse reports it.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple

from ark_lsp.analysis.bindings import ModuleBindings, changed_names
from ark_lsp.analysis.blocks import Block, group_statements, import_line, lead_of
from ark_lsp.analysis.collector import Collector
from ark_lsp.analysis.source import Source
from ark_lsp.models import LineCounts, ModuleReport, Tier
from ark_lsp.rules import RuleSet

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


UNCHANGED = Region(0, 0, [], 0)
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
    same_start = 0
    while same_start < shortest and old[same_start] == new[same_start]:
        same_start += 1
    if same_start == len(old) == len(new):
        return UNCHANGED
    same_end = 0
    while same_end < shortest - same_start and old[-1 - same_end] == new[-1 - same_end]:
        same_end += 1
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
    return Region(first, last + 1, statements, shift)


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
class ModuleContext:
    """What a module's analysis depends on besides its text."""

    path: str
    module: str
    is_package: bool
    tier: Tier
    rules: RuleSet


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


def analyse_tree(
    context: ModuleContext, source: Source, lines: LineCounts, tree: ast.Module
) -> AnalysedText:
    """Analyse a whole parsed module, block by block."""
    walked = [_walk(context, source, group) for group in group_statements(tree.body)]
    namespace = ModuleBindings(collector.bindings for collector in walked)
    end = max((s.end_lineno or s.lineno for s in tree.body[-1:]), default=0)
    where = import_line(((s.lineno, lead_of(s)) for s in tree.body), end)
    blocks = tuple(collector.block(namespace, where) for collector in walked)
    called: Counter[str] = Counter()
    for block in blocks:
        called.update(block.called)
    return _kept(context, source, lines, blocks, namespace, where, called)


def analyse_edit(
    previous: AnalysedText, context: ModuleContext, source: Source, lines: LineCounts
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
    walked = [_walk(context, source, group) for group in group_statements(region.statements)]
    above = old[: region.first]
    below = [block.moved(region.shift) for block in old[region.stop :]]
    replaced = old[region.first : region.stop]
    bindings = [
        *(block.bindings for block in above),
        *(collector.bindings for collector in walked),
        *(block.bindings for block in below),
    ]
    namespace = ModuleBindings(bindings)
    heads = chain(
        chain.from_iterable(block.statements for block in above),
        ((s.lineno, lead_of(s)) for s in region.statements),
        chain.from_iterable(block.statements for block in below),
    )
    if below:
        end = below[-1].last
    elif region.statements:
        end = max(s.end_lineno or s.lineno for s in region.statements[-1:])
    else:
        end = above[-1].last if above else 0
    where = import_line(heads, end)
    # The blocks kept resolve their calls again only where the module's
    # namespace changed for a name they call, or where a fix of theirs names an
    # import or the line where one goes.
    renamed = changed_names(
        (binding for block in replaced for binding in block.bindings),
        (binding for collector in walked for binding in collector.bindings),
    )
    fix_context_changed = where != previous.import_line or list(namespace.imported.items()) != list(
        previous.namespace.imported.items()
    )

    def kept(block: Block) -> Block:
        if not (block.roots & renamed or (fix_context_changed and block.uses_fix_context)):
            return block
        return _again(context, source, new_lines, block).block(namespace, where)

    blocks = (
        *(kept(block) for block in above),
        *(collector.block(namespace, where) for collector in walked),
        *(kept(block) for block in below),
    )
    called = previous.called.copy()
    for block in replaced:
        called.subtract(block.called)
    for block in blocks[region.first : len(blocks) - len(below)]:
        called.update(block.called)
    called = Counter({name: count for name, count in called.items() if count})
    return _kept(context, source, lines, blocks, namespace, where, called, new_lines)


_FLUFL = b"barry_as_FLUFL"
"""The one __future__ import that changes how the rest of the file tokenizes."""


def _walk(context: ModuleContext, source: Source, statements: list[ast.stmt]) -> Collector:
    return Collector(
        source, context.module, context.is_package, context.tier, context.rules
    ).collect(statements)


def _again(
    context: ModuleContext, source: Source, lines: Sequence[bytes], block: Block
) -> Collector:
    """Walk a kept block again, parsed from its unchanged lines."""
    piece = b"\n" * (block.first - 1) + b"".join(lines[block.first - 1 : block.last])
    return _walk(context, source, ast.parse(piece).body)


def _kept(
    context: ModuleContext,
    source: Source,
    lines: LineCounts,
    blocks: Sequence[Block],
    namespace: ModuleBindings,
    where: int,
    called: Counter[str],
    text_lines: tuple[bytes, ...] | None = None,
) -> AnalysedText:
    report = ModuleReport(
        path=context.path,
        module=context.module,
        tier=context.tier,
        lines=lines,
        symbols=tuple(chain.from_iterable(block.symbols for block in blocks)),
        imports=tuple(chain.from_iterable(block.imports for block in blocks)),
        violations=tuple(chain.from_iterable(block.violations for block in blocks)),
        called=tuple(sorted(called.items())),
        encoding=source.encoding,
    )
    if text_lines is None:
        data = source.parse_input
        text_lines = tuple(data.splitlines(keepends=True)) if isinstance(data, bytes) else ()
    return AnalysedText(context, text_lines, tuple(blocks), namespace, where, called, report)
