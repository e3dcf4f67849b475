"""The host's side of the agent protocol (see :mod:`ark_lsp.sandbox.agent`), for both backends."""

from __future__ import annotations

import base64
import functools
import io
import json
import secrets
import tarfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ark_lsp.sandbox.models import OUTPUT_CAP, KilledBy, Limits, Outcome

MARKER = b"\x1eARK-END "

STDERR_END_GRACE_SECONDS = 2.0
"""How long the end of stderr is waited for once the trailer is in."""
ARTIFACT_CAP = 32 * 1024 * 1024
"""Bytes of each collected file the agent sends back: pytest's report of packaging's
27,000 tests is 5 MB, so this holds some 180,000."""

SCRUBBED_ENV: Mapping[str, str] = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "PYTHONIOENCODING": "utf-8",
}
"""All a sandboxed process finds in its environment, besides HOME, TMPDIR and the request's own."""


@functools.cache
def agent_source() -> str:
    """The agent's code, for ``python3 -I -c``."""
    return resources.files("ark_lsp.sandbox").joinpath("agent.py").read_text(encoding="utf-8")


def new_nonce() -> str:
    """A per-run secret that the agent's trailer carries, so output cannot fake it."""
    return secrets.token_hex(12)


def build_archive(files: Mapping[str, bytes]) -> bytes:
    """An uncompressed tar of ``files`` (relative POSIX paths), readable by the sandbox user."""
    buffer = io.BytesIO()
    # Dated now, not 1970: code that zips or compares its files (requests' tests) needs a date.
    now = int(time.time())
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = now
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def header(
    *,
    command: Sequence[str],
    cwd: str,
    env: Mapping[str, str],
    timeout: float,
    nonce: str,
    archive_size: int = 0,
    collect: Sequence[str] = (),
    cgroup: bool = False,
    linger: bool = False,
    rlimits: Mapping[str, int] | None = None,
) -> bytes:
    """The agent's header line."""
    fields: dict[str, Any] = {
        "command": list(command),
        "cwd": cwd,
        "env": dict(env),
        "timeout": timeout,
        "nonce": nonce,
        "archive_size": archive_size,
        "collect": list(collect),
        "collect_limit": ARTIFACT_CAP,
        "cgroup": cgroup,
        "linger": linger,
        "rlimits": dict(rlimits) if rlimits else None,
    }
    return json.dumps(fields).encode() + b"\n"


@dataclass
class _Stream:
    kept: bytearray = field(default_factory=bytearray)
    total: int = 0

    def keep(self, data: bytes, cap: int) -> None:
        room = cap - len(self.kept)
        if room > 0:
            self.kept += data[:room]
        self.total += len(data)

    def text(self) -> str:
        return self.kept.decode("utf-8", errors="replace")

    def truncated(self, cap: int) -> bool:
        return self.total > cap


class OutputCollector:
    """Keeps the first :data:`OUTPUT_CAP` bytes of each stream and finds the agent's trailer.

    Everything after the cap is counted and dropped, so 50 MB of output costs
    reading it, not holding it.
    """

    def __init__(self, nonce: str, cap: int = OUTPUT_CAP) -> None:
        self.cap = cap
        self._needle = b"\n" + MARKER + nonce.encode() + b" "
        self._pending = b""
        self._trailer: bytearray | None = None
        self._stderr_end = b"\n" + MARKER + nonce.encode() + b"\n"
        self._stderr_pending = b""
        self._stderr_ended = False
        self._reported_at: float | None = None
        self.stdout = _Stream()
        self.stderr = _Stream()
        self.report: dict[str, Any] | None = None

    @property
    def reported(self) -> bool:
        """Whether the agent's trailer has arrived in full."""
        return self.report is not None

    @property
    def done(self) -> bool:
        """Whether the agent's trailer has arrived in full, and all of stderr with it.

        The engine carries stdout and stderr apart, so the end of stderr may
        come after the trailer; it is waited for briefly (an agent that
        writes no end mark, or stderr lost, must not hold the run).
        """
        if self.report is None:
            return False
        if self._stderr_ended:
            return True
        if self._reported_at is None:
            self._reported_at = time.monotonic()
        return time.monotonic() - self._reported_at >= STDERR_END_GRACE_SECONDS

    def feed_stderr(self, data: bytes) -> None:
        """Take a chunk of stderr, which ends with the agent's end mark."""
        if self._stderr_ended:
            return  # output of processes that outlived the report is not the run's
        buffer = self._stderr_pending + data
        found = buffer.find(self._stderr_end)
        if found >= 0:
            self.stderr.keep(buffer[:found], self.cap)
            self._stderr_pending = b""
            self._stderr_ended = True
            return
        hold = _partial_needle(buffer, self._stderr_end)
        self.stderr.keep(buffer[: len(buffer) - hold], self.cap)
        self._stderr_pending = buffer[len(buffer) - hold :]

    def feed_stdout(self, data: bytes) -> None:
        """Take a chunk of stdout, which ends with the agent's trailer."""
        if self._trailer is not None:
            self._add_trailer(data)
            return
        buffer = self._pending + data
        found = buffer.find(self._needle)
        if found >= 0:
            self.stdout.keep(buffer[:found], self.cap)
            self._pending = b""
            self._trailer = bytearray()
            self._add_trailer(buffer[found + len(self._needle) :])
            return
        hold = _partial_needle(buffer, self._needle)
        self.stdout.keep(buffer[: len(buffer) - hold], self.cap)
        self._pending = buffer[len(buffer) - hold :]

    def _add_trailer(self, data: bytes) -> None:
        assert self._trailer is not None
        if self.report is not None:
            return  # output of processes that outlived the report is not the run's
        end = data.find(b"\n")  # only the new bytes: a report with artifacts spans many chunks
        self._trailer += data if end < 0 else data[:end]
        if end >= 0:
            try:
                report = json.loads(self._trailer)
            except ValueError:
                report = None
            self.report = report if isinstance(report, dict) else {"error": "garbled report"}

    def finish(self) -> None:
        """The stream ended: what was held back was output after all."""
        if self._trailer is None and self._pending:
            self.stdout.keep(self._pending, self.cap)
            self._pending = b""
        if not self._stderr_ended and self._stderr_pending:
            self.stderr.keep(self._stderr_pending, self.cap)
            self._stderr_pending = b""


