"""Hostile code on both backends: each is stopped or contained, reported, and the host goes on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ark_lsp.sandbox import KilledBy, Limits, Outcome, RunRequest, RunResult, record_run
from ark_lsp.sandbox.local_backend import LocalSandbox
from ark_lsp.sandbox.models import OUTPUT_CAP
from ark_lsp.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture(params=["docker", "local"])
def sandbox(request: pytest.FixtureRequest) -> Any:
    if request.param == "docker":
        return request.getfixturevalue("docker_sandbox")
    return LocalSandbox()


DEFAULT_LIMITS = Limits()


def script(code: str, limits: Limits = DEFAULT_LIMITS, **fields: Any) -> RunRequest:
    return RunRequest(
        command=("python3", "main.py"),
        files={"main.py": textwrap.dedent(code).encode()},
        limits=limits,
        target_path="main.py",
        **fields,
    )


def processes_mentioning(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_a_plain_run_passes_with_its_output_and_measures(sandbox: Any) -> None:
    result: RunResult = sandbox.run(script("print('hello from the sandbox')"))
    assert (result.outcome, result.exit_code, result.killed_by) == (
        Outcome.PASSED,
        0,
        KilledBy.NONE,
    )
    assert result.stdout == "hello from the sandbox\n"
    assert result.backend == sandbox.name
    assert result.peak_memory_bytes and 1_000_000 < result.peak_memory_bytes < 256 * 1024 * 1024
    assert result.cpu_time_ms is not None and result.cpu_time_ms > 0
    if sandbox.name == "local":
        assert result.isolation.startswith("local bubblewrap sandbox: runs as uid 65534")


def test_an_infinite_loop_is_killed_at_the_timeout(sandbox: Any) -> None:
    result = sandbox.run(script("while True:\n    pass\n", Limits(timeout=1.0)))
    assert result.outcome is Outcome.TIMEOUT
    assert result.killed_by is KilledBy.TIMEOUT
    assert 1000 <= result.duration_ms < 4000


def test_a_memory_bomb_is_killed_by_the_memory_limit(sandbox: Any) -> None:
    bomb = """
        hoard = []
        while True:
            hoard.append(" " * 10_000_000)
    """
    result = sandbox.run(script(bomb, Limits(memory=128 * 1024 * 1024, timeout=30)))
    assert result.outcome is Outcome.FAILED
    assert result.killed_by is KilledBy.MEMORY
    assert result.duration_ms < 20_000


def test_a_fork_bomb_is_contained_by_the_process_limit(sandbox: Any) -> None:
    token = f"fork-bomb-{uuid.uuid4().hex}"
    bomb = f"""
        import os, time
        # {token}
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(0.01)
    """
    request = RunRequest(
        command=("python3", "-c", textwrap.dedent(bomb)),
        limits=Limits(pids=32, timeout=2.0),
    )
    result = sandbox.run(request)
    assert result.outcome is Outcome.TIMEOUT
    assert result.killed_by is KilledBy.PIDS
    assert KilledBy.TIMEOUT in result.limits_hit
    assert processes_mentioning(token) == [], "the bomb's processes outlived the run"


@pytest.fixture
def host_listener() -> Iterator[socket.socket]:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    yield listener
    listener.close()


def test_the_network_is_unreachable(sandbox: Any, host_listener: socket.socket) -> None:
    port = host_listener.getsockname()[1]
    probe = f"""
        import socket
        print(sorted(name for _, name in socket.if_nameindex()))
        socket.create_connection(("127.0.0.1", {port}), timeout=3)
        print("connected")
    """
    result = sandbox.run(script(probe))
    assert result.outcome is Outcome.FAILED
    assert result.stdout.splitlines() == ["['lo']"]
    assert "Error" in result.stderr and "connected" not in result.stdout
    with pytest.raises(BlockingIOError):
        host_listener.accept()  # nothing from the sandbox reached the host


def outside_address() -> str:
    """This host's address on its default route (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))
        return str(probe.getsockname()[0])


def test_the_network_can_be_allowed_on_the_local_backend_but_not_the_hosts_loopback() -> None:
    listener = socket.create_server(("0.0.0.0", 0))
    listener.settimeout(5)
    port = listener.getsockname()[1]
    probe = f"""
        import socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=3)
            print("loopback reached")
        except OSError:
            print("no loopback")
        socket.create_connection(("{outside_address()}", {port}), timeout=3)
    """
    with listener:
        allowed = LocalSandbox().run(script(probe, Limits(network=True)))
        assert allowed.outcome is Outcome.PASSED, (allowed.error, allowed.stderr)
        assert allowed.stdout == "no loopback\n"
        assert "slirp4netns" in allowed.isolation
        connection, _ = listener.accept()  # the control: a connection does arrive
        connection.close()


def test_fifty_megabytes_of_output_are_capped_and_the_run_recorded(
    sandbox: Any, tmp_path: Path
) -> None:
    flood = """
        import sys
        chunk = "x" * (1 << 20)
        for _ in range(50):
            sys.stdout.write(chunk)
        sys.stderr.write("done\\n")
    """
    result = sandbox.run(script(flood, Limits(timeout=30)))
    assert result.outcome is Outcome.PASSED
    assert result.stdout_truncated and not result.stderr_truncated
    assert len(result.stdout) == OUTPUT_CAP
    assert result.stderr == "done\n"
    with Store.open(tmp_path / "index.db") as store:
        recorded = record_run(store, script(flood), result)
        (row,) = store.runs.history()
    assert row.id == recorded.execution_id
    assert (row.outcome, row.backend, row.target_path) == ("passed", sandbox.name, "main.py")


def test_a_script_that_closes_stdout_still_gets_a_report(sandbox: Any) -> None:
    closer = """
        import os, sys
        print("before", flush=True)
        os.close(1)
        sys.stderr.write("after closing stdout\\n")
    """
    result = sandbox.run(script(closer))
    assert result.outcome is not Outcome.ERROR, result.error
    assert result.exit_code is not None
    assert result.stdout == "before\n"
    assert "after closing stdout" in result.stderr


def test_a_script_that_kills_its_parent_is_reported_and_the_host_survives(sandbox: Any) -> None:
    parricide = """
        import os, signal, time
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(0.3)
        print("the agent is still there")
    """
    result = sandbox.run(script(parricide))
    assert result.outcome is Outcome.PASSED, (result.error, result.stderr)
    assert result.stdout == "the agent is still there\n"
    assert os.getppid() > 1  # the test process was not re-parented: its parent lives too


def test_a_python_installed_under_tmp_is_lent_to_local_runs(tmp_path: Path) -> None:
    # A clone in /tmp has its virtual environment there: the run's own /tmp must not hide it.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"

    result = LocalSandbox(python=str(python)).run(script("import sys\nprint(sys.prefix)\n"))

    assert result.outcome is Outcome.PASSED, result.stderr
    assert result.stdout.strip() == str(venv)
