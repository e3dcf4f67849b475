"""``lsprotocol.types`` with each class made the first time it is used, not all at every start.

The module defines some 600 classes, and making them (attrs writes and
evaluates each one's methods) is most of what importing it costs, on every
start of the server, before it can read ``initialize``; a start to the
first diagnostics makes about 200 of the module's 640 definitions. Here
the module's source is split into its top-level statements, each
compiled once (kept in ARK's user cache, keyed by a hash of the file),
and the statements that make a class, or a value made of classes
(``REQUESTS = Union[...]``), run when their name is first looked up, in
the module's namespace, exactly as the file would run them:

- from outside, through the module's ``__getattr__`` (PEP 562), so
  ``types.Position`` and ``from lsprotocol.types import Position`` make
  ``Position``;
- from inside (a class body naming another class, a function of the
  module), through the namespace's ``__builtins__``, a mapping whose
  missing names make what they name: Python looks a name up there when
  the module has not got it yet.

The three tables of the module (``METHOD_TO_TYPES``, ``ALL_TYPES_MAP``,
``_MESSAGE_DIRECTION``) are dicts with every key, whose values are made
when they are read (:class:`LazyValues`): pygls imports two of them, and
reads one entry per message. Everything else (the method names, the
functions) runs at once, in the file's order. Every class is the one the
file makes: same code, same namespace, same line numbers. What differs is
only around them: the tables are a subclass of ``dict``, and the module
has a ``__getattr__`` and ``__dir__`` (which lists the names not made yet).

This relies on the file's shape, so it is used only with the lsprotocol
and pygls it was checked with (:data:`PINNED`); any other version, or any
surprise, imports the module as usual.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import logging
import marshal
import sys
import threading
from _blake2 import blake2b  # hashlib's own, without hashlib's import of OpenSSL
from collections.abc import Callable, Iterator
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from ark_lsp.server.generated_code import cache_folder, write_cache

logger = logging.getLogger(__name__)

MODULE = "lsprotocol.types"

PINNED = {"lsprotocol": "2025.0.0", "pygls": "2.1.1"}
"""The versions whose ``lsprotocol.types`` and pygls's use of it this was checked with."""

TABLES = frozenset({"METHOD_TO_TYPES", "ALL_TYPES_MAP", "_MESSAGE_DIRECTION"})
"""The module's dicts whose values are made as they are read."""

PLAN_FORMAT = 1
"""Bumped whenever the cached plan's shape changes."""

installed: LazyModule | None = None
"""The module :func:`install` made, in this process."""

Plan = list[tuple[Any, ...]]
"""The module's statements in order: ``("run", code)``, ``("later", names, code)``,
``("table", name, annotation_code, [(key_code, value_code), ...])``."""


class LazyValues(dict[Any, Any]):
    """A dict with all its keys, each value made by its code the first time it is read.

    ``get``, ``[]`` and ``setdefault`` make one value; any other way of seeing the
    values (``values()``, ``items()``, ``copy()``, ``==``, ``repr``, ``|``, ...) makes
    them all first, so what is seen is always what the plain dict would hold.
    """

    def __init__(self, make: Callable[[CodeType], Any], entries: list[tuple[Any, CodeType]]):
        super().__init__((key, _Unmade(code)) for key, code in entries)
        self._make = make

    def _value(self, key: Any, value: Any) -> Any:
        if type(value) is _Unmade:
            value = self._make(value.code)
            dict.__setitem__(self, key, value)
        return value

    def _all(self) -> None:
        for key, value in list(dict.items(self)):
            self._value(key, value)

    def __getitem__(self, key: Any) -> Any:
        return self._value(key, dict.__getitem__(self, key))

    def get(self, key: Any, default: Any = None) -> Any:
        value = dict.get(self, key, _ABSENT)
        return default if value is _ABSENT else self._value(key, value)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key in self:
            return self[key]
        dict.__setitem__(self, key, default)
        return default

    def __iter__(self) -> Iterator[Any]:
        # Defined so that dict(self), {**self} and update(self) read values through
        # __getitem__ instead of copying the table's raw entries.
        return dict.__iter__(self)

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        # Copied or pickled, it is the plain dict the module would have made.
        self._all()
        return (dict, (dict(dict.items(self)),))

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__reduce_ex__(2)


def _made_first(name: str) -> Callable[..., Any]:
    method = getattr(dict, name)

    def with_values_made(self: LazyValues, *args: Any, **kwargs: Any) -> Any:
        self._all()
        return method(self, *args, **kwargs)

    with_values_made.__name__ = name
    return with_values_made


