"""The start before the server: a warm workspace's first diagnostics, before pygls is imported.

An editor spawns the server and waits for the diagnostics of the file it
shows. On a warm workspace those are the index's stored findings (see
:mod:`~ark_lsp.workflows.indexed_findings`): a read of the database, a few
milliseconds. Importing the server (asyncio, attrs, cattrs, pygls and the
protocol's types) costs ten times that. So ``ark-lsp`` first runs this
prelude on the raw stream, with none of those imported:

1. ``initialize`` is answered with what the server answered the last time
   a client with these capabilities and options started it, kept in ARK's
   user cache (:class:`InitializeAnswers`), keyed by the server's own files;
2. on ``initialized`` the folders' settings are asked for, as the server
   would ask (``workspace/configuration``);
3. the document the editor opened with ``initialized`` gets its indexed
   findings, if the index analysed that very text under those settings:
   published, or, to a client that pulls diagnostics, as the answer to its
   first pull of that document, when that came with the opening.

Then the server is imported and takes over (:class:`Handover`): it handles
every message the prelude read, in order, as if it had read them itself,
takes the client's settings from the prelude's question instead of asking
again, and what it would send twice (its own answer to ``initialize``, the
same diagnostics of the same version, its answer to a pull the prelude
answered) is not sent (:class:`HandoverWriter`). Anything the prelude does
not expect (no cached answer, a client that cannot be asked for settings, a
message other than those, settings with a problem to report, a file the
index did not analyse as it is) ends it at once: the server starts as it
would have, from the messages read so far.
"""

from __future__ import annotations

import json
import logging
import os
import select
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from ark_lsp.server.diagnostic_sources import PULL_IDENTIFIER
from ark_lsp.server.frames import READ_CHUNK_BYTES, FrameError, Framer, is_request_id

if TYPE_CHECKING:
    from ark_lsp.server.folders import Folders
    from ark_lsp.store import ViolationRecord

logger = logging.getLogger(__name__)

CONFIGURATION_REQUEST_ID = "ark-start-configuration"
"""The id of the prelude's ``workspace/configuration`` request."""

CONFIGURATION_WAIT_S = 2.0
"""Seconds the prelude waits for the client's settings before the server starts and asks again."""

PULL_WAIT_S = 0.1
"""Seconds the prelude waits, once the settings are in, for a pulling client's first pull."""

SHOWN_BEFORE_THE_SERVER = "first diagnostics sent before the server was imported"
"""The debug log's line when the prelude published (or answered a pull with) diagnostics."""

ANSWERS_FOLDER = "initialize"
"""The user cache's folder of answers to ``initialize``."""

VOLATILE_PARAMS = frozenset(
    {"processId", "clientInfo", "locale", "rootPath", "rootUri", "workspaceFolders", "trace"}
)
"""What ``initialize`` carries that the server's capabilities do not depend on."""

_CONTENT_TYPE = b"Content-Type: application/vscode-jsonrpc; charset=utf-8"
"""The header line pygls writes after the length."""

_SEVERITY = {"error": 1, "warning": 2, "info": 3}
"""A stored violation's severity as LSP's ``DiagnosticSeverity``."""


