"""How the gate starts its tools: where it finds them, and what it leaves behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
from support.gate_trees import ChangeRepository

from ark_lsp.gate.tool_runs import ToolNotRun, run_tool

REPO = Path(__file__).resolve().parents[2]

RUN_BOTH = """\
import json, sys
from pathlib import Path
from ark_lsp.gate.checks.lint import check_lint
from ark_lsp.gate.checks.types import check_types
from ark_lsp.gate.diff import changed_files
from ark_lsp.gate.model import GateInput

repo, base, head, base_dir, head_dir, cache = sys.argv[1:]
change = GateInput(Path(base_dir), Path(head_dir), changed_files(Path(repo), base, head))
results = [check_types(change, cache_dir=Path(cache)), check_lint(change)]
print(json.dumps({r.name: [r.status.value, r.reason] for r in results}))
"""


def test_the_tools_are_found_where_ark_was_found_through_pythonpath(tmp_path: Path) -> None:
    # As the VS Code extension starts the server: an interpreter with no packages of its own,
    # ARK and its dependencies (mypy and pylint among them) on PYTHONPATH.
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", bare], check=True)
    repo = ChangeRepository(tmp_path / "work")
    base = repo.commit({"shop/__init__.py": "", "shop/a.py": "A: int = 1\n"})
    head = repo.commit({"shop/a.py": "A: int = 1\nB: int = 'two'\n"})
    change = repo.gate_input(base, head)
    bundle = os.pathsep.join([str(REPO), sysconfig.get_paths()["purelib"]])

    done = subprocess.run(
        [
            bare / "bin" / "python", "-c", RUN_BOTH, repo.repo, base, head,
            change.base_dir, change.head_dir, tmp_path / "cache",
        ],
        env={**os.environ, "PYTHONPATH": bundle},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )  # fmt: skip

    assert json.loads(done.stdout) == {"types": ["failed", None], "lint": ["passed", None]}


def test_a_tool_that_takes_too_much_memory_fails_in_its_own_process(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("A = 1\n")

    output = run_tool(
        sys.executable,
        "mypy",
        ["--version"],
        [],
        tree=tmp_path,
        environment={},
        timeout=120,
        memory=16 << 20,
    )

    assert output.returncode != 0
    assert "MemoryError" in output.stderr


def test_a_run_in_the_background_yields_the_cpu(tmp_path: Path) -> None:
    # timeit's setup runs once, before the timing it prints: it reports how it was scheduled.
    report = "import os, sys; sys.stdout.write(f'{os.sched_getscheduler(0) == os.SCHED_IDLE}\\n')"

    output = run_tool(
        sys.executable, "timeit", ["-n", "1", "-r", "1", "-s", report, "pass"], [],
        tree=tmp_path, environment={}, timeout=60, background=True,
    )  # fmt: skip

    assert output.stdout.splitlines()[0] == "True"


def test_a_cancelled_run_is_killed_at_once(tmp_path: Path) -> None:
    started = time.monotonic()

    with pytest.raises(ToolNotRun, match="timeit was stopped: its run was cancelled"):
        run_tool(
            sys.executable, "timeit", ["-n", "1", "-r", "1", "-s", "import time", "time.sleep(60)"],
            [], tree=tmp_path, environment={}, timeout=120,
            cancel=lambda: time.monotonic() - started > 0.5,
        )  # fmt: skip

    assert time.monotonic() - started < 5
