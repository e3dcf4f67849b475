"""ARK's embedded database: one SQLite file per workspace, through sqlite-utils.

The file (by default ``.ark/index.db``) holds the code index (files, symbols,
imports, violations, a full-text index over symbols) and the ARK tables
(sandbox executions, rules, generated code, index runs and what follows from
them). The schema is versioned with ``PRAGMA user_version`` and migrated
forward on open (:mod:`ark_lsp.store.schema`).

A :class:`Store` is one connection to the file; its queries are grouped in
one repository per concern, each in its own module and reached as an
attribute of the store:

- ``store.index`` (:mod:`~ark_lsp.store.code_index`): the code index;
- ``store.rules`` (:mod:`~ark_lsp.store.rule_pack`): the rule pack;
- ``store.runs`` (:mod:`~ark_lsp.store.sandbox_runs`): sandbox runs, performance;
- ``store.generations`` (:mod:`~ark_lsp.store.generations`): generated code;
- ``store.index_runs`` (:mod:`~ark_lsp.store.index_runs`): indexing figures;
- ``store.changes`` (:mod:`~ark_lsp.store.changes`): change sets, immutable;
- ``store.quality`` (:mod:`~ark_lsp.store.quality_reports`): the quality
  gate's reports, ``code_quality_reports``.

The improvement loop's records come next the same way, one module and one
attribute each: ``approvals``, ``deployments`` with their health.
"""

from __future__ import annotations

from ark_lsp.store.changes import ChangeSetRepository
from ark_lsp.store.code_index import CodeIndexRepository, SymbolSort
from ark_lsp.store.database import Store
from ark_lsp.store.errors import (
    DatabaseCorrupt,
    DatabaseLocked,
    DatabaseTooNew,
    StoreError,
    move_aside,
)
from ark_lsp.store.generations import GenerationRepository
from ark_lsp.store.index_runs import IndexRunRepository
from ark_lsp.store.quality_reports import QualityReportRepository, QualityRow, QualityRun
from ark_lsp.store.records import (
    AnalysedFileRecord,
    ExecutionRecord,
    IndexCounts,
    PerformanceRecord,
    SymbolRecord,
    Totals,
    ViolationRecord,
)
from ark_lsp.store.rule_pack import RulePackRepository
from ark_lsp.store.sandbox_runs import SandboxRunRepository
from ark_lsp.store.schema import LATEST, migrate

__all__ = [
    "LATEST",
    "AnalysedFileRecord",
    "ChangeSetRepository",
    "CodeIndexRepository",
    "DatabaseCorrupt",
    "DatabaseLocked",
    "DatabaseTooNew",
    "ExecutionRecord",
    "GenerationRepository",
    "IndexCounts",
    "IndexRunRepository",
    "PerformanceRecord",
    "QualityReportRepository",
    "QualityRow",
    "QualityRun",
    "RulePackRepository",
    "SandboxRunRepository",
    "Store",
    "StoreError",
    "SymbolRecord",
    "SymbolSort",
    "Totals",
    "ViolationRecord",
    "migrate",
    "move_aside",
]
