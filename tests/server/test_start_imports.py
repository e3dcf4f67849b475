"""What the server imports before its first diagnostics: only what they need.

Editors start a server for every window and wait for its diagnostics, so
the generators (jinja2), the sandbox (docker), jedi, click, the
sqlite-utils write paths, hover's resolvers, platformdirs and tempfile are
imported on first use, or in the background once the first diagnostics are
out. The server says what it had imported
by then in its debug log; that line is read here from a real start on a
warm workspace (a new database is made with sqlite-utils' help, once).
"""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from support.lsp import SERVER, UNSAFE, ark_index

from ark_lsp.server.app import FEATURES
from ark_lsp.server.core import DEFERRED_IMPORTED, LOADED_AT_FIRST_DIAGNOSTICS

NOT_BEFORE_FIRST_DIAGNOSTICS = {
    "jedi",
    "jinja2",
    "docker",
    "click",
    "sqlite_utils",
    "ark_lsp.generate",
    "ark_lsp.sandbox",
    "ark_lsp.gate",
    # What resolves a hover's call site: the first hover, or the warm-up, imports it.
    "sysconfig",
    "ark_lsp.analysis.references",
    "ark_lsp.workflows.definitions",
    "ark_lsp.workflows.jedi_definitions",
    "ark_lsp.workflows.library_modules",
    # The user folders are found without platformdirs, which imports tempfile and shutil;
    # files are written (with tempfile) after the start.
    "platformdirs",
    "tempfile",
    "shutil",
    # No settings file to parse in this workspace; no wrong key or rule id to suggest for.
    "tomllib",
    "difflib",
    # Gitignore-style patterns: compiled for a file only a pattern's words say may match.
    "pathspec",
    "re2",
    "ark_lsp.config.patterns",
}


async def first_diagnostics_then_exit(workspace: Path, log: Path) -> list[types.Diagnostic]:
    """Start the server as an editor does, open a file, and end it once it showed its problems."""
    client = LanguageClient("start-imports", "1")
    shown: asyncio.Future[list[types.Diagnostic]] = asyncio.get_running_loop().create_future()
    path = workspace / "unsafe.py"

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: types.PublishDiagnosticsParams) -> None:
        if params.uri == path.as_uri() and not shown.done():
            shown.set_result(list(params.diagnostics))

    @client.feature(types.WORKSPACE_CONFIGURATION)
    def configuration(params: types.ConfigurationParams) -> list[None]:
        return [None for _ in params.items]

    await client.start_io(*SERVER, "--log-file", str(log), "--log-level", "debug", cwd=workspace)
    try:
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    workspace=types.WorkspaceClientCapabilities(configuration=True)
                ),
                root_uri=workspace.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="w")],
            )
        )
        client.initialized(types.InitializedParams())
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=path.as_uri(), language_id="python", version=1, text=path.read_text()
                )
            )
        )
        found = await asyncio.wait_for(shown, timeout=60)
        for _ in range(600):  # the background imports end (their failures would be logged)
            if DEFERRED_IMPORTED in log.read_text():
                break
            await asyncio.sleep(0.05)
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
    return found


@pytest.mark.asyncio
async def test_the_first_diagnostics_need_no_generator_sandbox_jedi_or_click(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ARK's user cache empty, as on a machine's first start: the compiled code, lsprotocol's
    # plan and the editor's capabilities are written then, without importing tempfile.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "unsafe.py").write_text(UNSAFE)
    ark_index(workspace)  # warm: the index is current, as after the last session
    log = tmp_path / "server.log"

    found = await first_diagnostics_then_exit(workspace, log)

    assert {d.code for d in found} == {"ARK001", "ARK004"}
    text = log.read_text()
    line = next(line for line in text.splitlines() if LOADED_AT_FIRST_DIAGNOSTICS in line)
    imported = set(line.split(LOADED_AT_FIRST_DIAGNOSTICS, 1)[1].split("(", 1)[0].split())
    assert {"lsprotocol", "pygls", "ark_lsp.analysis", "ark_lsp.server"} <= imported
    assert imported & NOT_BEFORE_FIRST_DIAGNOSTICS == set()
    # lsprotocol's classes are made as used: a start needs a fraction of them (78 of 640;
    # 109 when the options pygls's capabilities builder makes itself and the selectors'
    # filters were made, and the features' start registered file watchers before the
    # first diagnostics; 197 when the converter's capability hooks, pygls's check of
    # options and the answer to initialize, ServerCapabilities, made theirs).
    made, _, defined = (
        line.rpartition("lsprotocol.types: ")[2].partition(" definitions")[0].partition(" of ")
    )
    assert 0 < int(made) < 85 < int(defined) / 2
    assert DEFERRED_IMPORTED in text
    assert "deferred import of" not in text  # none failed


def test_every_deferred_import_names_a_module() -> None:
    for feature in FEATURES:
        for name in feature.deferred_imports:
            assert importlib.import_module(name).__name__ == name
