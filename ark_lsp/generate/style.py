"""How a file is written, so that generated code reads like its neighbours.

:func:`detect_style` reads the indentation unit, the preferred quote, the
docstring quote, the ``from __future__`` imports and whether the file's
functions carry type hints from the tokens and the tree of the text. Where a
file says nothing (it is new, empty or does not parse) PEP 8 applies: four
spaces, double quotes, type hints.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import Counter
from dataclasses import dataclass

_STRING_PREFIX = re.compile(r"^([rbuRBU]{0,2})(['\"])")


@dataclass(frozen=True)
class Style:
    """The conventions of one file."""

    indent: str = "    "
    """One level of indentation."""
    quote: str = '"'
    """The quote of ordinary string literals."""
    docstring_quote: str = '"""'
    future_imports: tuple[str, ...] = ()
    """Names imported from ``__future__``, e.g. ``("annotations",)``."""
    typed: bool = True
    """Whether functions carry type hints (most of the file's functions do)."""
    newline: str = "\n"

    def quoted(self, text: str) -> str:
        """``text`` as a string literal in the file's quote style."""
        return requote(repr(text), self.quote)

    def literal(self, source: str) -> str:
        """A literal's source text with its string parts in the file's quote style."""
        return requote(source, self.quote)


PEP8 = Style()


def detect_style(text: str) -> Style:
    """Read the conventions of ``text``; PEP 8 where it says nothing."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        tokens = []
    try:
        tree: ast.Module | None = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    return Style(
        indent=_indent_unit(tokens),
        quote=_quote(tokens, _docstring_lines(tree)),
        docstring_quote=_docstring_quote(tree, text),
        future_imports=_future_imports(tree),
        typed=_typed(tree),
        newline="\r\n" if "\r\n" in text else "\n",
    )


def _indent_unit(tokens: list[tokenize.TokenInfo]) -> str:
    units: Counter[str] = Counter()
    depth: list[str] = [""]
    for token in tokens:
        if token.type == tokenize.INDENT:
            whole = token.string
            if whole.startswith(depth[-1]) and len(whole) > len(depth[-1]):
                units[whole[len(depth[-1]) :]] += 1
            depth.append(whole)
        elif token.type == tokenize.DEDENT and len(depth) > 1:
            depth.pop()
    return units.most_common(1)[0][0] if units else PEP8.indent


def _docstring_lines(tree: ast.Module | None) -> set[int]:
    if tree is None:
        return set()
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                lines.add(body[0].lineno)
    return lines


def _quote(tokens: list[tokenize.TokenInfo], docstrings: set[int]) -> str:
    counts: Counter[str] = Counter()
    for token in tokens:
        if token.type != tokenize.STRING or token.start[0] in docstrings:
            continue
        match = _STRING_PREFIX.match(token.string)
        if match is None or token.string[match.end() - 1 : match.end() + 2] in ('"""', "'''"):
            continue
        body = token.string[match.end() : -1]
        other = "'" if match.group(2) == '"' else '"'
        if other in body:
            continue  # the quote was chosen to avoid escaping, not by habit
        counts[match.group(2)] += 1
    if counts["'"] > counts['"']:
        return "'"
    return PEP8.quote


def _docstring_quote(tree: ast.Module | None, text: str) -> str:
    if tree is None:
        return PEP8.docstring_quote
    lines = text.splitlines()
    for line in sorted(_docstring_lines(tree)):
        stripped = lines[line - 1].lstrip() if line <= len(lines) else ""
        stripped = stripped.lstrip("rRuU")
        if stripped.startswith(("'''", '"""')):
            return stripped[:3]
    return PEP8.docstring_quote


def _future_imports(tree: ast.Module | None) -> tuple[str, ...]:
    if tree is None:
        return ()
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            names += [alias.name for alias in node.names]
    return tuple(dict.fromkeys(names))


def _typed(tree: ast.Module | None) -> bool:
    if tree is None:
        return PEP8.typed
    typed = untyped = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        arguments = [
            *node.args.posonlyargs,
            *node.args.args,
            *node.args.kwonlyargs,
        ]
        annotated = node.returns is not None or any(
            a.annotation is not None for a in arguments if a.arg not in ("self", "cls")
        )
        if annotated:
            typed += 1
        else:
            untyped += 1
    if typed + untyped == 0:
        return PEP8.typed
    return typed >= untyped


def requote(source: str, quote: str) -> str:
    """Rewrite the single-line string literals of ``source`` to use ``quote`` where possible.

    A literal whose text holds the other quote keeps its own, as ``repr``
    does; escapes are kept as written. Python 2's ``u`` prefix is dropped
    (pylint's W1406: boltons' docstring examples are ``u'...'``).
    """
    if quote not in ("'", '"'):
        raise ValueError(f"quote must be ' or \", not {quote!r}")
    other = "'" if quote == '"' else '"'
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return source
    pieces: list[tuple[tuple[int, int], tuple[int, int], str]] = []
    for token in tokens:
        if token.type != tokenize.STRING:
            continue
        match = _STRING_PREFIX.match(token.string)
        if match is None:
            continue
        prefix = match.group(1)
        plain = prefix.replace("u", "").replace("U", "")
        swapped = None
        if match.group(2) == other and token.string[match.end() - 1 : match.end() + 2] != other * 3:
            body = token.string[match.end() : -1]
            swapped = _swap_quotes(body, other, quote, raw="r" in prefix.lower())
        if swapped is not None:
            pieces.append((token.start, token.end, f"{plain}{quote}{swapped}{quote}"))
        elif plain != prefix:
            pieces.append((token.start, token.end, plain + token.string[len(prefix) :]))
    if not pieces:
        return source
    lines = source.splitlines(keepends=True)
    for start, end, text in reversed(pieces):
        if start[0] != end[0]:
            continue
        line = lines[start[0] - 1]
        lines[start[0] - 1] = line[: start[1]] + text + line[end[1] :]
    return "".join(lines)


def _swap_quotes(body: str, old: str, new: str, *, raw: bool) -> str | None:
    """The body of an ``old``-quoted literal fit for ``new`` quotes; None if it needs escapes."""
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            following = body[index + 1]
            if following == new:
                return None
            # An escaped old quote needs no escape any more (a raw string keeps it).
            out.append(following if following == old and not raw else char + following)
            index += 2
            continue
        if char == new:
            return None
        out.append(char)
        index += 1
    return "".join(out)


__all__ = ["PEP8", "Style", "detect_style", "requote"]
