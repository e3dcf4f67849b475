"""A client that breaks the protocol: every request is answered and the stream recovers.

The attacks go through a real ``python -m ark_lsp`` over raw stdio bytes (and one over
TCP): a protocol client would refuse to send malformed frames, so these tests frame
messages themselves. Every read has a deadline, so a server that hangs fails the test
instead of hanging it.
"""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from lsprotocol import types
from support.lsp import SERVER, end_server, read_messages

DEADLINE = 30.0
"""The longest any one wait may take, in seconds: generous for a loaded CI machine."""


def frame(body: bytes) -> bytes:
    """One well-formed LSP message."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def encode(message: Any) -> bytes:
    return json.dumps(message).encode()


def hover_request(workspace: Path, msg_id: object) -> dict[str, Any]:
    """A hover the sample workspace answers with the function's complexity."""
    return {
        "jsonrpc": "2.0",
        "id": msg_id,
        "method": "textDocument/hover",
        "params": {
            "textDocument": {"uri": (workspace / "pkg" / "parser.py").as_uri()},
            "position": {"line": 3, "character": 6},
        },
    }


class RawSession:
    """The server as a subprocess, spoken to in bytes; what it sends is read on a thread."""

    def __init__(self, workspace: Path, log: Path, send: Callable[[bytes], None] | None = None):
        self.workspace = workspace
        self.log_path = log
        self.process: subprocess.Popen[bytes] | None = None
        self.inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.responses: dict[Any, dict[str, Any]] = {}
        self.anonymous: list[dict[str, Any]] = []
        """Responses with ``"id": null``: to what the server could not read an id from."""
        self._write_lock = threading.Lock()
        self._send = send

    def start_process(self) -> None:
        with open(self.log_path, "wb") as stderr:
            self.process = subprocess.Popen(
                SERVER,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                cwd=self.workspace,
            )
        assert self.process.stdout is not None
        self.listen(self.process.stdout)

    def listen(self, stream: IO[bytes]) -> None:
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        read_messages(stream, self.inbox.put)

    def send_bytes(self, data: bytes) -> None:
        with self._write_lock:
            if self._send is not None:
                self._send(data)
                return
            assert self.process is not None and self.process.stdin is not None
            self.process.stdin.write(data)
            self.process.stdin.flush()

    def send(self, message: Any) -> None:
        self.send_bytes(frame(encode(message)))

    def _next(self, deadline: float) -> dict[str, Any] | None:
        """The server's next message, answering its own requests; ``None`` once it closed."""
        while True:
            try:
                message = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("the server sent nothing before the deadline") from None
            if message is None:
                return None
            if "method" in message:
                if "id" in message:  # a request of the server's own: answer it, it may wait
                    self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
                continue
            if message.get("id") is None:
                self.anonymous.append(message)
            else:
                self.responses[message["id"]] = message
            return message

    def wait_for(self, ids: set[Any], anonymous: int = 0) -> None:
        """Wait until every id in ``ids`` and ``anonymous`` id-less errors were answered."""
        deadline = time.monotonic() + DEADLINE
        try:
            while not (ids <= self.responses.keys() and len(self.anonymous) >= anonymous):
                if self._next(deadline) is None:
                    raise AssertionError("the server closed its output")
        except AssertionError as error:
            missing = sorted(map(repr, ids - self.responses.keys()))
            raise AssertionError(
                f"{error}; no response to {len(missing)} of {len(ids)} requests: {missing}; "
                f"{len(self.anonymous)} of {anonymous} id-less errors"
            ) from None

    def request(self, method: str, params: Any, msg_id: Any) -> dict[str, Any]:
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        self.wait_for({msg_id})
        return self.responses[msg_id]

    def initialize(self) -> None:
        root = self.workspace.as_uri()
        answer = self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root,
                "capabilities": {},
                "workspaceFolders": [{"uri": root, "name": self.workspace.name}],
            },
            "init",
        )
        assert answer["result"]["serverInfo"]["name"] == "ark"
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        # Start-up is over once the first index run is: nothing below races it.
        reindex = {"command": "ark.reindex", "arguments": []}
        assert "result" in self.request("workspace/executeCommand", reindex, "ready")

    def assert_still_serving(self, msg_id: object = "still-serving") -> None:
        """The server answers a real hover, correctly."""
        self.send(hover_request(self.workspace, msg_id))
        self.wait_for({msg_id})
        answer = self.responses[msg_id]
        assert "complexity 5 (A)" in answer["result"]["contents"]["value"], answer

    def error_code(self, msg_id: object) -> int:
        error = self.responses[msg_id].get("error")
        assert error is not None, self.responses[msg_id]
        return int(error["code"])

    def wait_exit(self) -> int:
        assert self.process is not None
        return self.process.wait(timeout=DEADLINE)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        if self.process is not None:
            end_server(self.process)


