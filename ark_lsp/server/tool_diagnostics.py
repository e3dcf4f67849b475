"""mypy and pylint on a saved file: diagnostics of sources ``ark-types`` and ``ark-lint``.

Each save of a document in a workspace folder asks the workflow
(:mod:`ark_lsp.workflows.save_checks`, which decides whether the tools may
run at all) for mypy's errors, then pylint's messages, in the file as
saved. The runs go through the job pool, never the analysis lane, one file
and one tool at a time per folder, on CPU time nothing else wants, and each
starts once the user has stopped typing in the document for a moment: ARK's
own diagnostics of an edit never wait on them, and on a machine of two
cores a burst of keystrokes does not share it with mypy. A file saved again
while it is being checked is checked once more, as last saved. Each tool's findings
are shown as soon as it ends, at the version that was saved, and the
diagnostic store shows them with what the other sources keep. They stay
until the next save, until the document is closed (unless
``workspace-diagnostics`` keeps closed files' problems), or until the
setting is switched off or the workspace's trust withdrawn.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from pathlib import Path

from lsprotocol import types
from pygls.workspace import TextDocument

from ark_lsp.server.convert import tool_diagnostic
from ark_lsp.server.core import ArkServer, Feature
from ark_lsp.server.diagnostic_sources import LINT_SOURCE, TYPES_SOURCE
from ark_lsp.server.documents import frozen_copy, path_of
from ark_lsp.workflows.save_checks import (
    LINT,
    SAVE_CHECK_IMPORTS,
    SAVE_TOOLS,
    TYPES,
    SaveCheck,
    check_saved_file,
)

logger = logging.getLogger(__name__)

SETTLE = 0.4
"""Seconds without an edit of the saved document before its tools start."""

SOURCES = {TYPES: TYPES_SOURCE, LINT: LINT_SOURCE}
"""The diagnostic source of each tool run on save."""

PROGRAMS = {TYPES: "mypy", LINT: "pylint"}


class ToolDiagnostics(Feature):
    """Runs mypy and pylint on saved files in the background and shows what they find."""

    deferred_imports = SAVE_CHECK_IMPORTS

    def __init__(self, server: ArkServer) -> None:
        super().__init__(server)
        self._waiting: dict[Path, dict[str, tuple[TextDocument, int]]] = {}
        """By folder, the documents saved and not yet checked, each as it was last saved."""
        self._draining: dict[Path, asyncio.Task[None]] = {}
        """By folder, the task checking its saved documents one after another."""
        self._shown: set[tuple[str, str]] = set()
        """``(source, uri)`` of every document with tool diagnostics on show."""
        self._noted: set[str] = set()
        """Why a tool was skipped, each said in the log once."""
        self._closings: dict[str, int] = {}
        """How often each document was closed: a run of a save before the last close is stale."""
        self._stopping = threading.Event()

    def document_saved(self, uri: str) -> None:
        """Check the saved document soon, after what is being checked in its folder."""
        folder, _ = self.server.folders.locate(uri)
        document = self.server.workspace.text_documents.get(uri)
        if folder is None or document is None or path_of(uri) is None or self._stopping.is_set():
            return
        saved = (frozen_copy(document), self._closings.get(uri, 0))
        self._waiting.setdefault(folder.root, {})[uri] = saved
        if folder.root not in self._draining:
            self._draining[folder.root] = asyncio.ensure_future(self._drain(folder.root))

    async def _drain(self, root: Path) -> None:
        try:
            while (waiting := self._waiting.get(root)) and not self._stopping.is_set():
                uri = next(iter(waiting))
                document, closings = waiting.pop(uri)
                try:
                    await self._settled(uri)
                    await self._check(root, uri, document, closings)
                except Exception:  # one file's trouble must not stop the others' checks
                    logger.exception("checking %s on save failed", uri)
        finally:
            self._draining.pop(root, None)
            self._waiting.pop(root, None)

    async def _settled(self, uri: str) -> None:
        """Return once the document has had no edit for :data:`SETTLE` seconds (or is closed)."""
        while not self._stopping.is_set():
            before = self._version(uri)
            await asyncio.sleep(SETTLE)
            if before is None or self._version(uri) == before:
                return

    def _version(self, uri: str) -> int | None:
        document = self.server.workspace.text_documents.get(uri)
        return document.version if document is not None else None

    async def _check(self, root: Path, uri: str, document: TextDocument, closings: int) -> None:
        """Run each tool on the saved file in turn, showing each one's findings when it ends."""
        folder, relative = self.server.folders.locate(uri)
        if folder is None or folder.root != root:
            return  # the folder was closed meanwhile
        project = folder.project
        for tool in SAVE_TOOLS:
            if self._stopping.is_set() or self.server.jobs.stopping:
                return
            result = await self.server.jobs.run(
                functools.partial(
                    check_saved_file, project, relative, tool, cancel=self._stopping.is_set
                )
            )
            if self._closings.get(uri, 0) != closings:
                return  # closed since it was saved: what the tools say may no longer hold
            self._show(uri, document, result)

    def _show(self, uri: str, document: TextDocument, result: SaveCheck) -> None:
        source = SOURCES[result.tool]
        if result.skipped is not None and result.skipped not in self._noted:
            # In the log only: a tool missing from the interpreter, an untrusted workspace
            # are how things are, not news on every save.
            self._noted.add(result.skipped)
            logger.info("%s on save skipped: %s", PROGRAMS[result.tool], result.skipped)
        if result.failed is not None:
            if not self._stopping.is_set():
                # Said once per reason: a tool missing or failing stays so from save to save.
                problem = (
                    f"{PROGRAMS[result.tool]} on save: {result.failed} "
                    "(the setting types-and-lint-on-save switches it off)"
                )
                self.server.report_problems([problem], "ARK")
            return
        if not self._may_show(uri):
            return  # closed while the tool ran
        found = [tool_diagnostic(document, finding, source) for finding in result.findings]
        if not found and (source, uri) not in self._shown:
            return  # nothing to show, and nothing shown to take back
        self._set(source, uri, found, document.version)

    def _set(
        self, source: str, uri: str, found: list[types.Diagnostic], version: int | None
    ) -> None:
        if found:
            self._shown.add((source, uri))
        else:
            self._shown.discard((source, uri))
        self.server.diagnostics.put(source, uri, found, version)

    def _may_show(self, uri: str) -> bool:
        if uri in self.server.workspace.text_documents:
            return True
        settings, _ = self.server.folders.settings_for(uri)
        return settings.workspace_diagnostics

    def document_closed(self, uri: str) -> None:
        """Forget the document's tool diagnostics, unless closed files keep theirs."""
        for waiting in self._waiting.values():
            waiting.pop(uri, None)
        self._closings[uri] = self._closings.get(uri, 0) + 1
        settings, _ = self.server.folders.settings_for(uri)
        if settings.workspace_diagnostics:
            return
        for source in SOURCES.values():
            self.server.diagnostics.discard(source, uri)
            self._shown.discard((source, uri))

    def settings_changed(self) -> None:
        """Take back what the tools showed where they may no longer run (off, or untrusted)."""
        for source, uri in sorted(self._shown):
            folder, _ = self.server.folders.locate(uri)
            project = folder.project if folder is not None else None
            if (
                project is not None
                and project.settings.types_and_lint_on_save
                and project.vouched_for
            ):
                continue
            self._set(source, uri, [], self._version(uri))

    def stop(self) -> None:
        """Stop the tools that run (they are killed) and check nothing more."""
        self._stopping.set()
        for task in self._draining.values():
            task.cancel()
