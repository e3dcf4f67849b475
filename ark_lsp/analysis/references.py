"""What a name under the cursor refers to, as far as the text and the report can tell.

A hover on ``f``, ``mod.f``, ``self.f``, ``cls.f`` or ``super().f`` needs
to know how the name is reached before anything can look it up: this reads
the line left of the name and the enclosing class from the module's report.
Resolving the reference (against the index) is the application layer's.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from ark_lsp.models import ModuleReport, Symbol, SymbolKind

_RECEIVER = re.compile(r"(?:(super\(\s*[^()]*\))|([A-Za-z_][\w.]*?))\s*\.\s*$")
"""The text just left of ``.name``: ``super()`` (with or without arguments) or a dotted name."""

SELF_NAMES = frozenset({"self", "cls"})


@dataclass(frozen=True, slots=True)
class Reference:
    """A name used at a place of a module, and how it is reached."""

    name: str
    """The name under the cursor."""
    receiver: str | None
    """What it is an attribute of: a dotted name (``os.path``, ``self``), ``super()``,
    ``?`` for an expression the text cannot name (``f().g``), or None for a plain name."""
    enclosing_class: str | None
    """Qualified name of the class whose body (or a method of which) holds the place."""

    @property
    def is_super(self) -> bool:
        """Whether the name is reached through ``super()``."""
        return self.receiver == "super()"

    @property
    def through_self(self) -> bool:
        """Whether the name is reached through ``self`` or ``cls``."""
        return self.receiver in SELF_NAMES

    @property
    def dotted(self) -> str:
        """The reference as a dotted name (``mod.f``), for plain names and module receivers."""
        return f"{self.receiver}.{self.name}" if self.receiver else self.name


def reference_at(report: ModuleReport, line_text: str, line: int, start: int) -> Reference | None:
    """The reference whose name starts at ``start`` on ``line`` (1-based), or None.

    None for a keyword or a number: nothing a definition could be found for.
    """
    match = re.match(r"\w+", line_text[start:])
    if match is None:
        return None
    name = match.group()
    if keyword.iskeyword(name) or not name.isidentifier():
        return None
    left = line_text[:start]
    receiver: str | None = None
    if left.rstrip().endswith("."):
        found = _RECEIVER.search(left)
        if found is None:
            receiver = "?"
        elif found.group(1):
            receiver = "super()"
        else:
            dotted = found.group(2)
            before = left[: found.start(2)].rstrip()
            # "a().b.c" or "x[0].c": what precedes the dotted name makes it an expression
            receiver = "?" if before.endswith((")", "]", ".")) else dotted
    return Reference(name, receiver, enclosing_class(report, line))


def enclosing_class(report: ModuleReport, line: int) -> str | None:
    """The innermost class whose definition spans ``line``."""
    inner: Symbol | None = None
    for symbol in report.symbols:
        if symbol.kind is not SymbolKind.CLASS:
            continue
        if symbol.span.line <= line <= symbol.span.end_line and (
            inner is None or symbol.span.line >= inner.span.line
        ):
            inner = symbol
    return inner.qualname if inner else None