def _partial_needle(buffer: bytes, needle: bytes) -> int:
    """How many bytes at the end of ``buffer`` could be the start of ``needle``.

    A needle split across chunks is held back until the next chunk says.
    """
    return next(
        (n for n in range(min(len(needle) - 1, len(buffer)), 0, -1)
         if buffer.endswith(needle[:n])),
        0,
    )  # fmt: skip


@dataclass(frozen=True)
class AgentReport:
    """The agent's trailer, typed."""

    exit_code: int | None = None
    timed_out: bool = False
    error: str | None = None
    elapsed_ms: float | None = None
    maxrss_bytes: int | None = None
    cpu_ms: float | None = None
    cgroup_before: Mapping[str, int | None] = field(default_factory=dict)
    cgroup_after: Mapping[str, int | None] = field(default_factory=dict)
    pids_at_timeout: int | None = None
    artifacts: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def outcome(self) -> Outcome:
        """How the code's run ended, once it ran (an agent error is the backend's to judge)."""
        if self.timed_out:
            return Outcome.TIMEOUT
        return Outcome.PASSED if self.exit_code == 0 else Outcome.FAILED

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> AgentReport:
        """Build from the trailer's JSON, ignoring anything malformed."""

        def number(value: object) -> int | None:
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        def counters(value: object) -> dict[str, int | None]:
            if not isinstance(value, dict):
                return {}
            return {str(k): number(v) for k, v in value.items()}

        artifacts: dict[str, bytes] = {}
        raw_artifacts = raw.get("artifacts")
        if isinstance(raw_artifacts, dict):
            for name, encoded in raw_artifacts.items():
                try:
                    artifacts[str(name)] = base64.b64decode(str(encoded), validate=True)
                except ValueError:
                    continue
        maxrss_kb = number(raw.get("maxrss_kb"))
        cpu_ms = raw.get("cpu_ms")
        elapsed = raw.get("elapsed_ms")
        error = raw.get("error")
        return cls(
            exit_code=number(raw.get("exit_code")),
            timed_out=raw.get("timed_out") is True,
            error=str(error) if error else None,
            elapsed_ms=float(elapsed) if isinstance(elapsed, int | float) else None,
            maxrss_bytes=None if maxrss_kb is None else maxrss_kb * 1024,
            cpu_ms=float(cpu_ms) if isinstance(cpu_ms, int | float) else None,
            cgroup_before=counters(raw.get("cgroup_before")),
            cgroup_after=counters(raw.get("cgroup_after")),
            pids_at_timeout=number(raw.get("pids_at_timeout")),
            artifacts=artifacts,
        )

    def counter_delta(self, name: str) -> int | None:
        """How much a cgroup counter grew during the run."""
        after = self.cgroup_after.get(name)
        before = self.cgroup_before.get(name)
        if after is None:
            return None
        return after - (before or 0)


def rank_limits(hit: set[KilledBy]) -> tuple[KilledBy, ...]:
    """Limits reached, most specific first: memory, then processes, then the clock."""
    order = (KilledBy.MEMORY, KilledBy.PIDS, KilledBy.TIMEOUT)
    return tuple(limit for limit in order if limit in hit)


def cgroup_limits_hit(report: AgentReport, limits: Limits) -> set[KilledBy]:
    """The limits the container's own counters say the run reached."""
    hit: set[KilledBy] = set()
    if report.timed_out:
        hit.add(KilledBy.TIMEOUT)
    if (report.counter_delta("oom_kills") or 0) > 0:
        hit.add(KilledBy.MEMORY)
    at_timeout = report.pids_at_timeout
    if (report.counter_delta("pids_max_events") or 0) > 0 or (
        at_timeout is not None and at_timeout >= limits.pids
    ):
        hit.add(KilledBy.PIDS)
    return hit
