"""``initialize`` structures what the start reads of an editor's capabilities, the rest later."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.capabilities import ServerCapabilitiesBuilder
from support.lsp import SERVER

from ark_lsp.server import create_server
from ark_lsp.server.client_support import ClientSupport
from ark_lsp.server.protocol import strict_converter
from ark_lsp.server.start_capabilities import (
    DECIDING_MODULES,
    READ_AT_START,
    ReadAtStart,
    SeenValid,
    structure_read_at_start,
)

CLIENTS = sorted(
    entry.name
    for entry in resources.files("pytest_lsp.clients").iterdir()
    if entry.name.endswith(".json")
)
"""Every real editor's capabilities pytest-lsp ships."""


def capabilities_of(client: str) -> dict[str, Any]:
    text = resources.files("pytest_lsp.clients").joinpath(client).read_text()
    found: dict[str, Any] = json.loads(text)["capabilities"]
    return found


def read_paths(read: ReadAtStart, above: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, below in read.items():
        path = (*above, name)
        paths += [path] if below is None else read_paths(below, path)
    return paths


def at(capabilities: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        capabilities = getattr(capabilities, name, None)
    return capabilities


def server_capabilities(capabilities: types.ClientCapabilities) -> types.ServerCapabilities:
    """What pygls answers ``initialize`` with for ARK's features, as ``lsp_initialize`` does."""
    server = create_server()
    manager = server.protocol.fm
    encoding = ServerCapabilitiesBuilder.choose_position_encoding(capabilities)
    return ServerCapabilitiesBuilder(
        capabilities,
        set({**manager.features, **manager.builtin_features}),
        manager.feature_options,
        list(manager.commands),
        server._text_document_sync_kind,
        server._notebook_document_sync,
        encoding,
    ).build()


@pytest.mark.parametrize("client", CLIENTS)
def test_the_start_reads_the_same_of_the_cut_capabilities_as_of_the_whole(client: str) -> None:
    raw = capabilities_of(client)
    converter = strict_converter()
    whole = converter.structure(raw, types.ClientCapabilities)
    cut = structure_read_at_start(converter, raw)
    for path in read_paths(READ_AT_START):
        assert at(cut, path) == at(whole, path), path
    assert ClientSupport.of(cut) == ClientSupport.of(whole)
    assert server_capabilities(cut) == server_capabilities(whole)


class Written:
    """What the server writes, as messages."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        pass

    def messages(self) -> list[dict[str, Any]]:
        found = []
        for part in self.data.split(b"Content-Length: ")[1:]:
            found.append(json.loads(part.split(b"\r\n\r\n", 1)[1]))
        return found


async def initialize_in_process(capabilities: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """A server given ``initialize`` with ``capabilities``: the server and its answer."""
    server = create_server()
    written = Written()
    server.protocol.set_writer(written)
    params = {"processId": None, "rootUri": None, "capabilities": capabilities}
    request = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    server.protocol.receive(json.dumps(request).encode())
    for _ in range(100):
        if written.messages():
            break
        await asyncio.sleep(0.01)
    [answer] = written.messages()
    return server, answer


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ARK's user cache, empty: no capabilities were seen before."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.asyncio
@pytest.mark.parametrize("client", ["visual_studio_code_v1.65.2.json", "neovim_v0.10.0.json"])
async def test_a_later_start_answers_the_same_and_reads_the_whole_capabilities(
    client: str, fresh_cache: Path
) -> None:
    raw = capabilities_of(client)
    whole = strict_converter().structure(raw, types.ClientCapabilities)
    first, first_answer = await initialize_in_process(raw)  # structured whole: now known valid
    later, later_answer = await initialize_in_process(raw)  # structured cut
    assert "result" in later_answer
    assert later_answer == first_answer
    assert later.client_support == first.client_support == ClientSupport.of(whole)
    assert (fresh_cache / "ark" / "lsprotocol" / "valid-client-capabilities").is_file()
    # The later start was given them cut down; read, they are whole.
    assert later.protocol.__dict__["_client_capabilities"] != whole
    assert later.protocol.client_capabilities == whole
    assert later.client_capabilities is later.protocol.client_capabilities
    assert first.client_capabilities == whole


@pytest.mark.asyncio
async def test_capabilities_that_do_not_fit_are_refused_every_time(fresh_cache: Path) -> None:
    raw = capabilities_of("visual_studio_code_v1.65.2.json")
    completion = raw["textDocument"]["completion"]
    wrong = {**raw, "textDocument": {**raw["textDocument"], "completion": {**completion}}}
    wrong["textDocument"]["completion"]["contextSupport"] = "yes"
    await initialize_in_process(raw)
    for _ in range(2):
        _, answer = await initialize_in_process(wrong)
        assert answer["error"]["code"] == types.ErrorCodes.InvalidParams, answer
        assert "context_support" in answer["error"]["message"]


def test_a_server_started_twice_with_vs_codes_capabilities_answers_alike(tmp_path: Path) -> None:
    """Over stdio, as an editor starts it: the first start and a later one answer the same."""
    raw = capabilities_of("visual_studio_code_v1.65.2.json")
    request = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": raw},
    }
    exit_ = {"jsonrpc": "2.0", "method": "exit"}
    stream = b"".join(
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        for body in (json.dumps(request).encode(), json.dumps(exit_).encode())
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    answers = [
        subprocess.run(
            SERVER, input=stream, capture_output=True, env=env, timeout=60, check=False
        ).stdout
        for _ in range(2)
    ]
    assert b'"serverInfo"' in answers[0]
    assert answers[1] == answers[0]


@pytest.mark.asyncio
async def test_a_cut_that_fails_reads_the_capabilities_whole(
    fresh_cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A field the client sends that this lsprotocol has not got (a newer LSP's).
    raw = {**capabilities_of("visual_studio_code_v1.65.2.json"), "noSuchField": True}
    whole = strict_converter().structure(raw, types.ClientCapabilities)
    await initialize_in_process(raw)
    # A cut naming it fails: the client is not at fault.
    monkeypatch.setattr("ark_lsp.server.start_capabilities.READ_AT_START", {"no_such_field": None})
    server, answer = await initialize_in_process(raw)
    assert "result" in answer
    assert "could not be cut" in caplog.text
    assert server.protocol.__dict__["_client_capabilities"] == whole


def test_a_change_to_arks_converter_or_cattrs_forgets_what_was_seen_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capabilities = capabilities_of(CLIENTS[0])
    before = SeenValid.digest(capabilities)
    assert SeenValid.digest(capabilities) == before  # the same files: the same record
    for name in DECIDING_MODULES:
        edited = tmp_path / f"{name}.py"
        edited.write_text("# another build\n")
        with monkeypatch.context() as patch:
            patch.setattr(sys.modules[name], "__file__", str(edited))
            assert SeenValid.digest(capabilities) != before, name
