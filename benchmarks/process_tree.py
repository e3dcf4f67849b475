"""A process's tree as Linux's ``/proc`` shows it: the one walk the benchmarks and tests share.

The benchmarks read the memory of a language server's whole tree (the
server and every process it started); the tests check what a killed ARK
leaves behind (``tests/support/processes.py`` imports this module, as the
benchmark tests import the benchmarks, with ``benchmarks/`` on
``sys.path``).
"""

from __future__ import annotations

import os
from pathlib import Path

Process = tuple[int, str]
"""A pid with its start time, so a recycled pid is not taken for the process."""


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; everything after its ")" is split safely.
    return raw.rpartition(")")[2].split()


def children() -> dict[int, list[int]]:
    """Every live process's children, by the parent's pid."""
    found: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat_fields(int(entry))) is not None:
            found.setdefault(int(fields[1]), []).append(int(entry))
    return found


def process_tree(pid: int) -> list[Process]:
    """``pid`` and every process descending from it, zombies included."""
    known = children()
    found: list[Process] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        fields = _stat_fields(current)
        if fields is not None:
            found.append((current, fields[19]))
            pending.extend(known.get(current, []))
    return found


def alive(process: Process) -> bool:
    """Whether the process still runs (a zombie waiting for its reaper does not)."""
    fields = _stat_fields(process[0])
    return fields is not None and fields[19] == process[1] and fields[0] != "Z"


def live_pids(pid: int) -> list[int]:
    """``pid`` and every live process below it: the processes that hold memory."""
    return [member for member, started in process_tree(pid) if alive((member, started))]
