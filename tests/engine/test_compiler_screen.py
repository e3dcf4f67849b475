"""The walk's screen for compiler refusals finds exactly what compiling finds.

An analysis compiles a module only when the collector's walk met something
the compiler may refuse (see :mod:`ark_lsp.analysis.compiler_errors`).
These tests hold the screen to CPython's compiler: every kind of refusal is
flagged, and over the standard library of the running Python the findings
with the screen equal those of always compiling, and whatever the screen
lets through the compiler accepts.
"""

from __future__ import annotations

import ast
import os
import sysconfig
import warnings
from collections.abc import Sequence
from pathlib import Path

import pytest

from ark_lsp.analysis import analyze, analyze_edit, collector
from ark_lsp.analysis.collector import Collector, ModuleContext
from ark_lsp.analysis.source import read_source
from ark_lsp.config.sections import Settings
from ark_lsp.models import ModuleReport, Violation

_RULES = Settings().ruleset_for("mod.py")

FUTURE = "from __future__ import annotations\n"

IN_ANNOTATIONS = [
    "def f(x: (y := int)):\n    pass\n",
    "def g():\n    def f(x: (yield)):\n        pass\n",
    "async def g():\n    def f(x: (await h())):\n        pass\n",
    "x: (y := int) = 1\n",
    "x: (yield) = 1\n",
    "x: (await h()) = 1\n",
    "def g():\n    x: (y := int) = 1\n",
    "def g():\n    x: (yield) = 1\n",
    "async def g():\n    x: (await h()) = 1\n",
]
"""``:=``, ``yield`` and ``await`` in a function's, a module-level and a local annotation:
the compiler takes the function's and local ones, unless annotations are postponed."""

_UNPACKED = ", ".join(f"a{index}" for index in range(257))

