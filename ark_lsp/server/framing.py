"""Reading LSP messages off a byte stream, whatever the client puts on it.

ARK reads the stream itself rather than through pygls (see
:mod:`~ark_lsp.server.frames` for why): after a header it cannot honour it
answers with a parse error and skips to the next ``Content-Length``. Stdio
and TCP share this loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from ark_lsp.server.frames import FrameError, Framer

if TYPE_CHECKING:
    from ark_lsp.server.protocol import ArkProtocol

logger = logging.getLogger(__name__)


async def serve_stream(
    read: Callable[[], Awaitable[bytes]],
    protocol: ArkProtocol,
    stop: threading.Event,
    *,
    framer: Framer | None = None,
    replay: Iterable[bytes | FrameError] = (),
) -> None:
    """Hand every message ``read`` yields to ``protocol`` until the stream ends or ``stop``.

    ``replay`` are messages read before (by the start's prelude), handled
    first; ``framer`` holds what was read after them.
    """
    framer = framer or Framer()
    replayed = iter(replay)
    del replay  # each message goes once handled
    while not stop.is_set():
        item = next(replayed, None)
        replaying = item is not None
        if not replaying:
            item = framer.next()
        if item is None:
            try:
                chunk = await read()
            except OSError as error:
                logger.warning("reading from the client failed: %s", error)
                chunk = b""
            if not chunk:
                if framer.mid_message:
                    logger.warning("the client's stream ended in the middle of a message")
                return
            framer.feed(chunk)
            continue
        if isinstance(item, FrameError):
            logger.warning("skipped a malformed message: %s", item.reason)
            protocol.refuse_unreadable(f"{item.reason}; skipped to the next Content-Length")
        else:
            try:
                protocol.receive(item)
            except Exception:  # a bug in handling one message must not end the server
                logger.exception("handling a message failed")
        # Let what the message started run before the next one arrives, as pygls does;
        # the prelude's messages had all arrived before the settings it asked for.
        if not replaying:
            await asyncio.sleep(0)


class ThreadedReader:
    """Reads a blocking stream on a daemon thread, one chunk per ``read()``.

    An executor's thread blocked on stdin would hold the process open after
    ``exit`` until the client closed its end; a daemon thread does not.
    """

    def __init__(self, read_chunk: Callable[[], bytes]) -> None:
        self._read_chunk = read_chunk
        self._wanted = threading.Semaphore(0)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: asyncio.Future[bytes] | None = None
        self._ended = False

    async def read(self) -> bytes:
        """The next chunk of the stream; empty once it ended."""
        if self._ended:
            return b""
        self._loop = asyncio.get_running_loop()
        waiting: asyncio.Future[bytes] = self._loop.create_future()
        self._waiting = waiting
        if self._thread is None:
            self._thread = threading.Thread(target=self._pump, name="ark-stdin", daemon=True)
            self._thread.start()
        self._wanted.release()
        return await waiting

    def _pump(self) -> None:
        while not self._ended:
            self._wanted.acquire()
            try:
                chunk = self._read_chunk()
            except (OSError, ValueError) as error:
                logger.warning("reading from the client failed: %s", error)
                chunk = b""
            self._ended = not chunk
            assert self._loop is not None and self._waiting is not None
            try:
                self._loop.call_soon_threadsafe(_settle, self._waiting, chunk)
            except RuntimeError:  # the loop is closed: nobody reads any more
                return


def _settle(waiting: asyncio.Future[bytes], chunk: bytes) -> None:
    if not waiting.done():
        waiting.set_result(chunk)
