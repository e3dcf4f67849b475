"""Document symbols from the report, workspace symbols from the index.

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
    open_file,
    reindex,
)


@pytest.mark.asyncio
async def test_document_symbols_are_nested(client: LanguageClient, workspace: Path) -> None:
    path = workspace / "pkg" / "parser.py"
    await open_file(client, path)
    found = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()))
    )
    assert found is not None
    outline = {
        s.name: [c.name for c in s.children or []]
        for s in found
        if isinstance(s, types.DocumentSymbol)
    }
    assert outline == {"parse_config": [], "Loader": ["load", "reload"]}


@pytest.mark.asyncio
async def test_workspace_symbols_come_from_the_index(
    client: LanguageClient, workspace: Path
) -> None:
    await reindex(client)
    found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="parse conf"))
    assert found is not None
    (symbol,) = found
    assert symbol.name == "parse_config"
    assert isinstance(symbol.location, types.Location)
    assert symbol.location.uri == (workspace / "pkg" / "parser.py").as_uri()
    assert symbol.location.range.start.line == 3
