"""Running code and tests in isolation: a docker backend, a local fallback, every run recorded.

The front ends use :class:`SandboxRunner`: it picks the backend
(``[tool.ark.sandbox] backend``: ``docker``, ``local`` or ``auto``), builds
the request from the workspace, runs it, parses pytest's per-test results
and hands every run to a recorder (:func:`record_run` into the store).
Backends implement the :class:`Sandbox` protocol. Nothing here imports
pygls or click.
"""

from __future__ import annotations

from ark_lsp.sandbox.engine import BackendChoice, choose_backend, connect, docker_host
from ark_lsp.sandbox.models import (
    CancelCheck,
    KilledBy,
    Limits,
    Outcome,
    RunRequest,
    RunResult,
    Sandbox,
)
from ark_lsp.sandbox.pytest_results import TestCase, TestOutcome
from ark_lsp.sandbox.records import record_run
from ark_lsp.sandbox.runner import Recorder, SandboxRunner, TestRun

__all__ = [
    "BackendChoice",
    "CancelCheck",
    "KilledBy",
    "Limits",
    "Outcome",
    "Recorder",
    "RunRequest",
    "RunResult",
    "Sandbox",
    "SandboxRunner",
    "TestCase",
    "TestOutcome",
    "TestRun",
    "choose_backend",
    "connect",
    "docker_host",
    "record_run",
]
