"""The start's prelude: a warm workspace's first diagnostics before the server is imported.

Each test spawns the real ``ark-lsp`` over stdio, speaks to it in raw
JSON-RPC (so that every message it sends is seen and counted, requests
included), and gives it a user cache of the test's own: the first start
keeps the server's answer to ``initialize`` there, and the second start's
prelude answers from it.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import PositionCodec
from pytest_lsp import client_capabilities
from support.lsp import SERVER, end_server, indexed_workspace, read_messages

from ark_lsp.server.client_support import ClientSupport
from ark_lsp.server.convert import stored_diagnostic
from ark_lsp.server.prelude import (
    CONFIGURATION_REQUEST_ID,
    SHOWN_BEFORE_THE_SERVER,
    InitializeAnswers,
    diagnostics_mode,
    published_diagnostic,
)
from ark_lsp.server.protocol import strict_converter
from ark_lsp.store import ViolationRecord

DEADLINE_S = 60.0


class RawEditor:
    """``ark-lsp`` spoken to in bytes; everything it sends is kept, in order."""

    def __init__(self, workspace: Path, cache: Path, log: Path) -> None:
        self.workspace = workspace
        self.received: list[dict[str, Any]] = []
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.process = subprocess.Popen(
            [*SERVER, "--log-file", str(log), "--log-level", "debug"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=workspace,
            env={**os.environ, "XDG_CACHE_HOME": str(cache)},
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        read_messages(self.process.stdout, self._inbox.put)

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()

    def wait_for(self, wanted: str | int | None) -> dict[str, Any]:
        """Read until a message whose method (or id, for a response) is ``wanted``."""
        deadline = time.monotonic() + DEADLINE_S
        while True:
            message = self._inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            assert message is not None, f"the server closed its output before {wanted}"
            self.received.append(message)
            method = message.get("method")
            if method is not None and "id" in message:  # the server's request: answer it
                asked = message["params"]["items"] if method == "workspace/configuration" else None
                result = None if asked is None else [None] * len(asked)
                self.send({"id": message["id"], "result": result})
            response = method is None and "id" in message
            if method == wanted or (response and message["id"] == wanted):
                return message

    def initialize(self, params: dict[str, Any]) -> dict[str, Any]:
        self.send({"id": 1, "method": "initialize", "params": params})
        return self.wait_for(1)

    def opened(self, name: str, version: int = 1) -> dict[str, Any]:
        path = self.workspace / name
        document = {"uri": path.as_uri(), "languageId": "python", "version": version}
        return {
            "method": "textDocument/didOpen",
            "params": {"textDocument": {**document, "text": path.read_text()}},
        }

    def until_ready(self) -> None:
        while self.wait_for("ark/status")["params"]["folders"][0]["state"] != "ready":
            pass

    def stop(self) -> None:
        self.send({"id": "end", "method": "shutdown"})
        self.wait_for("end")
        self.send({"method": "exit"})
        assert self.process.wait(timeout=DEADLINE_S) == 0

    def sent(self, method: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m.get("method") == method]

    def close(self) -> None:
        end_server(self.process)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A folder the CLI indexed: its stored findings are what the first diagnostics show."""
    return indexed_workspace(tmp_path / "sample")


def editor_initialize(root: Path, preset: str = "visual-studio-code") -> dict[str, Any]:
    """An editor's ``initialize`` params: VS Code 1.65's capabilities (pushed diagnostics) unless
    ``preset`` names another of pytest-lsp's editors."""
    capabilities = strict_converter().unstructure(client_capabilities(preset))
    return {
        "processId": os.getpid(),
        "rootUri": root.as_uri(),
        "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
        "capabilities": capabilities,
        "initializationOptions": {"workspaceTrusted": True},
    }


@pytest.fixture
def editors() -> Iterator[list[RawEditor]]:
    """The servers a test starts: killed at its end if still running."""
    started: list[RawEditor] = []
    yield started
    for editor in started:
        editor.close()


def start(editors: list[RawEditor], workspace: Path, cache: Path, log: Path) -> RawEditor:
    editor = RawEditor(workspace, cache, log)
    editors.append(editor)
    return editor


