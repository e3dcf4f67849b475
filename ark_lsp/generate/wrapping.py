"""Generated lines past the project's line length, split at their brackets as black splits them.

A generated test's table row, signature and call grow with the target's
parameters (attrs' ``attrs()`` takes 24, and its rows ran to 300
characters). A line over the limit is split at its last bracket that holds
something (an earlier one if what comes before it would not fit), and a
test's ``assert call(...) == expected`` inside parentheses: on one line
there when it fits (ruff measures it with its indent), else at its
comparison. What a bracket holds goes one level in, on one line if it fits
there, else one item a line with a trailing comma; each new line too long is
split again. That is black's layout, so a formatter run later leaves the
lines as they are. A trailing comma is added only where it keeps the code's
meaning: a bracket's one item is never given one (a subscript's index or a
parenthesized expression would become a tuple), and commas of a
comprehension or a lambda are not taken for items. A comment's line and the
inside of a string over several lines are left whole, and a single value
longer than the limit (a long string) stays long, as black leaves it.
"""

from __future__ import annotations

import ast
import io
import itertools
import re
import tokenize
from dataclasses import dataclass

_OPENING = {"(": ")", "[": "]", "{": "}"}
_CLOSING = frozenset(_OPENING.values())
_QUOTES = frozenset("'\"")
_NOT_ITEM_LISTS = re.compile(r"\b(?:for|lambda)\b")
"""Words whose commas do not separate a bracket's items: ``for a, b in``, ``lambda a, b:``."""
_ASSERTED_COMPARISON = re.compile(r"\s*assert (?P<left>[^=]+) == (?P<right>[^=]+)")
"""A test's check, ``assert call(...) == expected``, as :func:`_outside_brackets` shows it."""


@dataclass(frozen=True)
class _Bracket:
    """A bracket pair at the top level of a line, and the items it holds."""

    opening: int
    closing: int
    items: list[str]
    trailing_comma: bool
    """Whether the line already ends the items with a comma (black keeps such a bracket open)."""


def wrap_long_lines(text: str, limit: int, unit: str) -> str:
    """``text`` with each line longer than ``limit`` split at its brackets, indented by ``unit``.

    Text that does not tokenize, or would not parse once split, is returned as it is.
    """
    lines = text.split("\n")
    if all(len(line) <= limit for line in lines):
        return text
    try:
        in_strings = _lines_inside_strings(text)
    except (tokenize.TokenError, SyntaxError):
        return text
    wrapped: list[str] = []
    for number, line in enumerate(lines, start=1):
        too_long = len(line) > limit and number not in in_strings
        wrapped += _split(line, limit, unit) if too_long else [line]
    result = "\n".join(wrapped)
    try:
        ast.parse(result)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return text
    return result


def _lines_inside_strings(text: str) -> set[int]:
    """The numbers of the lines a string over several lines continues on."""
    inside: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.STRING and token.end[0] > token.start[0]:
            inside.update(range(token.start[0] + 1, token.end[0] + 1))
    return inside


def _split(line: str, limit: int, unit: str) -> list[str]:
    if len(line) <= limit:
        return [line]
    masked = _masked(line)
    if masked is None:
        return [line]
    lead = line[: len(line) - len(line.lstrip())]
    inner = lead + unit
    compared = _ASSERTED_COMPARISON.fullmatch(_outside_brackets(masked))
    if compared:
        # black's invisible parentheses: the comparison inside them, split at its operator.
        left = line[compared.start("left") : compared.end("left")]
        right = line[compared.start("right") : compared.end("right")]
        if len(f"{inner}{left} == {right}") <= limit:
            # Whole inside them when it fits there, as ruff and black keep it.
            return [f"{lead}assert (", f"{inner}{left} == {right}", f"{lead})"]
        return [
            f"{lead}assert (",
            *_split(inner + left, limit, unit),
            f"{inner}== {right}",
            f"{lead})",
        ]
    bracket = _chosen_bracket(line, masked, limit)
    if bracket is None:
        return [line]
    hugged = inner + ", ".join(bracket.items)
    one_item = len(bracket.items) == 1
    if one_item and not bracket.trailing_comma:
        body = _split(hugged, limit, unit)
    elif len(hugged) <= limit and not bracket.trailing_comma:
        body = [hugged]
    else:
        body = [part for item in bracket.items for part in _split(f"{inner}{item},", limit, unit)]
    tail = lead + line[bracket.closing :]
    return [line[: bracket.opening + 1], *body, *_split(tail, limit, unit)]


