"""Modules outside the workspace (the standard library, installed packages), analysed ahead.

A call into ``datetime`` or ``functools`` is resolved like one into the
workspace, from a report of the module's file, but analysing a library file
costs tens of milliseconds: more than a hover may take. So a report is made
in a thread of its own the first time a module is asked for (or named by a
document's imports), or a file (one jedi named), and a hover takes it only
once it is there. Files are found by name in the given folders, never by
importing anything.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from ark_lsp.analysis import analyze
from ark_lsp.models import ModuleReport
from ark_lsp.workflows.background import Quiet, requests_first

logger = logging.getLogger(__name__)

CACHED_MODULES = 256
"""Library reports kept; the least recently used goes first."""


def module_file(name: str, folders: Sequence[Path]) -> tuple[Path, str] | None:
    """The source file of a module in ``folders`` and its path relative to the folder."""
    parts = name.split(".")
    if not name or not all(part.isidentifier() for part in parts):
        return None
    for folder in folders:
        for relative in (f"{'/'.join(parts)}.py", f"{'/'.join(parts)}/__init__.py"):
            candidate = folder / relative
            if candidate.is_file():
                return candidate, relative
    return None


class LibraryModules:
    """Reports of library modules, made in the background; safe to call from any thread."""

    def __init__(
        self, folders: Sequence[Path], read: Callable[[Path], bytes], quiet: Quiet | None = None
    ) -> None:
        """Find modules in ``folders``, read with ``read``; with ``quiet``, see :meth:`prepare`."""
        self._folders = tuple(folders)
        self._read = read
        self._quiet = quiet
        self._lock = threading.Lock()
        self._reports: dict[str | Path, tuple[Path, ModuleReport] | None] = {}
        """By module name, or by file for a file asked for by its path."""
        self._pending: set[str | Path] = set()
        self._jobs: queue.SimpleQueue[tuple[str | Path, bool] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def report(self, name: str) -> tuple[Path, ModuleReport] | None:
        """The module's file and report if they are ready; else None, and they are made."""
        with self._lock:
            if name in self._reports:
                return self._reports[name]
        self.prepare([name])
        return None

    def file_report(self, path: Path) -> ModuleReport | None:
        """The report of a library file if it is ready; else None, and it is made."""
        with self._lock:
            if path in self._reports:
                made = self._reports[path]
                return made[1] if made is not None else None
        self.prepare([path])
        return None

    def prepare(self, names: Iterable[str | Path], *, ahead: bool = False) -> None:
        """Have the reports of these modules (or files) made, in the background.

        ``ahead``: before anything asked for them (a document's imports), once
        requests pause (the ``quiet`` given). Parsing a module holds the
        interpreter for all of its length: a dozen of them begun as the hover
        that named them ended held back that hover's own answer.
        """
        with self._lock:
            wanted = [n for n in names if n not in self._reports and n not in self._pending]
            self._pending.update(wanted)
            if wanted and self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="ark-library-modules", daemon=True
                )
                self._thread.start()
        for name in wanted:
            self._jobs.put((name, ahead))

    def close(self) -> None:
        """Let the thread end after the module it is reading."""
        self._jobs.put(None)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            name, ahead = job
            if ahead and self._quiet is not None:
                self._quiet.wait()
            with requests_first():
                made = self._make_file(name) if isinstance(name, Path) else self._make(name)
            with self._lock:
                self._reports[name] = made
                self._pending.discard(name)
                while len(self._reports) > CACHED_MODULES:
                    del self._reports[next(iter(self._reports))]

    def _make(self, name: str) -> tuple[Path, ModuleReport] | None:
        found = module_file(name, self._folders)
        if found is None:
            return None
        return self._make_file(*found)

    def _make_file(
        self, path: Path, relative: str | None = None
    ) -> tuple[Path, ModuleReport] | None:
        relative = relative or path.name
        try:
            # Analysed under its dotted name, so its relative imports resolve as Python's would.
            return path, analyze(self._read(path), relative)
        except OSError:
            return None
        except Exception:  # a library file ARK cannot analyse is one hover fewer, no more
            logger.debug("could not analyse %s", path, exc_info=True)
            return None
