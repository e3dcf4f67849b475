"""The embedded backend, for machines without a Docker engine: bubblewrap, or a refusal.

A run gets a fresh scratch folder holding only its files, a scrubbed
environment, rlimits on CPU time, file size and open files, and the same
agent as in docker (see :mod:`ark_lsp.sandbox.agent`), started under
bubblewrap as uid 65534 with a private read-only view of the system (see
:mod:`ark_lsp.sandbox.bubblewrap`). When ARK runs as root (whom process
rlimits do not bind) the run is born in a throwaway cgroup for memory and
processes, whose counters give its peak memory; otherwise rlimits bound
those too.

Where bubblewrap is missing or cannot make its namespaces the backend
refuses to run (outcome ``error``, saying what to install), unless the user
chose weaker isolation (``weak_isolation``): then util-linux ``unshare``
gives new user, pid, mount and (unless ``network``) network namespaces, and
the result says plainly that the host's files are in reach. Every result's
``isolation`` says which the run had. Scratch folders and cgroups carry
their creator's pid, so a killed ARK's are removed by the next one (see
:mod:`ark_lsp.sandbox.scratch`).
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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from ark_lsp.models import CancelCheck
from ark_lsp.sandbox import bubblewrap, cgroups, scratch
from ark_lsp.sandbox.channel import (
    SCRUBBED_ENV,
    AgentReport,
    OutputCollector,
    agent_source,
    build_archive,
    header,
    new_nonce,
    rank_limits,
)
from ark_lsp.sandbox.models import (
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


REFUSED = "none: the local backend refused to run the code without isolation"


def isolation_note(limits: Limits, *, namespaces: bool, cgroup: bool, why: str = "") -> str:
    """What a weak-isolation local run isolates, said plainly."""
    parts = [
        "local subprocess: WEAKER isolation than docker, chosen by the user"
        + (f" ({why})" if why else ""),
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
    parts.append(
        "the host's files are readable, and writable where the user may write "
        "(as root: all of them, /proc/sys and the cgroups included)"
    )
    return "; ".join(parts)


def _check_names(files: dict[str, bytes]) -> None:
    for name in files:
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise ValueError(
                f"{name}: a sandbox file must be a relative path inside the work folder"
            )


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    _check_names(files)
    for name, data in files.items():
        target = folder.joinpath(*PurePosixPath(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


@dataclass
class _Launch:
    """How one run starts: the command line, what goes to the agent's stdin, its nonce."""

    words: list[str]
    stdin: bytes
    nonce: str
    network: bubblewrap.Network | None = None
    """The run's own network, connected once bubblewrap has started."""
    work: str = ""
    """Where the run sees its work folder."""