@dataclass
class Handover:
    """What the prelude read, sent and learnt, for the server to go on from."""

    framer: Framer = field(default_factory=Framer)
    """What was read from the client after :attr:`replay`."""
    replay: list[bytes | FrameError] = field(default_factory=list)
    """Messages read, for the server to handle first, in order."""
    answers: InitializeAnswers | None = None
    """Where the server's answers to ``initialize`` are kept."""
    initialize_id: int | str | None = None
    """The id of the client's ``initialize``, when that was the first message."""
    answer_key: str | None = None
    """The key of this client's answer to ``initialize`` in :attr:`answers`."""
    answered: dict[str, Any] | None = None
    """The answer the prelude sent to ``initialize``; None if the server is to answer."""
    configuration: tuple[list[dict[str, str]], list[Any]] | None = None
    """The settings the prelude asked for and the client's answer."""
    published: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The ``publishDiagnostics`` the prelude sent, by document URI."""
    pulls_answered: set[int | str] = field(default_factory=set)
    """The ids of the client's diagnostic pulls the prelude answered."""

    def take_replay(self) -> list[bytes | FrameError]:
        """The messages read, handed over once (the opened document's text goes with them)."""
        replay, self.replay = self.replay, []
        return replay

    def settings_answered(self, items: list[dict[str, str]]) -> list[Any] | None:
        """The client's answer, once, if the prelude asked it for exactly these ``items``."""
        if self.configuration is None or self.configuration[0] != items:
            return None
        answer, self.configuration = self.configuration[1], None
        return answer


class _Stop(Exception):
    """The prelude ends here: the server goes on from what was read."""


