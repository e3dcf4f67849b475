"""The language server over stdio, driven by pytest-lsp as a real client.

These cover what exists of the server so far: start-up through
``python -m ark_lsp``, and diagnostics following a document through open,
change and close, in each client's position encoding.
"""

from __future__ import annotations

import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

URI = "file:///workspace/pkg/mod.py"

# ")" is the 15th code point; "𝄞" takes two UTF-16 units and four UTF-8 bytes, "é" two bytes.
BROKEN = 'x = "𝄞é"; y = )\n'
EXPECTED_COLUMN = {"utf-16": 15, "utf-8": 18, "utf-32": 14}


@pytest_lsp.fixture(
    params=["visual-studio-code", "neovim"],
    config=ClientServerConfig(server_command=[sys.executable, "-m", "ark_lsp", "--stdio"]),
)
async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri="file:///workspace",
        )
    )
    yield
    await lsp_client.shutdown_session()


def position_encoding(client: LanguageClient) -> str:
    # Before LSP 3.17 there was no choice: UTF-16.
    assert client.capabilities is not None
    general = client.capabilities.general
    offered = (general.position_encodings if general else None) or ["utf-16"]
    return str(offered[0])


async def open_document(client: LanguageClient, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=URI, language_id="python", version=version, text=text
            )
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)


@pytest.mark.asyncio
async def test_syntax_error_is_published_in_the_clients_encoding(client: LanguageClient) -> None:
    await open_document(client, BROKEN)
    (diagnostic,) = client.diagnostics[URI]
    assert diagnostic.code == "ARK000"
    assert diagnostic.source == "ark"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert "unmatched ')'" in diagnostic.message
    assert diagnostic.range.start == types.Position(
        line=0, character=EXPECTED_COLUMN[position_encoding(client)]
    )


@pytest.mark.asyncio
async def test_fixing_the_file_clears_and_closing_empties(client: LanguageClient) -> None:
    await open_document(client, BROKEN)
    assert client.diagnostics[URI]

    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text='x = "ok"\n')],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[URI]) == []

    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="def (:\n")],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert [d.code for d in client.diagnostics[URI]] == ["ARK000"]

    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=URI))
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[URI]) == []


@pytest.mark.asyncio
async def test_binary_garbage_does_not_kill_the_server(client: LanguageClient) -> None:
    await open_document(client, "\x00\x01\ufffd" * 1000)
    assert [d.code for d in client.diagnostics[URI]] == ["ARK000"]
    await open_document(client, 'print("still serving")\n', version=2)
    assert list(client.diagnostics[URI]) == []
