"""The analysis's diagnostics (source ``ark``): pushed as text changes, or pulled by the client.

Clients that can pull (``textDocument/diagnostic``) get pull only, so no
editor shows a problem twice. For the others, a change is analysed in the
job service's analysis lane; a burst of changes is coalesced into one
analysis of the latest text, and a result is published only if its version
is still the document's current one. What other sources found (failing
tests, ...) is shown with it by the diagnostic store.

A document opened with exactly the text a warm index analysed, under the
same settings, first shows the index's findings, at once (see
:mod:`~ark_lsp.workflows.indexed_findings`); the analysis still runs, as
the base of later edits, and its diagnostics are published only if they
differ. A pulling client's first pull of such a document is answered the
same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path
from pygls.workspace import TextDocument

from ark_lsp.server.convert import lsp_diagnostic, stored_diagnostic
from ark_lsp.server.core import ArkServer, Feature
from ark_lsp.server.diagnostic_sources import ANALYSIS_SOURCE, PULL_IDENTIFIER
from ark_lsp.server.documents import FrozenDocument, Snapshot, frozen_copy, path_of
from ark_lsp.server.folders import FolderState
from ark_lsp.workflows.indexed_findings import indexed_findings
from ark_lsp.workspace import IndexFigures

logger = logging.getLogger(__name__)

BURST_WINDOW = 0.05
"""Seconds: a change this soon after the previous one waits this long for the next."""

SETTINGS_WAIT = 0.1
"""Seconds an opened document waits for the folders' settings before it is analysed instead.

The index's findings are of the settings the user set, which the server has
once the client answered ``workspace/configuration``: a start's first round
trip, a millisecond or two.
"""


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
        self._opened: dict[str, int] = {}
        """Documents opened whose first diagnostics are not out: the version opened."""
        self._showing: dict[str, asyncio.Future[None]] = {}
        """The attempt to show an opened document's indexed findings, while it runs."""
        self._from_index: dict[str, int] = {}
        """Documents showing the index's findings: the version they were shown for."""
        self._pulled_analyses: set[asyncio.Task[None]] = set()
        """Analyses of documents whose first pull the index answered, while they run."""

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
        if uri in self._opened:
            # Every analysis of a just opened document waits for the one attempt to show
            # the index's findings: an analysis would hold the interpreter meanwhile.
            attempt = self._showing.get(uri)
            if attempt is None:
                attempt = self._showing[uri] = asyncio.ensure_future(self._show_indexed(uri))
            await asyncio.shield(attempt)
        document = server.workspace.text_documents.get(uri)
        if document is None or server.jobs.stopping:
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
        found = analysis_diagnostics(snapshot)
        if self._from_index.get(uri) == snapshot.version and server.diagnostics.holds(
            ANALYSIS_SOURCE, uri, found, snapshot.version
        ):
            logger.debug(
                "analysis of version %s: the index's findings, already shown", snapshot.version
            )
            return
        self._from_index.pop(uri, None)
        server.diagnostics.put(ANALYSIS_SOURCE, uri, found, snapshot.version)
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

    async def _show_indexed(self, uri: str) -> None:
        """Publish an opened document's indexed findings, if they are the analysis's."""
        server = self.server
        try:
            try:
                await asyncio.wait_for(server.wait_configured(), SETTINGS_WAIT)
            except TimeoutError:
                logger.debug("no settings %.0f ms after %s opened: analysed", SETTINGS_WAIT, uri)
                return
            document = server.workspace.text_documents.get(uri)
            if document is None or document.version != self._opened.get(uri):
                return  # closed, or edited since: the analysis shows the newest text
            began = time.monotonic()
            found = self.indexed_diagnostics(frozen_copy(document))
            if found is None:
                return
            self._from_index[uri] = document.version
            server.diagnostics.put(ANALYSIS_SOURCE, uri, found, document.version)
            logger.debug(
                "diagnostics of version %s published from the index in %.1f ms",
                document.version,
                (time.monotonic() - began) * 1000,
            )
            server.warm_up()  # the first diagnostics are out
        finally:
            self._opened.pop(uri, None)
            self._showing.pop(uri, None)

    def indexed_diagnostics(self, document: TextDocument) -> list[types.Diagnostic] | None:
        """The index's findings of a document's text, if analysing it would find just those.

        None when the folder's index did not analyse this very text under the
        folder's settings as they are now (or has no index yet, or is kept
        from running ARK's code).
        """
        folder, relative = self.server.folders.locate(document.uri)
        if folder is None or folder.restricted or not folder.project.database.is_file():
            return None
        store = folder.reader()
        if store is None:
            return None
        records = indexed_findings(store, folder.settings, relative, document.source)
        if records is None:
            return None
        return [stored_diagnostic(document, record) for record in records]

    def closed(self, uri: str) -> None:
        """The editor closed the document: its diagnostics go, unless workspace-wide."""
        task = self._scheduled.pop(uri, None)
        if task is not None:
            task.cancel()
        self._last_change.pop(uri, None)
        self._opened.pop(uri, None)
        self._from_index.pop(uri, None)
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
            self._opened[params.text_document.uri] = params.text_document.version
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
                identifier=PULL_IDENTIFIER,
                inter_file_dependencies=False,
                workspace_diagnostics=False,
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
            if is_open and self._opened.pop(uri, None) == document.version:
                # The first pull of an opened document: the index's findings, when they
                # are the analysis's; the analysis follows, as the base of later edits.
                stored = self.indexed_diagnostics(document)
                if stored is not None:
                    analysis = asyncio.ensure_future(self._analyse_pulled(document, stored))
                    self._pulled_analyses.add(analysis)
                    analysis.add_done_callback(self._pulled_analyses.discard)
                    items = ls.diagnostics.answer(uri, ANALYSIS_SOURCE, stored)
                    ls.call_soon(ls.warm_up)
                    return types.RelatedFullDocumentDiagnosticReport(items=items)
            analyse = ls.documents.analyse_edit if is_open else ls.documents.analyse
            snapshot = await ls.jobs.analyse(analyse, document)
            if is_open:
                ls.documents.remember(snapshot)
            items = ls.diagnostics.answer(uri, ANALYSIS_SOURCE, analysis_diagnostics(snapshot))
            ls.call_soon(ls.warm_up)  # once this answer is on its way
            return types.RelatedFullDocumentDiagnosticReport(items=items)

    async def _analyse_pulled(
        self, document: TextDocument, answered: list[types.Diagnostic]
    ) -> None:
        """Analyse a document whose pull the index answered; pull again should they differ."""
        server = self.server
        if server.jobs.stopping:
            return
        snapshot = await server.jobs.analyse(server.documents.analyse_edit, document)
        current = server.workspace.text_documents.get(document.uri)
        if current is None or current.version != snapshot.version:
            return  # edited or closed since: that change's pull analyses its text
        server.documents.remember(snapshot)
        if analysis_diagnostics(snapshot) != answered:
            server.diagnostics.refresh_pulls()


def _document_on_disk(uri: str, path: Path, server: ArkServer) -> TextDocument:
    try:
        source = server.documents.read_disk(path).decode("utf-8", "replace")
    except OSError:
        source = ""
    return FrozenDocument(uri, source=source, position_codec=server.workspace.position_codec)
