"""How module-level code binds names as it runs: statement by statement, branch by branch.

A module's top-level code runs once, top to bottom. Which binding of a name
a call there meets depends on the path that led to it: ``eval(data)``
above ``from safe import eval`` is the builtin, a name imported in both
branches of ``try: import cPickle as pickle`` / ``except ImportError:
import pickle`` may be either module after them, and a ``for`` body or an
``except`` handler may or may not have run. :class:`ModuleFlow` follows the
module-level statements of each top-level statement along those paths
(``if``/``elif``/``else``, loops with ``break``, ``continue`` and ``else``,
``try`` with its handlers, ``else`` and ``finally``, ``with``, ``match``,
``raise``), once each, and records:

* for each top-level statement, what it leaves each name it binds bound to
  (:class:`~ark_lsp.analysis.bindings.Binding`), which is all the rest of
  the module needs of it;
* where module-level code makes a call, what the statement bound on the way
  there (a :class:`~ark_lsp.analysis.bindings.Site`), relative to whatever
  the statements above it left, which the module's namespace supplies.

States are relative to the top-level statement's start: a name maps to what
it may be bound to, ``ENTRY`` standing for what it was bound to before the
statement; a name not in the state is as it was. Joining two paths unions
what each name may be. A loop's body is followed once, from the state
before the loop: a call in it does not see what a later pass would have
bound (a binding further down the body), which real code does not rely on.
An ``except`` handler starts from any state the ``try`` body passed
through; a ``finally`` clause is followed from the paths that completed,
since after an exception nothing below it runs. A walrus target is bound by
the statement, or the header of the compound statement, that holds it (one
in a comprehension or a lambda is not seen). Each statement is followed
once, so the work is linear in the statements, however they nest.

Bodies of functions and classes are not followed: they bind no module-level
names, and a call in a class body runs where the class statement stands.
"""

from __future__ import annotations

import ast
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType

from ark_lsp.analysis.bindings import (
    AS_BEFORE,
    LOCAL,
    UNBOUND,
    Binding,
    Position,
    Site,
    Values,
)
from ark_lsp.analysis.blocks import first_line

State = dict[str, Values]
"""What each name a statement has bound so far may be bound to (absent: as before it)."""

_NO_STATE: Mapping[str, Values] = MappingProxyType({})


class ModuleFlow:
    """What the walked top-level statements bind, and what their module-level calls find."""

    __slots__ = ("_points", "_sites", "bindings")

    def __init__(
        self,
        statements: Iterable[ast.stmt],
        imports: Mapping[ast.stmt, Sequence[tuple[str, str]]],
        walrus: Sequence[tuple[Position, str]],
        calls: Sequence[Position],
    ) -> None:
        """Follow ``statements``.

        ``imports`` are the names each module-level import statement binds,
        and to what; ``walrus`` the module-level ``:=`` targets, by position;
        ``calls`` the positions of the calls module-level code makes. All
        sequences are sorted.
        """
        follower = _Follower(imports, walrus, calls)
        self.bindings: list[Binding] = []
        """The bindings of each statement, in order."""
        for statement in statements:
            self.bindings.extend(follower.top_level(statement))
        self._points = follower.points
        self._sites = follower.sites

    def site(self, position: Position) -> Site:
        """Where module-level code at ``position`` (a call's) runs."""
        # Points are recorded for every statement holding a module-level call;
        # the last one starting before the call is the innermost holding it.
        index = bisect_right(self._points, position) - 1
        return self._sites[index] if index >= 0 else Site(position, _NO_STATE)


class _Loop:
    __slots__ = ("breaks", "continues")

    def __init__(self) -> None:
        self.breaks: list[State] = []
        self.continues: list[State] = []


