"""A stand-in for the sandbox in tests of test generation: a plain subprocess, no isolation.

It runs jobs the way the sandbox does (the workspace's files copied into a
scratch folder with the job's own on top, ``python3`` meaning this Python,
the job's files collected afterwards) so the generation engine can be
tested without a sandbox backend. It isolates nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ark_lsp.generate.runner import CancelCheck, Execution, Job

SKIPPED_FOLDERS = {".git", ".ark", ".venv", "__pycache__", ".pytest_cache"}


class LocalRunner:
    backend = "test-subprocess"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.jobs: list[Job] = []

    def run(self, job: Job, cancel: CancelCheck | None = None) -> Execution:
        self.jobs.append(job)
        with tempfile.TemporaryDirectory(prefix="ark-test-run-") as scratch:
            work = Path(scratch)
            shutil.copytree(
                self.root,
                work,
                dirs_exist_ok=True,
                ignore=lambda folder, names: [n for n in names if n in SKIPPED_FOLDERS],
            )
            for name, data in job.files.items():
                (work / name).parent.mkdir(parents=True, exist_ok=True)
                (work / name).write_bytes(data)
            command = [sys.executable if job.command[0] == "python3" else job.command[0]]
            env = {"PATH": os.environ.get("PATH", ""), **job.env}
            try:
                done = subprocess.run(
                    [*command, *job.command[1:]],
                    cwd=work,
                    capture_output=True,
                    text=True,
                    timeout=job.timeout or 60,
                    env=env,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                return Execution(self.backend, ran=True, timed_out=True)
            artifacts = {
                name: (work / name).read_bytes() for name in job.collect if (work / name).is_file()
            }
            return Execution(
                self.backend,
                ran=True,
                exit_code=done.returncode,
                stdout=done.stdout,
                stderr=done.stderr,
                artifacts=artifacts,
            )

    def close(self) -> None:
        pass
