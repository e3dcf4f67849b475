"""``benchmarks/start_latency.py`` runs and prints its rows (its figures are for people to read)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).parents[2] / "benchmarks" / "start_latency.py"


def run_quick(cache: Path, *arguments: str) -> str:
    # A user cache of the test's own: the benchmark removes the answers to initialize that
    # ARK keeps there (its "no answer kept" row), which are the machine's user's otherwise.
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick", "--runs", "1", *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "XDG_CACHE_HOME": str(cache)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_quick_run_prints_every_row_with_ruff_as_the_peer(tmp_path: Path) -> None:
    table = run_quick(tmp_path)

    for row in (
        "ARK: spawn to first diagnostics",
        "ARK, no answer kept: spawn to first diag.",
        "ruff server: spawn to first diagnostics",
        "ARK: shutdown to exit",
        "ruff server: shutdown to exit",
        "import ark_lsp.server + create_server()",
        "import lsprotocol.types alone",
        "floor: python -c pass (wall)",
    ):
        line = next(line for line in table.splitlines() if line.startswith(row))
        median, fastest = (float(figure) for figure in line[len(row) :].split())
        assert 0 < fastest <= median
    assert "ARK / ruff, spawn to first diagnostics:" in table
    assert "the client's capabilities: visual_studio_code_v1.65.2.json" in table
    assert "goal: spawn to first diagnostics <= 250 ms:" in table


def test_the_json_holds_every_sample_and_the_ratio(tmp_path: Path) -> None:
    data = json.loads(run_quick(tmp_path, "--json", "--no-ruff"))

    samples = data["results"]["samples_ms"]
    assert set(samples) == {
        "ark_first_diagnostics",
        "ark_unkept_first_diagnostics",
        "ark_exit",
        "ark_import",
        "lsprotocol_import",
        "python_bare",
    }
    assert all(len(values) == 1 for values in samples.values())
    assert data["ratio_to_ruff"] is None
    assert data["load_average"] and data["goal_ms"] == 250.0
