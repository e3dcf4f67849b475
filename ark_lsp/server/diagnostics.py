"""The engine's violations as diagnostics: pushed as text changes, or pulled by the client.

Clients that can pull (``textDocument/diagnostic``) get pull only, so no
editor shows a problem twice. For the others, a change is analysed in a
worker thread; a burst of changes is coalesced into one analysis of the
latest text, and a result is published only if its version is still the
document's current one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import from_fs_path
from pygls.workspace import TextDocument

from ark_lsp.server.convert import lsp_diagnostic, stored_diagnostic
from ark_lsp.server.documents import FrozenDocument, Snapshot, frozen_copy, path_of
from ark_lsp.server.folders import FolderState
from ark_lsp.workflows.check import findings
from ark_lsp.workspace import IndexFigures

if TYPE_CHECKING:
    from ark_lsp.server.app import ArkServer

logger = logging.getLogger(__name__)

BURST_WINDOW = 0.05
"""Seconds: a change this soon after the previous one waits this long for the next."""


def client_pulls(server: ArkServer) -> bool:
    """Whether the client asks for diagnostics itself (LSP 3.17 pull model)."""
    text_document = server.client_capabilities.text_document
    return bool(text_document and text_document.diagnostic)


def diagnostics_of(server: ArkServer, snapshot: Snapshot) -> list[types.Diagnostic]:
    """The snapshot's violations in the client's terms, and its failing tests if any."""
    found = [lsp_diagnostic(snapshot.document, v) for v in snapshot.report.violations]
    return found + test_failures(server, snapshot.uri)


def test_failures(server: ArkServer, uri: str) -> list[types.Diagnostic]:
    """The failing tests the last sandbox test run found in a document."""
    return list(server.sandbox.test_failures.get(uri, [])) if server.sandbox else []


class Publisher:
    """Pushes each open document's diagnostics, newest text first and only."""

    def __init__(self, server: ArkServer) -> None:
        self._server = server
        self._scheduled: dict[str, asyncio.Task[None]] = {}
        self._last_change: dict[str, float] = {}
        self._published_version: dict[str, int] = {}
        self._workspace_uris: dict[Path, set[str]] = {}

    def changed(self, uri: str, *, at_once: bool = False) -> None:
        """The document's text changed (or was opened or saved): publish for it soon."""
        if client_pulls(self._server):
            return
        now = time.monotonic()
        in_burst = now - self._last_change.get(uri, 0.0) < BURST_WINDOW
        self._last_change[uri] = now
        if uri in self._scheduled:
            return  # the scheduled analysis will read the newest text
        delay = BURST_WINDOW if in_burst and not at_once else 0.0
        self._scheduled[uri] = asyncio.ensure_future(self._publish_after(uri, delay))

    async def _publish_after(self, uri: str, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
        finally:
            # From here on, a new change schedules a new analysis.
            self._scheduled.pop(uri, None)
        document = self._server.workspace.text_documents.get(uri)
        if document is None:
            return
        copy = frozen_copy(document)
        snapshot = await self._server.in_analysis_thread(self._server.documents.analyse_edit, copy)
        current = self._server.workspace.text_documents.get(uri)
        if current is None or current.version != snapshot.version:
            return  # stale: the change that made it so has scheduled a newer analysis
        self._server.documents.remember(snapshot)
        self.publish(snapshot)

    def publish(self, snapshot: Snapshot) -> None:
        """Send a snapshot's diagnostics unless newer ones were sent already."""
        version = snapshot.version or 0
        if version < self._published_version.get(snapshot.uri, -1):
            return
        self._published_version[snapshot.uri] = version
        self._server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=snapshot.uri,
                version=snapshot.version,
                diagnostics=diagnostics_of(self._server, snapshot),
            )
        )

    def closed(self, uri: str) -> None:
        """The editor closed the document: its diagnostics go, unless workspace-wide."""
        task = self._scheduled.pop(uri, None)
        if task is not None:
            task.cancel()
        self._last_change.pop(uri, None)
        self._published_version.pop(uri, None)
        settings, _ = self._server.folders.settings_for(uri)
        if client_pulls(self._server) or settings.workspace_diagnostics:
            return
        self._server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    def publish_extra(self, uri: str) -> None:
        """The document's failing tests changed: show them with its other diagnostics."""
        if client_pulls(self._server):
            self._refresh_pulls()
        elif uri in self._server.workspace.text_documents:
            self.changed(uri, at_once=True)
        else:
            self._server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=uri, diagnostics=test_failures(self._server, uri)
                )
            )

    def _refresh_pulls(self) -> None:
        workspace = self._server.client_capabilities.workspace
        if workspace and workspace.diagnostics and workspace.diagnostics.refresh_support:
            self._server.workspace_diagnostic_refresh(None)

    def republish_open(self) -> None:
        """Settings changed: analyse every open document again."""
        if client_pulls(self._server):
            self._refresh_pulls()
            return
        for uri in list(self._server.workspace.text_documents):
            self.changed(uri, at_once=True)

    def publish_workspace(self, folder: FolderState, figures: IndexFigures) -> None:
        """With workspace diagnostics on, publish the index's findings for unopened files."""
        if client_pulls(self._server):
            return
        previous = self._workspace_uris.pop(folder.root, set())
        current: set[str] = set()
        store = folder.reader() if folder.settings.workspace_diagnostics else None
        if store is not None:
            by_path: dict[str, list[types.Diagnostic]] = {}
            records = findings(store)
            for record in records:
                uri = from_fs_path(str(folder.root / record.path)) or ""
                if uri in self._server.workspace.text_documents:
                    continue
                document = _document_on_disk(uri, folder.root / record.path, self._server)
                by_path.setdefault(uri, []).append(stored_diagnostic(document, record))
            for uri, diagnostics in by_path.items():
                self._server.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics)
                )
            current = set(by_path)
        for uri in previous - current:
            if uri not in self._server.workspace.text_documents:
                self._server.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
                )
        self._workspace_uris[folder.root] = current


def _document_on_disk(uri: str, path: Path, server: ArkServer) -> TextDocument:
    try:
        source = server.documents.read_disk(path).decode("utf-8", "replace")
    except OSError:
        source = ""
    return FrozenDocument(uri, source=source, position_codec=server.workspace.position_codec)


def register(server: ArkServer) -> None:
    """Wire the document lifecycle, and the pull request, to the engine."""

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ArkServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.publisher.changed(params.text_document.uri, at_once=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ArkServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.publisher.changed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ArkServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.publisher.changed(params.text_document.uri, at_once=True)
        folder, _ = ls.folders.locate(params.text_document.uri)
        path = path_of(params.text_document.uri)
        if folder is not None and path is not None:
            ls.indexer.request(folder, [path])

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ArkServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.documents.forget(params.text_document.uri)
        ls.publisher.closed(params.text_document.uri)

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
        document = ls.documents.text(params.text_document.uri)
        if document is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        is_open = params.text_document.uri in ls.workspace.text_documents
        analyse = ls.documents.analyse_edit if is_open else ls.documents.analyse
        snapshot = await ls.in_analysis_thread(analyse, document)
        if is_open:
            ls.documents.remember(snapshot)
        return types.RelatedFullDocumentDiagnosticReport(items=diagnostics_of(ls, snapshot))
