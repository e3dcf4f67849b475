"""The schema, as a list of migrations applied forward in order.

``PRAGMA user_version`` holds the number of migrations a file has had. Each
migration runs in its own transaction together with the version bump, so a
file is always at exactly one version. Never edit a released migration:
append a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ark_lsp.store.connection import Connection, as_connection, write_transaction
from ark_lsp.store.errors import DatabaseTooNew
from ark_lsp.store.search_text import name_words

if TYPE_CHECKING:
    from sqlite_utils import Database

_NOW = "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"

_V1_INDEX = (
    """CREATE TABLE code_index (
        path TEXT PRIMARY KEY,
        module TEXT NOT NULL,
        tier TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        lines_total INTEGER NOT NULL DEFAULT 0,
        lines_code INTEGER NOT NULL DEFAULT 0,
        lines_comment INTEGER NOT NULL DEFAULT 0,
        lines_blank INTEGER NOT NULL DEFAULT 0,
        parsed INTEGER NOT NULL DEFAULT 1,
        encoding TEXT NOT NULL DEFAULT 'utf-8',
        indexed_at TEXT NOT NULL
    )""",
    "CREATE INDEX code_index_module ON code_index (module)",
    # AUTOINCREMENT: ids are never reused, so a row of the search index can
    # never come to point at a different symbol.
    """CREATE TABLE symbols (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL REFERENCES code_index (path) ON DELETE CASCADE,
        name TEXT NOT NULL,
        qualname TEXT NOT NULL,
        kind TEXT NOT NULL,
        is_async INTEGER NOT NULL DEFAULT 0,
        line INTEGER NOT NULL,
        "column" INTEGER NOT NULL,
        end_line INTEGER NOT NULL,
        end_column INTEGER NOT NULL,
        name_line INTEGER NOT NULL,
        name_column INTEGER NOT NULL,
        signature TEXT,
        parameters TEXT,
        returns TEXT,
        bases TEXT NOT NULL DEFAULT '[]',
        decorators TEXT NOT NULL DEFAULT '[]',
        docstring TEXT,
        complexity INTEGER NOT NULL,
        rank TEXT NOT NULL,
        lines INTEGER NOT NULL,
        parent TEXT
    )""",
    "CREATE INDEX symbols_path ON symbols (path)",
    "CREATE INDEX symbols_complexity ON symbols (complexity)",
    "CREATE INDEX symbols_name ON symbols (name)",
    """CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL REFERENCES code_index (path) ON DELETE CASCADE,
        module TEXT NOT NULL,
        name TEXT,
        bound TEXT NOT NULL,
        line INTEGER NOT NULL,
        "column" INTEGER NOT NULL,
        level INTEGER NOT NULL DEFAULT 0,
        resolved INTEGER NOT NULL DEFAULT 1
    )""",
    "CREATE INDEX imports_path ON imports (path)",
    "CREATE INDEX imports_module ON imports (module)",
    """CREATE TABLE violations (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL REFERENCES code_index (path) ON DELETE CASCADE,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL,
        message TEXT NOT NULL,
        line INTEGER NOT NULL,
        "column" INTEGER NOT NULL,
        end_line INTEGER NOT NULL,
        end_column INTEGER NOT NULL
    )""",
    "CREATE INDEX violations_path ON violations (path)",
    "CREATE INDEX violations_rule ON violations (rule)",
)

_V1_ARK = (
    f"""CREATE TABLE code_patterns (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        description TEXT NOT NULL,
        example_path TEXT,
        example_line INTEGER,
        occurrences INTEGER NOT NULL DEFAULT 1,
        details TEXT,
        first_seen TEXT NOT NULL DEFAULT {_NOW},
        last_seen TEXT NOT NULL DEFAULT {_NOW},
        UNIQUE (kind, description)
    )""",
    f"""CREATE TABLE sandbox_executions (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL DEFAULT {_NOW},
        finished_at TEXT,
        backend TEXT NOT NULL,
        image TEXT,
        target_path TEXT NOT NULL DEFAULT '',
        target_name TEXT NOT NULL DEFAULT '',
        command TEXT,
        limits TEXT,
        exit_code INTEGER,
        killed_by TEXT,
        duration_ms REAL,
        peak_memory_bytes INTEGER,
        cpu_time_ms REAL,
        stdout_excerpt TEXT,
        stderr_excerpt TEXT,
        outcome TEXT NOT NULL
    )""",
    "CREATE INDEX sandbox_executions_target ON sandbox_executions (target_path, target_name)",
    f"""CREATE TABLE validation_rules (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
        kind TEXT NOT NULL,
        pattern TEXT NOT NULL DEFAULT '',
        tiers TEXT NOT NULL DEFAULT '[]',
        enabled INTEGER NOT NULL DEFAULT 1,
        fix TEXT,
        builtin INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL DEFAULT {_NOW}
    )""",
    f"""CREATE TABLE generated_code (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL DEFAULT {_NOW},
        kind TEXT NOT NULL,
        target TEXT,
        template TEXT,
        text TEXT NOT NULL,
        validation TEXT,
        test_outcome TEXT
    )""",
    f"""CREATE TABLE code_improvements (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        line INTEGER,
        kind TEXT NOT NULL,
        rule TEXT,
        suggestion TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        created_at TEXT NOT NULL DEFAULT {_NOW}
    )""",
    f"""CREATE TABLE code_quality_reports (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL DEFAULT {_NOW},
        root TEXT,
        files_scanned INTEGER NOT NULL DEFAULT 0,
        files_indexed INTEGER NOT NULL DEFAULT 0,
        files_unchanged INTEGER NOT NULL DEFAULT 0,
        files_skipped INTEGER NOT NULL DEFAULT 0,
        files_errors INTEGER NOT NULL DEFAULT 0,
        files_removed INTEGER NOT NULL DEFAULT 0,
        lines INTEGER NOT NULL DEFAULT 0,
        average_complexity REAL NOT NULL DEFAULT 0,
        duration_ms INTEGER NOT NULL DEFAULT 0,
        jobs INTEGER NOT NULL DEFAULT 1,
        problems TEXT NOT NULL DEFAULT '[]'
    )""",
    f"""CREATE TABLE approval_queue (
        id INTEGER PRIMARY KEY,
        generated_code_id INTEGER NOT NULL REFERENCES generated_code (id) ON DELETE CASCADE,
        status TEXT NOT NULL DEFAULT 'pending',
        requested_at TEXT NOT NULL DEFAULT {_NOW},
        decided_at TEXT,
        decided_by TEXT,
        note TEXT
    )""",
    "CREATE INDEX approval_queue_generated ON approval_queue (generated_code_id)",
    f"""CREATE TABLE deployments (
        id INTEGER PRIMARY KEY,
        generated_code_id INTEGER REFERENCES generated_code (id) ON DELETE SET NULL,
        target_path TEXT NOT NULL,
        deployed_at TEXT NOT NULL DEFAULT {_NOW},
        status TEXT NOT NULL DEFAULT 'deployed'
    )""",
    "CREATE INDEX deployments_generated ON deployments (generated_code_id)",
    f"""CREATE TABLE deployment_health (
        id INTEGER PRIMARY KEY,
        deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
        checked_at TEXT NOT NULL DEFAULT {_NOW},
        healthy INTEGER NOT NULL,
        detail TEXT
    )""",
    "CREATE INDEX deployment_health_deployment ON deployment_health (deployment_id)",
    """CREATE TABLE code_performance (
        target_path TEXT NOT NULL,
        target_name TEXT NOT NULL DEFAULT '',
        runs INTEGER NOT NULL DEFAULT 0,
        passed INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        timeouts INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        avg_duration_ms REAL,
        max_peak_memory_bytes INTEGER,
        last_outcome TEXT,
        last_run_at TEXT,
        PRIMARY KEY (target_path, target_name)
    )""",
    f"""CREATE TABLE improvement_tasks (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL DEFAULT {_NOW},
        title TEXT NOT NULL,
        detail TEXT,
        status TEXT NOT NULL DEFAULT 'open',
        source TEXT
    )""",
)

_VIEWS = {
    "complexity_hotspots": """
        SELECT s.path, s.qualname, s.kind, s.complexity, s.rank, c.tier, s.lines, s.line
        FROM symbols AS s JOIN code_index AS c ON c.path = s.path
        ORDER BY s.complexity DESC, s.path, s.line""",
    "violations_by_tier_rule": """
        SELECT c.tier, v.rule, v.severity, count(*) AS count
        FROM violations AS v JOIN code_index AS c ON c.path = v.path
        GROUP BY c.tier, v.rule, v.severity
        ORDER BY c.tier, v.rule, v.severity""",
    "sandbox_outcomes": """
        SELECT target_path, target_name, count(*) AS runs,
            sum(outcome = 'passed') AS passed,
            sum(outcome = 'failed') AS failed,
            sum(outcome = 'timeout') AS timeouts,
            max(coalesce(finished_at, started_at)) AS last_run_at
        FROM sandbox_executions
        GROUP BY target_path, target_name
        ORDER BY target_path, target_name""",
}

# Right-hand sides of DO UPDATE see the row as it was before the update.
_PERFORMANCE_TRIGGER = """
CREATE TRIGGER sandbox_executions_performance AFTER INSERT ON sandbox_executions
BEGIN
    INSERT INTO code_performance (
        target_path, target_name, runs, passed, failed, timeouts, errors,
        avg_duration_ms, max_peak_memory_bytes, last_outcome, last_run_at
    ) VALUES (
        new.target_path, new.target_name, 1,
        new.outcome = 'passed', new.outcome = 'failed', new.outcome = 'timeout',
        new.outcome NOT IN ('passed', 'failed', 'timeout'),
        new.duration_ms, new.peak_memory_bytes, new.outcome,
        coalesce(new.finished_at, new.started_at)
    )
    ON CONFLICT (target_path, target_name) DO UPDATE SET
        runs = runs + 1,
        passed = passed + excluded.passed,
        failed = failed + excluded.failed,
        timeouts = timeouts + excluded.timeouts,
        errors = errors + excluded.errors,
        avg_duration_ms = CASE
            WHEN excluded.avg_duration_ms IS NULL THEN avg_duration_ms
            WHEN avg_duration_ms IS NULL THEN excluded.avg_duration_ms
            ELSE (avg_duration_ms * runs + excluded.avg_duration_ms) / (runs + 1)
        END,
        max_peak_memory_bytes = max(
            coalesce(max_peak_memory_bytes, excluded.max_peak_memory_bytes),
            coalesce(excluded.max_peak_memory_bytes, max_peak_memory_bytes)
        ),
        last_outcome = CASE WHEN excluded.last_run_at >= coalesce(last_run_at, '')
            THEN excluded.last_outcome ELSE last_outcome END,
        last_run_at = max(excluded.last_run_at, coalesce(last_run_at, ''));
