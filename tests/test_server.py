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


UNSAFE = "import os\n\nsettings = eval(\"{'debug': True}\")\nos.system(user_command)\n"


def apply(text: str, edits) -> str:  # type: ignore[no-untyped-def]
    """Apply LSP edits whose ranges are on ASCII lines (so every encoding agrees)."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)

    def at(position: types.Position) -> int:
        return min(offsets[min(position.line, len(lines))] + position.character, len(text))

    for edit in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        text = text[: at(edit.range.start)] + edit.new_text + text[at(edit.range.end) :]
    return text


async def code_actions(client: LanguageClient, only=None):  # type: ignore[no-untyped-def]
    return await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            range=types.Range(
                start=types.Position(line=0, character=0), end=types.Position(line=4, character=0)
            ),
            context=types.CodeActionContext(diagnostics=client.diagnostics[URI], only=only),
        )
    )


@pytest.mark.asyncio
async def test_diagnostics_link_their_rule_and_quick_fixes_apply(client: LanguageClient) -> None:
    await open_document(client, UNSAFE)
    by_code = {d.code: d for d in client.diagnostics[URI]}
    assert set(by_code) == {"ARK001", "ARK004"}
    assert by_code["ARK001"].code_description.href.endswith("/ARK001")

    actions = await code_actions(client, only=[types.CodeActionKind.QuickFix])
    titles = [a.title for a in actions]
    assert titles == [
        "Replace eval() with ast.literal_eval()",
        "Suppress ARK001 on this line",
        "Suppress ARK004 on this line",
    ]
    preferred = actions[0]
    assert preferred.is_preferred and preferred.kind == types.CodeActionKind.QuickFix
    fixed = apply(UNSAFE, preferred.edit.changes[URI])
    assert fixed == (
        "import ast\nimport os\n\nsettings = ast.literal_eval(\"{'debug': True}\")\n"
        "os.system(user_command)\n"
    )
    suppressed = apply(UNSAFE, actions[2].edit.changes[URI])
    assert suppressed.splitlines()[3] == "os.system(user_command)  # ark: ignore[ARK004]"


@pytest.mark.asyncio
async def test_fix_all_offers_every_safe_fix_at_once(client: LanguageClient) -> None:
    await open_document(client, UNSAFE.replace("user_command", '"make clean"'))
    (action,) = await code_actions(client, only=["source.fixAll.ark"])
    assert action.kind == "source.fixAll.ark"
    assert action.title == "Fix all safely fixable ARK problems (2)"
    (edit,) = action.edit.changes[URI]
    assert edit.new_text == (
        "import ast\nimport subprocess\nimport os\n\n"
        "settings = ast.literal_eval(\"{'debug': True}\")\n"
        'subprocess.run(["make", "clean"], check=False)\n'
    )
