"""ARK's embedded database: one SQLite file per workspace, through sqlite-utils.

The file (by default ``.ark/index.db``) holds the code index (files, symbols,
imports, violations, a full-text index over symbols) and the ARK tables
(sandbox executions, rules, generated code and what follows from them). The
schema is versioned with ``PRAGMA user_version`` and migrated forward on open.
"""

from __future__ import annotations

from ark_lsp.store.database import Store, SymbolSort
from ark_lsp.store.errors import (
    DatabaseCorrupt,
    DatabaseLocked,
    DatabaseTooNew,
    StoreError,
    move_aside,
)
from ark_lsp.store.records import (
    ExecutionRecord,
    PerformanceRecord,
    SymbolRecord,
    Totals,
    ViolationRecord,
)
from ark_lsp.store.schema import LATEST, migrate

__all__ = [
    "LATEST",
    "DatabaseCorrupt",
    "DatabaseLocked",
    "DatabaseTooNew",
    "ExecutionRecord",
    "PerformanceRecord",
    "Store",
    "StoreError",
    "SymbolRecord",
    "SymbolSort",
    "Totals",
    "ViolationRecord",
    "migrate",
    "move_aside",
]
