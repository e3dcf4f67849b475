"""Fixtures of the store's tests: an index of the sample files, and the file seen from outside."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database
from store_samples import outside_connection, sample_files

from ark_lsp.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / ".ark" / "index.db")
    opened.index.write_files(sample_files())
    yield opened
    opened.close()


@pytest.fixture
def outside(store: Store) -> Iterator[Database]:
    """The store's file through sqlite-utils over a connection of its own."""
    db = Database(outside_connection(store.path))
    yield db
    db.close()
