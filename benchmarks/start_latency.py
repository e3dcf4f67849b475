"""How soon a freshly spawned server shows diagnostics, against ruff's server in the same run.

What is measured, each row once per round, rounds interleaved, medians
reported (only ratios measured side by side mean anything on a shared
machine):

- **spawn to first diagnostics**: from starting the server's process until
  it publishes diagnostics for a file the client opened, with an editor's
  sequence sent as soon as allowed: ``initialize``, then on its answer
  ``initialized`` and ``didOpen``; requests the server makes (its settings,
  progress) are answered at once, as VS Code does. The workspace is warm:
  ARK's index of it was built by an untimed start first. The client sends
  VS Code 1.65's capabilities, as pytest-lsp ships them (a real editor's
  tree, which every server reads at ``initialize``): pushed diagnostics (no
  ``textDocument/diagnostic``), so every server publishes. ARK's row
  (``python -m ark_lsp``) and ruff's (``ruff server``, the peer) open the
  same file of the same workspace.
- **no answer kept**: the same, after removing the answers to
  ``initialize`` that ARK keeps in its user cache: a first start with an
  editor's capabilities (or after an upgrade of ARK), where the start's
  prelude cannot answer ``initialize`` and leaves the first diagnostics to
  the server (see ``ark_lsp/server/prelude.py``).
- **shutdown to exit**: from sending ``shutdown`` until the process has
  ended after ``exit``.
- **import**: ``import ark_lsp.server`` and ``create_server()`` timed inside
  a fresh interpreter, as ``ark-lsp`` does them (lsprotocol's classes made
  as first used): what a start pays before it can read ``initialize``.
  ``import lsprotocol.types`` alone, and a bare interpreter's start
  (``python -c pass``), are timed beside it for scale.

The servers run with bytecode caching on, as when installed
(``PYTHONDONTWRITEBYTECODE`` dropped, the cache under
``benchmarks/.cache/pycache``). The default workspace is django's source
(``corpus.py``) and the file its ``db/models/fields/__init__.py`` (2,890
lines), copied to a scratch folder first (under this repository, ruff
would read ARK's own ``pyproject.toml``, which leaves ``benchmarks/.cache``
out); ``--quick`` uses a small generated workspace instead, two rounds,
for the benchmark's own test. ARK's database lives in the scratch folder
(``ARK_DATABASE``).

Goal (issue 16): ARK's spawn to first diagnostics at most 250 ms.

``--baseline PATH`` times another checkout of ARK (``PATH`` put first on
its ``PYTHONPATH``) in the same rounds, on the same database: before and
after a change, side by side.

Run: ``.venv/bin/python benchmarks/start_latency.py [--runs 10] [--quick]
[--baseline PATH] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    CHILD_ENV,
    BenchmarkError,
    load_average,
    machine,
    machine_line,
    now,
    print_report,
    progress_to_stderr,
)
from corpus import CorpusError, django_source

from ark_lsp.server.prelude import ANSWERS_FOLDER
from ark_lsp.user_folders import user_cache_folder

EDITED_FILE = "django/db/models/fields/__init__.py"
GOAL_MS = 250.0
TIMEOUT_S = 60.0
INDEX_TIMEOUT_S = 900.0
"""The untimed first start indexes the whole corpus: django takes minutes on a loaded machine."""
KEPT_ANSWERS = user_cache_folder() / ANSWERS_FOLDER
"""Where ARK keeps its answers to ``initialize``, which its start's prelude sends."""
CLIENT_CAPABILITIES = "visual_studio_code_v1.65.2.json"
"""The editor whose ``initialize`` every server is sent: VS Code's capabilities, as pytest-lsp
ships them (pushed diagnostics, UTF-16 positions, settings on request). A real editor's
capabilities are a tree of some 80 protocol types, and reading them is part of a start."""


def editor_capabilities() -> dict[str, Any]:
    """The ``capabilities`` of :data:`CLIENT_CAPABILITIES`, from the installed pytest-lsp."""
    from importlib import resources

    text = resources.files("pytest_lsp.clients").joinpath(CLIENT_CAPABILITIES).read_text()
    capabilities: dict[str, Any] = json.loads(text)["capabilities"]
    return capabilities


