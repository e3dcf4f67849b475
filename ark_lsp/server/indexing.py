"""Keeping each folder's index current, off the server's thread, one run at a time.

Requests that arrive while a run is going are merged: ten saved files make
one follow-up run over ten targets, not ten runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ark_lsp.server.folders import FolderState, IndexState
from ark_lsp.server.jobs import Job, JobsStopped
from ark_lsp.store import StoreError
from ark_lsp.workflows.index import IndexCancelled, refresh_index
from ark_lsp.workspace import AnalysedTexts, IndexFigures

if TYPE_CHECKING:
    from ark_lsp.server.core import ArkServer

logger = logging.getLogger(__name__)

LONGEST_DEFERRAL = 30.0
"""Seconds a refresh of a few files (a save) waits at most for the user to pause typing.

Long: while the user types on, the saved file is being changed anyway, and
each run that meets an edit makes that edit wait.
"""


@dataclass
class _Request:
    everything: bool = False
    targets: set[Path] = field(default_factory=set)
    waiters: list[asyncio.Future[IndexFigures | None]] = field(default_factory=list)


class Indexer:
    """Runs the index workflow (:func:`refresh_index`) for folders as jobs, one at a time.

    After each run that ends well, the features hear of it (``Feature.indexed``).
    A refresh of some files only (a save, files changed on disk) starts once
    the user pauses typing (:meth:`Documents.typing_paused`), so that the
    edits' diagnostics do not wait on it; a refresh of a whole folder (the
    user's ``ark.reindex``, a start) waits for nothing, and takes a waiting
    refresh of some of its files along.
    """

    def __init__(self, server: ArkServer) -> None:
        self._server = server
        self._waiting: dict[Path, _Request] = {}
        self._task: asyncio.Task[None] | None = None
        self._held = False
        self._whole_run_asked = asyncio.Event()
        """Set when a folder's whole refresh is asked for while a refresh of some files waits."""

    def hold(self) -> None:
        """Let requests wait until :meth:`release` (the start's first diagnostics go first)."""
        self._held = True

    def release(self) -> None:
        """Start the runs requested while held."""
        self._held = False
        if self._waiting and (self._task is None or self._task.done()):
            self._task = asyncio.ensure_future(self._drain())

    async def settled(self) -> None:
        """Return once no run is going and none is set to follow (requests held back aside)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait((self._task,))

    def request(
        self, folder: FolderState, targets: Iterable[Path] | None = None
    ) -> asyncio.Future[IndexFigures | None]:
        """Refresh the folder (or only ``targets`` in it); resolves when a run has covered it."""
        pending = self._waiting.setdefault(folder.root, _Request())
        if targets is None:
            pending.everything = True
            self._whole_run_asked.set()
        else:
            pending.targets.update(targets)
        waiter: asyncio.Future[IndexFigures | None] = asyncio.get_running_loop().create_future()
        pending.waiters.append(waiter)
        if not self._held and (self._task is None or self._task.done()):
            self._task = asyncio.ensure_future(self._drain())
        return waiter

    async def _drain(self) -> None:
        while self._waiting and not self._server.jobs.stopping:
            root = next(iter(self._waiting))
            if not self._waiting[root].everything:
                # The run holds the interpreter while it analyses the saved file (a parse
                # of the whole file is one call that never lets go of it): an edit meanwhile
                # would wait for its diagnostics. Requests arriving meanwhile join this one.
                await self._typing_paused_or_whole_run()
            pending = self._waiting.pop(root)
            folder = self._server.folders.get(root)
            figures = await self._run(folder, pending) if folder is not None else None
            for waiter in pending.waiters:
                if not waiter.done():
                    waiter.set_result(figures)

    async def _typing_paused_or_whole_run(self) -> None:
        """Return once typing pauses, or at once when a whole refresh is asked for meanwhile."""
        self._whole_run_asked.clear()
        paused = asyncio.ensure_future(
            self._server.documents.typing_paused(longest=LONGEST_DEFERRAL)
        )
        whole = asyncio.ensure_future(self._whole_run_asked.wait())
        try:
            await asyncio.wait((paused, whole), return_when=asyncio.FIRST_COMPLETED)
        finally:
            paused.cancel()
            whole.cancel()

    async def _run(self, folder: FolderState, pending: _Request) -> IndexFigures | None:
        targets = () if pending.everything else sorted(pending.targets)
        folder.state, folder.detail = IndexState.INDEXING, ""
        self._server.send_status()
        figures: IndexFigures | None = None
        async with self._server.jobs.job(
            f"ARK: indexing {folder.root.name}", cancellable=True
        ) as job:
            # A saved document was analysed as it was typed: the run takes that report.
            analysed = self._server.documents.analysed_texts(folder, set(targets))
            try:
                figures = await self._server.jobs.run(self._index, folder, targets, job, analysed)
            except (IndexCancelled, JobsStopped):
                folder.state, folder.detail = IndexState.WAITING, "cancelled"
            except StoreError as error:
                folder.state, folder.detail = IndexState.FAILED, str(error)
                self._server.warn(f"ARK cannot index {folder.root.name}: {error}")
            except Exception as error:  # a fault here must not take the server with it
                logger.exception("indexing %s failed", folder.root)
                folder.state, folder.detail = IndexState.FAILED, f"{type(error).__name__}: {error}"
            else:
                folder.state, folder.figures = IndexState.READY, figures
                folder.detail = f"{figures.files_scanned:,} files"
                # What the walk left out (a bad ignore pattern), each only the first time.
                self._server.report_problems(figures.warnings, f"ARK ({folder.root.name})")
            job.ending = folder.detail
        self._server.send_status()
        if figures is not None:
            self._server.features.indexed(folder, figures)
        return figures

    def _index(
        self, folder: FolderState, targets: Iterable[Path], job: Job, analysed: AnalysedTexts
    ) -> IndexFigures:
        """The run itself, in the worker thread."""

        def progress(done: int, total: int) -> None:
            if total:
                job.report(f"{done:,}/{total:,} files", percentage=100 * done // total)

        return refresh_index(
            folder.project,
            targets=list(targets),
            progress=progress,
            cancel=job.is_cancelled,
            analysed=analysed,
        )