@pytest.fixture
def session(workspace: Path, tmp_path: Path) -> Iterator[RawSession]:
    """A started, initialized server over raw stdio."""
    raw = RawSession(workspace, tmp_path / "server.log")
    raw.start_process()
    try:
        raw.initialize()
        yield raw
    finally:
        raw.close()


def request_methods() -> list[str]:
    """Every request method the server registers, builtin or ARK's own."""
    from ark_lsp.server import create_server

    features = create_server().protocol.fm
    registered = set(features.features) | set(features.builtin_features)
    return sorted(
        method
        for method in registered
        if (known := types.METHOD_TO_TYPES.get(method)) and known[0].__name__.endswith("Request")
    )


def test_every_request_with_invalid_params_gets_an_error_with_its_id(
    session: RawSession,
) -> None:
    junk_params: list[Any] = [
        "a string",
        42,
        True,
        [],
        [1, "two"],
        {},
        {"textDocument": 5, "position": "x", "command": 7, "query": [], "range": 1},
        {"textDocument": {"uri": 5}, "position": {"line": "x", "character": None}},
    ]
    expected: dict[str, int] = {}
    for method in request_methods():
        # A shutdown with structured params would be a real one; it comes last, below.
        tried = junk_params[:3] if method == types.SHUTDOWN else junk_params
        for n, params in enumerate(tried):
            msg_id = f"{method}#{n}"
            session.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
            # A second initialize is refused whatever it carries.
            expected[msg_id] = -32600 if method == types.INITIALIZE else -32602
        if method not in (types.SHUTDOWN, types.INITIALIZE):
            msg_id = f"{method}#no-params"
            session.send({"jsonrpc": "2.0", "id": msg_id, "method": method})
            expected[msg_id] = -32602
    for n, (command, arguments) in enumerate(
        [
            (["ark.reindex"], []),
            ("ark.run", [{"uri": 5}]),
            ("ark.generateTests", [1, 2, 3, 4]),
            ("ark.noSuchCommand", []),
            (None, []),
        ]
    ):
        msg_id = f"command#{n}"
        params = {"command": command, "arguments": arguments}
        session.send(
            {"jsonrpc": "2.0", "id": msg_id, "method": "workspace/executeCommand", "params": params}
        )
        expected[msg_id] = -32602
    # Envelopes that are not valid requests: an error each, with the id when there is one.
    envelopes: list[tuple[Any, Any, int]] = [
        ({"id": 101, "method": "textDocument/hover", "params": {}}, 101, -32600),  # no jsonrpc
        ({"jsonrpc": "1.0", "id": 102, "method": "shutdown"}, 102, -32600),
        ({"jsonrpc": "2.0", "id": 103, "method": 42}, 103, -32600),
        ({"jsonrpc": "2.0", "id": 104, "method": None, "params": {}}, 104, -32600),
        ({"jsonrpc": "2.0", "id": 105}, 105, -32600),  # neither request nor response
        ({"jsonrpc": "2.0", "id": 106, "method": "ark/noSuchMethod", "params": "x"}, 106, -32601),
        (
            {"jsonrpc": "2.0", "id": 107, "method": "textDocument/completion", "params": {}},
            107,
            -32601,
        ),
        (
            {"jsonrpc": "2.0", "id": None, "method": "textDocument/hover", "params": {}},
            None,
            -32600,
        ),
        ({"jsonrpc": "2.0", "id": True, "method": "shutdown"}, None, -32600),
        ({"jsonrpc": "2.0", "id": {"a": 1}, "method": "shutdown"}, None, -32600),
        ({"jsonrpc": "2.0", "id": [1], "method": "shutdown"}, None, -32600),
        ({"jsonrpc": "2.0", "id": 1.5, "method": "shutdown"}, None, -32600),
        ("a string", None, -32600),
        (12, None, -32600),
        (None, None, -32600),
        (True, None, -32600),
        ({}, None, -32600),
    ]
    anonymous = []
    for message, msg_id, code in envelopes:
        session.send(message)
        if msg_id is None:
            anonymous.append(code)
        else:
            expected[msg_id] = code
    # Unknown fields are ignored: a real answer, not an error.
    extra = hover_request(session.workspace, "extra-fields")
    extra["sneaky"] = {"nested": [1, 2]}
    extra["params"]["alsoSneaky"] = True
    session.send(extra)
    # Notifications with bad params cannot be answered, and must not break anything.
    for method in ("textDocument/didOpen", "textDocument/didChange", "$/cancelRequest"):
        for params in ("x", 5, [], {}):
            session.send({"jsonrpc": "2.0", "method": method, "params": params})

    session.wait_for(set(expected) | {"extra-fields"}, anonymous=len(anonymous))
    wrong = {
        msg_id: session.responses[msg_id].get("error", session.responses[msg_id])
        for msg_id, code in expected.items()
        if "error" not in session.responses[msg_id] or session.error_code(msg_id) != code
    }
    assert not wrong, json.dumps(wrong, indent=1)
    assert sorted(r["error"]["code"] for r in session.anonymous) == sorted(anonymous)
    assert "complexity 5 (A)" in session.responses["extra-fields"]["result"]["contents"]["value"]
    session.assert_still_serving()


