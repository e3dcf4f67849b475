"""The server core: state, the services features share, the server's life, and no feature.

A feature (hover, the sandbox commands, ...) is a :class:`Feature`: it
registers its handlers and commands, and reacts to the server's life
through the hooks below. Features reach each other only through the
services here (documents, folders, the job service, diagnostics, the
index, sandbox runners, code actions and lenses, client support), never through
another feature. ``create_server()`` in :mod:`ark_lsp.server.app` lists them.
"""

from __future__ import annotations

import _imp
import asyncio
import contextlib
import gc
import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, BinaryIO, TypeVar

from lsprotocol import types
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from ark_lsp import __version__
from ark_lsp.config import settings_from_mapping
from ark_lsp.project import Project
from ark_lsp.server import lazy_protocol
from ark_lsp.server.client_support import ClientSupport
from ark_lsp.server.code_actions import CodeActions
from ark_lsp.server.code_lenses import CodeLenses
from ark_lsp.server.diagnostic_store import DiagnosticStore
from ark_lsp.server.documents import Documents
from ark_lsp.server.folders import (
    Folders,
    FolderState,
    configure_folders,
    editor_settings,
    editor_trust,
    start_folder_uris,
)
from ark_lsp.server.frames import READ_CHUNK_BYTES
from ark_lsp.server.framing import ThreadedReader, serve_stream
from ark_lsp.server.generated_code import compiled_once, save_compiled
from ark_lsp.server.indexing import Indexer
from ark_lsp.server.jobs import Jobs
from ark_lsp.server.prelude import Handover, HandoverWriter
from ark_lsp.server.protocol import ArkProtocol, strict_converter
from ark_lsp.server.runners import SandboxRunners
from ark_lsp.workspace import IndexFigures

logger = logging.getLogger(__name__)

_F = TypeVar("_F", bound=Callable[..., Any])

STATUS_NOTIFICATION = "ark/status"
"""Sent whenever an index run starts or ends, for editors' status bars."""

WARM_UP_AFTER = 0.5
"""Seconds after ``initialized``: a start that opened documents has its index refreshed by then.

A start that opened none does not wait for it (see ``initialized`` below).
"""

DEFERRED_IMPORTS_WAIT = 1.0
"""Seconds the deferred imports wait at most for the start's index runs to end.

A warm refresh walks the folder in this process; the imports would share the
interpreter with it. A cold one parses in worker processes: the imports need
not wait for it to end, only for its first second.
"""

LOADED_AT_FIRST_DIAGNOSTICS = "packages imported by the first diagnostics:"
"""How the debug log starts the line naming them (the start-up test reads it)."""

NOTHING_OPENED_AT_START = "no document opened at start: the index is refreshed now"
"""What the debug log says when a start has no first diagnostics to wait for."""

DEFERRED_IMPORTING = "importing what the features deferred"
"""What the debug log says as the features' deferred imports start."""

DEFERRED_IMPORTED = "deferred imports done"
"""What the debug log says once the features' deferred imports are in."""

IMPORT_LOCK_POLL = 0.02
"""Seconds between looks at the import lock while another thread holds it."""


class Feature:
    """A part of the server; each hook does nothing unless the feature overrides it.

    A hook that raises is logged and the other features' hooks still run:
    one feature's fault costs the others nothing.
    """

    deferred_imports: tuple[str, ...] = ()
    """Modules the feature imports where it first uses them, not before the first diagnostics.

    The server imports them, between requests, once those are out (see
    :meth:`ArkServer.warm_up`), so the first use does not wait for them either.
    """

    def __init__(self, server: ArkServer) -> None:
        self.server = server

    def register(self) -> None:
        """Register the feature's handlers, commands and code-action providers."""

    async def initialized(self) -> None:
        """The client is ready, every folder has its settings, the first diagnostics are out.

        Called from :meth:`ArkServer.warm_up`: once the opened documents' first
        diagnostics are published, or at once when none are coming, so that the
        requests a feature sends the client at start do not go before them.
        """

    def first_diagnostics_out(self) -> None:
        """The first diagnostics are published: start what could wait for them, off this thread."""

    def settings_changed(self) -> None:
        """Settings changed: what the feature shows may be out of date."""

    def indexed(self, folder: FolderState, figures: IndexFigures) -> None:
        """An index run of a folder ended well."""

    def document_saved(self, uri: str) -> None:
        """The editor saved an open document: its text is the file's on disk."""

    def document_closed(self, uri: str) -> None:
        """The editor closed a document (before its diagnostics are cleared)."""

    def stop(self) -> None:
        """The server stops: wind the feature's own work down, returning at once."""


