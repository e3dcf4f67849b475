"""Where a name used in a document is defined, from what ARK already knows.

A hover on a call site needs the function or class it calls. The open
document's own report and the index (symbols, their class bases, each
file's imports) answer most of them at once, without jedi's inference:

- a plain name defined in the module or imported (``from x import f``,
  following a package's re-exports, and ``import x`` then ``x.f``);
- ``self.f`` and ``cls.f`` inside a class: the first class of its method
  resolution order that defines ``f``, bases in other modules included;
- ``super().f``: the same order, after the enclosing class;
- ``x.f`` where ``x`` is a variable of the function that holds the place
  and every binding of it says one class (``x = Foo(...)``, ``x: Foo``, a
  parameter annotated ``Foo``): that class's ``f``
  (:mod:`ark_lsp.analysis.local_types`);
- ``self.x.f`` where every binding of ``self.x`` in the classes of the
  enclosing class's method resolution order says one class
  (``self.x = Foo(...)`` in a method, ``self.x: Foo``, ``x: Foo`` in a
  class body) and nothing else binds an attribute ``x``: not their
  modules, not the open document, no other file of the index
  (``holder.x = Other()`` anywhere makes it unknown);
- ``x.f`` where ``x`` is a module-level object its module binds once, to a
  named class (``apps = Apps(...)``).

A name is what Python's scoping makes it where it is used: a function's
own binding (a parameter, an assignment, a loop's, a lambda's or a
comprehension's variable, ``global``) shadows the module's and names no
function or class ARK could show (an import in the function aside), and a
module-level name bound more than once (a later assignment, ``del``, two
imports, a star import below its definition) is unknown.

What they cannot decide (a variable rebound to another class, a call's
result, a base class outside the workspace that comes before the
definition) is :data:`UNKNOWN`: the caller may ask jedi. What they can
decide has nothing to show (a module, an attribute no class of a fully
known hierarchy defines, a method of a builtin container) is :data:`ABSENT`.
"""

from __future__ import annotations

import builtins
import enum
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ark_lsp.analysis.local_types import (
    BUILTIN,
    IMPORTED,
    LocalClass,
    attribute_bound_elsewhere,
    attribute_class,
    class_rebinds,
    holding_functions,
    in_body,
    local_class,
    module_object_class,
    module_rebinds,
)
from ark_lsp.analysis.references import Reference
from ark_lsp.models import Import, ModuleReport, Symbol, SymbolKind
from ark_lsp.store.code_index import CodeIndexRepository
from ark_lsp.store.records import SymbolRecord

MAX_DEPTH = 12
"""How many re-exports a name's lookup follows before it gives up (cycles end here)."""

MAX_ANCESTORS = 64
"""How deep a class hierarchy is followed; a deeper one is taken as unknown beyond."""


@dataclass(frozen=True, slots=True)
class Definition:
    """A function, method or class a reference resolves to."""

    path: str
    """Workspace-relative path of the file that defines it."""
    qualname: str
    symbol: Symbol | None = None
    """The definition in the open document's own report, when it is defined there."""
    record: SymbolRecord | None = None
    """The definition as the index holds it, when it is defined in another file."""
    external: bool = False
    """Whether it is defined outside the workspace (``path`` is then the file's own)."""
    overloads: int = 0
    """How many ``@overload`` declarations of the same name its module has."""


class Outcome(enum.Enum):
    """A lookup's answer when it found no definition."""

    UNKNOWN = "unknown"
    """What ARK knows cannot decide; a slower resolver (jedi) may."""
    ABSENT = "absent"
    """Decided: the name is no function or class ARK could show."""


UNKNOWN = Outcome.UNKNOWN
ABSENT = Outcome.ABSENT


