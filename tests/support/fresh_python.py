"""A script run in an interpreter of its own, on this checkout: what a new server process sees.

Start-up tests count what a fresh process imports and makes; the test
process itself has long since imported and made everything.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def printed_by(script: str) -> str:
    """What ``python -c script`` prints, run from this checkout; the test fails if it fails."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
