"""``benchmarks/index_speed.py`` on a small corpus: every row, the one without analysis included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).parents[2] / "benchmarks" / "index_speed.py"


def test_a_round_on_a_small_corpus_reports_every_row(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "pyproject.toml").write_text("[project]\nname = 'small'\n")
    for n in range(12):
        (corpus / f"module_{n}.py").write_text(
            "import os\n\n\ndef run(command):\n    if command:\n        os.system(command)\n"
        )

    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--runs", "1", "--json", "--corpus", str(corpus)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    rows = {row["key"]: row for row in data["results"]}
    assert {
        "floor_parse",
        "floor_no_gc",
        "ark_cold_1_wall",
        "ark_bare_1_wall",
        "ark_bare_1_self",
        "ark_warm_wall",
        "radon",
    } <= set(rows)
    assert all(row["median_s"] > 0 for row in rows.values())
    # Both runs indexed every file; only the full one found the os.system calls.
    analysed, bare = data["ark_reports"]["ark_cold_1"], data["ark_reports"]["ark_bare_1"]
    assert analysed["files_indexed"] == bare["files_indexed"] == 12
    assert analysed["average_complexity"] == 2.0
    assert bare["average_complexity"] == 0.0
    assert data["notes"] == [note for note in data["notes"] if "bandit" in note]
