"""The project's tests run in the sandbox for one gate run, each run once and shared.

Three checks need the tests: ``tests`` (does the suite pass on the change),
``coverage`` (which changed lines did it run) and ``mutation`` (which tests
to run against each mutant). One run of the head's suite, under coverage.py,
serves all three. :class:`SuiteRuns` makes the runs a gate needs, each at
most once and only when a check asks:

- **the head's suite**: the change's files and tests, with the changed code
  files (not the tests) measured by coverage.py, each line recorded with the
  tests that ran it;
- **the base's tests on the head's code**: when the change touched the
  tests or what shapes them (a test file, a conftest, a tests folder, the
  pytest configuration at the root), the head's code with the base's test
  files and configuration in their place, so that a change cannot pass by
  editing or deleting the tests it breaks;
- **the base's failing tests, then its suite**: the base commit as it was,
  only to tell failures the change brought from those that were there
  before it; the tests that fail on the change run alone there first, and
  the whole suite only when that does not settle it.

Every run goes through the project's :class:`~ark_lsp.sandbox.SandboxRunner`
(its backend, environment, records, and the limits of a run of a test suite:
``suite-timeout``, not ``ark run``'s ``timeout``) with the files of a
checkout, never the user's working tree, and a small driver
(:mod:`ark_lsp.gate.sandbox_driver`) that runs pytest and coverage.py in the
sandbox. What comes back is read as untrusted data.

The gate's workflow makes one per gate run, with the project's runner
(which it closes), and hands it to the checks::

    runs = SuiteRuns(project.sandbox_runner(...), gate, cancel=cancel)
    check_tests(gate, runs), check_coverage(gate, runs), check_mutation(gate, runs)

(``functools.partial(check_tests, runs=runs)`` where a ``(GateInput) ->
CheckResult`` is wanted.)
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ark_lsp.gate import sandbox_driver
from ark_lsp.gate.affected_tests import (
    NONE_REACH,
    UNKNOWN,
    FunctionTestMap,
    MapCache,
    Selection,
    choose,
    file_key,
    map_key,
    merged,
    plan,
    read_test_map,
    whole_suite,
)
from ark_lsp.gate.coverage_report import CoverageReport, read_coverage
from ark_lsp.gate.model import FileStatus, GateInput
from ark_lsp.gate.suite_files import is_test_file, is_test_module, shapes_the_tests
from ark_lsp.sandbox import (
    CaseOutcome,
    KilledBy,
    Limits,
    Outcome,
    PytestRun,
    RunRequest,
    RunResult,
    how_to_raise,
)
from ark_lsp.sandbox.pytest_results import NO_TESTS, PYTEST_ARGS, PYTEST_MISSING
from ark_lsp.sandbox.requests import copy_workspace
from ark_lsp.sandbox.runner import Cancel, SandboxRunner
from ark_lsp.store.connection import utc_now
from ark_lsp.trust import user_cache_folder

DRIVER = ".ark_gate_driver.py"
"""The driver's name in the sandbox's work folder (pytest collects no such name)."""
SPEC = ".ark-gate/spec.json"
JUNIT = ".ark-gate/junit.xml"
COVERAGE = ".ark-gate/coverage.json"
STATUS = ".ark-gate/status.json"
RESULTS = ".ark-gate/mutants.jsonl"
TEST_MAP = ".ark-gate/map.json"
STATUS_CAP = 8192
"""Bytes of the driver's status read: a few short fields."""
MAX_SELECTED = 100
"""Failing tests run alone on the base at most; beyond, the base's whole suite runs."""

T = TypeVar("T")


