"""Calls functions on sample inputs and writes down what they did; runs inside the sandbox.

This file is copied into the sandbox and run there as a script by the
sandbox's own Python, so it imports nothing but the standard library and
keeps to what Python 3.10 reads. It reads its orders from
``.ark-characterize.json`` and writes ``.ark-observed.json`` after each
target, so a run killed half way still reports what it saw.

For each target it either runs the exact cases it is given (the second,
checking run) or explores: docstring and call-site examples first, then a
search for a base case that returns normally, then every candidate value of
each parameter in turn around that base, then pairs, then random changes of
the cases that reached lines no other case did, while that keeps finding
new ones. The lines each call runs in the target's own file are recorded,
so that the tests can be chosen to cover the most with the fewest rows.

The values it is given are literals, a few built-in functions by their
names, and the constants and enum members of the module that ARK read from
its text and listed in the orders (``DEFAULT_RULES``, ``Color.RED``),
resolved from the imported module, and new instances of the classes of the
module listed there, made with no argument (``Text()``): no other name is
looked up.

An observation is one of: ``value`` (the result's ``repr``, which reads
back as an equal literal; or, for an instance of a class of the module or
of :data:`REMADE_CLASSES`, the class and the literals a call of it takes to
make an equal one, from the ``repr``: ``Version(major=1, minor=2)``; or a
member of an enum of the module), ``raises`` (the exception's importable class),
``type`` (a result that is not a literal: its importable class), ``timeout``,
``unstable`` (two calls in a row gave different results), ``unwritable`` (a
result that cannot be written down), ``crashed`` (the call ended the
process), ``bad_input``. Each call runs in a forked child, so a call that
changes the module's globals does not change what the next one sees; such
a call is marked ``stateful``, since in a test run it would.
"""

import ast
import asyncio
import collections.abc
import contextlib
import enum
import functools
import inspect
import io
import itertools
import json
import os
import random
import signal
import sys
import time
from typing import Any

CALLABLE_VALUES = ("str", "len", "repr", "abs", "sorted", "bool", "int", "tuple")
"""Built-in functions a value may name, for a parameter that takes a callable: no effects."""


SPEC = ".ark-characterize.json"
OUT = ".ark-observed.json"
CALL_TIMEOUT = 2.0
TARGET_SECONDS = 10.0
MAX_CALLS = 150
MUTATION_PATIENCE = 25
"""Mutations in a row that reach no new line before the search stops."""
MAX_REPR = 1500
REMADE_CLASSES = frozenset(
    {
        "builtins.bytearray",
        "builtins.frozenset",
        "builtins.range",
        "collections.Counter",
        "collections.OrderedDict",
        "collections.deque",
        "datetime.date",
        "datetime.datetime",
        "datetime.time",
        "datetime.timedelta",
        "decimal.Decimal",
        "fractions.Fraction",
        "ipaddress.IPv4Address",
        "ipaddress.IPv4Network",
        "ipaddress.IPv6Address",
        "ipaddress.IPv6Network",
        "pathlib.PosixPath",
        "pathlib.PurePosixPath",
        "pathlib.PureWindowsPath",
        "uuid.UUID",
    }
)
"""Classes of other modules whose instances a test may write as a call of literals
(``datetime.date(2024, 1, 31)``): values, whose constructors do nothing else. ARK
reads this set, not the sandbox's copy, to judge what the driver reports."""
MADE_INPUTS = REMADE_CLASSES | {"pathlib.Path", "pathlib.PurePath"}
"""The classes ARK's inputs may make (``pathlib.Path('a/b.txt')``), by the same rule."""
VALUE_CONSTANTS = frozenset({"datetime.timezone.utc"})
"""Objects of the standard library a value may name among its literals (a time zone)."""
MAX_ITEMS = 200
SEARCH_TRIES = 60


class CallTimeout(BaseException):
    """Raised in a call that ran past its time."""


def _on_alarm(signum: int, frame: object) -> None:
    raise CallTimeout()


