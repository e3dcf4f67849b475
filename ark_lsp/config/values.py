"""What each setting accepts: value types that carry their own check, in the user's words.

A field of a settings section is annotated with one of these types; the
decoder (:mod:`ark_lsp.config.decoding`) reads the annotation, so a
setting's validation lives with its type, not in a table keyed by name. A
value that does not fit raises :class:`InvalidValue`, whose message says
what is accepted as the user writes it (``expected a positive integer``,
``'fatal' is not error, warning or info``), never a Python type's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any, TypeAlias

from ark_lsp.models import Severity, Tier
from ark_lsp.rules import Rule, user_rule


class InvalidValue(ValueError):
    """A setting's value does not fit its type; the message says what would."""


@dataclass(frozen=True)
class Accepts:
    """Annotation: a value accepted as ``words`` say, read and checked as given.

    ``read`` replaces the decoding of the annotated type (for a value
    written in a form of its own, like ``"256m"``); ``check`` must hold of
    the decoded value. Whatever fails, the user reads ``expected <words>``.
    """

    words: str
    check: Callable[[Any], bool] | None = None
    read: Callable[[Any], Any] | None = None


def one_of(*choices: str) -> Accepts:
    """Annotation: one string among ``choices``."""
    return Accepts(f"one of {', '.join(choices)}", check=lambda value: value in choices)


@dataclass(frozen=True)
class Table:
    """Annotation on ``tuple[tuple[K, V], ...]``: written as a table of ``key = value``.

    ``shape`` shows an entry as the user writes it (``glob = "tier"``). The
    entries keep the table's order (first match wins, for tiers).
    """

    shape: str


@dataclass(frozen=True)
class ArrayOfTables:
    """Annotation on ``tuple[T, ...]``: written as an array of tables, each read as ``table``.

    ``table`` is a frozen dataclass of the fields a user writes, with a
    ``build()`` method making the ``T``; ``where`` names one entry in a
    message (``rule 2: ...``).
    """

    table: type[Any]
    shape: str
    where: str


_SIZE_SUFFIXES = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(value: Any) -> int:
    """Bytes from an int or a ``"512m"``-style string (k, m, g; optional ``b``/``ib``)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*", value.lower())
        if match and float(match.group(1)) > 0:
            return int(float(match.group(1)) * _SIZE_SUFFIXES[match.group(2)])
    raise TypeError(f"expected {_SIZE_WORDS}")


_SIZE_WORDS = 'a size such as 268435456, "256m" or "1g"'


def _rule_id_key(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidValue("expected a rule id")
    return value.upper()


PositiveInt: TypeAlias = Annotated[int, Accepts("a positive integer", check=lambda n: n >= 1)]
Count: TypeAlias = Annotated[int, Accepts("0 or a positive integer", check=lambda n: n >= 0)]
PositiveNumber: TypeAlias = Annotated[float, Accepts("a positive number", check=lambda x: x > 0)]
Size: TypeAlias = Annotated[int, Accepts(_SIZE_WORDS, read=parse_size)]
"""Bytes, written as a number or as docker writes them: ``"256m"``, ``"1g"``."""

RuleIdPrefix: TypeAlias = Annotated[
    str,
    Accepts(
        "a rule id or id prefix such as ARK001 or ARK0",
        check=lambda text: re.fullmatch(r"[A-Z]+[0-9]*", text) is not None,
    ),
]
RuleIdPrefixes: TypeAlias = tuple[RuleIdPrefix, ...]
RuleIdKey: TypeAlias = Annotated[str, Accepts("a rule id", read=_rule_id_key)]
"""A rule id naming a table entry, in any case: ``ark001`` is ``ARK001``."""

TierPatterns: TypeAlias = Annotated[tuple[tuple[str, Tier], ...], Table('glob = "tier"')]
PerFileIgnores: TypeAlias = Annotated[
    tuple[tuple[str, RuleIdPrefixes], ...], Table('glob = ["ARK001", ...]')
]
ForbiddenImports: TypeAlias = Annotated[
    tuple[tuple[Tier, tuple[str, ...]], ...], Table('tier = ["module", ...]')
]
SeverityOverrides: TypeAlias = Annotated[
    tuple[tuple[RuleIdKey, Severity], ...], Table('rule id = "error" | "warning" | "info"')
]

SandboxBackend: TypeAlias = Annotated[str, one_of("auto", "docker", "local")]
"""``docker``, ``local``, or ``auto``: docker when an engine answers, else local."""

Fraction: TypeAlias = Annotated[
    float, Accepts("a number from 0 to 1, such as 0.8", check=lambda x: 0 <= x <= 1)
]
"""A share: 0.8 is 80%."""

GATE_CHECKS = ("findings", "types", "lint", "coverage", "mutation", "complexity", "tests")
"""The gate's checks, in the order it runs and reports them."""

GateCheck: TypeAlias = Annotated[str, one_of(*GATE_CHECKS)]
LintSeverity: TypeAlias = Annotated[
    str, one_of("convention", "refactor", "warning", "error", "fatal")
]
"""pylint's message categories, least severe first."""
TestSelection: TypeAlias = Annotated[str, one_of("affected", "all")]
"""Which tests the gate runs on a change: those it can affect, or all of them."""


@dataclass(frozen=True)
class RuleTable:
    """A rule of the workspace's own as written (``[[tool.ark.rules]]``, the editor's ``rules``)."""

    id: str
    kind: Annotated[str, one_of("call", "call-kwarg", "import")]
    pattern: str
    """Qualified callee (``*`` ends a prefix), or module."""
    message: str | None = None
    keyword: str | None = None
    """For ``call-kwarg``: the keyword whose truthy literal value triggers the rule."""
    severity: Severity = Severity.ERROR
    name: str | None = None
    description: str | None = None
    tiers: tuple[Tier, ...] = ()
    fix: str | None = None

    def build(self) -> Rule:
        """The rule this table describes; :class:`InvalidValue` says what is missing."""
        try:
            return user_rule(
                {key: value for key, value in asdict(self).items() if value is not None}
            )
        except ValueError as error:
            raise InvalidValue(str(error)) from None


UserRules: TypeAlias = Annotated[
    tuple[Rule, ...], ArrayOfTables(RuleTable, "an array of tables ([[tool.ark.rules]])", "rule")
]
