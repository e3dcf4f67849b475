"""Running code in the sandbox: a workspace file as a script, or one function of it.

``ark run`` and the editor's ``ark.runInSandbox`` come here. The run is
recorded in the project's ``sandbox_executions`` whatever its outcome; the
result says how it ended, and never raises for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from ark_lsp.models import CancelCheck
from ark_lsp.project import Project
from ark_lsp.sandbox import Limits, RunResult, SandboxRunner

Progress = Callable[[str], None]
"""Told, in a few words, what preparing the sandbox does (building its environment)."""


@dataclass(frozen=True)
class SandboxOptions:
    """What the user asked of one command's runs, over ``[tool.ark.sandbox]``; None: as set."""

    backend: str | None = None
    """``docker``, ``local`` or ``auto``."""
    timeout: float | None = None
    """Wall-clock seconds of this command's runs, whether of code or of a test suite."""
    memory: int | None = None
    """Bytes of this command's runs, whether of code or of a test suite."""
    cpus: float | None = None
    network: bool | None = None
    weak_isolation: bool = False
    """The user's own choice: the local backend may run without bubblewrap."""

    def limits(self, project: Project) -> Limits:
        """The project's limits with the ones asked for here."""
        limits = Limits.from_settings(project.settings.sandbox)
        changes: dict[str, Any] = {
            "timeout": self.timeout,
            "memory": self.memory,
            "cpus": self.cpus,
            "network": self.network,
        }
        return dataclasses.replace(limits, **{k: v for k, v in changes.items() if v is not None})

    def runner(self, project: Project, progress: Progress | None = None) -> SandboxRunner:
        """A runner of the project's for one command: no warm containers, every run recorded.

        ``progress`` hears what building the workspace's sandbox environment does, if the
        first run builds it.
        """
        return project.sandbox_runner(
            backend=self.backend,
            limits=self.limits(project),
            suite_timeout=self.timeout,
            suite_memory=self.memory,
            weak_isolation=self.weak_isolation,
            progress=progress,
        )


def run_code(
    project: Project,
    relative: str,
    *,
    function: str | None = None,
    arguments: Sequence[str] = (),
    options: SandboxOptions | None = None,
    runner: SandboxRunner | None = None,
    cancel: CancelCheck | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run the workspace file ``relative`` (POSIX) in the sandbox, the workspace copied in.

    With ``function``, import the file's module and call it with
    ``arguments`` (strings); its return value's ``repr`` is the output.
    Else run the file as a script with ``arguments``. ``runner`` is the
    sandbox to use (the server's warm one); without it, one is made from
    ``options`` for this run and closed after.
    """

    def run(used: SandboxRunner) -> RunResult:
        if function:
            return used.run_function(relative, function, list(arguments), cancel=cancel)
        return used.run_file(relative, arguments, cancel=cancel)

    if runner is not None:
        return run(runner)
    with closing((options or SandboxOptions()).runner(project, progress)) as owned:
        return run(owned)


__all__ = ["Progress", "SandboxOptions", "run_code"]
