r"""The agent that runs inside every sandbox, ahead of the code it runs.

This file is not imported by ARK: its text is handed to the sandbox's own
``python3 -I -c``, so it uses only the standard library of Python 3.8 and
later. In docker it is the container's first process (pid 1), started when a
pool container is made and waiting on stdin, so a run costs no container
start. In the local backend it is pid 1 of bubblewrap's pid namespace (or, with
weak isolation, of ``unshare``'s).

Protocol. The host writes one JSON header line to stdin, then
``archive_size`` bytes of an uncompressed tar that the agent extracts into
``cwd``. The agent starts ``command`` there (stdout and stderr are the
agent's own, so output streams straight to the host), waits for it within
``timeout``, kills whatever the run left behind, and writes one trailer line
to stdout: ``\x1eARK-END <nonce> <json>``, after an end mark on stderr
(``\x1eARK-END <nonce>``). With ``linger`` it then waits for
stdin to close, so the host can read the container's counters before it is
removed.

As pid 1 of a pid namespace the agent cannot be killed from inside it (the
kernel drops signals to a namespace's init that it has no handler for), so
"kill my parent" cannot end a run early or hide its report.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable

MARKER = b"\x1eARK-END "

# cgroup v1 (one mount per controller) first, then v2 (one unified mount).
_PEAK_MEMORY = ("/sys/fs/cgroup/memory/memory.max_usage_in_bytes", "/sys/fs/cgroup/memory.peak")
_CURRENT_MEMORY = ("/sys/fs/cgroup/memory/memory.usage_in_bytes", "/sys/fs/cgroup/memory.current")
_CPU_NS = ("/sys/fs/cgroup/cpuacct/cpuacct.usage", "/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage")
_CPU_STAT_V2 = "/sys/fs/cgroup/cpu.stat"
_OOM_EVENTS = ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events")
_PIDS_EVENTS = ("/sys/fs/cgroup/pids/pids.events", "/sys/fs/cgroup/pids.events")
_PIDS_CURRENT = ("/sys/fs/cgroup/pids/pids.current", "/sys/fs/cgroup/pids.current")


class _Bounded:
    """A file-like view of the next ``size`` bytes of a stream, for tarfile's stream mode."""

    def __init__(self, stream: object, size: int) -> None:
        self.stream = stream
        self.left = size

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size < 0 else min(size, self.left)
        data: bytes = self.stream.read(size)  # type: ignore[attr-defined]
        self.left -= len(data)
        return data


def _read_first(paths: tuple[str, ...]) -> str | None:
    for path in paths:
        try:
            with open(path) as handle:
                return handle.read()
        except OSError:
            continue
    return None


def _number(paths: tuple[str, ...]) -> int | None:
    text = _read_first(paths)
    try:
        return int(text.split()[0]) if text else None
    except ValueError:  # "max" in pids.max, or junk
        return None


def _keyed(paths: tuple[str, ...], key: str) -> int | None:
    text = _read_first(paths)
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            return int(parts[1])
    return None


def cgroup_counters() -> dict[str, int | None]:
    """The container's own counters, as the engine's stats would read them."""
    cpu_ns = _number(_CPU_NS)
    if cpu_ns is None:
        usec = _keyed((_CPU_STAT_V2,), "usage_usec")
        cpu_ns = None if usec is None else usec * 1000
    return {
        "memory_peak": _number(_PEAK_MEMORY),
        "memory_current": _number(_CURRENT_MEMORY),
        "cpu_ns": cpu_ns,
        "oom_kills": _keyed(_OOM_EVENTS, "oom_kill"),
        "pids_max_events": _keyed(_PIDS_EVENTS, "max"),
        "pids_current": _number(_PIDS_CURRENT),
    }


