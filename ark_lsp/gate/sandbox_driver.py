"""The gate's driver in the sandbox: the test suite under coverage.py, or mutants one by one.

This file is copied into the sandbox's work folder and run there as a script
by the sandbox's own Python, so it imports nothing but the standard library
(and pytest and coverage.py, which it finds in the sandbox or says are
missing) and keeps to what Python 3.8 reads. It takes its orders from the
JSON file named on its command line.

``suite``: run pytest in this process, under coverage.py when ``measure``
names files (branch coverage on, the project's own coverage configuration
ignored, only those files traced). Each test's lines are recorded in a
coverage *context* named after its pytest node id, so a line says which
tests ran it. Afterwards the files measured are reported in a compact JSON
(``coverage``): their executed and missing lines and branches, with the
tests of each line as indices into one list of node ids. A sandbox without
coverage.py runs the tests all the same and says so in ``status``. The exit
code is pytest's, and so is the JUnit report its arguments ask for. With
``run_tests`` false no test runs: coverage.py reports the measured files as
never run (the gate's answer for a change no test reaches).

``mutants``: for each mutant in turn, write the mutated lines into its file,
run pytest on the mutant's tests in a child process of its own session,
wait at most the mutant's ``timeout`` seconds (ARK scales it from its
tests' unmutated time; the spec's ``timeout`` for a mutant without one),
then kill the child's whole session: a mutant that hangs counts as killed
by the timeout. Then put the file back, and
append one JSON line to ``results``, so a run that is stopped half way
still reports every mutant it finished. Children never read a cached
``.pyc`` (``PYTHONPYCACHEPREFIX`` points at an empty folder and nothing is
written), so each sees the file as it is now.

pytest-cov is off in every run (as its ``--no-cov`` turns it off), whatever
the project's ``addopts`` say: its own coverage.py would pause the driver's
for the whole session, and its ``--cov-fail-under`` would fail a run whose
tests all passed. Whatever else takes coverage.py's place is seen too: each
test runs a line of this driver, and a run whose tests ran none recorded
says so (``status``) rather than report every measured line as never run.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

KILLED_BY_EXIT = (1, 2)
"""pytest's exit codes for failing tests and for an interrupted run (a collection error)."""

WARM_PLUGINS_WARNING = "ignore::pytest.PytestAssertRewriteWarning"

_QUIET_WARNINGS = ("no-data-collected", "module-not-measured", "module-not-imported")


PYTEST_ONLY = "--pytest"
"""The driver's first argument when it only runs pytest (a mutant's run in a new interpreter)."""

UNTRACED = (
    "coverage.py recorded no line while the tests ran: another tracer took its place "
    "(pytest-cov or a conftest that starts coverage.py itself)"
)
"""Why a run's coverage is no answer when the driver's own line in each test went unrecorded."""


def _no_pytest_cov() -> object:
    """A plugin that turns pytest-cov off, as its own ``--no-cov`` does.

    A project's ``addopts`` may hold ``--cov=...``: pytest-cov would start a
    coverage.py of its own, which pauses the driver's for the whole session
    (each test's lines recorded nowhere), and its ``--cov-fail-under`` would
    fail runs whose tests all passed (a mutant counted killed). The option
    is set only where pytest-cov registered it: without pytest-cov, a
    ``--no-cov`` on the command line would be an unknown argument.
    """
    import pytest

    class NoPytestCov:
        @pytest.hookimpl(hookwrapper=True)
        def pytest_load_initial_conftests(self, early_config: Any) -> Any:
            # A wrapper runs before every plugin's own hook, pytest-cov's (tryfirst) too.
            options = early_config.known_args_namespace
            if hasattr(options, "no_cov"):
                options.no_cov = True
            yield

    return NoPytestCov()