@dataclass(frozen=True)
class SuiteRun:
    """One run of a test suite in the sandbox, and what coverage.py saw of it."""

    tests: PytestRun
    coverage: CoverageReport | None = None
    coverage_problem: str | None = None
    """Why there is no coverage report, when one was asked for."""

    @property
    def result(self) -> RunResult:
        """The sandbox run."""
        return self.tests.result

    @property
    def problem(self) -> str | None:
        """Why the run is no test result at all (it could not start, or not run the tests)."""
        if self.result.outcome in (Outcome.ERROR, Outcome.CANCELLED):
            return self.result.error or self.result.outcome.value
        return None

    @property
    def tool_missing(self) -> bool:
        """Whether the tests could not be judged for want of pytest, tests or a sandbox.

        A conftest that fails to import or a file that cannot be collected is
        the project's fault and judged; these are not.
        """
        problem = self.tests.problem
        if problem is None:
            return self.problem is not None  # the sandbox refused, failed or was cancelled
        return problem.startswith((PYTEST_MISSING, NO_TESTS))

    @property
    def failures(self) -> tuple[str, ...]:
        """The node ids of the tests that failed or errored."""
        bad = (CaseOutcome.FAILED, CaseOutcome.ERROR)
        return tuple(case.nodeid for case in self.tests.cases if case.outcome in bad)

    @property
    def passed(self) -> frozenset[str]:
        """The node ids of the tests that passed."""
        return frozenset(c.nodeid for c in self.tests.cases if c.outcome is CaseOutcome.PASSED)


def _refused(reason: str) -> SuiteRun:
    now = utc_now()
    return SuiteRun(PytestRun(RunResult(Outcome.ERROR, "", error=reason, started_at=now,
                                        finished_at=now)))  # fmt: skip


def _status(data: bytes) -> str | None:
    """The driver's word on coverage.py: None when it measured, else why not."""
    if not data:
        return "the sandbox reported nothing of coverage.py (the run ended before it could)"
    try:
        raw = json.loads(data[:STATUS_CAP])
    except (ValueError, RecursionError):
        return "the sandbox's coverage status could not be read"
    problem = raw.get("coverage") if isinstance(raw, dict) else "unreadable"
    return None if problem is None else str(problem)[:500]


