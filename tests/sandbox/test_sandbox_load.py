"""A docker sandbox on a busy machine: a workspace of a few megabytes always gets in."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.sandboxes import DockerSetup

from ark_lsp.config import Settings
from ark_lsp.sandbox import Outcome, SandboxRunner

pytestmark = pytest.mark.slow

DATA_BYTES = 4 * 1024 * 1024
READS_DATA = """\
import hashlib
data = open("data/blob.bin", "rb").read()
print(len(data), hashlib.sha256(data).hexdigest())
"""


@pytest.fixture
def two_busy_cores() -> Iterator[None]:
    """Two CPU-bound processes for the length of the test: the machine under load."""
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True:\n    pass\n"]) for _ in range(2)
    ]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


@pytest.fixture
def data_project(tmp_path: Path) -> tuple[Path, str]:
    import hashlib
    import os

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "data-project"\n')
    (tmp_path / "app.py").write_text(READS_DATA)
    blob = os.urandom(DATA_BYTES)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "blob.bin").write_bytes(blob)
    return tmp_path, f"{DATA_BYTES} {hashlib.sha256(blob).hexdigest()}"


def test_a_4mb_workspace_reaches_the_container_while_two_cpu_bound_processes_run(
    data_project: tuple[Path, str], docker_setup: DockerSetup, two_busy_cores: None
) -> None:
    root, expected = data_project
    runner = SandboxRunner(root, Settings(), backend="docker", pool_size=0)
    try:
        results = [runner.run_file("app.py") for _ in range(4)]
    finally:
        runner.close()
    for result in results:
        assert result.outcome is Outcome.PASSED, result.error or result.stderr
        assert result.stdout.strip() == expected


def test_a_lost_run_names_its_cause_from_the_engine_state_not_a_guess() -> None:
    from ark_lsp.sandbox.docker_backend import lost_reason

    killed = lost_reason("the container's stream ended", {"Status": "exited", "ExitCode": 137})
    assert "killed by SIGKILL from outside ARK" in killed
    crashed = lost_reason(
        "the container stopped taking the run's files after 65536 of 4194304 bytes (Broken pipe)",
        {"Status": "exited", "ExitCode": 1},
        "Traceback ...\nOSError: [Errno 28] No space left on device\n",
    )
    assert "the sandbox agent exited with code 1 (OSError: [Errno 28] No space left" in crashed
    assert "65536 of 4194304 bytes" in crashed
    assert "?" not in killed + crashed
