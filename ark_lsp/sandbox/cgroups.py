"""A throwaway cgroup for one local run, when ARK runs as root.

Process-count rlimits do not bind root (the kernel exempts uid 0 from
``RLIMIT_NPROC``), so a local run started by root would have no bound on a
fork bomb. Root can make a cgroup instead: ``pids.max`` and a memory limit
with the kernel's own OOM counters, as docker does. Both cgroup v1 (one
hierarchy per controller) and v2 (one unified hierarchy) are handled; when
neither is writable the run goes on with rlimits alone.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class RunCgroup:
    """The cgroup folders of one run and the counters to read from them."""

    folders: list[Path] = field(default_factory=list)
    v2: bool = False

    def enter_script(self) -> str:
        """Shell words that move the shell into the cgroup before it execs the run."""
        return " && ".join(f"echo $$ > {folder / 'cgroup.procs'}" for folder in self.folders)

    def _read(self, name: str) -> str | None:
        for folder in self.folders:
            path = folder / name
            if path.exists():
                with contextlib.suppress(OSError):
                    return path.read_text()
        return None

    def _keyed(self, name: str, key: str) -> int | None:
        for line in (self._read(name) or "").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == key and parts[1].isdigit():
                return int(parts[1])
        return None

    def peak_memory(self) -> int | None:
        """The run's peak memory in bytes, as the kernel counted it."""
        text = self._read("memory.peak" if self.v2 else "memory.max_usage_in_bytes")
        return int(text) if text and text.strip().isdigit() else None

    def oom_kills(self) -> int:
        """Processes the kernel killed for the memory limit."""
        return self._keyed("memory.events" if self.v2 else "memory.oom_control", "oom_kill") or 0

    def refused_forks(self) -> int:
        """Forks refused at the process limit."""
        return self._keyed("pids.events", "max") or 0

    def remove(self) -> None:
        """Kill anything left in the cgroup and remove its folders."""
        for folder in self.folders:
            procs = folder / "cgroup.procs"
            for _ in range(100):
                try:
                    pids = [int(p) for p in procs.read_text().split()]
                except (OSError, ValueError):
                    break
                if not pids:
                    break
                for pid in pids:
                    with contextlib.suppress(OSError):
                        os.kill(pid, 9)
                time.sleep(0.01)
            with contextlib.suppress(OSError):
                folder.rmdir()


def stale(prefix: str, gone: Callable[[str], bool]) -> list[RunCgroup]:
    """ARK's run cgroups (named ``prefix...``) whose creating process ``gone`` says has ended."""
    if os.geteuid() != 0:
        return []
    v2 = (CGROUP_ROOT / "cgroup.controllers").exists()
    parents = [CGROUP_ROOT] if v2 else [CGROUP_ROOT / "pids", CGROUP_ROOT / "memory"]
    groups: dict[str, RunCgroup] = {}
    for parent in parents:
        try:
            entries = list(os.scandir(parent))
        except OSError:
            continue
        for entry in entries:
            ours = entry.name.startswith(prefix) and entry.is_dir(follow_symlinks=False)
            if ours and gone(entry.name):
                group = groups.setdefault(entry.name, RunCgroup(v2=v2))
                group.folders.append(Path(entry.path))
    return list(groups.values())


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def create(name: str, *, memory: int, pids: int) -> RunCgroup | None:
    """A new cgroup limiting memory (no swap) and processes, or ``None`` where none can be made."""
    if os.geteuid() != 0:
        return None
    try:
        if (CGROUP_ROOT / "cgroup.controllers").exists():
            return _create_v2(name, memory, pids)
        return _create_v1(name, memory, pids)
    except OSError:
        return None


def _create_v1(name: str, memory: int, pids: int) -> RunCgroup | None:
    pids_root, memory_root = CGROUP_ROOT / "pids", CGROUP_ROOT / "memory"
    if not (pids_root / "cgroup.procs").exists() or not (memory_root / "cgroup.procs").exists():
        return None
    group = RunCgroup()
    try:
        folder = pids_root / name
        folder.mkdir()
        group.folders.append(folder)
        _write(folder / "pids.max", str(pids))
        folder = memory_root / name
        folder.mkdir()
        group.folders.append(folder)
        _write(folder / "memory.limit_in_bytes", str(memory))
        with contextlib.suppress(OSError):  # absent when the kernel has no swap accounting
            _write(folder / "memory.memsw.limit_in_bytes", str(memory))
    except OSError:
        group.remove()
        return None
    return group


def _create_v2(name: str, memory: int, pids: int) -> RunCgroup | None:
    enabled = (CGROUP_ROOT / "cgroup.subtree_control").read_text().split()
    if not {"pids", "memory"} <= set(enabled):
        _write(CGROUP_ROOT / "cgroup.subtree_control", "+pids +memory")
    folder = CGROUP_ROOT / name
    folder.mkdir()
    group = RunCgroup(folders=[folder], v2=True)
    try:
        _write(folder / "pids.max", str(pids))
        _write(folder / "memory.max", str(memory))
        _write(folder / "memory.swap.max", "0")
    except OSError:
        group.remove()
        return None
    return group
