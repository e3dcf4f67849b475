"""Index runs: the figures of each ``ark index`` run (or server re-index), in ``index_runs``."""

from __future__ import annotations

from collections.abc import Mapping

from ark_lsp.store.repository import Repository, guarded


class IndexRunRepository(Repository):
    """The figures of every run of the indexer (``store.index_runs``)."""

    @guarded
    def record(self, figures: Mapping[str, object]) -> int:
        """Keep the figures of one run; return its id.

        Keys are column names (``files_scanned``, ``duration_ms``...; others
        are left out); ``problems`` may be a list, stored as JSON.
        """
        return self._insert("index_runs", figures)
