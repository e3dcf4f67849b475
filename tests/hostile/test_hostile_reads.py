"""What a repository, or a client speaking for one, can make ARK read, and how it copes.

Requests on files the editor has not opened read them from disk: a FIFO
must not freeze the server, ``/dev/zero`` must not exhaust its memory, and
a file outside the workspace folders (``/etc/shadow``, a secret reached by a
link) must not be read, let alone echoed back. A coding line naming a codec
that is not a text encoding (``rot13``, ``zlib_codec``) is a finding in that
file, never a crash of the run.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
import pytest_lsp
from lsprotocol import types
from lsprotocol.converters import get_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from support.cli import ARK, ark
from support.lsp import hover_text, open_file, reindex, start

DEADLINE = 10.0
"""Seconds any request may take: reading a small file takes far less."""

MEMORY_CAP = 4 << 30
"""The server's address space, so a regression reading /dev/zero fails this test, not the host."""

CAPPED_SERVER = [
    sys.executable,
    "-c",
    "import resource, runpy; "
    f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, {MEMORY_CAP})); "
    "runpy.run_module('ark_lsp', run_name='__main__')",
    "--stdio",
]

SECRET = "AKIA7HOSTILE5ECRET"

CODEC_FILES = {
    # Valid rot13 of "import os", and bytes no zlib stream starts with.
    "rotten.py": "# coding: rot13\nvzcbeg bf\n",
    "zipped.py": "# coding: zlib_codec\nx = 1\n",
}

