"""One sandbox runner per workspace folder, kept for the server's life so pools stay warm.

Every feature that runs code (the sandbox commands, test generation) takes
its folder's runner from here, so they share one warm docker pool.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ark_lsp.project import Project
from ark_lsp.server.folders import FolderState

if TYPE_CHECKING:
    from ark_lsp.sandbox import SandboxRunner
    from ark_lsp.server.core import ArkServer


class SandboxRunners:
    """The folders' warm sandbox runners."""

    def __init__(self, server: ArkServer) -> None:
        self._server = server
        self._runners: dict[Path, tuple[Project, SandboxRunner]] = {}

    def runner(self, folder: FolderState) -> SandboxRunner:
        """The folder's runner, replaced when its sandbox settings or its database changed."""
        project = folder.project
        kept = self._runners.get(folder.root)
        if kept is not None:
            made_for, runner = kept
            if (made_for.settings.sandbox, made_for.database) == (
                project.settings.sandbox,
                project.database,
            ):
                return runner
            self._server.jobs.submit(runner.close)
        runner = project.sandbox_runner(warm=True)
        self._runners[folder.root] = (project, runner)
        return runner

    def backend_of(self, folder: FolderState) -> str:
        """The backend the folder's runs use: the configured one until a run has chosen."""
        kept = self._runners.get(folder.root)
        chosen = kept[1].chosen if kept is not None else None
        return chosen or folder.settings.sandbox.backend

    def close(self) -> None:
        """Remove every warm container; called at shutdown."""
        for _, runner in self._runners.values():
            runner.close()
        self._runners.clear()
