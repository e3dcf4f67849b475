"""A test run that could not start is said to be one, never counted as tests that failed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from support.cli import ark
from support.local_runner import LocalRunner
from support.sandboxes import DockerSetup

from ark_lsp.config import Settings
from ark_lsp.generate import Templates
from ark_lsp.generate.characterize import CharacterizationContext, generate_tests
from ark_lsp.sandbox import Limits
from ark_lsp.sandbox.pytest_results import REPORT_CAP, exit_reason, parse_junit, setup_problem

pytestmark = pytest.mark.slow

MODULE = (
    "def double(x: int) -> int:\n    return 2 * x\n\n\n"
    "def triple(x: int) -> int:\n    return 3 * x\n"
)
TESTS = "from calc.ops import double\n\n\ndef test_double():\n    assert double(2) == 4\n"


@pytest.fixture
def calc(tmp_path: Path) -> Path:
    files = {
        "pyproject.toml": '[project]\nname = "calc"\n',
        "calc/__init__.py": "",
        "calc/ops.py": MODULE,
        "tests/test_ops.py": TESTS,
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    return tmp_path


def test_a_conftest_that_cannot_import_is_an_error_naming_it_not_zero_passed(calc: Path) -> None:
    (calc / "conftest.py").write_text("import hypothesis_is_not_here\n")
    run = ark("test", "--backend", "local", cwd=calc, check=False)
    assert run.returncode == 4, run.stderr
    assert (
        "ark: error: conftest.py cannot be imported: "
        "ModuleNotFoundError: No module named 'hypothesis_is_not_here'"
    ) in run.stderr
    assert "passed" not in run.stdout
    report = json.loads(
        ark("test", "--backend", "local", "--format", "json", cwd=calc, check=False).stdout
    )
    assert report["outcome"] == "error" and "conftest.py cannot be imported" in report["error"]


def test_a_module_the_workspace_declares_but_the_sandbox_lacks_says_where_it_would_come_from(
    calc: Path,
) -> None:
    # The project declares what its conftest imports and has a .venv holding it, but the
    # workspace is not trusted: runs get ARK's own Python, and the error says why.
    (calc / "pyproject.toml").write_text(
        '[project]\nname = "calc"\ndependencies = ["hypothesis-is-not-here"]\n'
    )
    (calc / "conftest.py").write_text("import hypothesis_is_not_here\n")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", ".venv"], cwd=calc, check=True)

    run = ark("test", "--backend", "local", cwd=calc, check=False)

    assert run.returncode == 4, run.stderr
    assert (
        "ark: error: conftest.py cannot be imported: ModuleNotFoundError: No module named "
        "'hypothesis_is_not_here' (the sandbox's environment: ARK's own Python: the "
        "workspace's .venv/ is used once you trust the workspace (`ark trust`) (pytest: yes))"
    ) in run.stderr


def test_a_name_missing_from_a_module_says_which_environment_the_run_had(calc: Path) -> None:
    # Another version of a package than the workspace declares: the run had ARK's own Python.
    (calc / "pyproject.toml").write_text('[project]\nname = "calc"\ndependencies = ["json5"]\n')
    (calc / "conftest.py").write_text("from json import NothingType\n")

    run = ark("test", "--backend", "local", cwd=calc, check=False)

    assert run.returncode == 4, run.stderr
    assert "cannot import name 'NothingType' from 'json'" in run.stderr
    assert (
        "(the sandbox's environment: ARK's own Python: the workspace has no virtual "
        "environment (.venv, venv, VIRTUAL_ENV) (pytest: yes))"
    ) in run.stderr


def test_a_suite_stopped_by_what_its_environment_lacks_says_which_environment_it_had(
    calc: Path,
) -> None:
    # dateutil: pytest-cov's no_cover marker is unknown without the project's environment,
    # and filterwarnings = error made that pytest's internal error.
    (calc / "pyproject.toml").write_text(
        '[project]\nname = "calc"\ndependencies = ["six"]\n\n'
        '[tool.pytest.ini_options]\nfilterwarnings = ["error"]\n'
    )
    (calc / "tests" / "test_marked.py").write_text(
        "import pytest\n\n\n@pytest.mark.no_cover\ndef test_marked():\n    pass\n"
    )

    run = ark("test", "--backend", "local", cwd=calc, check=False)

    assert run.returncode == 4, run.stderr
    assert "Unknown pytest.mark.no_cover" in run.stderr
    assert (
        "(the sandbox's environment: ARK's own Python: the workspace has no virtual "
        "environment (.venv, venv, VIRTUAL_ENV) (pytest: yes))"
    ) in run.stderr


def test_a_test_file_that_cannot_be_collected_is_an_error_naming_its_cause(calc: Path) -> None:
    (calc / "tests" / "test_more.py").write_text("import not_installed_anywhere\n")
    run = ark("test", "--backend", "local", cwd=calc, check=False)
    assert run.returncode == 4, run.stderr
    assert (
        "1 test file(s) could not be collected: tests/test_more.py: "
        "ModuleNotFoundError: No module named 'not_installed_anywhere'"
    ) in run.stderr
    assert "0 passed" not in run.stdout


FAILS_THE_SESSION = """\
import sys

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtestloop(session):
    # What pytest-cov's --cov-fail-under does when the tests all passed.
    yield
    session.testsfailed += 1


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write("ERROR: Coverage failure: total of 12 is less than fail-under=99\\n")
    terminalreporter.write(
        "FAIL Required test coverage of 99% not reached. Total coverage: 12.00%\\n"
    )