class Features:
    """The server's features, in the order they were added; calls their hooks."""

    def __init__(self) -> None:
        self._features: list[Feature] = []

    def add(self, feature: Feature) -> None:
        """Register a feature."""
        feature.register()
        self._features.append(feature)

    def __iter__(self) -> Iterator[Feature]:
        return iter(self._features)

    async def initialized(self) -> None:
        """Tell every feature the client is ready."""
        for feature in self._features:
            try:
                await feature.initialized()
            except Exception:
                logger.exception("%s failed to start", type(feature).__name__)

    def first_diagnostics_out(self) -> None:
        """Tell every feature the first diagnostics are published."""
        self._each(lambda feature: feature.first_diagnostics_out())

    def settings_changed(self) -> None:
        """Tell every feature the settings changed."""
        self._each(lambda feature: feature.settings_changed())

    def indexed(self, folder: FolderState, figures: IndexFigures) -> None:
        """Tell every feature a folder's index is current."""
        self._each(lambda feature: feature.indexed(folder, figures))

    def document_saved(self, uri: str) -> None:
        """Tell every feature the editor saved a document."""
        self._each(lambda feature: feature.document_saved(uri))

    def document_closed(self, uri: str) -> None:
        """Tell every feature the editor closed a document."""
        self._each(lambda feature: feature.document_closed(uri))

    def stop(self) -> None:
        """Stop every feature."""
        self._each(lambda feature: feature.stop())

    def deferred_imports(self) -> list[str]:
        """What the features import on first use, in their order."""
        return [name for feature in self._features for name in feature.deferred_imports]

    def _each(self, hook: Callable[[Feature], None]) -> None:
        for feature in self._features:
            try:
                hook(feature)
            except Exception:
                logger.exception("%s failed", type(feature).__name__)


