"""The isolating backend: each run in a hardened, single-use Docker container.

Every container has no network (unless the limits ask for it), a read-only
root with small tmpfs mounts for the work folder and ``/tmp``, all
capabilities dropped, ``no-new-privileges``, a non-root user, and memory
(with no swap on top), CPU and process limits. The run's files travel with
its header over the container's attached stdin to the agent (see
:mod:`ark_lsp.sandbox.agent`), which extracts them into the tmpfs, runs the
command, enforces the wall clock and reports the container's own cgroup
counters: peak memory, CPU time, OOM kills and refused forks. ARK keeps its
own, slightly later deadline in case the agent cannot report, and removes
every container after its one run.

``DOCKER_HOST`` is honoured (``docker.from_env``), so runs can go to a
remote engine over tcp or ssh.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ark_lsp.models import CancelCheck
from ark_lsp.sandbox.channel import (
    SCRUBBED_ENV,
    AgentReport,
    OutputCollector,
    build_archive,
    cgroup_limits_hit,
    header,
    new_nonce,
    rank_limits,
)
from ark_lsp.sandbox.containers import (
    SANDBOX_USER,
    Box,
    Ending,
    engine_errors,
    reap_leftovers,
)
from ark_lsp.sandbox.models import (
    MOUNTED_WORKSPACE,
    WORKDIR,
    KilledBy,
    Limits,
    Outcome,
    RunRequest,
    RunResult,
    cancel_check,
)
from ark_lsp.sandbox.pool import WarmPool
from ark_lsp.store.connection import utc_now

ISOLATION = (
    "docker container: no network unless asked, read-only root, tmpfs work folder, "
    "all capabilities dropped, no-new-privileges, non-root user, memory/CPU/process limits"
)
AGENT_GRACE = 3.0
"""Seconds past the timeout ARK waits for the agent's report before killing the container."""


def lost_reason(what: str, state: dict[str, Any], stderr: str = "") -> str:
    """Why a run's stream ended without the agent's report, from the engine's own state."""
    code = state.get("ExitCode")
    if state.get("Running"):
        if "took none" in what:
            return f"{what}; the container was killed"
        # The stream is the engine's: it ended under a container that still runs.
        return (
            f"the Docker engine stopped answering mid-run ({what} while the container still "
            "runs); the container was killed"
        )
    if isinstance(code, int) and code > 128 and code - 128 in (signal.SIGKILL, signal.SIGTERM):
        # ARK asks the engine only before it kills anything, so the signal came from elsewhere.
        name = signal.Signals(code - 128).name
        why = f"killed by {name} from outside ARK (docker kill or stop, or the engine)"
    elif state.get("Error"):
        why = f"the engine says: {one_line_text(str(state['Error']))}"
    else:
        said = stderr.strip().splitlines()[-1:]
        why = f"the sandbox agent exited with code {code}" + (
            f" ({one_line_text(said[0])[:300]})" if said else ""
        )
    return (
        f"the sandbox container stopped before the run ended (status {state.get('Status')}, "
        f"exit code {code}): {why}; {what}"
    )


def one_line_text(text: str) -> str:
    """Text as one line."""
    return " ".join(text.split())


def one_line(error: BaseException) -> str:
    """An exception as one line, for a person."""
    return " ".join(str(error).split()) or type(error).__name__


