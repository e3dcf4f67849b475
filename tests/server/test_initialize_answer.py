"""ARK answers ``initialize`` as pygls would, without making lsprotocol's ``ServerCapabilities``."""

from __future__ import annotations

import gc
import json
import logging
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.capabilities import ServerCapabilitiesBuilder
from support.fresh_python import printed_by

from ark_lsp.server import ArkServer, create_server, initialize_answer, protocol

CLIENTS = sorted(
    entry.name
    for entry in resources.files("pytest_lsp.clients").iterdir()
    if entry.name.endswith(".json")
)
"""Every real editor's capabilities pytest-lsp ships."""


def initialize_params(client: str, root: Path) -> types.InitializeParams:
    text = resources.files("pytest_lsp.clients").joinpath(client).read_text()
    raw: dict[str, Any] = json.loads(text)["capabilities"]
    return types.InitializeParams(
        capabilities=create_server().protocol._converter.structure(raw, types.ClientCapabilities),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="w")],
    )


def pygls_answer(server: ArkServer, params: types.InitializeParams) -> Any:
    """What pygls's own lsp_initialize answers for ``server``'s features."""
    manager = server.protocol.fm
    capabilities = ServerCapabilitiesBuilder(
        params.capabilities,
        set({**manager.features, **manager.builtin_features}),
        manager.feature_options,
        list(manager.commands),
        server._text_document_sync_kind,
        server._notebook_document_sync,
        ServerCapabilitiesBuilder.choose_position_encoding(params.capabilities),
    ).build()
    result = types.InitializeResult(
        capabilities=capabilities, server_info=server.protocol.server_info
    )
    return server.protocol._converter.unstructure(result), capabilities


def answer(server: ArkServer, params: types.InitializeParams) -> Any:
    """Run ARK's lsp_initialize as pygls runs a generator handler."""
    steps = server.protocol.lsp_initialize(params)
    sent = None
    try:
        while True:
            handler, arguments, _ = steps.send(sent)
            sent = handler(*arguments)
    except StopIteration as stop:
        return stop.value


@pytest.mark.asyncio
@pytest.mark.parametrize("pinned", [True, False], ids=["pinned-versions", "other-versions"])
@pytest.mark.parametrize("client", CLIENTS)
async def test_the_answer_is_pygls_answer(
    client: str, pinned: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With other versions of pygls and lsprotocol than checked, pygls answers itself."""
    monkeypatch.setattr(protocol, "pinned_versions", lambda: pinned)
    params = initialize_params(client, tmp_path)
    server = create_server()
    expected, capabilities = pygls_answer(create_server(), params)

    answered = answer(server, params)

    assert isinstance(answered, dict) is pinned  # JSON made directly, or pygls's classes
    assert json.loads(json.dumps(server.protocol._converter.unstructure(answered))) == expected
    assert server.server_capabilities == capabilities  # made when read


MADE_BY_INITIALIZE = """
import asyncio, json
import ark_lsp.cli.launch as launch
launch.starting_the_server = True
import ark_lsp.server
from ark_lsp.server import lazy_protocol
server = ark_lsp.server.create_server()
sent = []
server.protocol._send_data = sent.append
message = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}

async def initialize():
    server.protocol.receive(json.dumps(message).encode())  # as the stream reader hands it
    while not sent:
        await asyncio.sleep(0.01)

asyncio.run(initialize())
print(json.dumps([server.protocol._converter.unstructure(sent[0]), lazy_protocol.installed.made]))
"""


def test_initialize_makes_no_server_capabilities_class() -> None:
    printed = printed_by(MADE_BY_INITIALIZE)
    response, made = json.loads(printed)
    assert response["result"]["capabilities"]["hoverProvider"] is True
    assert "ServerCapabilities" not in made and "InitializeResult" not in made
    # Nor the options the builder makes itself (defaults of features ARK has not, mostly).
    assert set(made) & initialize_answer.ANSWERED_AS_JSON == set()


@pytest.mark.asyncio
async def test_the_debug_log_shows_the_capabilities_pygls_shows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """pygls's debug line of the capabilities: written only at debug level, as pygls writes it."""
    params = initialize_params("visual_studio_code_v1.65.2.json", tmp_path)
    expected, _ = pygls_answer(create_server(), params)
    with caplog.at_level(logging.DEBUG, logger="pygls.protocol.language_server"):
        answer(create_server(), params)
    (shown,) = [
        record.getMessage().removeprefix("Server capabilities: ")
        for record in caplog.records
        if record.getMessage().startswith("Server capabilities: ")
    ]
    assert json.loads(shown) == expected["capabilities"]


@pytest.mark.asyncio
async def test_answering_initialize_switches_the_cyclic_collector_back_on(tmp_path: Path) -> None:
    """``ark-lsp`` starts with it off (cli/launch.py); a server left without it would leak."""
    params = initialize_params(CLIENTS[0], tmp_path)
    server = create_server()
    gc.disable()
    try:
        answer(server, params)
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
