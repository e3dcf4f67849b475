"""Indexing: bring a project's index up to date with its files, and say what the run did.

``ark index`` and every command that reads the index refresh it first; the
server refreshes a folder at start-up, on save and when files change on
disk, cancellably. Both come here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ark_lsp.models import CancelCheck
from ark_lsp.project import Project
from ark_lsp.store import Store
from ark_lsp.workspace import AnalysedTexts, IndexFigures, index_workspace

IndexProgress = Callable[[int, int], None]
"""Told ``(done, total)`` changed files as they are analysed."""


class IndexCancelled(Exception):
    """The caller asked the run to stop; what it wrote so far stays written."""


def refresh_index(
    project: Project,
    *,
    store: Store | None = None,
    targets: Sequence[Path] = (),
    jobs: int | None = None,
    progress: IndexProgress | None = None,
    cancel: CancelCheck | None = None,
    analysed: AnalysedTexts | None = None,
) -> IndexFigures:
    """Index the project (or only ``targets`` in it) where files changed; return the figures.

    A target that no longer exists takes what was indexed under it out of
    the index. ``store`` is an open connection of the project's to use;
    without one, the run opens its own. ``analysed`` holds reports the
    caller already has (an editor's open documents), reused for files whose
    bytes are the same. Raises :class:`IndexCancelled` once
    ``cancel`` says so, and :class:`~ark_lsp.store.StoreError` when the
    database cannot be used.
    """
    if store is None:
        with project.open_store() as opened:
            return _refresh(project, opened, targets, jobs, progress, cancel, analysed)
    return _refresh(project, store, targets, jobs, progress, cancel, analysed)


def _refresh(
    project: Project,
    store: Store,
    targets: Sequence[Path],
    jobs: int | None,
    progress: IndexProgress | None,
    cancel: CancelCheck | None,
    analysed: AnalysedTexts | None = None,
) -> IndexFigures:
    existing = [target for target in targets if target.exists()]
    gone = [t.relative_to(project.root).as_posix() for t in targets if not t.exists()]
    # A deleted folder takes every file indexed under it.
    doomed = (
        [
            path
            for path in store.index.file_states()
            if any(path == g or path.startswith(f"{g}/") for g in gone)
        ]
        if gone
        else []
    )
    if doomed:
        store.index.remove_files(doomed)
    if targets and not existing:
        return IndexFigures(root=str(project.root), files_removed=len(doomed))

    def report(done: int, total: int) -> None:
        if cancel is not None and cancel():
            raise IndexCancelled
        if progress is not None:
            progress(done, total)

    watched = progress is not None or cancel is not None
    return index_workspace(
        project.root,
        project.settings,
        store,
        targets=existing,
        jobs=jobs,
        progress=report if watched else None,
        analysed=analysed,
    )


__all__ = ["IndexCancelled", "IndexProgress", "refresh_index"]
