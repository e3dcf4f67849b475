"""Sandboxes on an engine at a ``tcp://`` or ``ssh://`` DOCKER_HOST, and one that does not answer.

The engine is the local one, reached as a remote one: through a loopback TCP
proxy to its socket, or through a private ``sshd`` on a loopback port with a
key made here (see ``support.remote_engines``). ``scripts/test`` installs
Debian's openssh-server; without it (or without paramiko, ARK's ``ssh``
extra) these tests skip, and fail under ``ARK_REQUIRE_DOCKER=1``.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import ark
from support.remote_engines import LoopbackSshd, TcpEngineProxy, free_loopback_port
from support.sandboxes import DockerSetup, docker_missing

from ark_lsp.sandbox.docker_engine import connect

pytestmark = pytest.mark.slow

DATA_BYTES = 3 * 1024 * 1024
"""A data file larger than an SSH channel's window, so sending the workspace waits on it."""
PROJECT = {
    "pyproject.toml": '[project]\nname = "shop"\n',
    "shop/__init__.py": "",
    "shop/prices.py": textwrap.dedent(
        """\
        import os
        import sys

        print("total", sum(float(p) for p in sys.argv[1:]))
        print("data", os.path.getsize("shop/data.bin"))
        """
    ),
    "tests/test_prices.py": textwrap.dedent(
        """\
        def test_adds():
            assert 1 + 2 == 3


        def test_wrong():
            assert 1 + 1 == 3
        """
    ),
}


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    for relative, text in PROJECT.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "shop" / "data.bin").write_bytes(os.urandom(DATA_BYTES))
    return root


@pytest.fixture
def tcp_engine() -> Iterator[TcpEngineProxy]:
    proxy = TcpEngineProxy()
    yield proxy
    proxy.close()


def _needs_paramiko() -> None:
    try:
        import paramiko  # noqa: F401
    except ImportError:
        docker_missing("paramiko (ARK's ssh extra) is not installed: pip install -e '.[test]'")


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[LoopbackSshd]:
    _needs_paramiko()
    server = LoopbackSshd(tmp_path / "ssh")
    yield server
    server.close()


def _runs_on(engine_url: str, env: dict[str, str], shop: Path, image: str) -> None:
    """Status names the engine at ``engine_url``; a run and a test run pass on it."""
    status = json.loads(ark("sandbox", "status", "--format", "json", cwd=shop, env=env).stdout)
    assert (status["docker_host"], status["docker_host_from"]) == (engine_url, "DOCKER_HOST")
    assert status["engine"].startswith("Docker ")
    assert status["backend"] == "docker"
    assert status["backend_reason"].endswith(f"at {engine_url} with image {image}")

    run = ark("run", "shop/prices.py", "--backend", "docker", "--", "1.5", "2", cwd=shop, env=env)
    assert run.stdout == f"total 3.5\ndata {DATA_BYTES}\n"
    assert f"(docker, {image})" in run.stderr

    tested = ark("test", "--backend", "docker", "--format", "json", cwd=shop, env=env, check=False)
    report = json.loads(tested.stdout)
    assert report["summary"] == {
        "passed": 1, "failed": 1, "error": 0, "skipped": 0, "xfailed": 0, "xpassed": 0
    }  # fmt: skip
    assert tested.returncode == 1


def test_runs_go_to_the_engine_at_a_tcp_docker_host(
    shop: Path, docker_setup: DockerSetup, tcp_engine: TcpEngineProxy
) -> None:
    env = {**os.environ, "DOCKER_HOST": tcp_engine.url}
    _runs_on(tcp_engine.url, env, shop, docker_setup.image)
    assert tcp_engine.connections >= 3, "the runs did not go through the tcp:// engine"


def test_runs_go_to_the_engine_at_an_ssh_docker_host(
    shop: Path, docker_setup: DockerSetup, sshd: LoopbackSshd
) -> None:
    _runs_on(sshd.url, sshd.env(), shop, docker_setup.image)
    assert sshd.logins() == 3, "the runs did not go through the ssh:// engine"
    # A command's engine calls share their SSH sessions (docker-py alone opens one per
    # URL: 25 here), each of which runs a login shell on the engine's machine.
    assert sshd.sessions() <= 6


def _fails_naming(env: dict[str, str], shop: Path, reason: str) -> None:
    """Status and a docker run both say, in one line, that nothing answers there and why."""
    host = env["DOCKER_HOST"]
    line = f"no Docker engine answers at {host} ({reason})"
    status = json.loads(ark("sandbox", "status", "--format", "json", cwd=shop, env=env).stdout)
    assert (status["engine"], status["backend"]) == (line, "local")
    run = ark("run", "shop/prices.py", "--backend", "docker", cwd=shop, env=env, check=False)
    assert run.returncode == 4
    assert run.stderr.splitlines()[0] == f"ark: error: {line}"


def test_a_tcp_docker_host_where_nothing_listens_is_named_with_the_cause(shop: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": f"tcp://127.0.0.1:{free_loopback_port()}"}
    _fails_naming(env, shop, "Connection refused")


def test_an_ssh_docker_host_that_does_not_answer_is_named_with_the_cause(
    shop: Path, tmp_path: Path
) -> None:
    _needs_paramiko()
    closed = {**os.environ, "DOCKER_HOST": f"ssh://root@127.0.0.1:{free_loopback_port()}"}
    _fails_naming(closed, shop, "Connection refused")

    # Something listens but never speaks SSH: the login gives up in seconds, not minutes.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        mute = {**closed, "DOCKER_HOST": f"ssh://root@127.0.0.1:{port}"}
        started = time.monotonic()
        status = json.loads(ark("sandbox", "status", "--format", "json", cwd=shop, env=mute).stdout)
    assert time.monotonic() - started < 15
    banner = "ssh: Error reading SSH protocol banner"
    assert status["engine"] == f"no Docker engine answers at {mute['DOCKER_HOST']} ({banner})"


def test_an_ssh_engine_host_that_refuses_ark_says_why(shop: Path, sshd: LoopbackSshd) -> None:
    known_hosts = sshd.home / ".ssh" / "known_hosts"
    known_hosts.write_text("")
    _fails_naming(
        sshd.env(), shop, f"ssh: Server '[127.0.0.1]:{sshd.port}' not found in known_hosts"
    )
    assert sshd.logins() == 0


def test_an_engine_machine_without_docker_is_named_in_its_own_words(
    shop: Path, tmp_path: Path
) -> None:
    _needs_paramiko()
    no_docker = "bash: line 1: docker: command not found"
    server = LoopbackSshd(
        tmp_path / "ssh", extra_config=f"ForceCommand echo '{no_docker}' >&2; exit 127\n"
    )
    try:
        _fails_naming(server.env(), shop, f"the engine's machine says: {no_docker}")
    finally:
        server.close()


def test_ssh_without_paramiko_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "paramiko", None)  # what an install without the extra has
    monkeypatch.setenv("DOCKER_HOST", "ssh://root@127.0.0.1:22")
    engine = connect()
    assert not engine.answers
    assert engine.error == (
        "no Docker engine answers at ssh://root@127.0.0.1:22 "
        "(ssh:// needs paramiko: install ARK with its ssh extra "
        "(pipx install '.[ssh]' in its clone))"
    )
