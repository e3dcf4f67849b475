"""Where generated code goes in a file, and the edit that puts it there.

A block is inserted between two statements with the blank lines PEP 8
asks for (two around a top-level definition, one around a method), taking
the place of the blank lines already there so that the file does not grow
gaps. Positions follow :mod:`ark_lsp.models`: 1-based lines, code-point
columns.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

from ark_lsp.models import Span, TextEdit


@dataclass(frozen=True)
class Insertion:
    """A block of code inserted into a file: the edit, and the file's text after it."""

    edit: TextEdit
    new_text: str
    line: int
    """The 1-based line of the new text where the block's first line is."""


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _width(line: str) -> int:
    """A line's length without the carriage return of a CRLF file."""
    return len(line.removesuffix("\r"))


def _blank(line: str) -> bool:
    return not line.strip()


def _apply(text: str, edit: TextEdit) -> str:
    lines = _lines(text)
    span = edit.span

    def offset(line: int, column: int) -> int:
        return sum(len(item) + 1 for item in lines[: line - 1]) + column

    start = offset(span.line, span.column)
    end = offset(span.end_line, span.end_column)
    return text[:start] + edit.new_text + text[end:]


def insert_after(
    text: str,
    line: int,
    block: str,
    blank_lines: int,
    newline: str = "\n",
    blank_lines_after: int | None = None,
) -> Insertion:
    """Insert ``block`` after line ``line`` (the end of a statement), ``blank_lines`` around it.

    ``blank_lines_after`` separates the block from what follows when that
    differs (a method added at the end of a top-level class).
    """
    lines = _lines(text)
    block = block.rstrip("\n").replace("\n", newline)
    gap = newline * (blank_lines + 1)
    gap_after = gap if blank_lines_after is None else newline * (blank_lines_after + 1)
    following = line  # 0-based index of the line after ``line``
    while following < len(lines) and _blank(lines[following]):
        following += 1
    if following >= len(lines):
        # Nothing after: the block ends the file.
        last = len(lines)
        end_column = len(lines[-1])
        span = Span(line, _width(lines[line - 1]), last, end_column)
        new = gap + block + newline
    else:
        span = Span(line, _width(lines[line - 1]), following + 1, 0)
        new = gap + block + gap_after
    edit = TextEdit(span, new)
    return Insertion(edit, _apply(text, edit), line + blank_lines + 1)


def insert_before(
    text: str, line: int, block: str, blank_lines: int, newline: str = "\n"
) -> Insertion:
    """Insert ``block`` before line ``line`` (a statement's first), ``blank_lines`` around it."""
    lines = _lines(text)
    block = block.rstrip("\n").replace("\n", newline)
    previous = line - 2  # 0-based index of the line before ``line``
    while previous >= 0 and _blank(lines[previous]):
        previous -= 1
    gap = newline * (blank_lines + 1)
    if previous < 0:
        span = Span(1, 0, line, 0)
        new = block + gap
        first = 1
    else:
        span = Span(previous + 1, _width(lines[previous]), line, 0)
        new = gap + block + gap
        first = previous + 1 + blank_lines + 1
    edit = TextEdit(span, new)
    return Insertion(edit, _apply(text, edit), first)


def append(text: str, block: str, blank_lines: int, newline: str = "\n") -> Insertion:
    """Insert ``block`` at the end of the file's definitions.

    That is its end, or before the ``if __name__ == "__main__":`` block that
    ends it (and the comments right above it): the script's code there runs
    once everything above it is defined.
    """
    guard = _main_guard(text)
    if guard is not None:
        return insert_before(text, guard, block, blank_lines, newline)
    lines = _lines(text)
    last = len(lines)
    while last > 0 and _blank(lines[last - 1]):
        last -= 1
    if last == 0:
        block = block.rstrip("\n").replace("\n", newline) + newline
        span = Span(1, 0, len(lines), len(lines[-1]))
        edit = TextEdit(span, block)
        return Insertion(edit, _apply(text, edit), 1)
    return insert_after(text, last, block, blank_lines, newline)


def _main_guard(text: str) -> int | None:
    """The first line of a closing ``if __name__ == "__main__":`` block, comments included."""
    try:
        body = ast.parse(text).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    last = body[-1] if body else None
    if not (isinstance(last, ast.If) and _is_main_test(last.test)):
        return None
    lines = _lines(text)
    first = last.lineno
    while first > 1 and lines[first - 2].lstrip().startswith("#"):
        first -= 1
    return first


def _is_main_test(test: ast.expr) -> bool:
    """Whether ``test`` is ``__name__ == "__main__"``, either way round."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    named = any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides)
    main = any(isinstance(side, ast.Constant) and side.value == "__main__" for side in sides)
    return named and main


def indent_block(block: str, prefix: str) -> str:
    """Indent every non-blank line of ``block`` by ``prefix``."""
    return textwrap.indent(block, prefix)


def body_indent(text: str, node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The indentation of the statements in ``node``'s body, as written."""
    lines = _lines(text)
    first = node.body[0]
    line = lines[first.lineno - 1] if first.lineno <= len(lines) else ""
    return line[: len(line) - len(line.lstrip())]


def whole_file(old_text: str, new_text: str) -> TextEdit:
    """An edit replacing all of ``old_text`` with ``new_text``."""
    lines = _lines(old_text)
    return TextEdit(Span(1, 0, len(lines), len(lines[-1])), new_text)


__all__ = [
    "Insertion",
    "append",
    "body_indent",
    "indent_block",
    "insert_after",
    "insert_before",
    "whole_file",
]