REFUSED = [
    # return, yield, await where no function (or no async function) holds them
    "return 1\n",
    "class C:\n    return 1\n",
    "x = 1; return x\n",
    "async def f():\n    yield 1\n    return 2\n",
    "async def f():\n    return 2\n    yield 1\n",
    "async def f():\n    yield from g()\n",
    "yield 1\n",
    "class C:\n    yield 1\n",
    "class C:\n    x = yield\n",
    "def f():\n    [(yield x) for x in y]\n",
    "def f():\n    {(yield x) for x in y}\n",
    "def f():\n    {x: (yield x) for x in y}\n",
    "def f():\n    ((yield x) for x in y)\n",
    "def f(x=(yield)):\n    pass\n",
    "await x\n",
    "class C:\n    await x\n",
    "def f():\n    await x\n",
    "lambda: await x\n",
    "async def f():\n    lambda: await x\n",
    "async for x in y:\n    pass\n",
    "def f():\n    async for x in y:\n        pass\n",
    "def f():\n    async with x:\n        pass\n",
    "[x async for x in y]\n",
    "def f():\n    [x async for x in y]\n",
    "def f():\n    [await x for x in y]\n",
    # break and continue outside a loop
    "break\n",
    "continue\n",
    "def f():\n    break\n",
    "def f():\n    if x:\n        continue\n",
    "for x in y:\n    pass\nelse:\n    break\n",
    "while x:\n    def f():\n        break\n",
    "while x:\n    class C:\n        continue\n",
    "for x in y:\n    try:\n        pass\n    except* E:\n        continue\n",
    "def f():\n    try:\n        pass\n    except* E:\n        return\n",
    # nonlocal and global
    "nonlocal x\n",
    "def f():\n    nonlocal x\n",
    "def f(x):\n    def g(x):\n        nonlocal x\n",
    "class C:\n    nonlocal x\n",
    "x = 1\nglobal x\n",
    "print(x)\nglobal x\n",
    "x: int\nglobal x\n",
    "def f(x):\n    global x\n",
    "def f():\n    x = 1\n    global x\n",
    "def f():\n    print(x)\n    global x\n",
    "def f():\n    global x\n    x: int = 1\n",
    "def f():\n    if y:\n        global x\n    x = 1\n",
    "def f():\n    try:\n        pass\n    except E:\n        global x\n    else:\n        x = 1\n",
    "class C:\n    x = 1\n    global x\n",
    "class C:\n    global x\n    x: int\n",
    "def f():\n    global x\n    nonlocal x\n",
    "def f():\n    x = 1\n    def g():\n        global x\n        nonlocal x\n",
    "class C:\n    def f(self, _C__x):\n        global __x\n",
    # parameters
    "def f(a, a):\n    pass\n",
    "def f(a, *, a):\n    pass\n",
    "def f(a, /, a):\n    pass\n",
    "def f(a, **a):\n    pass\n",
    "def f(*a, a):\n    pass\n",
    "lambda a, a: 0\n",
    "async def f(a, a):\n    pass\n",
    "class C:\n    def f(self, __a, _C__a):\n        pass\n",
    # import * out of the module's own scope
    "def f():\n    from os import *\n",
    "class C:\n    from os import *\n",
    # starred expressions
    "x = *a\n",
    "*a = b\n",
    "*a, *b = c\n",
    "[*a, *b] = c\n",
    "for *a, *b in c:\n    pass\n",
    "def f():\n    return *a\n",
    "x[0] = *a\n",
    f"{_UNPACKED}, *rest = x\n",
    # repeated keywords
    "f(a=1, a=2)\n",
    "f(a=1, b=2, a=3)\n",
    "class C(a=1, a=2):\n    pass\n",
    # __debug__
    "__debug__ = 1\n",
    "x.__debug__ = 1\n",
    "f(__debug__=1)\n",
    "def f(__debug__):\n    pass\n",
    "def f(*, __debug__):\n    pass\n",
    "import __debug__\n",
    "import os as __debug__\n",
    "from os import path as __debug__\n",
    "del __debug__\n",
    "for __debug__ in x:\n    pass\n",
    "(__debug__ := 1)\n",
    "def __debug__():\n    pass\n",
    "class __debug__:\n    pass\n",
    "with x as __debug__:\n    pass\n",
    "try:\n    pass\nexcept E as __debug__:\n    pass\n",
    # a bare except: before another handler
    "try:\n    pass\nexcept:\n    pass\nexcept ValueError:\n    pass\n",
    # assignment expressions in comprehensions
    "[(i := 0) for i in range(3)]\n",
    "[x for x in (y := [1])]\n",
    "[x for x in y for z in (w := y)]\n",
    "[x for x in y if (j := x) for j in z]\n",
    "class C:\n    [(y := x) for x in z]\n",
    "class C:\n    def f(self, a=[(y := x) for x in z]):\n        pass\n",
    "def f():\n    [[(x := 1) for y in z] for x in w]\n",
    "[x for x in [(y := 1) for z in w]]\n",
    "[x for x in (lambda: (y := 1))()]\n",
    "[x for x in y for z in [(lambda: (w := 1)) for v in u]]\n",
    # patterns
    "match x:\n    case a:\n        pass\n    case b:\n        pass\n",
    "match x:\n    case _:\n        pass\n    case 1:\n        pass\n",
    "match x:\n    case {1: a, 1: b}:\n        pass\n",
    "match x:\n    case a | [b]:\n        pass\n",
    "match x:\n    case [a, a]:\n        pass\n",
    "match x:\n    case C(a=1, a=2):\n        pass\n",
    # blocks nested too deep, trees deeper than the compiler recurses
    "".join(" " * i + "for x in y:\n" for i in range(21)) + " " * 21 + "pass\n",
    "".join(" " * i + "with x:\n" for i in range(21)) + " " * 21 + "pass\n",
    "x = " + "-" * 1100 + "1\n",
    "x = (" + " +\n".join(["1"] * 1100) + ")\n",
    "x = a" + ".b" * 1100 + "\n",
    "x = a" + "()" * 1100 + "\n",
    "if a:\n    pass\n" + "elif b:\n    pass\n" * 1100,
    # __future__ imports
    "import os\nfrom __future__ import annotations\n",
    "from __future__ import braces\n",
    "from __future__ import nothing_at_all\n",
    "from __future__ import annotations\ndef f(x: (y := 1)):\n    pass\n",
    "from __future__ import annotations\ndef f():\n    x: (yield) = 1\n",
    "from __future__ import annotations\nasync def f():\n    x: (await y) = 1\n",
    *(FUTURE + snippet for snippet in IN_ANNOTATIONS),
]
"""One snippet (at least) of every refusal of CPython 3.11's compiler (symtable and
code generation) on code its parser accepts, as its messages list them."""

ACCEPTED = [
    "def f():\n    for x in y:\n        if x:\n            break\n    else:\n        return\n",
    "for x in y:\n    for z in x:\n        pass\n    else:\n        continue\n",
    "while x:\n    try:\n        break\n    finally:\n        continue\n",
    "async def f():\n    yield 1\n    return\n",
    "async def f():\n    async for x in y:\n        await x\n    async with z:\n        pass\n",
    "def f():\n    yield from g()\n    return 1\n",
    "def f():\n    global x\n    x = 1\n",
    'def f():\n    """Doc."""\n    global x, y\n    global z\n    return x\n',
    "class C:\n    global x\n    x = 1\n",
    "def f():\n    [(y := x) for x in z]\n    return y\n",
    "[(y := 1) for x in z]\n",
    "[x for x in y if (lambda: (z := 1))()]\n",
    "[lambda: (x := 1) for x in y]\n",
    "f(*a, *b, **c, **d)\n",
    "class C(*bases, **kw):\n    pass\n",
    "a, *b = c\n",
    "[a, *b] = c\n",
    "x = [*a, *b], {*c}, (*d, e)\n",
    "x[*a] = 1\n",
    "try:\n    pass\nexcept ValueError:\n    pass\nexcept:\n    pass\n",
    "def f(a, b, *c, d, **e):\n    pass\n",
    "from __future__ import annotations\ndef f(x: int) -> str:\n    y: int = 1\n",
    "".join(" " * i + "if x:\n" for i in range(40)) + " " * 40 + "pass\n",
]
"""Near misses the compiler takes, and the walk lets through."""

