"""Fixtures shared by the language-server tests: a sample workspace and started clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsp_session import PRESETS, SERVER, start, write_workspace
from pytest_lsp import ClientServerConfig, LanguageClient


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "sample"
    write_workspace(root)
    return root


@pytest_lsp.fixture(params=PRESETS, config=ClientServerConfig(server_command=SERVER))
async def client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, workspace: Path
) -> AsyncIterator[None]:
    await start(lsp_client, request.param, [workspace])
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def bare_client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    """A client the test initializes itself, with options of its own."""
    yield
    if not lsp_client.stopped:
        await lsp_client.shutdown_session()