END"""

_V2_SEARCH_COLUMNS = ("name", "qualname", "docstring")
"""The full-text index's columns from version 2 to 9."""

SEARCH_COLUMNS = ("name", "qualname", "docstring", "name_words")
"""Columns of ``symbols`` in the full-text index, in the order bm25 weights them."""


def _search_update_trigger(columns: tuple[str, ...]) -> str:
    """The trigger that keeps the full-text index of ``columns`` right when a symbol changes.

    Inserts and deletes reach symbols_fts through the code index's bulk
    statements (see code_index.py): per-row triggers made indexing several
    times slower. An update is rare and must not leave the index describing
    old text.
    """
    return f"""
CREATE TRIGGER symbols_fts_update AFTER UPDATE ON symbols
BEGIN
    INSERT INTO symbols_fts (symbols_fts, rowid, {", ".join(columns)})
    VALUES ('delete', old.id, {", ".join(f"old.{c}" for c in columns)});
    INSERT INTO symbols_fts (rowid, {", ".join(columns)})
    VALUES (new.id, {", ".join(f"new.{c}" for c in columns)});
END"""


def _v1_tables(db: Connection) -> None:
    """The code index and the ARK tables."""
    for statement in (*_V1_INDEX, *_V1_ARK):
        db.execute(statement)


