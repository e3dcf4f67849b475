"""The docker backend against a real engine: its limits, its pool, and an engine that fails it."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from support.sandboxes import DockerSetup

from ark_lsp.config import Settings
from ark_lsp.sandbox import KilledBy, Limits, Outcome, RunRequest, SandboxRunner
from ark_lsp.sandbox.containers import (
    INSTANCE_LABEL,
    LABEL,
    OWNER_LABEL,
    Box,
    count_instance,
    owner_label,
)
from ark_lsp.sandbox.docker_backend import DockerSandbox

pytestmark = pytest.mark.slow

HOSTNAME = RunRequest(command=("python3", "-c", "import socket; print(socket.gethostname())"))


def test_every_container_is_hardened_as_configured(docker_setup: DockerSetup) -> None:
    limits = Limits(timeout=5, memory=200 * 1024 * 1024, cpus=0.5, pids=40)
    box = Box.start(docker_setup.client, docker_setup.image, limits, "hardening-test")
    try:
        box.container.reload()
        host = box.container.attrs["HostConfig"]
        config = box.container.attrs["Config"]
    finally:
        box.dispose()
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert (host["Memory"], host["MemorySwap"]) == (200 * 1024 * 1024, 200 * 1024 * 1024)
    assert host["NanoCpus"] == 500_000_000
    assert host["PidsLimit"] == 40
    assert set(host["Tmpfs"]) == {"/work", "/tmp"}
    assert "size=64m" in host["Tmpfs"]["/work"]
    assert host["Binds"] is None and not host.get("Mounts")
    assert config["User"] == "1000:1000"
    labels = {key: config["Labels"][key] for key in (LABEL, OWNER_LABEL, INSTANCE_LABEL)}
    assert labels == {LABEL: "1", OWNER_LABEL: owner_label(), INSTANCE_LABEL: "hardening-test"}


def test_inside_the_container_the_code_is_unprivileged(docker_sandbox: DockerSandbox) -> None:
    probe = """
import os
status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines())
print(os.getuid(), os.getgid(), status["CapEff"].strip(), status["NoNewPrivs"].strip(), os.getcwd())
for path in ("/etc/ark-was-here", "/usr/lib/ark-was-here", "/ark-was-here"):
    try:
        open(path, "w")
        print("wrote", path)
    except OSError as error:
        print("refused", path, error.strerror)
