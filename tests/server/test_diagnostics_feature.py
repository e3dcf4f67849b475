"""Diagnostics of the analysis, pushed or pulled, in the client's position encoding.

Every test runs under VS Code's and Neovim 0.11's client capabilities. The
two differ where it matters: VS Code's preset takes pushed diagnostics and
UTF-16 positions; Neovim 0.11 pulls diagnostics and speaks UTF-8.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from support.lsp import (
    BROKEN,
    EXPECTED_COLUMN,
    change_file,
    mark,
    open_file,
    position_encoding,
    published,
    pulls,
)


@pytest.mark.asyncio
async def test_syntax_error_is_reported_in_the_clients_encoding(
    client: LanguageClient, workspace: Path
) -> None:
    (diagnostic,) = await open_file(client, workspace / "broken.py", BROKEN)
    assert diagnostic.code == "ARK000"
    assert diagnostic.source == "ark"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert "unmatched ')'" in diagnostic.message
    assert diagnostic.range.start == types.Position(
        line=0, character=EXPECTED_COLUMN[position_encoding(client)]
    )


@pytest.mark.asyncio
async def test_diagnostics_follow_the_text_and_closing_clears_them(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "pkg" / "mod.py"
    assert [d.code for d in await open_file(client, path, BROKEN)] == ["ARK000"]
    assert await change_file(client, path, 'x = "ok"\n', 2) == []
    assert [d.code for d in await change_file(client, path, "eval(x)\n", 3)] == ["ARK001"]
    before = mark(client)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri())
        )
    )
    if not pulls(client):
        assert await published(client, path.as_uri(), None, before) == []


@pytest.mark.asyncio
async def test_a_burst_of_edits_ends_with_the_diagnostics_of_the_last_text(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "typing.py"
    await open_file(client, path, "")
    before = mark(client)
    text = ""
    for version in range(2, 302):
        text += "x = 1\n" if version % 50 else "eval(x)\n"
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=path.as_uri(), version=version
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
    final = await change_file(client, path, text + "exec(y)\n", 302)
    assert [d.code for d in final] == ["ARK001"] * 6 + ["ARK002"]
    seen_versions = [p.version for p in client.published[before:] if p.uri == path.as_uri()]  # type: ignore[attr-defined]
    if not pulls(client):
        assert seen_versions == sorted(seen_versions), "an older result was published later"
        assert seen_versions[-1] == 302
        assert len(seen_versions) < 100, "the burst was not coalesced"
