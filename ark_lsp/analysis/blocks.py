"""What the analysis found in each top-level statement of a module: its blocks.

A module's report is the concatenation of its blocks' records, so an edit
re-analyses only the blocks it touched and moves the others' line numbers
(:mod:`ark_lsp.analysis.incremental`). A block is one top-level statement,
or several that share a line (``a = 1; b = 2``), so that no two blocks
share a line: a suppression comment, a span, a line count each belong to
one. Almost everything in a block depends on its text alone; what does not
is the resolution of its calls, through the module's namespace, which is
why a block keeps the module-level names it binds and the names it calls.
"""

from __future__ import annotations

import ast
import enum
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from ark_lsp.analysis.bindings import Binding
from ark_lsp.models import Fix, Import, Span, Symbol, TextEdit, Violation


class Lead(enum.Enum):
    """What a top-level statement is to its module.

    It decides whether the statement may stand before an added import, and
    what the compiler checks across statements.
    """

    DOCSTRING = enum.auto()
    """A string expression: the module's docstring when it comes first."""
    FUTURE = enum.auto()
    """A ``from __future__`` import, which must stay first."""
    GLOBAL = enum.auto()
    """A module-level ``global``, which the compiler checks against the whole module."""
    OTHER = enum.auto()


def lead_of(statement: ast.stmt) -> Lead:
    """How a top-level statement counts for where an added import goes."""
    if (
        type(statement) is ast.Expr
        and type(statement.value) is ast.Constant
        and isinstance(statement.value.value, str)
    ):
        return Lead.DOCSTRING
    if type(statement) is ast.ImportFrom and statement.module == "__future__":
        return Lead.FUTURE
    if type(statement) is ast.Global:
        return Lead.GLOBAL
    return Lead.OTHER


@dataclass(frozen=True, slots=True)
class Block:
    """The records of one block, its line numbers as they are in the current text."""

    first: int
    """First line, decorators included."""
    last: int
    statements: tuple[tuple[int, Lead], ...]
    """Each statement's line (the ``def`` line, not its decorators') and lead."""
    symbols: tuple[Symbol, ...]
    imports: tuple[Import, ...]
    violations: tuple[Violation, ...]
    """Every rule broken in the block that no comment suppresses, in order."""
    called: Counter[str]
    """How often each name is called in the block."""
    bindings: tuple[Binding, ...]
    """What each of the block's statements leaves the module-level names it binds bound to,
    in source order."""
    roots: frozenset[str]
    """The root name of every call the block makes (``os`` of ``os.path.join(...)``)."""
    attributes: frozenset[str]
    """The attribute names the block assigns or deletes on any object (``*``: any, by
    ``setattr``)."""
    uses_fix_context: bool
    """Whether a fix of the block depends on the module's imports and where they end."""

    def moved(self, lines: int) -> Block:
        """The same block ``lines`` further down (up, if negative)."""
        if not lines:
            return self
        first, last = self.first, self.last
        return replace(
            self,
            first=first + lines,
            last=last + lines,
            statements=tuple((line + lines, lead) for line, lead in self.statements),
            symbols=tuple(_moved_symbol(symbol, lines) for symbol in self.symbols),
            imports=tuple(_moved_import(item, lines) for item in self.imports),
            violations=tuple(_moved_violation(v, lines, first, last) for v in self.violations),
            bindings=tuple(binding.moved(lines) for binding in self.bindings),
        )


def group_statements(statements: Sequence[ast.stmt]) -> Iterator[list[ast.stmt]]:
    """Split top-level statements into blocks: runs of statements that share lines."""
    group: list[ast.stmt] = []
    last = 0
    for statement in statements:
        if group and first_line(statement) > last:
            yield group
            group = []
        group.append(statement)
        last = max(last, statement.end_lineno or statement.lineno)
    if group:
        yield group


def first_line(statement: ast.stmt) -> int:
    """A statement's first line, decorators included."""
    decorators = getattr(statement, "decorator_list", None)
    return decorators[0].lineno if decorators else statement.lineno


def import_line(statements: Iterable[tuple[int, Lead]], end: int) -> int:
    """The line before which an added import goes: after the docstring and __future__.

    ``statements`` are the module's top-level statements, each as its line and
    lead; ``end`` is the last line of the last one.
    """
    for index, (line, lead) in enumerate(statements):
        if not (lead is Lead.FUTURE or (lead is Lead.DOCSTRING and index == 0)):
            return line
    return end + 1


def _moved_span(span: Span, lines: int) -> Span:
    return Span(span.line + lines, span.column, span.end_line + lines, span.end_column)


def _moved_symbol(symbol: Symbol, lines: int) -> Symbol:
    return replace(
        symbol, span=_moved_span(symbol.span, lines), name_span=_moved_span(symbol.name_span, lines)
    )


def _moved_import(item: Import, lines: int) -> Import:
    return replace(item, line=item.line + lines)


def _moved_violation(violation: Violation, lines: int, first: int, last: int) -> Violation:
    fix = violation.fix
    if fix is not None:
        # An edit outside the block (an import added at the top) stays where it is:
        # should that place move, the fix is made again (see ``uses_fix_context``).
        edits = tuple(
            TextEdit(_moved_span(edit.span, lines), edit.new_text)
            if first <= edit.span.line <= last
            else edit
            for edit in fix.edits
        )
        fix = Fix(fix.title, edits, fix.safe)
    return replace(violation, span=_moved_span(violation.span, lines), fix=fix)
