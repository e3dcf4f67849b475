"""A stand-in for the sandbox in tests of test generation: a plain subprocess, no isolation.

It implements :class:`ark_lsp.sandbox.WorkspaceRunner` the way
:meth:`SandboxRunner.run_in_workspace <ark_lsp.sandbox.SandboxRunner.run_in_workspace>`
does (the workspace's files copied into a scratch folder with the request's
own on top, ``python3`` meaning this Python, the collected files brought
back) so the generation engine can be tested without a sandbox backend. It
isolates nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from ark_lsp.models import CancelCheck
from ark_lsp.sandbox import Limits, Outcome, RunRequest, RunResult

SKIPPED_FOLDERS = {".git", ".ark", ".venv", "__pycache__", ".pytest_cache"}


class LocalRunner:
    backend = "test-subprocess"
    limits = Limits(timeout=60)
    suite_limits = Limits(timeout=120)

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[RunRequest] = []

    def explain(self, problem: str) -> str:
        return problem

    def run_in_workspace(
        self, request: RunRequest, cancel: threading.Event | CancelCheck | None = None
    ) -> RunResult:
        self.requests.append(request)
        with tempfile.TemporaryDirectory(prefix="ark-test-run-") as scratch:
            work = Path(scratch)
            shutil.copytree(
                self.root,
                work,
                dirs_exist_ok=True,
                ignore=lambda folder, names: [n for n in names if n in SKIPPED_FOLDERS],
            )
            for name, data in request.files.items():
                (work / name).parent.mkdir(parents=True, exist_ok=True)
                (work / name).write_bytes(data)
            command = [sys.executable if request.command[0] == "python3" else request.command[0]]
            env = {"PATH": os.environ.get("PATH", ""), **request.env}
            try:
                done = subprocess.run(
                    [*command, *request.command[1:]],
                    cwd=work,
                    capture_output=True,
                    text=True,
                    timeout=request.limits.timeout,
                    env=env,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                return RunResult(Outcome.TIMEOUT, self.backend)
            artifacts = {
                name: (work / name).read_bytes()
                for name in request.collect
                if (work / name).is_file()
            }
            return RunResult(
                Outcome.PASSED if done.returncode == 0 else Outcome.FAILED,
                self.backend,
                exit_code=done.returncode,
                stdout=done.stdout,
                stderr=done.stderr,
                artifacts=artifacts,
            )
