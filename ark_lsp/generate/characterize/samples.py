"""Sample inputs for a function, from what its signature and its users say.

Each parameter (each column of its tests) gets candidate values from
:mod:`~ark_lsp.generate.characterize.pools`. Whole calls come first: the examples in the
docstring (``>>> f(1, 2)``) and the literal calls found where the workspace
calls the function. :func:`make_cases` makes cases from a base case by
changing one parameter at a time, so that each value is tried and the table
stays short (the driver does the same in the sandbox, and more).
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ark_lsp.generate.characterize import testfile
from ark_lsp.generate.characterize.module_values import ModuleValues
from ark_lsp.generate.characterize.pools import candidates, is_value, sequence
from ark_lsp.generate.naming import last_name
from ark_lsp.models import ParameterKind, Signature

MAX_CASES = 32
"""Most cases tried per function; the sandbox runs each twice."""

_POSITIONAL = (ParameterKind.POSITIONAL_ONLY, ParameterKind.POSITIONAL_OR_KEYWORD)
_KEYWORD = (ParameterKind.POSITIONAL_OR_KEYWORD, ParameterKind.KEYWORD_ONLY)
_VARIADIC = (ParameterKind.VAR_POSITIONAL, ParameterKind.VAR_KEYWORD)
_BY_POSITION_ONLY = (ParameterKind.POSITIONAL_ONLY, ParameterKind.VAR_POSITIONAL)


@dataclass(frozen=True)
class Column:
    """A parameter that the tests pass a value for."""

    name: str
    kind: ParameterKind
    default: str | None = None
    """Its default as a literal; None when it has none."""
    by_keyword: bool = False
    """Passed as ``name=value``: a keyword-only parameter, or one after a parameter the
    tests leave out (by position, its value would land in the one left out)."""


@dataclass(frozen=True)
class Case:
    """One call: a literal for every column, and where the values came from."""

    values: tuple[str, ...]
    origin: str = "signature"
    """``docstring``, ``call site`` or ``signature``."""


def columns_of(signature: Signature) -> list[Column]:
    """The parameters a test passes: not ``**kwargs``, non-literal defaults or ``_private=0``.

    A positional parameter left out (``b`` of ``f(a, b=object(), c=1)``)
    takes its default only if nothing is passed by position after it: the
    parameters after it are passed by keyword (``f(a, c=1)``), and those only
    position reaches (positional-only ones, ``*args``) keep their defaults.
    """
    columns = []
    left_out = False
    for parameter in signature.parameters:
        if parameter.kind is ParameterKind.VAR_KEYWORD:
            continue
        # A private parameter with a default (pyparsing's dump(..., _depth=0)) is the
        # function's own business: callers leave it be, and so do its tests.
        private = parameter.name.startswith("_") and parameter.default is not None
        if private or (parameter.default is not None and not is_value(parameter.default)):
            left_out = left_out or parameter.kind in _POSITIONAL
            continue
        if left_out and parameter.kind in _BY_POSITION_ONLY:
            continue
        by_keyword = left_out or parameter.kind is ParameterKind.KEYWORD_ONLY
        columns.append(Column(parameter.name, parameter.kind, parameter.default, by_keyword))
    return columns


def docstring_calls(docstring: str | None, name: str) -> list[tuple[list[str], dict[str, str]]]:
    """Literal calls of ``name`` in doctest examples: ``>>> name(1, x='a')``."""
    if not docstring:
        return []
    found = []
    for line in docstring.splitlines():
        stripped = line.strip()
        if not stripped.startswith(">>> "):
            continue
        found += literal_calls(stripped[4:], name)
    return found


@dataclass(frozen=True)
class Callee:
    """Whose calls are examples: a function or class of ``module``, or a method of ``owner``."""

    module: str
    owner: str | None = None
    """The class of a method; None for a function or a class itself."""

    def called_by(self, func: ast.expr, name: str, bound: dict[str, str]) -> bool:
        """Whether a call of ``func`` (ending in ``name``) may call this callee.

        ``bound``: the calling file's imports. A function is called by its name
        (unless the file imports another of that name) or through its module
        (``idna.decode(...)``, not ``b"...".decode(...)``); a method on its class
        (``ParseResults(...).get(...)``), or on any object when no built-in type
        has a method of its name (pyparsing's ``ParseResults.get`` took its
        examples from ``os.environ.get("CONFIG_ARGS")``).
        """
        wanted = testfile.names_for(self.module, name)
        if isinstance(func, ast.Name):
            source = bound.get(func.id, "")
            if self.owner is not None:
                return False  # a method is not called by its bare name
            return not source or source.startswith(".") or source in wanted
        if not isinstance(func, ast.Attribute):
            return False
        receiver = func.value
        if self.owner is None:
            resolved = testfile.resolved_name(receiver, bound)
            if resolved is None:
                return False
            if resolved.startswith("."):  # a relative import: its tail must be the module's
                tail = f"{resolved.lstrip('.')}.{name}"
                return any(full.endswith(f".{tail}") or full == tail for full in wanted)
            return f"{resolved}.{name}" in wanted
        if isinstance(receiver, ast.Call):
            receiver = receiver.func
        if last_name(receiver) == self.owner:
            return True
        if testfile.resolved_name(receiver, bound) is not None:
            return False  # `parse.search(...)` after `import parse`: the module's function
        return name not in BUILT_IN_METHODS


BUILT_IN_METHODS = frozenset(
    attribute
    for kind in (dict, list, str, bytes, set, frozenset, tuple, bytearray, int, float)
    for attribute in dir(kind)
    if not attribute.startswith("_")
)
"""Method names of built-in types: a call ``x.get(...)`` says nothing of whose ``get`` it is."""


def literal_calls(
    text: str, name: str, named: ModuleValues | None = None, callee: Callee | None = None
) -> list[tuple[list[str], dict[str, str]]]:
    """Calls of ``name`` (or ``x.name``) in ``text`` whose arguments are all literals.

    Or names of ``named``, the target module's: ``Tokenizer(text, rules=DEFAULT_RULES)``.
    With ``callee``, only the calls that may be its (see :meth:`Callee.called_by`).
    """
    known = named.values if named is not None else frozenset()
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    bound = testfile.module_bindings(tree) if callee is not None else {}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = last_name(node.func)
        if called != name or any(isinstance(a, ast.Starred) for a in node.args):
            continue
        if callee is not None and not callee.called_by(node.func, name, bound):
            continue
        args = [ast.unparse(a) for a in node.args]
        kwargs = {k.arg: ast.unparse(k.value) for k in node.keywords if k.arg}
        if len(kwargs) != len(node.keywords):
            continue
        if all(v in known or is_value(v) for v in [*args, *kwargs.values()]):
            found.append((args, kwargs))
    return found


def bind(columns: Sequence[Column], args: Sequence[str], kwargs: dict[str, str]) -> Case | None:
    """A case from a call's arguments, defaults filling the rest; None if they do not fit."""
    values: dict[str, str] = {}
    positional = [c for c in columns if c.kind in _POSITIONAL and not c.by_keyword]
    star = next((c for c in columns if c.kind is ParameterKind.VAR_POSITIONAL), None)
    if len(args) > len(positional):
        if star is None:
            return None
        values[star.name] = sequence("tuple", list(args[len(positional) :]))
    for column, value in zip(positional, args, strict=False):
        values[column.name] = value
    by_name = {c.name: c for c in columns}
    for key, value in kwargs.items():
        named = by_name.get(key)
        if named is None or named.kind not in _KEYWORD or key in values:
            return None
        values[key] = value
    row = []
    for column in columns:
        if column.name in values:
            row.append(values[column.name])
        elif column.kind is ParameterKind.VAR_POSITIONAL:
            row.append("()")
        elif column.default is not None:
            row.append(column.default)
        else:
            return None
    return Case(tuple(row))