open("written-in-the-work-folder", "w").write("ok")
"""
    result = docker_sandbox.run(RunRequest(command=("python3", "-c", probe)))
    assert result.outcome is Outcome.PASSED, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "1000 1000 0000000000000000 1 /work"
    assert lines[1:] == [
        "refused /etc/ark-was-here Read-only file system",
        "refused /usr/lib/ark-was-here Read-only file system",
        "refused /ark-was-here Read-only file system",
    ]


def test_the_pool_serves_each_container_once_and_close_leaves_none(
    docker_setup: DockerSetup,
) -> None:
    sandbox = DockerSandbox(docker_setup.client, docker_setup.image, pool_size=2)
    try:
        assert sandbox.pool is not None and sandbox.pool.wait_ready(60)
        hosts = []
        for _ in range(4):
            result = sandbox.run(HOSTNAME)
            assert result.outcome is Outcome.PASSED, result.error
            hosts.append(result.stdout.strip())
            assert sandbox.pool.wait_ready(60), sandbox.pool.last_error
        assert len(set(hosts)) == 4, "a container served two runs"
        assert count_instance(docker_setup.client, sandbox.instance) >= 2  # the refilled pool
    finally:
        sandbox.close()
    assert count_instance(docker_setup.client, sandbox.instance) == 0
    sandbox.close()  # idempotent


def test_a_run_with_a_longer_wall_clock_limit_takes_a_warm_container(
    docker_setup: DockerSetup,
) -> None:
    # A suite's run has the suite-timeout, the pool was started for runs of code: the wall
    # clock is each run's own, not the container's.
    sandbox = DockerSandbox(docker_setup.client, docker_setup.image, pool_size=1)
    try:
        assert sandbox.pool is not None and sandbox.pool.wait_ready(60)
        (warm,) = _running_of(docker_setup.client, sandbox)
        suite = dataclasses.replace(HOSTNAME, limits=Limits(timeout=600))
        result = sandbox.run(suite)
    finally:
        sandbox.close()
    assert result.outcome is Outcome.PASSED, result.error
    assert result.stdout.strip() == warm.attrs["Config"]["Hostname"]


def test_a_run_with_more_memory_takes_a_warm_container_given_that_memory(
    docker_setup: DockerSetup,
) -> None:
    # A suite's run has the suite-memory (1 GiB), the pool was started for runs of code
    # (256 MiB): the warm container's limit is raised for it, not a new container started.
    sandbox = DockerSandbox(docker_setup.client, docker_setup.image, pool_size=1)
    hungry = "import socket\nheld = b'x' * (300 * 1024 * 1024)\nprint(socket.gethostname())\n"
    try:
        assert sandbox.pool is not None and sandbox.pool.wait_ready(60)
        (warm,) = _running_of(docker_setup.client, sandbox)
        suite = RunRequest(
            command=("python3", "-c", hungry), limits=Limits(timeout=60, memory=1024 * 1024 * 1024)
        )
        result = sandbox.run(suite)
        assert sandbox.pool.wait_ready(60)
        code = sandbox.run(RunRequest(command=("python3", "-c", hungry), limits=Limits()))
    finally:
        sandbox.close()
    assert result.outcome is Outcome.PASSED, (result.error, result.stderr)
    assert result.stdout.strip() == warm.attrs["Config"]["Hostname"]
    assert code.killed_by is KilledBy.MEMORY  # the next warm container kept the pool's limit


def test_a_pool_container_that_died_while_idle_is_replaced_not_blamed(
    docker_setup: DockerSetup,
) -> None:
    sandbox = DockerSandbox(docker_setup.client, docker_setup.image, pool_size=1)
    try:
        assert sandbox.pool is not None and sandbox.pool.wait_ready(60)
        for container in _running_of(docker_setup.client, sandbox):
            container.remove(force=True)  # as an engine restart or a `docker rm -f` would
        result = sandbox.run(HOSTNAME)
    finally:
        sandbox.close()
    assert result.outcome is Outcome.PASSED, result.error


def test_runs_with_other_limits_than_the_pool_get_their_own_container(
    docker_sandbox: DockerSandbox,
) -> None:
    probe = "print(open('/sys/fs/cgroup/pids/pids.max').read().strip())"
    result = docker_sandbox.run(
        RunRequest(command=("python3", "-c", probe), limits=Limits(pids=17))
    )
    assert result.outcome is Outcome.PASSED, result.stderr
    assert result.stdout.strip() == "17"


def test_a_cancelled_run_stops_promptly(docker_sandbox: DockerSandbox) -> None:
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    result = docker_sandbox.run(
        RunRequest(command=("python3", "-c", "import time; time.sleep(30)"), limits=Limits()),
        cancel,
    )
    assert result.outcome is Outcome.CANCELLED
    assert result.duration_ms < 5000


def _running_of(client: Any, sandbox: DockerSandbox, *, stopped: bool = False) -> list[Any]:
    label = f"{INSTANCE_LABEL}={sandbox.instance}"
    return client.containers.list(all=stopped, filters={"label": label})


def test_a_container_stopped_from_outside_is_an_error_outcome(
    docker_setup: DockerSetup,
) -> None:
    sandbox = DockerSandbox(docker_setup.client, docker_setup.image, pool_size=0)
    request = RunRequest(
        command=("python3", "-c", "print('started', flush=True)\nimport time; time.sleep(30)")
    )
    results = []
    worker = threading.Thread(target=lambda: results.append(sandbox.run(request)))
    try:
        worker.start()
        deadline = time.monotonic() + 30
        while not (running := _running_of(docker_setup.client, sandbox)):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)
        running[0].kill()
        worker.join(30)
    finally:
        sandbox.close()
    (result,) = results
    assert result.outcome is Outcome.ERROR
    assert result.error and "stopped before the run ended" in result.error
    assert result.stdout == "started\n"


def test_an_unreachable_docker_host_is_a_recorded_error_not_a_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = tmp_path / "dead.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{dead}")
    recorded = []
    runner = SandboxRunner(
        tmp_path,
        Settings(),
        backend="docker",
        recorder=lambda request, result: recorded.append(result) or result,
    )
    started = time.monotonic()
    result = runner.run(HOSTNAME)
    runner.close()
    assert time.monotonic() - started < 15
    assert result.outcome is Outcome.ERROR
    assert result.error and f"unix://{dead}" in result.error
    assert recorded == [result]
    fallback = SandboxRunner(tmp_path, Settings(), backend="auto")
    assert fallback.choice.name == "local"
    assert f"unix://{dead}" in fallback.choice.reason
    fallback.close()


class VanishingEngine:
    """A unix-socket proxy in front of the real engine that can disappear mid-run."""

    def __init__(self, path: Path, upstream: str = "/var/run/docker.sock") -> None:
        self.upstream = upstream
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(str(path))
        self.server.listen()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            engine = socket.socket(socket.AF_UNIX)
            engine.connect(self.upstream)
            with self.lock:
                self.sockets += [client, engine]
            for source, target in ((client, engine), (engine, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
            target.shutdown(socket.SHUT_WR)

    def vanish(self) -> None:
        self.server.close()
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


@pytest.fixture
def vanishing_engine(tmp_path: Path) -> Iterator[VanishingEngine]:
    proxy = VanishingEngine(tmp_path / "engine.sock")
    yield proxy
    proxy.vanish()


def test_an_engine_that_vanishes_mid_run_is_a_recorded_error(
    tmp_path: Path, docker_setup: DockerSetup, vanishing_engine: VanishingEngine
) -> None:
    client = docker.DockerClient(base_url=f"unix://{tmp_path / 'engine.sock'}", timeout=5)
    sandbox = DockerSandbox(client, docker_setup.image, pool_size=0)
    try:
        _run_until_the_engine_vanishes(sandbox, docker_setup, vanishing_engine)
    finally:
        sandbox.close()
        client.close()
        leftovers = _running_of(docker_setup.client, sandbox, stopped=True)
        for container in leftovers:
            container.remove(force=True)  # what ARK could not remove once its engine was gone
    assert len(leftovers) == 1, "the vanished engine's container should still be there"


def _run_until_the_engine_vanishes(
    sandbox: DockerSandbox, docker_setup: DockerSetup, vanishing_engine: VanishingEngine
) -> None:
    request = RunRequest(
        command=("python3", "-c", "print('up', flush=True)\nimport time; time.sleep(30)")
    )
    results = []
    worker = threading.Thread(target=lambda: results.append(sandbox.run(request)))
    worker.start()
    deadline = time.monotonic() + 30
    while not _running_of(docker_setup.client, sandbox):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    vanishing_engine.vanish()
    worker.join(30)
    assert not worker.is_alive(), "the run hung after its engine vanished"
    (result,) = results
    assert result.outcome is Outcome.ERROR
    assert result.error and "stopped answering" in result.error
    assert result.stdout == "up\n"