class SuiteRuns:
    """The gate's runs of a project's tests in the sandbox; see the module docstring.

    Made once per gate run with the project's runner and what changed, and
    handed to the checks that need it. Safe to share between threads: each
    run is made once, the first caller waiting for it.
    """

    def __init__(self, runner: SandboxRunner, gate: GateInput, *, cancel: Cancel = None) -> None:
        """Run ``gate``'s checkouts on ``runner`` (the project's, its settings and limits)."""
        self.runner = runner
        self.gate = gate
        self.cancel = cancel
        self._lock = threading.RLock()  # a run asks for the trees, made under the same lock
        self._made: dict[str, object] = {}

    def _once(self, key: str, make: Callable[[], T]) -> T:
        with self._lock:
            if key not in self._made:
                self._made[key] = make()
            return self._made[key]  # type: ignore[return-value]

    @property
    def limits(self) -> Limits:
        """The limits of each run of a suite: the runner's, with its ``suite-timeout``."""
        return self.runner.suite_limits

    # --- the trees ---------------------------------------------------------------------------

    def _tree(self, root: Path) -> dict[str, bytes] | str:
        try:
            return copy_workspace(root, self.runner.settings).files
        except ValueError as error:
            return str(error)

    def head_files(self) -> dict[str, bytes] | str:
        """The change's files as a sandbox gets them, or why they cannot be copied."""
        return self._once("head files", lambda: self._tree(self.gate.head_dir))

    def base_files(self) -> dict[str, bytes] | str:
        """The base commit's files as a sandbox gets them, or why they cannot be copied."""
        return self._once("base files", lambda: self._tree(self.gate.base_dir))

    @property
    def measured(self) -> tuple[str, ...]:
        """The changed code files coverage.py measures: Python, in the head, not tests."""
        return tuple(f.path for f in self.gate.python_files if not is_test_file(f.path))

    @property
    def tests_touched(self) -> bool:
        """Whether the change edited, deleted or added to what decides how the tests run.

        A new test module alone does not count: it adds a test, and the base's
        suite is the head's without it.
        """
        for changed in self.gate.files:
            for path in {changed.path, changed.base_path}:
                if not shapes_the_tests(path):
                    continue
                if changed.status is FileStatus.ADDED and is_test_module(path):
                    continue
                return True
        return False

    # --- the runs ----------------------------------------------------------------------------

    def head_suite(self) -> SuiteRun:
        """The head's suite on the head's code, the changed code measured.

        Only the tests the change can affect, unless :meth:`selection` says
        the whole suite (see :mod:`ark_lsp.gate.affected_tests`).
        """
        return self._once("head", self._run_head)

    def selection(self) -> Selection:
        """The tests the change's run is given, and how they were chosen."""
        return self._once("selection", self._select)

    def selection_used(self) -> dict[str, object] | None:
        """How the change's tests were chosen, as plain data; None when they did not run."""
        with self._lock:
            if "head" not in self._made:
                return None
        chosen = self.selection()
        return {
            "whole_suite": chosen.whole,
            "reason": chosen.reason,
            "chosen": None if chosen.whole else chosen.chosen,
            "kept": None if chosen.whole else len(chosen.kept),
            "tests": None if chosen.tests is None else list(chosen.tests),
        }

    def test_map(self) -> FunctionTestMap | str | None:
        """The map of the base's tests the selection used, or why there is none.

        None when the selection needed none (the whole suite ran).
        """
        self.selection()
        with self._lock:
            made = self._made.get("map")
        return made if isinstance(made, FunctionTestMap | str) else None

    def base_tests_on_head(self) -> SuiteRun | None:
        """The base's tests on the head's code; None when the change left the tests alone."""
        if not self.tests_touched or self._base_tests_chosen() == ():
            return None  # a change that left the tests alone, or none of the base's it can reach
        return self._once("base tests on head", self._run_base_tests_on_head)

    def _base_tests_on_head_files(self) -> dict[str, bytes] | str:
        head, base = self.head_files(), self.base_files()
        if isinstance(head, str) or isinstance(base, str):
            return head if isinstance(head, str) else str(base)
        files = {path: data for path, data in head.items() if not shapes_the_tests(path)}
        files.update({path: data for path, data in base.items() if shapes_the_tests(path)})
        return files

    def _base_tests_chosen(self) -> tuple[str, ...] | None:
        """Of the tests chosen for the change, those the base has; None for the whole suite."""
        chosen = self.selection().tests
        files = self._base_tests_on_head_files()
        if chosen is None or isinstance(files, str):
            return None
        return tuple(test for test in chosen if test.split("::", 1)[0] in files)

    def base_suite(self) -> SuiteRun:
        """The base's suite on the base's code: what already failed before the change."""
        return self._once("base", self._run_base)

    def failing_on_base(self, nodeids: Collection[str]) -> frozenset[str]:
        """Which of ``nodeids`` (tests that fail on the change) failed on the base already.

        They run alone on the base first, which costs a few tests rather than
        the whole suite again, and settles it when every one of them fails
        there too (a failure the base had). When one passes alone, or that
        run cannot say, the base's whole suite decides: a test may fail only
        after others ran. A base whose suite cannot run says none.
        """
        wanted = sorted(set(nodeids))
        known = self._made.get("map")
        if isinstance(known, FunctionTestMap) and set(wanted) <= set(known.outcomes):
            return frozenset(wanted) & known.failed  # the base's whole suite, run for the map
        if 0 < len(wanted) <= MAX_SELECTED:
            alone = self._once("base: " + "\n".join(wanted), lambda: self._run_base(tuple(wanted)))
            failed = frozenset(alone.failures)
            if alone.problem is None and failed >= set(wanted):
                return frozenset(wanted)
        whole = self.base_suite()
        return frozenset(whole.failures) & set(wanted) if whole.problem is None else frozenset()

    def _run_head(self) -> SuiteRun:
        files = self.head_files()
        if isinstance(files, str):
            return _refused(files)
        chosen = self.selection()
        if chosen.tests == ():
            return self._unreached(files)
        if chosen.tests is not None:
            run = self.run_suite(
                files, measure=self.measured, tests=chosen.tests,
                target="gate: the change's affected tests",
            )  # fmt: skip
            if run.tests.problem is None:
                return run
            # Not a verdict on the change: its whole suite says whether the tests can run.
            with self._lock:
                self._made["selection"] = whole_suite(
                    f"the chosen tests could not be run ({run.tests.problem[:200]})"
                )
        return self.run_suite(files, measure=self.measured, target="gate: the change's suite")

    def _select(self) -> Selection:
        head, base = self.head_files(), self.base_files()
        if isinstance(head, str) or isinstance(base, str):
            return whole_suite(head if isinstance(head, str) else str(base))
        planned = plan(self.gate, base, head)
        if planned.whole is not None:
            return whole_suite(planned.whole)
        paths = tuple(sorted({function.path for function in planned.functions}))
        test_map = self._once("map", lambda: self._map(base, paths))
        if isinstance(test_map, str):
            return whole_suite(test_map)
        chosen = choose(planned, test_map, (changed.path for changed in self.gate.files))
        if chosen.tests == () and self._writes_a_doctest(head):
            # pytest may collect it (--doctest-modules): a test the base's map cannot know.
            return whole_suite(f"{NONE_REACH}, and the change writes a doctest")
        return chosen

    def _writes_a_doctest(self, head: Mapping[str, bytes]) -> bool:
        """Whether a line the change wrote in its code files holds a doctest's prompt."""
        for path in self.measured:
            lines = head.get(path, b"").splitlines()
            changed = self.gate.changed_lines(path)
            if any(0 < n <= len(lines) and b">>>" in lines[n - 1] for n in changed):
                return True
        return False

    def _map(self, files: Mapping[str, bytes], paths: tuple[str, ...]) -> FunctionTestMap | str:
        """The map of the base's files ``paths``: kept from an earlier run, or made now.

        Each file's map is kept on its own, so a change to another file of
        the same base maps only that one; without ``paths``, whatever map of
        the base was kept, for the base's tests and their outcomes.
        """
        driver = Path(sandbox_driver.__file__).read_bytes()
        key = map_key(files, driver.hex(), repr(self.runner.settings))
        cache = MapCache(user_cache_folder() / "test-maps")
        if not paths:
            kept = cache.load(key)
            found = read_test_map(kept, ()) if kept is not None else None
            return found or UNKNOWN
        maps, missing = [], []
        for path in paths:
            kept = cache.load(file_key(key, path))
            found = read_test_map(kept, (path,)) if kept is not None else None
            if found is None:
                missing.append(path)
            else:
                maps.append(found)
        if missing:
            made = self._run_map(files, tuple(missing))
            if isinstance(made, str):
                return made
            data, found = made
            for path in [*missing, ""]:
                cache.save(file_key(key, path) if path else key, data)
            maps.insert(0, found)  # the tests and outcomes of this run, the latest
        return merged(maps)

    def _run_map(
        self, files: Mapping[str, bytes], measure: tuple[str, ...]
    ) -> tuple[bytes, FunctionTestMap] | str:
        """Run the base's whole suite under coverage.py for ``measure``: the map, or why not."""
        spec = {
            "mode": "suite",
            "map": TEST_MAP,
            "pytest_args": [*PYTEST_ARGS, f"--junitxml={JUNIT}"],
            "measure": list(measure),
            "status": STATUS,
        }
        request = self.driver_request(
            files, spec, collect=(JUNIT, STATUS, TEST_MAP), limits=self.limits,
            target="gate: the base's suite, mapping what each test runs",
        )  # fmt: skip
        run = SuiteRun(self.runner.run_pytest(request, JUNIT, self.cancel))
        with self._lock:  # the base's whole suite: what failed before the change, too
            self._made.setdefault("base", run)
        if run.problem is not None:
            return f"the base's suite could not be mapped: {run.problem}"
        stopped = unfinished("the base's suite (mapping what each test runs)", run,
                             self.limits)  # fmt: skip
        problem = stopped or _status(run.result.artifacts.get(STATUS, b""))
        if problem is not None:
            return f"no map of the base's tests: {problem}"
        data = run.result.artifacts.get(TEST_MAP, b"")
        found = read_test_map(data, measure)
        if found is None:
            return "no map of the base's tests: the sandbox's map could not be read"
        return data, found

    def _run_base_tests_on_head(self) -> SuiteRun:
        files = self._base_tests_on_head_files()
        if isinstance(files, str):
            return _refused(files)
        chosen = self._base_tests_chosen() or ()
        target = "gate: the base's tests on the change"
        return self.run_suite(files, tests=chosen, target=target)

    def _run_base(self, only: tuple[str, ...] = ()) -> SuiteRun:
        files = self.base_files()
        if isinstance(files, str):
            return _refused(files)
        if only:
            target = "gate: the base's tests that fail on the change"
            return self.run_suite(files, tests=only, target=target)
        return self.run_suite(files, target="gate: the base's suite")

    def run_suite(
        self,
        files: Mapping[str, bytes],
        *,
        measure: tuple[str, ...] = (),
        tests: tuple[str, ...] = (),
        target: str = "",
    ) -> SuiteRun:
        """Run pytest on ``files`` in the sandbox, under coverage.py for ``measure``.

        ``tests`` (node ids) runs only those tests; by default the whole suite runs.
        """
        spec = {
            "mode": "suite",
            # "--" ends the options: a node id is never read as one.
            "pytest_args": [
                *PYTEST_ARGS,
                f"--junitxml={JUNIT}",
                *(("--", *tests) if tests else ()),
            ],
            "measure": list(measure),
            "status": STATUS,
            "coverage": COVERAGE,
        }
        request = self.driver_request(
            files, spec, collect=(JUNIT, STATUS, COVERAGE), limits=self.limits,
            target=target,
        )  # fmt: skip
        run = self.runner.run_pytest(request, JUNIT, self.cancel)
        return _measured(run, measure)

    def _unreached(self, files: Mapping[str, bytes]) -> SuiteRun:
        """The change's suite when no test can reach the changed code: no test run.

        coverage.py reports the changed files as never run (their
        statements and branches, none executed), what running the tests
        would have found; the tests keep the base's verdicts.
        """
        spec = {
            "mode": "suite",
            "run_tests": False,
            "measure": list(self.measured),
            "status": STATUS,
            "coverage": COVERAGE,
        }
        request = self.driver_request(
            files, spec, collect=(STATUS, COVERAGE), limits=self.limits,
            target="gate: the change's lines, which no test reaches",
        )  # fmt: skip
        return _measured(PytestRun(self.run_driver(request)), self.measured)

    def driver_request(
        self,
        files: Mapping[str, bytes],
        spec: Mapping[str, object],
        *,
        collect: tuple[str, ...],
        limits: Limits,
        target: str,
    ) -> RunRequest:
        """A run of the gate's driver on ``files`` with its orders ``spec``."""
        driver = Path(sandbox_driver.__file__).read_bytes()
        return RunRequest(
            command=("python3", DRIVER, SPEC),
            files={**files, DRIVER: driver, SPEC: json.dumps(spec).encode()},
            limits=limits,
            target_path=target,
            kind="test",
            collect=collect,
        )

    def run_driver(self, request: RunRequest) -> RunResult:
        """Run a request of :meth:`driver_request` that is not a test suite (mutants)."""
        return self.runner.run(request, self.cancel)