_SHOWING_VALUES = (
    *("values", "items", "copy", "pop", "popitem", "__eq__", "__ne__", "__repr__"),
    *("__or__", "__ror__", "__ior__"),
)
for _name in _SHOWING_VALUES:
    setattr(LazyValues, _name, _made_first(_name))


class _Unmade:
    """A value not made yet: the code that makes it."""

    __slots__ = ("code",)

    def __init__(self, code: CodeType) -> None:
        self.code = code


_ABSENT = object()


class _MakingBuiltins(dict[str, Any]):
    """The module's ``__builtins__``: a name the module lacks runs the statement defining it."""

    def __init__(self, missing: Callable[[str], Any]) -> None:
        super().__init__(vars(builtins))
        self._missing = missing

    def __missing__(self, name: str) -> Any:
        return self._missing(name)


class LazyModule:
    """The state of one lazily made ``lsprotocol.types``: what is left to run, and a lock."""

    def __init__(self, module: ModuleType, plan: Plan) -> None:
        self.module = module
        self.namespace = vars(module)
        self.later: dict[str, tuple[tuple[str, ...], CodeType]] = {}
        self.made: list[str] = []
        """Names made on demand, in order (for the start-up figures and tests)."""
        self._lock = threading.RLock()
        self.namespace["__builtins__"] = _MakingBuiltins(self.make)
        for step in plan:
            if step[0] == "run":
                exec(step[1], self.namespace)
            elif step[0] == "later":
                for name in step[1]:
                    self.later[name] = (step[1], step[2])
            else:
                _, name, annotation, entries = step
                exec(annotation, self.namespace)  # the module's __annotations__ entry
                self.namespace[name] = LazyValues(
                    self._evaluate,
                    [(eval(key, self.namespace), value) for key, value in entries],
                )
        self.namespace["__getattr__"] = self._getattr
        self.namespace["__dir__"] = self._dir

    def make(self, name: str) -> Any:
        """Run the statement that defines ``name``; KeyError if none does."""
        with self._lock:
            if name in self.namespace:  # another thread made it meanwhile
                return self.namespace[name]
            names, code = self.later[name]  # KeyError: a name nothing defines
            for each in names:
                del self.later[each]
            self.made.append(name)
            exec(code, self.namespace)
            return self.namespace[name]

    def make_all(self) -> None:
        """Make every class and value still unmade, and fill the tables."""
        while self.later:
            self.make(next(iter(self.later)))
        for name in TABLES:
            table = self.namespace.get(name)
            if isinstance(table, LazyValues):
                table._all()

    def _evaluate(self, code: CodeType) -> Any:
        return eval(code, self.namespace)

    def _getattr(self, name: str) -> Any:
        try:
            return self.make(name)
        except KeyError:
            raise AttributeError(f"module {MODULE!r} has no attribute {name!r}") from None

    def _dir(self) -> list[str]:
        return sorted(set(self.namespace) | set(self.later))


def made_so_far() -> str:
    """How much of ``lsprotocol.types`` this process has made, for the debug log."""
    if installed is None:
        return "lsprotocol.types made whole"
    made = len(installed.made)
    return f"lsprotocol.types: {made} of {made + len(installed.later)} definitions made"