def _resolve(module: Any, qualname: str) -> Any:
    value = module
    for part in qualname.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def reference(cls: type, own: str = "") -> "dict[str, str] | None":
    """The first class in ``cls``'s MRO a test can name by importing its module.

    Not a private one (``contextlib._GeneratorContextManager``): a test naming it
    would reach into another module's privates. The module ``own`` (the
    target's) may give one, which a test imports by its name. A class of
    another module is named where a public package above it exports it (see
    :func:`_exported`); one of a private module that none does, only in the
    target's own package.
    """
    import builtins

    for klass in cls.__mro__:
        module, qualname = klass.__module__, klass.__qualname__
        if "<" in qualname or klass is object:
            continue
        private = any(part.startswith("_") for part in qualname.split("."))
        if private and (module != own or "." in qualname):
            continue
        if module == "builtins":
            if getattr(builtins, qualname, None) is klass:
                return {"module": "builtins", "name": qualname}
            continue
        if module != own and "." in module:
            hidden = any(part.startswith("_") for part in module.split("."))
            exported = _exported(klass, module)
            if exported is not None:
                module = exported
            elif hidden and not own.startswith(module.split(".")[0] + "."):
                continue  # another package's private module
        loaded = sys.modules.get(module)
        if loaded is not None and _resolve(loaded, qualname) is klass:
            return {"module": module, "name": qualname}
    return None


def _exported(klass: type, module: str) -> "str | None":
    """The shortest public package above ``module`` that exports ``klass`` by its name.

    h11's ``_util.LocalProtocolError`` is ``h11.LocalProtocolError`` (tests that named
    it ``Exception`` pinned nothing), ``json.decoder.JSONDecodeError`` is
    ``json.JSONDecodeError``, as people write them.
    """
    parts = module.split(".")
    for end in range(1, len(parts)):
        package = parts[:end]
        if any(part.startswith("_") for part in package):
            break
        loaded = sys.modules.get(".".join(package))
        if loaded is not None and getattr(loaded, klass.__qualname__, None) is klass:
            return ".".join(package)
    return None


_VIEWS = (collections.abc.KeysView, collections.abc.ValuesView, collections.abc.ItemsView)
"""A mapping's ``keys()``, ``values()`` and ``items()``: compared as the lists they give
(bidict's ``keys()`` was "a result that cannot be written")."""


def _is_iterator(value: object) -> bool:
    return (
        hasattr(value, "__next__")
        and hasattr(value, "__iter__")
        and not isinstance(value, io.IOBase)
    )


def observe(result: object, own: str = "") -> "dict[str, Any]":
    """What a returned value looks like as test data (``own``: see :func:`reference`)."""
    consumed = False
    if _is_iterator(result) or isinstance(result, _VIEWS):
        items = list(itertools.islice(result, MAX_ITEMS + 1))  # type: ignore[call-overload]
        if len(items) > MAX_ITEMS:
            return {"kind": "unwritable", "why": f"an iterator of more than {MAX_ITEMS} items"}
        result, consumed = items, True
    try:
        text = repr(result)
    except Exception:
        return {"kind": "unwritable", "why": "its repr() fails"}
    if len(text) > MAX_REPR:
        return {"kind": "unwritable", "why": f"a result longer than {MAX_REPR} characters"}
    try:
        back = ast.literal_eval(text)
        same = type(back) is type(result) and bool(back == result)
    except Exception:
        same = False
    if same:
        return {"kind": "value", "text": text, "consumed": consumed}
    again = remade(result, text, own)
    if again is not None:
        return {**again, "kind": "value", "consumed": consumed}
    named = reference(type(result), own)
    if named is None and callable(result):
        # A function made in a call (jinja2's select_autoescape returns a closure): a test
        # can say it is callable, as nothing else names its type.
        named = {"module": "collections.abc", "name": "Callable"}
    if named is None:
        return {"kind": "unwritable", "why": f"a {type(result).__name__}"}
    # A generator of objects: the test asserts the type of the list it gives, as it does
    # for literals (a consumed iterator is compared as a list).
    return {"kind": "type", "module": named["module"], "name": named["name"], "consumed": consumed}