_T = TypeVar("_T")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=CAPPED_SERVER))
async def capped_client(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    """A server with its memory capped, for the workspace folder ``workspace``."""
    await start(lsp_client, "visual-studio-code", [workspace])
    yield
    await lsp_client.shutdown_session()


async def answered(request: Awaitable[_T]) -> _T:
    """The request's answer, which must come within the deadline."""
    return await asyncio.wait_for(request, DEADLINE)


def as_text(response: Any) -> str:
    """A response as the client received it, to search for leaked text."""
    return json.dumps(get_converter().unstructure(response))


async def every_request(client: LanguageClient, uri: str) -> list[Any]:
    """Hover, outline, code actions and pulled diagnostics of a document not open in the editor."""
    document = types.TextDocumentIdentifier(uri=uri)
    start_of_file = types.Position(line=0, character=4)
    return [
        await answered(
            client.text_document_hover_async(
                types.HoverParams(text_document=document, position=start_of_file)
            )
        ),
        await answered(
            client.text_document_document_symbol_async(
                types.DocumentSymbolParams(text_document=document)
            )
        ),
        await answered(
            client.text_document_code_action_async(
                types.CodeActionParams(
                    text_document=document,
                    range=types.Range(start=start_of_file, end=start_of_file),
                    context=types.CodeActionContext(diagnostics=[]),
                )
            )
        ),
        await answered(
            client.text_document_diagnostic_async(
                types.DocumentDiagnosticParams(text_document=document)
            )
        ),
    ]


def empty(response: Any) -> bool:
    """Nothing said: no hover, no symbols, no actions, no diagnostics."""
    if isinstance(response, types.RelatedFullDocumentDiagnosticReport):
        return not response.items
    return not response


async def still_serving(client: LanguageClient, workspace: Path) -> None:
    """The server answers a real request correctly."""
    path = workspace / "pkg" / "parser.py"
    text = await answered(hover_text(client, path, line=3, character=6))
    assert "complexity 5 (A)" in text


@contextmanager
def fifo_released_at_the_end(fifo: Path) -> Iterator[None]:
    """Should a server block reading the FIFO (the bug), give it an end so it can shut down."""
    try:
        yield
    finally:

        def writer() -> None:
            while fifo.exists():
                os.close(os.open(fifo, os.O_WRONLY))  # waits for a reader, then gives it EOF

        threading.Thread(target=writer, daemon=True).start()


@pytest.mark.asyncio
async def test_requests_on_a_fifo_in_the_workspace_answer_at_once(
    capped_client: LanguageClient, workspace: Path
) -> None:
    fifo = workspace / "pkg" / "pipe.py"
    os.mkfifo(fifo)
    with fifo_released_at_the_end(fifo):
        responses = await every_request(capped_client, fifo.as_uri())
        assert all(empty(response) for response in responses), responses
        await still_serving(capped_client, workspace)


@pytest.mark.asyncio
async def test_requests_on_dev_zero_answer_without_reading_it(
    capped_client: LanguageClient, workspace: Path
) -> None:
    for target in (Path("/dev/zero"), workspace / "zero.py"):
        if target != Path("/dev/zero"):
            target.symlink_to("/dev/zero")  # the same device, reached from inside the folder
        responses = await every_request(capped_client, target.as_uri())
        assert all(empty(response) for response in responses), responses
    await still_serving(capped_client, workspace)


@pytest.mark.asyncio
async def test_files_outside_the_workspace_are_not_read_or_echoed(
    capped_client: LanguageClient, workspace: Path, tmp_path: Path
) -> None:
    private = tmp_path / "home" / ".config" / "tokens.py"
    private.parent.mkdir(parents=True)
    private.write_text(
        f'"""{SECRET}"""\n\n\ndef rotate_{SECRET}(key="{SECRET}"):\n    return eval(key)\n'
    )
    (workspace / "tokens.py").symlink_to(private)
    seen = []
    for target in (private, workspace / "tokens.py", Path("/etc/shadow")):
        for response in await every_request(capped_client, target.as_uri()):
            seen.append(as_text(response))
            assert empty(response), response
    assert not any(SECRET in text for text in seen)
    await still_serving(capped_client, workspace)


@pytest.mark.parametrize("name", ["pyproject.toml", ".gitignore"])
def test_a_fifo_as_settings_or_ignore_file_does_not_hang_ark_index(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "app.py").write_text("eval(input())\n")
    os.mkfifo(tmp_path / name)
    with fifo_released_at_the_end(tmp_path / name):
        result = subprocess.run(
            [str(ARK), "index", ".", "--format", "json"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=3 * DEADLINE,
            env={**os.environ, "ARK_DATABASE": ""},
        )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["files_indexed"] == 1


@pytest_lsp.fixture(config=ClientServerConfig(server_command=CAPPED_SERVER))
async def fresh_client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    """A server the test starts itself; shut down at the end."""
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_a_fifo_pyproject_does_not_freeze_the_server(
    fresh_client: LanguageClient, workspace: Path
) -> None:
    pyproject = workspace / "pyproject.toml"
    pyproject.unlink()
    os.mkfifo(pyproject)
    with fifo_released_at_the_end(pyproject):
        await answered(start(fresh_client, "visual-studio-code", [workspace]))
        assert any("not a regular file" in m.message for m in fresh_client.messages)
        await still_serving(fresh_client, workspace)


def write_codec_files(root: Path) -> None:
    for name, text in CODEC_FILES.items():
        (root / name).write_text(text)


def test_non_text_codecs_are_findings_of_ark_check(tmp_path: Path) -> None:
    write_codec_files(tmp_path)
    (tmp_path / "unsafe.py").write_text("eval(input())\n")
    result = ark("check", ".", "--format", "json", cwd=tmp_path, check=False)
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr
    found = {
        (r["path"], r["line"], r["rule"], r["message"])
        for r in json.loads(result.stdout)["results"]
    }
    assert found == {
        ("rotten.py", 1, "ARK000", "unsupported encoding 'rot13': not a text encoding"),
        ("zipped.py", 1, "ARK000", "unsupported encoding 'zlib_codec': not a text encoding"),
        ("unsafe.py", 1, "ARK001", "eval() evaluates arbitrary code"),
    }


def test_non_text_codecs_are_file_errors_of_ark_index(tmp_path: Path) -> None:
    write_codec_files(tmp_path)
    (tmp_path / "fine.py").write_text("def fine():\n    return 1\n")
    result = ark("index", ".", cwd=tmp_path, check=False)
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert "ark: rotten.py:1: unsupported encoding 'rot13'" in result.stderr
    assert "ark: zipped.py:1: unsupported encoding 'zlib_codec'" in result.stderr
    assert "indexed             3" in result.stdout
    assert "errors              2" in result.stdout


@pytest.mark.asyncio
async def test_non_text_codecs_in_the_server_are_diagnostics(
    capped_client: LanguageClient, workspace: Path
) -> None:
    write_codec_files(workspace)
    (folder,) = (await answered(reindex(capped_client))).values()
    assert folder.get("state") != "failed", folder
    assert folder["files_indexed"] == 2 and folder["files_errors"] == 2, folder
    shown = await open_file(capped_client, workspace / "rotten.py")
    assert [(d.code, d.range.start.line, d.message) for d in shown] == [
        ("ARK000", 0, "unsupported encoding 'rot13': not a text encoding")
    ]
    # Not open in the editor: read from disk, as a client pulling its diagnostics asks.
    pulled = await answered(
        capped_client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(
                text_document=types.TextDocumentIdentifier(uri=(workspace / "zipped.py").as_uri())
            )
        )
    )
    assert isinstance(pulled, types.RelatedFullDocumentDiagnosticReport)
    assert [d.message for d in pulled.items] == [
        "unsupported encoding 'zlib_codec': not a text encoding"
    ]
    await still_serving(capped_client, workspace)


if not sys.platform.startswith("linux"):  # pragma: no cover - FIFOs, /dev/zero, rlimits
    pytestmark = pytest.mark.skip(reason="needs a POSIX system with /dev/zero")
