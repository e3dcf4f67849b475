"""Mechanical fixes: offered only when safe, applied as text edits that keep the file valid."""

from __future__ import annotations

import ast
import json
import textwrap

import pytest
from support.cli import ark

from ark_lsp.analysis import analyze, fix_all
from ark_lsp.analysis.fixes import apply_fixes, command_words, suppression_fix
from ark_lsp.models import Fix, Span, TextEdit


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def fixed(source: str) -> str:
    text, _ = fix_all(dedent(source), "pkg/mod.py")
    ast.parse(text)
    return text


def offered(source: str) -> dict[tuple[str, int], str | None]:
    return {
        (v.rule, v.span.line): v.fix.title if v.fix else None
        for v in analyze(dedent(source), "pkg/mod.py").violations
    }


def test_eval_of_a_literal_becomes_literal_eval_with_its_import_after_the_docstring() -> None:
    source = '''
        """Settings."""
        from __future__ import annotations

        import json

        DEFAULTS = eval("{'retries': 3, 'hosts': ['a', 'b']}")
    '''
    assert fixed(source) == dedent(
        '''
        """Settings."""
        from __future__ import annotations

        import ast
        import json

        DEFAULTS = ast.literal_eval("{'retries': 3, 'hosts': ['a', 'b']}")
        '''
    )


def test_an_existing_import_is_reused_under_its_alias() -> None:
    source = """
        import ast as syntax
        import subprocess as sp

        value = eval("1")
        sp.run("make test", shell=True)
    """
    assert fixed(source) == dedent(
        """
        import ast as syntax
        import subprocess as sp

        value = syntax.literal_eval("1")
        sp.run(["make", "test"], shell=False)
        """
    )


def test_os_system_statement_becomes_subprocess_run() -> None:
    source = """
        import os


        def clean():
            os.system('rm -f "build output.log"')  # tidy up
    """
    assert fixed(source) == dedent(
        """
        import subprocess
        import os


        def clean():
            subprocess.run(['rm', '-f', 'build output.log'], check=False)  # tidy up
        """
    )


@pytest.mark.parametrize(
    "source",
    [
        "eval(user_input)\n",  # not a literal
        "eval('__import__(\"os\")')\n",  # a literal, but not one literal_eval accepts
        "import subprocess\nsubprocess.run('ls | wc -l', shell=True)\n",  # a pipe
        "import subprocess\nsubprocess.run('echo $HOME', shell=True)\n",  # a variable
        "import subprocess\nsubprocess.run('rm *.pyc', shell=True)\n",  # a glob
        "import subprocess\nsubprocess.run(cmd, shell=True)\n",  # not a literal
        "import subprocess\nsubprocess.run('FOO=1 make', shell=True)\n",  # sets the environment
        "import os\nstatus = os.system('make')\n",  # its value is used
        "import os\nos.system('make && make install')\n",
    ],
)
def test_no_automatic_fix_where_behaviour_could_change(source: str) -> None:
    report = analyze(source, "pkg/mod.py")
    assert report.violations, "the rule must still flag it"
    assert all(v.fix is None for v in report.violations)
    assert fix_all(source, "pkg/mod.py") == (source, 0)


def test_titles_of_offered_fixes() -> None:
    assert offered(
        """
        import os, subprocess
        eval("[1]")
        subprocess.call("ls -la", shell=True)
        os.system("ls")
        exec("x = 1")
        """
    ) == {
        ("ARK001", 2): "Replace eval() with ast.literal_eval()",
        ("ARK005", 3): "Pass the command as an argument list with shell=False",
        ("ARK004", 4): "Run the command with subprocess.run() and an argument list",
        ("ARK002", 5): None,
    }


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("ls -l /tmp", ["ls", "-l", "/tmp"]),
        ("git commit -m 'two words'", ["git", "commit", "-m", "two words"]),
        ("ls > out.txt", None),
        ("a; b", None),
        ("", None),
        ("echo `id`", None),
        ("unterminated 'quote", None),
    ],
)
def test_command_words(command: str, words: list[str] | None) -> None:
    assert command_words(command) == words


def test_suppression_fix_appends_or_extends_the_comment() -> None:
    text = "eval(a); exec(b)\neval(c)\n"
    violations = analyze(text, "m.py").violations
    assert [(v.rule, v.span.line) for v in violations] == [
        ("ARK001", 1),
        ("ARK002", 1),
        ("ARK001", 2),
    ]
    appended, _ = apply_fixes(text, [suppression_fix(violations[2], text.splitlines()[1])])
    assert appended == "eval(a); exec(b)\neval(c)  # ark: ignore[ARK001]\n"

    commented = "eval(a); exec(b)  # ark: ignore[ARK002]\neval(c)\n"
    extended, _ = apply_fixes(
        commented, [suppression_fix(violations[0], commented.splitlines()[0])]
    )
    assert extended.splitlines()[0] == "eval(a); exec(b)  # ark: ignore[ARK002, ARK001]"
    assert [v.span.line for v in analyze(extended, "m.py").violations] == [2]
    assert not suppression_fix(violations[0], text.splitlines()[0]).safe


def test_overlapping_fixes_apply_once_and_shared_edits_are_not_repeated() -> None:
    at = Span(1, 0, 1, 0)
    imports = TextEdit(at, "import ast\n")
    first = Fix("a", (imports, TextEdit(Span(1, 0, 1, 4), "AAAA")))
    overlapping = Fix("b", (TextEdit(Span(1, 2, 1, 6), "BBBB"),))
    second = Fix("c", (imports, TextEdit(Span(2, 0, 2, 4), "CCCC")))
    text, applied = apply_fixes("eval(x)\neval(y)\n", [first, overlapping, second])
    assert (text, applied) == ("import ast\nAAAA(x)\nCCCC(y)\n", 2)


def test_check_fix_rewrites_files_and_reports_what_is_left(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    app = tmp_path / "app.py"
    app.write_text('import os\n\n\ndef f(cmd):\n    os.system("ls -l")\n    return eval(cmd)\n')
    result = ark("check", "--fix", "--format", "json", cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert "fixed 1 problem(s) in 1 file(s)" in result.stderr
    assert app.read_text() == (
        'import subprocess\nimport os\n\n\ndef f(cmd):\n    subprocess.run(["ls", "-l"], '
        "check=False)\n    return eval(cmd)\n"
    )
    remaining = json.loads(result.stdout)["results"]
    assert [(r["rule"], r["line"]) for r in remaining] == [("ARK001", 7)]


def test_an_alias_is_reused_only_where_it_is_bound_to_the_module() -> None:
    # Module-level code runs before the import below it; a function, after
    # every import, so an alias imported twice may be either module.
    source = """
        import os

        os.system("ls -l")

        import subprocess as sp
        import safe as run


        def later():
            os.system("make all")

        import subprocess as run
        """
    assert fixed(source) == dedent(
        """
        import subprocess
        import os

        subprocess.run(["ls", "-l"], check=False)

        import subprocess as sp
        import safe as run


        def later():
            sp.run(["make", "all"], check=False)

        import subprocess as run
        """
    )