IMPORT_SCRIPT = (
    "import time; began = time.perf_counter()\n"
    "import ark_lsp.cli.launch as launch; launch.starting_the_server = True\n"
    "import ark_lsp.server\n"
    "ark_lsp.server.create_server()\n"
    "print(time.perf_counter() - began)"
)
LSPROTOCOL_SCRIPT = (
    "import time; began = time.perf_counter()\n"
    "import lsprotocol.types\n"
    "print(time.perf_counter() - began)"
)


progress = progress_to_stderr("start_latency")


@dataclass
class Server:
    """How to start one language server."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


class Connection:
    """A spawned server and the JSON-RPC messages it sends, read without a client library."""

    def __init__(self, server: Server, root: Path) -> None:
        self.name = server.name
        self.began = time.perf_counter()
        self.process = subprocess.Popen(
            server.argv,
            cwd=root,
            env={**CHILD_ENV, **server.env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if not os.environ.get("START_LATENCY_STDERR") else None,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._stdin = self.process.stdin
        self._stdout = self.process.stdout
        os.set_blocking(self._stdout.fileno(), False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._stdout, selectors.EVENT_READ)
        self._buffer = b""

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self._stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self._stdin.flush()

    def receive(self, deadline: float) -> dict[str, Any]:
        """The next message, answering the server's requests as an editor would."""
        while True:
            message = self._take()
            if message is None:
                if time.perf_counter() > deadline:
                    raise BenchmarkError(f"{self.name} took too long")
                if not self._selector.select(timeout=max(0.0, deadline - time.perf_counter())):
                    continue
                chunk = self._stdout.read(65536)
                if not chunk:
                    raise BenchmarkError("the server closed its output")
                self._buffer += chunk
                continue
            if "method" in message and "id" in message:  # the server asks the editor
                result: Any = None
                if message["method"] == "workspace/configuration":
                    result = [None for _ in message["params"]["items"]]
                self.send({"id": message["id"], "result": result})
                continue
            return message

    def _take(self) -> dict[str, Any] | None:
        header_end = self._buffer.find(b"\r\n\r\n")
        if header_end < 0:
            return None
        length = 0
        for line in self._buffer[:header_end].split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        start = header_end + 4
        if len(self._buffer) < start + length:
            return None
        body, self._buffer = self._buffer[start : start + length], self._buffer[start + length :]
        decoded: dict[str, Any] = json.loads(body)
        return decoded

    def request(self, number: int, method: str, params: Any, deadline: float) -> Any:
        self.send({"id": number, "method": method, "params": params})
        while True:
            message = self.receive(deadline)
            if message.get("id") == number and "method" not in message:
                if "error" in message:
                    raise BenchmarkError(f"{method} failed: {message['error']}")
                return message.get("result")

    def close(self) -> None:
        self._selector.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._stdin.close()
        self._stdout.close()


def initialize_params(root: Path, options: dict[str, Any]) -> dict[str, Any]:
    return {
        "processId": os.getpid(),
        "rootUri": root.as_uri(),
        "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
        "capabilities": editor_capabilities(),
        "initializationOptions": options,
    }


def first_diagnostics(
    server: Server, root: Path, path: Path, options: dict[str, Any], *, until_status: bool = False
) -> tuple[float, float]:
    """Spawn ``server``, open ``path``: seconds to its first diagnostics, and shutdown to exit.

    With ``until_status`` the server runs on until ARK says its index is ready
    (used to make the workspace warm, untimed).
    """
    # Everything the client sends is ready before the clock starts: an editor does not
    # read its capabilities after spawning the server (the first read imports pytest-lsp).
    params = initialize_params(root, options)
    text = path.read_text()
    deadline = time.perf_counter() + (INDEX_TIMEOUT_S if until_status else TIMEOUT_S)
    connection = Connection(server, root)
    try:
        uri = path.as_uri()
        connection.request(1, "initialize", params, deadline)
        connection.send({"method": "initialized", "params": {}})
        connection.send(
            {
                "method": "textDocument/didOpen",
                "params": {
                    "textDocument": {
                        "uri": uri,
                        "languageId": "python",
                        "version": 1,
                        "text": text,
                    }
                },
            }
        )
        shown = None
        ready = not until_status
        while shown is None or not ready:
            message = connection.receive(deadline)
            method, params = message.get("method"), message.get("params") or {}
            if method == "textDocument/publishDiagnostics" and params.get("uri") == uri:
                shown = shown or time.perf_counter() - connection.began
            elif method == "ark/status":
                ready = all(f["state"] == "ready" for f in params["folders"]) or ready
        stopping = time.perf_counter()
        connection.request(2, "shutdown", None, deadline)
        connection.send({"method": "exit"})
        connection.process.wait(timeout=TIMEOUT_S)
        return shown, time.perf_counter() - stopping
    finally:
        connection.close()


