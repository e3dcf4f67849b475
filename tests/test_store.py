"""The SQLite store: schema, migrations, index writes and queries, faults."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlite_utils import Database

from ark_lsp.models import (
    FileState,
    Import,
    IndexedFile,
    LineCounts,
    ModuleReport,
    Parameter,
    ParameterKind,
    Severity,
    Signature,
    Span,
    Symbol,
    SymbolKind,
    Tier,
    Violation,
)
from ark_lsp.rules import DEFAULT_RULES
from ark_lsp.store import (
    LATEST,
    DatabaseCorrupt,
    DatabaseLocked,
    DatabaseTooNew,
    Store,
    StoreError,
    SymbolRecord,
    migrate,
    move_aside,
)
from ark_lsp.store.errors import translate

ARK_TABLES = {
    "code_index",
    "code_patterns",
    "sandbox_executions",
    "validation_rules",
    "generated_code",
    "code_improvements",
    "code_quality_reports",
    "approval_queue",
    "deployments",
    "deployment_health",
    "code_performance",
    "improvement_tasks",
}


# --- building analysis results by hand ---------------------------------------------------


def sym(
    name: str,
    *,
    qualname: str | None = None,
    kind: SymbolKind = SymbolKind.FUNCTION,
    line: int = 1,
    end_line: int | None = None,
    complexity: int = 1,
    docstring: str | None = None,
    signature: Signature | None = None,
    parent: str | None = None,
    bases: tuple[str, ...] = (),
    decorators: tuple[str, ...] = (),
    is_async: bool = False,
) -> Symbol:
    end = end_line if end_line is not None else line + 1
    if signature is None and kind is not SymbolKind.CLASS:
        signature = Signature()
    return Symbol(
        name=name,
        qualname=qualname or name,
        kind=kind,
        span=Span(line, 0, end, 10),
        name_span=Span(line, 4, line, 4 + len(name)),
        complexity=complexity,
        rank="A" if complexity <= 5 else "B" if complexity <= 10 else "C",
        is_async=is_async,
        signature=signature,
        bases=bases,
        decorators=decorators,
        docstring=docstring,
        parent=parent,
    )


def imp(module: str, name: str | None = None, *, line: int = 1, level: int = 0) -> Import:
    bound = name or module.partition(".")[0]
    return Import(module=module, name=name, bound=bound, line=line, column=0, level=level)


def make_file(
    path: str,
    *,
    module: str | None = None,
    tier: Tier = Tier.TRUSTED,
    symbols: Sequence[Symbol] = (),
    imports: Sequence[Import] = (),
    violations: Sequence[Violation] = (),
    mtime_ns: int = 1,
    sha: str | None = None,
    lines: int = 10,
) -> IndexedFile:
    if module is None:
        module = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    report = ModuleReport(
        path=path,
        module=module,
        tier=tier,
        lines=LineCounts(total=lines, code=lines - 2, comment=1, blank=1),
        symbols=tuple(symbols),
        imports=tuple(imports),
        violations=tuple(violations),
    )
    state = FileState(size=lines * 10, mtime_ns=mtime_ns, sha256=sha or f"sha-{path}")
    return IndexedFile(path=path, state=state, report=report)


def violation(rule: str, line: int, severity: Severity = Severity.ERROR) -> Violation:
    return Violation(rule, severity, f"{rule} here", Span(line, 0, line, 5))


SIGNATURE = Signature(
    parameters=(
        Parameter("source", ParameterKind.POSITIONAL_ONLY, "bytes"),
        Parameter("strict", ParameterKind.KEYWORD_ONLY, "bool", "False"),
    ),
    returns="Tree",
)


def sample_files() -> list[IndexedFile]:
    return [
        make_file(
            "pkg/__init__.py",
            symbols=[
                sym(
                    "Store",
                    kind=SymbolKind.CLASS,
                    line=3,
                    end_line=30,
                    complexity=4,
                    bases=("Base",),
                    docstring="Holds the index.",
                ),
                sym(
                    "open",
                    qualname="Store.open",
                    kind=SymbolKind.METHOD,
                    line=5,
                    complexity=2,
                    parent="Store",
                    decorators=("classmethod",),
                    docstring="Open the database.",
                ),
            ],
            imports=[imp("os"), imp("pkg.parser", "parse_file", line=2)],
        ),
        make_file(
            "pkg/parser.py",
            symbols=[
                sym(
                    "parse_file",
                    line=4,
                    end_line=20,
                    complexity=12,
                    signature=SIGNATURE,
                    docstring="Parse one file into a tree.",
                    is_async=True,
                ),
                sym("helper", line=22, complexity=12),
            ],
            imports=[imp("pkg"), imp("pkg.util", "tools", line=2), imp("json", line=3)],
            violations=[violation("ARK001", 7), violation("ARK020", 9, Severity.WARNING)],
        ),
        make_file(
            "pkg2/other.py",
            tier=Tier.TESTING,
            symbols=[sym("check", line=1, complexity=3, docstring="Uses parse results.")],
            imports=[imp("pkg.parser"), imp("pkg2.other", "check")],
            violations=[violation("ARK001", 1)],
        ),
        make_file("pkg/util/__init__.py", imports=[imp("pkg", "parser", level=2)]),
        make_file("Pkg/upper.py", symbols=[sym("upper", complexity=7)]),
    ]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / ".ark" / "index.db")
    opened.write_files(sample_files())
    yield opened
    opened.close()


def rows(store: Store, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
    return list(store.db.conn.execute(sql, params))


# --- opening ---------------------------------------------------------------------------------


def test_open_creates_folder_gitignore_wal_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "ws" / ".ark" / "index.db"
    with Store.open(path) as store:
        conn = store.db.conn
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
        assert store.schema_version() == LATEST == 5
        assert set(store.db.table_names()) >= ARK_TABLES
        assert {"symbols", "imports", "violations", "calls", "symbols_fts"} <= set(
            store.db.table_names()
        )
        assert set(store.db.view_names()) == {
            "complexity_hotspots",
            "violations_by_tier_rule",
            "sandbox_outcomes",
        }
        assert "sandbox_executions_performance" in {t.name for t in store.db.triggers}
        assert store.stats() == {
            "files": 0,
            "symbols": 0,
            "imports": 0,
            "violations": 0,
            "schema_version": LATEST,
        }
    assert (path.parent / ".gitignore").read_text() == "*\n"


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
        store.write_files(sample_files())
    with Store.open(path) as store:
        assert store.stats()["symbols"] == 6


# --- writing the index -------------------------------------------------------------------


def test_write_files_stores_every_field(store: Store) -> None:
    index_row = store.db.table("code_index").get("pkg/parser.py")
    assert index_row["module"] == "pkg.parser"
    assert index_row["tier"] == "trusted"
    assert (index_row["size"], index_row["mtime_ns"], index_row["sha256"]) == (
        100,
        1,
        "sha-pkg/parser.py",
    )
    assert (
        index_row["lines_total"],
        index_row["lines_code"],
        index_row["lines_comment"],
        index_row["lines_blank"],
    ) == (10, 8, 1, 1)
    assert index_row["parsed"] == 1 and index_row["encoding"] == "utf-8"
    assert index_row["indexed_at"].endswith("Z")

    [parse] = store.db.table("symbols").rows_where("name = ?", ["parse_file"])
    assert parse["signature"] == "(source: bytes, /, *, strict: bool = False) -> Tree"
    assert json.loads(parse["parameters"]) == [
        {"name": "source", "kind": "positional_only", "annotation": "bytes", "default": None},
        {"name": "strict", "kind": "keyword_only", "annotation": "bool", "default": "False"},
    ]
    assert parse["returns"] == "Tree"
    assert parse["is_async"] == 1
    assert (parse["line"], parse["column"], parse["end_line"], parse["end_column"]) == (
        4,
        0,
        20,
        10,
    )
    assert (parse["name_line"], parse["name_column"]) == (4, 4)
    assert (parse["complexity"], parse["rank"], parse["lines"]) == (12, "C", 17)

    [cls] = store.db.table("symbols").rows_where("name = ?", ["Store"])
    assert cls["signature"] is None and cls["parameters"] is None
    assert json.loads(cls["bases"]) == ["Base"]
    [method] = store.db.table("symbols").rows_where("name = ?", ["open"])
    assert json.loads(method["decorators"]) == ["classmethod"]
    assert method["parent"] == "Store" and method["kind"] == "method"

    assert rows(
        store,
        "SELECT module, name, bound, line, level, resolved FROM imports "
        "WHERE path = 'pkg/util/__init__.py'",
    ) == [("pkg", "parser", "parser", 1, 2, 1)]
    assert rows(
        store,
        'SELECT rule, severity, message, line, "column", end_line, end_column '
        "FROM violations WHERE path = 'pkg/parser.py' ORDER BY line",
    ) == [
        ("ARK001", "error", "ARK001 here", 7, 0, 7, 5),
        ("ARK020", "warning", "ARK020 here", 9, 0, 9, 5),
    ]
    assert store.stats() == {
        "files": 5,
        "symbols": 6,
        "imports": 8,
        "violations": 3,
        "schema_version": LATEST,
    }


def test_rewriting_a_file_replaces_its_rows_and_removed_cascade(store: Store) -> None:
    new = make_file(
        "pkg/parser.py", symbols=[sym("tokenize", docstring="Split text.")], mtime_ns=5, sha="new"
    )
    store.write_files([new], removed=["pkg2/other.py", "not/indexed.py"])
    assert [r.qualname for r in store.symbols(path_prefixes=["pkg/parser.py"])] == ["tokenize"]
    assert rows(store, "SELECT count(*) FROM violations") == [(0,)]
    assert rows(store, "SELECT count(*) FROM imports WHERE path = 'pkg/parser.py'") == [(0,)]
    assert "pkg2/other.py" not in store.file_states()
    assert store.file_states()["pkg/parser.py"] == FileState(100, 5, "new")
    # The search index follows deletes made by the cascade.
    assert store.search("parse_file") == []
    assert store.search("check") == []
    assert [r.name for r in store.search("tokenize")] == ["tokenize"]
    store.db.conn.execute("INSERT INTO symbols_fts (symbols_fts) VALUES ('integrity-check')")


def test_duplicate_paths_in_one_batch_keep_the_last(tmp_path: Path) -> None:
    with Store.open(tmp_path / "index.db") as store:
        store.write_files(
            [make_file("a.py", symbols=[sym("first")]), make_file("a.py", symbols=[sym("second")])]
        )
        assert [r.name for r in store.symbols()] == ["second"]


def test_touch_and_remove_files(store: Store) -> None:
    store.touch_files({"pkg/parser.py": FileState(123, 99, "sha-pkg/parser.py")})
    assert store.file_states()["pkg/parser.py"] == FileState(123, 99, "sha-pkg/parser.py")
    assert len(store.symbols(path_prefixes=["pkg/parser.py"])) == 2
    store.remove_files(["pkg/parser.py", "Pkg/upper.py"])
    assert sorted(store.file_states()) == [
        "pkg/__init__.py",
        "pkg/util/__init__.py",
        "pkg2/other.py",
    ]
    assert store.stats()["symbols"] == 3


# --- queries -------------------------------------------------------------------------------


def test_symbols_filters_and_sorts(store: Store) -> None:
    by_line = store.symbols()
    assert [(r.path, r.name) for r in by_line] == [
        ("Pkg/upper.py", "upper"),
        ("pkg/__init__.py", "Store"),
        ("pkg/__init__.py", "open"),
        ("pkg/parser.py", "parse_file"),
        ("pkg/parser.py", "helper"),
        ("pkg2/other.py", "check"),
    ]
    first = store.symbols(path_prefixes=["pkg/parser.py"])[0]
    assert first == SymbolRecord(
        path="pkg/parser.py",
        name="parse_file",
        qualname="parse_file",
        kind="function",
        line=4,
        end_line=20,
        complexity=12,
        rank="C",
        tier="trusted",
        signature="(source: bytes, /, *, strict: bool = False) -> Tree",
        docstring="Parse one file into a tree.",
        column=0,
        end_column=10,
    )
    # "pkg" is a folder: not "pkg2", not "Pkg".
    assert {r.path for r in store.symbols(path_prefixes=["pkg"])} == {
        "pkg/__init__.py",
        "pkg/parser.py",
    }
    assert {r.path for r in store.symbols(path_prefixes=["./pkg/"])} == {
        "pkg/__init__.py",
        "pkg/parser.py",
    }
    assert len(store.symbols(path_prefixes=[""])) == len(store.symbols(path_prefixes=["."])) == 6
    assert {r.path for r in store.symbols(path_prefixes=["pkg2", "Pkg"])} == {
        "pkg2/other.py",
        "Pkg/upper.py",
    }
    assert store.symbols(path_prefixes=["pk"]) == []
    assert store.symbols(path_prefixes=[]) == []

    by_complexity = store.symbols(sort="complexity")
    assert [(r.complexity, r.name) for r in by_complexity] == [
        (12, "parse_file"),
        (12, "helper"),
        (7, "upper"),
        (4, "Store"),
        (3, "check"),
        (2, "open"),
    ]
    assert [r.name for r in store.symbols(sort="name")] == [
        "Store",
        "check",
        "helper",
        "open",
        "parse_file",
        "upper",
    ]
    assert [r.name for r in store.symbols(min_complexity=7, sort="complexity", limit=2)] == [
        "parse_file",
        "helper",
    ]
    assert [r.tier for r in store.symbols(path_prefixes=["pkg2"])] == ["testing"]
    with pytest.raises(ValueError, match="sort must be one of"):
        store.symbols(sort="size")  # type: ignore[arg-type]


def test_search_prefix_qualname_and_ranking(store: Store) -> None:
    assert store.search("pars")[0].name == "parse_file"
    assert store.search("Store.open")[0].qualname == "Store.open"
    assert store.search("store")[0].qualname == "Store"
    # A name match ranks above a docstring mention.
    assert [r.name for r in store.search("parse")] == ["parse_file", "check"]
    assert [r.name for r in store.search("database")] == ["open"]
    assert store.search("parse", limit=1)[0].name == "parse_file"
    assert store.search("nothing_like_it") == []


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "'",
        "-",
        "*",
        ":",
        "(",
        ")",
        "pars*",
        '"open',
        "a OR",
        "NOT",
        "NEAR(x y)",
        "name:open",
        "-helper",
        "Store.",
        "^open",
        "",
        "   ",
        "ünïcödé",
        "a" * 500,
    ],
)
def test_search_never_raises_on_user_input(store: Store, query: str) -> None:
    results = store.search(query)
    assert isinstance(results, list)


def test_search_strips_syntax_but_keeps_words(store: Store) -> None:
    assert [r.name for r in store.search('"helper')] == ["helper"]
    assert [r.name for r in store.search("(open)")] == ["open"]
    assert [r.name for r in store.search("open:")] == ["open"]
    assert [r.name for r in store.search("-helper")] == ["helper"]


def test_module_edges(store: Store) -> None:
    assert store.module_edges() == [
        ("pkg", "pkg.parser"),  # from pkg.parser import parse_file: a function, so the module
        ("pkg.parser", "pkg"),
        ("pkg.parser", "pkg.util"),  # pkg.util.tools is not a module; its package is
        ("pkg.util", "pkg.parser"),  # from .. import parser resolves to the module pkg.parser
        ("pkg2.other", "pkg.parser"),
    ]  # no os/json (outside), no pkg2.other -> itself


def test_totals_and_record_index_run(store: Store) -> None:
    everything = store.totals()
    assert (everything.files, everything.lines, everything.symbols) == (5, 50, 6)
    assert everything.average_complexity == pytest.approx((2 + 12 + 12 + 3 + 7) / 5)
    assert store.totals(["pkg2"]).average_complexity == 3.0
    assert store.totals(["missing"]).files == 0

    store.record_index_run(
        {
            "root": "/ws",
            "files_scanned": 9,
            "files_indexed": 5,
            "files_unchanged": 3,
            "files_skipped": 1,
            "files_errors": 0,
            "files_removed": 0,
            "lines": 50,
            "average_complexity": 7.2,
            "duration_ms": 12,
            "jobs": 4,
            "problems": ["a.py:1: bad"],
            "not_a_column": 1,
        }
    )
    [report] = store.db.table("code_quality_reports").rows
    assert report["root"] == "/ws" and report["files_scanned"] == 9 and report["jobs"] == 4
    assert report["average_complexity"] == 7.2
    assert json.loads(report["problems"]) == ["a.py:1: bad"]
    assert report["created_at"].endswith("Z")


def test_views(store: Store) -> None:
    hotspots = list(
        store.db.query("SELECT path, qualname, complexity, tier FROM complexity_hotspots")
    )
    assert [(h["qualname"], h["complexity"]) for h in hotspots[:3]] == [
        ("parse_file", 12),
        ("helper", 12),
        ("upper", 7),
    ]
    assert rows(store, "SELECT * FROM violations_by_tier_rule") == [
        ("testing", "ARK001", "error", 1),
        ("trusted", "ARK001", "error", 1),
        ("trusted", "ARK020", "warning", 1),
    ]


def test_trigger_keeps_code_performance_current(store: Store) -> None:
    runs = [
        ("passed", 100.0, 1000, "2025-01-01T00:00:01Z"),
        ("failed", 300.0, 5000, "2025-01-01T00:00:03Z"),
        ("timeout", 200.0, None, "2025-01-01T00:00:02Z"),  # recorded late
        ("error", None, 2000, "2025-01-01T00:00:00Z"),
    ]
    for outcome, duration, memory, finished in runs:
        store.record_execution(
            {
                "backend": "local",
                "target_path": "pkg/parser.py",
                "target_name": "parse_file",
                "command": ["python", "-m", "pytest"],
                "limits": {"timeout": 5},
                "outcome": outcome,
                "duration_ms": duration,
                "peak_memory_bytes": memory,
                "finished_at": finished,
            }
        )
    other = store.record_execution(
        {"backend": "docker", "target_path": "pkg2/other.py", "outcome": "passed", "duration_ms": 5}
    )
    assert other == 5
    perf = store.db.table("code_performance").get(("pkg/parser.py", "parse_file"))
    assert (perf["runs"], perf["passed"], perf["failed"], perf["timeouts"], perf["errors"]) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert perf["avg_duration_ms"] == pytest.approx(200.0)
    assert perf["max_peak_memory_bytes"] == 5000
    assert (perf["last_outcome"], perf["last_run_at"]) == ("failed", "2025-01-01T00:00:03Z")
    assert store.db.table("code_performance").get(("pkg2/other.py", ""))["runs"] == 1
    assert json.loads(store.db.table("sandbox_executions").get(1)["command"]) == [
        "python",
        "-m",
        "pytest",
    ]
    assert rows(store, "SELECT * FROM sandbox_outcomes") == [
        ("pkg/parser.py", "parse_file", 4, 1, 1, 1, "2025-01-01T00:00:03Z"),
        (
            "pkg2/other.py",
            "",
            1,
            1,
            0,
            0,
            rows(store, "SELECT started_at FROM sandbox_executions WHERE id = 5")[0][0],
        ),
    ]


# --- migrations ------------------------------------------------------------------------------


def test_an_older_file_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    db = Database(sqlite3.connect(path, isolation_level=None))
    assert migrate(db, target=1) == 1
    assert "symbols_fts" not in db.table_names() and db.view_names() == []
    db.execute(
        "INSERT INTO code_index (path, module, tier, size, mtime_ns, sha256, indexed_at)"
        " VALUES ('old.py', 'old', 'trusted', 1, 2, 'abc', 'then')"
    )
    db.execute(
        'INSERT INTO symbols (path, name, qualname, kind, line, "column", end_line, '
        "end_column, name_line, name_column, complexity, rank, lines, docstring) "
        "VALUES ('old.py', 'legacy_parser', 'legacy_parser', 'function', 1, 0, 3, 0, "
        "1, 4, 2, 'A', 3, 'From before.')"
    )
    db.close()

    with Store.open(path) as store:
        assert store.schema_version() == LATEST
        assert store.file_states() == {"old.py": FileState(1, 2, "abc")}
        assert [r.name for r in store.search("legacy")] == ["legacy_parser"]
        assert [r.name for r in store.search("before")] == ["legacy_parser"]
        assert rows(store, "SELECT qualname FROM complexity_hotspots") == [("legacy_parser",)]


def test_migrate_is_idempotent_and_checks_its_target(tmp_path: Path) -> None:
    db = Database(sqlite3.connect(tmp_path / "x.db", isolation_level=None))
    assert migrate(db) == LATEST
    assert migrate(db) == LATEST
    assert migrate(db, target=1) == LATEST  # never downgrades
    with pytest.raises(ValueError, match=f"between 0 and {LATEST}"):
        migrate(db, target=LATEST + 1)
    db.close()


def test_a_newer_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 7")
    with pytest.raises(DatabaseTooNew) as caught:
        Store.open(path)
    assert str(caught.value) == (
        f"{path} was written by a newer ARK (schema 7, this ARK knows {LATEST}); "
        "upgrade ARK or use another --database"
    )
    with sqlite3.connect(path) as conn:  # untouched
        assert conn.execute("PRAGMA user_version").fetchone() == (7,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)


# --- faults ----------------------------------------------------------------------------------


def test_garbage_file_is_corrupt_and_can_be_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / ".ark" / "index.db"
    path.parent.mkdir()
    path.write_bytes(b"this is not sqlite at all\n" * 200)
    (tmp_path / ".ark" / "index.db-wal").write_bytes(b"junk")
    with pytest.raises(DatabaseCorrupt) as caught:
        Store.open(path)
    message = str(caught.value)
    assert message == (
        f"{path} is not a valid ARK database (file is not a database); "
        "move it aside or run `ark index --rebuild`"
    )
    assert "\n" not in message

    moved = move_aside(path)
    assert moved.parent == path.parent
    assert moved.name.startswith("index.db.corrupt-")
    assert moved.read_bytes().startswith(b"this is not sqlite")
    assert moved.with_name(moved.name + "-wal").read_bytes() == b"junk"
    assert not path.exists()
    with Store.open(path) as store:
        store.write_files([make_file("a.py")])
        assert store.stats()["files"] == 1
    # A second move in the same second does not clobber the first.
    assert move_aside(path) != moved and moved.exists()


def test_another_programs_database_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (name TEXT)")
    with pytest.raises(DatabaseCorrupt, match="it holds another program's tables"):
        Store.open(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("customers",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_an_empty_file_in_ark_folder_becomes_a_database(tmp_path: Path) -> None:
    # SQLite creates the file before its first write: a run killed in between leaves it empty.
    path = tmp_path / ".ark" / "index.db"
    path.parent.mkdir()
    path.write_bytes(b"")
    with Store.open(path) as store:
        assert store.schema_version() == LATEST


def test_a_file_that_is_not_arks_database_is_never_written(tmp_path: Path) -> None:
    empty = tmp_path / "authorized_keys"
    empty.write_bytes(b"")
    with pytest.raises(DatabaseCorrupt, match="empty file"):
        Store.open(empty)
    assert empty.read_bytes() == b""

    target = tmp_path / "target"
    target.write_text("ssh-ed25519 AAAA user@host\n")
    link = tmp_path / ".ark" / "index.db"
    link.parent.mkdir()
    link.symlink_to(target)
    with pytest.raises(DatabaseCorrupt, match="is a link"):
        Store.open(link)
    (tmp_path / ".ark" / "index.db").unlink()
    (tmp_path / ".ark" / "index.db-wal").symlink_to(target)
    with pytest.raises(DatabaseCorrupt, match=r"index\.db-wal is a link"):
        Store.open(tmp_path / ".ark" / "index.db")
    assert target.read_text() == "ssh-ed25519 AAAA user@host\n"


def test_move_aside_of_a_missing_file_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot move the database aside"):
        move_aside(tmp_path / "nothing.db")


def damage(path: Path, pages: range) -> None:
    data = bytearray(path.read_bytes())
    for page in pages:
        data[page * 4096 : page * 4096 + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


def indexed_db(path: Path) -> int:
    with Store.open(path) as store:
        store.write_files(
            [make_file(f"m{i}.py", symbols=[sym(f"f{j}") for j in range(40)]) for i in range(20)]
        )
    return path.stat().st_size // 4096


def test_damaged_schema_pages_are_reported_as_corrupt_on_open(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    pages = indexed_db(path)
    damage(path, range(1, pages - 1))
    with pytest.raises(DatabaseCorrupt, match="database disk image is malformed"):
        Store.open(path)


def test_damaged_data_pages_are_reported_as_corrupt_by_queries(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    pages = indexed_db(path)
    damage(path, range(pages - 20, pages))
    noticed = []
    with Store.open(path) as store:
        for query in (store.symbols, store.file_states, lambda: store.search("f1"), store.stats):
            try:
                query()
            except DatabaseCorrupt as error:
                noticed.append(str(error))
    assert noticed
    assert all("is not a valid ARK database" in message for message in noticed)


def test_translate_classifies_sqlite_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    assert isinstance(
        translate(sqlite3.DatabaseError("database disk image is malformed"), path, 1.0),
        DatabaseCorrupt,
    )
    locked = translate(sqlite3.OperationalError("database is locked"), path, 5.0)
    assert isinstance(locked, DatabaseLocked)
    assert str(locked).startswith(f"{path} is locked by another process (waited 5.0 s)")
    other = translate(sqlite3.OperationalError("disk I/O error"), path, 5.0)
    assert type(other) is StoreError and str(other) == f"{path}: database error (disk I/O error)"


def test_a_closed_store_raises_store_error(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "index.db")
    store.close()
    with pytest.raises(StoreError):
        store.file_states()


def test_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match="cannot create the folder"):
        Store.open(tmp_path / "file" / "index.db")
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match=r"dir\.db is not a regular file"):
        Store.open(tmp_path / "dir.db")


def test_a_writer_holding_the_lock_makes_writes_wait_then_fail(store: Store) -> None:
    before = store.file_states()
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT INTO improvement_tasks (title) VALUES ('held')")
    try:
        with Store.open(store.path, busy_timeout=0.2) as second:
            started = time.perf_counter()
            with pytest.raises(DatabaseLocked) as caught:
                second.write_files([make_file("new.py")])
            waited = time.perf_counter() - started
            assert 0.15 <= waited < 2.0
            assert str(caught.value) == (
                f"{store.path} is locked by another process (waited 0.2 s); "
                "try again when it has finished, or raise busy-timeout"
            )
            assert second.file_states() == before  # readers still read
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.write_files([make_file("new.py")])
    assert set(store.file_states()) == set(before) | {"new.py"}
    assert rows(store, "PRAGMA integrity_check") == [("ok",)]


def test_opening_a_database_locked_by_another_process_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    other = sqlite3.connect(path, isolation_level=None)
    migrate(Database(other), target=1)  # an older ARK file, in rollback-journal mode
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT INTO improvement_tasks (title) VALUES ('held')")
    try:
        started = time.perf_counter()
        with pytest.raises(DatabaseLocked, match=r"waited 0\.2 s"):
            Store.open(path, busy_timeout=0.2)
        assert 0.15 <= time.perf_counter() - started < 2.0
    finally:
        other.execute("COMMIT")
        other.close()
    with Store.open(path) as store:
        assert store.schema_version() == LATEST
        assert rows(store, "SELECT title FROM improvement_tasks") == [("held",)]


_CRASHING_WRITER = """
import os, sys
sys.path.insert(0, {tests!r})
from test_store import make_file, sym
from ark_lsp.store import Store, rows

