"""Scratch folders and cgroups of local runs, named for their owner so a killed ARK's are found.

Every local run's scratch folder is ``ark-sandbox-<pid>.<start>-<random>``
in the temporary folder, and its cgroup has the same name: the creating
process's id and its start time (so a reused pid does not look alive). When
ARK is killed mid-run (``kill -9``) nothing removes them; the next ARK
process that uses the local backend, or ``ark sandbox status``, removes every
such folder and cgroup whose owner is gone (:func:`sweep`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from ark_lsp.sandbox import cgroups

PREFIX = "ark-sandbox-"
_NAME = re.compile(r"^ark-sandbox-(\d+)\.(\d+)-")
_swept = False
_sweep_lock = threading.Lock()


def start_time(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot), or ``None`` when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count after its end.
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def owner_tag(pid: int | None = None) -> str:
    """``<pid>.<start>`` of ``pid`` (default: this process)."""
    pid = os.getpid() if pid is None else pid
    return f"{pid}.{start_time(pid) or 0}"


def make() -> Path:
    """A new scratch folder owned by this process (mode 0700)."""
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{owner_tag()}-"))


def remove(folder: Path) -> None:
    """Remove a scratch folder, even where the run took its own write permission away."""

    def unlock_and_retry(function: Callable[..., object], path: str, _: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), 0o700)
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, 0o700)
                shutil.rmtree(path, onerror=unlock_and_retry)
            else:
                function(path)

    shutil.rmtree(folder, onerror=unlock_and_retry)


def owner_gone(name: str) -> bool:
    """Whether the process that made the folder or cgroup called ``name`` has ended."""
    found = _NAME.match(name)
    if found is None:
        return False  # not ours, or made by an older ARK: leave it
    pid, started = int(found.group(1)), int(found.group(2))
    return start_time(pid) != started


def stale_folders(folder: Path | None = None) -> list[Path]:
    """Scratch folders in ``folder`` (default: the temporary folder) whose owner is gone."""
    base = Path(folder or tempfile.gettempdir())
    found: list[Path] = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return found
    for entry in entries:
        if not entry.name.startswith(PREFIX) or not owner_gone(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        # Only real folders of ours: a planted link or another user's folder is left alone.
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid():
            found.append(Path(entry.path))
    return found


def sweep(*, force: bool = False) -> list[str]:
    """Remove stale scratch folders and cgroups; once per process unless ``force``.

    Returns what was removed, for ``ark sandbox status``.
    """
    global _swept
    with _sweep_lock:
        if _swept and not force:
            return []
        _swept = True
    removed: list[str] = []
    for group in cgroups.stale(PREFIX, owner_gone):
        group.remove()
        removed += [str(folder) for folder in group.folders]
    for folder in stale_folders():
        remove(folder)
        if not folder.exists():
            removed.append(str(folder))
    return removed
