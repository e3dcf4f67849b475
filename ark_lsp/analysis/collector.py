"""The single walk over a module's top-level statements (all of them, or those an edit touched).

One iterative pass (an explicit stack, so no input nests deep enough to
overflow Python's recursion) collects definitions, imports, calls and McCabe
complexity. Complexity follows radon's ``ComplexityVisitor`` rule for rule,
so ``ark symbols`` and ``radon cc`` agree function by function:

* a function is ``1`` plus the decisions in its body; nested functions and
  classes are measured on their own and add nothing to it; decorators,
  defaults and annotations are not part of it;
* decisions: ``if``/``elif`` and conditional expressions 1 each; ``for``
  and ``while`` 1, plus 1 for an ``else``; each ``except`` handler 1, plus
  1 for a ``try``'s ``else``; a boolean operator chain ``len(values) - 1``;
  a comprehension 1 plus its ``if`` clauses; ``assert`` 1 (its expression
  is not looked into); ``match`` the number of cases, less one when a case
  is a bare capture or ``_``;
* a class is ``1`` plus the decisions of its own body plus the sum of its
  methods' complexities, reported (as radon does) averaged over its
  methods: ``real // methods + (methods > 1)``.

One deliberate difference: ``except*`` handlers (``TryStar``) count like
``except`` handlers; radon 6 does not recognise the node and counts nothing.

The per-node decision counts are tabled in :mod:`ark_lsp.analysis.scopes`,
next to the scopes they are added to; :mod:`ark_lsp.analysis.symbols` turns
each measured definition into its record. Calls are resolved after the walk,
through the module's namespace (:mod:`ark_lsp.analysis.bindings`), and the
results are read whole or split by block (:mod:`ark_lsp.analysis.blocks`).
"""

from __future__ import annotations

import ast
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TypeVar

from ark_lsp.analysis import checks
from ark_lsp.analysis.bindings import Binding, ModuleBindings, Position
from ark_lsp.analysis.blocks import Block, Lead, lead_of
from ark_lsp.analysis.compiler_errors import compiler_errors, future_flags
from ark_lsp.analysis.fixes import FixContext
from ark_lsp.analysis.flow import ModuleFlow
from ark_lsp.analysis.scopes import (
    DECISION_COUNTS,
    ROLES,
    ModuleScope,
    RecordedCall,
    Role,
    Scope,
    bind_names,
    bind_target,
    parameter_names,
    uncounted,
)
from ark_lsp.analysis.source import Source
from ark_lsp.analysis.symbols import SymbolBuilder
from ark_lsp.models import Import, Symbol, SymbolKind, Tier, Violation
from ark_lsp.rules import RuleSet

_LEAVES: frozenset[type] = frozenset({ast.Name, ast.Constant, ast.Pass, ast.alias})
_IGNORED_FIELDS = frozenset(
    # Fields that never hold a node worth visiting: contexts, operators,
    # identifiers and flags.
    {
        "ctx",
        "op",
        "type_comment",
        "type_ignores",
        "attr",
        "id",
        "arg",
        "name",
        "module",
        "level",
        "is_async",
        "kind",
        "conversion",
        "simple",
        "kwd_attrs",
        "names",
    }
)


def _child_fields() -> dict[type, tuple[str, ...]]:
    table: dict[type, tuple[str, ...]] = {}
    for value in vars(ast).values():
        if isinstance(value, type) and issubclass(value, ast.AST):
            table[value] = tuple(f for f in value._fields if f not in _IGNORED_FIELDS)
    return table


T = TypeVar("T")

_FIELDS = _child_fields()
_WALKABLE = frozenset(_FIELDS) - _LEAVES
"""Node types worth pushing: everything but leaves (and never ``None`` or ``str``)."""