def test_requests_out_of_order_are_refused_and_the_exit_is_clean(
    workspace: Path, tmp_path: Path
) -> None:
    raw = RawSession(workspace, tmp_path / "server.log")
    raw.start_process()
    try:
        # Before initialize, LSP says: error -32002, and the server waits for initialize.
        raw.send(hover_request(workspace, "too-early"))
        raw.wait_for({"too-early"})
        assert raw.error_code("too-early") == -32002
        raw.initialize()
        raw.assert_still_serving("in-time")
        assert raw.request("shutdown", None, "bye").get("result", "missing") is None
        # After shutdown, LSP says: error -32600, until exit.
        raw.send(hover_request(workspace, "too-late"))
        raw.wait_for({"too-late"})
        assert raw.error_code("too-late") == -32600
        raw.send({"jsonrpc": "2.0", "method": "exit"})
        assert raw.wait_exit() == 0
        assert "Traceback" not in raw.log()
    finally:
        raw.close()


def test_batches_are_refused_with_invalid_request(session: RawSession) -> None:
    # LSP has no batches: each request in one gets -32600 with its id, the rest one id-less error.
    session.send(
        [
            hover_request(session.workspace, "in-batch-1"),
            hover_request(session.workspace, "in-batch-2"),
        ]
    )
    session.send([{"jsonrpc": "2.0", "method": "initialized", "params": {}}])
    session.send([])
    session.send([1, 2, 3])
    session.send([[hover_request(session.workspace, "nested")]])
    session.wait_for({"in-batch-1", "in-batch-2"}, anonymous=4)
    assert session.error_code("in-batch-1") == session.error_code("in-batch-2") == -32600
    assert [r["error"]["code"] for r in session.anonymous] == [-32600] * 4
    session.assert_still_serving()


def assert_skipped_to_the_next_message(session: RawSession, bad: bytes) -> None:
    """``bad`` gets an id-less error, and the message after it a real answer."""
    session.send_bytes(bad + frame(encode(hover_request(session.workspace, "next"))))
    session.wait_for({"next"}, anonymous=1)
    assert session.anonymous[0]["error"]["code"] == -32700, session.anonymous
    assert "complexity 5 (A)" in session.responses["next"]["result"]["contents"]["value"]
    session.assert_still_serving()


def test_a_content_length_that_is_not_a_number(session: RawSession) -> None:
    body = encode(hover_request(session.workspace, "lost"))
    assert_skipped_to_the_next_message(session, b"Content-Length: abc\r\n\r\n" + body)


def test_a_negative_content_length(session: RawSession) -> None:
    body = encode(hover_request(session.workspace, "lost"))
    assert_skipped_to_the_next_message(session, b"Content-Length: -5\r\n\r\n" + body)


