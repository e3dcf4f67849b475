"""Running code and tests in isolation: a docker backend, a local fallback, every run recorded.

Every run goes through :class:`SandboxRunner`: it picks the backend
(``[tool.ark.sandbox] backend``: ``docker``, ``local`` or ``auto``), builds
the request from the workspace, runs it, parses pytest's per-test results
(:mod:`~ark_lsp.sandbox.pytest_results`, the one JUnit reader) and hands
every run to a recorder (:func:`record_run` into the store). A project
makes the runner that records into its own store
(:meth:`ark_lsp.project.Project.sandbox_runner`). Test generation runs
through the same runner (:meth:`SandboxRunner.run_in_workspace`, the
:class:`WorkspaceRunner` protocol). Backends implement the
:class:`Sandbox` protocol. Nothing here imports pygls or click.
"""

from __future__ import annotations

from ark_lsp.sandbox.docker_engine import BackendChoice, choose_backend, connect, docker_host
from ark_lsp.sandbox.limit_settings import how_to_raise
from ark_lsp.sandbox.models import KilledBy, Limits, Outcome, RunRequest, RunResult, Sandbox
from ark_lsp.sandbox.pytest_results import CaseOutcome, PytestCase
from ark_lsp.sandbox.records import record_run
from ark_lsp.sandbox.runner import PytestRun, Recorder, SandboxRunner, WorkspaceRunner

__all__ = [
    "BackendChoice",
    "CaseOutcome",
    "KilledBy",
    "Limits",
    "Outcome",
    "PytestCase",
    "PytestRun",
    "Recorder",
    "RunRequest",
    "RunResult",
    "Sandbox",
    "SandboxRunner",
    "WorkspaceRunner",
    "choose_backend",
    "connect",
    "docker_host",
    "how_to_raise",
    "record_run",
]