class _Module(Protocol):
    """One module's definitions and imports, from a report or from the index."""

    path: str
    name: str

    def definition(self, qualname: str) -> Definition | None: ...

    def bases(self, qualname: str) -> tuple[str, ...] | None: ...

    def imports(self) -> Sequence[Import]: ...

    def lines(self) -> Sequence[str]: ...

    def bodies(self) -> Sequence[tuple[int, int]]:
        """The first and last lines of each module-level function and class, in order."""
        ...

    def defined_twice(self, qualname: str) -> bool:
        """Whether more than one definition of ``qualname`` may be in force (overloads aside)."""
        ...


class ReportModule:
    """A module as a fresh report describes it: the open document, or a library's file."""

    def __init__(
        self,
        report: ModuleReport,
        path: str,
        *,
        external: bool = False,
        lines: Sequence[str] = (),
    ) -> None:
        self.path = path
        self.name = report.module
        self.report = report
        self.external = external
        self._lines = lines
        self._symbols: dict[str, Symbol] = {}
        self._bodies: list[tuple[int, int]] | None = None
        self._overloads: dict[str, int] = {}
        for symbol in report.symbols:
            if symbol.is_overload:
                self._overloads[symbol.qualname] = self._overloads.get(symbol.qualname, 0) + 1
            # The implementation, not the first ``@overload`` stub that declares it.
            known = self._symbols.get(symbol.qualname)
            if known is None or (known.is_overload and not symbol.is_overload):
                self._symbols[symbol.qualname] = symbol

    def definition(self, qualname: str) -> Definition | None:
        symbol = self._symbols.get(qualname)
        if symbol is None:
            return None
        return Definition(
            self.path,
            qualname,
            symbol=symbol,
            external=self.external,
            overloads=self._overloads.get(qualname, 0),
        )

    def bases(self, qualname: str) -> tuple[str, ...] | None:
        symbol = self._symbols.get(qualname)
        return symbol.bases if symbol is not None and symbol.kind is SymbolKind.CLASS else None

    def imports(self) -> Sequence[Import]:
        return self.report.imports

    def lines(self) -> Sequence[str]:
        return self._lines

    def defined_twice(self, qualname: str) -> bool:
        in_force = [
            symbol
            for symbol in self.report.symbols
            if symbol.qualname == qualname and not symbol.is_overload
        ]
        return len(in_force) > 1

    def bodies(self) -> Sequence[tuple[int, int]]:
        if self._bodies is None:
            self._bodies = sorted(
                (symbol.span.line, symbol.span.end_line)
                for symbol in self.report.symbols
                if symbol.parent is None
            )
        return self._bodies


class IndexedModule:
    """A module of the workspace as the index holds it, read as the lookup needs it."""

    def __init__(
        self,
        index: CodeIndexRepository,
        path: str,
        name: str,
        read: SourceLines | None = None,
    ) -> None:
        self.path = path
        self.name = name
        self._index = index
        self._read = read
        self._imports: list[Import] | None = None
        self._definitions: dict[str, Definition | None] = {}
        self._bases: dict[str, tuple[str, ...] | None] = {}
        self._bodies: list[tuple[int, int]] | None = None
        self._text: Sequence[str] | None = None

    def definition(self, qualname: str) -> Definition | None:
        if qualname not in self._definitions:
            record = self._index.symbol_named(self.path, qualname)
            self._definitions[qualname] = (
                Definition(
                    self.path,
                    qualname,
                    record=record,
                    overloads=self._index.overloads_of(self.path, qualname),
                )
                if record
                else None
            )
        return self._definitions[qualname]

    def bases(self, qualname: str) -> tuple[str, ...] | None:
        if qualname not in self._bases:
            self._bases[qualname] = self._index.class_bases(self.path, qualname)
        return self._bases[qualname]

    def imports(self) -> Sequence[Import]:
        if self._imports is None:
            self._imports = self._index.imports_of(self.path)
        return self._imports

    def lines(self) -> Sequence[str]:
        if self._text is None:
            self._text = (self._read(self.path) if self._read is not None else None) or ()
        return self._text

    def defined_twice(self, qualname: str) -> bool:
        return self._index.definitions_in_force(self.path, qualname) > 1

    def bodies(self) -> Sequence[tuple[int, int]]:
        if self._bodies is None:
            self._bodies = self._index.top_level_spans(self.path)
        return self._bodies