class _TestContexts:
    """Names the coverage of each test after its pytest node id."""

    def __init__(self, cov: Any) -> None:
        self.cov = cov
        self.calls = 0

    def pytest_runtest_setup(self, item: Any) -> None:
        self.cov.switch_context(item.nodeid)

    def pytest_runtest_call(self) -> None:
        self.calls += 1  # recorded in the test's context, when the tracer is coverage.py's


def _traced(cov: Any, calls: int) -> bool:
    """Whether coverage.py recorded the tests: some test ran a line of this driver in its context.

    False when tests ran (``calls``) and none of the driver's lines was
    recorded in a test's context: another coverage.py (pytest-cov's) paused
    this one, and a file no line of which was recorded was not "never run".
    """
    if not calls:
        return True
    data = cov.get_data()
    name = os.path.basename(__file__)
    for measured in data.measured_files():
        if os.path.basename(measured) == name:
            by_line = data.contexts_by_lineno(measured)
            labels = {label for found in by_line.values() for label in found}
            return bool(labels - {"", SHARED})
    return False


def _coverage(measure: list[str], branch: bool = True) -> tuple[Any, str | None]:
    try:
        import coverage
    except ImportError as error:
        return None, f"coverage.py is not installed in the sandbox's Python ({error})"
    cov = coverage.Coverage(
        data_file=os.path.join(tempfile.gettempdir(), "ark-gate.coverage"),
        branch=branch,
        config_file=False,
        # The driver too: whether its line in each test was recorded says the tracer was ours.
        include=[os.path.abspath(path) for path in [*measure, __file__]],
    )
    cov.set_option("run:disable_warnings", list(_QUIET_WARNINGS))
    return cov, None


def _relative(name: str) -> str:
    return os.path.relpath(name) if os.path.isabs(name) else name


def _branch_arcs(cov: Any, measure: list[str]) -> dict[str, list[list[int]]]:
    """Every branch of each file, from coverage.py's static analysis, not from what ran.

    A branch is an arc leaving a line with more than one way out, as
    coverage.py counts them (its ``missing`` arcs are of these); the arcs the
    JSON report calls executed may hold more (an older coverage.py keeps
    arcs it never thought possible), so the number of branches of a line
    would depend on which ran. A file coverage.py cannot analyse is left out.
    """
    found: dict[str, list[list[int]]] = {}
    for path in measure:
        try:
            analysis = cov._analyze(path)
            possible = analysis.arc_possibilities
            if callable(possible):  # a method before coverage.py 7.5
                possible = possible()
            branch_lines = set(analysis._branch_lines())
            no_branch = set(getattr(analysis, "no_branch", ()) or ())
            excluded = set(getattr(analysis, "excluded", ()) or ())
        except Exception:  # coverage.py's internals differ: the report's arcs are used instead
            continue
        found[_relative(path)] = sorted(
            [start, end]
            for start, end in possible
            if start in branch_lines
            and start != end
            and start not in no_branch
            and end not in excluded
        )
    return found


def _compact(
    raw: dict[str, Any], branch_arcs: dict[str, list[list[int]]] | None = None
) -> dict[str, Any]:
    """The report's lines, branches and tests per file, each test named once."""
    tests: list[str] = []
    index: dict[str, int] = {}
    files = {}
    for name, entry in raw.get("files", {}).items():
        contexts = {}
        for line, labels in entry.get("contexts", {}).items():
            ids = []
            for label in labels:
                if not label:
                    continue  # lines run outside any test (at import)
                if label not in index:
                    index[label] = len(tests)
                    tests.append(label)
                ids.append(index[label])
            contexts[line] = ids
        files[_relative(name)] = {
            "executed": entry.get("executed_lines", []),
            "missing": entry.get("missing_lines", []),
            "excluded": entry.get("excluded_lines", []),
            "executed_branches": entry.get("executed_branches", []),
            "missing_branches": entry.get("missing_branches", []),
            "contexts": contexts,
        }
        if branch_arcs is not None and _relative(name) in branch_arcs:
            files[_relative(name)]["branch_arcs"] = branch_arcs[_relative(name)]
    return {"version": raw.get("meta", {}).get("version", ""), "tests": tests, "files": files}


