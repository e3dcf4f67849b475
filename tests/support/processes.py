"""A process's tree as Linux's ``/proc`` shows it: what a user checks with ``ps`` after ARK.

The walk is ``benchmarks/process_tree.py``'s, which the benchmarks use to
read a server's memory: one walk for both, reached as the benchmark tests
reach the benchmarks.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = str(Path(__file__).resolve().parents[2] / "benchmarks")
if BENCHMARKS not in sys.path:
    sys.path.insert(0, BENCHMARKS)

from process_tree import Process, alive, children, process_tree  # noqa: E402

__all__ = ["Process", "alive", "children", "cmdline", "descendants", "process_tree"]


def cmdline(process: Process) -> str:
    """The process's command line, words joined by spaces ("?" once it is gone)."""
    try:
        return Path(f"/proc/{process[0]}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"


def descendants(pid: int) -> list[str]:
    """The command lines of the live processes below ``pid`` (not ``pid`` itself)."""
    return [cmdline(process) for process in process_tree(pid)[1:] if alive(process)]