MAX_SCREENED_DEPTH = 400
"""A tree deeper than this is compiled: CPython 3.11 and 3.12 refuse trees about
950 and 1,500 nodes deep (less the caller's stack), which the parser still makes."""
MAX_SCREENED_BLOCKS = 15
"""Blocks nested deeper than this (counted as :data:`_BLOCKS` weighs them) are
compiled: CPython refuses 20 (``too many statically nested blocks``)."""
_MAX_UNPACKED = 256
"""Targets before a starred one in an assignment: CPython refuses 256 and more."""
_BLOCKS: dict[type, int] = {
    ast.If: 0,
    ast.For: 1,
    ast.AsyncFor: 1,
    ast.While: 1,
    ast.With: 1,
    ast.AsyncWith: 1,
    ast.Try: 3,
}
"""The compound statements, each with the most blocks CPython's compiler pushes for what
it holds (a handler under ``try``/``finally``: three)."""
_LOOPS = frozenset({ast.For, ast.AsyncFor, ast.While})
_NOTED = frozenset({*_BLOCKS, ast.Break, ast.Continue})
"""Statements whose place in blocks is noted: blocks, and what refers to a loop."""
_OUTSIDE = (0, False)
"""A statement in no block of its function: nested in none, in no loop."""
_FUNCTIONS = (SymbolKind.FUNCTION, SymbolKind.METHOD)
_COMPREHENSIONS = frozenset({ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp})
_CALLEE = itemgetter(3)
"""A recorded call's counted name (see :data:`~ark_lsp.analysis.scopes.RecordedCall`)."""


def _target_names(target: ast.expr) -> set[str]:
    """The names an assignment target binds."""
    return {node.id for node in ast.walk(target) if type(node) is ast.Name}


def _within(position: tuple[int, int], node: ast.expr) -> bool:
    start = (node.lineno, node.col_offset)
    end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
    return start <= position < end


def _repeats_keyword(keywords: list[ast.keyword]) -> bool:
    names = [keyword.arg for keyword in keywords if keyword.arg is not None]
    return len(set(names)) < len(names)


def _refused_parameters(names: list[str]) -> bool:
    """Whether the compiler may refuse parameters of these names.

    A name given twice is refused, and a private name (``__x``) may be given
    twice once the class it is in mangles it.
    """
    if len(set(names)) < len(names):
        return True
    # Joined and searched in C first: a private parameter is rare.
    return "__" in "".join(names) and any(
        name.startswith("__") and not name.endswith("__") for name in names
    )


def resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str | None:
    """Absolute module of ``from <level dots><target> import ...`` in ``module``."""
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    climb = level - 1
    if climb > len(parts) or (climb == len(parts) and not target):
        return None
    base = parts[: len(parts) - climb]
    if target:
        base.append(target)
    return ".".join(base)


@dataclass(frozen=True, slots=True)
class ModuleContext:
    """What a module's analysis depends on besides its text."""

    path: str
    module: str
    is_package: bool
    tier: Tier
    rules: RuleSet
    builtin_roots: frozenset[str] | None = field(init=False, repr=False, compare=False)
    """The root names of the builtins some call rule names (``None``: every name)."""

    def __post_init__(self) -> None:
        callees = self.rules.builtin_callees
        roots = None if callees is None else frozenset(c.partition(".")[0] for c in callees)
        object.__setattr__(self, "builtin_roots", roots)


