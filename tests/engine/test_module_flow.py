"""A call finds the binding in force where it runs, and every module a name may be bound to.

Module-level code runs top to bottom as the module is imported, so a call
there meets the bindings made before it on the paths that reach it; a
function runs once the module has run, and meets every module-level import
of a name. Each case states the whole set of (rule, line) pairs a source
yields.
"""

from __future__ import annotations

import textwrap

import pytest

from ark_lsp.analysis import analyze
from ark_lsp.config import Settings, settings_from_mapping

DESERIALISING = settings_from_mapping(
    {
        "rules": [
            {"id": "CO100", "kind": "call", "pattern": "yaml.load", "message": "yaml.load"},
            {"id": "CO101", "kind": "call", "pattern": "pickle.loads", "message": "pickle"},
            {"id": "CO102", "kind": "call", "pattern": "cPickle.loads", "message": "cPickle"},
        ]
    }
).settings


def found(source: str, settings: Settings | None = None) -> set[tuple[str, int]]:
    report = analyze(textwrap.dedent(source), "pkg/mod.py", settings)
    return {(v.rule, v.span.line) for v in report.violations}


# -- module-level code meets the bindings made before it ----------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            """\
            eval(data)
            exec(code)
            from safe import eval, exec
            eval(data)
            exec(code)
            """,
            {("ARK001", 1), ("ARK002", 2)},
            id="builtin-before-a-later-import",
        ),
        pytest.param(
            """\
            import safe as os
            os.system(cmd)
            import os
            os.system(cmd)
            """,
            {("ARK004", 4)},
            id="module-alias-rebound-below",
        ),
        pytest.param(
            """\
            from os import system as run
            run(cmd)
            run = safe_run
            run(cmd)
            """,
            {("ARK004", 2)},
            id="import-shadowed-by-an-assignment-below-it",
        ),
        pytest.param(
            """\
            from safe import eval
            del eval
            eval(data)
            """,
            {("ARK001", 3)},
            id="deleted-name-is-the-builtin-again",
        ),
        pytest.param(
            """\
            class Config:
                value = eval(text)
            from safe import eval
            @register(eval("a"))
            def f(a=eval("b")):
                return a
            """,
            {("ARK001", 2)},
            id="class-bodies-decorators-and-defaults-run-where-they-stand",
        ),
        pytest.param(
            """\
            ys = [eval(y) for y in xs]
            from safe import eval
            zs = [eval(z) for z in xs]
            """,
            {("ARK001", 1)},
            id="comprehensions-run-where-they-stand",
        ),
        pytest.param(
            """\
            eval(data)
            if (eval := pick()):
                eval(data)
            eval(data)
            """,
            {("ARK001", 1)},
            id="walrus",
        ),
        pytest.param(
            """\
            if __name__ == "__main__":
                eval(data)
                from safe import eval
                eval(data)
            """,
            {("ARK001", 2)},
            id="inside-a-module-level-block",
        ),
        pytest.param(
            """\
            eval: Callable[[str], object]
            eval(data)
            """,
            {("ARK001", 2)},
            id="an-annotation-alone-binds-nothing",
        ),
    ],
)
def test_module_level_code_meets_the_bindings_made_before_it(
    source: str, expected: set[tuple[str, int]]
) -> None:
    assert found(source) == expected


def test_statements_sharing_a_line_run_in_order() -> None:
    report = analyze("x = 1; eval(data); from safe import eval; eval(data)\n", "pkg/mod.py")
    assert [(v.rule, v.span.column) for v in report.violations] == [("ARK001", 7)]


def test_a_function_meets_every_module_level_binding_wherever_it_stands() -> None:
    source = """\
        def parse(text):
            return eval(text)
        eval(data)
        from safe import eval
        """
    assert found(source) == {("ARK001", 3)}


# -- a name bound on alternative paths may be any of them ---------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            """\
            try:
                import ruamel.yaml as yaml
            except ImportError:
                import yaml
            yaml.load(stream)
            def read(stream):
                return yaml.load(stream)
            """,
            {("CO100", 5), ("CO100", 7)},
            id="try-except-yaml",
        ),
        pytest.param(
            """\
            try:
                import cPickle as pickle
            except ImportError:
                import pickle
            pickle.loads(blob)
            def read(blob):
                return pickle.loads(blob)
            """,
            {("CO101", 5), ("CO102", 5), ("CO101", 7), ("CO102", 7)},
            id="try-except-pickle",
        ),
        pytest.param(
            """\
            import sys
            if sys.version_info[0] == 2:
                import cPickle as pickle
            else:
                import pickle
            pickle.loads(blob)
            """,
            {("CO101", 6), ("CO102", 6)},
            id="if-else-imports",
        ),
        pytest.param(
            """\
            import sys
            if sys.platform == "win32":
                from winshell import run
            elif sys.platform == "darwin":
                from macshell import run
            else:
                from os import system as run
            run(cmd)
            """,
            {("ARK004", 8)},
            id="if-elif-else-imports",
        ),
        pytest.param(
            """\
            from safe import run
            if flag:
                run = wrapped
            else:
                from os import system as run
            run(cmd)
            """,
            {("ARK004", 6)},
            id="rebinding-in-different-branches",
        ),
        pytest.param(
            """\
            try:
                from safe import eval
            except ImportError:
                pass
            eval(data)
            """,
            {("ARK001", 5)},
            id="an-import-that-may-fail-leaves-the-builtin",
        ),
        pytest.param(
            """\
            try:
                from regex import compile
            except ImportError:
                from re import compile
            compile(pattern)
            """,
            set(),
            id="both-alternatives-safe",
        ),
        pytest.param(
            """\
            try:
                from safe import eval
            except ImportError:
                raise SystemExit("safe is needed")
            eval(data)
            """,
            set(),
            id="a-handler-that-raises-binds-nothing-below",
        ),
        pytest.param(
            """\
            try:
                from safe import eval
            finally:
                cleanup()
            eval(data)
            """,
            set(),
            id="finally-runs-on-the-path-that-completed",
        ),
        pytest.param(
            """\
            for name in names:
                if name == "safe":
                    from safe import eval
                    break
            eval(data)
            """,
            {("ARK001", 5)},
            id="a-loop-may-not-run",
        ),
        pytest.param(
            """\
            while True:
                from os import system as run
                break
            else:
                from safe import run
            run(cmd)
            """,
            {("ARK004", 6)},
            id="loop-break-and-else",
        ),
        pytest.param(
            """\
            with open(path) as handle:
                from safe import eval
            eval(data)
            """,
            set(),
            id="a-with-body-runs",
        ),
        pytest.param(
            """\
            match kind:
                case "safe":
                    from safe import eval
                case _:
                    from safe2 import eval
            eval(data)
            """,
            set(),
            id="match-with-a-catch-all",
        ),
        pytest.param(
            """\
            match kind:
                case "safe":
                    from safe import eval
            eval(data)
            """,
            {("ARK001", 4)},
            id="match-that-may-match-nothing",
        ),
        pytest.param(
            """\
            try:
                import simplejson as json
            except ImportError:
                import json
            json.loads(text)
            """,
            set(),
            id="harmless-alternatives",
        ),
    ],
)
def test_a_name_bound_on_alternative_paths_may_be_any_of_them(
    source: str, expected: set[tuple[str, int]]
) -> None:
    assert found(source, DESERIALISING) == expected


@pytest.mark.parametrize("first", ["ruamel.yaml", "yaml"])
def test_alternative_imports_inside_a_function_are_each_seen(first: str) -> None:
    other = "yaml" if first == "ruamel.yaml" else "ruamel.yaml"
    source = f"""\
        def read(stream):
            try:
                import {first} as yaml
            except ImportError:
                import {other} as yaml
            return yaml.load(stream)

        class Reader:
            if fast:
                import {first} as yaml
            else:
                import {other} as yaml
            data = yaml.load(stream)
        """
    assert found(source, DESERIALISING) == {("CO100", 6), ("CO100", 13)}


def test_a_call_that_breaks_a_rule_through_two_alternatives_is_reported_once() -> None:
    source = """\
        if flag:
            from os import system as run
        else:
            from os import popen as run
        run(cmd)
        """
    report = analyze(textwrap.dedent(source), "pkg/mod.py")
    assert [(v.rule, v.span.line) for v in report.violations] == [("ARK004", 5)]


def test_an_except_handler_name_is_gone_after_the_handler() -> None:
    source = """\
        try:
            run()
        except ValueError as eval:
            eval(1)
        eval(data)
        """
    assert found(source) == {("ARK001", 5)}