def remade(result: object, text: str, own: str) -> "dict[str, str] | None":
    """``result`` as its class and the arguments that make an equal one, when it is so made.

    From its ``repr`` (``Version(major=1, minor=2)``, ``datetime.date(2024, 1, 31)``):
    the arguments must be literals, and a call of the class on them must give an
    instance equal to ``result`` both ways, with the same ``repr``. An enum member
    of the module is named (``Color.RED``). The class is the module ``own``'s or
    one of :data:`REMADE_CLASSES`; semver's ``bump_major`` was asserted only as
    ``isinstance(..., Version)``.
    """
    cls = type(result)
    module, qualname = cls.__module__, cls.__qualname__
    if reference(cls, own) != {"module": module, "name": qualname}:
        return None
    if module == own and qualname not in _CLASSES:
        return None  # made by no class statement at the module's top (ARK makes only those)
    if isinstance(result, enum.Enum):
        member = result.name
        if module != own or not isinstance(member, str) or not member.isidentifier():
            return None
        if getattr(cls, member, None) is not result:
            return None
        return {"module": module, "name": f"{qualname}.{member}", "text": ""}
    if module != own and f"{module}.{qualname}" not in REMADE_CLASSES:
        return None
    if cls.__eq__ is object.__eq__:  # equal only to itself: no call makes an equal one
        return None
    try:
        call = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not isinstance(call, ast.Call) or call.col_offset != 0:
        return None
    head = ast.get_source_segment(text, call.func) or ""
    arguments = text[len(head) :]
    if not text.startswith(head) or not arguments.startswith("("):
        return None
    tracer = sys.gettrace()
    sys.settrace(None)  # the lines the making runs are not the call's
    try:
        args = [_plain(node) for node in call.args]
        kwargs = {str(k.arg): _plain(k.value) for k in call.keywords if k.arg}
        if len(kwargs) != len(call.keywords):
            return None
        again = cls(*args, **kwargs)
        if not (again == result and result == again and repr(again) == text):
            return None
    except Exception:  # arguments that are not literals, or a class that refuses them
        return None
    finally:
        sys.settrace(tracer)
    return {"module": module, "name": qualname, "text": arguments}


def _plain(node: ast.expr) -> Any:
    """A literal, or one of :data:`VALUE_CONSTANTS` (``datetime.timezone.utc``)."""
    if isinstance(node, ast.Attribute) and ast.unparse(node) in VALUE_CONSTANTS:
        return _standard(ast.unparse(node))
    return ast.literal_eval(node)


def _standard(dotted: str) -> Any:
    """What a dotted name of :data:`MADE_INPUTS` or :data:`VALUE_CONSTANTS` is."""
    import importlib

    module, _, name = dotted.partition(".")
    return _resolve(importlib.import_module(module), name)