store = Store.open(__import__("pathlib").Path({path!r}))
# A tiny page cache makes SQLite spill the unfinished transaction into the WAL.
store.db.conn.execute("PRAGMA cache_size = 1")
original = rows.prepare_rows

def dying_batch(files, indexed_at):
    batch = original(files, indexed_at)
    symbols = batch.symbols

    def dying():
        for number, row in enumerate(symbols):
            if number == 1500:
                os._exit(17)
            yield row

    batch.symbols = dying()
    return batch

rows.prepare_rows = dying_batch
files = [
    make_file(f"pkg/m{{i}}.py", sha="new", symbols=[sym(f"new_{{i}}_{{j}}") for j in range(50)])
    for i in range(40)
]
store.write_files(files, removed=["old/x.py"])
sys.exit(0)
"""


def test_a_writer_killed_mid_transaction_leaves_the_previous_index(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    old_files = [
        make_file(f"pkg/m{i}.py", symbols=[sym(f"old_{i}_{j}") for j in range(5)])
        for i in range(40)
    ] + [make_file("old/x.py", symbols=[sym("kept")])]
    with Store.open(path) as store:
        store.write_files(old_files)
        before_states = store.file_states()
        before_symbols = store.symbols()
    script = _CRASHING_WRITER.format(tests=str(Path(__file__).parent), path=str(path))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 17, done.stderr
    wal = path.with_name(path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 100_000  # the dead writer got far

    with Store.open(path) as store:
        assert rows(store, "PRAGMA integrity_check") == [("ok",)]
        store.db.conn.execute("INSERT INTO symbols_fts (symbols_fts) VALUES ('integrity-check')")
        assert store.file_states() == before_states
        assert store.symbols() == before_symbols
        assert store.search("new") == []
        assert [r.name for r in store.search("kept")] == ["kept"]


def test_rules_are_seeded_once_and_edits_survive(tmp_path: Path) -> None:
    from ark_lsp.rules import DEFAULT_RULES, Rule, RuleKind

    path = tmp_path / "index.db"
    with Store.open(path) as store:
        stored = store.rules()
        assert [r.name for r in stored] == [r.name for r in DEFAULT_RULES]
        assert stored == DEFAULT_RULES
        assert store.set_rule_enabled("ARK004", False) == sum(
            r.id == "ARK004" for r in DEFAULT_RULES
        )
        assert store.set_rule_enabled("ARK999", False) == 0
        store.add_rule(
            Rule(
                "CO001",
                "no-pickle",
                "",
                Severity.ERROR,
                RuleKind.CALL,
                "pickle.loads",
                "pickle.loads() runs code from its input",
                builtin=False,
            )
        )
    with Store.open(path) as store:
        again = {r.name: r for r in store.rules()}
    assert not again["os-system"].enabled and not again["os-popen"].enabled
    assert again["eval"].enabled
    assert again["no-pickle"].pattern == "pickle.loads"
    assert len(again) == len(DEFAULT_RULES) + 1


def test_reading_the_seeded_rules_needs_no_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    with Store.open(path) as store:
        store.rules()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with Store.open(path, busy_timeout=0.2) as store:
            assert len(store.rules()) == len(DEFAULT_RULES)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# --- what hover asks ----------------------------------------------------------------------


def analysed_file(path: str, text: str) -> IndexedFile:
    from ark_lsp.analysis import analyze

    report = analyze(text, path)
    return IndexedFile(path=path, state=FileState(len(text), 1, f"sha-{path}"), report=report)


def test_calls_are_counted_by_callee_name_across_files(tmp_path: Path) -> None:
    with Store.open(tmp_path / "i.db") as store:
        store.write_files(
            [
                analysed_file("a.py", "def parse(x):\n    return x\n\nparse(1)\nparse(2)\n"),
                analysed_file("b.py", "import a\na.parse(3)\nobj.parse()\nprint(a)\n"),
            ]
        )
        assert store.call_count("parse") == 4
        assert store.call_count("print") == 1
        assert store.call_count("unknown") == 0
        store.remove_files(["a.py"])
        assert store.call_count("parse") == 2


def test_a_module_and_a_symbol_are_found_where_they_are_written(store: Store) -> None:
    assert store.module_file("pkg.parser") == ("pkg/parser.py", "trusted")
    assert store.module_file("pkg") == ("pkg/__init__.py", "trusted")
    assert store.module_file("nowhere") is None
    found = store.symbol_named_at("pkg/parser.py", 4, "parse_file")
    assert found is not None and (found.qualname, found.complexity) == ("parse_file", 12)
    assert store.symbol_named_at("pkg/parser.py", 5, "parse_file") is None


def test_performance_of_a_target_follows_its_runs(store: Store) -> None:
    assert store.performance("pkg/parser.py", "parse_file") is None
    for outcome in ("passed", "failed"):
        store.record_execution(
            {
                "backend": "local",
                "target_path": "pkg/parser.py",
                "target_name": "parse_file",
                "outcome": outcome,
                "duration_ms": 10.0,
            }
        )
    record = store.performance("pkg/parser.py", "parse_file")
    assert record is not None
    assert (record.runs, record.passed, record.failed, record.last_outcome) == (2, 1, 1, "failed")