def _chosen_bracket(line: str, masked: str, limit: int) -> _Bracket | None:
    """The bracket black splits a line at: its last, unless what goes before is too long.

    Then the last whose opening line fits, or else the first: ``Maker(a).method(b)``
    splits at ``method``'s, ``def f(a, b) -> list[int]:`` at the parameters when
    ``list[`` would end too long a line.
    """
    brackets = [
        bracket
        for opening, closing, commas in _bracket_spans(masked)
        if (bracket := _bracket(line, masked, opening, closing, commas)) is not None
    ]
    fitting = [bracket for bracket in brackets if bracket.opening + 1 <= limit]
    return fitting[-1] if fitting else next(iter(brackets), None)


def _bracket(
    line: str, masked: str, opening: int, closing: int, commas: list[int]
) -> _Bracket | None:
    """The bracket's items, or ``None`` when it holds nothing."""
    if not masked[opening + 1 : closing].strip():
        return None
    if commas and _NOT_ITEM_LISTS.search(_outside_brackets(masked[opening + 1 : closing])):
        commas = []  # what it holds moves one level in as one item, its commas as they were
    cuts = [opening, *commas, closing]
    items = [line[a + 1 : b].strip() for a, b in itertools.pairwise(cuts)]
    return _Bracket(
        opening,
        closing,
        [item for item in items if item],
        trailing_comma=bool(commas) and not items[-1],
    )


def _masked(line: str) -> str | None:
    """``line`` with its strings' insides blanked, or ``None`` when it holds a comment."""
    out: list[str] = []
    index = 0
    while index < len(line):
        char = line[index]
        if char in _QUOTES:
            end = _string_end(line, index)
            out.append(char + " " * (end - index - 2) + line[end - 1] if end - index >= 2 else char)
            index = end
            continue
        if char == "#":
            return None
        out.append(char)
        index += 1
    return "".join(out)


def _string_end(line: str, start: int) -> int:
    """The index just past the string literal whose opening quote is at ``start``."""
    quote = line[start] * 3 if line.startswith(line[start] * 3, start) else line[start]
    index = start + len(quote)
    while index < len(line):
        if line[index] == "\\":
            index += 2
        elif line.startswith(quote, index):
            return index + len(quote)
        else:
            index += 1
    return len(line)


def _bracket_spans(masked: str) -> list[tuple[int, int, list[int]]]:
    """Each bracket pair closed on the line at its top level, with its own commas."""
    spans: list[tuple[int, int, list[int]]] = []
    depth = 0
    opening = -1
    commas: list[int] = []
    for index, char in enumerate(masked):
        if char in _OPENING:
            if depth == 0:
                opening, commas = index, []
            depth += 1
        elif char in _CLOSING:
            if depth == 1 and opening >= 0:
                spans.append((opening, index, commas))
                opening = -1
            depth = max(depth - 1, 0)
        elif char == "," and depth == 1 and opening >= 0:
            commas.append(index)
    return spans


def _outside_brackets(masked: str) -> str:
    """``masked`` with what its brackets hold blanked (the brackets kept)."""
    out: list[str] = []
    depth = 0
    for char in masked:
        if char in _CLOSING:
            depth = max(depth - 1, 0)
        out.append(char if depth == 0 else " ")
        if char in _OPENING:
            depth += 1
    return "".join(out)
