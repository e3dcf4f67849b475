"""The plain data of sandboxed runs: what to run, within which limits, and what happened."""

from __future__ import annotations

import enum
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from ark_lsp.config import SandboxSettings
from ark_lsp.models import CancelCheck

WORKDIR = "/work"
"""Where a run's files are, and its current folder, inside a docker sandbox."""

MOUNTED_WORKSPACE = "/workspace"
"""Where a docker run finds the workspace when it is mounted (read-only) instead of copied."""

OUTPUT_CAP = 256 * 1024
"""Bytes of each of stdout and stderr a result keeps; the rest is counted and dropped."""


class KilledBy(enum.StrEnum):
    """Which limit ended (or contained) a run; ``none`` when it ended on its own."""

    NONE = "none"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    PIDS = "pids"


class Outcome(enum.StrEnum):
    """How a run ended, as ``sandbox_executions.outcome`` and ``code_performance`` count it."""

    PASSED = "passed"
    """Exit code 0 (for tests: every test passed)."""
    FAILED = "failed"
    """The code ran and failed: a non-zero exit, a failing test, a memory or process limit."""
    TIMEOUT = "timeout"
    """Killed at the wall-clock limit."""
    CANCELLED = "cancelled"
    """Stopped because the caller cancelled it."""
    ERROR = "error"
    """The sandbox itself could not run it (no engine, no image, an engine that vanished)."""


def cancel_check(cancel: threading.Event | CancelCheck | None) -> CancelCheck:
    """Normalise an event, a callable or nothing into one callable."""
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel


@dataclass(frozen=True)
class Limits:
    """What one run may use. Memory is in bytes and includes the sandbox's tmpfs."""

    timeout: float = 10.0
    memory: int = 256 * 1024 * 1024
    cpus: float = 1.0
    pids: int = 64
    network: bool = False

    @classmethod
    def from_settings(cls, settings: SandboxSettings) -> Limits:
        """The limits ``[tool.ark.sandbox]`` asks for."""
        return cls(
            timeout=settings.timeout,
            memory=settings.memory,
            cpus=settings.cpus,
            pids=settings.pids,
            network=settings.network,
        )

    def as_dict(self) -> dict[str, object]:
        """Plain data for JSON and the database."""
        return {
            "timeout": self.timeout,
            "memory": self.memory,
            "cpus": self.cpus,
            "pids": self.pids,
            "network": self.network,
        }


@dataclass(frozen=True)
class RunRequest:
    """One run: files copied into a fresh work folder, then ``command`` run there.

    ``command[0] == "python3"`` means the sandbox's Python (the image's in
    docker, ARK's own interpreter in the local backend).
    """

    command: tuple[str, ...]
    files: Mapping[str, bytes] = field(default_factory=dict)
    """Work-folder-relative POSIX paths and their bytes."""
    limits: Limits = Limits()
    target_path: str = ""
    """The workspace file the run is about, for the records and per-target aggregates."""
    target_name: str = ""
    """The function or test run, or ``""`` for a whole file or test folder."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Variables added to the sandbox's scrubbed environment."""
    collect: tuple[str, ...] = ()
    """Work-folder-relative files whose content the result brings back (e.g. a JUnit report)."""
    kind: str = "run"
    """``run``, ``function`` or ``test``: what the records say was asked."""
    mount: str | None = None
    """A host folder that docker binds read-only at :data:`MOUNTED_WORKSPACE`, where the run
    then starts, instead of ``files`` copied in (``mount-workspace``; a local engine only)."""


@dataclass(frozen=True)
class RunResult:
    """What happened to one run. Every field is filled for every outcome."""

    outcome: Outcome
    backend: str
    exit_code: int | None = None
    """The process's exit code; negative for a signal, ``None`` when it never ran."""
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    duration_ms: float = 0.0
    peak_memory_bytes: int | None = None
    cpu_time_ms: float | None = None
    killed_by: KilledBy = KilledBy.NONE
    limits_hit: tuple[KilledBy, ...] = ()
    """Every limit the run reached; ``killed_by`` is the most specific of them."""
    image: str | None = None
    isolation: str = ""
    """What the backend isolates, in words; says so plainly when isolation is weak."""
    error: str | None = None
    """Why the sandbox could not run the code, when ``outcome`` is ``error``."""
    artifacts: Mapping[str, bytes] = field(default_factory=dict)
    """The ``collect``-ed files that existed after the run (only those, each capped)."""
    notes: tuple[str, ...] = ()
    """What the user should know about the run's input: files the workspace copy left out."""
    work_folder: str = ""
    """Where the run saw its work folder, which the paths it printed begin with ("" unrun)."""
    started_at: str = ""
    finished_at: str = ""
    execution_id: int | None = None
    """The ``sandbox_executions`` row, once recorded."""

    @property
    def ran(self) -> bool:
        """Whether the code ran to its own end or a limit's: neither refused nor cancelled."""
        return self.outcome not in (Outcome.ERROR, Outcome.CANCELLED)

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``--format json`` (artifacts by name and size only)."""
        return {
            "outcome": self.outcome.value,
            "exit_code": self.exit_code,
            "killed_by": self.killed_by.value,
            "limits_hit": [limit.value for limit in self.limits_hit],
            "backend": self.backend,
            "image": self.image,
            "isolation": self.isolation,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 1),
            "peak_memory_bytes": self.peak_memory_bytes,
            "cpu_time_ms": None if self.cpu_time_ms is None else round(self.cpu_time_ms, 1),
            "stdout": self.stdout,
            "stderr": self.stderr,
            "stdout_truncated": self.stdout_truncated,
            "stderr_truncated": self.stderr_truncated,
            "notes": list(self.notes),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "execution_id": self.execution_id,
        }


class Sandbox(Protocol):
    """A place to run untrusted code: the docker backend or the local one."""

    name: str
    """``docker`` or ``local``."""

    def run(
        self, request: RunRequest, cancel: threading.Event | CancelCheck | None = None
    ) -> RunResult:
        """Run ``request`` to its end, a limit or a cancel; never raises for the code's faults."""
        ...

    def close(self) -> None:
        """Release what the sandbox holds (containers, threads); idempotent."""
        ...
