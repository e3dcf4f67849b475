"""Opening the store: the folder, the schema, one connection shared by its repositories."""

from __future__ import annotations

from pathlib import Path

from store_samples import ARK_TABLES, outside_connection, sample_files

from ark_lsp.store import (
    LATEST,
    ChangeSetRepository,
    CodeIndexRepository,
    GenerationRepository,
    IndexCounts,
    IndexRunRepository,
    RulePackRepository,
    SandboxRunRepository,
    Store,
)


def test_open_creates_folder_gitignore_wal_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "ws" / ".ark" / "index.db"
    with Store.open(path) as store:
        assert store.schema_version() == LATEST == 10
        assert store.index.counts() == IndexCounts(files=0, symbols=0, imports=0, violations=0)
    conn = outside_connection(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        names = {
            kind: {
                name
                for (name,) in conn.execute(f"SELECT name FROM sqlite_master WHERE type = '{kind}'")
            }
            for kind in ("table", "view", "trigger")
        }
    finally:
        conn.close()
    assert names["table"] >= ARK_TABLES | {
        "symbols",
        "imports",
        "violations",
        "calls",
        "attribute_bindings",
        "symbols_fts",
        "index_runs",
        "change_sets",
    }
    assert names["view"] == {"complexity_hotspots", "violations_by_tier_rule", "sandbox_outcomes"}
    assert {"sandbox_executions_performance", "change_sets_immutable"} <= names["trigger"]
    assert (path.parent / ".gitignore").read_text() == "*\n"


def test_the_store_enforces_foreign_keys(tmp_path: Path) -> None:
    with Store.open(tmp_path / "index.db") as store:
        store.index.write_files(sample_files())
        # The cascade from code_index reaches symbols only with foreign keys on.
        store.index.remove_files(["pkg/parser.py"])
        assert store.index.counts().symbols == 4


def test_repositories_are_attributes_of_one_store(tmp_path: Path) -> None:
    with Store.open(tmp_path / "index.db") as store:
        assert isinstance(store.index, CodeIndexRepository)
        assert isinstance(store.rules, RulePackRepository)
        assert isinstance(store.runs, SandboxRunRepository)
        assert isinstance(store.generations, GenerationRepository)
        assert isinstance(store.index_runs, IndexRunRepository)
        assert isinstance(store.changes, ChangeSetRepository)
        assert not hasattr(store, "db")  # no raw handle: every query is a repository's


def test_gitignore_only_in_ark_folder_and_never_overwritten(tmp_path: Path) -> None:
    Store.open(tmp_path / "data" / "index.db").close()
    assert not (tmp_path / "data" / ".gitignore").exists()
    (tmp_path / ".ark").mkdir()
    (tmp_path / ".ark" / ".gitignore").write_text("index.db\n")
    Store.open(tmp_path / ".ark" / "index.db").close()
    assert (tmp_path / ".ark" / ".gitignore").read_text() == "index.db\n"


def test_reopening_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    with Store.open(path) as store:
        store.index.write_files(sample_files())
    with Store.open(path) as store:
        assert store.index.counts().symbols == 6