@dataclass(frozen=True)
class Plan:
    """What to try on one function: its columns, candidates per column and whole examples."""

    columns: tuple[Column, ...]
    pools: tuple[tuple[str, ...], ...]
    seeds: tuple[Case, ...] = ()
    constructions: tuple[str, ...] = ()
    """For a method: the arguments to try, in order, to make the instance it is called on."""


def plan(
    signature: Signature,
    name: str,
    docstring: str | None = None,
    call_sites: Sequence[str] = (),
    named: ModuleValues | None = None,
    callee: Callee | None = None,
    edges: Mapping[str, Sequence[str]] | None = None,
) -> Plan:
    """Candidates for each parameter, and the literal calls in the docstring and call sites.

    ``named``: the target module's constants and enum members a parameter may take;
    ``callee``: whose calls at the call sites count (any call of the name without one);
    ``edges``: per parameter, the values where the function's comparisons of it turn.
    """
    columns = columns_of(signature)
    annotations = {p.name: p.annotation for p in signature.parameters}
    edges = edges or {}
    pools = tuple(
        tuple(candidates(c, annotations.get(c.name), named, edges.get(c.name, ()))) for c in columns
    )
    seeds: list[Case] = []
    for origin, calls in (
        ("docstring", docstring_calls(docstring, name)),
        (
            "call site",
            [call for text in call_sites for call in literal_calls(text, name, named, callee)],
        ),
    ):
        for args, kwargs in calls:
            case = bind(columns, args, kwargs)
            if case is not None and case.values not in [s.values for s in seeds]:
                seeds.append(Case(case.values, origin))
    return Plan(tuple(columns), pools, tuple(seeds[:MAX_SEEDS]))


