"""Scopes: the names each function, class or module binds, and its decisions.

The collector's walk fills them in; :mod:`ark_lsp.analysis.checks` reads
them back to resolve a callee's name the way Python would. How a node type
touches its scope (binds names, opens a scope, counts decisions) is kept
here in :data:`ROLES` and :data:`DECISION_COUNTS`, so the walk dispatches
on one table lookup per node; what counts as a decision is set out in
:mod:`ark_lsp.analysis.collector`.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Callable

from ark_lsp.models import SymbolKind

_RUNS_LATER = (SymbolKind.FUNCTION, SymbolKind.METHOD)
"""Scopes whose code runs when called, not where it is written (with lambdas)."""


class Scope:
    """A function, class or module whose decisions are being counted."""

    __slots__ = (
        "bound",
        "decisions",
        "deferred",
        "forward",
        "imported",
        "kind",
        "node",
        "parent",
        "qualname",
    )

    def __init__(
        self,
        node: ast.AST | None,
        kind: SymbolKind | None,
        qualname: str,
        parent: Scope | None,
        *,
        forward: bool = False,
    ) -> None:
        self.node = node
        self.kind = kind
        self.qualname = qualname
        self.parent = parent
        self.forward = forward
        """A lambda or comprehension: names of its own, but its decisions are its parent's."""
        self.decisions = 0
        self.deferred: bool = parent is not None and (
            parent.deferred or kind in _RUNS_LATER or type(node) is ast.Lambda
        )
        """Whether the scope's code runs after the module has run (in a function or lambda)."""
        self.bound: dict[str, int] = {}
        """Names bound other than by import (definitions, assignments, parameters), each
        to the line of its first binding."""
        self.imported: dict[str, tuple[str, ...]] = {}
        """Names the scope binds by import, to everything they import (sorted): a function's
        names are its own wherever they are bound, so alternative imports are all in force."""

    def bind(self, name: str, line: int) -> None:
        # The walk meets statements in no particular order: keep the earliest line.
        bound_at = self.bound.get(name)
        if bound_at is None or line < bound_at:
            self.bound[name] = line

    def owner(self) -> Scope:
        """The scope whose decisions this one's count toward."""
        scope = self
        while scope.forward and scope.parent is not None:
            scope = scope.parent
        return scope

    def child_qualname(self, name: str) -> str:
        return f"{self.qualname}.{name}" if self.qualname else name


class ModuleScope(Scope):
    """The module's own scope, where the walk starts.

    It records nothing: what the module's names are bound to, and where, is
    followed statement by statement by :mod:`ark_lsp.analysis.flow`, and
    resolved through :class:`~ark_lsp.analysis.bindings.ModuleBindings`,
    which merges the bindings of every block.
    """

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(None, None, "", None)

    def bind(self, name: str, line: int) -> None:
        pass


RecordedCall = tuple[Scope, ast.Call, str, str]
"""A call the walk recorded: its scope, the call, the plain name its callee is rooted in
(``x`` of ``x.y.f(...)``) and the name it is counted by (``f``)."""


def uncounted(scope: Scope) -> Scope:
    """A scope whose decisions are dropped, for what radon never looks into.

    Decorators, defaults, annotations and an assert's test are still walked,
    so rules see their calls, which resolve names in ``scope``.
    """
    return Scope(None, None, scope.qualname, scope)


