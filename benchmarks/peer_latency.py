"""ARK's language server against its peers: one editor scenario, one driver, one run.

Every server is started over stdio by the same pygls client with VS Code's
client capabilities (diagnostics pushed, UTF-16 positions), on the same
workspace (django's sdist), the same file (django's
``db/models/fields/__init__.py``, 2,890 lines) and the same edits and hovers
as ``editor_latency.py`` (its scenario code is shared, not copied):

- **spawn to first diagnostics**: from starting the process, through
  ``initialize``, ``initialized`` and ``didOpen``, to the first
  ``publishDiagnostics`` for the file; median of ``--spawns`` starts, each
  server's rounds interleaved with the others', after one untimed start per
  server (ARK's builds its index of the workspace, so the timed starts are
  on a warm workspace, as a user's restart is).
- **edit to diagnostics**: a one-line edit near the middle of the file
  (a line added after a one-line assignment, then retyped), timed until the
  server publishes diagnostics for it; p50 and p95. A server that publishes
  nothing for the first edit is reported as not publishing on change.
- **hover**: definitions and call sites alternating, spread over the file,
  the first hover of the session included; p50 and p95.
- **memory**: the resident set of the server's whole process tree (the
  server and every process it started) after the edits.

The servers run side by side: every edit and every hover goes to each in
turn, so a change of load on the machine meets all of them alike. Every row
gives ARK's figure divided by each peer's: below 1, ARK is faster (or
smaller).

Every server gets its defaults: no settings (``workspace/configuration`` is
answered with nothing) but for ruff's, told to ignore settings files, since
the ones above the corpus are this repository's and exclude it. The client
offers no pull diagnostics, so every server pushes them. The Python servers
run with bytecode caching on (``index_speed.py``'s environment), and the
first, untimed start of each compiles what it imports.

The table also gives the time from spawn to ``initialize``'s answer and from
``shutdown`` to the process's end.

The peers are installed at pinned versions into ``benchmarks/.cache/peers/``
(a venv from PyPI, pyright from npm), never into ARK's environment; the
first run installs them, later runs reuse them.

Run: ``.venv/bin/python benchmarks/peer_latency.py [--edits 50] [--hovers 50]
[--spawns 5] [--quick] [--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    CHILD_ENV,
    load_average,
    machine,
    machine_line,
    now,
    print_report,
    progress_to_stderr,
)
from corpus import CACHE, CorpusError, django_source
from editor_latency import (
    EDITED_FILE,
    answer_server_requests,
    edit_point,
    hover_points,
    one_line_edit,
    percentile,
    process_tree,
)
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.protocol import JsonRPCResponseMessage, default_converter
from pytest_lsp import client_capabilities

REPOSITORY = Path(__file__).resolve().parent.parent
PEERS = CACHE / "peers"
PEER_VENV = PEERS / "venv"
PEER_NPM = PEERS / "npm"
PYPI_PINS = (
    "ruff==0.17.6",
    "python-lsp-server==1.15.0",
    # pylsp's default linters: it runs each that is installed.
    "pyflakes==3.2.0",
    "pycodestyle==2.12.1",
    "mccabe==0.7.0",
    "jedi-language-server==0.47.0",
    "jedi==0.20.1",
)
NPM_PINS = ("pyright@1.1.414",)
ARK = "ARK"
PEER_NAMES = ("ruff server", "pylsp", "jedi-language-server", "pyright")
QUICK_PEERS = ("ruff server",)
FIRST_PUBLISH_TIMEOUT_S = 120.0
EDIT_TIMEOUT_S = 30.0
HOVER_TIMEOUT_S = 60.0
INDEX_TIMEOUT_S = 900.0
STOP_TIMEOUT_S = 15.0
EDIT_PAUSE_S = 0.06
SETTLE_S = 2.0


progress = progress_to_stderr("peer_latency")


class PeerInstallError(Exception):
    """The peers could not be installed (one-line message)."""


class ServerError(Exception):
    """A server did not start or answer as the scenario needs (one-line message)."""


# --- the servers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """How to start one language server."""

    name: str
    version: str
    command: tuple[str, ...]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] | None = None


def _installed(stamp: Path, pins: Sequence[str]) -> bool:
    return stamp.is_file() and stamp.read_text() == "\n".join(pins)


def _run_installer(command: Sequence[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PeerInstallError(f"cannot install {what}: {last[0]}")


def install_pypi_peers() -> Path:
    """The peers' venv with PYPI_PINS installed (once); returns its ``bin`` folder."""
    stamp = PEER_VENV / "pins.txt"
    if not _installed(stamp, PYPI_PINS):
        progress(f"installing {', '.join(PYPI_PINS)} into {PEER_VENV}")
        shutil.rmtree(PEER_VENV, ignore_errors=True)
        venv.EnvBuilder(with_pip=True).create(PEER_VENV)
        pip = [str(PEER_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        _run_installer([*pip, *PYPI_PINS], "the PyPI peers")
        stamp.write_text("\n".join(PYPI_PINS))
    return PEER_VENV / "bin"


def install_npm_peers() -> Path | None:
    """pyright from npm (once); its ``.bin`` folder, or None without npm."""
    npm = shutil.which("npm")
    if npm is None:
        return None
    stamp = PEER_NPM / "pins.txt"
    if not _installed(stamp, NPM_PINS):
        progress(f"installing {', '.join(NPM_PINS)} into {PEER_NPM}")
        shutil.rmtree(PEER_NPM, ignore_errors=True)
        PEER_NPM.mkdir(parents=True)
        _run_installer(
            [npm, "install", "--prefix", str(PEER_NPM), "--no-audit", "--no-fund", *NPM_PINS],
            "pyright",
        )
        stamp.write_text("\n".join(NPM_PINS))
    return PEER_NPM / "node_modules" / ".bin"


def _pin(pins: Sequence[str], name: str, separator: str) -> str:
    return next(pin.split(separator)[1] for pin in pins if pin.startswith(name + separator))


def servers(root: Path, database: Path, peers: Sequence[str]) -> tuple[list[Server], list[str]]:
    """ARK and the ``peers`` asked for, and notes on any left out."""
    from ark_lsp import __version__ as ark_version

    ark = Server(
        ARK,
        ark_version,
        (sys.executable, "-m", "ark_lsp"),
        # `-m ark_lsp` imports from its working folder first: this repository's ARK.
        cwd=REPOSITORY,
        env={"ARK_DATABASE": str(database)},
    )
    chosen, notes = [ark], []
    pypi = install_pypi_peers()
    candidates = {
        "ruff server": Server(
            "ruff server",
            _pin(PYPI_PINS, "ruff", "=="),
            (str(pypi / "ruff"), "server"),
            root,
            # ruff looks for its settings in the folders above a file too, and the corpus
            # lies under this repository, whose own settings exclude it: ruff would publish
            # nothing for it. Its defaults instead, as for a project with no ruff settings.
            options={"settings": {"configurationPreference": "editorOnly"}},
        ),
        "pylsp": Server(
            "pylsp", _pin(PYPI_PINS, "python-lsp-server", "=="), (str(pypi / "pylsp"),), root
        ),
        "jedi-language-server": Server(
            "jedi-language-server",
            _pin(PYPI_PINS, "jedi-language-server", "=="),
            (str(pypi / "jedi-language-server"),),
            root,
        ),
    }
    if "pyright" in peers:
        npm = install_npm_peers()
        if npm is None:
            notes.append("pyright left out: npm is not installed")
        else:
            candidates["pyright"] = Server(
                "pyright",
                _pin(NPM_PINS, "pyright", "@"),
                (str(npm / "pyright-langserver"), "--stdio"),
                root,
            )
    chosen += [candidates[name] for name in peers if name in candidates]
    return chosen, notes


# --- one started server --------------------------------------------------------------------------


@dataclass
class Session:
    """A started server and the diagnostics it published, per document."""

    server: Server
    client: LanguageClient
    started: float
    initialized_at: float | None = None
    publishes: dict[str, list[tuple[float, int | None]]] = field(default_factory=dict)
    index_ready: bool = False
    stderr_tail: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def pid(self) -> int:
        process = self.client._server  # the subprocess pygls started
        assert process is not None
        return int(process.pid)

    def seen(self, uri: str) -> int:
        return len(self.publishes.get(uri, ()))

    async def publish_after(
        self, uri: str, count: int, version: int | None, timeout: float
    ) -> float | None:
        """When the first publish for ``uri`` after the ``count`` seen came; None on timeout.

        Where the server tags its publishes with the document's version, only
        one for ``version`` counts, so a late publish of an earlier edit is
        never taken for this one's.
        """
        deadline = time.perf_counter() + timeout
        while True:
            for at, published in self.publishes.get(uri, [])[count:]:
                if version is None or published is None or published == version:
                    return at
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return None
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                return None

    async def until_index_ready(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while not self.index_ready:
            self.changed.clear()
            remaining = deadline - time.perf_counter()
            try:
                await asyncio.wait_for(self.changed.wait(), max(remaining, 0))
            except TimeoutError:
                raise ServerError(f"{self.server.name}: no index within {timeout:.0f} s") from None


def _converter() -> Any:
    """lsprotocol's converter, leaving the ``initialize`` result as the JSON it came in.

    ruff's server declares notebook filters that lsprotocol 2025.0.0 cannot
    structure; the benchmark reads nothing of any server's capabilities.
    """
    converter = default_converter()

    def raw_response(data: dict[str, Any], _: Any) -> JsonRPCResponseMessage:
        return JsonRPCResponseMessage(
            id=data["id"], jsonrpc=data["jsonrpc"], result=data.get("result")
        )

    converter.register_structure_hook(types.InitializeResponse, raw_response)
    return converter


async def _drain_stderr(session: Session) -> None:
    process = session.client._server
    assert process is not None and process.stderr is not None
    while line := await process.stderr.readline():
        session.stderr_tail = [*session.stderr_tail[-19:], line.decode(errors="replace")]


async def start(server: Server, root: Path) -> Session:
    """Start ``server`` on ``root``: spawned, initialized; nothing opened yet."""
    client = LanguageClient("ark-peer-benchmark", "1", converter_factory=_converter)
    session = Session(server, client, time.perf_counter())
    answer_server_requests(client)

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        session.publishes.setdefault(params.uri, []).append((time.perf_counter(), params.version))
        session.changed.set()

    @client.feature("ark/status")
    def on_status(params: Any) -> None:
        if all(folder.state == "ready" for folder in params.folders):
            session.index_ready = True
            session.changed.set()

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def on_log(params: types.LogMessageParams) -> None:
        return None

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def on_message(params: types.ShowMessageParams) -> None:
        return None

    # Bytecode cached, as when installed: a machine that sets PYTHONDONTWRITEBYTECODE would
    # have a Python server compile its own modules at every start.
    env = {**CHILD_ENV, **server.env}
    session.started = time.perf_counter()
    await client.start_io(*server.command, env=env, cwd=str(server.cwd))
    # pygls pipes the server's stderr and never reads it: a chatty server would block on
    # a full pipe. Read it, keeping the last lines for an error message.
    client._async_tasks.append(asyncio.create_task(_drain_stderr(session)))
    initialize = client.initialize_async(
        types.InitializeParams(
            process_id=os.getpid(),
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options=server.options,
        )
    )
    try:
        await asyncio.wait_for(initialize, FIRST_PUBLISH_TIMEOUT_S)
    except TimeoutError:
        raise ServerError(f"{server.name} did not answer initialize") from None
    session.initialized_at = time.perf_counter()
    client.initialized(types.InitializedParams())
    return session


def open_document(session: Session, uri: str, text: str) -> None:
    session.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )


async def stop(session: Session) -> float | None:
    """Shut the server down as an editor does; kill it if it does not exit.

    Returns the milliseconds from ``shutdown`` to the process's end, or None
    if it had to be killed.
    """
    client, process = session.client, session.client._server
    assert process is not None
    began, ended = time.perf_counter(), None
    try:
        await asyncio.wait_for(client.shutdown_async(None), STOP_TIMEOUT_S)
        client.exit(None)
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        ended = (time.perf_counter() - began) * 1000
    except (TimeoutError, RuntimeError):  # RuntimeError: pygls saw the process end first
        if process.returncode is None:
            progress(f"{session.server.name} did not exit when asked: killed")
            process.kill()
    try:
        await asyncio.wait_for(client.stop(), STOP_TIMEOUT_S)
    except TimeoutError:
        raise ServerError(f"{session.server.name}: its streams did not close") from None
    return ended


def tree_memory_mb(pid: int) -> dict[str, float]:
    """Resident set (and proportional set) of the whole tree under ``pid``, in MB.

    The resident sets add pages shared between the processes once per
    process; the proportional sets share them out, so their sum counts each
    page once.
    """
    rss = pss = 0.0
    processes = 0
    for member in process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                key, _, rest = line.partition(":")
                if key == "Rss":
                    rss += int(rest.split()[0]) / 1024
                elif key == "Pss":
                    pss += int(rest.split()[0]) / 1024
            processes += 1
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
    return {"rss": round(rss, 1), "pss": round(pss, 1), "processes": processes}


# --- the scenario --------------------------------------------------------------------------------


async def time_spawns(
    chosen: Sequence[Server], root: Path, uri: str, text: str, spawns: int
) -> dict[str, dict[str, list[float]]]:
    """Milliseconds from spawn to ``initialize``'s answer and to the first diagnostics.

    ``spawns`` starts per server, the servers' starts interleaved; the two
    lists of a server are of the same starts.

    One untimed start per server comes first: ARK's indexes the workspace
    (and waits until it is done), every server's fills the page cache and
    compiles its bytecode.
    """
    samples: dict[str, dict[str, list[float]]] = {
        server.name: {"initialize": [], "diagnostics": [], "exit": []} for server in chosen
    }
    for round_ in range(spawns + 1):
        if round_:
            progress(f"timed starts, round {round_} of {spawns}")
        for server in chosen:
            session = await start(server, root)
            open_document(session, uri, text)
            at = await session.publish_after(uri, 0, None, FIRST_PUBLISH_TIMEOUT_S)
            if round_ == 0:
                progress(f"{server.name}: started once untimed")
                if server.name == ARK:
                    await session.until_index_ready(INDEX_TIMEOUT_S)
            elif at is None:
                progress(
                    f"{server.name}: no diagnostics {FIRST_PUBLISH_TIMEOUT_S:.0f} s after a start"
                )
            elif session.initialized_at is not None:
                samples[server.name]["initialize"].append(
                    (session.initialized_at - session.started) * 1000
                )
                samples[server.name]["diagnostics"].append((at - session.started) * 1000)
            exited = await stop(session)
            if round_ and exited is not None:
                samples[server.name]["exit"].append(exited)
    return samples


@dataclass
class Edits:
    """What one server did with the edits."""

    latencies_ms: list[float] = field(default_factory=list)
    publishes_on_change: bool = True
    missed: int = 0


async def time_edits(
    sessions: Sequence[Session], uri: str, text: str, edits: int
) -> dict[str, Edits]:
    """Milliseconds from each edit to its diagnostics, the servers taking turns."""
    middle, indent = edit_point(text)
    results = {session.server.name: Edits() for session in sessions}
    for version in range(2, edits + 2):
        change, _ = one_line_edit(middle, indent, version)
        for session in sessions:
            result = results[session.server.name]
            seen = session.seen(uri)
            began = time.perf_counter()
            session.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[change],
                )
            )
            if result.publishes_on_change:
                at = await session.publish_after(uri, seen, version, EDIT_TIMEOUT_S)
                if at is not None:
                    result.latencies_ms.append((at - began) * 1000)
                elif version == 2:
                    result.publishes_on_change = False
                    progress(f"{session.server.name}: no diagnostics published for an edit")
                else:
                    result.missed += 1
            # A user pauses between keystrokes; back-to-back edits would be coalesced.
            await asyncio.sleep(EDIT_PAUSE_S)
    return results


