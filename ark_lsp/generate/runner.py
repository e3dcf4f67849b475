"""How test generation runs code: a small interface in front of the sandbox.

Characterization and the check of the generated tests need one thing from
the sandbox: run a command over the workspace's files plus a few of ours,
and bring back its output and some files it wrote. :class:`CodeRunner` is
that; :class:`SandboxCodeRunner` implements it over the sandbox's
:class:`~ark_lsp.sandbox.SandboxRunner`, and :func:`runner_for` makes the
one a workspace's settings ask for. When the sandbox cannot run anything
(no engine for ``backend = "docker"``, say), characterization says why and
test generation falls back to skeletons.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ark_lsp.config import Settings

if TYPE_CHECKING:
    from ark_lsp.sandbox import SandboxRunner

CancelCheck = Callable[[], bool]
"""Returns True once the caller wants the work stopped."""


@dataclass(frozen=True)
class Job:
    """One run: ``command`` in a copy of the workspace with ``files`` added or replaced."""

    command: tuple[str, ...]
    """``python3`` first means the sandbox's Python."""
    files: Mapping[str, bytes] = field(default_factory=dict)
    """Workspace-relative POSIX paths and their bytes, on top of the workspace's own files."""
    collect: tuple[str, ...] = ()
    """Files the run writes whose bytes come back in :attr:`Execution.artifacts`."""
    env: Mapping[str, str] = field(default_factory=dict)
    target_path: str = ""
    target_name: str = ""
    kind: str = "function"
    """``function`` (characterization) or ``test`` (running generated tests), for the records."""
    timeout: float | None = None
    """Wall-clock seconds; ``None`` keeps the sandbox settings' limit."""


@dataclass(frozen=True)
class Execution:
    """What a run came to."""

    backend: str
    ran: bool
    """False when the sandbox could not run it at all (see ``error``)."""
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    artifacts: Mapping[str, bytes] = field(default_factory=dict)
    timed_out: bool = False
    error: str | None = None
    isolation: str = ""
    notes: tuple[str, ...] = ()
    """What the user should know about the run's input (files the workspace copy left out)."""


class CodeRunner(Protocol):
    """Runs jobs in isolation for one workspace."""

    @property
    def backend(self) -> str:
        """Which sandbox runs the jobs, as the user would recognise it."""
        ...

    def run(self, job: Job, cancel: CancelCheck | None = None) -> Execution:
        """Run ``job`` to its end, a limit or a cancel; never raises for the code's faults."""
        ...

    def close(self) -> None:
        """Release what the runner holds."""
        ...


class SandboxCodeRunner:
    """Jobs run by the sandbox (:class:`ark_lsp.sandbox.SandboxRunner`), the workspace copied in.

    The workspace is always copied, even where ``mount-workspace`` is set:
    a job's own files (the driver, a generated test file) must sit next to
    the workspace's in one writable folder.
    """

    def __init__(self, runner: SandboxRunner, *, owned: bool = True) -> None:
        """Wrap ``runner``; close it with this one only when ``owned``."""
        self.runner = runner
        self.owned = owned

    @property
    def backend(self) -> str:
        """The backend the sandbox settings chose (``docker`` or ``local``)."""
        return self.runner.choice.name

    def run(self, job: Job, cancel: CancelCheck | None = None) -> Execution:
        """Run ``job`` in the sandbox; the sandbox records the run."""
        from ark_lsp.sandbox import Outcome, RunRequest
        from ark_lsp.sandbox.requests import copy_workspace

        runner = self.runner
        try:
            copy = copy_workspace(runner.root, runner.settings)
        except ValueError as error:  # the workspace is too large to copy
            return Execution(self.backend, ran=False, error=str(error))
        files = {**copy.files, **job.files}
        limits = runner.limits
        if job.timeout is not None:
            limits = dataclasses.replace(limits, timeout=max(limits.timeout, job.timeout))
        request = RunRequest(
            command=job.command,
            files=files,
            limits=limits,
            target_path=job.target_path,
            target_name=job.target_name,
            env=dict(job.env),
            collect=job.collect,
            kind=job.kind,
        )
        result = runner.run(request, cancel)
        return Execution(
            backend=result.backend,
            ran=result.outcome not in (Outcome.ERROR, Outcome.CANCELLED),
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            artifacts=result.artifacts,
            timed_out=result.outcome is Outcome.TIMEOUT,
            error=result.error,
            isolation=result.isolation,
            notes=copy.notes,
        )

    def close(self) -> None:
        """Release the sandbox (its warm containers) if this runner made it."""
        if self.owned:
            self.runner.close()