class Target:
    """One function or method and how to call it."""

    def __init__(self, module: Any, order: "dict[str, Any]") -> None:
        self.order = order
        self.columns = order["columns"]
        self.binding = order["binding"]
        self.is_async = order["is_async"]
        owner = _resolve(module, order["class_name"]) if order["class_name"] else module
        if owner is None:
            raise LookupError("{} not found in the module".format(order["class_name"]))
        self.owner = owner
        self.module = module
        self.name = order["name"]
        # Statically: a descriptor may give None on its class (toolz's instanceproperty).
        if inspect.getattr_static(owner, self.name, None) is None:
            raise LookupError("{} not found".format(order["qualname"]))
        self.filename = getattr(module, "__file__", None)
        self.lines: set[int] = set()
        self.make_instance: Any = owner
        self.instance: Any = None
        # A method that returns nothing is known by the instance it leaves: its state
        # is written when its class makes it again from its repr (``Box(items=[1])``).
        self.after = bool(order.get("after")) and self.binding == "method"

    def construct(self, constructions: "list[str]") -> str:
        """The first argument list that makes an instance; each call then gets a fresh one."""
        failure: BaseException = LookupError("no way to make an instance was given")
        for text in constructions or [""]:
            timer = hasattr(signal, "setitimer")
            try:
                args, kwargs = _literal_arguments(text)
                with (
                    contextlib.redirect_stdout(io.StringIO()),
                    contextlib.redirect_stderr(io.StringIO()),
                ):
                    if timer:
                        signal.setitimer(signal.ITIMER_REAL, CALL_TIMEOUT)
                    try:
                        self.owner(*args, **kwargs)
                    finally:
                        if timer:
                            signal.setitimer(signal.ITIMER_REAL, 0)
            except BaseException as error:  # any failure: try the next arguments
                failure = error
                continue
            self.make_instance = functools.partial(self.owner, *args, **kwargs)
            return text
        raise failure

    def _tracer(self, frame: Any, event: str, arg: object) -> Any:
        """Record the lines run in the target's own file; other files are not traced."""
        if frame.f_code.co_filename != self.filename:
            return None
        if event == "line":
            self.lines.add(frame.f_lineno)
        return self._tracer

    def function(self) -> Any:
        if self.binding == "method":
            self.instance = self.make_instance()
            return getattr(self.instance, self.name)
        if self.binding == "property":
            make, name = self.make_instance, self.name
            return lambda: getattr(make(), name)  # read as a call of nothing
        return getattr(self.owner, self.name)

    def _state_after(self) -> "dict[str, str]":
        """The arguments that make the instance again as the call left it, when there are any."""
        try:
            text = repr(self.instance)
        except Exception:
            return {}
        if len(text) > MAX_REPR:
            return {}
        again = remade(self.instance, text, self.module.__name__)
        if again is None or again["name"] != self.order["class_name"] or not again["text"]:
            return {}
        return {"after": again["text"]}

    def call(self, values: "list[str]") -> "dict[str, Any]":
        """Call in a child process, so that what the call changes does not reach the next one."""
        if not hasattr(os, "fork"):
            return self.call_twice(values)
        reading, writing = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: call, report, and leave without cleaning up after the parent
            os.close(reading)
            try:
                before = _state(self.module)
                observed = self.call_twice(values)
                if _changed(before, _state(self.module)):
                    observed = {**observed, "stateful": True}
                data = json.dumps(observed).encode("utf-8")
            except BaseException:
                data = b'{"kind": "bad_input"}'
            with os.fdopen(writing, "wb") as pipe:
                pipe.write(data)
            os._exit(0)
        os.close(writing)
        return _wait_for(pid, reading)

    def call_twice(self, values: "list[str]") -> "dict[str, Any]":
        """Call twice: a result that changes from one call to the next is not kept."""
        first = self.call_once(values)
        if first["kind"] not in ("value", "type"):
            return first
        second = self.call_once(values)
        # The lines run may differ (a cache hit the second time); the result may not.
        same = {k: v for k, v in second.items() if k != "lines"} == {
            k: v for k, v in first.items() if k != "lines"
        }
        return first if same else {"kind": "unstable"}

    def call_once(self, values: "list[str]") -> "dict[str, Any]":
        try:
            parsed = [_value(v) for v in values]
        except Exception:
            return {"kind": "bad_input"}
        positional: list[Any] = []
        keywords: dict[str, Any] = {}
        for column, value in zip(self.columns, parsed, strict=False):
            if column["kind"] == "var_positional":
                positional.extend(value)
            elif column.get("by_keyword") or column["kind"] == "keyword_only":
                # After a parameter left out, a value given by position would land in it.
                keywords[column["name"]] = value
            else:
                positional.append(value)
        sink = io.StringIO()
        timer = hasattr(signal, "setitimer")
        consuming = False
        self.lines = set()
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                if timer:
                    signal.setitimer(signal.ITIMER_REAL, CALL_TIMEOUT)
                sys.settrace(self._tracer)
                try:
                    result = self.function()(*positional, **keywords)
                    if self.is_async or inspect.iscoroutine(result):
                        result = asyncio.run(result)
                    # A generator fails when it is consumed, not when it is called.
                    consuming = _is_iterator(result)
                    observed = observe(result, self.module.__name__)
                    if self.after and result is None:
                        observed = {**observed, **self._state_after()}
                finally:
                    sys.settrace(None)
                    if timer:
                        signal.setitimer(signal.ITIMER_REAL, 0)
        except CallTimeout:
            return {"kind": "timeout"}
        except BaseException as error:  # the function's own failure is the observation
            named = reference(type(error), self.module.__name__) or {
                "module": "builtins",
                "name": "BaseException",
            }
            return {
                "kind": "raises",
                "module": named["module"],
                "name": named["name"],
                "consumed": consuming,
                "lines": sorted(self.lines),
                "incidental": _incidental(error),
            }
        return {**observed, "lines": sorted(self.lines)}


def _incidental(error: BaseException) -> bool:
    """Whether a ``TypeError`` or ``AttributeError`` came of an operation, not a ``raise``.

    ``1 .get(...)`` or ``len(0)`` fail so on an argument of a kind the code does not
    take: a test of that pins the misuse (xmltodict's ``namespaces`` given ``1``),
    and a rewrite that fails another way (``len(1)``) fails it. A ``raise TypeError``
    of the code's own, wherever, is a contract.
    """
    if not isinstance(error, (TypeError, AttributeError)):
        return False
    trace = error.__traceback__
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    if trace is None:
        return False
    import linecache

    line = linecache.getline(trace.tb_frame.f_code.co_filename, trace.tb_lineno)
    return not line.lstrip().startswith("raise")


_CLASSES: "set[str]" = set()
"""The classes the module's own top-level ``class`` statements make, as ARK read them."""

_NAMED: "dict[str, Any]" = {}
"""The constants, enum members and classes of the module ARK's values may name, once imported."""


