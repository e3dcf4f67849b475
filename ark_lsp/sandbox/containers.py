"""Sandbox containers: how one is configured, started, driven through its agent and removed."""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import struct
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ark_lsp.models import CancelCheck
from ark_lsp.sandbox.channel import OutputCollector, agent_source
from ark_lsp.sandbox.models import MOUNTED_WORKSPACE, WORKDIR, Limits
from ark_lsp.sandbox.scratch import start_time

SANDBOX_USER = "1000:1000"
"""Numeric, so any image works, with or without a passwd entry for it."""
LABEL = "ark.sandbox"
OWNER_LABEL = "ark.owner"
INSTANCE_LABEL = "ark.instance"
"""Which sandbox (one process may hold several) made a container."""
WORK_TMPFS = "rw,nosuid,nodev,size=64m,uid=1000,gid=1000,mode=0700"
TMP_TMPFS = "rw,nosuid,nodev,size=64m,mode=1777"
READ_CHUNK = 256 * 1024
SILENCE_CHECK_SECONDS = 1.0
"""After this long without output a run asks the engine whether its container still runs."""
POLL_SECONDS = 0.05
"""How often a waiting run looks at its deadline and its cancel check."""
SEND_CHUNK = 256 * 1024
SEND_STALL_SECONDS = 30.0
"""How long a running container may take none of the run's files before ARK gives up on it."""
DRAIN_SECONDS = 1.0
"""How long ARK reads a container's last words after sending it the run failed."""


def close_failed_unix_connects() -> None:
    """Make docker-py close its socket when connecting to a unix engine socket fails.

    docker-py 7's ``UnixHTTPConnection.connect`` leaves the socket open when
    ``connect`` raises, so every call to a stopped engine leaks a file
    descriptor: fatal for a language server whose pool retries, and a
    ResourceWarning in tests. This is the same method with the socket closed
    on failure.
    """
    from docker.transport import unixconn

    connection = unixconn.UnixHTTPConnection
    if getattr(connection, "_ark_closes_failed_connects", False):
        return

    def connect(self: Any) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self.unix_socket)
        except BaseException:
            sock.close()
            raise
        self.sock = sock

    connection.connect = connect
    connection._ark_closes_failed_connects = True


def engine_errors() -> tuple[type[BaseException], ...]:
    """What a call to the engine raises when the engine, not the code, is at fault.

    A function, so that importing the sandbox (as the language server does at
    start) does not import docker-py and requests: a tenth of a warm start.
    An engine at an ``ssh://`` DOCKER_HOST adds paramiko's errors (a login
    refused, an SSH session that dropped); paramiko is loaded only then.
    """
    paramiko = sys.modules.get("paramiko")
    if paramiko is not None:
        return (*_http_engine_errors(), paramiko.SSHException)
    return _http_engine_errors()


@functools.cache
def _http_engine_errors() -> tuple[type[BaseException], ...]:
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    return (DockerException, RequestException, OSError)


def _process_start(pid: int) -> str:
    """The start time of a process in clock ticks, so a reused pid is not taken for its owner."""
    return str(start_time(pid) or 0)


def owner_label() -> str:
    """``host/pid/start``: which process made a container, to reap it once that process is gone."""
    return f"{socket.gethostname()}/{os.getpid()}/{_process_start(os.getpid())}"


def owner_is_gone(owner: str) -> bool:
    """Whether the process named by an :func:`owner_label` on this host no longer runs."""
    host, _, rest = owner.partition("/")
    pid, _, start = rest.partition("/")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's, or not ours to judge
    return _process_start(int(pid)) != start


