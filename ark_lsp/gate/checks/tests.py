"""The gate's ``tests`` check: the project's test suite passes on the change.

Two suites are judged, in the sandbox (see :mod:`ark_lsp.gate.suite_runs`):

- the change's own suite on the change's code;
- when the change touched the tests or what shapes them (a test file, a
  conftest, a tests folder, the pytest configuration), **the base's tests on
  the change's code**. The tests the gate trusts come from the base commit,
  so a change cannot pass by editing, skipping or deleting a test it breaks.
  A change that means to alter behaviour and rewrites the test that pinned
  it fails here too, naming the base's test it broke: that is a person's
  call (the integrity flags say the tests were touched).

A test that fails on the change and failed on the base as well is not the
change's doing: when anything fails, the failing tests are run on the base's
code (alone first, then, unless all of them fail there too, in the base's
whole suite) and the failures it shares are named as failing already, not
held against the change (the gate judges new code only).

Not run, never passed: no pytest in the sandbox, no tests at all, a sandbox
that cannot start, a cancelled run, a suite that cannot be collected on the
base either for the same cause (a dependency the sandbox lacks: the
environment's fault, not the change's). Failed, with the cause: a failing
test, a suite the change made impossible to collect (a conftest or a test
module that does not import), a suite that runs past the sandbox's time or
memory.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable

from ark_lsp.gate.affected_tests import ALL_CHOSEN, FunctionTestMap
from ark_lsp.gate.model import CheckResult, CheckStatus, Finding, GateInput, fingerprint, not_run
from ark_lsp.gate.suite_runs import SuiteRun, SuiteRuns, unfinished
from ark_lsp.sandbox import CaseOutcome, PytestCase

NAME = "tests"
MESSAGE_CAP = 300
SHOWN = 3
"""Failing tests a summary names before it counts the rest."""


def _finding(case: PytestCase, code: str, what: str) -> Finding:
    message = " ".join(case.message.split())[:MESSAGE_CAP]
    return Finding(
        check=NAME,
        path=case.path,
        line=case.failure_line or case.line,
        code=code,
        message=f"{case.nodeid} {what}" + (f": {message}" if message else ""),
        fingerprint=fingerprint(NAME, code, case.nodeid),
        symbol=case.name,
    )


def _failed(cases: Iterable[PytestCase]) -> list[PytestCase]:
    return [c for c in cases if c.outcome in (CaseOutcome.FAILED, CaseOutcome.ERROR)]


def _named(ids: list[str]) -> str:
    more = len(ids) - SHOWN
    return ", ".join(ids[:SHOWN]) + (f" and {more} more" if more > 0 else "")


def check_tests(gate: GateInput, runs: SuiteRuns) -> CheckResult:
    """Whether the change's suite, and the base's tests on the change, pass in the sandbox.

    ``gate`` says what changed; ``runs`` runs the suites in the project's
    sandbox (and shares them with the coverage and mutation checks).
    """
    started = time.perf_counter()
    head = runs.head_suite()
    if head.tool_missing:
        return _timed(not_run(NAME, head.problem or "the tests could not be run"), started)
    if head.problem is not None and head.tests.problem is not None:
        # The suite cannot even be collected. When the base's cannot either, for the same
        # cause (a dependency the sandbox lacks), the change did nothing to it: nothing judged.
        base = runs.base_suite()
        if base.tests.problem == head.tests.problem:
            reason = f"the tests cannot run on the base either: {head.problem}"
            return _timed(not_run(NAME, reason), started)
    suites: list[tuple[str, str, SuiteRun]] = [("the change's suite", "test-failed", head)]
    base_tests = runs.base_tests_on_head()
    if base_tests is not None:
        if base_tests.tool_missing and base_tests.tests.problem is None:
            reason = f"the base's tests could not be run on the change: {base_tests.problem}"
            return _timed(not_run(NAME, reason), started)
        if not base_tests.tool_missing:  # a base without tests has none to break
            suites.append(("the base's tests", "base-test-failed", base_tests))

    problems: list[str] = []
    failing: dict[str, Finding] = {}
    for label, code, run in suites:
        if run.problem is not None:
            problems.append(f"{label} could not run: {run.problem}")
            continue
        stopped = unfinished(label, run, runs.limits)
        if stopped:
            problems.append(stopped)
        what = (
            "fails on the change" if code == "test-failed" else "(the base's) fails on the change"
        )
        for case in _failed(run.tests.cases):
            failing.setdefault(case.nodeid, _finding(case, code, what))

    already = runs.failing_on_base(list(failing)) if failing else frozenset()
    new = {nodeid: finding for nodeid, finding in failing.items() if nodeid not in already}
    old = sorted(nodeid for nodeid in failing if nodeid in already)
    # The tests not chosen cannot reach the change: each keeps the verdict it had on the base.
    chosen = runs.selection()
    test_map = None if chosen.whole else runs.test_map()
    kept: tuple[str, ...] = ()
    kept_failing: list[str] = []
    if isinstance(test_map, FunctionTestMap):
        kept = chosen.kept
        kept_failing = [t for t in kept if test_map.outcomes.get(t) == "failed"]
    old += kept_failing
    ran = len(head.tests.cases)
    counts = head.tests.counts
    skipped, xfailed, xpassed = counts["skipped"], counts["xfailed"], counts["xpassed"]
    if isinstance(test_map, FunctionTestMap):
        skipped += sum(1 for t in kept if test_map.outcomes.get(t) == "skipped")
    measures = {"tests": float(ran + len(kept)), "failed": float(len(new)),
                "failing_already": float(len(old)), "tests_run": float(ran),
                "tests_kept": float(len(kept)), "skipped": float(skipped),
                "xfailed": float(xfailed), "xpassed": float(xpassed)}  # fmt: skip
    how = ""  # the user's own choice of the whole suite needs no word
    if isinstance(test_map, FunctionTestMap) and not test_map.known:
        how = (
            f" ({ran:,} run: the test files the change wrote; no other test of the base "
            "runs what it changed)"
        )
    elif not chosen.whole:
        keeps = "keeps" if len(kept) == 1 else "keep"
        how = (
            f" ({ran:,} of {ran + len(kept):,} run, {chosen.reason}; "
            f"the other {len(kept):,} {keeps} the base's verdict)"
        )
    elif chosen.reason != ALL_CHOSEN:
        how = f" (the whole suite: {chosen.reason})"
    if len(suites) > 1:
        measures["base_tests"] = float(len(suites[1][2].tests.cases))
    # The runs are shared: the check that asked first (coverage) was timed with them.
    measures["suite_ms"] = sum(run.result.duration_ms for _, _, run in suites)
    note = f"; {len(old)} failing on the base already: {_named(old)}" if old else ""
    if problems or new:
        why = "; ".join(problems) or None
        if new:
            problems.append(f"{len(new)} test(s) fail on the change: {_named(list(new))}")
        return _timed(
            CheckResult(
                NAME,
                CheckStatus.FAILED,
                f"{NAME}: " + "; ".join(problems) + note + (how if new and not why else ""),
                reason=why,
                findings=tuple(new.values()),
                measures=measures,
            ),
            started,
        )
    also = _base_tests_pass(gate, suites[1][2]) if len(suites) > 1 else ""
    passed = ran + len(kept) - len(old) - skipped - xfailed - xpassed
    passing = "1 test passes" if passed == 1 else f"{passed:,} tests pass"
    # As pytest counts them: an xfail that failed as expected is neither a pass nor a skip.
    skips = "".join(
        f", {n:,} {word}"
        for n, word in ((xfailed, "xfailed"), (xpassed, "xpassed"), (skipped, "skipped"))
        if n
    )
    summary = f"{NAME}: {passing} on the change{skips}{also}{note}{how}"
    return _timed(CheckResult(NAME, CheckStatus.PASSED, summary, measures=measures), started)


def _base_tests_pass(gate: GateInput, run: SuiteRun) -> str:
    """What the summary says of the base's tests on the change's code, when they all pass.

    The count is of the tests in the test files the change edits, in the
    base's version: the run may hold more (the whole suite, when the choice
    of tests could not be trusted), which are not "of the files it edits".
    """
    edited = {path for changed in gate.files for path in (changed.path, changed.base_path)}
    # By the file that collects each test (its node id), not the one that defines it.
    mine = sum(1 for case in run.tests.cases if case.nodeid.split("::", 1)[0] in edited)
    if mine:
        passes = "passes" if mine == 1 else "pass"
        tests = "test" if mine == 1 else "tests"
        return f"; the base's {mine:,} {tests} of the files it edits {passes} on it too"
    total = len(run.tests.cases)
    passes = "passes" if total == 1 else "pass"
    tests = "test" if total == 1 else "tests"
    return f"; the base's {total:,} {tests}, with its test configuration, {passes} on it too"


def _timed(result: CheckResult, started: float) -> CheckResult:
    return dataclasses.replace(result, duration_ms=(time.perf_counter() - started) * 1000)


__all__ = ["NAME", "check_tests"]
