"""What the benchmark scripts share: their tools' environment, rows, machine and output.

Each script keeps its own report format; what is here is the set-up and
the pieces of the report that are the same in all of them, so a change
(how the load is read, what describes the machine) is made once.

```python
from common import Row, load_average, machine, print_report  # benchmarks/ on sys.path
```
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from corpus import CACHE

BIN = Path(sys.executable).parent
CHECKOUT = Path(__file__).resolve().parents[1]
"""The ARK these benchmarks belong to: the one they time, whichever checkout the venv holds."""
CHILD_ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPYCACHEPREFIX": str(CACHE / "pycache"),
    "PYTHONPATH": os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH", "")])),
}
"""The tools' environment: bytecode cached (in the git-ignored cache), as when installed,
and this checkout's ``ark_lsp`` first (a venv installed from another checkout would
otherwise be timed: a worktree's benchmark would measure the main tree)."""


class BenchmarkError(Exception):
    """A tool or a step of a benchmark failed (one-line message)."""


def progress_to_stderr(name: str) -> Callable[[str], None]:
    """A function printing one progress line on stderr, after the benchmark's ``name``."""

    def progress(message: str) -> None:
        print(f"{name}: {message}", file=sys.stderr, flush=True)

    return progress


@dataclass
class Row:
    """One line of a table: a measurement repeated once per round."""

    key: str
    name: str
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def last_line(text: str) -> str:
    """The last line with something on it, for a one-line error message."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


# --- the run's circumstances -------------------------------------------------


def now() -> str:
    """This moment in UTC, to the second, as every report dates its run."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, or None where the system has none."""
    try:
        return [round(load, 2) for load in os.getloadavg()]
    except OSError:
        return None


def one_minute_load() -> float | None:
    """The 1 minute load average alone."""
    loads = load_average()
    return loads[0] if loads else None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.startswith(("model name", "Hardware", "Processor")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def version_of(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    """The processor, its cores (all and usable), the Python and the system."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": f"{platform.system()} {platform.release()}",
    }


def machine_line(described: dict[str, Any]) -> str:
    """The table's line describing a :func:`machine`."""
    m = described
    return f"  {m['cpu']}, {m['usable_cores']}/{m['cores']} cores, Python {m['python']}"


# --- the output --------------------------------------------------------------


def print_report(
    data: dict[str, Any], as_json: bool, as_table: Callable[[dict[str, Any]], str]
) -> None:
    """The results on stdout: as indented JSON, or as the benchmark's table."""
    print(json.dumps(data, indent=2) if as_json else as_table(data))
