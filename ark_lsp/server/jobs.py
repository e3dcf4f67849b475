"""Work off the event loop: one pool for long jobs with progress, one lane for analysis.

Every long piece of work (an index run, a sandbox run, test generation,
trusting a folder) runs as a :class:`Job`: shown in the editor with
``$/progress`` where the client supports it, cancellable from there, and
cancelled when the server stops. The per-keystroke analysis has a lane of
its own, one analysis at a time and in order, so a keystroke never waits
behind a sandbox run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from lsprotocol import types

if TYPE_CHECKING:
    from ark_lsp.server.core import ArkServer

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

REPORT_INTERVAL = 0.2
"""Seconds between two reports of the same job; a client needs no more."""

JOB_WORKERS = 4
"""Threads for long work: an index run, sandbox runs and generation at once."""


class JobsStopped(Exception):
    """The server is stopping: the work asked for now is not started."""


class Job:
    """One piece of long work as the editor shows it.

    :meth:`report` may be called from any thread; reports are throttled and
    forwarded to the server's event loop. ``ending`` is what the editor
    shows when the job ends.
    """

    def __init__(self, server: ArkServer, title: str, *, cancellable: bool) -> None:
        self._server = server
        self._title = title
        self._cancellable = cancellable
        self._token: str | None = None
        self._last_report = 0.0
        self._last_percentage = -1
        self.cancelled = threading.Event()
        """Set when the user cancels the job in the editor, or the server stops."""
        self.ending = ""
        """The message the job ends with."""

    def is_cancelled(self) -> bool:
        """Whether the job should stop; the engine's cancel check."""
        return self.cancelled.is_set()

    async def _begin(self, message: str) -> None:
        """Create the token and show the job; silently nothing for clients without support."""
        if not self._server.client_support.work_done_progress:
            return
        token = f"ark-{uuid.uuid4()}"
        progress = self._server.work_done_progress
        try:
            await progress.create_async(token)
        except Exception as error:  # a client may refuse; the work goes on without a bar
            logger.debug("progress token refused: %s", error)
            return
        self._token = token
        progress.tokens[token].add_done_callback(lambda _: self.cancelled.set())
        progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=self._title,
                message=message or None,
                percentage=0,
                cancellable=self._cancellable,
            ),
        )

    def report(self, message: str, percentage: int | None = None) -> None:
        """Say how far the job is; safe from any thread."""
        if self._token is None:
            return
        now = time.monotonic()
        if percentage == self._last_percentage or now - self._last_report < REPORT_INTERVAL:
            return
        self._last_report, self._last_percentage = now, percentage if percentage is not None else -1
        value = types.WorkDoneProgressReport(message=message, percentage=percentage)
        self._server.call_soon(self._server.work_done_progress.report, self._token, value)

    def _end(self) -> None:
        if self._token is None:
            return
        self._server.work_done_progress.end(
            self._token, types.WorkDoneProgressEnd(message=self.ending or None)
        )
        self._token = None


class Jobs:
    """The server's job service: every way off the event loop goes through it."""

    def __init__(self, server: ArkServer) -> None:
        self._server = server
        self._pool = ThreadPoolExecutor(max_workers=JOB_WORKERS, thread_name_prefix="ark-job")
        self._analysis = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ark-analysis")
        self._live: set[Job] = set()
        self._stopping = threading.Event()

    @property
    def stopping(self) -> bool:
        """The server is stopping: no new work is started."""
        return self._stopping.is_set()

    @contextlib.asynccontextmanager
    async def job(
        self, title: str, *, cancellable: bool = False, message: str = ""
    ) -> AsyncIterator[Job]:
        """Show a job for as long as the block runs; run its work with :meth:`run`."""
        job = Job(self._server, title, cancellable=cancellable)
        if self.stopping:
            job.cancelled.set()
        else:
            await job._begin(message)
        self._live.add(job)
        try:
            yield job
        finally:
            self._live.discard(job)
            job._end()

    async def run(self, function: Callable[..., _T], *args: object) -> _T:
        """Run ``function`` in the job pool and wait for it without blocking the loop.

        Raises :class:`JobsStopped` once the server is stopping (a job begun
        before ``shutdown`` may ask after it).
        """
        if self.stopping:
            raise JobsStopped
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)

    async def analyse(self, function: Callable[..., _T], *args: object) -> _T:
        """Run an analysis in its own lane: one at a time, in order, never behind a job."""
        if self.stopping:
            raise JobsStopped
        return await asyncio.get_running_loop().run_in_executor(self._analysis, function, *args)

    def submit(self, function: Callable[[], object]) -> None:
        """Start ``function`` in the job pool and not wait for it (closing what is let go)."""
        if not self.stopping:
            self._pool.submit(function)

    def stop(self) -> None:
        """Cancel every job and refuse new work; returns at once."""
        self._stopping.set()
        for job in list(self._live):
            job.cancelled.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._analysis.shutdown(wait=False, cancel_futures=True)