@dataclass(frozen=True, slots=True)
class _ModuleName:
    """A reference that names a module (``os``, ``pkg.sub``), indexed or not."""

    name: str


@dataclass(frozen=True, slots=True)
class _Named:
    """A reference that names a definition of a module: a function or a class."""

    module: _Module
    qualname: str

    @property
    def key(self) -> tuple[str, str]:
        return self.module.path, self.qualname


@dataclass(frozen=True, slots=True)
class _Object:
    """A module-level object whose one binding names its class (``router = Router()``)."""

    module: _Module
    name: str
    bound: LocalClass | None
    """Its class as the binding names it; None when the text binds it otherwise too."""


@dataclass(frozen=True, slots=True)
class _Opaque:
    """A base class the lookup could not follow (outside the workspace, or an expression)."""

    where: str
    text: str


LibraryReports = Callable[[str], tuple[Path, ModuleReport] | None]
"""A library module's file and report by its name, when one is ready."""

SourceLines = Callable[[str], Sequence[str] | None]
"""The lines of a workspace file by its relative path; None if it cannot be read."""

_Value = _ModuleName | _Named | _Object
_Linear = _Named | _Opaque


class DefinitionFinder:
    """Resolves references of one document; make one per request (it caches what it read)."""

    def __init__(
        self,
        report: ModuleReport,
        path: str,
        index: CodeIndexRepository | None,
        library: LibraryReports | None = None,
        lines: Sequence[str] = (),
        read: SourceLines | None = None,
    ) -> None:
        """Resolve in the document of ``report`` (at ``path``), with the workspace's index.

        ``library`` gives the report of a module outside the workspace, when
        it has one ready; ``lines`` are the document's text, for the
        variables of its functions (without them a variable is unknown);
        ``read`` gives another workspace file's, for its module-level objects.
        """
        self.document = ReportModule(report, path, lines=lines)
        self._read = read
        self._lines = lines
        self._index = index
        self._library = library
        self._modules: dict[str, _Module | None] = {report.module: self.document}

    def find(self, reference: Reference, line: int) -> Definition | Outcome:
        """The definition ``reference`` (at ``line``, 1-based) resolves to, or why there is none."""
        if reference.receiver == "?":
            return UNKNOWN
        if reference.is_super or reference.through_self:
            if reference.enclosing_class is None:
                return UNKNOWN
            owner = _Named(self.document, reference.enclosing_class)
            return self._in_hierarchy(owner, reference.name, skip_owner=reference.is_super)
        if reference.receiver is None:
            nested = self._nested(reference.name, line)
            if nested is not None:
                return nested
            local = self._local_name(reference.name, line)
            if local is not None:
                return local
        elif reference.receiver.startswith("self."):
            return self._through_attribute(reference)
        else:
            through_variable = self._through_variable(reference, line)
            if through_variable is not None:
                return through_variable
        value = self._resolve_dotted(self.document, reference.dotted, 0)
        return self._definition_of(value)

    @staticmethod
    def _definition_of(value: _Value | Outcome) -> Definition | Outcome:
        if isinstance(value, _Named):
            return value.module.definition(value.qualname) or UNKNOWN
        if isinstance(value, _ModuleName | _Object):
            return ABSENT  # a module, or an object: no function or class of its own
        return value

    # --- names -------------------------------------------------------------------------------

    def _local_name(self, name: str, line: int) -> Definition | Outcome | None:
        """A plain name the function at ``line`` binds itself; None if it does not.

        A parameter, an assignment, a loop's or ``with``'s target, ``except
        ... as``, a comprehension's or lambda's variable, a ``global`` or
        ``nonlocal`` declaration: the name is not the module's (whatever the
        module binds under it), and it holds a value, no function or class of
        its own (jedi's ``goto`` lands on the binding too): :data:`ABSENT`. A
        name the function binds by import alone is that import's.
        """
        if not self._lines:
            return None
        binding = local_class(self.document.report, self._lines, name, line)
        if not binding.local:
            return None
        if binding.bound is not None and binding.bound.name == IMPORTED:
            return self._definition_of(self._imported_locally(name, line))
        return ABSENT

    def _imported_locally(self, name: str, line: int) -> _Value | Outcome:
        """What the imports of ``name`` in the function at ``line`` bind it to, if they agree."""
        imports = [item for item in self.document.report.imports if item.bound == name]
        for holder in holding_functions(self.document.report, line):  # innermost first
            first, last = holder.span.line, holder.span.end_line
            values = [self._imported(item) for item in imports if first <= item.line <= last]
            if values:
                return values[0] if all(value == values[0] for value in values) else UNKNOWN
        return UNKNOWN

    def _imported(self, item: Import, depth: int = 0) -> _Value | Outcome:
        """What one import binds its name to."""
        if not item.resolved:
            return UNKNOWN
        if item.name is None:
            top = item.module.partition(".")[0]
            return _ModuleName(top if item.bound == top else item.module)
        return self._member(_ModuleName(item.module), item.name, depth + 1)

    def _rebound(
        self, module: _Module, name: str, named: Sequence[Import], defined: bool, depth: int
    ) -> bool:
        """Whether ``module`` binds ``name`` at its top level in more ways than one.

        Two imports of it that differ, an import and a ``def``, a star import
        that may bind it too, or any other binding (an assignment, ``del``, a
        loop, ``global`` in a function) leave which one is in force to the
        order of execution, which the index does not follow.
        """
        if len({(item.module, item.name) for item in named}) > 1 or (defined and named):
            return True
        if defined and module.defined_twice(name):
            return True  # ``if ...: def f(): ...`` / ``else: def f(): ...``
        span = _span_of(module.definition(name)) if defined else None
        last = max([item.line for item in named] + [span[0] if span else 0])
        for item in _module_level(module, module.imports()):
            if item.name == "*" and item.line > last:  # a star above is overridden by the name
                star = _ModuleName(item.module)
                found = self._member(star, name, depth + 1) if item.resolved else UNKNOWN
                if found is not ABSENT:
                    return True
        return module_rebinds(module.lines(), name, module.bodies)

    def _through_variable(self, reference: Reference, line: int) -> Definition | Outcome | None:
        """``x.f`` where ``x`` is a variable of the function at ``line``; None if it is not one."""
        assert reference.receiver is not None
        first, *rest = reference.receiver.split(".")
        if not self._lines:
            return None
        binding = local_class(self.document.report, self._lines, first, line)
        if not binding.local:
            return None
        if binding.bound is None:
            return UNKNOWN
        named = binding.bound.name
        value: _Value | Outcome
        if named == IMPORTED:
            value = self._imported_locally(first, line)  # ``import os`` in the function
        elif named != BUILTIN and self._is_local(named.partition(".")[0], line):
            return UNKNOWN  # the class itself is a variable (``kind = ...; kind()``)
        else:
            value = self._class_of(self.document, binding.bound, 0)
        for part in [*rest, reference.name]:
            if isinstance(value, Outcome):
                return value
            value = self._member(value, part, 1)
        return self._definition_of(value)

    def _through_attribute(self, reference: Reference) -> Definition | Outcome:
        """``self.x.f`` in a method: ``f`` of the one class ``self.x`` is bound to."""
        assert reference.receiver is not None
        if reference.enclosing_class is None:
            return UNKNOWN
        _, attribute, *rest = reference.receiver.split(".")
        owner = _Named(self.document, reference.enclosing_class)
        value = self._attribute_value(owner, attribute)
        for part in [*rest, reference.name]:
            if isinstance(value, Outcome):
                return value
            value = self._member(value, part, 1)
        return self._definition_of(value)

    def _attribute_value(self, owner: _Named, attribute: str) -> _Value | Outcome:
        """The one class every binding of ``self.attribute`` in ``owner``'s hierarchy names.

        Each class of its method resolution order is read (a base outside the
        workspace may bind it: unknown), then each of their modules for a
        binding of an attribute so named anywhere else (a subclass's, an
        object's ``x.attribute = ...``).
        """
        if owner.module.bases(owner.qualname) is None:
            return UNKNOWN
        classes: dict[tuple[str, str], _Named] = {}
        builtin = False
        read: dict[str, tuple[Sequence[str], list[tuple[int, int]]]] = {}
        for entry in self._linearize(owner, frozenset()):
            if isinstance(entry, _Opaque):
                return UNKNOWN
            span = _span_of(entry.module.definition(entry.qualname))
            lines, spans = read.setdefault(entry.module.path, (entry.module.lines(), []))
            if span is None or not lines:
                return UNKNOWN  # a library's class, or a file that cannot be read
            spans.append(span)
            binding = attribute_class(lines, *span, attribute)
            if not binding.local:
                continue
            value = self._class_of(entry.module, binding.bound, 0)
            if isinstance(value, _Named):
                classes[value.key] = value
            elif value is ABSENT:
                builtin = True
            else:
                return UNKNOWN
        if any(attribute_bound_elsewhere(*where, attribute) for where in read.values()):
            return UNKNOWN
        if self._bound_outside(read.keys(), attribute):
            return UNKNOWN  # ``holder.x = Other()`` in another module
        if builtin:
            return UNKNOWN if classes else ABSENT
        return next(iter(classes.values())) if len(classes) == 1 else UNKNOWN

    def _bound_outside(self, read: Collection[str], attribute: str) -> bool:
        """Whether a file other than those ``read`` may bind an attribute named ``attribute``.

        The open document is read as it is now; the workspace's other files
        as the index has them (an attribute set with ``setattr`` and a name
        computed may be any).
        """
        document = self.document.path
        if document not in read and attribute_bound_elsewhere(self._lines, (), attribute):
            return True
        if self._index is None:
            return False  # no workspace: the document is all there is to read
        return any(
            path not in read and path != document
            for path in self._index.files_binding_attribute(attribute)
        )

    def _is_local(self, name: str, line: int) -> bool:
        return local_class(self.document.report, self._lines, name, line).local

    def _class_of(self, module: _Module, bound: LocalClass | None, depth: int) -> _Value | Outcome:
        """The class a variable of ``module`` holds, from how its binding names it."""
        if bound is None:
            return UNKNOWN  # bound more than once, or to what the text cannot name
        if bound.name == BUILTIN:
            return ABSENT  # ARK shows nothing of builtins: no tier, no complexity
        if bound.name == IMPORTED:
            return UNKNOWN  # a class body's import: rare, and for inference to follow
        value = self._resolve_dotted(module, bound.name, depth + 1)
        if isinstance(value, _Named):
            # A function called returns what it returns: for inference to find.
            return value if value.module.bases(value.qualname) is not None else UNKNOWN
        unbound = value is ABSENT and "." not in bound.name
        if unbound and isinstance(getattr(builtins, bound.name, None), type):
            return ABSENT  # ``dict(...)``, ``x: str``: a builtin's instance
        return UNKNOWN

    def _nested(self, name: str, line: int) -> Definition | None:
        """A function or class defined inside the function that holds ``line``."""
        inner: Symbol | None = None
        for symbol in self.document.report.symbols:
            if symbol.name != name or symbol.parent is None:
                continue
            parent = self.document.definition(symbol.parent)
            holder = parent.symbol if parent else None
            if (
                holder is not None
                and holder.kind is not SymbolKind.CLASS
                and holder.span.line <= line <= holder.span.end_line
                and (inner is None or symbol.span.line > inner.span.line)
            ):
                inner = symbol
        return self.document.definition(inner.qualname) if inner else None

    def _resolve_dotted(self, module: _Module, dotted: str, depth: int) -> _Value | Outcome:
        first, *rest = dotted.split(".")
        value = self._resolve_bound(module, first, depth)
        for part in rest:
            if isinstance(value, _Object):
                value = self._class_of(value.module, value.bound, depth + 1)
            if isinstance(value, Outcome):
                # An attribute of a variable: its type is for inference (jedi) to find.
                return UNKNOWN
            value = self._member(value, part, depth + 1)
        return value

    def _resolve_bound(self, module: _Module, name: str, depth: int) -> _Value | Outcome:
        """What ``name`` means at the top level of ``module``.

        A name the module neither defines nor imports is bound by an
        assignment, a loop or a parameter (or not at all): :data:`ABSENT`,
        as jedi's ``goto`` would land on that statement, no function or class.
        """
        if depth > MAX_DEPTH:
            return UNKNOWN
        imports = _module_level(module, module.imports())
        named = [item for item in imports if item.bound == name and item.name != "*"]
        defined = module.definition(name) is not None
        if defined or named:
            # A library's second binding is its C accelerator's (``from _datetime import *``
            # below ``class timedelta``): the same API, whose source is the Python one.
            library = isinstance(module, ReportModule) and module.external
            if not library and self._rebound(module, name, named, defined, depth):
                return UNKNOWN  # bound more than once: which one is in force is not the text's
            return _Named(module, name) if defined else self._imported(named[-1], depth)
        outcome = ABSENT
        for item in imports:
            if item.name == "*":
                found = (
                    self._member(_ModuleName(item.module), name, depth + 1)
                    if item.resolved
                    else UNKNOWN
                )
                if isinstance(found, _Named):
                    return found
                if found is UNKNOWN:
                    outcome = UNKNOWN  # the star may bind it, for all ARK can tell
        if outcome is ABSENT:
            bound = module_object_class(module.lines(), name)
            if bound.local:
                return _Object(module, name, bound.bound)
        return outcome

    def _member(self, value: _Value, name: str, depth: int) -> _Value | Outcome:
        """``value.name``: a module's attribute or submodule, or a class's method."""
        if depth > MAX_DEPTH:
            return UNKNOWN
        if isinstance(value, _ModuleName):
            module = self._module(value.name)
            found = self._resolve_bound(module, name, depth) if module is not None else UNKNOWN
            if not isinstance(found, Outcome):
                return found
            submodule = f"{value.name}.{name}" if value.name else name
            return _ModuleName(submodule) if self._module(submodule) is not None else found
        if isinstance(value, _Object):
            owner = self._class_of(value.module, value.bound, depth)
            return owner if isinstance(owner, Outcome) else self._member(owner, name, depth + 1)
        if value.module.bases(value.qualname) is None:
            return UNKNOWN  # an attribute of a function: nothing the index records
        return self._defining_class(value, name, skip_owner=False)

    def _module(self, name: str) -> _Module | None:
        if name not in self._modules:
            located = self._index.module_file(name) if self._index is not None else None
            module: _Module | None = None
            if located is not None and self._index is not None:
                module = IndexedModule(self._index, located[0], name, self._read)
            elif self._library is not None and (ready := self._library(name)) is not None:
                module = ReportModule(ready[1], str(ready[0]), external=True)
            self._modules[name] = module
        return self._modules[name]

    # --- classes -----------------------------------------------------------------------------

    def _in_hierarchy(self, owner: _Named, name: str, *, skip_owner: bool) -> Definition | Outcome:
        """The definition of ``name`` by the first class of ``owner``'s MRO that has one."""
        found = self._defining_class(owner, name, skip_owner=skip_owner)
        if isinstance(found, _Named):
            return found.module.definition(found.qualname) or UNKNOWN
        return found

    def _defining_class(self, owner: _Named, name: str, *, skip_owner: bool) -> _Named | Outcome:
        """``name`` in the first class of ``owner``'s method resolution order that defines it."""
        if owner.module.bases(owner.qualname) is None:
            return UNKNOWN
        order = self._linearize(owner, frozenset())
        definer: _Named | None = None
        hidden = False
        for entry in order[1:] if skip_owner else order:
            if isinstance(entry, _Opaque):
                if definer is None:
                    return UNKNOWN  # it may define the name, for all the index knows
                continue
            hidden = hidden or self._assigned_in(entry, name)
            qualname = f"{entry.qualname}.{name}"
            if definer is None and entry.module.definition(qualname) is not None:
                definer = _Named(entry.module, qualname)
        if definer is None:
            return ABSENT
        # ``save = other`` in a class, ``self.save = ...`` in a method: the def may not be it
        return UNKNOWN if hidden else definer

    @staticmethod
    def _assigned_in(entry: _Named, name: str) -> bool:
        """Whether the class ``entry`` binds ``name`` by assignment, as far as its text says."""
        span = _span_of(entry.module.definition(entry.qualname))
        lines = entry.module.lines()
        return span is not None and bool(lines) and class_rebinds(lines, *span, name)

    def _linearize(self, owner: _Named, visiting: frozenset[tuple[str, str]]) -> list[_Linear]:
        """The C3 linearization (Python's MRO) of a class, bases it cannot follow opaque."""
        bases = owner.module.bases(owner.qualname) or ()
        visiting = visiting | {owner.key}
        parents: list[_Linear] = []
        for text in bases:
            base = self._base(owner.module, text, visiting)
            if base is not None:
                parents.append(base)
        orders: list[list[_Linear]] = [
            self._linearize(parent, visiting) if isinstance(parent, _Named) else [parent]
            for parent in parents
        ]
        return [owner, *_c3_merge([*orders, parents])]

    def _base(
        self, module: _Module, text: str, visiting: frozenset[tuple[str, str]]
    ) -> _Linear | None:
        name = text.partition("[")[0].strip()  # Generic[T] is Generic
        if name in ("object", "builtins.object"):
            return None
        found = (
            self._resolve_dotted(module, name, 0)
            if len(visiting) <= MAX_ANCESTORS and name.replace(".", "").isidentifier()
            else UNKNOWN
        )
        if (
            isinstance(found, _Named)
            and found.key not in visiting
            and found.module.bases(found.qualname) is not None
        ):
            return found
        return _Opaque(module.path, text)