def container_config(
    image: str, limits: Limits, instance: str = "", mount: str | None = None
) -> dict[str, Any]:
    """Arguments of ``containers.create`` for a hardened sandbox container."""
    from docker.types import LogConfig, Mount

    config: dict[str, Any] = {
        "image": image,
        "command": ["python3", "-I", "-c", agent_source()],
        "user": SANDBOX_USER,
        "working_dir": WORKDIR,
        "stdin_open": True,
        "read_only": True,
        "tmpfs": {WORKDIR: WORK_TMPFS, "/tmp": TMP_TMPFS},
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "mem_limit": limits.memory,
        "memswap_limit": limits.memory,  # equal: no swap on top
        "nano_cpus": int(limits.cpus * 1e9),
        "pids_limit": limits.pids,
        # Output reaches ARK through the attached stream; keeping a log copy
        # would only write 50 MB outputs to the engine's disk.
        "log_config": LogConfig(type=LogConfig.types.NONE),
        "labels": {LABEL: "1", OWNER_LABEL: owner_label(), INSTANCE_LABEL: instance},
        "environment": {"HOME": "/tmp"},
    }
    if mount is not None:
        config["mounts"] = [Mount(MOUNTED_WORKSPACE, mount, type="bind", read_only=True)]
    if limits.network:
        config["network_mode"] = "bridge"
    else:
        config["network_mode"] = "none"
    return config


class _Frames:
    """Splits the engine's multiplexed attach stream into (stream, bytes) frames."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        self.buffer += data
        start = 0
        while len(self.buffer) - start >= 8:
            stream, size = struct.unpack_from(">BxxxL", self.buffer, start)
            if len(self.buffer) - start - 8 < size:
                break
            yield stream, bytes(self.buffer[start + 8 : start + 8 + size])
            start += 8 + size
        del self.buffer[:start]


@dataclass
class Ending:
    """How reading a run's stream stopped."""

    reported: bool = False
    cancelled: bool = False
    deadline: bool = False
    stream_lost: str | None = None
    """Why the stream ended without a report (EOF or a socket error)."""


