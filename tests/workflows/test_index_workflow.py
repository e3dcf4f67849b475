"""The index workflow: a refresh indexes what changed, forgets what is gone, and can be stopped."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from ark_lsp.project import Project
from ark_lsp.store import StoreError
from ark_lsp.workflows.index import IndexCancelled, refresh_index
from ark_lsp.workspace import BATCH_SIZE


def test_a_refresh_indexes_what_changed_and_only_that(project: Project) -> None:
    first = refresh_index(project)
    assert (first.files_scanned, first.files_indexed, first.files_unchanged) == (3, 3, 0)

    (project.root / "shop" / "checkout.py").write_text("def pay():\n    return 0\n")
    with project.open_store() as store:
        second = refresh_index(project, store=store)
        assert (second.files_indexed, second.files_unchanged) == (1, 2)
        assert {s.qualname for s in store.index.symbols()} == {"total", "risky", "pay"}


def test_a_target_that_is_gone_takes_what_was_indexed_under_it(project: Project) -> None:
    refresh_index(project)
    folder = project.root / "shop"
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()

    figures = refresh_index(project, targets=[folder])

    assert figures.files_removed == 3
    with project.open_store() as store:
        assert store.index.file_states() == {}


def test_progress_is_reported_and_cancel_stops_the_run(project: Project) -> None:
    reports: list[tuple[int, int]] = []
    refresh_index(project, progress=lambda done, total: reports.append((done, total)))
    assert reports and reports[-1] == (3, 3)

    (project.root / "shop" / "pricing.py").write_text("def changed():\n    pass\n")
    with pytest.raises(IndexCancelled):
        refresh_index(project, cancel=lambda: True)


def test_only_the_targets_are_refreshed(project: Project, shop: Path) -> None:
    figures = refresh_index(project, targets=[shop / "shop" / "pricing.py"])
    assert (figures.files_scanned, figures.files_indexed) == (1, 1)


def test_a_failed_write_ends_the_run_and_keeps_the_batches_before(project: Project) -> None:
    refresh_index(project)
    for number in range(600):
        (project.root / "shop" / f"m{number:03}.py").write_text(f"def f{number}():\n    pass\n")
    # A real SQLite error in the middle of the run: the insert of one file is refused.
    with closing(sqlite3.connect(project.database)) as outside:
        outside.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON code_index WHEN NEW.path = 'shop/m300.py' "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )

    with pytest.raises(StoreError, match="refused by the test"):
        refresh_index(project, jobs=1)

    with project.open_store() as store:
        added = {path for path in store.index.file_states() if "/m" in path}
        # The first batch was written whole; the refused file's batch left nothing behind.
        assert added == {f"shop/m{number:03}.py" for number in range(BATCH_SIZE)}
        assert store.index.counts().symbols == 3 + BATCH_SIZE
