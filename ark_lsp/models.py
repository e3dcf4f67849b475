"""The plain data every layer shares.

These are deliberately dumb, frozen dataclasses: the analysis layer produces
them, the store persists them, and the front ends (CLI, language server)
translate them into their own formats. Nothing here imports anything heavier
than the standard library.

The records the analysis makes by the thousand (spans, symbols, imports) are
plain slotted dataclasses rather than frozen ones, which cost four times as
much to build; treat every instance as immutable all the same.

Positions follow one convention throughout: lines are 1-based, columns are
0-based offsets in code points of the line's text (not UTF-8 bytes, which is
what :mod:`ast` reports). Front ends convert to what their audience expects.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class Tier(enum.StrEnum):
    """How far a file is trusted; decides which imports it may use."""

    CORE = "core"
    TRUSTED = "trusted"
    SANDBOX = "sandbox"
    TESTING = "testing"


class Severity(enum.StrEnum):
    """How serious a violation is; ``error`` fails ``ark check``."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class SymbolKind(enum.StrEnum):
    """What a symbol is; nested functions are ``function``."""

    FUNCTION = "function"
    METHOD = "method"
    CLASS = "class"


class ParameterKind(enum.StrEnum):
    """The five parameter kinds of :class:`inspect.Parameter`, as text."""

    POSITIONAL_ONLY = "positional_only"
    POSITIONAL_OR_KEYWORD = "positional_or_keyword"
    VAR_POSITIONAL = "var_positional"
    KEYWORD_ONLY = "keyword_only"
    VAR_KEYWORD = "var_keyword"


@dataclass(slots=True)
class Span:
    """A region of a file: 1-based lines, 0-based code-point columns."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(slots=True)
class Parameter:
    """One parameter of a function, with its annotation and default as source text."""

    name: str
    kind: ParameterKind
    annotation: str | None = None
    default: str | None = None

    def render(self) -> str:
        """Render the parameter as it would be written in a ``def``."""
        # Compared by identity: an enum member's hash is a Python-level call.
        kind = self.kind
        if kind is ParameterKind.VAR_POSITIONAL:
            text = "*" + self.name
        elif kind is ParameterKind.VAR_KEYWORD:
            text = "**" + self.name
        else:
            text = self.name
        if self.annotation is not None:
            text += f": {self.annotation}"
            if self.default is not None:
                text += f" = {self.default}"
        elif self.default is not None:
            text += f"={self.default}"
        return text


@dataclass(slots=True)
class Signature:
    """A function's full signature."""

    parameters: tuple[Parameter, ...] = ()
    returns: str | None = None

    def parts(self) -> list[str]:
        """The parameters as written in a ``def``, with the ``*`` and ``/`` markers."""
        kinds = [p.kind for p in self.parameters]
        if ParameterKind.KEYWORD_ONLY not in kinds and ParameterKind.POSITIONAL_ONLY not in kinds:
            # Most signatures: no ``*`` or ``/`` marker to place.
            return [parameter.render() for parameter in self.parameters]
        parts: list[str] = []
        for index, parameter in enumerate(self.parameters):
            if parameter.kind is ParameterKind.KEYWORD_ONLY and (
                ParameterKind.VAR_POSITIONAL not in kinds
                and (index == 0 or kinds[index - 1] is not ParameterKind.KEYWORD_ONLY)
            ):
                parts.append("*")
            parts.append(parameter.render())
            is_last_positional_only = parameter.kind is ParameterKind.POSITIONAL_ONLY and (
                index + 1 == len(kinds) or kinds[index + 1] is not ParameterKind.POSITIONAL_ONLY
            )
            if is_last_positional_only:
                parts.append("/")
        return parts

    def render(self) -> str:
        """Render as ``(a, /, b: int = 1, *args, c, **kw) -> str``."""
        rendered = f"({', '.join(self.parts())})"
        if self.returns is not None:
            rendered += f" -> {self.returns}"
        return rendered