def _v2_search_and_views(db: Connection) -> None:
    """Full-text search over symbols, the three views and the performance trigger."""
    db.table("symbols").enable_fts(list(_V2_SEARCH_COLUMNS))
    db.execute(_search_update_trigger(_V2_SEARCH_COLUMNS))
    for name, sql in _VIEWS.items():
        db.create_view(name, sql.strip())
    db.execute(_PERFORMANCE_TRIGGER)


def _v3_rule_rows(db: Connection) -> None:
    """Rules keyed by name (one id, ARK004, watches several callees); analysis keys."""
    db.execute("DROP TABLE validation_rules")
    db.execute(
        f"""CREATE TABLE validation_rules (
            name TEXT PRIMARY KEY,
            id TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
            kind TEXT NOT NULL,
            pattern TEXT NOT NULL DEFAULT '',
            message TEXT NOT NULL DEFAULT '',
            keyword TEXT,
            condition TEXT,
            tiers TEXT NOT NULL DEFAULT '[]',
            enabled INTEGER NOT NULL DEFAULT 1,
            fix TEXT,
            builtin INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL DEFAULT {_NOW}
        )"""
    )
    db.execute("CREATE INDEX validation_rules_id ON validation_rules (id)")
    # What the file was analysed under: a change of rules or settings re-analyses it.
    db.execute("ALTER TABLE code_index ADD COLUMN analysis_key TEXT NOT NULL DEFAULT ''")