class Prelude:
    """Reads the client's first messages off a file descriptor and answers what it can."""

    def __init__(self, read_fd: int, out: BinaryIO, answers: InitializeAnswers) -> None:
        self._read_fd = read_fd
        self._out = out
        self._answers = answers
        self.handover = Handover(answers=answers)

    def run(self) -> Handover:
        """Answer what can be answered without the server; what it takes over from."""
        try:
            self._run()
        except _Stop:
            pass
        except Exception:  # the server starts as it would have: the prelude only saves time
            logger.exception("the start's prelude failed; the server takes over")
        return self.handover

    def _run(self) -> None:
        handover = self.handover
        initialize = self._read()
        params = initialize.get("params")
        if initialize.get("method") != "initialize" or not is_request_id(initialize.get("id")):
            raise _Stop  # the server answers, or refuses, it
        if not isinstance(params, dict):
            raise _Stop
        handover.initialize_id = initialize["id"]
        handover.answer_key = self._answers.key(params)
        answer = self._answers.get(handover.answer_key)
        mode = diagnostics_mode(params)
        if answer is None or mode is None:
            raise _Stop
        self._send({"id": handover.initialize_id, "jsonrpc": "2.0", "result": answer})
        handover.answered = answer
        if self._read().get("method") != "initialized":
            raise _Stop
        folders = _start_folders(params)
        items = [{"scopeUri": f.uri, "section": "ark"} for f in folders.all()]
        if not items:
            raise _Stop
        self._send(
            {
                "id": CONFIGURATION_REQUEST_ID,
                "params": {"items": items},
                "method": "workspace/configuration",
                "jsonrpc": "2.0",
            }
        )
        opened, pulled, others = self._read_until_configured(items, pulls=mode == "pull")
        if opened is None or others:
            raise _Stop
        if mode == "pull" and pulled is None:
            pulled = self._next_pull()
        self._show_indexed(opened, pulled, folders, params, answer)

    def _read_until_configured(
        self, items: list[dict[str, str]], *, pulls: bool
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, bool]:
        """What came before the client's settings, and whether anything else came.

        The first document opened and, from a client that pulls diagnostics,
        its first pull.
        """
        deadline = time.monotonic() + CONFIGURATION_WAIT_S
        opened: dict[str, Any] | None = None
        pulled: dict[str, Any] | None = None
        others = False
        while True:
            item = self._next(deadline)
            message = _message(item)
            if message.get("id") == CONFIGURATION_REQUEST_ID and "method" not in message:
                break
            self.handover.replay.append(item)  # the server says what is wrong with it, if aught
            method = message.get("method")
            if method == "textDocument/didOpen" and opened is None:
                opened = message
            elif method == "textDocument/diagnostic" and pulls and opened and not pulled:
                pulled = message
            else:
                others = True
        sections = message.get("result")
        if not isinstance(sections, list) or len(sections) != len(items):
            raise _Stop  # the server asks again, and handles what the client says then
        self.handover.configuration = (items, sections)
        return opened, pulled, others

    def _next_pull(self) -> dict[str, Any]:
        """The client's pull of the opened document, if that is what comes next, soon."""
        item = self._next(time.monotonic() + PULL_WAIT_S)
        self.handover.replay.append(item)
        message = _message(item)
        if message.get("method") != "textDocument/diagnostic":
            raise _Stop
        return message

    def _show_indexed(
        self,
        opened: dict[str, Any],
        pulled: dict[str, Any] | None,
        folders: Folders,
        params: dict[str, Any],
        answer: dict[str, Any],
    ) -> None:
        """Send the opened document's indexed findings, as the server would.

        Published; or, with ``pulled``, the client's first pull of the
        document, answered.
        """
        from ark_lsp.server.folders import configure_folders, editor_settings, editor_trust
        from ark_lsp.workflows.indexed_findings import indexed_findings

        assert self.handover.configuration is not None
        options = params.get("initializationOptions")
        sections = self.handover.configuration[1]
        problems = configure_folders(
            folders.all(), editor_settings(options), sections, editor_trust(options)
        )
        if any(problems):
            raise _Stop  # the server reports them first
        document = opened.get("params", {}).get("textDocument", {})
        uri, version, text = document.get("uri"), document.get("version"), document.get("text")
        if not (isinstance(uri, str) and isinstance(version, int) and isinstance(text, str)):
            raise _Stop
        shown_in, relative = folders.locate(uri)
        if shown_in is None or shown_in.restricted or not shown_in.project.database.is_file():
            raise _Stop
        try:
            store = shown_in.reader()
            records = indexed_findings(store, shown_in.settings, relative, text) if store else None
        finally:
            folders.close()
        if records is None:
            raise _Stop
        encoding = answer.get("capabilities", {}).get("positionEncoding", "utf-16")
        lines = text.splitlines(True)  # as pygls's TextDocument counts them
        diagnostics = [published_diagnostic(r, lines, encoding) for r in records]
        if pulled is not None:
            self._answer_pull(pulled, uri, diagnostics)
        else:
            published = {"uri": uri, "diagnostics": diagnostics, "version": version}
            self._send(
                {"params": published, "method": "textDocument/publishDiagnostics", "jsonrpc": "2.0"}
            )
            self.handover.published[uri] = published
        logger.debug("%s: %s, version %d", SHOWN_BEFORE_THE_SERVER, uri, version)

    def _answer_pull(
        self, pulled: dict[str, Any], uri: str, diagnostics: list[dict[str, Any]]
    ) -> None:
        """Answer the client's first pull of the opened document, as the server's full report."""
        pull = pulled.get("params")
        if (
            not isinstance(pull, dict)
            or pull.get("textDocument", {}).get("uri") != uri
            or pull.get("previousResultId") is not None
            or pull.get("identifier") not in (None, PULL_IDENTIFIER)
            or not is_request_id(pulled.get("id"))
        ):
            raise _Stop
        report = {"items": diagnostics, "kind": "full"}
        self._send({"id": pulled["id"], "jsonrpc": "2.0", "result": report})
        self.handover.pulls_answered.add(pulled["id"])

    def _read(self) -> dict[str, Any]:
        """The next message, kept for the server to handle; empty if it is not one."""
        item = self._next(None)
        self.handover.replay.append(item)
        return _message(item)

    def _next(self, deadline: float | None) -> bytes | FrameError:
        framer = self.handover.framer
        while (item := framer.next()) is None:
            if deadline is not None:
                ready, _, _ = select.select([self._read_fd], [], [], deadline - time.monotonic())
                if not ready:
                    raise _Stop
            chunk = os.read(self._read_fd, READ_CHUNK_BYTES)
            if not chunk:
                raise _Stop  # the server's reader finds the end too, and ends
            framer.feed(chunk)
        return item

    def _send(self, message: dict[str, Any]) -> None:
        """Write a message as the server does, byte for byte (pygls's header, its key order)."""
        body = json.dumps(message).encode()
        self._out.write(b"Content-Length: %d\r\n%s\r\n\r\n%s" % (len(body), _CONTENT_TYPE, body))
        self._out.flush()