class _Follower:
    """Follows one top-level statement at a time; see the module's docstring."""

    def __init__(
        self,
        imports: Mapping[ast.stmt, Sequence[tuple[str, str]]],
        walrus: Sequence[tuple[Position, str]],
        calls: Sequence[Position],
    ) -> None:
        self.imports = imports
        self.walrus_at = [position for position, _ in walrus]
        self.walrus_names = [name for _, name in walrus]
        self.calls = calls
        self.points: list[Position] = []
        self.sites: list[Site] = []
        self.statement: Position = (0, 0)
        self.tries: list[State] = []
        """For each ``try`` being followed, every value its body bound each name to."""
        self.loops: list[_Loop] = []
        self.imported: dict[str, list[str]] = {}
        self.defined: set[str] = set()

    def top_level(self, statement: ast.stmt) -> list[Binding]:
        """What one top-level statement leaves each name it binds bound to, by name."""
        line, column = first_line(statement), statement.col_offset
        self.statement = (line, column)
        self.imported, self.defined = {}, set()
        # A statement that never completes (a bare raise) leaves nothing bound
        # for the code after it, which never runs: read it as changing nothing.
        end = self.follow(statement, {}) or {}
        return [
            Binding(
                name,
                line,
                column,
                end.get(name, AS_BEFORE),
                tuple(self.imported.get(name, ())),
                name in self.defined,
            )
            for name in sorted(end.keys() | self.imported.keys() | self.defined)
        ]

    # -- statements ------------------------------------------------------

    def follow(self, node: ast.stmt, state: State) -> State | None:
        """The state after ``node`` (``None`` if it never completes); ``state`` may be changed."""
        start = _start(node)
        self.point(start, (node.end_lineno or node.lineno, node.end_col_offset or 0), state)
        step = _STEPS.get(type(node))
        if step is not None:
            return step(self, node, state)
        # No binding of its own (an expression, pass, assert, global): its walrus targets only.
        self.walrus_in(state, start, _end(node))
        return state

    def body(self, statements: list[ast.stmt], state: State) -> State | None:
        reached = True
        for statement in statements:
            after = self.follow(statement, state)
            if after is None:
                # What follows never runs; it is still read, from the state before.
                reached = False
            else:
                state = after
        return state if reached else None

    def import_(self, node: ast.stmt, state: State) -> State | None:
        for name, target in self.imports.get(node, ()):
            self.bind(state, name, target)
        return state

    def definition(self, node: ast.stmt, state: State) -> State | None:
        assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        self.bind(state, node.name, LOCAL)
        return state

    def assign(self, node: ast.stmt, state: State) -> State | None:
        self.walrus_in(state, _start(node), _end(node))
        if type(node) is ast.Assign:
            targets = node.targets
        elif type(node) is ast.AnnAssign and node.value is None:
            targets = []  # an annotation alone binds nothing
        else:
            targets = [node.target]  # type: ignore[attr-defined]
        for name in _names(targets):
            self.bind(state, name, LOCAL)
        return state

    def delete(self, node: ast.stmt, state: State) -> State | None:
        assert isinstance(node, ast.Delete)
        for name in _names(node.targets):
            self.bind(state, name, UNBOUND)
        return state

    def if_(self, node: ast.stmt, state: State) -> State | None:
        assert isinstance(node, ast.If)
        ends: list[State | None] = []
        while True:
            self.walrus_in(state, _start(node), _start(node.body[0]))
            ends.append(self.body(node.body, dict(state)))
            orelse = node.orelse
            if len(orelse) == 1 and type(orelse[0]) is ast.If:
                # elif: followed in a loop, since a long chain nests as deep as it is long
                node = orelse[0]
                self.point(_start(node), _end(node), state)
                continue
            ends.append(self.body(orelse, state))
            return _join(ends)

    def loop(self, node: ast.stmt, state: State) -> State | None:
        assert isinstance(node, ast.For | ast.AsyncFor | ast.While)
        self.walrus_in(state, _start(node), _start(node.body[0]))
        before = dict(state)
        if type(node) is not ast.While:
            for name in _names([node.target]):  # type: ignore[union-attr]
                self.bind(state, name, LOCAL)
        loop = _Loop()
        self.loops.append(loop)
        end = self.body(node.body, state)
        self.loops.pop()
        done = _join([before, end, *loop.continues])
        if node.orelse and done is not None:
            done = self.body(node.orelse, done)
        return _join([done, *loop.breaks])

    def with_(self, node: ast.stmt, state: State) -> State | None:
        assert isinstance(node, ast.With | ast.AsyncWith)
        self.walrus_in(state, _start(node), _start(node.body[0]))
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
        for name in _names(targets):
            self.bind(state, name, LOCAL)
        return self.body(node.body, state)

    def try_(self, node: ast.stmt, state: State) -> State | None:
        assert isinstance(node, ast.Try | ast.TryStar)
        before = dict(state)
        seen: State = {}
        self.tries.append(seen)
        end = self.body(node.body, state)
        self.tries.pop()
        if end is not None and node.orelse:
            end = self.body(node.orelse, end)
        # A handler starts from wherever the body raised: any state it passed through.
        raised = dict(before)
        for name, values in seen.items():
            raised[name] = before.get(name, AS_BEFORE) | values
        ends = [end]
        for handler in node.handlers:
            entry = dict(raised)
            self.point(_start(handler), _end(handler), entry)
            self.walrus_in(entry, _start(handler), _start(handler.body[0]))
            if handler.name:
                self.bind(entry, handler.name, LOCAL)
            out = self.body(handler.body, entry)
            if out is not None and handler.name:
                self.bind(out, handler.name, UNBOUND)  # Python deletes it as the handler ends
            ends.append(out)
        done = _join(ends)
        if not node.finalbody:
            return done
        if done is None:
            self.body(node.finalbody, raised)
            return None
        return self.body(node.finalbody, done)

    def match(self, node: ast.stmt, state: State) -> State | None:
        assert isinstance(node, ast.Match)
        self.walrus_in(state, _start(node), _start(node.cases[0].pattern))
        last = node.cases[-1]
        catch_all = type(last.pattern) is ast.MatchAs and last.pattern.pattern is None
        # Unless the last case catches all, none may match.
        ends: list[State | None] = [] if catch_all and last.guard is None else [state]
        for case in node.cases:
            entry = dict(state)
            for name in _captures(case.pattern):
                self.bind(entry, name, LOCAL)
            if case.guard is not None:
                self.point(_start(case.guard), _end(case.guard), entry)
                self.walrus_in(entry, _start(case.guard), _end(case.guard))
            ends.append(self.body(case.body, entry))
        return _join(ends)

    def stop(self, node: ast.stmt, state: State) -> State | None:
        """``raise`` and ``return``: the path ends here."""
        self.walrus_in(state, _start(node), _end(node))
        return None

    def break_(self, node: ast.stmt, state: State) -> State | None:
        if not self.loops:
            return state  # outside a loop: the compiler refuses it (ARK000)
        self.loops[-1].breaks.append(dict(state))
        return None

    def continue_(self, node: ast.stmt, state: State) -> State | None:
        if not self.loops:
            return state
        self.loops[-1].continues.append(dict(state))
        return None

    # -- bindings and points -------------------------------------------------

    def bind(self, state: State, name: str, value: str) -> None:
        values = frozenset((value,))
        state[name] = values
        for seen in self.tries:
            seen[name] = seen.get(name, frozenset()) | values
        if value == LOCAL:
            self.defined.add(name)
        elif value != UNBOUND:
            self.imported.setdefault(name, []).append(value)

    def walrus_in(self, state: State, start: Position, end: Position) -> None:
        """Bind the walrus targets written from ``start`` up to ``end``."""
        at = self.walrus_at
        if not at:
            return
        index = bisect_left(at, start)
        while index < len(at) and at[index] < end:
            self.bind(state, self.walrus_names[index], LOCAL)
            index += 1

    def point(self, start: Position, end: Position, state: State) -> None:
        """Note the state at ``start`` if module-level code up to ``end`` makes a call."""
        calls = self.calls
        index = bisect_left(calls, start)
        if index < len(calls) and calls[index] <= end:
            self.points.append(start)
            self.sites.append(Site(self.statement, dict(state) if state else _NO_STATE))


