"""The rule pack, rule by rule: exact (rule, line) pairs for true positives and negatives.

Each case states the whole set of violations a source yields, so a rule that
fires twice, on the wrong line, or where another rule should have fired fails
the test, not just a miscounted one.
"""

from __future__ import annotations

import textwrap

import pytest

from ark_lsp.analysis import analyze
from ark_lsp.config import Settings, settings_from_mapping
from ark_lsp.models import Severity, Span, Violation

TRUSTED = "pkg/mod.py"
SANDBOX = "ark_generated/x.py"
TESTING = "tests/test_x.py"


def violations(
    source: str, path: str = TRUSTED, settings: Settings | None = None
) -> list[Violation]:
    return list(analyze(textwrap.dedent(source), path, settings).violations)


def found(
    source: str, path: str = TRUSTED, settings: Settings | None = None
) -> set[tuple[str, int]]:
    """The (rule, line) pairs ``source`` violates at ``path``."""
    return {(v.rule, v.span.line) for v in violations(source, path, settings)}


def severities(source: str, path: str = TRUSTED) -> set[tuple[str, int, Severity]]:
    return {(v.rule, v.span.line, v.severity) for v in violations(source, path)}


def user_settings(raw: dict[str, object]) -> Settings:
    loaded = settings_from_mapping(raw)
    assert loaded.problems == ()
    return loaded.settings


