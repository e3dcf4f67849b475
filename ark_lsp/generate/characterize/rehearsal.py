"""Running a generated test file in the sandbox: which tests pass, and which rows fail.

The file runs under pytest as the sandbox runs any tests
(:func:`~ark_lsp.sandbox.requests.pytest_request`), its JUnit report read by
the sandbox's one reader (:func:`~ark_lsp.sandbox.pytest_results.parse_junit`).
The first run also loads a small plugin (the rehearsal) that names each
parametrized row that failed, so those rows can be left out of the file.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ark_lsp.sandbox.models import Limits, Outcome, RunRequest, RunResult
from ark_lsp.sandbox.pytest_results import JUNIT_REPORT, parse_junit, setup_problem, summary
from ark_lsp.sandbox.requests import pytest_request

REHEARSAL_REPORT = ".ark-rehearsal.json"
"""Where the rehearsal plugin writes which parametrized rows failed."""

REHEARSAL_PLUGIN = "ark_rehearsal_plugin"
REHEARSAL_SOURCE = f"""\
import json

import pytest

FAILED = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    callspec = getattr(item, "callspec", None)
    if report.failed and callspec is not None and callspec.indices:
        name = getattr(item, "originalname", None) or item.name
        FAILED.append([name, next(iter(callspec.indices.values()))])


def pytest_sessionfinish(session):
    with open({REHEARSAL_REPORT!r}, "w", encoding="utf-8") as report:
        json.dump(FAILED, report)
"""
"""A pytest plugin naming each failed row as (test function, index in its parametrize list)."""


MAX_FAILED_ROWS = 10_000
"""Failed rows read from a rehearsal report; a generated file has far fewer."""


def generated_tests_request(
    test_path: str,
    text: str,
    limits: Limits,
    rehearse: bool = False,
    only: Sequence[str] = (),
) -> RunRequest:
    """A pytest run of one generated test file, given as text, over the workspace.

    ``only`` names the test functions to run, in order (all of the file's when empty):
    a file ARK added to holds the project's own tests too, which may take
    far longer than the sandbox's time limit and are not ARK's to count.
    With ``rehearse``, the plugin also reports which parametrized rows failed.
    """
    files = {test_path: text.encode("utf-8")}
    plugin: tuple[str, ...] = ()
    collect: tuple[str, ...] = (JUNIT_REPORT,)
    if rehearse:
        files[f"{REHEARSAL_PLUGIN}.py"] = REHEARSAL_SOURCE.encode("utf-8")
        plugin = ("-p", REHEARSAL_PLUGIN)
        collect = (JUNIT_REPORT, REHEARSAL_REPORT)
    targets = [f"{test_path}::{name}" for name in only] or [test_path]
    request = pytest_request(targets, files, limits, extra_arguments=plugin)
    return dataclasses.replace(request, collect=collect)


@dataclass(frozen=True)
class CaseCounts:
    """How the generated cases of one run ended."""

    passed: int = 0
    failed: int = 0
    """Failed, or ended in an error."""
    skipped: int = 0

    @property
    def run(self) -> int:
        """The cases that ran (passed or failed)."""
        return self.passed + self.failed


def count_cases(report: bytes, test_path: str, names: Collection[str]) -> CaseCounts:
    """Count the cases of the test functions ``names`` (each parametrized row once).

    The file may hold tests of its own besides the generated ones; those do
    not count. A missing or unreadable report counts nothing.
    """
    cases = parse_junit(report, (test_path,))
    counts = summary(case for case in cases if case.name.split("[", 1)[0] in names)
    return CaseCounts(
        passed=counts["passed"],
        failed=counts["failed"] + counts["error"],
        skipped=counts["skipped"],
    )


def not_run(result: RunResult, test_path: str) -> str | None:
    """Why a run of the generated file is no test result at all, or None when it is one.

    The sandbox could not run it, or pytest could not: a conftest that fails
    to import, the file not collected, no pytest. Such a run counts nothing.
    """
    if not result.ran:
        return result.error or f"the {result.backend} sandbox could not run them"
    cases = parse_junit(result.artifacts.get(JUNIT_REPORT, b""), (test_path,))
    if result.outcome is Outcome.TIMEOUT:
        if cases:
            return None  # the limit is the result: the cases that ran still count
        # pytest writes its report at the end: a run the limit ended reported nothing.
        return (
            "the sandbox's time limit for tests ended the run before any test reported "
            "(raise it with [tool.ark.sandbox] suite-timeout)"
        )
    return setup_problem(result.exit_code, cases, result.stdout, result.stderr, result.work_folder)


def failed_rows(report: bytes) -> list[tuple[str, int]]:
    """The (test function, row index) pairs the rehearsal plugin saw fail.

    The report is the sandbox's word: anything but a list of ``[name, index]``
    pairs is ignored.
    """
    if not report:
        return []
    try:
        raw = json.loads(report)
    except (ValueError, RecursionError):
        return []
    if not isinstance(raw, list):
        return []
    rows = []
    for item in raw[:MAX_FAILED_ROWS]:
        if (
            isinstance(item, list)
            and len(item) == 2
            and isinstance(item[0], str)
            and type(item[1]) is int
        ):
            rows.append((item[0], item[1]))
    return rows


__all__ = [
    "REHEARSAL_REPORT",
    "CaseCounts",
    "count_cases",
    "failed_rows",
    "generated_tests_request",
    "not_run",
]