def _write_json(path: str, value: object) -> None:
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle)


def run_suite(spec: dict[str, Any]) -> int:
    """Run pytest once, under coverage.py where asked and present; pytest's exit code."""
    if spec.get("map"):
        return run_map(spec)
    measure = [path for path in spec.get("measure") or [] if os.path.isfile(path)]
    status: dict[str, Any] = {"coverage": None}
    cov = None
    if measure:
        cov, problem = _coverage(measure)
        # Said before the tests, which may never end: the last word is written after them.
        status["coverage"] = problem or "the tests ended before coverage.py could report"
        _write_json(spec["status"], status)
        status["coverage"] = problem
    contexts = _TestContexts(cov) if cov is not None else None
    if cov is not None:
        cov.start()
    try:
        code = 0
        if spec.get("run_tests", True):
            import pytest

            plugins = [_no_pytest_cov(), *([contexts] if contexts is not None else [])]
            code = int(pytest.main(list(spec["pytest_args"]), plugins=plugins))
    finally:
        if cov is not None:
            cov.stop()
    if cov is not None and contexts is not None:
        try:
            if not _traced(cov, contexts.calls):
                raise _Untraced()
            cov.save()
            raw = os.path.join(tempfile.gettempdir(), "ark-gate-coverage.json")
            cov.json_report(morfs=measure, outfile=raw, show_contexts=True)
            with open(raw, encoding="utf-8") as handle:
                _write_json(
                    spec["coverage"], _compact(json.load(handle), _branch_arcs(cov, measure))
                )
        except _Untraced:
            status["coverage"] = UNTRACED
        except Exception as error:  # coverage.py's own failures are reported, not raised
            status["coverage"] = f"coverage.py could not report: {type(error).__name__}: {error}"
        _write_json(spec["status"], status)
    return code


class _Untraced(Exception):
    """Tests ran, and coverage.py recorded none of them."""


SHARED = "(shared)"
"""The context of what runs for many tests at once: a fixture wider than one test."""


def _map_plugin(cov: Any, outcomes: dict[str, str]) -> object:
    """A plugin naming each test's coverage after it, and keeping its outcome.

    What a fixture of a class, module or session runs is :data:`SHARED`.
    """
    import pytest

    class MapContexts:
        current = ""
        calls = 0

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtest_setup(self, item: Any) -> None:
            self.current = item.nodeid
            cov.switch_context(item.nodeid)

        @pytest.hookimpl(hookwrapper=True)
        def pytest_fixture_setup(self, fixturedef: Any, request: Any) -> Any:
            # A fixture of a class, module or session serves the tests after this one too.
            shared = getattr(fixturedef, "scope", "function") != "function"
            if shared:
                cov.switch_context(SHARED)
            yield
            if shared:
                cov.switch_context(self.current)

        def pytest_runtest_call(self) -> None:
            self.calls += 1  # recorded in the test's context, when the tracer is coverage.py's

        def pytest_runtest_logreport(self, report: Any) -> None:
            if report.failed:
                outcomes[report.nodeid] = "failed"
            elif report.skipped and outcomes.get(report.nodeid) != "failed":
                outcomes[report.nodeid] = "skipped"
            elif report.when == "call" and report.nodeid not in outcomes:
                outcomes[report.nodeid] = "passed"

    return MapContexts()


def _function_lines(path: str) -> list[tuple[int, int, int]]:
    """Each function of ``path``: its ``def`` line, its body's first line, its last line."""
    import ast

    try:
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read())
    except (SyntaxError, ValueError, OSError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0]
            start = min([first.lineno] + [d.lineno for d in getattr(first, "decorator_list", [])])
            found.append((node.lineno, start, getattr(node, "end_lineno", None) or node.lineno))
    return found