def open_at_start(editor: RawEditor, workspace: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """An editor's start with ``unsafe.py`` shown: the answer, then the first diagnostics."""
    answer = editor.initialize(editor_initialize(workspace))
    editor.send({"method": "initialized", "params": {}})
    editor.send(editor.opened("unsafe.py"))
    first = editor.wait_for("textDocument/publishDiagnostics")
    editor.until_ready()
    return answer, first


def test_a_warm_start_shows_what_the_server_would_once_and_asks_for_settings_once(
    workspace: Path, tmp_path: Path, editors: list[RawEditor]
) -> None:
    cache = tmp_path / "cache"
    cold_log, warm_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start(editors, workspace, cache, cold_log)
    first_answer, first_shown = open_at_start(first, workspace)
    first.stop()
    assert SHOWN_BEFORE_THE_SERVER not in cold_log.read_text()  # nothing kept yet: the server's
    (kept,) = (cache / "ark" / "initialize").iterdir()
    assert json.loads(kept.read_text()) == first_answer["result"]

    second = start(editors, workspace, cache, warm_log)
    second_answer, second_shown = open_at_start(second, workspace)
    second.stop()
    log = warm_log.read_text()
    # The prelude answered and published, before pygls was imported at all.
    assert SHOWN_BEFORE_THE_SERVER in log
    assert log.index(SHOWN_BEFORE_THE_SERVER) < log.index("pygls")
    assert second_answer == first_answer
    assert second_shown == first_shown
    assert [d["code"] for d in second_shown["params"]["diagnostics"]] == ["ARK001", "ARK004"]
    # Nothing twice: one answer, one settings request, one publish of the opened version.
    for editor in (first, second):
        assert [m.get("id") for m in editor.received if "result" in m].count(1) == 1
        assert len(editor.sent("workspace/configuration")) == 1
        published = editor.sent("textDocument/publishDiagnostics")
        assert [p["params"]["uri"] for p in published].count(first_shown["params"]["uri"]) == 1
    assert second.sent("workspace/configuration")[0]["id"] == CONFIGURATION_REQUEST_ID


@pytest.mark.parametrize("pulled_after_the_settings", [False, True])
def test_a_client_that_pulls_gets_its_first_pull_answered_as_the_server_would(
    pulled_after_the_settings: bool, workspace: Path, tmp_path: Path, editors: list[RawEditor]
) -> None:
    cache = tmp_path / "cache"
    answers = []
    for name in ("first", "second"):
        log = tmp_path / f"{name}.log"
        editor = start(editors, workspace, cache, log)
        editor.initialize(editor_initialize(workspace, "neovim"))  # Neovim 0.11 pulls diagnostics
        editor.send({"method": "initialized", "params": {}})
        opened = editor.opened("unsafe.py")
        editor.send(opened)
        uri = opened["params"]["textDocument"]["uri"]
        if pulled_after_the_settings:
            editor.wait_for("workspace/configuration")  # answered as it is read
        pull = {"textDocument": {"uri": uri}, "identifier": "ark"}
        editor.send({"id": 2, "method": "textDocument/diagnostic", "params": pull})
        answers.append(editor.wait_for(2))
        editor.until_ready()
        editor.stop()
        assert [m.get("id") for m in editor.received if "method" not in m].count(2) == 1
        assert editor.sent("textDocument/publishDiagnostics") == []  # pull only
        assert len(editor.sent("workspace/configuration")) == 1
    assert SHOWN_BEFORE_THE_SERVER not in (tmp_path / "first.log").read_text()
    assert SHOWN_BEFORE_THE_SERVER in (tmp_path / "second.log").read_text()
    assert answers[1]["result"] == answers[0]["result"]
    assert [d["code"] for d in answers[1]["result"]["items"]] == ["ARK001", "ARK004"]


def started_again(editors: list[RawEditor], workspace: Path, tmp_path: Path) -> RawEditor:
    """A second start, up to ``initialized``: the first kept its answer to ``initialize``."""
    cache = tmp_path / "cache"
    first = start(editors, workspace, cache, tmp_path / "first.log")
    open_at_start(first, workspace)
    first.stop()
    editor = start(editors, workspace, cache, tmp_path / "second.log")
    editor.initialize(editor_initialize(workspace))
    editor.send({"method": "initialized", "params": {}})
    return editor


def test_an_edit_before_the_settings_leaves_the_first_diagnostics_to_the_server(
    workspace: Path, tmp_path: Path, editors: list[RawEditor]
) -> None:
    editor = started_again(editors, workspace, tmp_path)
    opened = editor.opened("unsafe.py")
    editor.send(opened)
    uri = opened["params"]["textDocument"]["uri"]
    change = {"text": "import os\n\nos.system(user_command)\n"}
    edited = {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [change]}
    editor.send({"method": "textDocument/didChange", "params": edited})
    shown = editor.wait_for("textDocument/publishDiagnostics")
    editor.until_ready()
    editor.stop()
    # The server handled all three in order: what it shows is the edited text's.
    assert shown["params"]["version"] == 2
    assert [d["code"] for d in shown["params"]["diagnostics"]] == ["ARK004"]
    assert SHOWN_BEFORE_THE_SERVER not in (tmp_path / "second.log").read_text()
    assert len(editor.sent("workspace/configuration")) == 1


def test_a_malformed_message_in_the_prelude_is_answered_by_the_server(
    workspace: Path, tmp_path: Path, editors: list[RawEditor]
) -> None:
    editor = started_again(editors, workspace, tmp_path)
    assert editor.process.stdin is not None
    editor.process.stdin.write(b"Content-Length: abc\r\n\r\n{}")  # read before the settings
    editor.process.stdin.flush()
    editor.send(editor.opened("unsafe.py"))
    refused = editor.wait_for(None)  # a response to no id: what could not be read
    shown = editor.wait_for("textDocument/publishDiagnostics")
    editor.until_ready()
    editor.stop()
    # The server says what was wrong with it, in order, and goes on as if it had read it.
    assert refused["error"]["code"] == types.ErrorCodes.ParseError
    assert "Content-Length" in refused["error"]["message"]
    assert [d["code"] for d in shown["params"]["diagnostics"]] == ["ARK001", "ARK004"]
    assert SHOWN_BEFORE_THE_SERVER not in (tmp_path / "second.log").read_text()
    assert len(editor.sent("workspace/configuration")) == 1


def test_an_initialize_with_an_id_that_is_none_is_refused_by_the_server(
    workspace: Path, tmp_path: Path, editors: list[RawEditor]
) -> None:
    started_again(editors, workspace, tmp_path).stop()  # the answer is kept
    editor = start(editors, workspace, tmp_path / "cache", tmp_path / "third.log")
    editor.send({"id": [1], "method": "initialize", "params": editor_initialize(workspace)})
    refused = editor.wait_for(None)
    editor.send({"id": "end", "method": "shutdown"})
    editor.wait_for("end")
    # Not answered from the kept answer: refused as the server refuses it.
    assert refused["error"]["code"] == types.ErrorCodes.InvalidRequest, refused
    assert not any("result" in m and m.get("id") == [1] for m in editor.received)


def test_a_kept_answer_the_server_no_longer_gives_is_replaced(
    workspace: Path, tmp_path: Path, editors: list[RawEditor]
) -> None:
    cache = tmp_path / "cache"
    answers = InitializeAnswers(cache / "ark" / "initialize")
    params = editor_initialize(workspace)
    stale = {"capabilities": {"hoverProvider": False}, "serverInfo": {"name": "ark"}}
    answers.put(answers.key(params), stale)

    log = tmp_path / "server.log"
    editor = start(editors, workspace, cache, log)
    # The client gets what was kept (it cannot be taken back) ...
    assert editor.initialize(params)["result"] == stale
    editor.send({"method": "initialized", "params": {}})
    editor.until_ready()
    editor.stop()
    # ... and the next start the server's own answer.
    kept = answers.get(answers.key(params))
    assert kept is not None and kept != stale and kept["capabilities"]["hoverProvider"]
    assert "the kept answer to initialize was not the server's" in log.read_text()


TEXTS = {
    "ascii": "import os\nos.system(x)\n",
    "astral": 'x = "𝄞é"; eval(y)\r\nz = "𝄞"\n',
    "no final newline": 'é = "𝄞"; eval(é)',
}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
@pytest.mark.parametrize("name", list(TEXTS))
def test_the_prelude_converts_positions_as_the_server_does(name: str, encoding: str) -> None:
    text = TEXTS[name]
    lines = text.splitlines(True)
    document = TextDocument(
        "file:///x.py", text, position_codec=PositionCodec(types.PositionEncodingKind(encoding))
    )
    converter = strict_converter()
    # Every span the text has, and ones past a line's end and past the last line.
    spans = [
        (line, column, line, end)
        for line in range(1, len(lines) + 1)
        for column in range(len(lines[line - 1]) + 1)
        for end in (column, len(lines[line - 1]) + 3)
    ] + [(len(lines) + 1, 0, len(lines) + 2, 4)]
    for line, column, end_line, end_column in spans:
        record = ViolationRecord(
            "x.py", "ARK001", "error", "eval", line, column, end_line, end_column, "domain"
        )
        server = converter.unstructure(stored_diagnostic(document, record))
        assert published_diagnostic(record, lines, encoding) == server, (line, column)


@pytest.mark.parametrize("preset", ["visual-studio-code", "neovim", None])
def test_the_prelude_reads_the_capabilities_as_the_server_does(preset: str | None) -> None:
    capabilities = client_capabilities(preset) if preset else types.ClientCapabilities()
    support = ClientSupport.of(capabilities)
    raw = {"capabilities": strict_converter().unstructure(capabilities)}
    expected = ("pull" if support.pull_diagnostics else "push") if support.configuration else None
    assert diagnostics_mode(raw) == expected
