"""The one entry point the front ends call: choose a backend, run, parse, record."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ark_lsp.config import Settings
from ark_lsp.models import CancelCheck
from ark_lsp.sandbox.channel import ARTIFACT_CAP
from ark_lsp.sandbox.containers import engine_errors
from ark_lsp.sandbox.docker_backend import DockerSandbox
from ark_lsp.sandbox.docker_engine import BackendChoice, choose_backend
from ark_lsp.sandbox.environment import SandboxEnvironment, docker_environment, local_environment
from ark_lsp.sandbox.local_backend import LocalSandbox
from ark_lsp.sandbox.models import KilledBy, Limits, Outcome, RunRequest, RunResult, Sandbox
from ark_lsp.sandbox.pytest_results import (
    JUNIT_REPORT,
    PYTEST_MISSING,
    PytestCase,
    exit_reason,
    parse_junit,
    setup_problem,
    summary,
)
from ark_lsp.sandbox.requests import (
    copy_workspace,
    file_request,
    function_request,
    pytest_request,
)
from ark_lsp.store.connection import utc_now

Recorder = Callable[[RunRequest, RunResult], RunResult]
"""Stores a run and returns its result with ``execution_id`` (see :func:`records.record_run`)."""

Cancel = threading.Event | CancelCheck | None


@dataclass(frozen=True)
class PytestRun:
    """A pytest run in the sandbox: the run itself and one result per test."""

    result: RunResult
    cases: list[PytestCase] = field(default_factory=list)
    problem: str | None = None
    """Why the tests could not be run at all (a conftest that fails to import, a file that
    cannot be collected, no pytest, no tests), when that is why: then ``result`` is an
    ``error`` saying so, never a count of tests."""

    @property
    def counts(self) -> dict[str, int]:
        """Tests per outcome (``xpassed`` from pytest's summary line, see :func:`summary`)."""
        return summary(self.cases, self.result.stdout)

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``--format json``."""
        return {
            **self.result.as_dict(),
            "summary": self.counts,
            "tests": [c.as_dict() for c in self.cases],
        }


class WorkspaceRunner(Protocol):
    """What test generation needs of the sandbox: a command over the workspace plus some files.

    :class:`SandboxRunner` is the implementation; the protocol exists so that
    tests of generation can stand a plain subprocess in for the sandbox
    (``tests/local_runner.py``) and run in seconds without a backend.
    """

    @property
    def backend(self) -> str:
        """Which sandbox runs the requests, as the user would recognise it."""
        ...

    @property
    def limits(self) -> Limits:
        """The limits a request gets unless it asks for others."""
        ...

    @property
    def suite_limits(self) -> Limits:
        """The limits of a run of tests: ``suite-timeout`` and ``suite-memory``."""
        ...

    def run_in_workspace(self, request: RunRequest, cancel: Cancel = None) -> RunResult:
        """Run ``request`` in a copy of the workspace with its own files on top; never raises."""
        ...

    def explain(self, problem: str) -> str:
        """A run's ``problem`` with what the user can do about it, where the sandbox knows."""
        ...


class SandboxRunner:
    """Runs requests on the backend the settings choose, and records every run.

    Make one per workspace. It is safe to share between threads: the
    language server keeps one for its lifetime (so the docker pool stays
    warm) and calls it from worker threads; the CLI makes one per command
    with no pool. Every ``run*`` method returns a result for every outcome,
    cancellation and engine faults included, and never raises for them.
    """

    def __init__(
        self,
        root: Path,
        settings: Settings,
        *,
        backend: str | None = None,
        limits: Limits | None = None,
        suite_timeout: float | None = None,
        suite_memory: int | None = None,
        pool_size: int | None = None,
        recorder: Recorder | None = None,
        may_build: bool = False,
        progress: Callable[[str], None] | None = None,
        workspace: Path | None = None,
    ) -> None:
        """Run in workspace ``root``; ``backend``, ``limits``, ``pool_size`` override settings.

        ``suite_timeout`` and ``suite_memory`` override ``suite-timeout`` and
        ``suite-memory``, the limits of runs of a test suite (:attr:`suite_limits`).

        ``may_build`` lets the first docker run build the workspace's
        environment (its declared dependencies, in a container with network:
        a trusted workspace's); ``progress`` hears what that build does.
        ``workspace`` is where local runs find the workspace's own virtual
        environment, when ``root`` is another checkout of it (the gate's):
        a checkout has none of its own.
        """
        self.root = root
        self.workspace = workspace or root
        self.settings = settings
        self.requested = backend or settings.sandbox.backend
        self.limits = limits or Limits.from_settings(settings.sandbox)
        self.suite_timeout = suite_timeout or settings.sandbox.suite_timeout
        self.suite_memory = suite_memory or settings.sandbox.suite_memory
        self.pool_size = settings.sandbox.pool_size if pool_size is None else pool_size
        self.recorder = recorder
        self.may_build = may_build
        self.progress = progress
        self._lock = threading.Lock()
        self._choice: BackendChoice | None = None
        self._environment: SandboxEnvironment | None = None
        self._sandbox: Sandbox | None = None

    @property
    def suite_limits(self) -> Limits:
        """The limits of a run of a test suite: ``suite-timeout`` and ``suite-memory``.

        :attr:`limits` otherwise. ``ark test``, the editor's tests and the
        gate's runs of the tests use them; runs of code (a file, a function,
        generated tests) keep ``timeout`` and ``memory``.
        """
        return dataclasses.replace(
            self.limits, timeout=self.suite_timeout, memory=self.suite_memory
        )

    @property
    def choice(self) -> BackendChoice:
        """The backend in use and why (looked up once, on first use)."""
        with self._lock:
            if self._choice is None:
                self._choice = choose_backend(self.requested, self.settings.sandbox.image)
            return self._choice

    @property
    def backend(self) -> str:
        """The backend the settings chose (``docker`` or ``local``); choosing may be slow."""
        return self.choice.name

    @property
    def chosen(self) -> str | None:
        """The backend's name once a run has chosen it; None before (choosing may be slow)."""
        with self._lock:
            return None if self._choice is None else self._choice.name

    @property
    def environment(self) -> SandboxEnvironment | None:
        """What runs get for the workspace's dependencies, and why.

        Built on first use when allowed; None when the chosen backend cannot run at all.
        """
        choice = self.choice
        with self._lock:
            if self._environment is None:
                self._environment = self._choose_environment(choice)
            return self._environment

    def _choose_environment(self, choice: BackendChoice) -> SandboxEnvironment | None:
        if choice.name == "local":
            return local_environment(
                self.workspace, self.settings.sandbox.python, trusted=self.may_build
            )
        if not (choice.engine and choice.engine.answers and choice.image and choice.image.present):
            return None
        try:
            return docker_environment(
                choice.engine.client,
                choice.image.name,
                self.root,
                may_build=self.may_build,
                progress=self.progress,
                project_files=lambda: copy_workspace(self.root, self.settings).files,
            )
        except engine_errors() as error:
            reason = f"cannot ask the Docker engine for the workspace's environment: {error}"
            return SandboxEnvironment("image", reason, image=choice.image.name, problem=reason)

    def _backend(self) -> Sandbox | None:
        choice = self.choice
        environment = self.environment
        with self._lock:
            if self._sandbox is None and environment is not None:
                if choice.name == "local":
                    self._sandbox = LocalSandbox(
                        environment.python,
                        weak_isolation=self.settings.sandbox.weak_isolation,
                        work_path=str(self.workspace),
                    )
                elif choice.engine is not None and environment.image is not None:
                    self._sandbox = DockerSandbox(
                        choice.engine.client,
                        environment.image,
                        pool_size=self.pool_size,
                        pool_limits=self.limits,
                    )
            return self._sandbox

    def run(self, request: RunRequest, cancel: Cancel = None) -> RunResult:
        """Run one request and record it."""
        return self._record(request, self._execute(request, cancel))

    def _record(self, request: RunRequest, result: RunResult) -> RunResult:
        return self.recorder(request, result) if self.recorder else result

    def _execute(self, request: RunRequest, cancel: Cancel) -> RunResult:
        sandbox = self._backend()
        environment = self.environment
        if environment is not None and environment.problem is not None:
            now = utc_now()
            result = RunResult(
                outcome=Outcome.ERROR,
                backend=self.choice.name,
                image=environment.image,
                error=environment.problem,
                started_at=now,
                finished_at=now,
            )
        elif sandbox is None:
            now = utc_now()
            image = self.choice.image.name if self.choice.image else None
            result = RunResult(
                outcome=Outcome.ERROR,
                backend=self.choice.name,
                image=image,
                error=self.choice.reason,
                started_at=now,
                finished_at=now,
            )
        else:
            if environment is not None and environment.variables:
                request = dataclasses.replace(request, env={**environment.variables, **request.env})
            result = sandbox.run(request, cancel)
        return _collected_only(request, result)

    def _with_workspace(
        self, request: RunRequest, *, may_mount: bool = True
    ) -> tuple[RunRequest, tuple[str, ...]] | str:
        """The request with the workspace copied in (or mounted), and what the copy left out.

        The request's own files go on top of the workspace's. A string
        instead says why the workspace cannot be copied.
        """
        if may_mount and self.settings.sandbox.mount_workspace and self.choice.name == "docker":
            return dataclasses.replace(request, mount=str(self.root)), ()
        try:
            copy = copy_workspace(self.root, self.settings)
        except ValueError as error:
            return str(error)
        return dataclasses.replace(request, files={**copy.files, **request.files}), copy.notes

    def _refusal(self, reason: str) -> RunResult:
        now = utc_now()
        return RunResult(
            outcome=Outcome.ERROR,
            backend=self.choice.name,
            error=reason,
            started_at=now,
            finished_at=now,
        )

    def _refused(self, request: RunRequest, reason: str) -> RunResult:
        return self._record(request, self._refusal(reason))

    def _run_in_workspace(self, request: RunRequest, cancel: Cancel) -> RunResult:
        ready = self._with_workspace(request)
        if isinstance(ready, str):
            return self._refused(request, ready)
        copied, notes = ready
        return _noted(self.run(copied, cancel), notes)

    def run_in_workspace(self, request: RunRequest, cancel: Cancel = None) -> RunResult:
        """Run ``request`` in a copy of the workspace with the request's own files on top.

        This is what test generation asks of the sandbox: its driver or a
        generated test file next to the workspace's files, in one writable
        folder, so the workspace is copied even where ``mount-workspace`` is
        set. The result's notes say what the copy left out; a workspace too
        large to copy gives an ``error`` result (unrecorded: nothing ran).
        """
        ready = self._with_workspace(request, may_mount=False)
        if isinstance(ready, str):
            return self._refusal(ready)
        copied, notes = ready
        return _noted(self.run(copied, cancel), notes)

    def run_file(
        self, relative: str, arguments: Sequence[str] = (), cancel: Cancel = None
    ) -> RunResult:
        """Run a workspace file (relative POSIX path) as a script, the workspace copied in."""
        return self._run_in_workspace(file_request(relative, {}, self.limits, arguments), cancel)

    def run_function(
        self,
        relative: str,
        qualname: str,
        arguments: Sequence[object] = (),
        cancel: Cancel = None,
    ) -> RunResult:
        """Call one function of a workspace file; its return value's ``repr`` is the stdout."""
        request = function_request(relative, qualname, {}, self.limits, arguments)
        return self._run_in_workspace(request, cancel)

    def run_tests(self, targets: Sequence[str] = (), cancel: Cancel = None) -> PytestRun:
        """Run pytest on workspace-relative targets; per-test results with files and lines.

        A suite, within :attr:`suite_limits`.
        """
        # A mounted workspace is read-only: the report goes to the container's private /tmp.
        mounted = self.settings.sandbox.mount_workspace and self.choice.name == "docker"
        report = f"/tmp/{JUNIT_REPORT}" if mounted else JUNIT_REPORT
        limits = self.suite_limits
        ready = self._with_workspace(pytest_request(targets, {}, limits, report=report))
        if isinstance(ready, str):
            return PytestRun(self._refused(pytest_request(targets, {}, limits), ready))
        request, notes = ready
        run = self.run_pytest(request, report, cancel)
        return dataclasses.replace(run, result=_noted(run.result, notes))

    def run_pytest(
        self, request: RunRequest, report: str = JUNIT_REPORT, cancel: Cancel = None
    ) -> PytestRun:
        """Run a request that runs pytest, built by the caller, and read its JUnit ``report``.

        The request brings its own files and command (the gate's runs bring a
        checkout of a change, and a driver that runs pytest under coverage);
        ``report`` must be among what it collects. As for :meth:`run_tests`, a
        run that is no test result (see :attr:`PytestRun.problem`) is an
        ``error`` saying why, and the run is recorded.
        """
        result = self._execute(request, cancel)
        # The report is the sandbox's word: a test is placed only at a file that was
        # copied in, never at a host path (or a FIFO) it names.
        data = result.artifacts.get(report, b"")
        cases = parse_junit(data, request.files or None)
        # A run a limit ended (pytest killed when it ran out of memory) is the limit's to
        # report, as a timeout is: not a suite that could not be run.
        problem = (
            setup_problem(
                result.exit_code,
                cases,
                result.stdout,
                result.stderr,
                result.work_folder,
                report_size=len(data),
            )
            if result.outcome in (Outcome.PASSED, Outcome.FAILED)
            and result.killed_by is KilledBy.NONE
            else None
        )
        if problem is not None:
            # Not a test result: the tests could not be run at all, and the record says why.
            result = dataclasses.replace(
                result, outcome=Outcome.ERROR, error=self._explained(problem, result)
            )
        elif result.outcome is Outcome.FAILED and not result.error:
            # No test failed, and pytest still failed the run: a plugin did (pytest-cov's
            # --cov-fail-under), and the run says why rather than count passed tests alone.
            reason = exit_reason(result.exit_code, cases, result.stdout, result.stderr)
            if reason is not None:
                result = dataclasses.replace(result, error=reason)
        return PytestRun(self._record(request, result), cases, problem)

    def explain(self, problem: str) -> str:
        """A run's ``problem`` with what the user can do about it, where the sandbox knows.

        A module the code imports is missing, or lacks a name (another
        version of it), while the workspace declares dependencies the runs
        do not get (an untrusted workspace's bare image, ARK's own Python):
        the problem says so, and how to get them.
        """
        if any(sign in problem for sign in _IMPORT_FAILURES):
            return self._with_environment(problem)
        return problem

    def _with_environment(self, problem: str) -> str:
        """``problem``, saying which environment runs had when it lacks what is declared."""
        without = _without_declarations(self.environment)
        return f"{problem} (the sandbox's environment: {without})" if without else problem

    def _explained(self, problem: str, result: RunResult) -> str:
        """A set-up problem with what the user can do about it, where ARK knows.

        A suite that could not run at all, on an environment without what the
        workspace declares, says which environment it had, whatever stopped
        it: a plugin's marker unknown there (dateutil's ``no_cover`` under
        ``filterwarnings = error``) as much as a module missing.
        """
        environment = self.environment
        if not problem.startswith(PYTEST_MISSING):
            return self._with_environment(problem)
        if result.backend == "local" and environment is not None and environment.python:
            python = environment.python
            return (
                f"{problem} ({python}: {environment.reason}); "
                f"install it there: {python} -m pip install pytest"
            )
        return f"{problem} ({result.image}); `ark sandbox image build` makes an image that has it"

    def close(self) -> None:
        """Remove the pool's containers; the runner cannot be used afterwards."""
        with self._lock:
            sandbox, self._sandbox = self._sandbox, None
            choice = self._choice
        if sandbox is not None:
            sandbox.close()
        if choice is not None and choice.engine is not None:
            choice.engine.close()


_IMPORT_FAILURES = ("No module named", "ImportError: cannot import name")
"""What an import that the workspace's declared dependencies would satisfy fails with."""


def _without_declarations(environment: SandboxEnvironment | None) -> str | None:
    """Why runs get none of what the workspace declares (the bare image, a plain Python), if so."""
    if environment is None or environment.kind not in ("image", "python"):
        return None
    return environment.reason if environment.declared not in ("", "nothing") else None


def _noted(result: RunResult, notes: tuple[str, ...]) -> RunResult:
    return dataclasses.replace(result, notes=(*notes, *result.notes)) if notes else result


def _collected_only(request: RunRequest, result: RunResult) -> RunResult:
    """The result with only the files the request asked to collect, each capped.

    Whatever a backend brings back is the sandbox's to forge: nothing but
    the named reports, and no more of each than the agent is asked to send.
    """
    wanted = set(request.collect)
    if all(name in wanted and len(data) <= ARTIFACT_CAP for name, data in result.artifacts.items()):
        return result
    kept = {name: data[:ARTIFACT_CAP] for name, data in result.artifacts.items() if name in wanted}
    return dataclasses.replace(result, artifacts=kept)