def _measured(run: PytestRun, measure: tuple[str, ...]) -> SuiteRun:
    """The suite run ``run`` with what coverage.py reported of ``measure``, or why nothing."""
    if not measure:
        return SuiteRun(run)
    artifacts = run.result.artifacts
    problem = _status(artifacts.get(STATUS, b""))
    report = None
    if problem is None:
        report = read_coverage(artifacts.get(COVERAGE, b""), measure)
        if report is None:
            problem = "the sandbox's coverage report could not be read"
    return SuiteRun(run, report, problem)


def unfinished(label: str, run: SuiteRun, limits: Limits) -> str | None:
    """Why the suite ``run`` (run within ``limits``) did not end, when a limit stopped it.

    Said with the setting that raises that limit (``suite-timeout`` for the
    wall clock): a project's suite under coverage.py needs far more than one
    ``ark run``.
    """
    killed = run.result.killed_by
    how = how_to_raise(killed, suite=True)
    if how is None:
        return None
    if killed is KilledBy.TIMEOUT:
        return f"{label} ran past the sandbox's {limits.timeout:g} s limit ({how})"
    if killed is KilledBy.MEMORY:
        return f"{label} ran out of the sandbox's memory ({how})"
    return f"{label} started more processes than the sandbox allows ({how})"


def with_timeout(limits: Limits, seconds: float) -> Limits:
    """``limits`` with a wall-clock limit of ``seconds``."""
    return dataclasses.replace(limits, timeout=seconds)


__all__ = ["SuiteRun", "SuiteRuns", "unfinished", "with_timeout"]