def test_a_header_without_content_length(session: RawSession) -> None:
    body = encode(hover_request(session.workspace, "lost"))
    content_type = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"
    assert_skipped_to_the_next_message(session, content_type + body)


def test_garbage_between_messages(session: RawSession) -> None:
    assert_skipped_to_the_next_message(session, b"\x00\xff}{ garbage, no line end ")


def test_a_huge_content_length_that_never_comes(session: RawSession) -> None:
    body = encode(hover_request(session.workspace, "lost"))
    assert_skipped_to_the_next_message(session, b"Content-Length: %d\r\n\r\n" % 10**12 + body)


def _peak_memory(pid: int) -> int:
    """The process's peak resident memory, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _settled_peak_memory(pid: int, steady_s: float = 1.5) -> int:
    """The peak once start-up's background work (jedi's warm-up) is over: unchanged a while."""
    peak, since = _peak_memory(pid), time.monotonic()
    deadline = since + 60
    while time.monotonic() - since < steady_s and time.monotonic() < deadline:
        time.sleep(0.1)
        if (now := _peak_memory(pid)) != peak:
            peak, since = now, time.monotonic()
    return peak


def test_an_over_limit_message_is_skipped_without_being_held(session: RawSession) -> None:
    from ark_lsp.server.frames import MAX_MESSAGE_BYTES

    assert session.process is not None
    before = _settled_peak_memory(session.process.pid)
    uri = (session.workspace / "big.py").as_uri()
    start = (
        '{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": '
        f'{{"uri": "{uri}", "languageId": "python", "version": 1, "text": "'
    ).encode()
    end = b'"}}}'
    text_size = MAX_MESSAGE_BYTES + 1024
    length = len(start) + text_size + len(end)
    # Sent a megabyte at a time: the test holds no more of it than the server may.
    session.send_bytes(b"Content-Length: %d\r\n\r\n" % length + start)
    megabyte = b"x" * 2**20
    for _ in range(text_size // len(megabyte)):
        session.send_bytes(megabyte)
    session.send_bytes(b"x" * (text_size % len(megabyte)) + end)
    assert_skipped_to_the_next_message(session, b"")
    grown = _peak_memory(session.process.pid) - before
    assert grown < MAX_MESSAGE_BYTES // 4, f"peak memory grew by {grown} bytes"


def test_a_header_then_the_stream_ends(workspace: Path, tmp_path: Path) -> None:
    raw = RawSession(workspace, tmp_path / "server.log")
    raw.start_process()
    try:
        raw.initialize()
        assert raw.process is not None and raw.process.stdin is not None
        raw.send_bytes(b'Content-Length: 100\r\n\r\n{"jsonrpc": "2.0", ')
        raw.process.stdin.close()
        # Not shut down first, so LSP's exit code for an unexpected end: 1, and why, logged.
        assert raw.wait_exit() == 1
        assert "ended in the middle of a message" in raw.log()
        assert "Traceback" not in raw.log()
    finally:
        raw.close()


def test_tcp_gets_the_same_framing_protection(
    workspace: Path, tmp_path: Path, unused_tcp_port: int
) -> None:
    log = tmp_path / "server.log"
    with open(log, "wb") as stderr:
        server = subprocess.Popen(
            [*SERVER[:-1], "--tcp", f"127.0.0.1:{unused_tcp_port}"],
            stderr=stderr,
            cwd=workspace,
        )
    try:
        deadline = time.monotonic() + DEADLINE
        while True:  # until the server listens
            try:
                connection = socket.create_connection(("127.0.0.1", unused_tcp_port), timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        connection.settimeout(None)
        with connection, connection.makefile("rb") as incoming:
            raw = RawSession(workspace, log, send=connection.sendall)
            raw.listen(incoming)
            raw.initialize()
            body = encode(hover_request(workspace, "lost"))
            assert_skipped_to_the_next_message(raw, b"Content-Length: abc\r\n\r\n" + body)
            raw.request("shutdown", None, "bye")
            raw.send({"jsonrpc": "2.0", "method": "exit"})
            assert server.wait(timeout=DEADLINE) == 0
        assert "Traceback" not in log.read_text()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