def _v4_calls(db: Connection) -> None:
    """Callee names per file, so hover can say how many places call a function."""
    db.execute(
        """CREATE TABLE calls (
            path TEXT NOT NULL REFERENCES code_index (path) ON DELETE CASCADE,
            name TEXT NOT NULL,
            count INTEGER NOT NULL
        )"""
    )
    db.execute("CREATE INDEX calls_path ON calls (path)")
    db.execute("CREATE INDEX calls_name ON calls (name)")
    # Files indexed before this version have no call rows: analyse them again.
    db.execute("UPDATE code_index SET analysis_key = ''")


def _v5_sandbox_details(db: Connection) -> None:
    """What a sandbox run was, which limits it reached, how isolated it was, why it erred."""
    for column in (
        "kind TEXT NOT NULL DEFAULT 'run'",
        "limits_hit TEXT NOT NULL DEFAULT '[]'",
        "isolation TEXT",
        "detail TEXT",
    ):
        db.execute(f"ALTER TABLE sandbox_executions ADD COLUMN {column}")
    db.execute("CREATE INDEX sandbox_executions_started ON sandbox_executions (started_at)")


_INDEX_RUN_COLUMNS = (
    "id, created_at, root, files_scanned, files_indexed, files_unchanged, files_skipped, "
    "files_errors, files_removed, lines, average_complexity, duration_ms, jobs, problems"
)


def _v6_index_runs(db: Connection) -> None:
    """Index-run figures in a table of their own: ``code_quality_reports`` is the quality gate's.

    Until now the indexer was the only writer of ``code_quality_reports``, so
    every row there is an index run: they all move, ids and times kept, and
    the table is left empty. No view or trigger reads them.
    """
    db.execute(
        f"""CREATE TABLE index_runs (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL DEFAULT {_NOW},
            root TEXT,
            files_scanned INTEGER NOT NULL DEFAULT 0,
            files_indexed INTEGER NOT NULL DEFAULT 0,
            files_unchanged INTEGER NOT NULL DEFAULT 0,
            files_skipped INTEGER NOT NULL DEFAULT 0,
            files_errors INTEGER NOT NULL DEFAULT 0,
            files_removed INTEGER NOT NULL DEFAULT 0,
            lines INTEGER NOT NULL DEFAULT 0,
            average_complexity REAL NOT NULL DEFAULT 0,
            duration_ms INTEGER NOT NULL DEFAULT 0,
            jobs INTEGER NOT NULL DEFAULT 1,
            problems TEXT NOT NULL DEFAULT '[]'
        )"""
    )
    db.execute(
        f"INSERT INTO index_runs ({_INDEX_RUN_COLUMNS}) "
        f"SELECT {_INDEX_RUN_COLUMNS} FROM code_quality_reports ORDER BY id"
    )
    db.execute("DELETE FROM code_quality_reports")


