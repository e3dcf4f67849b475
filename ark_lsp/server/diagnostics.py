"""The analysis's diagnostics (source ``ark``): pushed as text changes, or pulled by the client.

Clients that can pull (``textDocument/diagnostic``) get pull only, so no
editor shows a problem twice. For the others, a change is analysed in the
job service's analysis lane; a burst of changes is coalesced into one
analysis of the latest text, and a result is published only if its version
is still the document's current one. What other sources found (failing
tests, ...) is shown with it by the diagnostic store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path
from pygls.workspace import TextDocument

from ark_lsp.server.convert import ANALYSIS_SOURCE, lsp_diagnostic, stored_diagnostic
from ark_lsp.server.core import ArkServer, Feature
from ark_lsp.server.documents import FrozenDocument, Snapshot, frozen_copy, path_of
from ark_lsp.server.folders import FolderState
from ark_lsp.workspace import IndexFigures

logger = logging.getLogger(__name__)

BURST_WINDOW = 0.05
"""Seconds: a change this soon after the previous one waits this long for the next."""


def analysis_diagnostics(snapshot: Snapshot) -> list[types.Diagnostic]:
    """The snapshot's violations in the client's terms."""
    return [lsp_diagnostic(snapshot.document, v) for v in snapshot.report.violations]


class AnalysisDiagnostics(Feature):
    """Shows each open document's violations, newest text first and only."""

    deferred_imports = ("ark_lsp.workflows.check",)

    def __init__(self, server: ArkServer) -> None:
        super().__init__(server)
        self._scheduled: dict[str, asyncio.Task[None]] = {}
        self._last_change: dict[str, float] = {}
        self._workspace_uris: dict[Path, set[str]] = {}

    @property
    def _pulls(self) -> bool:
        return self.server.client_support.pull_diagnostics

    def changed(self, uri: str, *, at_once: bool = False) -> None:
        """The document's text changed (or was opened or saved): publish for it soon."""
        if self._pulls:
            return
        now = time.monotonic()
        in_burst = now - self._last_change.get(uri, 0.0) < BURST_WINDOW
        self._last_change[uri] = now
        if uri in self._scheduled:
            return  # the scheduled analysis will read the newest text
        delay = BURST_WINDOW if in_burst and not at_once else 0.0
        self._scheduled[uri] = asyncio.ensure_future(self._publish_after(uri, delay))

    async def _publish_after(self, uri: str, delay: float) -> None:
        server = self.server
        try:
            await asyncio.sleep(delay)
        finally:
            # From here on, a new change schedules a new analysis.
            self._scheduled.pop(uri, None)
        document = server.workspace.text_documents.get(uri)
        if document is None:
            return
        copy = frozen_copy(document)
        began = time.monotonic()
        received = self._last_change.get(uri, began)  # the newest change, which this analyses
        snapshot = await server.jobs.analyse(server.documents.analyse_edit, copy)
        analysed = time.monotonic()
        current = server.workspace.text_documents.get(uri)
        if current is None or current.version != snapshot.version:
            return  # stale: the change that made it so has scheduled a newer analysis
        server.documents.remember(snapshot)
        server.diagnostics.put(
            ANALYSIS_SOURCE, uri, analysis_diagnostics(snapshot), snapshot.version
        )
        if logger.isEnabledFor(logging.DEBUG):
            # Where an edit's time goes, for the slow ones: waiting to start, the analysis
            # lane (the hop to its thread and back included), converting and writing.
            logger.debug(
                "diagnostics of version %s published %.1f ms after its change was read: "
                "%.1f ms to start, %.1f ms in the analysis lane, %.1f ms to publish",
                snapshot.version,
                (time.monotonic() - received) * 1000,
                (began - received) * 1000,
                (analysed - began) * 1000,
                (time.monotonic() - analysed) * 1000,
            )
        server.warm_up()  # the first diagnostics are out: the rest of the start may follow

    def closed(self, uri: str) -> None:
        """The editor closed the document: its diagnostics go, unless workspace-wide."""
        task = self._scheduled.pop(uri, None)
        if task is not None:
            task.cancel()
        self._last_change.pop(uri, None)
        settings, _ = self.server.folders.settings_for(uri)
        if not settings.workspace_diagnostics:
            self.server.diagnostics.discard(ANALYSIS_SOURCE, uri)
        self.server.diagnostics.closed(uri, still_shown=settings.workspace_diagnostics)

    def settings_changed(self) -> None:
        """Settings changed: analyse every open document again."""
        if self._pulls:
            self.server.diagnostics.refresh_pulls()
            return
        for uri in list(self.server.workspace.text_documents):
            self.changed(uri, at_once=True)

    def indexed(self, folder: FolderState, figures: IndexFigures) -> None:
        """With workspace diagnostics on, publish the index's findings for unopened files."""
        if self._pulls:
            return
        from ark_lsp.workflows.check import findings  # after the first index run, not at start

        server = self.server
        previous = self._workspace_uris.pop(folder.root, set())
        by_uri: dict[str, list[types.Diagnostic]] = {}
        store = folder.reader() if folder.settings.workspace_diagnostics else None
        if store is not None:
            for record in findings(store):
                uri = from_fs_path(str(folder.root / record.path)) or ""
                if uri in server.workspace.text_documents:
                    continue
                document = _document_on_disk(uri, folder.root / record.path, server)
                by_uri.setdefault(uri, []).append(stored_diagnostic(document, record))
        for uri in [*by_uri, *sorted(previous - set(by_uri))]:
            if uri not in server.workspace.text_documents:
                server.diagnostics.put(ANALYSIS_SOURCE, uri, by_uri.get(uri, []))
        self._workspace_uris[folder.root] = set(by_uri)

    def register(self) -> None:
        """Wire the document lifecycle, and the pull request, to the engine."""
        server = self.server

        @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
        def did_open(ls: ArkServer, params: types.DidOpenTextDocumentParams) -> None:
            self.changed(params.text_document.uri, at_once=True)

        @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
        def did_change(ls: ArkServer, params: types.DidChangeTextDocumentParams) -> None:
            ls.documents.edited()
            self.changed(params.text_document.uri)

        @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
        def did_save(ls: ArkServer, params: types.DidSaveTextDocumentParams) -> None:
            self.changed(params.text_document.uri, at_once=True)
            folder, _ = ls.folders.locate(params.text_document.uri)
            path = path_of(params.text_document.uri)
            if folder is not None and path is not None:
                ls.index.request(folder, [path])
            ls.features.document_saved(params.text_document.uri)

        @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
        def did_close(ls: ArkServer, params: types.DidCloseTextDocumentParams) -> None:
            ls.documents.forget(params.text_document.uri)
            ls.features.document_closed(params.text_document.uri)
            self.closed(params.text_document.uri)

        @server.feature(
            types.TEXT_DOCUMENT_DIAGNOSTIC,
            types.DiagnosticOptions(
                identifier="ark", inter_file_dependencies=False, workspace_diagnostics=False
            ),
        )
        async def pull(
            ls: ArkServer, params: types.DocumentDiagnosticParams
        ) -> types.DocumentDiagnosticReport:
            await ls.wait_configured()
            uri = params.text_document.uri
            document = ls.documents.text(uri)
            if document is None:
                return types.RelatedFullDocumentDiagnosticReport(items=[])
            is_open = uri in ls.workspace.text_documents
            analyse = ls.documents.analyse_edit if is_open else ls.documents.analyse
            snapshot = await ls.jobs.analyse(analyse, document)
            if is_open:
                ls.documents.remember(snapshot)
            items = ls.diagnostics.answer(uri, ANALYSIS_SOURCE, analysis_diagnostics(snapshot))
            ls.call_soon(ls.warm_up)  # once this answer is on its way
            return types.RelatedFullDocumentDiagnosticReport(items=items)


def _document_on_disk(uri: str, path: Path, server: ArkServer) -> TextDocument:
    try:
        source = server.documents.read_disk(path).decode("utf-8", "replace")
    except OSError:
        source = ""
    return FrozenDocument(uri, source=source, position_codec=server.workspace.position_codec)
