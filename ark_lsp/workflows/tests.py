"""Running a project's tests with pytest in the sandbox, with a result per test.

``ark test`` and the editor's ``ark.runTestsInSandbox`` come here. The run
is recorded in the project's ``sandbox_executions``; each test's outcome,
file and line come from pytest's JUnit report, read as data.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing

from ark_lsp.models import CancelCheck
from ark_lsp.project import Project
from ark_lsp.sandbox import PytestRun, SandboxRunner
from ark_lsp.workflows.run import Progress, SandboxOptions


def run_tests(
    project: Project,
    targets: Sequence[str] = (),
    *,
    options: SandboxOptions | None = None,
    runner: SandboxRunner | None = None,
    cancel: CancelCheck | None = None,
    progress: Progress | None = None,
) -> PytestRun:
    """Run pytest on workspace-relative ``targets`` (default: the whole workspace).

    ``runner`` is the sandbox to use (the server's warm one); without it,
    one is made from ``options`` for this run and closed after.
    """
    if runner is not None:
        return runner.run_tests(targets, cancel=cancel)
    with closing((options or SandboxOptions()).runner(project, progress)) as owned:
        return owned.run_tests(targets, cancel=cancel)


__all__ = ["run_tests"]