def _limiter(rlimits: dict[str, int] | None) -> Callable[[], None] | None:
    if not rlimits:
        return None

    def apply() -> None:
        import resource

        for name, value in rlimits.items():
            resource.setrlimit(getattr(resource, "RLIMIT_" + name), (value, value))

    return apply


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _kill_everything_else(child_pid: int) -> None:
    """End every process of the run: the whole namespace as its init, else the child's group."""
    try:
        if os.getpid() == 1:
            os.kill(-1, signal.SIGKILL)  # as init: everything in the namespace but us
        else:
            os.killpg(child_pid, signal.SIGKILL)
    except OSError:
        pass  # nothing left to kill


def _reap_all(until: float) -> None:
    while time.monotonic() < until:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.002)


def _wait(pid: int, deadline: float) -> tuple[int | None, object]:
    """Wait for ``pid``, reaping orphans as init must; ``(None, None)`` at the deadline."""
    delay = 0.0005
    while True:
        try:
            reaped, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return None, None
        if reaped == pid:
            return status, usage
        if reaped:
            continue  # an orphan: look again at once
        if time.monotonic() >= deadline:
            return None, None
        time.sleep(delay)
        delay = min(delay * 2, 0.01)


def _artifacts(cwd: str, names: list[str], limit: int) -> dict[str, str]:
    """The collected files the run left, regular files only, never blocking.

    The run may have put a link (to a file it could not read itself) or a
    FIFO (to block the agent) in a report's place.
    """
    found = {}
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    for name in names:
        try:
            descriptor = os.open(os.path.join(cwd, name), flags)
        except OSError:
            continue
        with os.fdopen(descriptor, "rb") as handle:
            try:
                if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                    continue
                found[name] = base64.b64encode(handle.read(limit)).decode("ascii")
            except OSError:
                continue
    return found


def _say(report: dict[str, object], nonce: str) -> None:
    line = b"\n" + MARKER + nonce.encode() + b" " + json.dumps(report).encode() + b"\n"
    with contextlib.suppress(OSError):  # the host went away; nothing to tell
        # stderr's end first: the engine carries the two streams apart, so the host
        # knows it has all of stderr only when it reads this mark there.
        os.write(2, b"\n" + MARKER + nonce.encode() + b"\n")
        os.write(1, line)


def main() -> None:
    """Read the header and the files, run the command, report."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    stdin = sys.stdin.buffer
    header = json.loads(stdin.readline())
    cwd = header["cwd"]
    nonce = header["nonce"]
    size = header.get("archive_size", 0)
    if size:
        with tarfile.open(fileobj=_Bounded(stdin, size), mode="r|") as archive:  # type: ignore[call-overload]
            if hasattr(tarfile, "data_filter"):
                archive.extractall(cwd, filter="data")
            else:
                archive.extractall(cwd)
    use_cgroup = header.get("cgroup", False)
    before = cgroup_counters() if use_cgroup else {}
    started = time.monotonic()
    report: dict[str, object] = {"cgroup_before": before}
    try:
        child = subprocess.Popen(
            header["command"],
            cwd=cwd,
            env=header["env"],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_limiter(header.get("rlimits")),
        )
    except OSError as error:
        report["error"] = "cannot start {}: {}".format(
            header["command"][0], error.strerror or error
        )
        _say(report, nonce)
        return
    status, usage = _wait(child.pid, started + float(header["timeout"]))
    report["elapsed_ms"] = (time.monotonic() - started) * 1000
    if status is None:
        report["timed_out"] = True
        if use_cgroup:
            report["pids_at_timeout"] = cgroup_counters()["pids_current"]
    else:
        report["exit_code"] = _exit_code(status)
        report["maxrss_kb"] = getattr(usage, "ru_maxrss", None)
        report["cpu_ms"] = (getattr(usage, "ru_utime", 0) + getattr(usage, "ru_stime", 0)) * 1000
    child.returncode = report.get("exit_code", -9)  # reaped above; keep Popen from waiting
    _kill_everything_else(child.pid)
    _reap_all(time.monotonic() + 1.0)
    report["cgroup_after"] = cgroup_counters() if use_cgroup else {}
    report["artifacts"] = _artifacts(cwd, header.get("collect", []), header.get("collect_limit", 0))
    _say(report, nonce)
    if header.get("linger"):
        stdin.read()


if __name__ == "__main__":
    main()
