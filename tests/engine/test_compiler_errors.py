"""Code the parser accepts but the compiler refuses is an ARK000 finding, where Python says."""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import pytest

from ark_lsp.analysis import analyze, analyze_edit


def _refusals(source: str) -> list[tuple[int, int, str]]:
    report = analyze(source, "mod.py")
    return [
        (v.span.line, v.span.column, v.message) for v in report.violations if v.rule == "ARK000"
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f(a, a):\n    pass\n", (1, 9, "duplicate argument 'a' in function definition")),
        ("x = 1\nreturn x\n", (2, 0, "'return' outside function")),
        ("nonlocal x\n", (1, 0, "nonlocal declaration not allowed at module level")),
        ("def f():\n    break\n", (2, 4, "'break' outside loop")),
        ("def f():\n    continue\n", (2, 4, "'continue' not properly in loop")),
        ("class A:\n    yield 1\n", (2, 4, "'yield' outside function")),
        ("def f():\n    await g()\n", (2, 4, "'await' outside async function")),
        ("f(a=1, a=2)\n", (1, 7, "keyword argument repeated: a")),
        ("*a = b\n", (1, 0, "starred assignment target must be in a list or tuple")),
        (
            "import os\nfrom __future__ import annotations\n",
            (2, 0, "from __future__ imports must occur at the beginning of the file"),
        ),
        ("def f():\n    from os import *\n", (2, 19, "import * only allowed at module level")),
        ("__debug__ = 1\n", (1, 0, "cannot assign to __debug__")),
        ("x = 1\nglobal x\n", (2, 0, "name 'x' is assigned to before global declaration")),
        ("x = 1; return x\n", (1, 7, "'return' outside function")),
    ],
)
def test_what_the_compiler_refuses_is_a_syntax_error_finding(
    source: str, expected: tuple[int, int, str]
) -> None:
    line, column, message = expected
    assert _refusals(source) == [(line, column, f"syntax error: {message}")]


def test_columns_count_code_points_and_the_rest_is_still_checked() -> None:
    report = analyze("s = 'é'; return eval(s)\n", "mod.py")
    found = {(v.rule, v.span.line, v.span.column) for v in report.violations}
    # "return" starts at byte 10 but character 9; eval() is still a finding.
    assert found == {("ARK000", 1, 9), ("ARK001", 1, 16)}
    assert report.parsed and [s.name for s in report.symbols] == []


def test_valid_code_and_its_compiler_warnings_are_silent() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a SyntaxWarning would fail the test
        report = analyze("x = 1\nassert (x, 'message')\nprint(x is 1)\n", "mod.py")
    assert report.violations == ()


def test_the_compiler_reads_no_file_named_like_the_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CPython reads an error's line from the file its compile() was told of; a FIFO
    # there would block the analysis for ever, and the analysis reads no file at all.
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "mod.py")
    done: list[list[tuple[int, int, str]]] = []
    worker = threading.Thread(target=lambda: done.append(_refusals("return 1\n")), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert done == [[(1, 0, "syntax error: 'return' outside function")]]


def test_a_docstring_may_come_before_future_imports() -> None:
    assert _refusals('"""Docs."""\nfrom __future__ import annotations\nimport os\n') == []


def test_a_statement_moved_by_an_edit_is_refused_where_it_now_is() -> None:
    text = "def f():\n    pass\n\n\ndef g(a, a):\n    pass\n"
    message = "syntax error: duplicate argument 'a' in function definition"
    assert _refusals(text) == [(5, 9, message)]
    # The same statement two lines lower: its verdict is kept, its place is the new one.
    assert _refusals("import os\n\n" + text) == [(7, 9, message)]
    assert _refusals(text.replace("g(a, a)", "g(a, b)")) == []


@pytest.mark.parametrize("future", ["", "from __future__ import annotations\n"])
def test_every_refused_statement_is_found_as_the_editor_finds_it(future: str) -> None:
    # An index compiles a module in one go first; what it refuses is still told statement
    # by statement, as the editor's analysis (kept by block for the next edit) tells it.
    text = future + "def f(a, a):\n    pass\n\n\nx = 1\n\n\ndef g():\n    break\n"
    shift = future.count("\n")
    assert _refusals(text) == [
        (1 + shift, 9, "syntax error: duplicate argument 'a' in function definition"),
        (9 + shift, 4, "syntax error: 'break' outside loop"),
    ]
    assert analyze(text, "mod.py") == analyze_edit(text, "mod.py", None, None)[0]
    valid = text.replace("f(a, a)", "f(a, b)").replace("break", "pass")
    assert _refusals(valid) == []
    assert analyze(valid, "mod.py") == analyze_edit(valid, "mod.py", None, None)[0]


FUTURE_ANNOTATIONS = "from __future__ import annotations\n"

IN_ANNOTATIONS = {
    "function-walrus": "def f(x: (y := int)):\n    pass\n",
    "function-yield": "def g():\n    def f(x: (yield)):\n        pass\n",
    "function-await": "async def g():\n    def f(x: (await h())):\n        pass\n",
    "module-walrus": "x: (y := int) = 1\n",
    "module-yield": "x: (yield) = 1\n",
    "module-await": "x: (await h()) = 1\n",
    "local-walrus": "def g():\n    x: (y := int) = 1\n",
    "local-yield": "def g():\n    x: (yield) = 1\n",
    "local-await": "async def g():\n    x: (await h()) = 1\n",
}
"""``:=``, ``yield`` and ``await`` in a function's, a module-level and a local annotation:
postponed annotations refuse each of them."""


def compiler_says(source: str) -> list[tuple[int, int, str]]:
    """What compiling the whole source says, as an ARK000 finding would."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, "", "exec", dont_inherit=True)
    except SyntaxError as error:
        return [(error.lineno or 1, (error.offset or 1) - 1, f"syntax error: {error.msg}")]
    return []


@pytest.mark.parametrize("future", ["", FUTURE_ANNOTATIONS], ids=["now", "postponed"])
@pytest.mark.parametrize("snippet", IN_ANNOTATIONS.values(), ids=IN_ANNOTATIONS.keys())
def test_an_annotation_is_judged_by_the_modules_future_features(snippet: str, future: str) -> None:
    source = '"""Doc."""\n' + future + "import os\n\n\n" + snippet
    expected = compiler_says(source)
    if future:
        assert [message for *_, message in expected] == [
            f"syntax error: '{kind} expression' can not be used within an annotation"
            for kind in ["named" if ":=" in snippet else "yield" if "yield" in snippet else "await"]
        ]
    assert _refusals(source) == expected
    assert analyze(source, "mod.py") == analyze_edit(source, "mod.py", None, None)[0]
