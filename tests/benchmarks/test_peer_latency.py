"""The peer benchmark runs end to end in its quick mode and prints every row.

Its figures are not checked (timings on a shared machine prove nothing);
what is checked is what a reader of its output relies on: each server
measured on every row, each ratio ARK's figure over the peer's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

SOURCE = '''"""A module to edit and hover in."""

import os


def parse(value):
    return int(value)


class Store:
    def __init__(self, root):
        self.root = root

    def path(self, name):
        return os.path.join(self.root, name)

'''


def write_workspace(root: Path) -> Path:
    """A workspace with one file of functions, call sites and one-line assignments."""
    blocks = [SOURCE]
    for index in range(40):
        blocks.append(
            f"\n\ndef step_{index}(value):\n    total = parse(value) + {index}\n"
            f"    return Store(str(total)).path('x')\n"
        )
    file = root / "app" / "module.py"
    file.parent.mkdir(parents=True)
    file.write_text("".join(blocks))
    return file


def test_quick_mode_measures_ark_and_ruff_on_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_workspace(tmp_path)
    run = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "peer_latency.py"),
            "--quick",
            "--json",
            "--corpus",
            str(tmp_path),
            "--file",
            "app/module.py",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    servers = data["results"]["servers"]
    assert list(servers) == ["ARK", "ruff server"]
    for result in servers.values():
        assert result["edit_ms"]["count"] == 5
        assert result["edit_ms"]["publishes_on_change"]
        assert result["hover_ms"]["count"] == 6
        assert len(result["spawn_ms"]["samples"]) == 1
        assert result["memory_mb"]["rss"] > 0
    assert servers["ARK"]["hover_ms"]["answered"] > 0
    edit_p50 = data["ratios"]["ruff server"]["edit to diagnostics, p50"]
    assert edit_p50 == pytest.approx(
        servers["ARK"]["edit_ms"]["p50"] / servers["ruff server"]["edit_ms"]["p50"], rel=0.01
    )

    # The table printed without --json: one line per row, ARK's figure and ruff's with the ratio.
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from peer_latency import ROWS, as_table

    table = as_table(data).splitlines()
    for label, _, unit in ROWS:
        line = next(line for line in table if line.startswith(label))
        assert line.count(f" {unit}") == 2, line
        assert line.rstrip().endswith("x)"), line
    assert any(line.startswith("servers: ARK ") and "ruff server 0." in line for line in table)