def _message(item: bytes | FrameError) -> dict[str, Any]:
    """A message read, as JSON; empty if it is not one (the server answers it)."""
    if isinstance(item, FrameError):
        return {}
    try:
        message = json.loads(item)
    except (ValueError, RecursionError):
        return {}
    return message if isinstance(message, dict) else {}


def diagnostics_mode(params: dict[str, Any]) -> str | None:
    """``push`` or ``pull``, as the server gives this client diagnostics.

    None for a client the server cannot ask for its settings. As
    :class:`~ark_lsp.server.client_support.ClientSupport` reads the
    capabilities: a client that pulls diagnostics is never pushed any.
    """
    capabilities = params.get("capabilities")
    if not isinstance(capabilities, dict):
        return None
    text_document = capabilities.get("textDocument") or {}
    workspace = capabilities.get("workspace") or {}
    if not isinstance(text_document, dict) or not isinstance(workspace, dict):
        return None
    if workspace.get("configuration") is not True:
        return None
    return "push" if text_document.get("diagnostic") is None else "pull"


def _start_folders(params: dict[str, Any]) -> Folders:
    """The folders the server's ``initialize`` starts with, from the same parameters."""
    from ark_lsp.server.folders import Folders, start_folder_uris

    listed = params.get("workspaceFolders") or []
    if not isinstance(listed, list) or not all(isinstance(f, dict) for f in listed):
        raise _Stop
    uris = start_folder_uris(
        [f.get("uri") for f in listed], params.get("rootUri"), params.get("rootPath")
    )
    folders = Folders()
    for uri in uris:
        if not isinstance(uri, str):
            raise _Stop
        folders.add(uri)
    return folders


def published_diagnostic(
    record: ViolationRecord, lines: list[str], encoding: str
) -> dict[str, Any]:
    """A stored violation as the server publishes it (``convert.stored_diagnostic``), as JSON."""
    from ark_lsp.rules import DOCS_URL
    from ark_lsp.server.diagnostic_sources import ANALYSIS_SOURCE

    return {
        "range": {
            "start": client_position(lines, record.line - 1, record.column, encoding),
            "end": client_position(lines, record.end_line - 1, record.end_column, encoding),
        },
        "message": record.message,
        "severity": _SEVERITY[record.severity],
        "code": record.rule,
        "codeDescription": {"href": DOCS_URL.format(rule=record.rule)},
        "source": ANALYSIS_SOURCE,
    }


def client_position(lines: list[str], line: int, character: int, encoding: str) -> dict[str, int]:
    """A code-point position in the client's encoding, as pygls's position codec gives it."""
    try:
        before = lines[line][:character]
    except IndexError:
        return {"line": len(lines), "character": 0}
    if encoding == "utf-32" or before.isascii():
        units = len(before)
    elif encoding == "utf-8":
        units = len(before.encode("utf-8", "surrogatepass"))
    else:
        units = len(before) + sum(1 for c in before if c > "\uffff")
    return {"line": line, "character": units}