def _ranges(indices: list[int]) -> list[int]:
    """Sorted indices as flat ``[first, last, first, last, ...]`` runs."""
    runs: list[int] = []
    for index in indices:
        if runs and index == runs[-1] + 1:
            runs[-1] = index
        else:
            runs += [index, index]
    return runs


def run_map(spec: dict[str, Any]) -> int:
    """Run the whole suite under coverage.py and write which tests ran each function.

    The map (``map``): the tests by node id, each test's outcome, and for
    each measured file its functions (``def`` line, body's first and last
    line, whether a body line ran outside any one test, the tests that ran
    one as runs of indices). pytest's exit code.
    """
    measure = [path for path in spec.get("measure") or [] if os.path.isfile(path)]
    status: dict[str, Any] = {"coverage": "the tests ended before coverage.py could report"}
    cov, problem = _coverage(measure, branch=False)
    if cov is None:
        status["coverage"] = problem
        _write_json(spec["status"], status)
        return 3
    _write_json(spec["status"], status)
    outcomes: dict[str, str] = {}
    cov.start()
    try:
        import pytest

        contexts = _map_plugin(cov, outcomes)
        code = int(pytest.main(list(spec["pytest_args"]), plugins=[_no_pytest_cov(), contexts]))
    finally:
        cov.stop()
    if not _traced(cov, getattr(contexts, "calls", 0)):
        # An empty map would say no test runs the changed code: there is no map instead.
        status["coverage"] = UNTRACED
        _write_json(spec["status"], status)
        return code
    try:
        data = cov.get_data()
        seen = set(data.measured_files())
        tests = sorted(outcomes)
        index = {nodeid: number for number, nodeid in enumerate(tests)}
        files = {}
        for path in measure:
            absolute = os.path.abspath(path)
            by_line = data.contexts_by_lineno(absolute) if absolute in seen else {}
            functions = []
            for line, first, last in _function_lines(path):
                ran: set[int] = set()
                shared = False
                for number in range(first, last + 1):
                    for label in by_line.get(number, ()):
                        if label in index:
                            ran.add(index[label])
                        elif label in ("", SHARED) or label not in outcomes:
                            shared = True  # at import, in a wide fixture, between tests
                functions.append([line, first, last, shared, _ranges(sorted(ran))])
            files[path] = functions
        _write_json(
            spec["map"], {"tests": tests, "outcomes": [outcomes[t] for t in tests], "files": files}
        )
        status["coverage"] = None
    except Exception as error:  # coverage.py's own failures are reported, not raised
        status["coverage"] = f"coverage.py could not report: {type(error).__name__}: {error}"
    _write_json(spec["status"], status)
    return code


def _verdict(code: int) -> str:
    if code == 0:
        return "survived"
    if code in KILLED_BY_EXIT or code < 0:
        return "killed"
    return "error"


def _kill_session(pid: int) -> None:
    with contextlib.suppress(OSError):  # the session is already gone
        os.killpg(pid, signal.SIGKILL)


