"""A process's tree as Linux's ``/proc`` shows it: what a user checks with ``ps`` after ARK."""

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
    """``pid`` and every live process descending from it."""
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


def cmdline(process: Process) -> str:
    """The process's command line, words joined by spaces ("?" once it is gone)."""
    try:
        return Path(f"/proc/{process[0]}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"


def descendants(pid: int) -> list[str]:
    """The command lines of the live processes below ``pid`` (not ``pid`` itself)."""
    return [cmdline(process) for process in process_tree(pid)[1:] if alive(process)]