ACCEPTED_BUT_COMPILED = [
    "lambda: (yield)\n",
    "(await x for x in y)\n",
    "class C:\n    def f(self, __a, __b):\n        pass\n",
    "def f(*args: *Ts):\n    pass\n",
]
"""What the compiler takes but the walk, erring on the safe side, has it compile."""


def _violations_without_screen(
    statements: Sequence[ast.stmt],
    source: object,
    *,
    whole_module: bool,
    screened: bool,
    futures: int | None,
) -> list[Violation]:
    return _REAL(statements, source, whole_module=whole_module, screened=False, futures=futures)  # type: ignore[arg-type]


_REAL = collector.compiler_errors


def _both(
    source: str | bytes, path: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[ModuleReport, ModuleReport]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        screened = analyze(source, path)
        with monkeypatch.context() as patch:
            patch.setattr(collector, "compiler_errors", _violations_without_screen)
            compiled = analyze(source, path)
    return screened, compiled


def _walk(source: str) -> Collector:
    prepared = read_source(source)
    tree = ast.parse(prepared.parse_input)
    context = ModuleContext("mod.py", "mod", False, Settings().tier_for("mod.py"), _RULES)
    return Collector(prepared, context, once=True).collect(tree.body)


def _compiles(source: str) -> bool:
    tree = ast.parse(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(tree, "", "exec", dont_inherit=True)
    except (SyntaxError, RecursionError, ValueError, MemoryError):
        return False
    return True


@pytest.mark.parametrize("source", REFUSED, ids=lambda source: source[:40])
def test_every_refusal_is_found_as_compiling_finds_it(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    screened, compiled = _both(source, "mod.py", monkeypatch)
    assert screened == compiled
    if not _compiles(source):
        assert any(v.rule == "ARK000" for v in screened.violations)
        # What a __future__ import changes is told by the import, not by the walk.
        if "__future__" not in source:
            assert _walk(source).may_be_refused
    # The editor's analysis, statement by statement, finds the same.
    assert analyze_edit(source, "mod.py", None, None)[0] == screened


@pytest.mark.parametrize("source", ACCEPTED, ids=lambda source: source[:40])
def test_what_the_compiler_takes_is_not_compiled(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _compiles(source)
    screened, compiled = _both(source, "mod.py", monkeypatch)
    assert screened == compiled
    assert not any(v.rule == "ARK000" for v in screened.violations)
    assert not _walk(source).may_be_refused


@pytest.mark.parametrize("source", ACCEPTED_BUT_COMPILED, ids=lambda source: source[:40])
def test_what_the_walk_cannot_tell_is_compiled(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _compiles(source)
    assert _walk(source).may_be_refused
    screened, compiled = _both(source, "mod.py", monkeypatch)
    assert screened == compiled
    assert not any(v.rule == "ARK000" for v in screened.violations)


@pytest.mark.parametrize("future", ["", FUTURE], ids=["now", "postponed"])
@pytest.mark.parametrize("snippet", IN_ANNOTATIONS, ids=lambda source: source[:40])
def test_an_annotation_is_screened_by_the_modules_future_features(
    snippet: str, future: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The statement stands below the import, so it is compiled apart from it.
    source = future + "import os\n\n\n" + snippet
    screened, compiled = _both(source, "mod.py", monkeypatch)
    assert screened == compiled
    assert _refused_lines(screened) == _refused_lines_of_compiling(source)
    assert analyze_edit(source, "mod.py", None, None)[0] == screened


def _refused_lines(report: ModuleReport) -> list[tuple[int, str]]:
    return [(v.span.line, v.message) for v in report.violations if v.rule == "ARK000"]


def _refused_lines_of_compiling(source: str) -> list[tuple[int, str]]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, "", "exec", dont_inherit=True)
    except SyntaxError as error:
        return [(error.lineno or 1, f"syntax error: {error.msg}")]
    return []


def _standard_library() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(root.rglob("*.py"))
    # Every file with ARK_SCREEN_EVERY_FILE=1 (some minutes); a spread sample otherwise.
    step = 1 if os.environ.get("ARK_SCREEN_EVERY_FILE") else 40
    return files[::step]


def test_over_the_standard_library_the_screen_changes_no_finding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = _standard_library()
    assert len(files) > 200
    unsound: list[str] = []
    differ: list[str] = []
    for file in files:
        data = file.read_bytes()
        screened, compiled = _both(data, "lib/" + file.name, monkeypatch)
        if screened != compiled:
            differ.append(str(file))
        try:
            prepared = read_source(data)
            tree = ast.parse(prepared.parse_input)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        if any(lead_is_future(statement) for statement in tree.body):
            continue  # then the analysis compiles by statement: the first check holds it
        context = ModuleContext("lib/m.py", "m", False, Settings().tier_for("m.py"), _RULES)
        walked = Collector(prepared, context, once=True).collect(tree.body)
        if not walked.may_be_refused:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    compile(tree, "", "exec", dont_inherit=True)
            except (SyntaxError, RecursionError, ValueError, MemoryError):
                unsound.append(str(file))
    assert differ == []
    assert unsound == []


def lead_is_future(statement: ast.stmt) -> bool:
    return type(statement) is ast.ImportFrom and statement.module == "__future__"