def pytest_unconfigure():
    sys.stderr.write("DeprecationWarning: datetime.utcnow() is deprecated\\n")
"""


def test_a_run_pytest_fails_though_its_tests_pass_says_the_line_that_explains_it(
    calc: Path,
) -> None:
    # arrow: "5 passed, 0 failed, 0 errors, 0 skipped" and exit 1, with no word of
    # --cov-fail-under; `ark history` gave a warning on stderr as the reason.
    (calc / "conftest.py").write_text(FAILS_THE_SESSION)
    explained = (
        "pytest ended with exit code 1 though no test failed: "
        "FAIL Required test coverage of 99% not reached. Total coverage: 12.00%"
    )

    run = ark("test", "--backend", "local", cwd=calc, check=False)

    assert run.returncode == 1, run.stderr
    assert run.stdout.endswith("1 passed, 0 failed, 0 errors, 0 skipped\n")
    assert f"ark: {explained}\n" in run.stderr
    history = ark("history", "--limit", "1", cwd=calc).stdout
    assert history.rstrip().endswith(f" .  ({explained})")


def test_a_run_that_fails_with_no_line_of_a_plugins_says_pytests_summary() -> None:
    cases = parse_junit(
        b'<testsuites><testsuite><testcase classname="tests.test_a" name="test_a" '
        b'file="tests/test_a.py"/></testsuite></testsuites>'
    )
    stdout = "....\n===== 5 passed in 1.03s =====\n"
    stderr = "  warnings.warn(DeprecationWarning('utcnow'))\n"

    assert exit_reason(1, cases, stdout, stderr) == (
        "pytest ended with exit code 1 though no test failed: ===== 5 passed in 1.03s ====="
    )
    assert exit_reason(0, cases, stdout, stderr) is None


def test_an_option_of_a_plugin_the_sandbox_lacks_is_named_with_the_file_that_asks_for_it(
    calc: Path,
) -> None:
    # pytest prints its usage, the error, then the ini file and the root folder: the
    # message quoted "rootdir: /tmp/..." and dropped the error.
    (calc / "tox.ini").write_text("[pytest]\naddopts = --cov=calc\n")

    run = ark("test", "--backend", "local", cwd=calc, check=False)

    assert run.returncode == 4, run.stderr
    assert (
        "ark: error: pytest could not start (a usage error): "
        "error: unrecognized arguments: --cov=calc (from tox.ini)\n"
    ) in run.stderr


def test_a_collection_error_with_a_chained_traceback_names_the_last_exception(
    tmp_path: Path,
) -> None:
    # A src-layout package not installed: importlib.metadata's StopIteration comes first,
    # the PackageNotFoundError the user must act on last, as pytest shows it.
    for relative, text in {
        "pyproject.toml": '[project]\nname = "minipkg"\nversion = "1.0"\n',
        "src/minipkg/__init__.py": (
            'import importlib.metadata\n__version__ = importlib.metadata.version("minipkg")\n'
        ),
        "tests/test_v.py": "import minipkg\n\n\ndef test_version():\n    assert minipkg\n",
    }.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)

    run = ark("test", "--backend", "local", cwd=tmp_path, check=False)

    assert run.returncode == 4, run.stderr
    assert (
        "ark: error: 1 test file(s) could not be collected: tests/test_v.py: "
        "importlib.metadata.PackageNotFoundError: No package metadata was found for minipkg\n"
    ) in run.stderr


def test_a_syntax_error_is_named_by_its_exception_not_the_code_it_quotes() -> None:
    details = (
        "/work/tests/test_s.py:1: in <module>\n"
        'E     File "/work/tests/test_s.py", line 1\n'
        "E       def (\n"
        "E           ^\n"
        "E   SyntaxError: invalid syntax\n"
    )
    report = (
        b'<testsuites><testsuite><testcase classname="" name="tests.test_s" '
        b'file="tests/test_s.py"><error message="collection failure">'
        + escape(details).encode()
        + b"</error></testcase></testsuite></testsuites>"
    )
    assert setup_problem(2, parse_junit(report), "", "") == (
        "1 test file(s) could not be collected: tests/test_s.py: SyntaxError: invalid syntax"
    )


def test_a_suite_of_thousands_of_parametrized_tests_is_counted_test_by_test(calc: Path) -> None:
    # packaging's 26,921 tests make a 5 MB report; it once came back cut at 4 MiB, and a
    # suite that passed was "an error: pytest reported no test".
    (calc / "tests" / "test_many.py").write_text(
        "import pytest\n\n\n"
        "@pytest.mark.parametrize('n', range(3000), ids=lambda n: f'{n:05d}' + 'x' * 1500)\n"
        "def test_many(n):\n    assert n >= 0\n"
    )
    run = ark("test", "--backend", "local", "--format", "json", cwd=calc, check=False)
    report = json.loads(run.stdout)
    assert report["outcome"] == "passed", report.get("error")
    assert report["summary"]["passed"] == 3001
    assert len({test["nodeid"] for test in report["tests"]}) == 3001


def test_a_report_larger_than_ark_reads_is_an_error_saying_so() -> None:
    problem = setup_problem(
        0, [], "....\n26921 passed, 6 warnings in 25.30s\n", "", report_size=REPORT_CAP
    )
    assert problem == (
        "pytest's report is larger than the 32 MiB ARK reads "
        "(pytest: 26921 passed, 6 warnings in 25.30s): run fewer tests at once (ark test PATH...)"
    )


def test_no_tests_collected_is_said_so() -> None:
    assert setup_problem(5, [], "\nno tests ran in 0.01s\n", "") == (
        "pytest collected no tests: no tests ran in 0.01s"
    )


def test_no_pytest_in_the_sandbox_is_said_so() -> None:
    problem = setup_problem(1, [], "", "/usr/bin/python3: No module named pytest\n")
    assert problem == "pytest is not installed in the sandbox's Python"


def test_an_internal_error_is_said_with_the_exception_that_ended_it() -> None:
    # As requests' suite met it: pytest's traceback ends in the exception, while the last
    # line on stderr is a warning printed on the way.
    stdout = (
        "INTERNALERROR> Traceback (most recent call last):\n"
        'INTERNALERROR>   File "/usr/lib/python3/dist-packages/_pytest/main.py", line 270\n'
        "INTERNALERROR>     astnode = ast.parse(content, 'source', 'exec')\n"
        "INTERNALERROR>               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "INTERNALERROR> SystemError: AST constructor recursion depth mismatch\n"
        "\n18 failed, 141 passed, 195 errors in 3.36s\n"
    )
    stderr = "  warnings.warn(pytest.PytestUnhandledThreadExceptionWarning(msg))\n"

    assert setup_problem(3, [], stdout, stderr) == (
        "pytest hit an internal error: SystemError: AST constructor recursion depth mismatch"
    )


def test_a_collection_failure_in_the_junit_report_is_read_as_one() -> None:
    report = (
        b'<testsuites><testsuite><testcase classname="" name="tests.test_b" '
        b'file="tests/test_b.py"><error message="collection failure">Traceback:\n'
        b"E   ModuleNotFoundError: No module named 'six'</error></testcase></testsuite>"
        b"</testsuites>"
    )
    cases = parse_junit(report)
    assert setup_problem(2, cases, "", "") == (
        "1 test file(s) could not be collected: tests/test_b.py: "
        "ModuleNotFoundError: No module named 'six'"
    )


def test_a_conftest_hook_pytest_refuses_is_named_from_the_traceback() -> None:
    # boltons' conftest defines pytest_ignore_collect(path, config), which pytest 8
    # refuses while loading it: a bare traceback, then "reported no test" and nothing else.
    stderr = (
        "Traceback (most recent call last):\n"
        '  File "/usr/local/lib/python3.11/dist-packages/pluggy/_manager.py", line 448\n'
        "    raise PluginValidationError(\n"
        "pluggy._manager.PluginValidationError: Plugin '/work/tests/conftest.py' for hook "
        "'pytest_ignore_collect'\nhookimpl definition: pytest_ignore_collect(path, config)\n"
        "Argument(s) {'path'} are declared in the hookimpl but can not be found in the hookspec\n"
    )
    assert setup_problem(1, [], "", stderr, "/work") == (
        "pytest ended with exit code 1 and reported no test: pluggy._manager."
        "PluginValidationError: Plugin 'tests/conftest.py' for hook 'pytest_ignore_collect' "
        "hookimpl definition: pytest_ignore_collect(path, config) Argument(s) {'path'} are "
        "declared in the hookimpl but can not be found in the hookspec"
    )


def test_each_cause_of_collection_failures_is_named_once_with_its_files() -> None:
    # pyparsing: test_diagram.py lacked railroad, test_examples.py matplotlib; only the
    # first was said.
    def failing(path: str, module: str) -> bytes:
        return (
            f'<testcase classname="" name="{path}" file="{path}"><error message="collection '
            f"failure\">E   ModuleNotFoundError: No module named '{module}'</error></testcase>"
        ).encode()

    report = (
        b"<testsuites><testsuite>"
        + failing("tests/test_diagram.py", "railroad")
        + failing("tests/test_examples.py", "matplotlib")
        + failing("tests/test_more_diagrams.py", "railroad")
        + b"</testsuite></testsuites>"
    )
    assert setup_problem(2, parse_junit(report), "", "") == (
        "3 test file(s) could not be collected: tests/test_diagram.py (and 1 more): "
        "ModuleNotFoundError: No module named 'railroad'; tests/test_examples.py: "
        "ModuleNotFoundError: No module named 'matplotlib'"
    )


def test_generated_tests_that_cannot_run_say_why_and_count_nothing(calc: Path) -> None:
    (calc / "conftest.py").write_text("import hypothesis_is_not_here\n")
    context = CharacterizationContext(
        root=calc, settings=Settings(), templates=Templates(), runner=LocalRunner(calc)
    )
    outcome = generate_tests(context, "calc/ops.py").outcome
    assert outcome.written > 0 and outcome.passed is None
    assert outcome.problem == (
        "the generated tests could not be run: conftest.py cannot be imported: "
        "ModuleNotFoundError: No module named 'hypothesis_is_not_here'"
    )
    assert " pass in the sandbox" not in outcome.summary


def test_generate_tests_that_fall_back_to_skeletons_exits_non_zero_saying_why(
    calc: Path, docker_setup: DockerSetup
) -> None:
    (calc / "calc" / "ops.py").write_text("import six_is_not_installed\n\n" + MODULE)
    run = ark("generate", "tests", "calc/ops.py", cwd=calc, check=False)
    assert run.returncode == 4, run.stderr
    assert (
        "ark: error: the module cannot be imported in the sandbox: ModuleNotFoundError: "
        "No module named 'six_is_not_installed': the tests are skipped skeletons with TODOs"
    ) in run.stderr
    assert run.stderr.count("No module named") == 1  # said once, as the error
    assert "pass in the sandbox" not in run.stdout


def test_generated_tests_missing_a_declared_dependency_say_how_to_get_it(
    calc: Path, docker_setup: DockerSetup
) -> None:
    # The module imports what the project declares, but the workspace is not trusted:
    # the runs get the bare image, and the error says so and what would install it.
    (calc / "pyproject.toml").write_text(
        '[project]\nname = "calc"\ndependencies = ["six-is-not-installed"]\n'
    )
    (calc / "calc" / "ops.py").write_text("import six_is_not_installed\n\n" + MODULE)

    run = ark("generate", "tests", "calc/ops.py", cwd=calc, check=False)

    assert run.returncode == 4, run.stderr
    error = next(line for line in run.stderr.splitlines() if line.startswith("ark: error:"))
    assert "No module named 'six_is_not_installed' (the sandbox's environment: " in error
    assert "`ark sandbox env build`" in error and error.endswith("skipped skeletons with TODOs")


def test_a_parameter_named_request_does_not_break_collection_of_the_generated_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "web"\n')
    (tmp_path / "web.py").write_text(
        "def method_of(request: str) -> str:\n    return request.upper()\n"
    )
    context = CharacterizationContext(
        root=tmp_path, settings=Settings(), templates=Templates(), runner=LocalRunner(tmp_path)
    )
    outcome = generate_tests(context, "web.py").outcome
    assert outcome.problem is None and outcome.collectable
    assert outcome.passed == outcome.written > 0


class QuickRunner(LocalRunner):
    # The generated tests run within the limits of a suite (pyparsing's core.py wrote 654
    # rows, which a call's 10 s stopped before any reported): those are made short here.
    suite_limits = Limits(timeout=8)


def test_generated_tests_the_time_limit_stopped_before_any_reported_count_nothing(
    calc: Path,
) -> None:
    # Observing calls the functions without pytest; only the test run meets the conftest.
    (calc / "conftest.py").write_text(
        "import time\n\n\ndef pytest_sessionstart(session):\n    time.sleep(60)\n"
    )
    runner = QuickRunner(calc)
    context = CharacterizationContext(
        root=calc, settings=Settings(), templates=Templates(), runner=runner
    )
    outcome = generate_tests(context, "calc/ops.py").outcome
    assert [r.limits.timeout for r in runner.requests] == [60, 60, 8]  # observe, check, test
    assert outcome.written > 0 and outcome.passed is None
    assert outcome.problem == (
        "the generated tests could not be run: the sandbox's time limit for tests ended the "
        "run before any test reported (raise it with [tool.ark.sandbox] suite-timeout)"
    )
    assert "0 of" not in outcome.summary