class DockerSandbox:
    """Runs requests in single-use containers, from a warm pool when the limits allow it."""

    name = "docker"

    def __init__(
        self, client: Any, image: str, *, pool_size: int = 2, pool_limits: Limits | None = None
    ) -> None:
        """Use ``client`` (a ``docker.DockerClient``) and ``image``; start the pool, if any."""
        self.client = client
        self.image = image
        self.pool_limits = pool_limits or Limits()
        self.instance = uuid.uuid4().hex
        """Labels this sandbox's containers (``ark.instance``)."""
        self.reaped = reap_leftovers(client)
        """Containers of crashed ARK processes removed on the way in."""
        self.pool: WarmPool | None = None
        if pool_size > 0:
            limits = self.pool_limits
            self.pool = WarmPool(lambda: Box.start(client, image, limits, self.instance), pool_size)
        self._removers = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ark-docker-remove")
        self._closed = threading.Event()

    def _fits_pool(self, limits: Limits) -> bool:
        """Whether a warm container suits ``limits``, its memory limit set to theirs.

        The wall-clock limit is each run's own; the memory limit is changed on
        the running container (a test suite's ``suite-memory``).
        """
        pool = self.pool_limits
        return dataclasses.replace(limits, timeout=pool.timeout, memory=pool.memory) == pool

    def _warm_box(self, limits: Limits) -> Box | None:
        """A started container of the pool for a run within ``limits``, if one is ready."""
        assert self.pool is not None
        box = self.pool.take()
        if box is not None and not box.running():
            # Died while idle (an engine restart, a `docker rm -f`): not the code's fault.
            self._dispose(box)
            return None
        if box is not None and box.limits.memory != limits.memory:
            try:
                box.container.update(mem_limit=limits.memory, memswap_limit=limits.memory)
            except engine_errors():
                self._dispose(box)  # an engine that cannot change it: a container of its own
                return None
            box.limits = dataclasses.replace(box.limits, memory=limits.memory)
        return box

    def run(
        self, request: RunRequest, cancel: threading.Event | CancelCheck | None = None
    ) -> RunResult:
        """Run ``request`` in a fresh container; engine faults become an ``error`` result."""
        started_at = utc_now()
        clock = time.perf_counter()
        cancelled = cancel_check(cancel)

        def failed(reason: str) -> RunResult:
            return self._result(
                Outcome.ERROR, started_at, clock, error=reason, killed_by=KilledBy.NONE
            )

        if self._closed.is_set():
            return failed("the docker sandbox was closed")
        box = None
        if self.pool is not None and self._fits_pool(request.limits) and not request.mount:
            box = self._warm_box(request.limits)
        try:
            if box is None:
                box = Box.start(
                    self.client, self.image, request.limits, self.instance, request.mount
                )
        except engine_errors() as error:
            return failed(f"cannot start a sandbox container from {self.image}: {one_line(error)}")
        try:
            return self._drive(box, request, cancelled, started_at, clock)
        except engine_errors() as error:
            return failed(f"the Docker engine failed during the run: {one_line(error)}")
        finally:
            self._dispose(box)

    def _drive(
        self,
        box: Box,
        request: RunRequest,
        cancelled: CancelCheck,
        started_at: str,
        clock: float,
    ) -> RunResult:
        nonce = new_nonce()
        archive = build_archive(request.files)
        env = {**SCRUBBED_ENV, "HOME": "/tmp", "TMPDIR": "/tmp", **request.env}
        work = MOUNTED_WORKSPACE if request.mount else WORKDIR
        payload = header(
            command=request.command,
            cwd=work,
            env=env,
            timeout=request.limits.timeout,
            nonce=nonce,
            archive_size=len(archive),
            collect=request.collect,
            cgroup=True,
            linger=True,
        )
        collector = OutputCollector(nonce)
        deadline = time.monotonic() + request.limits.timeout + AGENT_GRACE
        ending = box.drive(payload + archive, collector, deadline, cancelled)

        def result(outcome: Outcome, **fields: Any) -> RunResult:
            return self._result(
                outcome, started_at, clock, collector=collector, work_folder=work, **fields
            )

        if ending.reported:
            assert collector.report is not None
            report = AgentReport.parse(collector.report)
            return self._from_report(report, request.limits, result, bool(request.mount))
        if ending.stream_lost is not None:
            # Asked before ARK kills it, so the engine's answer is about what happened.
            lost = self._lost(box, ending, result, collector.stderr.text())
            box.kill()
            return lost
        box.kill()
        if ending.cancelled:
            return result(Outcome.CANCELLED, error="cancelled by the caller")
        return result(
            Outcome.TIMEOUT,
            killed_by=KilledBy.TIMEOUT,
            limits_hit=(KilledBy.TIMEOUT,),
            error="the sandbox agent did not report by the deadline; the container was killed",
        )

    def _lost(
        self, box: Box, ending: Ending, result: Callable[..., RunResult], stderr: str = ""
    ) -> RunResult:
        """The stream ended without a report: ask the engine what became of the container."""
        try:
            state = box.state()
        except engine_errors() as error:
            return result(
                Outcome.ERROR,
                error=f"the Docker engine stopped answering mid-run ({ending.stream_lost}; "
                f"{one_line(error)})",
            )
        if state.get("OOMKilled"):
            return result(
                Outcome.FAILED,
                exit_code=state.get("ExitCode"),
                killed_by=KilledBy.MEMORY,
                limits_hit=(KilledBy.MEMORY,),
            )
        return result(Outcome.ERROR, error=lost_reason(ending.stream_lost or "", state, stderr))

    def _from_report(
        self,
        report: AgentReport,
        limits: Limits,
        result: Callable[..., RunResult],
        mounted: bool = False,
    ) -> RunResult:
        ranked = rank_limits(cgroup_limits_hit(report, limits))
        cpu_ns = report.counter_delta("cpu_ns")
        measures: dict[str, Any] = {
            "peak_memory_bytes": report.cgroup_after.get("memory_peak") or report.maxrss_bytes,
            "cpu_time_ms": cpu_ns / 1e6 if cpu_ns is not None else report.cpu_ms,
            "artifacts": report.artifacts,
        }
        if report.error and report.exit_code is None and not report.timed_out:
            error = report.error
            if mounted and "Permission denied" in error:
                error += f" (the sandbox's uid {SANDBOX_USER} must be able to read the workspace)"
            return result(Outcome.ERROR, error=error, **measures)
        return result(
            report.outcome,
            exit_code=report.exit_code,
            killed_by=ranked[0] if ranked else KilledBy.NONE,
            limits_hit=ranked,
            **measures,
        )

    def _result(
        self,
        outcome: Outcome,
        started_at: str,
        clock: float,
        *,
        collector: OutputCollector | None = None,
        **fields: Any,
    ) -> RunResult:
        if collector is not None:
            fields.update(
                stdout=collector.stdout.text(),
                stderr=collector.stderr.text(),
                stdout_truncated=collector.stdout.truncated(collector.cap),
                stderr_truncated=collector.stderr.truncated(collector.cap),
            )
        return RunResult(
            outcome=outcome,
            backend=self.name,
            image=self.image,
            isolation=ISOLATION,
            duration_ms=(time.perf_counter() - clock) * 1000,
            started_at=started_at,
            finished_at=utc_now(),
            **fields,
        )

    def _dispose(self, box: Box) -> None:
        try:
            self._removers.submit(box.dispose)
        except RuntimeError:  # closed meanwhile
            box.dispose()

    def close(self) -> None:
        """Remove the pool's containers and wait for every removal; idempotent."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self.pool is not None:
            self.pool.close()
        self._removers.shutdown(wait=True)