def timed_script(script: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """A fresh interpreter's run of ``script`` in ``cwd``: the seconds it prints, its wall clock.

    ``python -c`` imports from its folder first: run from a checkout, it would time that.
    """
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env={**CHILD_ENV, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - began
    printed = done.stdout.strip()
    return (float(printed) if printed else wall), wall


def quick_workspace(folder: Path) -> tuple[Path, Path]:
    """A small package whose opened file has findings, for ``--quick``."""
    package = folder / "quick"
    package.mkdir()
    for number in range(20):
        (package / f"module_{number}.py").write_text(
            "".join(f"def f_{i}(x):\n    return x + {i}\n\n\n" for i in range(30))
        )
    opened = package / "opened.py"
    opened.write_text(
        "import os\n\n\n"
        + "".join(f"def g_{i}(value):\n    return eval(value) + {i}\n\n\n" for i in range(50))
        + "os.system('true')\n"
    )
    return folder, opened


def measure(
    corpus: Path, file: str, runs: int, ruff: Path | None, baseline: Path | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ark-start-bench-") as scratch:
        # A copy outside this repository: ruff would take ARK's pyproject.toml for the
        # corpus's settings, and it leaves benchmarks/.cache out.
        progress(f"copying {corpus} to a scratch folder")
        root = Path(shutil.copytree(corpus, Path(scratch) / corpus.name, symlinks=True))
        opened = root / file
        ark = Server(
            "ark",
            [sys.executable, "-m", "ark_lsp"],
            {"ARK_DATABASE": str(Path(scratch) / "index.db")},
        )
        servers = [ark] + ([Server("ruff", [str(ruff), "server"])] if ruff else [])
        before = {"PYTHONPATH": str(baseline)} if baseline else None
        if before:  # another ARK (a checkout before a change), on the same database
            servers.append(Server("baseline", ark.argv, {**ark.env, **before}))
        progress("a warm workspace: ARK indexes it once, untimed; every server starts once")
        first_diagnostics(ark, root, opened, {}, until_status=True)
        for server in servers:
            first_diagnostics(server, root, opened, {})
        timed_script(IMPORT_SCRIPT, root)
        samples: dict[str, list[float]] = {}
        for round_number in range(1, runs + 1):
            progress(f"round {round_number} of {runs}")
            for server in servers:
                shown, ended = first_diagnostics(server, root, opened, {})
                samples.setdefault(f"{server.name}_first_diagnostics", []).append(shown)
                samples.setdefault(f"{server.name}_exit", []).append(ended)
            # The first start for an editor's capabilities (or after an upgrade): nothing
            # kept to answer initialize with, so the prelude leaves it all to the server.
            shutil.rmtree(KEPT_ANSWERS, ignore_errors=True)
            shown = first_diagnostics(ark, root, opened, {})[0]
            samples.setdefault("ark_unkept_first_diagnostics", []).append(shown)
            samples.setdefault("ark_import", []).append(timed_script(IMPORT_SCRIPT, root)[0])
            if before:
                imported = timed_script(IMPORT_SCRIPT, root, before)[0]
                samples.setdefault("baseline_import", []).append(imported)
            protocol_types = timed_script(LSPROTOCOL_SCRIPT, root)[0]
            samples.setdefault("lsprotocol_import", []).append(protocol_types)
            samples.setdefault("python_bare", []).append(timed_script("pass", root)[1])
        lines = opened.read_text().count("\n")
    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    return {
        "file": file,
        "file_lines": lines,
        "runs": runs,
        "median_ms": {name: round(value, 1) for name, value in medians.items()},
        "min_ms": {name: round(min(values) * 1000, 1) for name, values in samples.items()},
        "samples_ms": {k: [round(v * 1000, 1) for v in vs] for k, vs in samples.items()},
    }


ROWS = (
    ("ark_first_diagnostics", "ARK: spawn to first diagnostics"),
    ("ruff_first_diagnostics", "ruff server: spawn to first diagnostics"),
    ("ark_unkept_first_diagnostics", "ARK, no answer kept: spawn to first diag."),
    ("ark_exit", "ARK: shutdown to exit"),
    ("ruff_exit", "ruff server: shutdown to exit"),
    ("ark_import", "import ark_lsp.server + create_server()"),
    ("baseline_first_diagnostics", "baseline ARK: spawn to first diagnostics"),
    ("baseline_exit", "baseline ARK: shutdown to exit"),
    ("baseline_import", "baseline ARK: import + create_server()"),
    ("lsprotocol_import", "import lsprotocol.types alone"),
    ("python_bare", "floor: python -c pass (wall)"),
)


def as_table(data: dict[str, Any]) -> str:
    r, m = data["results"], data["machine"]
    lines = [
        f"ARK start latency: {data['corpus']}, opened {r['file']} ({r['file_lines']:,} lines)",
        machine_line(m),
        f"  {data['date']}, load average {data['load_average']} -> {data['load_average_end']}",
        f"  median of {r['runs']} interleaved rounds; the client's capabilities: {data['client']}",
        "",
        f"{'row':<44} {'median ms':>10} {'min ms':>8}",
    ]
    for key, name in ROWS:
        if key in r["median_ms"]:
            lines.append(f"{name:<44} {r['median_ms'][key]:>10.1f} {r['min_ms'][key]:>8.1f}")
    lines.append("")
    ratio = data["ratio_to_ruff"]
    if ratio is not None:
        lines.append(f"ARK / ruff, spawn to first diagnostics: {ratio:.2f}x")
    first = r["median_ms"]["ark_first_diagnostics"]
    verdict = "met" if first <= GOAL_MS else "MISSED"
    lines.append(f"goal: spawn to first diagnostics <= {GOAL_MS:.0f} ms: {first:.1f} ({verdict})")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="start_latency")
    parser.add_argument("--runs", type=int, help="interleaved rounds (default 10, quick 2)")
    parser.add_argument("--quick", action="store_true", help="a small generated workspace")
    parser.add_argument("--corpus", type=Path, help="workspace instead of django")
    parser.add_argument("--file", help=f"file to open, relative to it (default {EDITED_FILE})")
    parser.add_argument("--no-ruff", action="store_true", help="leave ruff's server out")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another ARK checkout (its PYTHONPATH) timed in the same rounds, as before/after",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    args = parser.parse_args(argv)
    ruff = None if args.no_ruff else shutil.which("ruff", path=str(Path(sys.executable).parent))
    load_at_start = load_average()
    when = now()
    with tempfile.TemporaryDirectory(prefix="ark-start-quick-") as quick:
        try:
            if args.quick:
                root, opened = quick_workspace(Path(quick))
                file = opened.relative_to(root).as_posix()
            else:
                root = (args.corpus or django_source()).resolve()
                file = args.file or EDITED_FILE
            runs = args.runs or (2 if args.quick else 10)
            results = measure(root, file, runs, Path(ruff) if ruff else None, args.baseline)
        except (CorpusError, BenchmarkError, subprocess.SubprocessError) as error:
            print(f"start_latency: {error}", file=sys.stderr)
            return 1
    medians = results["median_ms"]
    ruff_ms = medians.get("ruff_first_diagnostics")
    data = {
        "date": when,
        "corpus": "generated (--quick)" if args.quick else str(root),
        "client": CLIENT_CAPABILITIES,
        "machine": machine(),
        "load_average": load_at_start,
        "load_average_end": load_average(),
        "results": results,
        "ratio_to_ruff": round(medians["ark_first_diagnostics"] / ruff_ms, 2) if ruff_ms else None,
        "goal_ms": GOAL_MS,
    }
    print_report(data, args.json, as_table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
