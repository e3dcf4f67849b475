"""The code index (``store.index``): writing files, and the queries the front ends ask."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlite_utils import Database
from store_samples import (
    analysed_file,
    imp,
    make_file,
    outside_connection,
    rows,
    sym,
    violation,
)

from ark_lsp.models import FileState, IndexedFile, SymbolKind, Tier
from ark_lsp.store import IndexCounts, Store, SymbolRecord
from ark_lsp.store.rows import prepare_rows

# --- writing ---------------------------------------------------------------------------------


def test_write_files_stores_every_field(store: Store, outside: Database) -> None:
    index_row = outside.table("code_index").get("pkg/parser.py")
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

    [parse] = outside.table("symbols").rows_where("name = ?", ["parse_file"])
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

    [cls] = outside.table("symbols").rows_where("name = ?", ["Store"])
    assert cls["signature"] is None and cls["parameters"] is None
    assert json.loads(cls["bases"]) == ["Base"]
    [method] = outside.table("symbols").rows_where("name = ?", ["open"])
    assert json.loads(method["decorators"]) == ["classmethod"]
    assert method["parent"] == "Store" and method["kind"] == "method"

    assert rows(
        store.path,
        "SELECT module, name, bound, line, level, resolved FROM imports "
        "WHERE path = 'pkg/util/__init__.py'",
    ) == [("pkg", "parser", "parser", 1, 2, 1)]
    assert rows(
        store.path,
        'SELECT rule, severity, message, line, "column", end_line, end_column '
        "FROM violations WHERE path = 'pkg/parser.py' ORDER BY line",
    ) == [
        ("ARK001", "error", "ARK001 here", 7, 0, 7, 5),
        ("ARK020", "warning", "ARK020 here", 9, 0, 9, 5),
    ]
    assert store.index.counts() == IndexCounts(files=5, symbols=6, imports=8, violations=3)


def test_rewriting_a_file_replaces_its_rows_and_removed_cascade(store: Store) -> None:
    index = store.index
    new = make_file(
        "pkg/parser.py", symbols=[sym("tokenize", docstring="Split text.")], mtime_ns=5, sha="new"
    )
    index.write_files([new], removed=["pkg2/other.py", "not/indexed.py"])
    assert [r.qualname for r in index.symbols(path_prefixes=["pkg/parser.py"])] == ["tokenize"]
    assert rows(store.path, "SELECT count(*) FROM violations") == [(0,)]
    assert rows(store.path, "SELECT count(*) FROM imports WHERE path = 'pkg/parser.py'") == [(0,)]
    assert "pkg2/other.py" not in index.file_states()
    assert index.file_states()["pkg/parser.py"] == FileState(100, 5, "new")
    # The search index follows deletes made by the cascade.
    assert index.search("parse_file") == []
    assert index.search("check") == []
    assert [r.name for r in index.search("tokenize")] == ["tokenize"]
    rows(store.path, "INSERT INTO symbols_fts (symbols_fts) VALUES ('integrity-check')")


def test_duplicate_paths_in_one_batch_keep_the_last(tmp_path: Path) -> None:
    with Store.open(tmp_path / "index.db") as store:
        store.index.write_files(
            [make_file("a.py", symbols=[sym("first")]), make_file("a.py", symbols=[sym("second")])]
        )
        assert [r.name for r in store.index.symbols()] == ["second"]


def test_touch_and_remove_files(store: Store) -> None:
    index = store.index
    index.touch_files({"pkg/parser.py": FileState(123, 99, "sha-pkg/parser.py")})
    assert index.file_states()["pkg/parser.py"] == FileState(123, 99, "sha-pkg/parser.py")
    assert len(index.symbols(path_prefixes=["pkg/parser.py"])) == 2
    index.remove_files(["pkg/parser.py", "Pkg/upper.py"])
    assert sorted(index.file_states()) == [
        "pkg/__init__.py",
        "pkg/util/__init__.py",
        "pkg2/other.py",
    ]
    assert index.counts().symbols == 3


def test_a_file_analysed_under_another_key_has_no_remembered_state(tmp_path: Path) -> None:
    with Store.open(tmp_path / "index.db") as store:
        store.index.write_files([make_file("a.py")])
        assert store.index.file_states() == {"a.py": FileState(100, 1, "sha-a.py")}
        assert store.index.file_states("other rules") == {"a.py": FileState(-1, -1, "")}


# --- queries ---------------------------------------------------------------------------------


def test_symbols_filters_and_sorts(store: Store) -> None:
    index = store.index
    by_line = index.symbols()
    assert [(r.path, r.name) for r in by_line] == [
        ("Pkg/upper.py", "upper"),
        ("pkg/__init__.py", "Store"),
        ("pkg/__init__.py", "open"),
        ("pkg/parser.py", "parse_file"),
        ("pkg/parser.py", "helper"),
        ("pkg2/other.py", "check"),
    ]
    first = index.symbols(path_prefixes=["pkg/parser.py"])[0]
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
    assert {r.path for r in index.symbols(path_prefixes=["pkg"])} == {
        "pkg/__init__.py",
        "pkg/parser.py",
    }
    assert {r.path for r in index.symbols(path_prefixes=["./pkg/"])} == {
        "pkg/__init__.py",
        "pkg/parser.py",
    }
    assert len(index.symbols(path_prefixes=[""])) == len(index.symbols(path_prefixes=["."])) == 6
    assert {r.path for r in index.symbols(path_prefixes=["pkg2", "Pkg"])} == {
        "pkg2/other.py",
        "Pkg/upper.py",
    }
    assert index.symbols(path_prefixes=["pk"]) == []
    assert index.symbols(path_prefixes=[]) == []

    by_complexity = index.symbols(sort="complexity")
    assert [(r.complexity, r.name) for r in by_complexity] == [
        (12, "parse_file"),
        (12, "helper"),
        (7, "upper"),
        (4, "Store"),
        (3, "check"),
        (2, "open"),
    ]
    assert [r.name for r in index.symbols(sort="name")] == [
        "Store",
        "check",
        "helper",
        "open",
        "parse_file",
        "upper",
    ]
    assert [r.name for r in index.symbols(min_complexity=7, sort="complexity", limit=2)] == [
        "parse_file",
        "helper",
    ]
    assert [r.tier for r in index.symbols(path_prefixes=["pkg2"])] == ["testing"]
    with pytest.raises(ValueError, match="sort must be one of"):
        index.symbols(sort="size")  # type: ignore[arg-type]


def test_violations_with_the_tier_of_their_file(store: Store) -> None:
    found = store.index.violations(path_prefixes=["pkg2"])
    assert [(v.path, v.rule, v.line, v.tier) for v in found] == [
        ("pkg2/other.py", "ARK001", 1, "testing")
    ]
    assert [(v.path, v.rule) for v in store.index.violations()] == [
        ("pkg/parser.py", "ARK001"),
        ("pkg/parser.py", "ARK020"),
        ("pkg2/other.py", "ARK001"),
    ]


def test_search_prefix_qualname_and_ranking(store: Store) -> None:
    search = store.index.search
    assert search("pars")[0].name == "parse_file"
    assert search("Store.open")[0].qualname == "Store.open"
    assert search("store")[0].qualname == "Store"
    # A name match ranks above a docstring mention.
    assert [r.name for r in search("parse")] == ["parse_file", "check"]
    assert [r.name for r in search("database")] == ["open"]
    assert search("parse", limit=1)[0].name == "parse_file"
    assert search("nothing_like_it") == []


def test_search_lists_the_code_before_its_tests(store: Store) -> None:
    # prettytable: `ark search html` listed 25 test methods before get_html_string.
    store.index.write_files(
        [
            make_file(
                "tests/test_html.py",
                tier=Tier.TESTING,
                symbols=[sym("test_html_output", line=1), sym("test_html_escapes", line=5)],
            ),
            make_file("webtable/render.py", symbols=[sym("get_html_string", line=3)]),
        ]
    )
    names = [r.name for r in store.index.search("html")]
    assert names[0] == "get_html_string", names
    assert set(names[1:]) == {"test_html_output", "test_html_escapes"}


def _camel_case_files() -> list[IndexedFile]:
    return [
        make_file(
            "tomli/_parser.py",
            symbols=[
                sym("TOMLDecodeError", kind=SymbolKind.CLASS, line=3, bases=("ValueError",)),
                sym("decode", line=9),
            ],
        ),
        make_file("jmespath/exceptions.py", symbols=[sym("LexerError", kind=SymbolKind.CLASS)]),
        make_file("web/serve.py", symbols=[sym("HTTPServer", kind=SymbolKind.CLASS)]),
        make_file("tests/test_errors.py", symbols=[sym("test_error_expression")]),
    ]


def test_search_finds_the_words_inside_camel_case_names(store: Store) -> None:
    store.index.write_files(_camel_case_files())

    def names(query: str) -> list[str]:
        return [r.name for r in store.index.search(query)]

    assert names("decode error") == ["TOMLDecodeError"]
    assert names("lexer error") == ["LexerError"]
    assert names("DecodeError") == ["TOMLDecodeError"]
    assert names("toml") == ["TOMLDecodeError"]
    assert names("Deco") == ["decode", "TOMLDecodeError"]  # a prefix; the exact name first
    assert names("http") == names("server") == names("HTTPServ") == ["HTTPServer"]
    assert set(names("Error")) == {"TOMLDecodeError", "LexerError", "test_error_expression"}
    assert names("str") == []  # no word of these names starts with it
    # snake_case is cut as before, and a whole name still matches.
    assert names("expression") == ["test_error_expression"]
    assert names("TOMLDecodeError") == ["TOMLDecodeError"]
    assert (
        rows(store.path, "INSERT INTO symbols_fts (symbols_fts) VALUES ('integrity-check')") == []
    )


def test_search_follows_renamed_camel_case_symbols(store: Store) -> None:
    store.index.write_files(_camel_case_files())
    conn = outside_connection(store.path)
    try:
        conn.execute(
            "UPDATE symbols SET name = 'LexerWarning', name_words = 'lexer warning' "
            "WHERE name = 'LexerError'"
        )
    finally:
        conn.close()
    assert [r.name for r in store.index.search("lexer error")] == []
    assert [r.name for r in store.index.search("lexer warn")] == ["LexerWarning"]


def _marshmallow_files() -> list[IndexedFile]:
    many_fields = [
        sym(f"field_{n}", line=100 + n, docstring="Nested fields of fields.") for n in range(30)
    ]
    return [
        make_file(
            "src/marshmallow/__init__.py",
            module="marshmallow",
            imports=[imp("marshmallow.schema", "Schema")],
        ),
        make_file(
            "src/marshmallow/schema.py",
            module="marshmallow.schema",
            symbols=[
                sym("SchemaMeta", kind=SymbolKind.CLASS, line=5),
                sym("Schema", kind=SymbolKind.CLASS, line=20),
            ],
        ),
        make_file(
            "src/marshmallow/fields.py",
            module="marshmallow.fields",
            symbols=[
                sym("Field", kind=SymbolKind.CLASS, line=3, docstring="Base of the fields."),
                sym("Nested", kind=SymbolKind.CLASS, line=40, docstring="Another schema."),
                sym("schema", qualname="Nested.schema", kind=SymbolKind.METHOD, line=45),
                sym("NestedSchema", kind=SymbolKind.CLASS, line=60),
                *many_fields,
            ],
        ),
        make_file(
            "src/marshmallow/utils.py",
            module="marshmallow.utils",
            symbols=[sym("is_generator", line=9), sym("_Missing", kind=SymbolKind.CLASS, line=2)],
        ),
        make_file("tests/test_fields.py", symbols=[sym("test_nested_fields", line=1)]),
    ]


def test_search_by_module_qualified_names(store: Store) -> None:
    store.index.write_files(_marshmallow_files())

    def found(query: str, limit: int = 40) -> list[str]:
        return [f"{r.path}:{r.qualname}" for r in store.index.search(query, limit=limit)]

    fields = "src/marshmallow/fields.py"
    assert found("fields.Nested")[:3] == [
        f"{fields}:Nested",
        f"{fields}:NestedSchema",  # names it starts, the shortest first
        f"{fields}:Nested.schema",
    ]
    assert found("marshmallow.fields.Nested")[0] == f"{fields}:Nested"
    assert found("fields.nested")[0] == f"{fields}:Nested"  # any case
    assert found("fields.Nes")[0] == f"{fields}:Nested"  # a prefix of the last part
    # A module's symbols in file order, then what else its words find.
    assert found("marshmallow.utils") == [
        "src/marshmallow/utils.py:_Missing",
        "src/marshmallow/utils.py:is_generator",
    ]
    assert found("utils") == []  # a plain word is no module name
    # What a package imports is found by the package's name.
    assert found("marshmallow.Schema")[0] == "src/marshmallow/schema.py:Schema"
    assert found("marshmallow.schema.Schema")[0] == "src/marshmallow/schema.py:Schema"
    assert found("fields.Nested", limit=1) == [f"{fields}:Nested"]
    assert len(set(found("fields.Nested"))) == len(found("fields.Nested"))  # each once


def test_lookups_by_name_prefer_the_implementation_of_overloads(store: Store) -> None:
    stubs = [
        sym("pick", line=line, decorators=(decorator,))
        for line, decorator in [(4, "overload"), (7, "typing.overload")]
    ]
    store.index.write_files(
        [make_file("picks.py", symbols=[*stubs, sym("pick", line=10, end_line=20, complexity=9)])]
    )
    index = store.index
    named = index.symbol_named("picks.py", "pick")
    assert named is not None and (named.line, named.complexity) == (10, 9)
    at_stub = index.symbol_named_at("picks.py", 4, "pick")  # where jedi may land
    assert at_stub is not None and at_stub.line == 10
    at_implementation = index.symbol_named_at("picks.py", 10, "pick")
    assert at_implementation is not None and at_implementation.line == 10
    assert index.overloads_of("picks.py", "pick") == 2
    assert index.definitions_in_force("picks.py", "pick") == 1
    # A stub file's overloads alone: the first stands for them.
    store.index.write_files([make_file("picks.pyi", module="picks", symbols=stubs)])
    only_stub = index.symbol_named("picks.pyi", "pick")
    assert only_stub is not None and only_stub.line == 4
    assert (index.symbol_named_at("picks.pyi", 7, "pick") or only_stub).line == 7


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
    results = store.index.search(query)
    assert isinstance(results, list)


def test_search_strips_syntax_but_keeps_words(store: Store) -> None:
    search = store.index.search
    assert [r.name for r in search('"helper')] == ["helper"]
    assert [r.name for r in search("(open)")] == ["open"]
    assert [r.name for r in search("open:")] == ["open"]
    assert [r.name for r in search("-helper")] == ["helper"]


def test_module_edges(store: Store) -> None:
    assert store.index.module_edges() == [
        ("pkg", "pkg.parser"),  # from pkg.parser import parse_file: a function, so the module
        ("pkg.parser", "pkg"),
        ("pkg.parser", "pkg.util"),  # pkg.util.tools is not a module; its package is
        ("pkg.util", "pkg.parser"),  # from .. import parser resolves to the module pkg.parser
        ("pkg2.other", "pkg.parser"),
    ]  # no os/json (outside), no pkg2.other -> itself


def test_totals(store: Store) -> None:
    everything = store.index.totals()
    assert (everything.files, everything.lines, everything.symbols) == (5, 50, 6)
    assert everything.average_complexity == pytest.approx((2 + 12 + 12 + 3 + 7) / 5)
    assert store.index.totals(["pkg2"]).average_complexity == 3.0
    assert store.index.totals(["missing"]).files == 0


def test_views(store: Store, outside: Database) -> None:
    hotspots = list(
        outside.query("SELECT path, qualname, complexity, tier FROM complexity_hotspots")
    )
    assert [(h["qualname"], h["complexity"]) for h in hotspots[:3]] == [
        ("parse_file", 12),
        ("helper", 12),
        ("upper", 7),
    ]
    assert rows(store.path, "SELECT * FROM violations_by_tier_rule") == [
        ("testing", "ARK001", "error", 1),
        ("trusted", "ARK001", "error", 1),
        ("trusted", "ARK020", "warning", 1),
    ]


# --- what hover and generation ask -----------------------------------------------------------


def test_calls_are_counted_by_callee_name_across_files(tmp_path: Path) -> None:
    with Store.open(tmp_path / "i.db") as store:
        index = store.index
        index.write_files(
            [
                analysed_file("a.py", "def parse(x):\n    return x\n\nparse(1)\nparse(2)\n"),
                analysed_file("b.py", "import a\na.parse(3)\nobj.parse()\nprint(a)\n"),
            ]
        )
        assert index.call_count("parse") == 4
        assert index.call_count("print") == 1
        assert index.call_count("unknown") == 0
        assert index.files_calling("parse") == ["a.py", "b.py"]
        assert index.files_calling("parse", limit=1) == ["a.py"]
        index.remove_files(["a.py"])
        assert index.call_count("parse") == 2
        assert index.files_calling("parse") == ["b.py"]


def test_a_module_and_a_symbol_are_found_where_they_are_written(store: Store) -> None:
    index = store.index
    assert index.module_file("pkg.parser") == ("pkg/parser.py", "trusted")
    assert index.module_file("pkg") == ("pkg/__init__.py", "trusted")
    assert index.module_file("nowhere") is None
    found = index.symbol_named_at("pkg/parser.py", 4, "parse_file")
    assert found is not None and (found.qualname, found.complexity) == ("parse_file", 12)
    assert index.symbol_named_at("pkg/parser.py", 5, "parse_file") is None


def test_what_a_hover_follows_classes_bases_and_imports_of_a_file(tmp_path: Path) -> None:
    with Store.open(tmp_path / "i.db") as store:
        index = store.index
        index.write_files(
            [
                analysed_file(
                    "models.py",
                    "import os.path as osp\nfrom .base import Base, Mixin as M\n\n\n"
                    "class Model(Base, M):\n    def save(self):\n        pass\n",
                )
            ]
        )
        assert index.class_bases("models.py", "Model") == ("Base", "M")
        assert index.class_bases("models.py", "Model.save") is None  # a method has no bases
        assert index.class_bases("models.py", "Other") is None
        found = index.symbol_named("models.py", "Model.save")
        assert found is not None and (found.kind, found.line) == ("method", 6)
        assert index.symbol_named("models.py", "save") is None
        assert [(i.module, i.name, i.bound, i.level) for i in index.imports_of("models.py")] == [
            ("os.path", None, "osp", 0),
            ("base", "Base", "Base", 1),
            ("base", "Mixin", "M", 1),
        ]
        assert index.imports_of("elsewhere.py") == []


def test_analysed_file_keeps_the_reports_order_and_key(tmp_path: Path) -> None:
    later_first = make_file("a.py", violations=[violation("ARK004", 9), violation("ARK001", 2)])
    with Store.open(tmp_path / "index.db") as store:
        store.index.write_rows(prepare_rows([later_first, make_file("b.py")], "now", "key-1"))
        analysed = store.index.analysed_file("a.py")
        assert analysed is not None
        assert (analysed.sha256, analysed.analysis_key, analysed.encoding) == (
            "sha-a.py",
            "key-1",
            "utf-8",
        )
        assert [(v.rule, v.line, v.tier) for v in analysed.violations] == [
            ("ARK004", 9, "trusted"),
            ("ARK001", 2, "trusted"),
        ]
        clean = store.index.analysed_file("b.py")
        assert clean is not None and clean.violations == ()
        assert store.index.analysed_file("c.py") is None