class InitializeAnswers:
    """The server's answers to ``initialize``, kept by what the answer depends on.

    The key is the client's capabilities and options, and the size and time
    of the files that decide the server's capabilities (its own modules,
    pygls's and lsprotocol's): a change to any of them starts another entry.
    The server writes the entry when it answers; the prelude reads it.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def key(self, params: Mapping[str, Any]) -> str:
        """What the server's answer to these ``initialize`` parameters depends on, hashed."""
        from ark_lsp.files import sha256_hex

        kept = {k: v for k, v in params.items() if k not in VOLATILE_PARAMS}
        source = json.dumps([kept, _code_stamp(), sys.version], sort_keys=True)
        return sha256_hex(source.encode())[:40]

    def get(self, key: str) -> dict[str, Any] | None:
        """The answer kept under ``key``, if any."""
        try:
            answer = json.loads((self.folder / f"{key}.json").read_bytes())
        except (OSError, ValueError, RecursionError):
            return None
        return answer if isinstance(answer, dict) else None

    def put(self, key: str, answer: Any) -> None:
        """Keep the server's answer (written whole, then renamed; a failure only costs speed)."""
        from ark_lsp.server.generated_code import write_file

        write_file(self.folder / f"{key}.json", json.dumps(answer).encode())


def _code_stamp() -> list[str]:
    """The sizes and times of the files that decide the server's capabilities."""
    import importlib.util

    folders = [Path(__file__).parent]
    for package in ("pygls", "lsprotocol"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            folders.append(Path(next(iter(spec.submodule_search_locations))))
    stamps = []
    for folder in folders:
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.endswith(".py"):
                    stat = entry.stat()
                    stamps.append(f"{folder.name}/{entry.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return stamps


def user_answers() -> InitializeAnswers:
    """The answers kept in ARK's user cache."""
    from ark_lsp.user_folders import user_cache_folder

    return InitializeAnswers(user_cache_folder() / ANSWERS_FOLDER)


class _Writer(Protocol):
    def write(self, data: bytes) -> None: ...


class HandoverWriter:
    """The server's writer once the prelude ran: what the prelude sent is not sent twice.

    The server's answer to ``initialize`` is kept for the next start (and,
    when the prelude answered already, dropped); its first
    ``publishDiagnostics`` of a document the prelude published is dropped if
    it says the same, and its answer to a pull the prelude answered. Everything
    else passes through untouched, and only a message that may be one of those
    is read (a document closed before the server published for it would
    otherwise have every later message read).
    """

    def __init__(self, writer: _Writer, handover: Handover) -> None:
        self._writer = writer
        self._handover = handover
        self._awaiting_answer = handover.initialize_id is not None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)

    def write(self, data: bytes) -> None:
        if self._may_have_been_sent(data) and self._sent_before(data):
            return
        self._writer.write(data)

    def _may_have_been_sent(self, data: bytes) -> bool:
        """Whether ``data`` may answer or publish what the prelude did, by its bytes alone."""
        handover = self._handover
        if self._awaiting_answer:
            return True  # until the server answers initialize
        if handover.published and b'"textDocument/publishDiagnostics"' in data:
            return True
        return any(b'"id": %s,' % json.dumps(i).encode() in data for i in handover.pulls_answered)

    def _sent_before(self, data: bytes) -> bool:
        """Whether ``data`` is a message the prelude sent already; keeps the answer it sees."""
        _, _, body = data.partition(b"\r\n\r\n")
        try:
            message = json.loads(body)
        except ValueError:
            return False
        if not isinstance(message, dict):
            return False
        handover = self._handover
        if (
            self._awaiting_answer
            and "method" not in message
            and message.get("id") == handover.initialize_id
        ):
            self._awaiting_answer = False
            answer = message.get("result")
            kept = handover.answers
            if "result" in message and answer != handover.answered and kept and handover.answer_key:
                if handover.answered is not None:
                    logger.warning("the kept answer to initialize was not the server's: replaced")
                kept.put(handover.answer_key, answer)
            return handover.answered is not None  # the client has its answer already
        answering = message.get("id")
        if "method" not in message and is_request_id(answering):
            if answering not in handover.pulls_answered:
                return False
            handover.pulls_answered.discard(answering)
            return True  # the client has the prelude's answer to this pull
        if message.get("method") == "textDocument/publishDiagnostics":
            params = message.get("params") or {}
            published = handover.published.pop(str(params.get("uri")), None)
            return published is not None and published == params
        return False
