"""Reading what the sandbox reports as data that a test file may hold, and nothing more.

The characterization driver's report is written by the sandbox, where the
workspace's code runs and can overwrite it. Whatever it says ends up in a
test file that the user will run with plain ``pytest`` on the host, so only
what is provably data gets through: observed values that are literals (the
text :func:`ast.literal_eval` reads, on one line, with no comment, as one
expression) or argument lists of literals (for a class the test calls to
make a value), class references that are dotted names of modules a test may
import, and one-line messages.
"""

from __future__ import annotations

import ast
import keyword
import unicodedata

from ark_lsp.generate.characterize.driver import VALUE_CONSTANTS

MAX_LITERAL = 4000
"""Characters of an observed value's text; the driver writes at most 1,500."""

MAX_NAME = 300
"""Characters of a dotted module or class name."""

MAX_MESSAGE = 300
"""Characters of a message from the sandbox (why a target could not be run)."""

ACTING_MODULES = frozenset({"antigravity", "this", "idlelib", "test", "turtledemo"})
"""Standard modules whose import does something (opens a browser, prints, starts IDLE or runs
the test suite): never named by an exception or a result a test checks."""


def literal_source(text: object) -> str | None:
    """``text`` when it is the source of one literal and nothing else; None otherwise.

    A literal is what :func:`ast.literal_eval` reads: constants, tuples,
    lists, sets (``set()`` too), dicts, signed numbers and complex sums; no
    name, attribute or call. It must be one line without a comment, and one
    expression even between a row's other values (no bare ``1, 2``), so that
    written into a parametrize table it is exactly that value. The driver
    writes the ``repr`` of values that read back equal, which all pass.
    """
    if not isinstance(text, str) or not text or len(text) > MAX_LITERAL:
        return None
    if not text.isprintable():  # newlines and other controls: repr never leaves them raw
        return None
    try:
        ast.literal_eval(text)
        wrapped = ast.parse(f"[{text}]", mode="eval").body
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(wrapped, ast.List) or len(wrapped.elts) != 1:
        return None
    return text


def arguments_source(text: object) -> str | None:
    """``text`` when it is a parenthesized argument list of literals, or empty; None otherwise.

    ``(1, 2, label='x')``: each argument a literal as :func:`literal_source`
    reads them (or a constant of :data:`~ark_lsp.generate.characterize.driver.VALUE_CONSTANTS`:
    ``tzinfo=datetime.timezone.utc``), given by position or by a keyword; no ``*`` or ``**``.
    """
    if text == "":
        return text
    if not isinstance(text, str) or len(text) > MAX_LITERAL or not text.isprintable():
        return None
    try:
        call = ast.parse(f"f{text}", mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        return None  # ``(1)(2)``: a call of a call
    if ast.get_source_segment(f"f{text}", call) != f"f{text}":
        return None  # anything after the call: ``(1)  # a comment``
    values = [*call.args, *(k.value for k in call.keywords)]
    if any(k.arg is None for k in call.keywords):
        return None
    try:
        for value in values:
            if not (isinstance(value, ast.Attribute) and ast.unparse(value) in VALUE_CONSTANTS):
                ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return text


def dotted_name(text: object) -> str | None:
    """``text`` when it is a dotted Python name (``pkg.mod``, ``Outer.Inner``); None otherwise."""
    if not isinstance(text, str) or not text or len(text) > MAX_NAME:
        return None
    parts = text.split(".")
    if all(part.isidentifier() and not keyword.iskeyword(part) for part in parts):
        return text
    return None


def importable_module(text: object) -> str | None:
    """A module a generated test may ``import``; None otherwise.

    A dotted name whose parts are public (as the driver reports them) and
    that is not one of the standard modules that act when imported. Any
    such module is the workspace's own, an installed one or the standard
    library's: importing it runs no code the sandbox wrote.
    """
    name = dotted_name(text)
    if name is None:
        return None
    parts = name.split(".")
    if any(part.startswith("_") for part in parts) or parts[0] in ACTING_MODULES:
        return None
    return name


def one_line(text: object, limit: int = MAX_MESSAGE) -> str:
    """A message from the sandbox as one line of at most ``limit`` characters.

    Line breaks and other control characters become spaces, so a message
    written in a comment of a test file stays in the comment.
    """
    words = "".join(
        " " if unicodedata.category(char)[0] in "CZ" and char != " " else char
        for char in str(text)[: limit * 4]
    ).split()
    line = " ".join(words)
    return line if len(line) <= limit else line[: limit - 1] + "…"


__all__ = [
    "ACTING_MODULES",
    "MAX_LITERAL",
    "arguments_source",
    "dotted_name",
    "importable_module",
    "literal_source",
    "one_line",
]