def plan_of(source: str, filename: str) -> Plan:
    """The module's statements, compiled one by one, each marked as run now or later."""
    tree = ast.parse(source, filename)
    defined_later: set[str] = set()
    plan: Plan = []

    def code(statement: ast.stmt) -> CodeType:
        return compile(ast.Module([statement], []), filename, "exec", dont_inherit=True)

    def expression(node: ast.expr) -> CodeType:
        return compile(ast.Expression(node), filename, "eval", dont_inherit=True)

    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            raise ValueError("a __future__ import would change how each statement compiles")
        loads = {
            node.id
            for node in ast.walk(statement)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
        }
        if isinstance(statement, ast.ClassDef):
            plan.append(("later", (statement.name,), code(statement)))
            defined_later.add(statement.name)
            continue
        targets = _assigned_names(statement)
        if (
            isinstance(statement, ast.AnnAssign)
            and targets
            and targets[0] in TABLES
            and isinstance(statement.value, ast.Dict)
            and None not in statement.value.keys
        ):
            key_loads = {
                node.id
                for key in statement.value.keys
                for node in ast.walk(key)  # type: ignore[arg-type]
                if isinstance(node, ast.Name)
            }
            if key_loads & defined_later:
                raise ValueError(f"{targets[0]}'s keys need classes")
            bare = ast.AnnAssign(
                target=statement.target, annotation=statement.annotation, value=None, simple=1
            )
            ast.copy_location(bare, statement)
            entries = [
                (expression(key), expression(value))
                for key, value in zip(statement.value.keys, statement.value.values, strict=True)
                if key is not None
            ]
            plan.append(("table", targets[0], code(bare), entries))
            continue
        if isinstance(statement, ast.Assign) and targets and targets[0] in TABLES:
            # METHOD_TO_TYPES is a plain assignment: same treatment, without an annotation.
            assert isinstance(statement.value, ast.Dict)
            entries = [
                (expression(key), expression(value))
                for key, value in zip(statement.value.keys, statement.value.values, strict=True)
                if key is not None
            ]
            nothing = ast.copy_location(ast.Pass(), statement)
            plan.append(("table", targets[0], code(nothing), entries))
            continue
        if targets and loads & defined_later and isinstance(statement, ast.Assign | ast.AnnAssign):
            plan.append(("later", tuple(targets), code(statement)))
            defined_later.update(targets)
            continue
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            # A function's body looks its names up when called: defining it needs none of them,
            # unless its decorators or defaults or annotations do.
            header = [*statement.decorator_list, *statement.args.defaults]
            if statement.returns is not None:
                header.append(statement.returns)
            header.extend(a.annotation for a in statement.args.args if a.annotation)
            header_loads = {
                node.id for part in header for node in ast.walk(part) if isinstance(node, ast.Name)
            }
            if header_loads & defined_later:
                raise ValueError(f"{statement.name}'s definition needs classes")
            plan.append(("run", code(statement)))
            continue
        if loads & defined_later:
            raise ValueError(f"line {statement.lineno} needs classes and defines nothing")
        plan.append(("run", code(statement)))
    return plan


def _assigned_names(statement: ast.stmt) -> list[str]:
    if isinstance(statement, ast.Assign):
        if all(isinstance(t, ast.Name) for t in statement.targets):
            return [t.id for t in statement.targets if isinstance(t, ast.Name)]
        return []
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return [statement.target.id]
    return []


def pinned_versions() -> bool:
    """Whether the installed lsprotocol and pygls are the versions this was checked with.

    Told by their ``NAME-VERSION.dist-info`` folders beside the packages, as
    ``importlib.metadata`` finds them, without importing it (its imports
    cost a fifth of what this saves). Another layout reads as another version.
    """
    for name, version in PINNED.items():
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            return False
        folder = Path(next(iter(spec.submodule_search_locations))).parent
        if not (folder / f"{name}-{version}.dist-info" / "METADATA").is_file():
            return False
    return True


def install() -> LazyModule | None:
    """Put a lazily made ``lsprotocol.types`` in ``sys.modules``; None if it cannot be.

    Does nothing when the module is already imported, with other versions
    than :data:`PINNED`, or when anything about the file is unexpected: then
    the module is imported as usual.
    """
    if MODULE in sys.modules or not pinned_versions():
        return None
    try:
        import lsprotocol

        spec = importlib.util.find_spec(MODULE)
        if spec is None or spec.origin is None or spec.loader is None:
            return None
        raw = Path(spec.origin).read_bytes()
        plan = cached_plan(raw, spec.origin)
        module = importlib.util.module_from_spec(spec)
        sys.modules[MODULE] = module
        try:
            lazy = LazyModule(module, plan)
        except BaseException:
            del sys.modules[MODULE]
            raise
    except Exception as error:  # any surprise: the plain import, which works
        logger.info("lsprotocol.types made as usual: %s", error)
        return None
    lsprotocol.types = module
    global installed
    installed = lazy
    return lazy


def cached_plan(raw: bytes, filename: str) -> Plan:
    """The module's plan, from ARK's user cache when this very file was planned before.

    Named after the file's path as well as its text: every install of the
    pinned lsprotocol has the same text (a CI checkout's, the VS Code
    extension's bundled copy), and a plan names its file, so one cache
    file for them all was planned again each time another install started.
    """
    digest = blake2b(raw, digest_size=16).hexdigest()
    where = blake2b(filename.encode("utf-8", "surrogateescape"), digest_size=8).hexdigest()
    tag = sys.implementation.cache_tag
    path = cache_folder() / f"types-plan-{digest}-{where}-{tag}.marshal"
    try:
        stored = marshal.loads(path.read_bytes())
        if stored[0] == PLAN_FORMAT and stored[1] == filename:
            return list(stored[2])
    except (OSError, EOFError, ValueError, TypeError, IndexError):
        pass
    plan = plan_of(raw.decode("utf-8"), filename)
    write_cache(path, (PLAN_FORMAT, filename, plan))
    return plan