def _resolve_named(module: Any, names: "list[str]") -> None:
    for name in names:
        value = _resolve(module, name)
        if value is not None:
            _NAMED[name] = value


def _value(node: "ast.expr | str") -> Any:
    """A value ARK wrote: a literal, one of :data:`CALLABLE_VALUES` or of :data:`_NAMED`.

    Or a new instance of a class of :data:`_NAMED`, made with no argument: ``Text()``;
    or a value of the standard library, of :data:`MADE_INPUTS` made from such values.
    """
    if isinstance(node, str):
        node = ast.parse(node, mode="eval").body
    if isinstance(node, (ast.Name, ast.Attribute)) and ast.unparse(node) in _NAMED:
        return _NAMED[ast.unparse(node)]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and not node.args
        and not node.keywords
        and isinstance(_NAMED.get(node.func.id), type)
    ):
        return _NAMED[node.func.id]()  # a new instance of a class of the module, each call
    if isinstance(node, ast.Call) and ast.unparse(node.func) in MADE_INPUTS:
        # A value of the standard library ARK wrote: datetime.date(2024, 1, 31).
        args = [_value(argument) for argument in node.args]
        kwargs = {str(k.arg): _value(k.value) for k in node.keywords}
        return _standard(ast.unparse(node.func))(*args, **kwargs)
    if isinstance(node, ast.Attribute) and ast.unparse(node) in VALUE_CONSTANTS:
        return _standard(ast.unparse(node))
    if isinstance(node, ast.Name) and node.id in CALLABLE_VALUES:
        import builtins

        return getattr(builtins, node.id)
    return ast.literal_eval(node)


def _literal_arguments(text: str) -> "tuple[list[Any], dict[str, Any]]":
    """The values of an argument list of values: ``1, *(2,), key=len``."""
    call = ast.parse(f"f({text})", mode="eval").body
    assert isinstance(call, ast.Call)
    args: list[Any] = []
    for node in call.args:
        if isinstance(node, ast.Starred):
            args.extend(_value(node.value))
        else:
            args.append(_value(node))
    return args, {str(k.arg): _value(k.value) for k in call.keywords}


def _state(module: Any) -> "dict[str, tuple[int, int]]":
    """What a module's globals, and its classes' attributes, are bound to (caches aside).

    With how big their containers are. A class's attribute is the module's state as
    much as a global: pyparsing's ``ParserElement.set_default_whitespace_chars("")``
    changes what every later parse sees.
    """
    state = {}
    for name, value in list(vars(module).items()):
        if "cache" in name.lower() or name.startswith("__"):
            continue
        state[name] = _binding(value)
        if isinstance(value, type) and getattr(value, "__module__", None) == module.__name__:
            for attribute, held in list(vars(value).items()):
                if "cache" not in attribute.lower() and not attribute.startswith("__"):
                    state[f"{name}.{attribute}"] = _binding(held)
    return state


def _binding(value: object) -> "tuple[int, int]":
    size = len(value) if isinstance(value, (dict, list, set, bytearray)) else -1
    return (-1 if value is None or size == 0 else id(value), size)


def _changed(before: "dict[str, tuple[int, int]]", after: "dict[str, tuple[int, int]]") -> bool:
    """Whether a call changed state later calls could see.

    Filling a global that was ``None`` or empty is taken for lazy
    initialisation (``base64`` builds its tables on first use), which
    changes no result; rebinding or resizing a global that held something,
    or deleting one, is not.
    """
    for name, (identity, size) in before.items():
        now = after.get(name)
        if now is None:
            return True
        if identity == -1:
            continue  # was None or empty: initialised now, if anything
        if now[0] != identity or (size > 0 and now[1] != size):
            return True
    return False


def _wait_for(pid: int, reading: int) -> "dict[str, Any]":
    """The child's report; a child that outlives both calls' time is killed."""
    import select

    deadline = time.monotonic() + 2 * CALL_TIMEOUT + 2.0
    chunks = []
    with os.fdopen(reading, "rb") as pipe:
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([pipe], [], [], max(left, 0))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return {"kind": "timeout"}
            chunk = os.read(pipe.fileno(), 65536)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if not chunks:
        # The call ended the process itself (os._exit, a signal, the memory limit).
        return {"kind": "crashed", "status": status}
    observed: dict[str, Any] = json.loads(b"".join(chunks))
    return observed