@dataclass(slots=True)
class Symbol:
    """A function, method or class definition and its measurements."""

    name: str
    qualname: str
    kind: SymbolKind
    span: Span
    name_span: Span
    complexity: int
    rank: str
    is_async: bool = False
    signature: Signature | None = None
    bases: tuple[str, ...] = ()
    decorators: tuple[str, ...] = ()
    docstring: str | None = None
    parent: str | None = None
    """Qualified name of the enclosing function or class, if any."""

    @property
    def lines(self) -> int:
        """Number of source lines the definition spans, decorators excluded."""
        return self.span.end_line - self.span.line + 1

    @property
    def is_overload(self) -> bool:
        """Whether it is an ``@overload`` declaration (``typing.overload`` too): no code runs."""
        return any("overload" in decorator for decorator in self.decorators)


@dataclass(slots=True)
class Import:
    """One name bound by an ``import`` or ``from ... import`` statement."""

    module: str
    """The absolute module imported from; relative imports are resolved."""
    name: str | None
    """For ``from m import n``: ``n`` (``*`` for a wildcard); ``None`` for ``import m``."""
    bound: str
    """The name the statement binds in the importing namespace."""
    line: int
    column: int
    level: int = 0
    """Number of leading dots of a relative import; 0 for absolute ones."""
    resolved: bool = True
    """False when a relative import climbs above the top-level package."""

    @property
    def target(self) -> str:
        """The most specific dotted name this import refers to."""
        if self.name is None or self.name == "*":
            return self.module
        return f"{self.module}.{self.name}" if self.module else self.name


@dataclass(slots=True)
class LineCounts:
    """Physical line counts of a file.

    ``comment`` counts lines whose first non-blank character is ``#``;
    ``blank`` counts whitespace-only lines; ``code`` counts the rest
    (docstrings included).
    """

    total: int = 0
    code: int = 0
    comment: int = 0
    blank: int = 0


@dataclass(slots=True)
class TextEdit:
    """Replace the text of ``span`` (empty for an insertion) with ``new_text``."""

    span: Span
    new_text: str


@dataclass(slots=True)
class Fix:
    """A way to resolve a violation, as edits of the file's text."""

    title: str
    edits: tuple[TextEdit, ...]
    safe: bool = True
    """Whether applying it keeps the program's behaviour; only safe fixes are automatic."""


@dataclass(slots=True)
class Violation:
    """A rule broken at a place in a file."""

    rule: str
    severity: Severity
    message: str
    span: Span
    fix: Fix | None = None


@dataclass(frozen=True, slots=True)
class ModuleReport:
    """Everything the analysis layer knows about one file."""

    path: str
    module: str
    tier: Tier
    lines: LineCounts
    symbols: tuple[Symbol, ...] = ()
    imports: tuple[Import, ...] = ()
    violations: tuple[Violation, ...] = ()
    called: tuple[tuple[str, int], ...] = ()
    """How often each name is called here: ``f(...)`` and ``x.f(...)`` both count for ``f``."""
    bound_attributes: tuple[str, ...] = ()
    """The attribute names assigned or deleted here on any object (``x.name = ...``,
    ``del x.name``, ``setattr(x, "name", ...)``), sorted; ``*`` when a ``setattr`` may
    set any."""
    parsed: bool = True
    """False when the file could not be parsed; see the ARK000 violation."""
    encoding: str = "utf-8"

    @property
    def average_complexity(self) -> float:
        """Mean complexity over functions and methods (classes excluded)."""
        scores = [s.complexity for s in self.symbols if s.kind is not SymbolKind.CLASS]
        return sum(scores) / len(scores) if scores else 0.0


@dataclass(frozen=True, slots=True)
class FileState:
    """What the indexer remembers of a file to tell whether it changed."""

    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True, slots=True)
class IndexedFile:
    """A file's analysis together with the state of the bytes it was made from."""

    path: str
    """Workspace-relative POSIX path."""
    state: FileState
    report: ModuleReport


CancelCheck = Callable[[], bool]
"""Returns True once the caller wants the work stopped (a sandbox run, a generation)."""