def runner_for(root: Path, settings: Settings, record: bool = True) -> CodeRunner:
    """The sandbox the workspace's settings choose, recording every run when ``record``.

    The runner keeps no warm containers: a command line run makes one and
    closes it. (The language server wraps its own long-lived runner.)
    """
    from ark_lsp.sandbox import RunRequest, RunResult, SandboxRunner, record_run

    def recorder(request: RunRequest, result: RunResult) -> RunResult:
        from ark_lsp.config import database_path
        from ark_lsp.store import Store, StoreError

        try:
            with Store.open(
                database_path(root, settings), busy_timeout=settings.busy_timeout
            ) as store:
                return record_run(store, request, result)
        except StoreError:  # the run happened; failing to record it must not hide it
            return result

    return SandboxCodeRunner(
        SandboxRunner(root, settings, pool_size=0, recorder=recorder if record else None)
    )


JUNIT_REPORT = ".ark-generated-junit.xml"
"""Where, relative to the work folder, pytest writes the report of a generated test run."""


@dataclass(frozen=True)
class TestCounts:
    """How the tests of one run ended."""

    __test__ = False  # a library class, not a test class for pytest to collect

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        """Every test that was collected."""
        return self.passed + self.failed + self.errors + self.skipped


def count_junit(report: bytes, names: Collection[str] | None = None) -> TestCounts:
    """Count outcomes in a JUnit XML report; zeros for a missing or unreadable one.

    With ``names``, only test functions of those names count (each
    parametrized case once): the file may hold tests of its own. The report
    comes from the sandbox, so it is read as data, with caps (see
    :func:`ark_lsp.sandbox.pytest_results.read_report`).
    """
    from ark_lsp.sandbox.pytest_results import read_report, report_cases

    tree = read_report(report)
    if tree is None:
        return TestCounts()
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    for case in report_cases(tree):
        if names is not None and case.get("name", "").split("[", 1)[0] not in names:
            continue
        tags = {child.tag for child in case}
        if "failure" in tags:
            counts["failed"] += 1
        elif "error" in tags:
            counts["errors"] += 1
        elif "skipped" in tags:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return TestCounts(**counts)


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


def pytest_job(
    test_path: str, text: str, timeout: float | None = None, rehearse: bool = False
) -> Job:
    """A run of one (generated) test file, given as text, under pytest.

    With ``rehearse``, a plugin also reports which parametrized rows failed.
    """
    plugin = ("-p", REHEARSAL_PLUGIN) if rehearse else ()
    files = {test_path: text.encode("utf-8")}
    if rehearse:
        files[f"{REHEARSAL_PLUGIN}.py"] = REHEARSAL_SOURCE.encode("utf-8")
    return Job(
        command=(
            "python3",
            "-m",
            "pytest",
            test_path,
            "-q",
            "-p",
            "no:cacheprovider",
            *plugin,
            "-o",
            "junit_family=xunit1",
            f"--junitxml={JUNIT_REPORT}",
        ),
        files=files,
        collect=(JUNIT_REPORT, REHEARSAL_REPORT) if rehearse else (JUNIT_REPORT,),
        target_path=test_path,
        kind="test",
        timeout=timeout,
    )


__all__ = [
    "JUNIT_REPORT",
    "REHEARSAL_REPORT",
    "CancelCheck",
    "CodeRunner",
    "Execution",
    "Job",
    "SandboxCodeRunner",
    "TestCounts",
    "count_junit",
    "failed_rows",
    "pytest_job",
    "runner_for",
]