class ArkServer(LanguageServer):
    """ARK's language server; all state lives on the instance, so tests can make many."""

    protocol: ArkProtocol

    def __init__(self) -> None:
        super().__init__(
            name="ark",
            version=__version__,
            protocol_cls=ArkProtocol,
            converter_factory=strict_converter,
        )
        self.client_support = ClientSupport()
        """What the client can do; resolved at ``initialize``."""
        self.handover: Handover | None = None
        """What the start's prelude read and sent before the server took over (stdio only)."""
        self.initialization_options: dict[str, Any] = {}
        self.editor_trust: bool | None = None
        """The editor's word on whether the folders are trusted (VS Code's workspace trust)."""
        self.reported_problems: set[str] = set()
        """Settings problems already shown, so a reload does not repeat them."""
        self.features = Features()
        self.folders = Folders()
        self.documents = Documents(self)
        self.jobs = Jobs(self)
        self.diagnostics = DiagnosticStore(self)
        self.index = Indexer(self)
        self.runners = SandboxRunners(self)
        self.code_actions = CodeActions(self)
        self.code_lenses = CodeLenses(self)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._configured: asyncio.Event | None = None
        self._warming_up = False
        self._warm_up_waits = False
        self._deferred_imports: asyncio.Future[None] | None = None
        self._features_started: asyncio.Future[None] | None = None
        """The features' ``initialized`` hooks run by ``warm_up`` (asyncio holds tasks weakly)."""
        self._register_lifecycle()
        self.code_actions.register()
        self.code_lenses.register()

    def feature(self, feature_name: str, options: Any | None = None) -> Callable[[_F], _F]:
        """Register a handler as pygls does, its options kept without pygls's check of their type.

        pygls checks options against the type lsprotocol gives the method, read from
        ``METHOD_TO_TYPES``: that makes the method's request, response, params and
        registration classes, some 20 of lsprotocol's for ARK's features with options,
        before the server can read ``initialize``; the first such request makes them
        instead. tests/server/test_server_core.py checks the options' types as pygls does.
        """
        register = super().feature(feature_name)

        def decorator(handler: _F) -> _F:
            registered = register(handler)
            if options:
                self.protocol.fm.feature_options[feature_name] = options
            return registered

        return decorator

    # --- the server's life -------------------------------------------------------------------

    def _register_lifecycle(self) -> None:
        @self.feature(types.INITIALIZE)
        def initialize(ls: ArkServer, params: types.InitializeParams) -> None:
            ls._loop = asyncio.get_running_loop()
            ls._configured = asyncio.Event()
            ls.client_support = ClientSupport.of(params.capabilities)
            ls.initialization_options = editor_settings(params.initialization_options)
            ls.editor_trust = editor_trust(params.initialization_options)
            listed = [folder.uri for folder in params.workspace_folders or []]
            for uri in start_folder_uris(listed, params.root_uri, params.root_path):
                ls.folders.add(uri)

        @self.feature(types.INITIALIZED)
        async def initialized(ls: ArkServer, params: types.InitializedParams) -> None:
            answered = await ls.configure(ls.folders.all())
            ls.settings_applied()
            # The index of a warm workspace is refreshed once the first diagnostics are
            # out: its walk of the files would otherwise share the interpreter with them.
            ls.index.hold()
            for folder in ls.folders.all():
                ls.index.request(folder)
            ls.mark_configured()
            # The features' start (file watchers registered, code lenses redrawn, ...) waits
            # for warm_up too: its requests would go out before the first diagnostics.
            # What start-up loaded (protocol types, the settings) lives as long as
            # the server: keep the cyclic collector from walking it on every full pass.
            gc.freeze()
            # An editor sends the didOpen of the files it shows along with ``initialized``,
            # so before its answer to workspace/configuration (messages are read in order):
            # with none open by then, no first diagnostics are coming to wait for.
            if answered and not ls.workspace.text_documents:
                logger.debug(NOTHING_OPENED_AT_START)
                ls.warm_up()
            else:
                asyncio.get_running_loop().call_later(WARM_UP_AFTER, ls._warm_up_at_the_latest)

        @self.feature(types.SHUTDOWN)
        def shutdown(ls: ArkServer, params: None) -> None:
            ls.stop_work()

    def mark_configured(self, done: bool = True) -> None:
        """Every folder has its settings (or, with ``done=False``, is about to get new ones)."""
        if self._configured is not None:
            if done:
                self._configured.set()
                if self._warm_up_waits:
                    self._warm_up_waits = False
                    self.warm_up()
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

    def stop_work(self) -> None:
        """Cancel background work and close connections; the server answers no more."""
        self.jobs.stop()
        self.runners.close()
        self.features.stop()
        self.folders.close()
        save_compiled()

    def _warm_up_at_the_latest(self) -> None:
        """The fallback of ``initialized``: warm up, or once the settings being read again are in.

        A ``didChangeConfiguration`` may be reading them when the time comes;
        nothing else would ask again.
        """
        if self._configured is not None and not self._configured.is_set():
            self._warm_up_waits = True
        else:
            self.warm_up()

    def warm_up(self) -> None:
        """The first diagnostics are out (or none are coming): start the features, and the rest.

        The features' ``initialized`` hooks run, a code-lens refresh asked for
        meanwhile is sent, the index is refreshed and the rest imported.

        Called again, or before start-up has given the folders their settings
        (diagnostics published before then are of the defaults), it does
        nothing. Until then only what the first diagnostics need was imported
        (the start-up test holds that, from the debug log's line); the imports
        run between requests once the index runs this starts have ended (or
        ``DEFERRED_IMPORTS_WAIT`` later at most), so that a warm workspace is
        ready without sharing the interpreter with them.
        """
        if self._warming_up or self._configured is None or not self._configured.is_set():
            return
        self._warming_up = True
        self.index.release()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s (%.0f ms after the interpreter started; %s)",
                LOADED_AT_FIRST_DIAGNOSTICS,
                " ".join(imported_packages()),
                (time.monotonic() - _INTERPRETER_STARTED) * 1000,
                lazy_protocol.made_so_far(),
            )
        self.code_lenses.release()
        self._features_started = asyncio.ensure_future(self.features.initialized())
        self._deferred_imports = asyncio.ensure_future(self._import_deferred())
        self.features.first_diagnostics_out()

    async def _import_deferred(self) -> None:
        """Import what the features deferred, once the start's index runs end.

        On the server's thread, one module at a time with requests let in
        between, not on a thread of their own: a feature importing a module of
        the same package meanwhile would meet it half made (Python hands a
        thread a partly initialized module rather than deadlock between two
        importing threads), and both imports would fail. While jedi's thread
        holds the import lock (see ``workflows.jedi_definitions``), the next
        import waits without blocking the server.
        """
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.index.settled(), DEFERRED_IMPORTS_WAIT)
        modules = self.features.deferred_imports()
        logger.debug("%s: %d modules", DEFERRED_IMPORTING, len(modules))
        began = time.monotonic()
        for name in modules:
            while _imp.lock_held():
                await asyncio.sleep(IMPORT_LOCK_POLL)
            if self.jobs.stopping:
                return
            with compiled_once():
                try:
                    importlib.import_module(name)
                except Exception:  # a broken install shows itself again where it is used
                    logger.exception("deferred import of %s failed", name)
            await asyncio.sleep(0)
        save_compiled()
        logger.debug("%s in %.0f ms", DEFERRED_IMPORTED, (time.monotonic() - began) * 1000)

    # --- settings ----------------------------------------------------------------------------

    async def configure(self, folders: Sequence[FolderState], pushed: Any = None) -> bool:
        """Give folders their settings: pyproject, then initializationOptions, then the editor's.

        ``pushed`` is what a ``didChangeConfiguration`` carried, used when the
        client cannot be asked (``workspace/configuration``). Returns whether
        the client was asked and answered.
        """
        sections: Sequence[Any] = [pushed] * len(folders)
        answered = False
        if self.client_support.configuration and folders:
            items = [{"scopeUri": f.uri, "section": "ark"} for f in folders]
            asked_before = self.handover.settings_answered(items) if self.handover else None
            try:
                # The start's prelude may have asked already (see ark_lsp.server.prelude).
                sections = asked_before or await self.workspace_configuration_async(
                    types.ConfigurationParams(
                        items=[
                            types.ConfigurationItem(scope_uri=f.uri, section="ark") for f in folders
                        ]
                    )
                )
                answered = True
            except Exception as error:  # a client that fails here still gets a working server
                logger.warning("workspace/configuration failed: %s", error)
        problems = configure_folders(
            folders, self.initialization_options, sections, self.editor_trust
        )
        for found in problems:
            self.report_problems(found)
        loose = settings_from_mapping(self.initialization_options, where="initializationOptions")
        # Files outside every folder: the editor's settings only, and never a database.
        self.folders.loose.project = Project(self.folders.loose.root, loose)
        return answered

    def settings_applied(self) -> None:
        """New settings: what the features show is brought up to date."""
        self.documents.invalidate()
        self.features.settings_changed()

    def report_problems(self, problems: Sequence[str], prefix: str = "ARK settings") -> None:
        """Warn of problems the user has not been shown yet."""
        fresh = [p for p in problems if p not in self.reported_problems]
        self.reported_problems.update(fresh)
        if fresh:
            self.warn(f"{prefix}: " + "; ".join(fresh))

    # --- telling the user --------------------------------------------------------------------

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
        backends = {self.runners.backend_of(p) for p in self.folders.all()} or {"auto"}
        self.protocol.notify(
            STATUS_NOTIFICATION, {"folders": folders, "sandboxBackend": ", ".join(sorted(backends))}
        )

    # --- transports --------------------------------------------------------------------------

    def start_io(
        self,
        stdin: BinaryIO | None = None,
        stdout: BinaryIO | None = None,
        handover: Handover | None = None,
    ) -> None:
        """Serve over stdin and stdout (ARK's reader, see ``framing``) until exit or the end.

        With ``handover``, the server goes on from what the start's prelude
        read and sent (see :mod:`~ark_lsp.server.prelude`).
        """
        stream = stdin or sys.stdin.buffer
        # read1 returns what one read of the pipe gives, instead of waiting for a full chunk.
        read_chunk: Callable[[int], bytes] = getattr(stream, "read1", stream.read)
        reader = ThreadedReader(lambda: read_chunk(READ_CHUNK_BYTES))
        self._stop_event = stop = threading.Event()
        writer = StdoutWriter(stdout or sys.stdout.buffer)
        self.handover = handover
        self.protocol.set_writer(HandoverWriter(writer, handover) if handover else writer)
        framer, replay = (handover.framer, handover.take_replay()) if handover else (None, [])
        try:
            asyncio.run(
                serve_stream(reader.read, self.protocol, stop, framer=framer, replay=replay)
            )
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


def _interpreter_started() -> float:
    """When this process started, on the monotonic clock (now, if that cannot be told)."""
    try:
        with open("/proc/self/stat", "rb") as stat:
            ticks = int(stat.read().rpartition(b")")[2].split()[19])
        with open("/proc/uptime", "rb") as uptime:
            since_boot = float(uptime.read().split()[0])
        age = since_boot - ticks / os.sysconf("SC_CLK_TCK")
        return time.monotonic() - max(age, 0.0)
    except (OSError, ValueError, IndexError):
        return time.monotonic()


_INTERPRETER_STARTED = _interpreter_started()


def imported_packages() -> list[str]:
    """The packages imported so far: top-level names, and ARK's own modules each by name."""
    names = set()
    for name in list(sys.modules):
        names.add(name if name.startswith("ark_lsp.") else name.partition(".")[0])
    return sorted(names)
