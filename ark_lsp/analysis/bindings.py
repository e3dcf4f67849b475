"""The names a module binds at its top level, gathered from every block.

A call's callee is resolved through the scopes of its own top-level
statement (its *block*) and then through the module's namespace, which
every block contributes to: ``from x import eval`` at the bottom of a file
changes what ``eval(data)`` at the top calls. Each block records its
module-level bindings as :class:`Binding` events in source order;
:class:`ModuleBindings` merges them into the namespace a call resolves in,
and :func:`changed_names` tells an edit which names it re-bound, so that
only the blocks calling those names are checked again.

Resolution is flow-insensitive, as it always was: an import anywhere at
module level names what it imports everywhere, and any other binding makes
the name local from its first line on (for code that runs later, from a
function, everywhere). Star imports and ``global`` declarations do not bind
names here. The events keep lines and order, so a flow-sensitive resolution
(the binding in force at the call's line) can replace :meth:`resolve`
without changing what blocks record.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import NamedTuple

BUILTIN_NAMES = frozenset(dir(builtins))

STAR = "*"
"""The name a star import's event binds: every name, as far as anyone can tell."""


class Binding(NamedTuple):
    """One name bound at module level: by import (``target`` set) or otherwise."""

    name: str
    target: str | None
    """What an import binds the name to; ``None`` for a definition or assignment."""
    line: int
    column: int

    def moved(self, lines: int) -> Binding:
        """The same binding ``lines`` further down."""
        return self._replace(line=self.line + lines)


class ModuleBindings:
    """The module's namespace as calls see it, merged from its blocks' bindings."""

    __slots__ = ("first_bound", "imported")

    def __init__(self, blocks: Iterable[Iterable[Binding]]) -> None:
        self.imported: dict[str, str] = {}
        """Names bound by import, to what they import; the first import in the file wins,
        and the order is the file's."""
        self.first_bound: dict[str, int] = {}
        """Names bound otherwise, to the line of their first binding."""
        imported, first_bound = self.imported, self.first_bound
        for bindings in blocks:
            for name, target, line, _ in bindings:
                if target is None:
                    if name not in first_bound:
                        first_bound[name] = line
                elif name != STAR and name not in imported:
                    imported[name] = target

    def resolve(self, name: str, line: int, deferred: bool) -> str | None:
        """What ``name``, used at module level (or ``deferred`` from a function), refers to.

        A qualified name, or ``None`` when it is a module-level variable of its own.
        """
        target = self.imported.get(name)
        if target is not None:
            return target
        bound_at = self.first_bound.get(name)
        if bound_at is not None and (deferred or bound_at <= line):
            return None
        return f"builtins.{name}" if name in BUILTIN_NAMES else None


def changed_names(before: Iterable[Binding], after: Iterable[Binding]) -> set[str]:
    """Names whose resolution elsewhere in the module may differ after an edit.

    ``before`` and ``after`` are the bindings of the statements an edit
    replaced and of those it put in their place. The blocks around them keep
    their order, and each lies wholly above or below the edit, so a binding
    that moved within the edited lines changes nothing for them: only a
    name's sequence of bindings (their kinds and targets, in order) counts.
    A non-import binding matters only for a builtin's name, since any other
    name that no import binds resolves to nothing either way (this follows
    :meth:`ModuleBindings.resolve`: were resolution flow-sensitive, a
    definition could shadow an import, and would matter for imported names
    too).
    """
    old, new = _sequences(before), _sequences(after)
    changed: set[str] = set()
    for name in old.keys() | new.keys():
        was, now = old.get(name, ()), new.get(name, ())
        if was == now:
            continue
        imports_changed = [t for t in was if t is not None] != [t for t in now if t is not None]
        if imports_changed or name in BUILTIN_NAMES:
            changed.add(name)
    return changed


def _sequences(bindings: Iterable[Binding]) -> dict[str, tuple[str | None, ...]]:
    sequences: dict[str, list[str | None]] = {}
    for binding in bindings:
        sequences.setdefault(binding.name, []).append(binding.target)
    return {name: tuple(targets) for name, targets in sequences.items()}