def _vary(base: "list[str]", pools: "list[list[str]]") -> "list[list[str]]":
    cases = []
    for depth in range(1, max([len(p) for p in pools] + [1])):
        for index, pool in enumerate(pools):
            if depth < len(pool):
                cases.append([*base[:index], pool[depth], *base[index + 1 :]])
    for (i, first), (j, second) in itertools.combinations(enumerate(pools), 2):
        for a, b in itertools.product(first[1:3], second[1:3]):
            case = list(base)
            case[i], case[j] = a, b
            cases.append(case)
    return cases


def explore(target: Target, order: "dict[str, Any]") -> "list[dict[str, Any]]":
    """Try seeds, find a base case that returns, then vary it; every call is kept."""
    deadline = time.monotonic() + TARGET_SECONDS
    done: dict[tuple[str, ...], dict[str, Any]] = {}

    def attempt(values: "list[str]") -> "dict[str, Any] | None":
        key = tuple(values)
        if key in done:
            return done[key]
        if len(done) >= MAX_CALLS or time.monotonic() > deadline:
            return None
        done[key] = target.call(values)
        return done[key]

    def returns(observation: "dict[str, Any] | None") -> bool:
        return observation is not None and observation["kind"] in ("value", "type")

    pools: list[list[str]] = order["pools"]
    base = None
    for seed in order["seeds"]:
        if returns(attempt(seed)) and base is None:
            base = list(seed)
    if base is None:
        candidate = [pool[0] for pool in pools]
        if returns(attempt(candidate)):
            base = candidate
    if base is None:
        for index, pool in enumerate(pools):
            for value in pool[1:]:
                candidate = [p[0] for p in pools]
                candidate[index] = value
                if returns(attempt(candidate)):
                    base = candidate
                    break
            if base is not None:
                break
    if base is None:
        rng = random.Random(0)
        for _ in range(SEARCH_TRIES):
            candidate = [rng.choice(pool) for pool in pools]
            observation = attempt(candidate)
            if observation is None:
                break
            if returns(observation):
                base = candidate
                break
    for case in _vary(base or [pool[0] for pool in pools], pools):
        if attempt(case) is None:
            break
    # Then mutate the cases that reached new lines, while that still pays.
    rng = random.Random(1)
    seen: set[int] = set()
    fruitful: list[list[str]] = []
    for key, observation in done.items():
        new = set(observation.get("lines", ())) - seen
        if new:
            seen |= new
            fruitful.append(list(key))
    misses = 0
    while fruitful and pools and misses < MUTATION_PATIENCE:
        candidate = list(rng.choice(fruitful))
        index = rng.randrange(len(pools))
        candidate[index] = rng.choice(pools[index])
        if tuple(candidate) in done:
            misses += 1
            continue
        observation = attempt(candidate)
        if observation is None:
            break
        new = set(observation.get("lines", ())) - seen
        if new:
            seen |= new
            fruitful.append(candidate)
            misses = 0
        else:
            misses += 1
    return [{"values": list(key), **observation} for key, observation in done.items()]


def main() -> None:
    with open(SPEC, encoding="utf-8") as file:
        spec = json.load(file)
    for extra in reversed(spec.get("sys_path", [])):
        sys.path.insert(0, os.path.abspath(extra))
    sys.path.insert(0, os.getcwd())
    report: dict[str, Any] = {"import_error": None, "targets": {}}
    out = os.path.abspath(OUT)  # a function under test may change the current folder

    def write() -> None:
        with open(out + ".tmp", "w", encoding="utf-8") as file:
            json.dump(report, file)
        os.replace(out + ".tmp", out)

    if hasattr(signal, "setitimer"):
        signal.signal(signal.SIGALRM, _on_alarm)
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            import importlib

            module = importlib.import_module(spec["module"])
    except BaseException as error:
        report["import_error"] = f"{type(error).__name__}: {error}"
        write()
        return
    _resolve_named(module, spec.get("named", []))
    _CLASSES.update(spec.get("classes", []))
    for order in spec["targets"]:
        entry: dict[str, Any] = {"problem": None, "cases": []}
        report["targets"][order["qualname"]] = entry
        try:
            target = Target(module, order)
            if target.binding in ("method", "property"):
                entry["construction"] = target.construct(order["constructions"])
        except BaseException as error:
            entry["problem"] = f"{type(error).__name__}: {error}"
            write()
            continue
        if order.get("cases") is not None:
            entry["cases"] = [{"values": v, **target.call(v)} for v in order["cases"]]
        else:
            entry["cases"] = explore(target, order)
        write()
    write()


if __name__ == "__main__":
    main()