def _module_level(module: _Module, imports: Sequence[Import]) -> Sequence[Import]:
    """The imports of ``module`` made at its top level, not in a function's or class's body."""
    if not imports:
        return imports
    bodies = module.bodies()
    return [item for item in imports if not in_body(bodies, item.line)]


def _span_of(definition: Definition | None) -> tuple[int, int] | None:
    """The first and last lines of a definition, decorators included."""
    if definition is None:
        return None
    if definition.symbol is not None:
        return definition.symbol.span.line, definition.symbol.span.end_line
    if definition.record is not None:
        return definition.record.line, definition.record.end_line
    return None


def _key(entry: _Linear) -> tuple[str, str]:
    return entry.key if isinstance(entry, _Named) else (entry.where, entry.text)


def _c3_merge(sequences: list[list[_Linear]]) -> list[_Linear]:
    """Merge linearizations as Python's C3 does; where C3 fails, depth first without repeats."""
    pending = [list(sequence) for sequence in sequences if sequence]
    merged: list[_Linear] = []
    while pending:
        for sequence in pending:
            head = sequence[0]
            if not any(_key(head) in map(_key, other[1:]) for other in pending):
                break
        else:  # an inconsistent hierarchy: Python refuses it; keep an order all the same
            seen: set[tuple[str, str]] = {_key(entry) for entry in merged}
            for sequence in pending:
                for entry in sequence:
                    if _key(entry) not in seen:
                        seen.add(_key(entry))
                        merged.append(entry)
            return merged
        merged.append(head)
        pending = [
            [entry for entry in sequence if _key(entry) != _key(head)] for sequence in pending
        ]
        pending = [sequence for sequence in pending if sequence]
    return merged
