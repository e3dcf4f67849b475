"""Start a tool's main module with every module inside the given trees out of Python's reach.

Run as ``python -I -c <this module's source> '{"hide": [TREE...], "path": [...]}' MODULE ARG...``
(:func:`~ark_lsp.gate.tool_runs.run_tool` does). pylint puts the folders of
the files it lints at the front of ``sys.path`` while it lints, so the next
``import isort`` inside pylint would import, and run, a tree's own
``isort.py``; a ``mypy/`` folder at a tree's root would stand in for mypy
itself under ``python -m`` from that folder. Here the import system's path
finder is swapped for one that skips every ``sys.path`` entry and package
folder inside the trees, before the tool is imported: the tools still read
the trees' files as text (astroid and mypy parse them with finders of their
own), but Python never executes one. The interpreter's own libraries stay
importable even if they lie inside a tree.

The module imports nothing from ARK: it runs alone, in the tool's interpreter.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.metadata
import importlib.util
import json
import os
import resource
import runpy
import sys
from collections.abc import Iterable, Sequence
from types import ModuleType

NOT_INSTALLED = 120
"""Exit status when the tool's module is not installed in this interpreter."""


def hide_trees(trees: Sequence[str]) -> None:
    """Make every module under ``trees`` unimportable for the rest of this process."""
    hidden = tuple(os.path.join(os.path.realpath(tree), "") for tree in trees)
    own = tuple(
        os.path.join(os.path.realpath(prefix), "")
        for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}
    )

    @functools.lru_cache(maxsize=4096)
    def reachable(entry: str) -> bool:
        folder = os.path.join(os.path.realpath(entry or os.getcwd()), "")
        return folder.startswith(own) or not folder.startswith(hidden)

    class OutsideTheTrees:
        """``PathFinder`` (modules and distributions), over path entries outside the trees."""

        @classmethod
        def find_spec(
            cls, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
        ) -> importlib.machinery.ModuleSpec | None:
            entries = sys.path if path is None else path
            outside = [entry for entry in entries if isinstance(entry, str) and reachable(entry)]
            return importlib.machinery.PathFinder.find_spec(name, outside, target)

        @classmethod
        def find_distributions(
            cls, context: importlib.metadata.DistributionFinder.Context | None = None
        ) -> Iterable[importlib.metadata.Distribution]:
            asked = context or importlib.metadata.DistributionFinder.Context()
            outside = [entry for entry in asked.path if reachable(entry)]
            return importlib.machinery.PathFinder.find_distributions(
                importlib.metadata.DistributionFinder.Context(name=asked.name, path=outside)
            )

        @classmethod
        def invalidate_caches(cls) -> None:
            importlib.machinery.PathFinder.invalidate_caches()

    sys.meta_path[:] = [
        OutsideTheTrees if finder is importlib.machinery.PathFinder else finder
        for finder in sys.meta_path
    ]


def main(argv: Sequence[str]) -> None:
    """Hide the trees, then run the tool's module as ``python -m`` would, with its arguments.

    ``argv`` is a JSON object, ``{"hide": [TREE...], "first": [FOLDER...],
    "path": [FOLDER...], "memory": BYTES, "background": BOOL}``, then the
    module and its arguments. ``path`` holds folders to import from besides
    the interpreter's own (``python -I`` drops ``PYTHONPATH``, where ARK's
    own environment may keep the tools, as the VS Code extension's bundle
    does); ``first`` folders of the trees put first on ``sys.path``, for the
    tool's own reading of modules (the import system skips them).
    """
    spec, module, *arguments = argv
    where = json.loads(spec)
    if where.get("memory"):
        # The heap the tool may take: a repository crafted to blow up its inference
        # ends in a MemoryError here, not in the host's out-of-memory killer.
        resource.setrlimit(resource.RLIMIT_DATA, (where["memory"], where["memory"]))
    if where.get("background"):
        # A run in the background (the editor's, on save) takes only CPU time nothing else
        # wants, so the editor's own work never waits on it; where Linux's idle class is not
        # to be had, the lowest priority.
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except (AttributeError, OSError):
            os.nice(19)
    hide_trees(where["hide"])
    sys.path.extend(folder for folder in where["path"] if folder not in sys.path)
    # With a trailing separator: pylint takes a first entry that is the current folder
    # (a flat project's root) for one Python put there, and drops it.
    sys.path[:0] = [os.path.join(folder, "") for folder in where.get("first", [])]
    if importlib.util.find_spec(module) is None:
        sys.stderr.write(f"{module} is not installed for {sys.executable}\n")
        raise SystemExit(NOT_INSTALLED)
    sys.argv = [module, *arguments]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
