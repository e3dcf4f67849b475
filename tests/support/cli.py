"""Running the installed ``ark`` script as users do, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ARK = Path(sys.executable).with_name("ark")
"""The ``ark`` script of the environment the tests run in."""


def ark(
    *args: str,
    cwd: Path,
    check: bool = True,
    env: dict[str, str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(ARK), *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
        env={**(os.environ if env is None else env), "ARK_DATABASE": ""},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"ark {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result
