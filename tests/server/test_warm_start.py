"""A warm workspace's start: its index refresh waits only for first diagnostics that are coming.

An editor sends the didOpen of the files it shows along with ``initialized``,
before it answers the server's ``workspace/configuration``. With a file
opened, its first diagnostics go out before the index refresh starts (the
refresh's walk would share the interpreter with them). With none, the
refresh starts once the settings are in, not after a fixed wait, and what
the features import in the background waits for it to end. What the server
asks of the editor at start (file watchers, a redraw of the code lenses)
follows the first diagnostics too, and is asked at once when none are coming. Each test
starts the real server over stdio on a workspace the CLI indexed before,
records what the editor sees in order, and reads the server's debug log
for why the refresh started.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pytest_lsp import client_capabilities
from support.lsp import SERVER, indexed_workspace

from ark_lsp.server.core import DEFERRED_IMPORTED, DEFERRED_IMPORTING, NOTHING_OPENED_AT_START

WATCHED = types.WORKSPACE_DID_CHANGE_WATCHED_FILES

READY_SENT = "'ark/status' {'folders': [{'root'"
"""How pygls's debug line of a status notification starts."""


class Editor:
    """A client that records, in order, what the server sends it during a start."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.events: list[str] = []
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.client = client = LanguageClient("warm-start", "1")

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            codes = ",".join(sorted(str(d.code) for d in params.diagnostics))
            self.events.append(f"diagnostics {Path(params.uri).name} {codes}")

        @client.feature("ark/status")
        def status(params: Any) -> None:
            (folder,) = params.folders
            self.events.append(f"status {folder.state}")
            if folder.state == "ready" and not self.ready.done():
                self.ready.set_result(None)

        @client.feature(types.WORKSPACE_CONFIGURATION)
        def configuration(params: types.ConfigurationParams) -> list[None]:
            self.events.append("configuration answered")
            return [None for _ in params.items]

        @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def progress_create(params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def register(params: types.RegistrationParams) -> None:
            methods = ",".join(r.method for r in params.registrations)
            self.events.append(f"registered {methods}")

        @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
        def lens_refresh(params: None) -> None:
            self.events.append("code lenses refreshed")

    async def start(self, log: Path, capabilities: types.ClientCapabilities) -> None:
        """Spawn the server and initialize it, as far as ``initialized`` (not sent)."""
        await self.client.start_io(
            *SERVER, "--log-file", str(log), "--log-level", "debug", cwd=self.workspace
        )
        uri = self.workspace.as_uri()
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=capabilities,
                root_uri=uri,
                workspace_folders=[types.WorkspaceFolder(uri=uri, name=self.workspace.name)],
                initialization_options={"workspaceTrusted": True},
            )
        )

    async def start_until_ready(
        self, log: Path, capabilities: types.ClientCapabilities, *opened: str
    ) -> None:
        """Start, send ``initialized`` (``opened`` open in the same burst), stop once ready."""
        await self.start(log, capabilities)
        try:
            self.client.initialized(types.InitializedParams())
            for name in opened:
                self.open(name)
            await asyncio.wait_for(self.ready, timeout=60)
        finally:
            await self.stop(log)

    def open(self, name: str) -> None:
        path = self.workspace / name
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=path.as_uri(), language_id="python", version=1, text=path.read_text()
                )
            )
        )

    async def stop(self, log: Path) -> None:
        """Shut the server down once its background imports ended (or failed: logged)."""
        try:
            for _ in range(600):
                if DEFERRED_IMPORTED in log.read_text():
                    break
                await asyncio.sleep(0.05)
            await self.client.shutdown_async(None)
            self.client.exit(None)
        finally:
            await self.client.stop()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A folder the CLI indexed, as after the last session: the server's refresh is warm."""
    return indexed_workspace(tmp_path / "sample")


def vs_code() -> types.ClientCapabilities:
    return client_capabilities("visual-studio-code")


@pytest.mark.asyncio
async def test_a_start_with_no_document_open_refreshes_the_index_once_settings_are_in(
    workspace: Path, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    editor = Editor(workspace)
    await editor.start_until_ready(log, vs_code())

    shown = [event for event in editor.events if not event.startswith("status")]
    # Nothing to wait for: the watchers are registered, and the lenses redrawn, at once.
    assert shown[:3] == [
        "configuration answered",
        "code lenses refreshed",
        f"registered {WATCHED}",
    ]
    statuses = [event for event in editor.events if event.startswith("status")]
    assert statuses[:2] == ["status indexing", "status ready"]
    text = log.read_text()
    # Started because nothing was opened, not by the fixed wait for first diagnostics.
    assert NOTHING_OPENED_AT_START in text
    # The features' background imports waited for the refresh to end.
    last_status = text.rindex(READY_SENT)
    assert "'state': 'ready'" in text[last_status : text.index("\n", last_status)]
    assert text.index(DEFERRED_IMPORTING) > last_status
    assert "deferred import of" not in text  # none failed


@pytest.mark.asyncio
async def test_a_document_opened_at_start_gets_its_diagnostics_before_the_refresh(
    workspace: Path, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    editor = Editor(workspace)
    # Opened in the same burst as initialized, as an editor reopening its files does.
    await editor.start_until_ready(log, vs_code(), "unsafe.py")

    requests = ["code lenses refreshed", f"registered {WATCHED}"]
    shown = [event for event in editor.events if event not in requests]
    assert shown[:4] == [
        "configuration answered",
        "diagnostics unsafe.py ARK001,ARK004",
        "status indexing",
        "status ready",
    ]
    # What the server asks of the editor at start follows the first diagnostics.
    first_diagnostics = editor.events.index("diagnostics unsafe.py ARK001,ARK004")
    assert all(editor.events.index(request) > first_diagnostics for request in requests)
    assert NOTHING_OPENED_AT_START not in log.read_text()


@pytest.mark.asyncio
async def test_a_client_that_cannot_be_asked_for_settings_still_gets_its_index_refreshed(
    workspace: Path, tmp_path: Path
) -> None:
    # Without workspace/configuration nothing tells when the editor's burst was read:
    # the refresh waits for first diagnostics that may come, as long as it ever did.
    log = tmp_path / "server.log"
    editor = Editor(workspace)
    await editor.start_until_ready(log, types.ClientCapabilities())

    assert editor.events[:2] == ["status indexing", "status ready"]
    assert NOTHING_OPENED_AT_START not in log.read_text()
