"""``$/progress`` work-done reports, sent only to clients that asked for them."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from ark_lsp.server.app import ArkServer

logger = logging.getLogger(__name__)

REPORT_INTERVAL = 0.2
"""Seconds between two reports of the same work; a client needs no more."""


class WorkDone:
    """One piece of work shown in the editor's progress UI.

    :meth:`report` may be called from any thread; reports are throttled and
    forwarded to the server's event loop.
    """

    def __init__(self, server: ArkServer, title: str, *, cancellable: bool = False) -> None:
        self._server = server
        self._title = title
        self._cancellable = cancellable
        self._token: str | None = None
        self._last_report = 0.0
        self._last_percentage = -1
        self.cancelled = threading.Event()
        """Set when the user cancels the work in the editor."""

    async def begin(self, message: str = "") -> None:
        """Create the token and show the work; silently nothing for clients without support."""
        window = self._server.client_capabilities.window
        if not (window and window.work_done_progress):
            return
        token = f"ark-{uuid.uuid4()}"
        try:
            await self._server.work_done_progress.create_async(token)
        except Exception as error:  # a client may refuse; the work goes on without a bar
            logger.debug("progress token refused: %s", error)
            return
        self._token = token
        self._server.work_done_progress.tokens[token].add_done_callback(
            lambda _: self.cancelled.set()
        )
        self._server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=self._title,
                message=message or None,
                percentage=0,
                cancellable=self._cancellable,
            ),
        )

    def report(self, message: str, percentage: int | None = None) -> None:
        """Say how far the work is; safe from any thread."""
        if self._token is None:
            return
        now = time.monotonic()
        if percentage == self._last_percentage or now - self._last_report < REPORT_INTERVAL:
            return
        self._last_report, self._last_percentage = now, percentage if percentage is not None else -1
        value = types.WorkDoneProgressReport(message=message, percentage=percentage)
        self._server.call_soon(self._server.work_done_progress.report, self._token, value)

    def end(self, message: str = "") -> None:
        """Close the work in the editor; call from the server's thread."""
        if self._token is None:
            return
        self._server.work_done_progress.end(
            self._token, types.WorkDoneProgressEnd(message=message or None)
        )
        self._token = None
