"""The server keeps serving whatever the client, the files or the database do to it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient as PlainClient
from pytest_lsp import LanguageClient
from support.lsp import (
    SERVER,
    ark_index,
    diagnostics,
    hover_text,
    open_file,
    reindex,
    start,
)

from ark_lsp.server.frames import FrameError, Framer


def write_raw(client: LanguageClient, body: bytes) -> None:
    """Send bytes to the server as one message, whatever they hold."""
    assert client.protocol.writer is not None
    client.protocol.writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)


async def still_serving(client: LanguageClient, workspace: Path) -> None:
    """The server answers a real request correctly."""
    path = workspace / "pkg" / "parser.py"
    assert "complexity 5 (A)" in await hover_text(client, path, line=3, character=6)


@pytest.mark.asyncio
async def test_malformed_messages_and_unknown_methods_get_errors_not_a_dead_server(
    client: LanguageClient, workspace: Path
) -> None:
    await open_file(client, workspace / "pkg" / "parser.py")
    write_raw(client, b"{not json!!}")
    # A request whose params have the wrong shape: the handler cannot even be called.
    write_raw(
        client,
        json.dumps(
            {"jsonrpc": "2.0", "id": "bad", "method": "textDocument/hover", "params": {"x": 1}}
        ).encode(),
    )
    with pytest.raises(JsonRpcException, match=r"(?i)not found"):
        await client.protocol.send_request_async("ark/noSuchMethod", {})
    with pytest.raises(JsonRpcException, match=r"ark\.noSuchCommand"):
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="ark.noSuchCommand", arguments=[])
        )
    await still_serving(client, workspace)


@pytest.mark.asyncio
async def test_requests_for_unopened_and_deleted_files_answer_empty(
    client: LanguageClient, workspace: Path
) -> None:
    missing = types.TextDocumentIdentifier(uri=(workspace / "gone.py").as_uri())
    position = types.Position(line=0, character=0)
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=missing, position=position)
    )
    assert hover is None
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=missing)
    )
    assert not symbols
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=missing))
    assert not lenses

    # An unopened file on disk is read from disk.
    on_disk = types.TextDocumentIdentifier(uri=(workspace / "pkg" / "parser.py").as_uri())
    outline = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=on_disk)
    )
    assert outline is not None and [s.name for s in outline] == ["parse_config", "Loader"]

    (workspace / "app.py").unlink()
    assert (
        await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=(workspace / "app.py").as_uri()),
                position=types.Position(line=2, character=13),
            )
        )
        is None
    )
    await still_serving(client, workspace)


@pytest.mark.asyncio
async def test_a_hundred_thousand_line_file_and_binary_garbage(
    client: LanguageClient, workspace: Path
) -> None:
    huge = workspace / "huge.py"
    text = "".join(f"value_{n} = {n}\n" for n in range(100_000)) + "eval(value_1)\n"
    shown = await open_file(client, huge, text)
    assert [(d.code, d.range.start.line) for d in shown] == [("ARK001", 100_000)]

    garbage = workspace / "garbage.py"
    shown = await open_file(client, garbage, "\x00\x01\ufffd" * 1000 + "\udcff")
    assert [d.code for d in shown] == ["ARK000"]
    await still_serving(client, workspace)


@pytest.mark.asyncio
async def test_a_locked_database_fails_the_index_run_but_not_the_editor(
    bare_client: LanguageClient, workspace: Path
) -> None:
    ark_index(workspace)
    database = workspace / ".ark" / "index.db"
    (workspace / "pkg" / "extra.py").write_text("def extra():\n    return 1\n")
    holder = sqlite3.connect(database)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        await start(bare_client, "visual-studio-code", [workspace], {"busyTimeout": 0.3})
        warnings = [m.message for m in bare_client.messages]
        assert any("locked" in m for m in warnings), warnings
        shown = await open_file(bare_client, workspace / "u.py", "eval(x)\n")
        assert [d.code for d in shown] == ["ARK001"]
        await still_serving(bare_client, workspace)
    finally:
        holder.rollback()
        holder.close()
    (folder,) = (await reindex(bare_client)).values()
    assert folder["files_indexed"] == 1  # extra.py, waiting since the lock


@pytest.mark.asyncio
async def test_workspace_diagnostics_outlive_closing_and_cover_unopened_files(
    bare_client: LanguageClient, workspace: Path
) -> None:
    risky = workspace / "pkg" / "risky.py"
    risky.write_text("import os\nos.system(cmd)\n")
    await start(bare_client, "visual-studio-code", [workspace], {"workspaceDiagnostics": True})
    pushed = [p for p in bare_client.published if p.uri == risky.as_uri()]  # type: ignore[attr-defined]
    assert pushed and [d.code for d in pushed[-1].diagnostics] == ["ARK004"]

    await open_file(bare_client, risky, version=1)
    bare_client.text_document_did_close(
        types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=risky.as_uri())
        )
    )
    await asyncio.sleep(0.3)
    last = [p for p in bare_client.published if p.uri == risky.as_uri()][-1]  # type: ignore[attr-defined]
    assert [d.code for d in last.diagnostics] == ["ARK004"]


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.asyncio
async def test_shutdown_leaves_no_worker_processes_behind(
    bare_client: LanguageClient, workspace: Path
) -> None:
    for n in range(120):  # enough files for the indexer to start its process pool
        (workspace / "pkg" / f"module_{n}.py").write_text(f"def f{n}(x):\n    return x\n")
    starting = asyncio.ensure_future(start(bare_client, "visual-studio-code", [workspace]))
    workers: set[int] = set()
    while not starting.done():
        # The workers end with the index run: they are seen while it runs.
        if (server := bare_client._server) is not None:  # started by pytest-lsp
            workers |= _descendants(server.pid)
        await asyncio.sleep(0.02)
    await starting
    server = bare_client._server
    assert server is not None
    assert workers, "the index run used no worker processes"
    await bare_client.shutdown_session()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers | {server.pid}):
        await asyncio.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)]
    assert server.returncode == 0


@pytest.mark.asyncio
async def test_rapid_edits_while_hovering_keep_both_correct(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "pkg" / "parser.py"
    original = path.read_text()
    await open_file(client, path)
    hovers = []
    for version in range(2, 202):
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=path.as_uri(), version=version
                ),
                content_changes=[
                    types.TextDocumentContentChangeWholeDocument(
                        text=original + f"\nresult_{version} = eval('1')\n"
                    )
                ],
            )
        )
        if version % 20 == 0:
            hovers.append(hover_text(client, path, line=3, character=6))
    assert all("complexity 5 (A)" in text for text in await asyncio.gather(*hovers))
    final = await diagnostics(client, path.as_uri(), 201, 0)
    assert [d.code for d in final] == ["ARK001"]


@pytest.mark.asyncio
async def test_the_server_also_listens_on_tcp(workspace: Path, unused_tcp_port: int) -> None:
    server = await asyncio.create_subprocess_exec(
        *SERVER[:-1], "--tcp", f"127.0.0.1:{unused_tcp_port}"
    )
    client = PlainClient("tcp-test", "1")
    try:
        for _ in range(100):  # until the server listens
            try:
                await client.start_tcp("127.0.0.1", unused_tcp_port)
                break
            except OSError:
                await asyncio.sleep(0.1)
        result = await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(), root_uri=workspace.as_uri()
            )
        )
        assert result.server_info is not None and result.server_info.name == "ark"
        await client.shutdown_async(None)
        client.exit(None)
        assert await asyncio.wait_for(server.wait(), timeout=10) == 0
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
        await client.stop()
        # pygls's client never closes its TCP stream; left open, it warns when collected.
        writer = client.protocol.writer
        if isinstance(writer, asyncio.StreamWriter):
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def test_version_and_bad_addresses_answer_on_the_command_line(workspace: Path) -> None:
    ark_lsp = Path(sys.executable).with_name("ark-lsp")
    version = subprocess.run(
        [str(ark_lsp), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("ark-lsp, version ")
    bad = subprocess.run([str(ark_lsp), "--tcp", "nowhere"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "ark: error: --tcp takes HOST:PORT, got 'nowhere'"


@pytest.mark.parametrize("chunk", [1, 2, 7, 1000])
def test_the_framer_resynchronises_however_the_stream_is_split(chunk: int) -> None:
    def frame(body: bytes) -> bytes:
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    stream = (
        frame(b"first")
        + b"Content-Length: abc\r\n\r\nlost"
        + b"\r\n"  # a blank line between messages is harmless
        + b"Content-Type: x\r\ncontent-length: 6\r\n\r\nsecond"
        + b"g" * 200  # no header ends within this framer's 50 bytes
        + b"Content-Length: 1000\r\n\r\n"  # over this framer's limit of 100
        + b"x" * 1000
        + frame(b"third")
    )
    framer = Framer(max_message_bytes=100, max_header_bytes=50)
    seen: list[bytes | FrameError] = []
    for offset in range(0, len(stream), chunk):
        framer.feed(stream[offset : offset + chunk])
        while (item := framer.next()) is not None:
            seen.append(item)
        assert len(framer._buffer) <= 100 + 50 + chunk  # never the over-limit body
    assert [s if isinstance(s, bytes) else type(s) for s in seen] == [
        b"first",
        FrameError,
        b"second",
        FrameError,
        FrameError,
        b"third",
    ]
    assert not framer.mid_message