class Collector:
    """Walks top-level statements of a module: all of them, or those an edit touched.

    The walk records everything that depends on the statements' own text
    (definitions, imports, statement rules, the calls made and the names
    bound at module level); :meth:`finish` resolves the calls once every
    block's module-level bindings are known. The results are read whole
    (:attr:`symbols`, :attr:`imports`, :attr:`violations`, :meth:`called`)
    or split by block (:meth:`blocks`).
    """

    def __init__(
        self,
        source: Source,
        context: ModuleContext,
        *,
        once: bool = False,
        futures: int | None = None,
    ) -> None:
        """Walk for ``context``; ``once``: the statements are a whole module, analysed once.

        No next version of it follows (an index, a check), so the compiler may
        check it in one go (:func:`~ark_lsp.analysis.compiler_errors.compiler_errors`).
        ``futures``: the compile flags of the module's ``__future__`` features,
        when the statements walked are only some of it (an edit's); ``None``
        takes them from the statements, then the whole module.
        """
        self.source = source
        self.context = context
        self.once = once
        self.futures = futures
        self.module = context.module
        self.is_package = context.is_package
        self.tier = context.tier
        self.rules = context.rules
        self.symbols: list[Symbol] = []
        self.imports: list[Import] = []
        self.violations: list[Violation] = []
        self._calls: list[RecordedCall] = []
        """Calls whose callee is rooted in a plain name, with that name and the callee's own."""
        self._stored: list[tuple[int, str]] = []
        """Attributes assigned or deleted (``x.name = ...``, ``del x.name``): line and name."""
        self._imported_names: set[str] = set()
        """Every name any scope binds by import."""
        self._definitions: list[
            tuple[Scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]
        ] = []
        self._methods: dict[Scope, list[Scope]] = {}
        """Each class's methods: kept here, not on the class's scope, whose methods point
        back at it, so that an analysis leaves no reference cycle for the collector."""
        self.module_scope = ModuleScope()
        self._module_imports: dict[ast.stmt, list[tuple[str, str]]] = {}
        """What each module-level import statement binds, and to what (star imports aside)."""
        self._walrus: list[tuple[Position, str]] = []
        """Module-level ``:=`` targets, by position."""
        self._flow: ModuleFlow | None = None
        self._spans: list[tuple[int, int]] = []
        self._refusable = False
        """Whether the walk met anything the compiler may refuse: then it is asked."""
        self._deepest = 0
        """The depth in the tree of the deepest node walked."""
        self._nesting: dict[ast.stmt, tuple[int, bool]] = {}
        """How deep in blocks, and whether in a loop, each noted statement stands."""
        self._async_yields: set[Scope] = set()
        self._async_returns: set[Scope] = set()
        """Async functions that yield, and that return a value: refused together."""
        self._globals: list[tuple[Scope, str]] = []
        """Names a function or class declares global."""
        self._annotated: list[tuple[Scope, str]] = []
        """Names a function or class annotates: refused if declared global there."""

    @property
    def flow(self) -> ModuleFlow:
        """How the walked statements bind module-level names (after :meth:`collect`)."""
        assert self._flow is not None, "collect() first"
        return self._flow

    @property
    def may_be_refused(self) -> bool:
        """Whether the walked statements hold anything the compiler may refuse (after collect)."""
        return self._refusable

    @property
    def bindings(self) -> list[Binding]:
        """What each walked top-level statement binds, in source order (after :meth:`collect`)."""
        return self.flow.bindings

    def collect(self, statements: list[ast.stmt]) -> Collector:
        """Walk the statements once; return self."""
        # Each scope's nodes are walked on their own stack, so a node costs
        # no bookkeeping of which scope its decisions belong to.
        pending: list[tuple[Scope, list[ast.AST], int]] = [(self.module_scope, list(statements), 1)]
        while pending:
            scope, nodes, depth = pending.pop()
            scope.owner().decisions += self._walk(scope, nodes, depth, pending)
        if self.futures is None:
            self.futures = future_flags(statements)
        if (
            self._deepest >= MAX_SCREENED_DEPTH
            or b"__debug__" in self.source.data
            or not self._async_yields.isdisjoint(self._async_returns)
            or (self._globals and not set(self._globals).isdisjoint(self._annotated))
        ):
            self._refusable = True
        self.violations.extend(
            compiler_errors(
                statements,
                self.source,
                whole_module=self.once,
                screened=not self._refusable,
                futures=self.futures,
            )
        )
        self._walrus.sort()
        module_level = sorted(
            (c.lineno, c.col_offset) for s, c, _, _ in self._calls if not s.deferred
        )
        self._flow = ModuleFlow(statements, self._module_imports, self._walrus, module_level)
        self._measure()
        return self

    def _walk(
        self,
        scope: Scope,
        nodes: list[ast.AST],
        base: int,
        pending: list[tuple[Scope, list[ast.AST], int]],
    ) -> int:
        """Walk one scope's ``nodes`` (at depth ``base`` in the module's tree); its decisions.

        Each node goes on the stack with its depth in the tree, the deepest
        kept: the compiler refuses a tree deeper than it recurses.
        """
        decisions = 0
        stack = [(node, base) for node in nodes]
        pop, push = stack.pop, stack.append
        fields, walkable, roles, counted = _FIELDS, _WALKABLE, ROLES, DECISION_COUNTS
        attribute, call, bare_name, starred = ast.Attribute, ast.Call, ast.Name, ast.Starred
        blocks = _BLOCKS
        calls = self._calls
        stored, load = self._stored, ast.Load
        deepest = self._deepest
        while stack:
            node, depth = pop()
            if depth > deepest:
                deepest = depth
            node_type = type(node)
            # The two commonest nodes by far, taken without the generic loop;
            # an attribute chain is followed down to its root in one go.
            if node_type is attribute:
                if type(node.ctx) is not load:  # type: ignore[attr-defined]
                    stored.append((node.lineno, node.attr))  # type: ignore[attr-defined]
                value = node.value  # type: ignore[attr-defined]
                depth += 1
                while type(value) is attribute:
                    value = value.value
                    depth += 1
                if type(value) in walkable:
                    push((value, depth))
                elif depth > deepest:
                    deepest = depth
                continue
            if node_type is call:
                callee = value = node.func  # type: ignore[attr-defined]
                depth += 1
                inner = depth
                while type(value) is attribute:
                    value = value.value
                    inner += 1
                if type(value) is bare_name:
                    # The name the calls table counts it by: ``f`` of ``f(...)`` and ``x.f(...)``.
                    name = value.id if callee is value else callee.attr
                    calls.append((scope, node, value.id, name))  # type: ignore[arg-type]
                    if inner > deepest:
                        deepest = inner
                elif type(value) in walkable:
                    push((value, inner))
                for value in node.args:  # type: ignore[attr-defined]
                    if type(value) is starred:  # where a starred argument may stand
                        value = value.value
                        if type(value) in walkable:
                            push((value, depth + 1))
                    elif type(value) in walkable:
                        push((value, depth))
                keywords = node.keywords  # type: ignore[attr-defined]
                if keywords:
                    depth += 1  # the keyword node
                    for keyword in keywords:
                        if type(keyword.value) in walkable:
                            push((keyword.value, depth))
                    if len(keywords) > 1 and _repeats_keyword(keywords):
                        self._refusable = True
                continue
            role = roles.get(node_type)
            if role is not None:
                if role is Role.DECISION:
                    decisions += counted[node_type](node)
                    if node_type in blocks:
                        self._enter_block(node, blocks[node_type])  # type: ignore[arg-type]
                elif role is Role.DEFINITION:
                    self._definition(node, scope, depth, pending)  # type: ignore[arg-type]
                    continue
                elif role is Role.ASSERT:
                    decisions += 1
                    expressions = [node.test, node.msg] if node.msg else [node.test]  # type: ignore[attr-defined]
                    pending.append((uncounted(scope), expressions, depth + 1))
                    continue
                elif role is Role.BINDING:
                    bind_names(node, scope)
                    if node_type is ast.AnnAssign and type(node.target) is bare_name:  # type: ignore[attr-defined]
                        self._annotated.append((scope, node.target.id))  # type: ignore[attr-defined]
                    if node_type is ast.NamedExpr:
                        if scope is self.module_scope:
                            target: ast.Name = node.target  # type: ignore[attr-defined]
                            self._walrus.append(((node.lineno, node.col_offset), target.id))  # type: ignore[attr-defined]
                        elif scope.forward:
                            self._walrus_nested(node, scope)  # type: ignore[arg-type]
                    count = counted.get(node_type)
                    if count is not None:
                        decisions += count(node)
                    if node_type in blocks:
                        self._enter_block(node, blocks[node_type])  # type: ignore[arg-type]
                        if node_type is ast.AsyncFor or node_type is ast.AsyncWith:
                            self._refuse_outside_async(scope)
                elif role is Role.DISPLAY:
                    self._display(node, depth + 1, push)  # type: ignore[arg-type]
                    continue
                elif role is Role.NESTED_SCOPE:
                    self._nested_scope(node, scope, depth, stack, pending)
                    continue
                elif role is Role.GLOBAL:
                    self._global(node, scope)  # type: ignore[arg-type]
                    self._statement(node, "global")  # type: ignore[arg-type]
                    continue
                elif role is Role.REFUSABLE:
                    self._refusable_node(node, scope)
                    count = counted.get(node_type)
                    if count is not None:
                        decisions += count(node)
                else:
                    self._import(node, scope)  # type: ignore[arg-type]
                    continue
            depth += 1
            for field_name in fields[node_type]:
                value = getattr(node, field_name)
                if type(value) is list:
                    for item in value:
                        if type(item) in walkable:
                            push((item, depth))
                elif type(value) in walkable:
                    push((value, depth))
        self._deepest = deepest
        return decisions

    # -- what the compiler may refuse -------------------------------------

    def _enter_block(self, node: ast.stmt, weight: int) -> None:
        """Note how deep in blocks, and whether in a loop, each statement under ``node`` is.

        Only the statements that care are noted: blocks themselves, and
        ``break`` and ``continue``, which the compiler refuses outside a loop.
        """
        nesting = self._nesting
        depth, looped = nesting.get(node, _OUTSIDE)
        depth += weight
        if depth >= MAX_SCREENED_BLOCKS:
            self._refusable = True
        node_type = type(node)
        if node_type is ast.Try:
            handlers = node.handlers  # type: ignore[attr-defined]
            if any(handler.type is None for handler in handlers[:-1]):
                self._refusable = True  # a bare except: that is not the last
            parts = [node.body, node.orelse, node.finalbody]  # type: ignore[attr-defined]
            parts += [handler.body for handler in handlers]
            inner = [(part, looped) for part in parts]
        elif node_type in _LOOPS:
            inner = [(node.body, True), (node.orelse, looped)]  # type: ignore[attr-defined]
        elif node_type is ast.If:
            inner = [(node.body, looped), (node.orelse, looped)]  # type: ignore[attr-defined]
        else:  # with
            inner = [(node.body, looped)]  # type: ignore[attr-defined]
        noted = _NOTED
        for statements, in_loop in inner:
            for statement in statements:
                if type(statement) in noted:
                    nesting[statement] = (depth, in_loop)

    def _refusable_node(self, node: ast.AST, scope: Scope) -> None:
        """Whether the compiler may refuse ``node`` where it stands in ``scope``."""
        node_type = type(node)
        if node_type is ast.Return:
            if scope.kind not in _FUNCTIONS:
                self._refusable = True
            elif node.value is not None and type(scope.node) is ast.AsyncFunctionDef:  # type: ignore[attr-defined]
                self._async_returns.add(scope)  # refused in an async generator
        elif node_type is ast.Yield or node_type is ast.YieldFrom:
            # In a function's own body, not in a comprehension, a class, the module;
            # an async generator yields, but not from.
            definition = type(scope.node)
            if scope.kind not in _FUNCTIONS or definition is ast.Lambda:
                self._refusable = True
            elif definition is ast.AsyncFunctionDef:
                if node_type is ast.YieldFrom:
                    self._refusable = True
                self._async_yields.add(scope)
        elif node_type is ast.Await:
            self._refuse_outside_async(scope)
        elif node_type is ast.Break or node_type is ast.Continue:
            if not self._nesting.get(node, _OUTSIDE)[1]:  # type: ignore[call-overload]
                self._refusable = True
        else:  # nonlocal, a starred expression not in a display, match, except*, type
            self._refusable = True

    def _global(self, node: ast.Global, scope: Scope) -> None:
        """A ``global`` the compiler takes: first in a function's or class's body.

        Nothing of the scope is then used or bound before it; only a parameter
        or an annotation of the same name (or a private one, mangled) is refused.
        A module-level one is checked against the whole module by the compiler.
        """
        owner = scope.node
        if owner is None or scope.kind is None:
            self._refusable = True
            return
        for statement in owner.body:  # type: ignore[attr-defined]
            if statement is node:
                break
            if type(statement) is not ast.Global and lead_of(statement) is not Lead.DOCSTRING:
                self._refusable = True
                return
        parameters = (
            set() if scope.kind is SymbolKind.CLASS else set(parameter_names(owner.args))  # type: ignore[attr-defined]
        )
        for name in node.names:
            if name in parameters or name.startswith("__"):
                self._refusable = True
            self._globals.append((scope, name))

    def _walrus_nested(self, node: ast.NamedExpr, scope: Scope) -> None:
        """``:=`` in a lambda or a comprehension: where the compiler takes it.

        Never in a comprehension's iterable, however deep in it (a lambda
        there too); in a comprehension, never rebinding a loop variable of the
        comprehensions it binds through, nor binding in a class body.
        """
        name = node.target.id
        position = (node.lineno, node.col_offset)
        binds_outside = type(scope.node) in _COMPREHENSIONS
        current: Scope | None = scope
        while current is not None and current.forward:
            comprehension = current.node
            if isinstance(
                comprehension, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
            ):
                for generator in comprehension.generators:
                    if binds_outside and name in _target_names(generator.target):
                        self._refusable = True
                    if _within(position, generator.iter):
                        self._refusable = True
            else:  # a lambda: the name is bound in it
                binds_outside = False
            current = current.parent
        if binds_outside:
            while current is not None and current.node is None and current.parent is not None:
                current = current.parent  # decorators, defaults: their scope's
            if current is None or current.kind is SymbolKind.CLASS:
                self._refusable = True

    def _refuse_outside_async(self, scope: Scope) -> None:
        """``await``, ``async for`` and ``async with`` stand only in an async function's body."""
        if scope.kind not in _FUNCTIONS or type(scope.node) is not ast.AsyncFunctionDef:
            self._refusable = True

    def _display(
        self,
        node: ast.Tuple | ast.List | ast.Set,
        depth: int,
        push: Callable[[tuple[ast.AST, int]], None],
    ) -> None:
        """A display's elements, a starred one where the compiler takes it."""
        walkable = _WALKABLE
        stars = 0
        for element in node.elts:
            if type(element) is ast.Starred:
                stars += 1
                element = element.value
                if type(element) in walkable:
                    push((element, depth + 1))
            elif type(element) in walkable:
                push((element, depth))
        # An assignment unpacks into one starred target, after fewer than 256 others;
        # nothing starred is deleted.
        context = type(getattr(node, "ctx", None))
        if (
            stars
            and context is not ast.Load
            and context is not type(None)
            and (context is not ast.Store or stars > 1 or len(node.elts) > _MAX_UNPACKED)
        ):
            self._refusable = True

    # -- definitions -----------------------------------------------------

    def _definition(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
        scope: Scope,
        depth: int,
        pending: list[tuple[Scope, list[ast.AST], int]],
    ) -> None:
        unmeasured: list[ast.AST] = list(node.decorator_list)
        if getattr(node, "type_params", None):
            self._refusable = True  # Python 3.12's type parameters: their own rules
        if type(node) is ast.ClassDef:
            kind = SymbolKind.CLASS
            # Bases are passed as a call's arguments are: starred ones too.
            unmeasured += [base.value if type(base) is ast.Starred else base for base in node.bases]
            unmeasured += [keyword.value for keyword in node.keywords]
            if len(node.keywords) > 1 and _repeats_keyword(node.keywords):
                self._refusable = True
        else:
            assert not isinstance(node, ast.ClassDef)
            kind = SymbolKind.METHOD if scope.kind is SymbolKind.CLASS else SymbolKind.FUNCTION
            unmeasured.append(node.args)
            if node.returns is not None:
                unmeasured.append(node.returns)
        inner = Scope(node, kind, scope.child_qualname(node.name), scope)
        if kind is SymbolKind.METHOD:
            self._methods.setdefault(scope, []).append(inner)
        scope.bind(node.name, node.lineno)
        if type(node) is not ast.ClassDef:
            parameters = parameter_names(node.args)  # type: ignore[union-attr]
            inner.bound.update(dict.fromkeys(parameters, node.lineno))
            if _refused_parameters(parameters):
                self._refusable = True
        self._definitions.append((inner, node))
        # Decorators, bases, defaults and annotations hang one node lower than the
        # body's statements, under a keyword or the arguments.
        pending.append((inner, list(node.body), depth + 1))
        pending.append((uncounted(scope), unmeasured, depth + 2))

    def _nested_scope(
        self,
        node: ast.AST,
        scope: Scope,
        depth: int,
        stack: list[tuple[ast.AST, int]],
        pending: list[tuple[Scope, list[ast.AST], int]],
    ) -> None:
        """A lambda or comprehension: names of its own, decisions of its parent's."""
        inner = Scope(node, None, scope.qualname, scope, forward=True)
        line: int = node.lineno  # type: ignore[attr-defined]
        if type(node) is ast.Lambda:
            arguments = node.args
            parameters = parameter_names(arguments)
            inner.bound.update(dict.fromkeys(parameters, line))
            if _refused_parameters(parameters):
                self._refusable = True
            defaults = [*arguments.defaults, *filter(None, arguments.kw_defaults)]
            stack.extend((default, depth + 2) for default in defaults)
            pending.append((inner, [node.body], depth + 1))
            return
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        for generator in generators:
            bind_target(generator.target, inner, line)
            if generator.is_async:
                self._refusable = True
        parts = [getattr(node, part) for part in ("elt", "key", "value") if hasattr(node, part)]
        pending.append((inner, [*generators, *parts], depth + 1))

    def _statement(self, node: ast.stmt, pattern: str) -> None:
        self.violations.extend(
            checks.statement_violations(self.source, node, pattern, self.rules, self.tier)
        )

    # -- imports ---------------------------------------------------------

    def _import(self, node: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        first = len(self.imports)
        self._record_import(node)
        added = self.imports[first:]
        if type(node) is ast.Import:
            # `import a.b` binds `a` to the package `a`; `import a.b as c` binds c to a.b.
            bound = [
                (alias.asname, alias.name) if alias.asname else (root, root)
                for alias in node.names
                for root in (alias.name.partition(".")[0],)
            ]
        else:
            bound = [(i.bound, i.target) for i in added]
        if scope is not self.module_scope and any(name == "*" for name, _ in bound):
            self._refusable = True  # import * only allowed at module level
        bound = [(name, target) for name, target in bound if name != "*"]
        if scope is self.module_scope:
            self._module_imports[node] = bound
        else:
            imported = scope.imported
            for name, target in bound:
                known = imported.get(name, ())
                if target not in known:
                    imported[name] = tuple(sorted((*known, target)))
        self._imported_names.update(i.bound for i in added)
        targets = [t for item in added for t in (item.module, item.target) if item.resolved]
        self.violations.extend(
            checks.import_violations(self.source, node, targets, self.rules, self.tier)
        )

    def _record_import(self, node: ast.Import | ast.ImportFrom) -> None:
        column = self.source.column(node.lineno, node.col_offset)
        if type(node) is ast.Import:
            for alias in node.names:
                self.imports.append(
                    Import(
                        module=alias.name,
                        name=None,
                        bound=alias.asname or alias.name.partition(".")[0],
                        line=node.lineno,
                        column=column,
                    )
                )
            return
        assert isinstance(node, ast.ImportFrom)
        level = node.level or 0
        if level:
            absolute = resolve_relative(self.module, self.is_package, level, node.module)
            module = absolute if absolute is not None else "." * level + (node.module or "")
        else:
            absolute, module = node.module, node.module or ""
        for alias in node.names:
            self.imports.append(
                Import(
                    module=module,
                    name=alias.name,
                    bound=alias.asname or alias.name,
                    line=node.lineno,
                    column=column,
                    level=level,
                    resolved=absolute is not None,
                )
            )

    # -- results ---------------------------------------------------------

    def _measure(self) -> None:
        complexity: dict[Scope, int] = {}
        # Definitions were met parents first, so in reverse every method is
        # measured before the class that sums it.
        for scope, node in reversed(self._definitions):
            if isinstance(node, ast.ClassDef):
                methods = [complexity[m] for m in self._methods.get(scope, ())]
                real = 1 + scope.decisions + sum(methods)
                complexity[scope] = real // len(methods) + (len(methods) > 1) if methods else real
            else:
                complexity[scope] = 1 + scope.decisions
        builder = SymbolBuilder(self.source)
        for scope, node in self._definitions:
            self.symbols.append(builder.build(scope, node, complexity[scope]))
        self.symbols.sort(key=lambda s: (s.span.line, s.span.column))
        self.imports.sort(key=lambda i: (i.line, i.column))

    def finish(
        self, namespace: ModuleBindings, import_line: int, spans: Sequence[tuple[int, int]]
    ) -> Collector:
        """Resolve the calls in the module's ``namespace``, drop what comments suppress.

        ``import_line`` is where a fix adds an import the module lacks;
        ``spans`` are the first and last lines of the blocks walked, in order.
        """
        calls = checks.call_violations(
            self.source,
            checks.candidate_calls(
                self._calls, self._imported_names, namespace, self.context.builtin_roots
            ),
            self.rules,
            self.tier,
            checks.Namespace(namespace, self.flow),
            FixContext(namespace.imported, import_line),
        )
        self.violations.extend(calls)
        if self.violations:
            firsts = [first for first, _ in spans]
            comments: dict[int, _Comments] = {}

            def silenced(violation: Violation) -> bool:
                index = bisect_right(firsts, violation.span.line) - 1
                if index not in comments:
                    comments[index] = _Comments(self.source, *spans[index])
                return checks.suppressed(comments[index], violation)

            self.violations = [v for v in self.violations if not silenced(v)]
            self.violations.sort(key=lambda v: (v.span.line, v.span.column, v.rule))
        self._spans = list(spans)
        return self

    def called(self) -> Counter[str]:
        """How often each name is called: ``f(...)`` and ``x.f(...)`` both count for ``f``."""
        return Counter(map(_CALLEE, self._calls))

    def bound_attributes(self) -> frozenset[str]:
        """The attribute names assigned or deleted on any object (``*``: a setattr may set any)."""
        return frozenset(name for _, name in self._attribute_bindings())

    def _attribute_bindings(self) -> Iterator[tuple[int, str]]:
        """Each attribute binding's line and name, ``setattr`` and ``__setattr__`` included."""
        yield from self._stored
        for _, call, root, name in self._calls:
            if (name == "setattr" and root == "setattr") or name == "__setattr__":
                yield call.lineno, _set_name(call)

    def blocks(self, statements: Sequence[Sequence[ast.stmt]]) -> list[Block]:
        """The records of each block, after :meth:`finish`; ``statements`` are its blocks'."""
        firsts = [first for first, _ in self._spans]
        symbols = _split(self.symbols, firsts, lambda s: s.span.line)
        imports = _split(self.imports, firsts, lambda i: i.line)
        violations = _split(self.violations, firsts, lambda v: v.span.line)
        bindings = _split(self.bindings, firsts, lambda b: b.line)
        called: list[Counter[str]] = [Counter() for _ in firsts]
        roots: list[set[str]] = [set() for _ in firsts]
        attributes: list[set[str]] = [set() for _ in firsts]
        for line, name in self._attribute_bindings():
            attributes[bisect_right(firsts, line) - 1].add(name)
        for _, call, root, callee in self._calls:
            index = bisect_right(firsts, call.lineno) - 1
            called[index][callee] += 1
            roots[index].add(root)
        return [
            Block(
                first=first,
                last=last,
                statements=tuple((s.lineno, lead_of(s)) for s in statements[index]),
                symbols=tuple(symbols[index]),
                imports=tuple(imports[index]),
                violations=tuple(violations[index]),
                called=called[index],
                bindings=tuple(bindings[index]),
                roots=frozenset(roots[index]),
                attributes=frozenset(attributes[index]),
                uses_fix_context=any(v.fix is not None for v in violations[index]),
            )
            for index, (first, last) in enumerate(self._spans)
        ]


def _set_name(call: ast.Call) -> str:
    """The attribute a ``setattr(x, "name", v)`` (or ``__setattr__``) call sets; ``*``: any."""
    for argument in call.args[:2]:
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            return argument.value
    return "*"


def _split(items: list[T], firsts: list[int], line: Callable[[T], int]) -> list[list[T]]:
    """Each item put with the block its line falls in (blocks begin at ``firsts``)."""
    parts: list[list[T]] = [[] for _ in firsts]
    for item in items:
        parts[bisect_right(firsts, line(item)) - 1].append(item)
    return parts


class _Comments:
    """The comments of one block, read from its own lines when first asked for."""

    __slots__ = ("_first", "_last", "_on", "_source")

    def __init__(self, source: Source, first: int, last: int) -> None:
        self._source = source
        self._first = first
        self._last = last
        self._on: dict[int, bytes] | None = None

    def line_bytes(self, line: int) -> bytes:
        return self._source.line_bytes(line)

    def comment_on(self, line: int) -> bytes | None:
        if self._on is None:
            # Tokenizing costs as much as parsing: only for a block with a
            # violation on a line holding a "#", and only its own lines.
            self._on = self._source.comments(self._first, self._last)
        return self._on.get(line)
