"""The engine's report of each open document, one analysis per version, shared by features."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from ark_lsp.analysis import AnalysedText, analyze, analyze_edit
from ark_lsp.config import Settings
from ark_lsp.files import ReadRefused, read_contained
from ark_lsp.models import ModuleReport
from ark_lsp.server.folders import FolderState

if TYPE_CHECKING:
    from ark_lsp.server.core import ArkServer

logger = logging.getLogger(__name__)

TYPING_PAUSE = 0.4
"""Seconds without an edit of any open document after which the user has paused typing."""


@dataclass(frozen=True)
class Snapshot:
    """One version of a document with what the engine found in it.

    ``document`` is a private copy of the text, so positions convert
    against exactly the text that was analysed even while edits arrive.
    """

    document: TextDocument
    report: ModuleReport
    settings: Settings
    folder: FolderState | None
    relative: str

    @property
    def uri(self) -> str:
        """The document's URI."""
        return self.document.uri

    @property
    def version(self) -> int | None:
        """The editor's version of the text analysed."""
        return self.document.version

    @property
    def path(self) -> Path | None:
        """The file on disk, when the document is one."""
        return path_of(self.document.uri)


def path_of(uri: str) -> Path | None:
    """The local file a URI names, if it names one."""
    fs_path = to_fs_path(uri)
    return Path(fs_path) if fs_path else None


class FrozenDocument(TextDocument):
    """A document's text at one version, which later edits leave alone.

    pygls splits a document into lines on every position conversion; this
    text never changes, so it is split once.
    """

    @functools.cached_property
    def lines(self) -> Sequence[str]:
        """The text's lines, line endings kept."""
        return tuple(self.source.splitlines(True))


def frozen_copy(document: TextDocument) -> TextDocument:
    """A copy of the document's current text that later edits leave alone."""
    return FrozenDocument(
        document.uri,
        source=document.source,
        version=document.version,
        language_id=document.language_id,
        position_codec=document.position_codec,
    )


class Documents:
    """Analyses documents on demand and keeps the latest report of each."""

    def __init__(self, server: ArkServer) -> None:
        self._server = server
        self._latest: dict[str, Snapshot] = {}
        self._parsed: dict[str, AnalysedText] = {}
        self._last_edit = float("-inf")

    def edited(self) -> None:
        """The user edited an open document (``didChange``): typing goes on for a moment."""
        self._last_edit = time.monotonic()

    def typing_pause_begins(self) -> float:
        """When (``time.monotonic``) typing will have paused, unless the user edits again first."""
        return self._last_edit + TYPING_PAUSE

    async def typing_paused(self, *, longest: float) -> None:
        """Return once no open document has been edited for :data:`TYPING_PAUSE` seconds.

        Background work on the server's interpreter waits here, so that it
        does not hold the interpreter while an edit waits for its
        diagnostics; it waits at most ``longest`` seconds, so that typing
        without a pause does not hold it back for good (nor a server that stops).
        """
        deadline = time.monotonic() + longest
        while (now := time.monotonic()) < deadline and not self._server.jobs.stopping:
            quiet_at = self._last_edit + TYPING_PAUSE
            if now >= quiet_at:
                return
            await asyncio.sleep(min(quiet_at, deadline) - now)

    def text(self, uri: str) -> TextDocument | None:
        """The open document, or the file on disk for an unopened one; None if neither.

        A file on disk is read only as :meth:`read_disk` allows.
        """
        document = self._server.workspace.text_documents.get(uri)
        if document is not None:
            return frozen_copy(document)
        fs_path = to_fs_path(uri)
        if fs_path is None:
            return None
        try:
            source = self.read_disk(Path(fs_path)).decode("utf-8", "replace")
        except OSError:
            return None
        return FrozenDocument(
            uri, source=source, position_codec=self._server.workspace.position_codec
        )

    def read_disk(self, path: Path, also_within: Sequence[Path] = ()) -> bytes:
        """Every read the server makes of a file the editor has not opened.

        A client can name any URI, and a repository any link: only a regular
        file inside the workspace folders (or ``also_within``), links
        resolved, is read, without waiting on a FIFO and up to the
        ``max_file_size`` setting. Anything else raises :class:`ReadRefused`
        (an :class:`OSError`), logged with its reason; the caller answers
        with nothing.
        """
        folders = [folder.root for folder in self._server.folders.all()]
        settings, _ = self._server.folders.settings_for(path.absolute().as_uri())
        try:
            return read_contained(path, [*folders, *also_within], settings.max_file_size)
        except ReadRefused as refused:
            logger.warning("not reading %s: %s", path, refused)
            raise

    def analyse(self, document: TextDocument, *, incremental: bool = False) -> Snapshot:
        """Analyse a (frozen) document.

        ``incremental`` re-analyses only the blocks that changed since the last
        incremental analysis of the document; only the analysis thread asks for
        it, so that each edit starts from the one before.
        """
        folder, relative = self._server.folders.locate(document.uri)
        settings = (folder or self._server.folders.loose).settings
        if incremental:
            previous = self._parsed.pop(document.uri, None)
            report, parsed = analyze_edit(document.source, relative, settings, previous)
            if parsed is not None:
                self._parsed[document.uri] = parsed
        else:
            report = analyze(document.source, relative, settings)
        return Snapshot(document, report, settings, folder, relative)

    def analyse_edit(self, document: TextDocument) -> Snapshot:
        """:meth:`analyse` re-analysing only what changed; for the analysis thread."""
        return self.analyse(document, incremental=True)

    def remember(self, snapshot: Snapshot) -> None:
        """Keep a snapshot unless a newer version of its document is already kept."""
        kept = self._latest.get(snapshot.uri)
        if kept is None or (snapshot.version or 0) >= (kept.version or 0):
            self._latest[snapshot.uri] = snapshot

    def latest(self, uri: str) -> Snapshot | None:
        """The report of the document's current text, analysing it now if needed."""
        kept = self._latest.get(uri)
        open_document = self._server.workspace.text_documents.get(uri)
        if (
            kept is not None
            and open_document is not None
            and kept.version == open_document.version
            and kept.settings is self._server.folders.settings_for(uri)[0]
            and kept.document.source == open_document.source
        ):
            return kept  # no copy of the text: hovers come often and must stay cheap
        document = self.text(uri)
        if document is None:
            return None
        snapshot = self.analyse(document)
        if open_document is not None:
            self.remember(snapshot)
        return snapshot

    def analysed_texts(
        self, folder: FolderState, paths: Collection[Path]
    ) -> dict[str, tuple[str, ModuleReport]]:
        """The latest reports of the open documents at ``paths``, for an index run of ``folder``.

        By relative path: the SHA-256 of the text's UTF-8 bytes, and the
        report, for documents analysed with the folder's settings as they are
        now. The index takes a report for a file whose bytes hash the same
        (a document as saved) instead of analysing the file again.
        """
        found = {}
        for snapshot in self._latest.values():
            if snapshot.folder is not folder or snapshot.settings is not folder.settings:
                continue
            if snapshot.path not in paths:
                continue
            try:
                encoded = snapshot.document.source.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: no file has these bytes
                continue
            found[snapshot.relative] = (hashlib.sha256(encoded).hexdigest(), snapshot.report)
        return found

    def forget(self, uri: str) -> None:
        """Drop what is kept of a closed document."""
        self._latest.pop(uri, None)
        self._parsed.pop(uri, None)

    def invalidate(self) -> None:
        """Settings changed: every kept report may be wrong now."""
        self._latest.clear()