_Step = Callable[[_Follower, ast.stmt, State], "State | None"]

_STEPS: dict[type, _Step] = {
    ast.Import: _Follower.import_,
    ast.ImportFrom: _Follower.import_,
    ast.FunctionDef: _Follower.definition,
    ast.AsyncFunctionDef: _Follower.definition,
    ast.ClassDef: _Follower.definition,
    ast.Assign: _Follower.assign,
    ast.AnnAssign: _Follower.assign,
    ast.AugAssign: _Follower.assign,
    ast.Delete: _Follower.delete,
    ast.If: _Follower.if_,
    ast.For: _Follower.loop,
    ast.AsyncFor: _Follower.loop,
    ast.While: _Follower.loop,
    ast.With: _Follower.with_,
    ast.AsyncWith: _Follower.with_,
    ast.Try: _Follower.try_,
    ast.TryStar: _Follower.try_,
    ast.Match: _Follower.match,
    ast.Raise: _Follower.stop,
    ast.Return: _Follower.stop,
    ast.Break: _Follower.break_,
    ast.Continue: _Follower.continue_,
}
"""How each kind of statement binds names and passes control on; the others only run."""


def _join(states: Iterable[State | None]) -> State | None:
    """What names may be bound to where paths meet (``None``: no path gets there)."""
    live = [state for state in states if state is not None]
    if len(live) <= 1:
        return live[0] if live else None
    names = set().union(*live)
    return {
        name: frozenset().union(*(state.get(name, AS_BEFORE) for state in live)) for name in names
    }


def _start(node: ast.stmt | ast.expr | ast.pattern | ast.excepthandler) -> Position:
    if isinstance(node, ast.stmt):
        return first_line(node), node.col_offset
    return node.lineno, node.col_offset


def _end(node: ast.stmt | ast.expr | ast.excepthandler) -> Position:
    return node.end_lineno or node.lineno, node.end_col_offset or 0


def _names(targets: Iterable[ast.expr]) -> Iterator[str]:
    """The plain names assignment targets bind (``a, (b, *c) = ...``: a, b, c)."""
    stack = list(targets)
    while stack:
        target = stack.pop()
        if type(target) is ast.Name:
            yield target.id
        elif isinstance(target, ast.Tuple | ast.List):
            stack.extend(target.elts)
        elif type(target) is ast.Starred:
            stack.append(target.value)


def _captures(pattern: ast.pattern) -> Iterator[str]:
    """The names a ``case`` pattern binds."""
    for node in ast.walk(pattern):
        if isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            yield node.name
        elif type(node) is ast.MatchMapping and node.rest:
            yield node.rest
