"""One started language server, driven by a pygls client as VS Code drives it.

``start`` spawns and initializes it, ``open_document`` opens the edited
file, the :class:`Session` records when each diagnostics publish came,
``stop`` shuts it down as an editor does, and ``tree_memory_mb`` reads the
memory of its whole process tree.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import CHILD_ENV, progress_to_stderr
from editor_latency import answer_server_requests
from lsprotocol import types
from peer_servers import Server
from process_tree import live_pids
from pygls.lsp.client import LanguageClient
from pygls.protocol import JsonRPCResponseMessage, default_converter
from pytest_lsp import client_capabilities

FIRST_PUBLISH_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0

progress = progress_to_stderr("peer_latency")


class ServerError(Exception):
    """A server did not start or answer as the scenario needs (one-line message)."""


@dataclass
class Session:
    """A started server and the diagnostics it published, per document."""

    server: Server
    client: LanguageClient
    started: float
    initialized_at: float | None = None
    publishes: dict[str, list[tuple[float, int | None]]] = field(default_factory=dict)
    index_ready: bool = False
    stderr_tail: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def pid(self) -> int:
        process = self.client._server  # the subprocess pygls started
        assert process is not None
        return int(process.pid)

    def seen(self, uri: str) -> int:
        return len(self.publishes.get(uri, ()))

    async def publish_after(
        self, uri: str, count: int, version: int | None, timeout: float
    ) -> float | None:
        """When the first publish for ``uri`` after the ``count`` seen came; None on timeout.

        Where the server tags its publishes with the document's version, only
        one for ``version`` counts, so a late publish of an earlier edit is
        never taken for this one's.
        """
        deadline = time.perf_counter() + timeout
        while True:
            for at, published in self.publishes.get(uri, [])[count:]:
                if version is None or published is None or published == version:
                    return at
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return None
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                return None

    async def until_index_ready(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while not self.index_ready:
            self.changed.clear()
            remaining = deadline - time.perf_counter()
            try:
                await asyncio.wait_for(self.changed.wait(), max(remaining, 0))
            except TimeoutError:
                raise ServerError(f"{self.server.name}: no index within {timeout:.0f} s") from None


def _converter() -> Any:
    """lsprotocol's converter, leaving the ``initialize`` result as the JSON it came in.

    ruff's server declares notebook filters that lsprotocol 2025.0.0 cannot
    structure; the benchmark reads nothing of any server's capabilities.
    """
    converter = default_converter()

    def raw_response(data: dict[str, Any], _: Any) -> JsonRPCResponseMessage:
        return JsonRPCResponseMessage(
            id=data["id"], jsonrpc=data["jsonrpc"], result=data.get("result")
        )

    converter.register_structure_hook(types.InitializeResponse, raw_response)
    return converter


async def _drain_stderr(session: Session) -> None:
    process = session.client._server
    assert process is not None and process.stderr is not None
    while line := await process.stderr.readline():
        session.stderr_tail = [*session.stderr_tail[-19:], line.decode(errors="replace")]


async def start(server: Server, root: Path) -> Session:
    """Start ``server`` on ``root``: spawned, initialized; nothing opened yet."""
    client = LanguageClient("ark-peer-benchmark", "1", converter_factory=_converter)
    session = Session(server, client, time.perf_counter())
    answer_server_requests(client)

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        session.publishes.setdefault(params.uri, []).append((time.perf_counter(), params.version))
        session.changed.set()

    @client.feature("ark/status")
    def on_status(params: Any) -> None:
        if all(folder.state == "ready" for folder in params.folders):
            session.index_ready = True
            session.changed.set()

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def on_log(params: types.LogMessageParams) -> None:
        return None

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def on_message(params: types.ShowMessageParams) -> None:
        return None

    # Bytecode cached, as when installed: a machine that sets PYTHONDONTWRITEBYTECODE would
    # have a Python server compile its own modules at every start.
    env = {**CHILD_ENV, **server.env}
    session.started = time.perf_counter()
    await client.start_io(*server.command, env=env, cwd=str(server.cwd))
    # pygls pipes the server's stderr and never reads it: a chatty server would block on
    # a full pipe. Read it, keeping the last lines for an error message.
    client._async_tasks.append(asyncio.create_task(_drain_stderr(session)))
    initialize = client.initialize_async(
        types.InitializeParams(
            process_id=os.getpid(),
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options=server.options,
        )
    )
    try:
        await asyncio.wait_for(initialize, FIRST_PUBLISH_TIMEOUT_S)
    except TimeoutError:
        raise ServerError(f"{server.name} did not answer initialize") from None
    session.initialized_at = time.perf_counter()
    client.initialized(types.InitializedParams())
    return session


def open_document(session: Session, uri: str, text: str) -> None:
    session.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )


async def stop(session: Session) -> float | None:
    """Shut the server down as an editor does; kill it if it does not exit.

    Returns the milliseconds from ``shutdown`` to the process's end, or None
    if it had to be killed.
    """
    client, process = session.client, session.client._server
    assert process is not None
    began, ended = time.perf_counter(), None
    try:
        await asyncio.wait_for(client.shutdown_async(None), STOP_TIMEOUT_S)
        client.exit(None)
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        ended = (time.perf_counter() - began) * 1000
    except (TimeoutError, RuntimeError):  # RuntimeError: pygls saw the process end first
        if process.returncode is None:
            progress(f"{session.server.name} did not exit when asked: killed")
            process.kill()
    try:
        await asyncio.wait_for(client.stop(), STOP_TIMEOUT_S)
    except TimeoutError:
        raise ServerError(f"{session.server.name}: its streams did not close") from None
    return ended


def tree_memory_mb(pid: int) -> dict[str, float]:
    """Resident set (and proportional set) of the whole tree under ``pid``, in MB.

    The resident sets add pages shared between the processes once per
    process; the proportional sets share them out, so their sum counts each
    page once.
    """
    rss = pss = 0.0
    processes = 0
    for member in live_pids(pid):
        try:
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                key, _, rest = line.partition(":")
                if key == "Rss":
                    rss += int(rest.split()[0]) / 1024
                elif key == "Pss":
                    pss += int(rest.split()[0]) / 1024
            processes += 1
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
    return {"rss": round(rss, 1), "pss": round(pss, 1), "processes": processes}
