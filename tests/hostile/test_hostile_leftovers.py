"""A killed ARK leaves no process behind: no forkserver, no pool worker, no resource tracker.

The attacker here is only a workspace big enough for ARK to index it with a
process pool; the user then kills ``ark index`` (or the editor kills the
server) with ``kill -9``, and checks that nothing of it still runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import ARK
from support.lsp import SERVER
from support.processes import Process, alive, children, cmdline, process_tree

DEADLINE = 30.0
"""Seconds to wait for workers to exist, and then for every process of the tree to go."""

MODULE = "".join(
    f"def handler_{n}(request, retries=3):\n"
    f"    for attempt in range(retries):\n"
    f"        if request.ready and attempt % {n + 2}:\n"
    f"            return request.send(attempt)\n"
    f"        elif request.failed:\n"
    f"            continue\n"
    f"    return None\n\n\n"
    for n in range(40)
)


def write_big_workspace(root: Path) -> None:
    """Enough files, and enough work in them, that indexing runs in a process pool for a while."""
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "big"\n')
    for package in range(20):
        folder = root / f"pkg{package}"
        folder.mkdir(parents=True)
        for module in range(40):
            (folder / f"mod{module}.py").write_text(MODULE)


def wait_for_pool_workers(pid: int, workers: int) -> list[Process]:
    """The process tree of ``pid`` once its forkserver has forked ``workers`` workers."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        tree = process_tree(pid)
        forkservers = {p for p, _ in tree if "multiprocessing.forkserver" in cmdline((p, ""))}
        known = children()
        if sum(len(known.get(p, [])) for p in forkservers) >= workers:
            return process_tree(pid)
        time.sleep(0.02)  # polling /proc: there is no event to wait on for another's child
    raise AssertionError(f"no {workers} pool workers under {pid} within {DEADLINE} s")


def survivors_after(tree: list[Process]) -> list[str]:
    """The processes of ``tree`` still running at the deadline (none, once they are all gone)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if not any(alive(process) for process in tree):
            return []
        time.sleep(0.05)
    return [f"{process[0]}: {cmdline(process)}" for process in tree if alive(process)]


@pytest.fixture
def tree_killer() -> Iterator[list[Process]]:
    """Processes the test saw; whatever of them survives the test is killed, not left running."""
    seen: list[Process] = []
    yield seen
    for process in seen:
        if alive(process):
            os.kill(process[0], signal.SIGKILL)


def test_kill_9_of_ark_index_leaves_no_worker_forkserver_or_tracker(
    tmp_path: Path, tree_killer: list[Process]
) -> None:
    root = tmp_path / "big"
    write_big_workspace(root)
    cli = subprocess.Popen(
        [str(ARK), "index", "--jobs", "2", str(root)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        tree = wait_for_pool_workers(cli.pid, workers=2)
        tree_killer.extend(tree)
        commands = " ".join(cmdline(process) for process in tree)
        assert "multiprocessing.forkserver" in commands
        assert "multiprocessing.resource_tracker" in commands
    finally:
        cli.kill()
        cli.wait()
    assert survivors_after(tree) == []


def test_kill_9_of_the_server_while_it_indexes_leaves_no_process(
    tmp_path: Path, tree_killer: list[Process]
) -> None:
    root = tmp_path / "big"
    write_big_workspace(root)
    server = subprocess.Popen(
        SERVER, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    assert server.stdin is not None
    initialize = {
        "processId": os.getpid(),
        "rootUri": root.as_uri(),
        "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
        "capabilities": {},
        "initializationOptions": {"jobs": 2},
    }
    for message in (
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
    ):
        body = json.dumps(message).encode()
        server.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    server.stdin.flush()
    try:
        # The cold index of the workspace starts on "initialized", in a process pool.
        tree = wait_for_pool_workers(server.pid, workers=2)
        tree_killer.extend(tree)
    finally:
        server.kill()
        server.wait()
        server.stdin.close()
    assert survivors_after(tree) == []


if not sys.platform.startswith("linux"):  # pragma: no cover - /proc is how the tree is seen
    pytestmark = pytest.mark.skip(reason="reads the process tree from Linux's /proc")