# -- ARK001 eval / ARK002 exec / ARK003 compile / ARK006 __import__ -------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            """\
            eval(x)
            exec(x)
            compile(x, "<s>", "exec")
            __import__(x)
            """,
            {("ARK001", 1), ("ARK002", 2), ("ARK003", 3), ("ARK006", 4)},
            id="plain-builtins",
        ),
        pytest.param(
            """\
            import builtins
            builtins.eval(x)
            builtins.exec(x)
            builtins.compile(x, "<s>", "eval")
            builtins.__import__(x)
            """,
            {("ARK001", 2), ("ARK002", 3), ("ARK003", 4), ("ARK006", 5)},
            id="through-builtins-module",
        ),
        pytest.param(
            """\
            import builtins as b
            b.eval(x)
            """,
            {("ARK001", 2)},
            id="builtins-module-aliased",
        ),
        pytest.param(
            """\
            from builtins import eval as ev, exec as ex
            ev(x)
            ex(x)
            """,
            {("ARK001", 2), ("ARK002", 3)},
            id="from-builtins-import-as",
        ),
        pytest.param(
            """\
            import re
            re.compile(pattern)
            from re import compile
            compile(pattern)
            """,
            set(),
            id="re-compile-is-not-builtin-compile",
        ),
        pytest.param(
            """\
            def eval(text):
                return text
            eval(x)
            """,
            set(),
            id="module-level-def-shadows",
        ),
        pytest.param(
            """\
            eval = safe_eval
            eval(x)
            exec(x)
            """,
            {("ARK002", 3)},
            id="module-level-assignment-shadows-only-that-name",
        ),
        pytest.param(
            """\
            def run(eval, x):
                def inner():
                    return eval(x)
                return eval(x)
            def other(x):
                return eval(x)
            eval(x)
            """,
            {("ARK001", 6), ("ARK001", 7)},
            id="parameter-shadows-inside-its-function-only",
        ),
        pytest.param(
            """\
            class C:
                eval = staticmethod(safe)
                x = eval(1)
                def m(self):
                    return eval(2)
            """,
            {("ARK001", 5)},
            id="class-attribute-not-visible-in-methods",
        ),
        pytest.param(
            """\
            self.eval(x)
            obj.exec()
            self.compile(x)
            loader.__import__(x)
            def m(self):
                return self.eval(x) + obj.exec()
            """,
            set(),
            id="methods-with-builtin-names",
        ),
        pytest.param(
            '''\
            """Docstring mentioning eval(x) and exec(y)."""
            s = "eval(x)"
            t = 'exec(y); compile(z)'
            # eval(x) in a comment
            def f():
                """__import__(name) in a function docstring."""
            u = f"{x} eval(y)"
            v = """
            exec(code)
            """
            ''',
            set(),
            id="text-in-strings-comments-docstrings-fstrings",
        ),
        pytest.param(
            """\
            u = f"{eval(y)}"
            """,
            {("ARK001", 1)},
            id="real-call-inside-fstring-replacement-field",
        ),
        pytest.param(
            """\
            @register(eval("a"))
            def f(a=eval("b"), *, k=exec("c")):
                pass
            g = lambda s: eval(s)
            xs = [compile(s, "f", "exec") for s in ys]
            d = {m: __import__(m) for m in ms}
            assert eval(z), exec(w)
            class K(base(eval("e")), metaclass=exec("m")):
                pass
            """,
            {
                ("ARK001", 1),
                ("ARK001", 2),
                ("ARK002", 2),
                ("ARK001", 4),
                ("ARK003", 5),
                ("ARK006", 6),
                ("ARK001", 7),
                ("ARK002", 7),
                ("ARK001", 8),
                ("ARK002", 8),
            },
            id="decorators-defaults-lambdas-comprehensions-asserts-bases",
        ),
        pytest.param(
            """\
            f(eval(x))
            eval(x)(y)
            eval(x).attr()
            """,
            {("ARK001", 1), ("ARK001", 2), ("ARK001", 3)},
            id="nested-and-chained-calls",
        ),
        pytest.param(
            """\
            pager = __import__("pydoc").pager
            os = __import__(name="os")
            module = __import__(module_name)
            first = __import__(*names)
            again = __import__(name=module_name)
            nothing = __import__()
            """,
            {("ARK006", 3), ("ARK006", 4), ("ARK006", 5), ("ARK006", 6)},
            id="dunder-import-of-a-literal-name-is-an-import",
        ),
    ],
)
def test_dynamic_code_builtins(source: str, expected: set[tuple[str, int]]) -> None:
    assert found(source) == expected


# -- ARK004 os.system and its shell family ------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("import os\nos.system(x)\n", {("ARK004", 2)}, id="os-system"),
        pytest.param("import os as o\no.system(x)\n", {("ARK004", 2)}, id="import-os-as"),
        pytest.param(
            "from os import system as run_shell\nrun_shell(x)\n",
            {("ARK004", 2)},
            id="from-os-import-as",
        ),
        pytest.param(
            "import os.path\nos.system(x)\n", {("ARK004", 2)}, id="import-os-path-binds-os"
        ),
        pytest.param("import os\nos.popen(x)\n", {("ARK004", 2)}, id="os-popen"),
        pytest.param(
            'import os\nos.spawnl(os.P_WAIT, "/bin/sh", "sh", "-c", cmd)\n',
            {("ARK004", 2)},
            id="spawnl-shell",
        ),
        pytest.param(
            'import os\nos.spawnlp(os.P_WAIT, "bash", "bash", "-c", cmd)\n',
            {("ARK004", 2)},
            id="spawnlp-shell-by-name",
        ),
        pytest.param(
            'import os\nos.execl("/bin/bash", "bash", "-c", cmd)\n',
            {("ARK004", 2)},
            id="execl-shell",
        ),
        pytest.param(
            'import os\nos.execv("/usr/bin/python3", ["python3", "-m", "x"])\n',
            set(),
            id="execv-non-shell",
        ),
        pytest.param(
            'import os\nos.spawnv(os.P_WAIT, "/usr/bin/git", ["git", "status"])\n',
            set(),
            id="spawnv-non-shell",
        ),
        *(
            pytest.param(f"import {module}\n{call}(x)\n", {("ARK004", 2)}, id=call)
            for module, call in (
                ("os", "os.popen2"),
                ("os", "os.popen3"),
                ("os", "os.popen4"),
                ("popen2", "popen2.popen2"),
                ("popen2", "popen2.popen3"),
                ("popen2", "popen2.popen4"),
                ("popen2", "popen2.Popen3"),
                ("popen2", "popen2.Popen4"),
                ("commands", "commands.getoutput"),
                ("commands", "commands.getstatusoutput"),
            )
        ),
        pytest.param(
            "from os import popen3\nfrom popen2 import Popen4 as P\npopen3(x)\nP(x)\n",
            {("ARK004", 3), ("ARK004", 4)},
            id="python2-family-imported-by-name",
        ),
        pytest.param("system(x)\nos.system(x)\n", set(), id="unimported-names"),
        pytest.param("import os\nos.path.join(a, b)\nos.getcwd()\n", set(), id="harmless-os-calls"),
    ],
)
def test_ark004_os_shell(source: str, expected: set[tuple[str, int]]) -> None:
    assert found(source) == expected


# -- ARK005 subprocess with shell=True ----------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            "import subprocess\nsubprocess.run(cmd, shell=True)\n",
            {("ARK005", 2, Severity.ERROR)},
            id="shell-true",
        ),
        pytest.param(
            "import subprocess as sp\nsp.Popen(x, shell=1)\n",
            {("ARK005", 2, Severity.ERROR)},
            id="aliased-shell-1",
        ),
        pytest.param(
            'import subprocess\nsubprocess.call(x, shell="yes")\n',
            {("ARK005", 2, Severity.ERROR)},
            id="shell-truthy-string",
        ),
        pytest.param(
            "from subprocess import check_output\ncheck_output(c, shell=True)\n",
            {("ARK005", 2, Severity.ERROR)},
            id="from-import",
        ),
        pytest.param(
            "import subprocess\nsubprocess.run(c, shell=flag)\n",
            {("ARK005", 2, Severity.WARNING)},
            id="shell-name-is-a-warning",
        ),
        pytest.param(
            "import subprocess\nsubprocess.run(c, shell=False)\n", set(), id="shell-false"
        ),
        pytest.param("import subprocess\nsubprocess.run(c, shell=0)\n", set(), id="shell-0"),
        pytest.param('import subprocess\nsubprocess.run(c, shell="")\n', set(), id="shell-empty"),
        pytest.param("import subprocess\nsubprocess.run(c, shell=None)\n", set(), id="shell-none"),
        pytest.param(
            "import subprocess\nsubprocess.run(c, check=True)\n", set(), id="no-shell-keyword"
        ),
        pytest.param("run(c, shell=True)\n", set(), id="not-subprocess"),
        # shell= given to what runs no process: bandit's B604 and ruff flag these.
        pytest.param("options = dict(shell=True)\n", set(), id="dict"),
        pytest.param(
            "from fabric import Config\nconfig = Config(shell=True)\n", set(), id="constructor"
        ),
        pytest.param(
            "class Config:\n    def __init__(self, shell=False):\n        self.shell = shell\n"
            "config = Config(shell=True)\n",
            set(),
            id="own-class",
        ),
        pytest.param(
            "import functools\n\ndef deploy(cmd, shell=False):\n    return cmd\n\n"
            "ship = functools.partial(deploy, shell=True)\n",
            set(),
            id="partial-of-a-function-of-ones-own",
        ),
        pytest.param(
            "from functools import partial\nimport json\ndump = partial(json.dumps, shell=True)\n",
            set(),
            id="partial-of-an-imported-function",
        ),
        pytest.param(
            "import subprocess\nsettings = dict(shell=True, args=subprocess.list2cmdline(a))\n",
            set(),
            id="dict-beside-a-subprocess-call",
        ),
    ],
)
def test_ark005_subprocess_shell(source: str, expected: set[tuple[str, int, Severity]]) -> None:
    assert severities(source) == expected


# -- ARK010 forbidden imports per tier ----------------------------------------------------

FORBIDDEN_IN_SANDBOX = [
    "import os",
    "import os.path",
    "from os import path",
    "from os.path import join",
    "import subprocess as sp",
    "import socket",
    "import pickle",
    "from asyncio import subprocess",
]


@pytest.mark.parametrize("statement", FORBIDDEN_IN_SANDBOX)
def test_ark010_flags_forbidden_import_in_sandbox(statement: str) -> None:
    assert found(f"x = 1\n{statement}\n", SANDBOX) == {("ARK010", 2)}


@pytest.mark.parametrize("statement", FORBIDDEN_IN_SANDBOX)
@pytest.mark.parametrize("path", [TRUSTED, TESTING])
def test_ark010_same_imports_allowed_outside_sandbox(statement: str, path: str) -> None:
    assert found(f"{statement}\n", path) == set()


@pytest.mark.parametrize(
    "statement", ["import json", "import asyncio", "from collections import deque", "import osx"]
)
def test_ark010_allowed_import_in_sandbox(statement: str) -> None:
    assert found(f"{statement}\n", SANDBOX) == set()


def test_ark010_one_violation_per_statement() -> None:
    assert found("import json, os, sys\n", SANDBOX) == {("ARK010", 1)}
    assert len(violations("import json, os, sys\n", SANDBOX)) == 1


def test_ark010_custom_forbidden_imports_for_trusted_tier() -> None:
    settings = user_settings({"forbidden-imports": {"trusted": ["requests"]}})
    source = """\
        import requests.adapters
        import requestsfoo
        from requests import get
        import json
        """
    assert found(source, "pkg/x.py", settings) == {("ARK010", 1), ("ARK010", 3)}
    # The sandbox defaults are still in force.
    assert found("import os\n", SANDBOX, settings) == {("ARK010", 1)}


# -- ARK020 global / ARK021 setattr, delattr / ARK022 wildcard import ----------------------


def test_ark020_global_statement_is_a_warning() -> None:
    source = """\
        counter = 0
        def bump():
            global counter
            counter += 1
        def outer():
            x = 1
            def inner():
                nonlocal x
                x += 1
        """
    assert severities(source) == {("ARK020", 3, Severity.WARNING)}


def test_ark021_setattr_delattr_with_non_literal_name() -> None:
    source = """\
        setattr(obj, name, value)
        delattr(obj, name)
        setattr(obj, f"x_{n}", value)
        setattr(obj, "x", value)
        delattr(obj, "x")
        setattr(obj)
        o.setattr(obj, name, value)
        """
    assert severities(source) == {
        ("ARK021", 1, Severity.WARNING),
        ("ARK021", 2, Severity.WARNING),
        ("ARK021", 3, Severity.WARNING),
    }


def test_ark022_wildcard_import_is_a_warning() -> None:
    source = """\
        from json import *
        from json import loads
        """
    assert severities(source) == {("ARK022", 1, Severity.WARNING)}


def test_ark022_wildcard_of_forbidden_module_in_sandbox_raises_both() -> None:
    assert found("from os import *\n", SANDBOX) == {("ARK010", 1), ("ARK022", 1)}


# -- Suppression comments -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param("eval(x); exec(y)  # ark: ignore[ARK001]", {("ARK002", 1)}, id="one-code"),
        pytest.param("eval(x); exec(y)  # ark: ignore[ARK001,ARK002]", set(), id="two-codes"),
        pytest.param("eval(x); exec(y)  # ark: ignore[ARK001, ARK002]", set(), id="spaced"),
        pytest.param("eval(x); exec(y)  # ark: ignore", set(), id="bare-ark-ignore"),
        pytest.param("eval(x); exec(y)  # noqa: ARK001", {("ARK002", 1)}, id="noqa-code"),
        pytest.param("eval(x); exec(y)  # noqa", set(), id="bare-noqa"),
        pytest.param("eval(x)  # ark: ignore[ARK002]", {("ARK001", 1)}, id="other-code"),
        pytest.param("eval(x)  # noqa: E501", {("ARK001", 1)}, id="foreign-noqa-code"),
        pytest.param("eval(x)  # type: ignore", {("ARK001", 1)}, id="type-ignore"),
    ],
)
def test_suppression_on_the_line(line: str, expected: set[tuple[str, int]]) -> None:
    assert found(line + "\n") == expected


def test_suppression_with_shell_subprocess_codes() -> None:
    source = """\
        import subprocess
        subprocess.run(eval(c), shell=True)  # ark: ignore[ARK001,ARK005]
        subprocess.run(eval(c), shell=True)  # ark: ignore[ARK005]
        """
    assert found(source) == {("ARK001", 3)}


def test_suppression_of_multiline_call_is_on_its_first_line() -> None:
    source = """\
        a = eval(  # ark: ignore[ARK001]
            text,
        )
        b = eval(
            text,
        )  # ark: ignore[ARK001]
        """
    assert found(source) == {("ARK001", 4)}


def test_suppression_only_applies_to_its_own_line() -> None:
    source = """\
        # ark: ignore
        eval(x)
        eval(y)  # noqa
        eval(z)
        """
    assert found(source) == {("ARK001", 2), ("ARK001", 4)}


@pytest.mark.parametrize(
    "line",
    ['eval("# noqa")', 'x = "# ark: ignore"; eval(y)', "exec(f'{c} # ark: ignore[ARK002]')"],
)
def test_suppression_text_inside_a_string_does_not_suppress(line: str) -> None:
    assert found(line + "\n") != set()


# -- Settings: select, ignore, per-file ignores, user rules --------------------------------

MIXED = """\
    eval(x)
    def f():
        global g
    """


def test_select_prefix_keeps_matching_rules_only() -> None:
    assert found(MIXED) == {("ARK001", 1), ("ARK020", 3)}
    assert found(MIXED, settings=Settings(select=("ARK00",))) == {("ARK001", 1)}
    assert found(MIXED, settings=Settings(select=("ARK020",))) == {("ARK020", 3)}


def test_ignore_drops_rule() -> None:
    assert found(MIXED, settings=Settings(ignore=("ARK001",))) == {("ARK020", 3)}
    assert found(MIXED, settings=Settings(ignore=("ARK0",))) == set()


def test_select_and_ignore_never_hide_syntax_errors() -> None:
    settings = Settings(select=("ARK020",), ignore=("ARK000",))
    assert found("x = = 1\n", settings=settings) == {("ARK000", 1)}


def test_per_file_ignores_apply_only_to_matching_paths() -> None:
    settings = Settings(per_file_ignores=(("tests/**", ("ARK001",)),))
    assert found(MIXED, "tests/test_x.py", settings) == {("ARK020", 3)}
    assert found(MIXED, "tests/sub/helpers.py", settings) == {("ARK020", 3)}
    assert found(MIXED, "pkg/mod.py", settings) == {("ARK001", 1), ("ARK020", 3)}


def test_per_file_ignores_from_mapping() -> None:
    settings = user_settings({"per-file-ignores": {"tests/**": ["ARK001"]}})
    assert found(MIXED, "tests/test_x.py", settings) == {("ARK020", 3)}


def test_user_call_rule_needs_no_code_change() -> None:
    settings = user_settings(
        {
            "rules": [
                {"id": "CO001", "kind": "call", "pattern": "pickle.loads", "message": "no pickle"}
            ]
        }
    )
    source = """\
        import pickle
        pickle.loads(b)
        pickle.dumps(b)
        from pickle import loads as unpickle
        unpickle(b)
        loads(b)
        """
    assert found(source, settings=settings) == {("CO001", 2), ("CO001", 5)}
    (first, *_) = violations(source, settings=settings)
    assert (first.severity, first.message) == (Severity.ERROR, "no pickle")
    # Without the setting the same source is clean: the rule is data, not code.
    assert found(source) == set()


def test_user_call_kwarg_rule_flags_truthy_verify_true_but_not_verify_false() -> None:
    """call-kwarg fires on a TRUTHY literal: ``verify=True`` flags, ``verify=False`` does not.

    So a "never disable TLS verification" rule cannot be written with this kind;
    a non-literal value is a warning, as for ARK005.
    """
    settings = user_settings(
        {
            "rules": [
                {
                    "id": "CO002",
                    "kind": "call-kwarg",
                    "pattern": "requests.*",
                    "keyword": "verify",
                    "message": "verify passed",
                }
            ]
        }
    )
    source = """\
        import requests
        requests.get(url, verify=True)
        requests.get(url, verify=False)
        requests.post(url, verify=flag)
        requests.get(url)
        session.get(url, verify=True)
        """
    assert {(v.rule, v.span.line, v.severity) for v in violations(source, settings=settings)} == {
        ("CO002", 2, Severity.ERROR),
        ("CO002", 4, Severity.WARNING),
    }


def test_user_rule_can_be_ignored_like_a_builtin_one() -> None:
    settings = user_settings(
        {
            "rules": [{"id": "CO001", "kind": "call", "pattern": "pickle.loads"}],
            "ignore": ["CO"],
        }
    )
    assert found("import pickle\npickle.loads(b)\n", settings=settings) == set()


# -- Bad input and positions --------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "line", "column"),
    [
        pytest.param("eval(x)\nx = = 1\nexec(y)\n", 2, 4, id="after-a-violation"),
        pytest.param("import os\ndef f(:\n    os.system(x)\n", 2, 6, id="bad-def"),
        pytest.param("x = (\n", 1, 4, id="unclosed-paren"),
    ],
)
def test_syntax_error_is_a_single_ark000(source: str, line: int, column: int) -> None:
    (only,) = violations(source)
    assert (only.rule, only.severity) == ("ARK000", Severity.ERROR)
    assert (only.span.line, only.span.column) == (line, column)


def test_syntax_error_in_sandbox_hides_forbidden_imports() -> None:
    assert found("import os\nx = = 1\n", SANDBOX) == {("ARK000", 2)}


def test_columns_count_code_points_not_bytes() -> None:
    (only,) = violations('x = "ünï"; eval(y)\n')
    assert only.rule == "ARK001"
    assert only.span == Span(1, 11, 1, 18)


def test_span_covers_the_whole_multiline_call() -> None:
    source = """\
        import os
        result = eval(
            expression,
            {"__builtins__": {}},
        )
        """
    (only,) = violations(source)
    assert only.rule == "ARK001"
    assert only.span == Span(line=2, column=9, end_line=5, end_column=1)


# -- Name resolution follows Python's binding rules ---------------------------------------


def test_call_before_a_shadowing_definition_still_flags() -> None:
    source = """\
        eval(x)
        def eval(text):
            return text
        """
    assert found(source) == {("ARK001", 1)}


@pytest.mark.parametrize(
    "source",
    [
        "f = lambda eval: eval(x)\n",
        "ys = [eval(1) for eval in fs]\n",
        "for eval in fs:\n    eval(1)\n",
        "with ctx() as eval:\n    eval(1)\n",
        "try:\n    pass\nexcept E as eval:\n    eval(1)\n",
        "if (eval := pick()):\n    eval(1)\n",
    ],
    ids=["lambda-param", "comprehension", "for", "with", "except", "walrus"],
)
def test_other_binding_forms_shadow_builtins(source: str) -> None:
    assert found(source) == set()


def test_a_prefix_rule_within_builtins_reaches_every_builtin_it_covers() -> None:
    settings = settings_from_mapping(
        {"rules": [{"id": "CO009", "kind": "call", "pattern": "builtins.ma*", "message": "m"}]}
    ).settings
    assert found("max(1, 2)\nmap(f, xs)\nlen(xs)\n", settings=settings) == {
        ("CO009", 1),
        ("CO009", 2),
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "cal"}, "kind: 'cal' is not call, call-kwarg or import"),
        ({"kind": "statement"}, "kind: 'statement' is not call, call-kwarg or import"),
        ({"severity": "fatal"}, "severity: 'fatal' is not error, warning or info"),
        ({"tiers": ["kernel"]}, "tiers: 'kernel' is not core, trusted, sandbox or testing"),
    ],
)
def test_a_users_rule_that_is_wrong_says_so_in_the_users_words(
    fields: dict[str, object], message: str
) -> None:
    from ark_lsp.rules import user_rule

    with pytest.raises(ValueError) as raised:
        user_rule({"id": "CO001", "kind": "call", "pattern": "x.y", **fields})
    assert str(raised.value) == message