def parameter_names(arguments: ast.arguments) -> list[str]:
    names = [a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)]
    names += [a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return names


def bind_names(node: ast.AST, scope: Scope) -> None:
    """Note the names a statement or expression binds in ``scope``."""
    node_type = type(node)
    line: int = node.lineno  # type: ignore[attr-defined]
    if node_type is ast.Assign:
        targets: list[ast.expr] = node.targets  # type: ignore[attr-defined]
    elif node_type in (ast.With, ast.AsyncWith):
        items: list[ast.withitem] = node.items  # type: ignore[attr-defined]
        targets = [item.optional_vars for item in items if item.optional_vars]
    elif node_type is ast.ExceptHandler:
        name: str | None = node.name  # type: ignore[attr-defined]
        if name:
            scope.bind(name, line)
        return
    else:  # AnnAssign, AugAssign, For, AsyncFor, NamedExpr
        targets = [node.target]  # type: ignore[attr-defined]
    for target in targets:
        bind_target(target, scope, line)


def bind_target(target: ast.expr, scope: Scope, line: int) -> None:
    if type(target) is ast.Name:
        scope.bind(target.id, line)
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            bind_target(element, scope, line)
    elif type(target) is ast.Starred:
        bind_target(target.value, scope, line)


class Role(enum.Enum):
    DECISION = enum.auto()
    DEFINITION = enum.auto()
    ASSERT = enum.auto()
    IMPORT = enum.auto()
    BINDING = enum.auto()
    NESTED_SCOPE = enum.auto()
    GLOBAL = enum.auto()
    DISPLAY = enum.auto()
    """A tuple, list or set display: where a starred expression may stand."""
    REFUSABLE = enum.auto()
    """A node the compiler refuses in some places (see :mod:`~ark_lsp.analysis.compiler_errors`)."""


def _match_decisions(node: ast.AST) -> int:
    assert isinstance(node, ast.Match)
    has_catch_all = any(
        type(case.pattern) is ast.MatchAs and case.pattern.pattern is None for case in node.cases
    )
    return max(0, len(node.cases) - has_catch_all)


DECISION_COUNTS: dict[type, Callable[[ast.AST], int]] = {
    ast.If: lambda node: 1,
    ast.IfExp: lambda node: 1,
    ast.For: lambda node: 1 + bool(node.orelse),  # type: ignore[attr-defined]
    ast.AsyncFor: lambda node: 1 + bool(node.orelse),  # type: ignore[attr-defined]
    ast.While: lambda node: 1 + bool(node.orelse),  # type: ignore[attr-defined]
    ast.Try: lambda node: len(node.handlers) + bool(node.orelse),  # type: ignore[attr-defined]
    ast.TryStar: lambda node: len(node.handlers) + bool(node.orelse),  # type: ignore[attr-defined]
    ast.BoolOp: lambda node: len(node.values) - 1,  # type: ignore[attr-defined]
    ast.comprehension: lambda node: 1 + len(node.ifs),  # type: ignore[attr-defined]
    ast.Match: _match_decisions,
}
"""The decisions a node of each type adds to its scope's complexity."""

ROLES: dict[type, Role] = {
    **dict.fromkeys(DECISION_COUNTS, Role.DECISION),
    ast.FunctionDef: Role.DEFINITION,
    ast.AsyncFunctionDef: Role.DEFINITION,
    ast.ClassDef: Role.DEFINITION,
    ast.Assert: Role.ASSERT,
    ast.Import: Role.IMPORT,
    ast.ImportFrom: Role.IMPORT,
    ast.Assign: Role.BINDING,
    ast.AnnAssign: Role.BINDING,
    ast.AugAssign: Role.BINDING,
    ast.For: Role.BINDING,
    ast.AsyncFor: Role.BINDING,
    ast.With: Role.BINDING,
    ast.AsyncWith: Role.BINDING,
    ast.ExceptHandler: Role.BINDING,
    ast.NamedExpr: Role.BINDING,
    ast.Lambda: Role.NESTED_SCOPE,
    ast.ListComp: Role.NESTED_SCOPE,
    ast.SetComp: Role.NESTED_SCOPE,
    ast.DictComp: Role.NESTED_SCOPE,
    ast.GeneratorExp: Role.NESTED_SCOPE,
    ast.Global: Role.GLOBAL,
    ast.Tuple: Role.DISPLAY,
    ast.List: Role.DISPLAY,
    ast.Set: Role.DISPLAY,
    **dict.fromkeys(
        (
            ast.Return,
            ast.Yield,
            ast.YieldFrom,
            ast.Await,
            ast.Break,
            ast.Continue,
            ast.Nonlocal,
            ast.Starred,
            ast.Match,
            ast.TryStar,
            *filter(None, (getattr(ast, "TypeAlias", None),)),
        ),
        Role.REFUSABLE,
    ),
}
"""What the walk does with a node type beyond descending into it."""
