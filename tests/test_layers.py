"""The layers of DESIGN.md hold: checked on the import graph by import-linter.

The contracts live in pyproject.toml (`[tool.importlinter]`): nothing below
the front ends imports pygls, lsprotocol or click; the analysis imports
nothing that touches the disk, a database or the network; the engines know
nothing of the application layer; the two front ends are independent.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONTRACTS = 4


def test_every_layer_contract_is_kept() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {CONTRACTS} kept, 0 broken." in result.stdout, result.stdout