def _exit_code(status: int) -> int:
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _wait(pid: int, timeout: float) -> int | None:
    """The child's exit status, or None once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


def _judge_forked(arguments: list[str], timeout: float) -> tuple[str, int | None]:
    """Run pytest on one mutant in a forked child of its own session."""
    import pytest

    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: pytest and its plugins are imported already, the project not
        code = 3
        try:
            os.setsid()
            quiet = os.open(os.devnull, os.O_RDWR)
            for descriptor in (0, 1, 2):
                os.dup2(quiet, descriptor)
            # The plugins were imported before pytest could rewrite their asserts: it would
            # warn, and a project's `filterwarnings = error` would make that fatal.
            code = int(
                pytest.main([*arguments, "-W", WARM_PLUGINS_WARNING], plugins=[_no_pytest_cov()])
            )
        finally:
            os._exit(code)
    status = _wait(pid, timeout)
    _kill_session(pid)  # at the timeout, or whatever the tests left running
    if status is None:
        os.waitpid(pid, 0)
        return "timeout", None
    code = _exit_code(status)
    return _verdict(code), code


def _judge_spawned(
    arguments: list[str], timeout: float, env: dict[str, str]
) -> tuple[str, int | None]:
    """Run pytest on one mutant in a new interpreter of its own session."""
    try:
        child = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), PYTEST_ONLY, *arguments],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    except OSError:
        return "error", None
    try:
        code = child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_session(child.pid)
        child.wait()
        return "timeout", None
    _kill_session(child.pid)
    return _verdict(code), code


def _warm() -> bool:
    """Import pytest and its installed plugins once, so that each mutant's child starts warm.

    False when that is not safe: no pytest or no ``fork``, or a plugin
    imported a file of the work folder (the project is a pytest plugin
    itself), which a forked child would then see unmutated.
    """
    if not hasattr(os, "fork"):
        return False
    try:
        import pytest  # noqa: F401
    except ImportError:
        return False
    if not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):  # else pytest loads none
        _import_installed_plugins()
    here = os.getcwd() + os.sep
    return not any(
        (getattr(module, "__file__", None) or "").startswith(here)
        for name, module in list(sys.modules.items())
        if name != "__main__"  # this driver
    )


def _import_installed_plugins() -> None:
    with contextlib.suppress(Exception):
        from importlib.metadata import entry_points

        found: Any = entry_points()
        plugins = (
            found.select(group="pytest11")
            if hasattr(found, "select")
            else found.get("pytest11", [])
        )
        for plugin in plugins:
            with contextlib.suppress(Exception):
                plugin.load()


def _splice(original: bytes, first: int, last: int, text: str) -> bytes:
    lines = original.splitlines(keepends=True)
    return b"".join(lines[: first - 1]) + text.encode("utf-8") + b"".join(lines[last:])


def _put(path: str, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)


def run_mutants(spec: dict[str, Any]) -> int:
    """Judge each mutant in turn, one JSON line each; 0 once all are judged."""
    default_timeout = float(spec["timeout"])
    # No child reads a cached .pyc: each compiles the files as they are now.
    no_cache = tempfile.mkdtemp(prefix="ark-no-pycache-")
    env = dict(os.environ, PYTHONPYCACHEPREFIX=no_cache, PYTHONDONTWRITEBYTECODE="1")
    sys.pycache_prefix = no_cache
    sys.dont_write_bytecode = True
    forked = _warm()
    originals: dict[str, bytes] = {}
    with open(spec["results"], "a", encoding="utf-8") as results:
        for mutant in spec["mutants"]:
            path = mutant["path"]
            if path not in originals:
                with open(path, "rb") as handle:
                    originals[path] = handle.read()
            started = time.monotonic()
            _put(path, _splice(originals[path], mutant["first"], mutant["last"], mutant["text"]))
            arguments = list(spec["pytest_args"]) + mutant["tests"]
            timeout = float(mutant.get("timeout", default_timeout))
            try:
                if forked:
                    status, code = _judge_forked(arguments, timeout)
                else:
                    status, code = _judge_spawned(arguments, timeout, env)
            finally:
                _put(path, originals[path])
            line = {
                "id": mutant["id"],
                "status": status,
                "exit_code": code,
                "seconds": round(time.monotonic() - started, 3),
                "forked": forked,
            }
            results.write(json.dumps(line) + "\n")
            results.flush()
    return 0


def main() -> None:
    """Read the orders and carry them out (or run pytest alone, without pytest-cov)."""
    # Run from the work folder as `python -m pytest` would: its files import as the project's.
    sys.path[0] = os.getcwd()
    if sys.argv[1:2] == [PYTEST_ONLY]:
        import pytest

        sys.exit(int(pytest.main(sys.argv[2:], plugins=[_no_pytest_cov()])))
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    sys.argv = sys.argv[:1]
    if spec["mode"] == "suite":
        sys.exit(run_suite(spec))
    sys.exit(run_mutants(spec))


if __name__ == "__main__":
    main()