MAX_SEEDS = 12
"""Most docstring and call-site examples tried per function."""

MAX_CONSTRUCTIONS = 8
"""Most argument lists tried to make a method's instance."""


def constructions(
    signature: Signature | None,
    class_name: str,
    call_sites: Sequence[str] = (),
    named: ModuleValues | None = None,
    module: str | None = None,
    docstring: str | None = None,
) -> tuple[str, ...]:
    """Argument lists to make an instance with: ``("3", "size=0")``; ``("",)`` without ``__init__``.

    The class's literal constructions in the method's ``docstring`` examples
    (sortedcontainers' ``>>> sl = SortedList([10, 11, 12, 13, 14])`` above
    ``>>> sl.bisect_left(12)``) and at its call sites come first, then values
    from the parameters' annotations and defaults.
    """
    if signature is None:
        return ("",)
    callee = Callee(module) if module is not None else None
    found = plan(signature, class_name, docstring, call_sites, named, callee)
    _, cases = make_cases(signature, found.seeds, limit=MAX_CONSTRUCTIONS, named=named)
    tried = [arguments(*_without_defaults(found.columns, case.values)) for case in cases]
    if all(p.default is not None or p.kind in _VARIADIC for p in signature.parameters):
        # Nothing is required: the plainest instance, as most callers make it.
        tried.insert(len(found.seeds), "")
    return tuple(dict.fromkeys(tried))


def _without_defaults(
    columns: Sequence[Column], values: Sequence[str]
) -> tuple[list[Column], list[str]]:
    """The columns and values of a call less those that only repeat a default.

    ``Markup("<em>x</em>")``, not ``Markup("<em>x</em>", None, "strict")``: a
    positional one goes only from the end, a keyword one from anywhere.
    """

    def repeats(column: Column, value: str) -> bool:
        return column.default is not None and value == column.default

    pairs = [
        (column, value)
        for column, value in zip(columns, values, strict=True)
        if not (column.by_keyword and repeats(column, value))
    ]
    while pairs and not pairs[-1][0].by_keyword and repeats(*pairs[-1]):
        pairs.pop()
    return [column for column, _ in pairs], [value for _, value in pairs]


def arguments(columns: Sequence[Column], values: Sequence[str]) -> str:
    """A call's argument list from one value per column: ``1, *(2, 3), key='a'``."""
    parts = []
    for column, value in zip(columns, values, strict=True):
        if column.kind is ParameterKind.VAR_POSITIONAL:
            parts.append(f"*{value}")
        elif column.by_keyword:
            parts.append(f"{column.name}={value}")
        else:
            parts.append(value)
    return ", ".join(parts)


def make_cases(
    signature: Signature,
    seeds: Iterable[Case] = (),
    limit: int = MAX_CASES,
    named: ModuleValues | None = None,
) -> tuple[list[Column], list[Case]]:
    """The columns of a function's tests and the cases to try, seeds first."""
    columns = columns_of(signature)
    annotations = {p.name: p.annotation for p in signature.parameters}
    pools = [candidates(c, annotations.get(c.name), named) for c in columns]
    cases: list[Case] = []
    seen: set[tuple[str, ...]] = set()

    def add(case: Case) -> None:
        if case.values not in seen and len(cases) < limit:
            seen.add(case.values)
            cases.append(case)

    for seed in seeds:
        add(seed)
    if not columns:
        add(Case(()))
        return columns, cases
    base = tuple(pool[0] for pool in pools)
    add(Case(base))
    # One parameter at a time, round robin, so every parameter is varied before the cap.
    for depth in range(1, max(len(pool) for pool in pools)):
        for index, pool in enumerate(pools):
            if depth < len(pool):
                add(Case((*base[:index], pool[depth], *base[index + 1 :])))
    # Then a few pairs, for interactions between parameters.
    for (i, first), (j, second) in itertools.combinations(enumerate(pools), 2):
        for a, b in itertools.product(first[1:3], second[1:3]):
            values = list(base)
            values[i], values[j] = a, b
            add(Case(tuple(values)))
    return columns, cases


__all__ = [
    "BUILT_IN_METHODS",
    "MAX_CASES",
    "Callee",
    "Case",
    "Column",
    "Plan",
    "arguments",
    "bind",
    "candidates",
    "columns_of",
    "constructions",
    "docstring_calls",
    "is_value",
    "literal_calls",
    "make_cases",
    "plan",
]