class Box:
    """One started sandbox container whose agent waits on the attached stdin."""

    def __init__(self, container: Any, attached: Any, image: str, limits: Limits) -> None:
        self.container = container
        self.attached = attached  # keeps the HTTP response, and so the socket, alive
        self.socket = getattr(attached, "_sock", attached)
        self.image = image
        self.limits = limits

    @classmethod
    def start(
        cls, client: Any, image: str, limits: Limits, instance: str = "", mount: str | None = None
    ) -> Box:
        """Create, attach and start a container; remove it again if any step fails."""
        config = container_config(image, limits, instance, mount)
        container = client.containers.create(**config)
        try:
            attached = client.api.attach_socket(
                container.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            container.start()
        except BaseException:
            with contextlib.suppress(*engine_errors()):
                container.remove(force=True, v=True)
            raise
        box = cls(container, attached, image, limits)
        box.socket.settimeout(POLL_SECONDS)
        return box

    def drive(
        self, payload: bytes, collector: OutputCollector, deadline: float, cancelled: CancelCheck
    ) -> Ending:
        """Send the agent its header and files, then read output until its report.

        ``deadline`` bounds the run once its files are in: a busy machine may
        take seconds to unpack a large workspace, which is not the code's time.
        """
        frames = _Frames()
        began = time.monotonic()
        sent = self._send(payload, collector, frames, cancelled)
        if sent is not None:
            return sent
        deadline += time.monotonic() - began
        heard = time.monotonic()
        while True:
            if cancelled():
                return Ending(cancelled=True)
            now = time.monotonic()
            if now >= deadline:
                return Ending(deadline=True)
            if now - heard >= SILENCE_CHECK_SECONDS:
                # With stdin attached the engine may keep the stream open after the
                # container died, and a remote engine can vanish without a word: ask.
                heard = now
                if not self.running():
                    collector.finish()
                    return Ending(stream_lost="the container stopped while the run was silent")
            try:
                chunk = self.socket.recv(READ_CHUNK)
            except TimeoutError:
                if collector.done:  # the trailer is in; the end of stderr never came
                    return Ending(reported=True)
                continue
            except OSError as error:
                return Ending(stream_lost=f"the container's stream broke ({error})")
            heard = time.monotonic()
            if not chunk:
                collector.finish()
                if collector.reported:
                    return Ending(reported=True)
                return Ending(stream_lost="the container's stream ended")
            self._take(chunk, frames, collector)
            if collector.done:
                return Ending(reported=True)

    @staticmethod
    def _take(chunk: bytes, frames: _Frames, collector: OutputCollector) -> None:
        for stream, data in frames.feed(chunk):
            if stream == 2:
                collector.feed_stderr(data)
            else:
                collector.feed_stdout(data)

    def _send(
        self, payload: bytes, collector: OutputCollector, frames: _Frames, cancelled: CancelCheck
    ) -> Ending | None:
        """Write the whole payload as fast as the container takes it; None once it is all in.

        The agent may be slow to read (its Python still starting, the machine
        busy): that is waited for, for as long as the container runs and takes
        a byte now and then. Only a container that stopped, or that took
        nothing for :data:`SEND_STALL_SECONDS`, ends the run, and the ending
        says which.
        """
        view = memoryview(payload)
        sent = 0
        progress = checked = time.monotonic()
        while sent < len(view):
            if cancelled():
                return Ending(cancelled=True)
            try:
                sent += self.socket.send(view[sent : sent + SEND_CHUNK])
            except TimeoutError:
                now = time.monotonic()
                if now - progress >= SEND_STALL_SECONDS:
                    return Ending(
                        stream_lost=f"the container took none of the run's files for "
                        f"{SEND_STALL_SECONDS:.0f} s ({sent} of {len(view)} bytes sent)"
                    )
                if now - checked >= SILENCE_CHECK_SECONDS:
                    checked = now
                    if not self.running():
                        self._drain(frames, collector)
                        return Ending(
                            stream_lost=f"the container stopped while taking the run's files "
                            f"({sent} of {len(view)} bytes sent)"
                        )
                continue
            except OSError as error:
                self._drain(frames, collector)
                return Ending(
                    stream_lost=f"the container stopped taking the run's files after {sent} of "
                    f"{len(view)} bytes ({error.strerror or error})"
                )
            progress = time.monotonic()
        return None

    def _drain(self, frames: _Frames, collector: OutputCollector) -> None:
        """Read what the agent still said (its traceback), briefly, after the send failed."""
        until = time.monotonic() + DRAIN_SECONDS
        while time.monotonic() < until:
            try:
                chunk = self.socket.recv(READ_CHUNK)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            self._take(chunk, frames, collector)
        collector.finish()

    def running(self) -> bool:
        """Whether the engine says the container runs (False when the engine does not answer)."""
        try:
            return bool(self.state().get("Running"))
        except engine_errors():
            return False  # the caller asks again and reports the engine's fault

    def state(self) -> dict[str, Any]:
        """The container's ``State`` as the engine reports it now (raises on engine faults)."""
        self.container.reload()
        state: dict[str, Any] = self.container.attrs.get("State", {})
        return state

    def kill(self) -> None:
        """Stop everything in the container now; quiet if it is already gone."""
        with contextlib.suppress(*engine_errors()):
            self.container.kill()

    def dispose(self) -> None:
        """Remove the container and its anonymous volumes; quiet if the engine is gone."""
        # The socket is only released once every file object made from it is closed.
        for stream in (self.attached, self.socket):
            with contextlib.suppress(OSError):
                stream.close()
        with contextlib.suppress(*engine_errors()):
            self.container.remove(force=True, v=True)


def reap_leftovers(client: Any) -> int:
    """Remove sandbox containers whose owning process on this host has exited; return how many."""
    reaped = 0
    for summary in client.api.containers(all=True, filters={"label": LABEL}):
        owner = (summary.get("Labels") or {}).get(OWNER_LABEL, "")
        if owner and owner_is_gone(owner):
            with contextlib.suppress(*engine_errors()):
                client.api.remove_container(summary["Id"], force=True, v=True)
                reaped += 1
    return reaped


def count_instance(client: Any, instance: str) -> int:
    """How many containers one sandbox instance has on the engine now."""
    return len(client.api.containers(all=True, filters={"label": f"{INSTANCE_LABEL}={instance}"}))
