"""Complexity code lenses over functions above the threshold.

Every test runs under VS Code's and Neovim 0.11's client capabilities. The
two differ where it matters: VS Code's preset takes pushed diagnostics and
UTF-16 positions; Neovim 0.11 pulls diagnostics and speaks UTF-8.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from support.lsp import (
    PRESETS,
    SERVER,
    open_file,
    start,
)


@pytest_lsp.fixture(params=PRESETS, config=ClientServerConfig(server_command=SERVER))
async def lens_client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, workspace: Path
) -> AsyncIterator[None]:
    await start(lsp_client, request.param, [workspace], {"codeLensThreshold": 4})
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_code_lens_marks_functions_over_the_threshold(
    lens_client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "pkg" / "parser.py"
    await open_file(lens_client, path)
    lenses = await lens_client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()))
    )
    assert lenses is not None
    assert [
        (lens.range.start.line, lens.command.title if lens.command else None) for lens in lenses
    ] == [(3, "complexity 5 (A)")]