class LocalSandbox:
    """Runs requests under bubblewrap, or refuses; see the module docstring."""

    name = "local"

    def __init__(
        self,
        python: str | None = None,
        *,
        weak_isolation: bool = False,
        bwrap: str | None = None,
        work_path: str | None = None,
    ) -> None:
        """Use ``python`` (default: ARK's own) for the agent and for ``python3`` commands.

        ``weak_isolation`` lets runs go on without bubblewrap; ``bwrap`` is
        bubblewrap's path (default: found on ``PATH``). ``work_path`` is the
        workspace's own path, where bubblewrap runs see their work folder
        when it can (see :func:`bubblewrap.work_folder`).
        """
        self.python = python or sys.executable
        self.work_path = work_path
        self.weak_isolation = weak_isolation
        self.tools = bubblewrap.Tools.find(bwrap)

    def _environment(self, home: str) -> dict[str, str]:
        """What a run finds in its environment: the interpreter's folder first on ``PATH``.

        As an activated virtual environment has it: a test that runs one of
        its commands (``mypy``, a console script of the project) finds it.
        """
        folder = os.path.dirname(self.python)
        return {
            **SCRUBBED_ENV,
            "PATH": f"{folder}{os.pathsep}{SCRUBBED_ENV['PATH']}",
            "HOME": home,
            "TMPDIR": home,
        }

    def isolation(self, network: bool) -> tuple[str, str | None]:
        """``("bubblewrap", None)``, else ``("weak", why)`` or ``("refused", why)``."""
        problem = bubblewrap.unavailable(self.tools, self.python, network)
        if problem is None:
            return "bubblewrap", None
        return ("weak" if self.weak_isolation else "refused"), problem

    def run(
        self, request: RunRequest, cancel: threading.Event | CancelCheck | None = None
    ) -> RunResult:
        """Run ``request`` in a fresh scratch folder; never raises for the code's faults."""
        scratch.sweep()
        started_at = utc_now()
        clock = time.perf_counter()
        limits = request.limits
        mode, problem = self.isolation(limits.network)
        note = REFUSED
        folder: Path | None = None
        group: cgroups.RunCgroup | None = None
        work = ""

        def result(outcome: Outcome, **fields: Any) -> RunResult:
            return RunResult(
                outcome=outcome,
                backend=self.name,
                isolation=note,
                work_folder=work,
                duration_ms=(time.perf_counter() - clock) * 1000,
                started_at=started_at,
                finished_at=utc_now(),
                **fields,
            )

        if mode == "refused":
            return result(Outcome.ERROR, error=bubblewrap.refusal(problem or "?"))
        try:
            folder = scratch.make()
            group = cgroups.create(folder.name, memory=limits.memory, pids=limits.pids)
            if mode == "bubblewrap":
                launch = self._bubblewrap(folder, request, group)
                note = bubblewrap.describe(
                    network=limits.network,
                    cgroup=group is not None,
                    dropped=os.geteuid() == 0,
                    work=launch.work,
                )
            else:
                use_namespaces = namespaces_work(limits.network)
                launch = self._weak(folder, request, group, use_namespaces)
                note = isolation_note(
                    limits, namespaces=use_namespaces, cgroup=group is not None, why=problem or ""
                )
            work = launch.work
            return self._run_in(folder, launch, request, group, cancel, result)
        except (OSError, ValueError) as error:
            return result(Outcome.ERROR, error=f"cannot prepare the local sandbox: {error}")
        finally:
            if group is not None:
                group.remove()
            if folder is not None:
                scratch.remove(folder)

    def _rlimits(self, limits: Limits, cgroup: bool, uid: int) -> dict[str, int]:
        rlimits = {
            "CPU": math.ceil(limits.timeout) + 1,
            "FSIZE": FILE_SIZE_LIMIT,
            "NOFILE": OPEN_FILES_LIMIT,
        }
        if not cgroup:
            # The cgroup counts memory as docker does; the address-space limit
            # is the fallback, stricter (it counts reservations too).
            rlimits["AS"] = limits.memory
            # RLIMIT_NPROC counts all of the (host) user's processes, not the run's.
            rlimits["NPROC"] = _processes_of(uid) + limits.pids
        return rlimits

    def _command(self, request: RunRequest) -> list[str]:
        command = list(request.command)
        if command and command[0] in ("python", "python3"):
            command[0] = self.python
        return command

    def _bubblewrap(
        self, folder: Path, request: RunRequest, group: cgroups.RunCgroup | None
    ) -> _Launch:
        limits = request.limits
        files = dict(request.files)
        _check_names(files)
        as_root = os.geteuid() == 0
        network = bubblewrap.Network(self.tools, as_root) if limits.network else None
        built = bubblewrap.plan(
            self.tools,
            folder,
            self.python,
            [self.python, "-I", "-c", agent_source()],
            network=limits.network,
            cgroup_enter=group.enter_script() if group is not None else None,
            as_root=as_root,
            network_fds=network.fds if network else None,
            work_path=self.work_path,
        )
        bubblewrap.prepare_scratch(folder, built, network=limits.network)
        # The agent unpacks the files as the run's own user, as in docker.
        archive = build_archive(files)
        env = {**self._environment("/tmp"), **request.env}
        uid = bubblewrap.SANDBOX_UID if built.drop_to_nobody else os.getuid()
        nonce = new_nonce()
        head = header(
            command=self._command(request),
            cwd=built.work,
            env=env,
            timeout=limits.timeout,
            nonce=nonce,
            archive_size=len(archive),
            collect=request.collect,
            rlimits=self._rlimits(limits, group is not None, uid),
        )
        return _Launch(built.argv, head + archive, nonce, network, built.work)

    def _weak(
        self,
        folder: Path,
        request: RunRequest,
        group: cgroups.RunCgroup | None,
        use_namespaces: bool,
    ) -> _Launch:
        limits = request.limits
        work = folder / "work"
        for place in (work, folder / "tmp"):
            place.mkdir()
        _write_files(work, dict(request.files))
        env = {**self._environment(str(folder / "tmp")), **request.env}
        nonce = new_nonce()
        head = header(
            command=self._command(request),
            cwd=str(work),
            env=env,
            timeout=limits.timeout,
            nonce=nonce,
            collect=request.collect,
            rlimits=self._rlimits(limits, group is not None, os.getuid()),
        )
        words: list[str] = []
        if group is not None:
            words += ["sh", "-c", group.enter_script() + ' && exec "$@"', "sh"]
        if use_namespaces:
            words += _unshare_words(limits.network)
        words += [self.python, "-I", "-c", agent_source()]
        return _Launch(words, head, nonce, work=str(work))

    def _run_in(
        self,
        folder: Path,
        launch: _Launch,
        request: RunRequest,
        group: cgroups.RunCgroup | None,
        cancel: threading.Event | CancelCheck | None,
        result: Callable[..., RunResult],
    ) -> RunResult:
        try:
            return self._started(folder, launch, request, group, cancel, result)
        finally:
            if launch.network is not None:
                launch.network.close()

    def _started(
        self,
        folder: Path,
        launch: _Launch,
        request: RunRequest,
        group: cgroups.RunCgroup | None,
        cancel: threading.Event | CancelCheck | None,
        result: Callable[..., RunResult],
    ) -> RunResult:
        limits = request.limits
        process = subprocess.Popen(
            launch.words,
            cwd=folder,
            env=dict(SCRUBBED_ENV),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            pass_fds=launch.network.fds if launch.network else (),
        )
        collector = OutputCollector(launch.nonce)
        ending = "reported"
        try:
            problem = launch.network.connect() if launch.network else None
            if problem:
                return result(Outcome.ERROR, error=f"cannot give the run its network: {problem}")
            assert process.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write(launch.stdin)
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
    return "reported" if collector.reported else "eof"
