"""The embedded backend: a subprocess in a scratch folder, for machines without a Docker engine.

It isolates far less than docker, and every result says so. What it does:
a fresh scratch folder holding only the run's files; a scrubbed
environment; a new session whose process group is killed at the deadline;
rlimits on address space, CPU time, processes, file size and open files;
when the kernel allows, new user, pid, mount and network namespaces through
util-linux ``unshare`` (no network then, and the agent is the namespace's
init, so nothing the run leaves behind survives it); and, when ARK runs as
root (whom process rlimits do not bind), a throwaway cgroup for the memory
and process limits. The same agent as in docker runs the command and
reports (see :mod:`ark_lsp.sandbox.agent`).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO, Any

from ark_lsp.sandbox import cgroups
from ark_lsp.sandbox.channel import (
    SCRUBBED_ENV,
    AgentReport,
    OutputCollector,
    agent_source,
    header,
    new_nonce,
    rank_limits,
)
from ark_lsp.sandbox.models import (
    CancelCheck,
    KilledBy,
    Limits,
    Outcome,
    RunRequest,
    RunResult,
    cancel_check,
)
from ark_lsp.store.connection import utc_now

FILE_SIZE_LIMIT = 64 * 1024 * 1024
OPEN_FILES_LIMIT = 256
AGENT_GRACE = 3.0
_MEMORY_SIGNS = ("MemoryError", "Cannot allocate memory")
_PIDS_SIGNS = ("BlockingIOError", "Resource temporarily unavailable", "can't start new thread")


def _unshare_words(network: bool) -> tuple[str, ...]:
    words = ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc"]
    words.append("--kill-child")
    if not network:
        words.append("--net")
    return tuple(words)


@functools.cache
def namespaces_work(network: bool) -> bool:
    """Whether ``unshare`` works here: new user and pid namespaces, and net unless ``network``."""
    if shutil.which("unshare") is None:
        return False
    try:
        probe = subprocess.run(
            [*_unshare_words(network), "true"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def _processes_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    count += 1
    return count


def isolation_note(limits: Limits, *, namespaces: bool, cgroup: bool) -> str:
    """What a local run isolates, said plainly."""
    parts = [
        "local subprocess: WEAKER isolation than docker",
        "scratch folder, scrubbed environment, new session, rlimits",
    ]
    if namespaces:
        parts.append(
            "own user/pid/mount namespaces"
            + ("" if limits.network else " and no network (network namespace)")
        )
    else:
        parts.append(
            "no namespaces (unshare unavailable): the network and host processes are reachable"
        )
    if cgroup:
        parts.append("cgroup memory and process limits")
    parts.append("the host's files are readable, and writable where the user may write")
    return "; ".join(parts)


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise ValueError(
                f"{name}: a sandbox file must be a relative path inside the work folder"
            )
        target = folder.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


class LocalSandbox:
    """Runs requests as local subprocesses; see the module docstring for what that isolates."""

    name = "local"

    def __init__(self, python: str | None = None) -> None:
        """Use ``python`` (default: ARK's own) for the agent and for ``python3`` commands."""
        self.python = python or sys.executable

    def run(
        self, request: RunRequest, cancel: threading.Event | CancelCheck | None = None
    ) -> RunResult:
        """Run ``request`` in a fresh scratch folder; never raises for the code's faults."""
        started_at = utc_now()
        clock = time.perf_counter()
        limits = request.limits
        use_namespaces = namespaces_work(limits.network)
        scratch = Path(tempfile.mkdtemp(prefix="ark-sandbox-"))
        group = cgroups.create(scratch.name, memory=limits.memory, pids=limits.pids)
        note = isolation_note(limits, namespaces=use_namespaces, cgroup=group is not None)

        def result(outcome: Outcome, **fields: Any) -> RunResult:
            return RunResult(
                outcome=outcome,
                backend=self.name,
                isolation=note,
                duration_ms=(time.perf_counter() - clock) * 1000,
                started_at=started_at,
                finished_at=utc_now(),
                **fields,
            )

        try:
            work = scratch / "work"
            for folder in (work, scratch / "tmp"):
                folder.mkdir()
            _write_files(work, dict(request.files))
            return self._run_in(scratch, work, request, group, use_namespaces, cancel, result)
        except (OSError, ValueError) as error:
            return result(Outcome.ERROR, error=f"cannot prepare the local sandbox: {error}")
        finally:
            if group is not None:
                group.remove()
            shutil.rmtree(scratch, ignore_errors=True)

    def _rlimits(self, limits: Limits, cgroup: bool) -> dict[str, int]:
        rlimits = {
            "CPU": math.ceil(limits.timeout) + 1,
            "FSIZE": FILE_SIZE_LIMIT,
            "NOFILE": OPEN_FILES_LIMIT,
        }
        if not cgroup:
            # The cgroup counts memory as docker does; the address-space limit
            # is the fallback, stricter (it counts reservations too).
            rlimits["AS"] = limits.memory
            # RLIMIT_NPROC counts all of the user's processes, not the run's.
            rlimits["NPROC"] = _processes_of(os.getuid()) + limits.pids
        return rlimits

    def _run_in(
        self,
        scratch: Path,
        work: Path,
        request: RunRequest,
        group: cgroups.RunCgroup | None,
        use_namespaces: bool,
        cancel: threading.Event | CancelCheck | None,
        result: Callable[..., RunResult],
    ) -> RunResult:
        limits = request.limits
        command = list(request.command)
        if command and command[0] in ("python", "python3"):
            command[0] = self.python
        env = {
            **SCRUBBED_ENV,
            "HOME": str(scratch / "tmp"),
            "TMPDIR": str(scratch / "tmp"),
            **request.env,
        }
        nonce = new_nonce()
        head = header(
            command=command,
            cwd=str(work),
            env=env,
            timeout=limits.timeout,
            nonce=nonce,
            collect=request.collect,
            rlimits=self._rlimits(limits, group is not None),
        )
        words: list[str] = []
        if group is not None:
            words += ["sh", "-c", group.enter_script() + ' && exec "$@"', "sh"]
        if use_namespaces:
            words += _unshare_words(limits.network)
        words += [self.python, "-I", "-c", agent_source()]
        process = subprocess.Popen(
            words,
            cwd=work,
            env=dict(SCRUBBED_ENV),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        collector = OutputCollector(nonce)
        ending = "reported"
        try:
            assert process.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write(head)
                process.stdin.close()
            deadline = time.monotonic() + limits.timeout + AGENT_GRACE
            ending = _read(process, collector, deadline, cancel_check(cancel))
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
        if ending == "cancelled":
            return result(Outcome.CANCELLED, error="cancelled by the caller", **_output(collector))
        if ending == "deadline":
            return result(
                Outcome.TIMEOUT,
                killed_by=KilledBy.TIMEOUT,
                limits_hit=(KilledBy.TIMEOUT,),
                error="the sandbox agent did not report by the deadline; its session was killed",
                **_output(collector),
            )
        if collector.report is None:
            return result(
                Outcome.ERROR,
                exit_code=process.returncode,
                error=f"the local agent ended without a report (exit {process.returncode})",
                **_output(collector),
            )
        report = AgentReport.parse(collector.report)
        return self._from_report(report, limits, group, collector, result)

    def _from_report(
        self,
        report: AgentReport,
        limits: Limits,
        group: cgroups.RunCgroup | None,
        collector: OutputCollector,
        result: Callable[..., RunResult],
    ) -> RunResult:
        output = _output(collector)
        peak = group.peak_memory() if group is not None else None
        measures: dict[str, Any] = {
            "peak_memory_bytes": peak or report.maxrss_bytes,
            "cpu_time_ms": report.cpu_ms,
            "artifacts": report.artifacts,
            **output,
        }
        if report.error and report.exit_code is None and not report.timed_out:
            return result(Outcome.ERROR, error=report.error, **measures)
        hit: set[KilledBy] = {KilledBy.TIMEOUT} if report.timed_out else set()
        stderr_tail = collector.stderr.text()[-4000:]
        if group is not None:
            if group.oom_kills():
                hit.add(KilledBy.MEMORY)
            if group.refused_forks():
                hit.add(KilledBy.PIDS)
        elif report.exit_code != 0:
            # Without a cgroup only the code's own complaints tell which limit it met.
            if any(sign in stderr_tail for sign in _MEMORY_SIGNS):
                hit.add(KilledBy.MEMORY)
            if any(sign in stderr_tail for sign in _PIDS_SIGNS):
                hit.add(KilledBy.PIDS)
        ranked = rank_limits(hit)
        return result(
            report.outcome,
            exit_code=report.exit_code,
            killed_by=ranked[0] if ranked else KilledBy.NONE,
            limits_hit=ranked,
            **measures,
        )

    def close(self) -> None:
        """Nothing is held between runs."""


def _output(collector: OutputCollector) -> dict[str, Any]:
    return {
        "stdout": collector.stdout.text(),
        "stderr": collector.stderr.text(),
        "stdout_truncated": collector.stdout.truncated(collector.cap),
        "stderr_truncated": collector.stderr.truncated(collector.cap),
    }


def _read(
    process: subprocess.Popen[bytes],
    collector: OutputCollector,
    deadline: float,
    cancelled: CancelCheck,
) -> str:
    """Read both pipes until the agent reports; say how reading ended."""
    streams: dict[int, IO[bytes]] = {}
    with selectors.DefaultSelector() as selector:
        for stream in (process.stdout, process.stderr):
            assert stream is not None
            os.set_blocking(stream.fileno(), False)
            selector.register(stream, selectors.EVENT_READ)
            streams[stream.fileno()] = stream
        stdout_fd = process.stdout.fileno() if process.stdout else -1
        while streams:
            if cancelled():
                return "cancelled"
            if time.monotonic() >= deadline:
                return "deadline"
            for key, _ in selector.select(timeout=0.05):
                fd = key.fd
                try:
                    data = os.read(fd, 256 * 1024)
                except BlockingIOError:
                    continue
                if not data:
                    selector.unregister(key.fileobj)
                    del streams[fd]
                elif fd == stdout_fd:
                    collector.feed_stdout(data)
                else:
                    collector.feed_stderr(data)
            if collector.done:
                return "reported"
    collector.finish()
    return "reported" if collector.done else "eof"