def edited_text(text: str, edits: int) -> str:
    """The document after ``edits`` edits, as every server holds it."""
    if edits == 0:
        return text
    middle, indent = edit_point(text)
    lines = text.splitlines(keepends=True)
    _, line = one_line_edit(middle, indent, edits + 1)
    lines[middle:middle] = [line]
    return "".join(lines)


def hover_positions(text: str, count: int) -> list[types.Position]:
    """``count`` positions, definitions and call sites alternating, spread over the file."""
    definitions, calls = hover_points(text)

    def spread(points: list[types.Position], wanted: int) -> list[types.Position]:
        if wanted >= len(points):
            return points
        return [points[round(i * (len(points) - 1) / max(wanted - 1, 1))] for i in range(wanted)]

    definitions = sorted(definitions, key=lambda p: (p.line, p.character))
    calls = sorted(calls, key=lambda p: (p.line, p.character))
    picked_definitions = spread(definitions, (count + 1) // 2)
    picked_calls = spread(calls, count - len(picked_definitions))
    mixed = []
    for index in range(max(len(picked_definitions), len(picked_calls))):
        mixed += picked_definitions[index : index + 1] + picked_calls[index : index + 1]
    return mixed[:count]


async def time_hovers(
    sessions: Sequence[Session], uri: str, positions: Sequence[types.Position]
) -> dict[str, dict[str, Any]]:
    """Milliseconds per hover, each position asked of every server in turn."""
    results: dict[str, dict[str, Any]] = {
        session.server.name: {"samples": [], "answered": 0, "timeouts": 0} for session in sessions
    }
    for position in positions:
        for session in sessions:
            result = results[session.server.name]
            began = time.perf_counter()
            try:
                answer = await asyncio.wait_for(
                    session.client.text_document_hover_async(
                        types.HoverParams(
                            text_document=types.TextDocumentIdentifier(uri=uri), position=position
                        )
                    ),
                    HOVER_TIMEOUT_S,
                )
            except TimeoutError:
                result["timeouts"] += 1
                continue
            result["samples"].append((time.perf_counter() - began) * 1000)
            result["answered"] += answer is not None
    return results


def _median(samples: Sequence[float]) -> float | None:
    return round(statistics.median(samples), 1) if samples else None


def summary(samples: Sequence[float]) -> dict[str, Any]:
    if not samples:
        return {"p50": None, "p95": None, "count": 0}
    return {
        "p50": round(percentile(samples, 0.50), 2),
        "p95": round(percentile(samples, 0.95), 2),
        "count": len(samples),
    }


async def measure(
    chosen: Sequence[Server], root: Path, file: Path, edits: int, hovers: int, spawns: int
) -> dict[str, Any]:
    text = file.read_text()
    uri = file.as_uri()
    progress(f"spawn to first diagnostics: {spawns} starts of each server, interleaved")
    spawn_ms = await time_spawns(chosen, root, uri, text, spawns)

    progress("starting every server for the edits and hovers")
    sessions = []
    for server in chosen:
        session = await start(server, root)
        open_document(session, uri, text)
        await session.publish_after(uri, 0, None, FIRST_PUBLISH_TIMEOUT_S)
        sessions.append(session)
    await asyncio.sleep(SETTLE_S)  # a user reads the file before typing
    try:
        progress(f"{edits} edits of a {text.count(chr(10)):,}-line file, servers taking turns")
        edit_results = await time_edits(sessions, uri, text, edits)
        memory = {session.server.name: tree_memory_mb(session.pid) for session in sessions}
        positions = hover_positions(edited_text(text, edits), hovers)
        progress(f"{len(positions)} hovers, definitions and call sites alternating")
        hover_results = await time_hovers(sessions, uri, positions)
    finally:
        for session in sessions:
            await stop(session)

    results = {}
    for server in chosen:
        edited, hovered = edit_results[server.name], hover_results[server.name]
        results[server.name] = {
            "version": server.version,
            "spawn_ms": {
                "median": _median(spawn_ms[server.name]["diagnostics"]),
                "initialize_median": _median(spawn_ms[server.name]["initialize"]),
                "exit_median": _median(spawn_ms[server.name]["exit"]),
                "killed": spawns - len(spawn_ms[server.name]["exit"]),
                "samples": [round(sample, 1) for sample in spawn_ms[server.name]["diagnostics"]],
            },
            "edit_ms": {
                **summary(edited.latencies_ms),
                "publishes_on_change": edited.publishes_on_change,
                "missed": edited.missed,
            },
            "hover_ms": {
                **summary(hovered["samples"]),
                "first": round(hovered["samples"][0], 1) if hovered["samples"] else None,
                "answered": hovered["answered"],
                "timeouts": hovered["timeouts"],
            },
            "memory_mb": memory[server.name],
        }
    return {"file_lines": text.count("\n"), "hovers": len(positions), "servers": results}


# --- the report ----------------------------------------------------------------------------------

ROWS = (
    ("spawn to initialize answered, median", ("spawn_ms", "initialize_median"), "ms"),
    ("spawn to first diagnostics, median", ("spawn_ms", "median"), "ms"),
    ("shutdown to exit, median", ("spawn_ms", "exit_median"), "ms"),
    ("edit to diagnostics, p50", ("edit_ms", "p50"), "ms"),
    ("edit to diagnostics, p95", ("edit_ms", "p95"), "ms"),
    ("hover, p50", ("hover_ms", "p50"), "ms"),
    ("hover, p95", ("hover_ms", "p95"), "ms"),
    ("hover, the first", ("hover_ms", "first"), "ms"),
    ("resident memory, process tree", ("memory_mb", "rss"), "MB"),
)


def _value(result: dict[str, Any], path: tuple[str, str]) -> float | None:
    value = result[path[0]][path[1]]
    return None if value is None else float(value)


def ratios(servers_: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """ARK's figure over each peer's, per row: below 1, ARK is faster or smaller."""
    ark = servers_[ARK]
    table: dict[str, dict[str, float | None]] = {}
    for name, result in servers_.items():
        if name == ARK:
            continue
        table[name] = {}
        for label, path, _ in ROWS:
            mine, theirs = _value(ark, path), _value(result, path)
            # Three significant figures: a peer 200 times slower shows as 0.005, not 0.00.
            table[name][label] = (
                float(f"{mine / theirs:.3g}") if mine is not None and theirs else None
            )
    return table


def as_table(data: dict[str, Any]) -> str:
    m, r = data["machine"], data["results"]
    names = list(r["servers"])
    lines = [
        f"ARK against its peers: {data['file']} ({r['file_lines']:,} lines)",
        machine_line(m),
        f"  {data['date']}, load average {data['load_average']['start']} at the start,"
        f" {data['load_average']['end']} at the end",
        f"  {data['settings']['edits']} edits, {r['hovers']} hovers,"
        f" {data['settings']['spawns']} timed starts per server",
        "",
        "servers: " + ", ".join(f"{name} {r['servers'][name]['version']}" for name in names),
        "each peer's column: its figure (ARK's divided by it; below 1, ARK is faster or smaller)",
        "",
    ]
    width = max(len(label) for label, _, _ in ROWS) + 2
    cells = [["", *names]]
    for label, path, unit in ROWS:
        row = [label]
        ark = _value(r["servers"][ARK], path)
        for name in names:
            value = _value(r["servers"][name], path)
            if value is None:
                row.append("-")
            elif name == ARK:
                row.append(f"{value:.1f} {unit}")
            else:
                ratio = data["ratios"][name][label]
                shown = f"{ratio:.3g}x" if ratio is not None and ark is not None else "-"
                row.append(f"{value:.1f} {unit} ({shown})")
        cells.append(row)
    widths = [width] + [max(len(row[i]) for row in cells) + 2 for i in range(1, len(names) + 1)]
    for row in cells:
        lines.append(
            row[0].ljust(widths[0])
            + "".join(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))
        )
    answered = [f"{name} {r['servers'][name]['hover_ms']['answered']}" for name in names]
    lines += ["", f"hovers answered with content (of {r['hovers']}): {', '.join(answered)}"]
    for name in names:
        result = r["servers"][name]
        if not result["edit_ms"]["publishes_on_change"]:
            lines.append(f"note: {name} publishes no diagnostics on a change")
        if result["edit_ms"]["missed"]:
            lines.append(f"note: {name} published nothing for {result['edit_ms']['missed']} edits")
        if result["spawn_ms"]["killed"]:
            lines.append(
                f"note: {name} did not exit within {STOP_TIMEOUT_S:.0f} s of shutdown"
                f" {result['spawn_ms']['killed']} times, and was killed"
            )
        if result["hover_ms"]["timeouts"]:
            lines.append(f"note: {name}: {result['hover_ms']['timeouts']} hovers timed out")
    lines += [f"note: {note}" for note in data["notes"]]
    return "\n".join(lines).rstrip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="peer_latency")
    parser.add_argument("--edits", type=int, default=50, help="edits to time")
    parser.add_argument("--hovers", type=int, default=50, help="hovers to time")
    parser.add_argument("--spawns", type=int, default=5, help="timed starts per server")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="ARK and ruff's server only, 5 edits, 6 hovers, 1 timed start",
    )
    parser.add_argument("--corpus", type=Path, help="workspace instead of django's sdist")
    parser.add_argument(
        "--file", help=f"the edited file, relative to the workspace (default {EDITED_FILE})"
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    args = parser.parse_args(argv)
    if args.quick:
        args.edits, args.hovers, args.spawns = min(args.edits, 5), min(args.hovers, 6), 1
    try:
        root = (args.corpus or django_source()).resolve()
    except CorpusError as error:
        print(f"peer_latency: {error}", file=sys.stderr)
        return 1
    file = root / (args.file or EDITED_FILE)
    if not file.is_file():
        print(f"peer_latency: no file {file}", file=sys.stderr)
        return 1
    started_load = load_average()
    when = now()
    with tempfile.TemporaryDirectory(prefix="ark-peer-bench-") as scratch:
        try:
            chosen, notes = servers(
                root, Path(scratch) / "index.db", QUICK_PEERS if args.quick else PEER_NAMES
            )
        except PeerInstallError as error:
            print(f"peer_latency: {error}", file=sys.stderr)
            return 1
        try:
            results = asyncio.run(measure(chosen, root, file, args.edits, args.hovers, args.spawns))
        except ServerError as error:
            print(f"peer_latency: {error}", file=sys.stderr)
            return 1
    data = {
        "date": when,
        "corpus": str(root),
        "file": str(file.relative_to(root)),
        "machine": machine(),
        "load_average": {"start": started_load, "end": load_average()},
        "settings": {"edits": args.edits, "hovers": args.hovers, "spawns": args.spawns},
        "results": results,
        "ratios": ratios(results["servers"]),
        "notes": notes,
    }
    print_report(data, args.json, as_table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
