"""The names a module binds at its top level, and what a call finds under each.

Module-level code runs once, top to bottom, as the module is imported: a
call there sees the bindings made before it, on the paths that reach it,
so ``eval(data)`` above ``from safe import eval`` is the builtin, and a name
bound by alternative imports (``try: import simplejson as json`` / ``except
ImportError: import json``) may be either module. A function's code runs
once the module has finished: a call there sees every module-level import
of the name (any of them may be in force), and failing an import, any other
binding makes the name the module's own. Star imports and ``global``
declarations bind no names here.

Each top-level statement says what it leaves each name it binds bound to
(:class:`Binding`, worked out by :mod:`ark_lsp.analysis.flow`); a block
keeps its statements' bindings, since they depend on its text alone.
:class:`ModuleBindings` folds them, in order, into what each name is bound
to after every statement that binds it, so that a call finds the binding
in force where it runs with a bisection; :func:`changed_names` tells an
edit which names it bound differently, so that only the blocks calling
those names are checked again.
"""

from __future__ import annotations

import builtins
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from typing import NamedTuple

BUILTIN_NAMES = frozenset(dir(builtins))

LOCAL = "<local>"
"""A value of the module's own (a ``def``, a class, an assignment): no rule's callee."""
UNBOUND = "<unbound>"
"""No binding (never bound, or deleted): a builtin's name is the builtin."""
ENTRY = "<entry>"
"""Whatever the name was bound to before the statement: a path that leaves it as it was."""

Values = frozenset[str]
"""What a name may be bound to: modules or objects imported (their qualified names), or a marker."""

AS_BEFORE: Values = frozenset({ENTRY})
NOTHING_BOUND: Values = frozenset({UNBOUND})

Position = tuple[int, int]
"""A line (1-based) and a column (as :mod:`ast` counts it)."""


class Binding(NamedTuple):
    """What one top-level statement does to one module-level name."""

    name: str
    line: int
    """The statement's first line, decorators included."""
    column: int
    after: Values
    """What the name may be bound to once the statement has run (``ENTRY``: as before it)."""
    imports: tuple[str, ...]
    """What every import in the statement binds the name to, in order: what a function sees."""
    defines: bool
    """Whether the statement binds the name otherwise too (a ``def``, an assignment)."""

    def moved(self, lines: int) -> Binding:
        """The same binding ``lines`` further down."""
        return self._replace(line=self.line + lines)


class Site(NamedTuple):
    """Where module-level code makes a call: what decides the names it finds."""

    statement: Position
    """The position of the top-level statement the call is in."""
    bound: Mapping[str, Values]
    """What that statement bound before the call, where it differs from ``AS_BEFORE``."""


def after(values: Values, before: Values) -> Values:
    """What ``values`` (relative to a point, ``ENTRY`` in it) are, given what was ``before`` it."""
    if ENTRY not in values:
        return values
    return (values - AS_BEFORE) | before


def qualified(name: str, values: Values) -> tuple[str, ...]:
    """The qualified names a name bound to ``values`` may refer to, in order."""
    found = [value for value in values if value[0] != "<"]
    if UNBOUND in values and name in BUILTIN_NAMES:
        found.append(f"builtins.{name}")
    found.sort()
    return tuple(found)


class ModuleBindings:
    """The module's namespace as calls see it, folded from its blocks' bindings."""

    __slots__ = ("_defined", "_imports", "_positions", "_values", "imported")

    def __init__(self, blocks: Iterable[Iterable[Binding]]) -> None:
        self.imported: dict[str, str] = {}
        """Names bound by import, to what they import; the first import in the file wins,
        and the order is the file's."""
        positions: dict[str, list[Position]] = {}
        values: dict[str, list[Values]] = {}
        imports: dict[str, dict[str, None]] = {}
        defined: set[str] = set()
        imported = self.imported
        for bindings in blocks:
            for binding in bindings:
                name = binding.name
                known = values.get(name)
                if known is None:
                    positions[name] = [(binding.line, binding.column)]
                    values[name] = [after(binding.after, NOTHING_BOUND)]
                else:
                    positions[name].append((binding.line, binding.column))
                    known.append(after(binding.after, known[-1]))
                if binding.imports:
                    imports.setdefault(name, {}).update(dict.fromkeys(binding.imports))
                    if name not in imported:
                        imported[name] = binding.imports[0]
                if binding.defines:
                    defined.add(name)
        self._positions = positions
        """Each name's binding statements, in order."""
        self._values = values
        """What each name is bound to after each of its binding statements."""
        self._imports = {name: tuple(sorted(targets)) for name, targets in imports.items()}
        self._defined = defined

    def bound_before(self, name: str, statement: Position) -> Values:
        """What ``name`` is bound to when the top-level statement at ``statement`` starts."""
        positions = self._positions.get(name)
        if positions is None:
            return NOTHING_BOUND
        index = bisect_left(positions, statement)
        return self._values[name][index - 1] if index else NOTHING_BOUND

    def resolve(self, name: str, site: Site) -> tuple[str, ...]:
        """What ``name``, used by module-level code at ``site``, may refer to."""
        values = site.bound.get(name, AS_BEFORE)
        if ENTRY in values:
            values = after(values, self.bound_before(name, site.statement))
        return qualified(name, values)

    def resolve_later(self, name: str) -> tuple[str, ...]:
        """What ``name``, used by a function (once the module has run), may refer to."""
        imports = self._imports.get(name)
        if imports is not None:
            return imports
        if name in self._defined:
            return ()
        return (f"builtins.{name}",) if name in BUILTIN_NAMES else ()


def changed_names(before: Iterable[Binding], after: Iterable[Binding]) -> set[str]:
    """Names whose resolution elsewhere in the module may differ after an edit.

    ``before`` and ``after`` are the bindings of the statements an edit
    replaced and of those it put in their place. The blocks around them keep
    their order, and each lies wholly above or below the edit, so what
    counts is what the edited statements together do to a name: what they
    leave it bound to (for the code below them), and which imports and
    other bindings of it they hold (for functions anywhere).
    """
    old, new = _effects(before), _effects(after)
    return {
        name
        for name in old.keys() | new.keys()
        if old.get(name, _NO_EFFECT) != new.get(name, _NO_EFFECT)
    }


_Effect = tuple[Values, frozenset[str], bool]
_NO_EFFECT: _Effect = (AS_BEFORE, frozenset(), False)


def _effects(bindings: Iterable[Binding]) -> dict[str, _Effect]:
    effects: dict[str, _Effect] = {}
    for binding in bindings:
        values, imports, defines = effects.get(binding.name, _NO_EFFECT)
        effects[binding.name] = (
            after(binding.after, values),
            imports.union(binding.imports),
            defines or binding.defines,
        )
    return effects
