"""Driving the ARK server as an editor would: a sample workspace, start-up, and helpers.

Shared by the language-server test modules; the fixtures live in conftest.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "ark_lsp", "--stdio"]
PRESETS = ["visual-studio-code", "neovim"]

# ")" is the 15th code point; "𝄞" takes two UTF-16 units and four UTF-8 bytes, "é" two bytes.
BROKEN = 'x = "𝄞é"; y = )\n'
EXPECTED_COLUMN = {"utf-16": 15, "utf-8": 18, "utf-32": 14}

PARSER = '''\
"""Parsing helpers."""


def parse_config(text, strict=False):
    """Turn a config text into a dict.

    Lines without "=" are skipped.
    """
    result = {}
    for line in text.splitlines():
        if "=" not in line:
            continue
        key, _, value = line.partition("=")
        if strict and not value:
            raise ValueError(key)
        result[key.strip()] = value.strip()
    return result


class Loader:
    """Loads configs."""

    def load(self, path):
        return parse_config(open(path).read())

    def reload(self, path):
        return self.load(path)
'''

APP = """\
from pkg.parser import parse_config

settings = parse_config("a=1")
again = parse_config("b=2")
"""

UNSAFE = "import os\n\nsettings = eval(\"{'debug': True}\")\nos.system(user_command)\n"


def write_workspace(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "parser.py").write_text(PARSER)
    (root / "app.py").write_text(APP)
    (root / "pyproject.toml").write_text('[project]\nname = "sample"\n')


def ark_index(root: Path) -> None:
    """Index a folder with the CLI, as a user may have before the editor starts."""
    subprocess.run(
        [str(Path(sys.executable).with_name("ark")), "index", str(root)],
        cwd=root,
        capture_output=True,
        check=True,
        timeout=120,
        env={**os.environ, "ARK_DATABASE": ""},
    )


def record_publishes(client: LanguageClient) -> None:
    """Keep every pushed diagnostics notification, in order, in ``client.published``."""
    client.published = []  # type: ignore[attr-defined]
    handle = client.protocol._handle_notification

    def recording(method: str, params: Any) -> None:
        if method == types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS:
            client.published.append(params)  # type: ignore[attr-defined]
        handle(method, params)

    client.protocol._handle_notification = recording  # type: ignore[method-assign]


async def start(
    lsp_client: LanguageClient,
    preset: str,
    folders: list[Path],
    initialization_options: dict[str, Any] | None = None,
    capabilities: types.ClientCapabilities | None = None,
) -> None:
    lsp_client.registrations = []  # type: ignore[attr-defined]
    lsp_client.statuses = []  # type: ignore[attr-defined]
    lsp_client.lens_refreshes = 0  # type: ignore[attr-defined]
    record_publishes(lsp_client)

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        lsp_client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    @lsp_client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def refresh_code_lenses(params: None) -> None:
        lsp_client.lens_refreshes += 1  # type: ignore[attr-defined]

    @lsp_client.feature("ark/status")
    def status(params: Any) -> None:
        lsp_client.statuses.append(params)  # type: ignore[attr-defined]

    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities or client_capabilities(preset),
            root_uri=folders[0].as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in folders],
            initialization_options=initialization_options,
        )
    )
    # Settings are in place once the first index run is: no test races start-up.
    await reindex(lsp_client)


def position_encoding(client: LanguageClient) -> str:
    # Before LSP 3.17 there was no choice: UTF-16.
    assert client.capabilities is not None
    general = client.capabilities.general
    offered = (general.position_encodings if general else None) or ["utf-16"]
    return str(offered[0])


def pulls(client: LanguageClient) -> bool:
    assert client.capabilities is not None
    text_document = client.capabilities.text_document
    return bool(text_document and text_document.diagnostic)


async def published(
    client: LanguageClient, uri: str, version: int | None, after: int = 0
) -> list[types.Diagnostic]:
    """Wait for the server to push diagnostics of ``uri`` at ``version``."""
    for _ in range(2000):
        for params in client.published[after:]:  # type: ignore[attr-defined]
            if params.uri == uri and params.version == version:
                return list(params.diagnostics)
        await asyncio.sleep(0.01)
    raise AssertionError(f"no diagnostics for {uri} at version {version}")


def mark(client: LanguageClient) -> int:
    """A point in the client's history: what is pushed from now on comes after it."""
    return len(client.published)  # type: ignore[attr-defined]


async def diagnostics(
    client: LanguageClient, uri: str, version: int | None = None, after: int = 0
) -> list[types.Diagnostic]:
    """What the editor shows for a document after its latest change, pushed or pulled."""
    if pulls(client):
        report = await client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        return list(report.items)  # type: ignore[union-attr]
    return await published(client, uri, version, after)


async def open_file(
    client: LanguageClient, path: Path, text: str | None = None, version: int = 1
) -> list[types.Diagnostic]:
    uri, before = path.as_uri(), mark(client)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri,
                language_id="python",
                version=version,
                text=path.read_text() if text is None else text,
            )
        )
    )
    return await diagnostics(client, uri, version, before)


async def change_file(
    client: LanguageClient, path: Path, text: str, version: int
) -> list[types.Diagnostic]:
    uri, before = path.as_uri(), mark(client)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    return await diagnostics(client, uri, version, before)


async def reindex(client: LanguageClient) -> dict[str, Any]:
    """Wait for every folder's index to be current."""
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="ark.reindex", arguments=[])
    )
    return dict(result["folders"])


async def hover_text(client: LanguageClient, path: Path, line: int, character: int) -> str:
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            position=types.Position(line=line, character=character),
        )
    )
    assert hover is not None, "no hover"
    assert isinstance(hover.contents, types.MarkupContent)
    return hover.contents.value


def apply(text: str, edits: list[types.TextEdit]) -> str:
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


async def code_actions(
    client: LanguageClient, path: Path, shown: list[types.Diagnostic], only: list[str] | None
) -> list[types.CodeAction]:
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            range=types.Range(
                start=types.Position(line=0, character=0), end=types.Position(line=4, character=0)
            ),
            context=types.CodeActionContext(diagnostics=shown, only=only),
        )
    )
    assert actions is not None
    return [a for a in actions if isinstance(a, types.CodeAction)]


def indexed_workspace(root: Path) -> Path:
    """The sample workspace with ``unsafe.py``, indexed by the CLI as after a last session."""
    write_workspace(root)
    (root / "unsafe.py").write_text(UNSAFE)
    ark_index(root)
    return root


def read_messages(stream: IO[bytes], put: Callable[[Any], None]) -> None:
    """Hand each message a server writes on ``stream`` to ``put``; ``None`` once it ends."""
    try:
        while True:
            length = None
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if not line or length is None:
                break
            put(json.loads(stream.read(length)))
    finally:
        put(None)


def end_server(process: subprocess.Popen[bytes]) -> None:
    """Kill a server still running at a test's end, and close its pipes."""
    if process.poll() is None:
        process.kill()
    process.wait()
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            pipe.close()