def _v7_change_sets(db: Connection) -> None:
    """Change sets: a patch on a base commit with its provenance, keyed by their hash.

    A row is never updated: a change that differs is another change, and
    what is keyed on an id (gate reports, approvals) must keep meaning it.
    """
    db.execute(
        """CREATE TABLE change_sets (
            id TEXT PRIMARY KEY CHECK (length(id) = 64),
            base TEXT NOT NULL,
            patch BLOB NOT NULL,
            reason TEXT NOT NULL,
            proposed_by TEXT NOT NULL,
            source TEXT NOT NULL,
            source_detail TEXT NOT NULL DEFAULT '',
            targets TEXT NOT NULL DEFAULT '[]',
            onto TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX change_sets_created ON change_sets (created_at)")
    db.execute(
        """CREATE TRIGGER change_sets_immutable BEFORE UPDATE ON change_sets
        BEGIN
            SELECT RAISE(ABORT, 'a change set is immutable: propose a new one');
        END"""
    )


def _v8_quality_reports(db: Connection) -> None:
    """``code_quality_reports`` as the quality gate keeps its runs: a row set per run.

    Each run of ``ark gate`` writes one row for the run (its verdict), one
    per check, one per changed file and one per touched function, all keyed
    by the run's id and the change judged (its change id, or the range).
    The table has been empty since index runs moved out (v6).
    """
    db.execute("DROP TABLE code_quality_reports")
    db.execute(
        f"""CREATE TABLE code_quality_reports (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL DEFAULT {_NOW},
            gate_run TEXT NOT NULL,
            change_id TEXT,
            subject TEXT NOT NULL,
            base_commit TEXT NOT NULL,
            head_commit TEXT NOT NULL,
            scope TEXT NOT NULL CHECK (scope IN ('run', 'check', 'file', 'function')),
            check_name TEXT,
            path TEXT,
            qualname TEXT,
            line INTEGER,
            status TEXT,
            summary TEXT,
            reason TEXT,
            duration_ms REAL,
            findings INTEGER,
            coverage REAL,
            branch_coverage REAL,
            mutation_score REAL,
            mutants INTEGER,
            mutants_killed INTEGER,
            complexity_before INTEGER,
            complexity_after INTEGER,
            details TEXT NOT NULL DEFAULT '{{}}'
        )"""
    )
    db.execute("CREATE INDEX code_quality_reports_run ON code_quality_reports (gate_run)")
    db.execute("CREATE INDEX code_quality_reports_change ON code_quality_reports (change_id)")
    db.execute(
        "CREATE INDEX code_quality_reports_function "
        "ON code_quality_reports (path, qualname, created_at)"
    )


def _v9_attribute_bindings(db: Connection) -> None:
    """Attribute names each file assigns or deletes on any object (``x.name = ...``).

    A hover types ``self.x`` from its class's bindings only when no other
    file may bind an attribute so named: this says which files may.
    """
    db.execute(
        """CREATE TABLE attribute_bindings (
            path TEXT NOT NULL REFERENCES code_index (path) ON DELETE CASCADE,
            name TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX attribute_bindings_path ON attribute_bindings (path)")
    db.execute("CREATE INDEX attribute_bindings_name ON attribute_bindings (name)")
    # Files indexed before this version have no such rows: analyse them again.
    db.execute("UPDATE code_index SET analysis_key = ''")


def _v10_name_words(db: Connection) -> None:
    """The words of CamelCase names in the full-text index: ``decode`` finds ``TOMLDecodeError``.

    SQLite's tokenizer cuts names at underscores only. Each symbol gets the
    words of its name (:func:`~ark_lsp.store.search_text.name_words`),
    computed here for the symbols already indexed, and the full-text index
    is made again with them as a fourth column.
    """
    db.execute("DROP TRIGGER symbols_fts_update")
    db.execute("DROP TABLE symbols_fts")
    db.execute("ALTER TABLE symbols ADD COLUMN name_words TEXT")
    db.conn.create_function("ark_name_words", 1, name_words, deterministic=True)
    db.execute("UPDATE symbols SET name_words = ark_name_words(name)")
    db.table("symbols").enable_fts(list(SEARCH_COLUMNS))
    db.execute(_search_update_trigger(SEARCH_COLUMNS))


Migration = Callable[[Connection], None]

MIGRATIONS: tuple[Migration, ...] = (
    _v1_tables,
    _v2_search_and_views,
    _v3_rule_rows,
    _v4_calls,
    _v5_sandbox_details,
    _v6_index_runs,
    _v7_change_sets,
    _v8_quality_reports,
    _v9_attribute_bindings,
    _v10_name_words,
)
LATEST = len(MIGRATIONS)
"""The schema version this ARK writes."""


def schema_version(db: Connection | Database) -> int:
    """The file's ``PRAGMA user_version``."""
    row = db.conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def database_file(db: Connection | Database) -> Path:
    """The path of the main database file behind ``db``."""
    for _, name, file in db.conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file)
    return Path()


def migrate(db: Connection | Database, target: int | None = None) -> int:
    """Bring the schema forward to ``target`` (default: :data:`LATEST`); return the version.

    A file already at or past ``target`` is left alone; one past
    :data:`LATEST` raises :class:`DatabaseTooNew`.
    """
    db = as_connection(db)
    goal = LATEST if target is None else target
    if not 0 <= goal <= LATEST:
        raise ValueError(f"schema version must be between 0 and {LATEST}, not {goal}")
    current = schema_version(db)
    if current > LATEST:
        raise DatabaseTooNew(database_file(db), current, LATEST)
    for version in range(current + 1, goal + 1):
        with write_transaction(db):
            # Another process may have migrated between our read and our lock.
            found = schema_version(db)
            if found >= version:
                continue
            MIGRATIONS[version - 1](db)
            db.conn.execute(f"PRAGMA user_version = {version}")
    return schema_version(db)
