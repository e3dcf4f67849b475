"""The server object: per-instance state and the factory that wires its features."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from lsprotocol import types
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from ark_lsp import __version__
from ark_lsp.server.documents import Documents
from ark_lsp.server.folders import Folders
from ark_lsp.server.framing import READ_CHUNK_BYTES, ThreadedReader, serve_stream
from ark_lsp.server.protocol import ArkProtocol, strict_converter

if TYPE_CHECKING:
    from ark_lsp.server.documents import Snapshot
    from ark_lsp.server.sandbox import SandboxCommands

logger = logging.getLogger(__name__)

STATUS_NOTIFICATION = "ark/status"
"""Sent whenever an index run starts or ends, for editors' status bars."""

_T = TypeVar("_T")

CodeActionProvider = Callable[
    ["Snapshot", types.CodeActionParams], Awaitable[list[types.CodeAction]]
]
"""A feature's code actions for a document; ``code_actions`` asks every one it is given."""


class ArkServer(LanguageServer):
    """ARK's language server; all state lives on the instance, so tests can make many."""

    protocol: ArkProtocol

    def __init__(self) -> None:
        from ark_lsp.server.diagnostics import Publisher
        from ark_lsp.server.indexing import Indexer

        super().__init__(
            name="ark",
            version=__version__,
            protocol_cls=ArkProtocol,
            converter_factory=strict_converter,
        )
        self.initialization_options: dict[str, Any] = {}
        self.editor_trust: bool | None = None
        """The editor's word on whether the folders are trusted (VS Code's workspace trust)."""
        self.sandbox: SandboxCommands | None = None
        """The sandbox commands, once registered."""
        self.reported_problems: set[str] = set()
        """Settings problems already shown, so a reload does not repeat them."""
        self.code_action_providers: list[CodeActionProvider] = []
        """Code actions of features other than the quick fixes (generation)."""
        self.on_stop: list[Callable[[], None]] = []
        """Called when the server stops, so features can wind their own work down."""
        self.folders = Folders()
        self.documents = Documents(self)
        self.publisher = Publisher(self)
        self.indexer = Indexer(self)
        self.indexer.on_indexed.append(self.publisher.publish_workspace)
        self._analysis_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ark-analysis")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._configured: asyncio.Event | None = None

    def bind_loop(self) -> None:
        """Remember the event loop the protocol runs on; call from a handler."""
        self._loop = asyncio.get_running_loop()
        self._configured = asyncio.Event()

    def mark_configured(self, done: bool = True) -> None:
        """Every folder has its settings (or, with ``done=False``, is about to get new ones)."""
        if self._configured is not None:
            if done:
                self._configured.set()
            else:
                self._configured.clear()

    async def wait_configured(self) -> None:
        """Return once start-up has given every folder its settings."""
        if self._configured is not None:
            await self._configured.wait()

    def call_soon(self, callback: Callable[..., object], *args: object) -> None:
        """Run ``callback`` on the server's thread; safe from any thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(callback, *args)

    async def in_analysis_thread(self, function: Callable[..., _T], *args: object) -> _T:
        """Run an analysis off the server's thread, one at a time and in order."""
        return await asyncio.get_running_loop().run_in_executor(
            self._analysis_pool, function, *args
        )

    def inform(self, message: str) -> None:
        """Tell the user how something they asked for ended: said once, here, for every editor."""
        self.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Info, message=message)
        )

    def warn(self, message: str) -> None:
        """Tell the user something went wrong that they can act on."""
        logger.warning(message)
        self.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=message)
        )

    def send_status(self) -> None:
        """Tell the editor where each folder's index stands."""
        folders = [
            {
                "root": str(p.root),
                "state": p.state.value,
                "detail": p.detail,
                "indexed": p.figures.files_indexed if p.figures else None,
                "unchanged": p.figures.files_unchanged if p.figures else None,
                "trusted": p.loaded.trust.trusted,
                "trust": p.loaded.trust.reason,
                "ignored": list(p.loaded.ignored),
            }
            for p in self.folders.all()
        ]
        backends = {
            self.sandbox.backend_of(p) if self.sandbox else p.settings.sandbox.backend
            for p in self.folders.all()
        } or {"auto"}
        self.protocol.notify(
            STATUS_NOTIFICATION, {"folders": folders, "sandboxBackend": ", ".join(sorted(backends))}
        )

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve over stdin and stdout (ARK's reader, see ``framing``) until exit or the end."""
        stream = stdin or sys.stdin.buffer
        # read1 returns what one read of the pipe gives, instead of waiting for a full chunk.
        read_chunk: Callable[[int], bytes] = getattr(stream, "read1", stream.read)
        reader = ThreadedReader(lambda: read_chunk(READ_CHUNK_BYTES))
        self._stop_event = stop = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(serve_stream(reader.read, self.protocol, stop))
        except BrokenPipeError:
            logger.warning("the client closed its end of the connection")
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]
        self._ended()

    def start_tcp(self, host: str, port: int) -> None:
        """Serve a client on a TCP socket, read as stdio is; the server ends with the connection."""
        self._stop_event = stop = threading.Event()
        exits: list[SystemExit] = []

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(writer)
            try:
                await serve_stream(lambda: reader.read(READ_CHUNK_BYTES), self.protocol, stop)
            except SystemExit as exit_request:  # LSP's exit: raised in asyncio's callback it
                exits.append(exit_request)  # would be logged as a crash, so raise it below
            finally:
                self.shutdown()  # type: ignore[no-untyped-call]

        async def listen() -> None:
            self._server = await asyncio.start_server(connection, host, port)
            async with self._server:
                await self._server.serve_forever()

        with contextlib.suppress(asyncio.CancelledError):  # the connection closed the listener
            asyncio.run(listen())
        if exits:
            raise exits[0]
        self._ended()

    def _ended(self) -> None:
        """The client's stream ended: without a ``shutdown`` first, exit 1 as LSP's exit does."""
        if not self.protocol.shut_down:
            logger.warning("the client went away without shutting the server down")
            self.stop_work()
            raise SystemExit(1)

    def stop_work(self) -> None:
        """Cancel background work and close connections; the server answers no more."""
        self.indexer.stop()
        if self.sandbox is not None:
            self.sandbox.close()
        for stop in self.on_stop:
            stop()
        self._analysis_pool.shutdown(wait=False, cancel_futures=True)
        self.folders.close()


def create_server() -> ArkServer:
    """Build a server with every feature registered."""
    from ark_lsp.server import (
        code_actions,
        code_lens,
        commands,
        diagnostics,
        generation,
        hover,
        lifecycle,
        sandbox,
        symbols,
    )

    server = ArkServer()
    features = (
        lifecycle,
        diagnostics,
        code_actions,
        hover,
        symbols,
        code_lens,
        commands,
        sandbox,
        generation,
    )
    for feature in features:
        feature.register(server)
    return server
