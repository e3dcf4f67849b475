"""The `ark` command line, run as users run it: the installed script, in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.cli import ARK, ark

PROJECT = {
    "pyproject.toml": '[project]\nname = "shop"\n\n[tool.ark.tiers]\n"shop/kernel/**" = "core"\n',
    "shop/__init__.py": "",
    "shop/kernel/__init__.py": "",
    "shop/kernel/boot.py": textwrap.dedent(
        '''\
        from ..pricing import total


        def start(config):
            """Boot the shop kernel."""
            return total(config)
        '''
    ),
    "shop/pricing.py": textwrap.dedent(
        '''\
        import decimal

        from . import kernel


        def total(items, discount=None):
            """Sum the price of every item after its discount."""
            result = decimal.Decimal(0)
            for item in items:
                if item.free:
                    continue
                elif discount and item.eligible:
                    result += item.price * (1 - discount)
                else:
                    result += item.price
            return result


        class Basket:
            """A customer's basket."""

            def add(self, item):
                self.items = [*self.items, item] if item else self.items
        '''
    ),
    "tests/test_pricing.py": (
        "from shop.pricing import total\n\n\ndef test_total():\n    assert total([]) == 0\n"
    ),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for relative, text in PROJECT.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_index_reports_its_figures_and_a_second_run_is_warm(project: Path) -> None:
    first = json.loads(ark("index", ".", "--format", "json", cwd=project).stdout)
    assert {
        k: first[k] for k in ("files_scanned", "files_indexed", "files_unchanged", "files_errors")
    } == {
        "files_scanned": 5,
        "files_indexed": 5,
        "files_unchanged": 0,
        "files_errors": 0,
    }
    assert first["lines"] == sum(text.count("\n") for text in PROJECT.values()) - 5
    assert first["database"] == str(project.resolve() / ".ark" / "index.db")
    assert (project / ".ark" / ".gitignore").read_text().strip() == "*"

    second = json.loads(ark("index", "--format", "json", cwd=project).stdout)
    assert (second["files_indexed"], second["files_unchanged"]) == (0, 5)

    text = ark("index", cwd=project).stdout
    assert "files scanned" in text and "average complexity" in text


def test_symbols_json_records_follow_the_contract(project: Path) -> None:
    out = ark("symbols", "shop", "--format", "json", "--sort", "complexity", cwd=project).stdout
    records = json.loads(out)
    assert records[0] == {
        "path": "shop/pricing.py",
        "name": "total",
        "qualname": "total",
        "kind": "function",
        "line": 6,
        "end_line": 16,
        "complexity": 5,
        "rank": "A",
        "tier": "trusted",
    }
    by_name = {r["qualname"]: r for r in records}
    assert set(by_name) == {"total", "Basket", "Basket.add", "start"}
    assert by_name["start"]["tier"] == "core"
    assert by_name["start"]["path"] == "shop/kernel/boot.py"
    assert by_name["Basket.add"]["kind"] == "method"


def test_symbols_filters_and_paths_relative_to_the_current_folder(project: Path) -> None:
    out = ark("symbols", ".", "--format", "json", "--min-complexity", "2", cwd=project / "shop")
    assert [(r["path"], r["qualname"]) for r in json.loads(out.stdout)] == [
        ("pricing.py", "total"),
        ("pricing.py", "Basket"),
        ("pricing.py", "Basket.add"),
    ]
    limited = ark(
        "symbols", "--format", "json", "--sort", "complexity", "--limit", "1", cwd=project
    )
    assert [r["qualname"] for r in json.loads(limited.stdout)] == ["total"]
    text = ark("symbols", "--sort", "complexity", "--limit", "1", cwd=project).stdout
    assert text.split() == ["5", "A", "shop/pricing.py:6", "total", "[function,", "trusted]"]


def test_search_finds_names_prefixes_and_docstring_words(project: Path) -> None:
    def names(*query: str) -> list[str]:
        out = ark("search", *query, "--format", "json", cwd=project).stdout
        return [r["qualname"] for r in json.loads(out)]

    assert names("total")[0] == "total"
    assert set(names("bask")) == {"Basket", "Basket.add"}
    assert names("customer") == ["Basket"]
    assert names("kernel") == ["start"]
    assert ark("search", "--", '"unbalanced', "-(", "AND", "*", cwd=project).returncode == 0


def test_search_finds_words_inside_camel_case_names(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "lib"\n')
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "errors.py").write_text(
        "class TOMLDecodeError(ValueError):\n    pass\n\n\n"
        "class LexerError(ValueError):\n    pass\n\n\n"
        "class HTTPServer:\n    pass\n"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_lib.py").write_text("def test_error_expression():\n    pass\n")

    def found(*query: str) -> list[str]:
        out = ark("search", *query, cwd=tmp_path).stdout
        return [line.split()[3] for line in out.splitlines()]

    assert found("Decode") == ["TOMLDecodeError"]
    assert found("decode error") == ["TOMLDecodeError"]
    assert found("lexer", "error") == ["LexerError"]
    assert found("http") == found("server") == ["HTTPServer"]
    assert {"TOMLDecodeError", "LexerError", "test_error_expression"} <= set(found("Error"))


def test_search_finds_module_qualified_names_and_modules(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "marshmallow"\n')
    package = tmp_path / "src" / "marshmallow"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from marshmallow.schema import Schema\n")
    (package / "schema.py").write_text("class Schema:\n    pass\n")
    fields = "".join(
        f'def field_{n}():\n    """Nested fields of fields."""\n\n\n' for n in range(45)
    )
    (package / "fields.py").write_text(fields + "class Nested:\n    pass\n")
    (package / "utils.py").write_text(
        "class _Missing:\n    pass\n\n\ndef is_generator(obj):\n    return False\n"
    )

    def found(query: str) -> list[str]:
        out = ark("search", query, "--limit", "40", cwd=tmp_path).stdout
        return [" ".join(line.split()[2:4]) for line in out.splitlines()]

    assert found("fields.Nested")[0] == "src/marshmallow/fields.py:181 Nested"
    assert found("marshmallow.utils") == [
        "src/marshmallow/utils.py:1 _Missing",
        "src/marshmallow/utils.py:5 is_generator",
    ]
    assert found("marshmallow.Schema")[0] == "src/marshmallow/schema.py:1 Schema"


def test_search_without_a_word_is_a_usage_error(project: Path) -> None:
    for query in ["", "   ", "-(", "."]:
        result = ark("search", "--", query, cwd=project, check=False)
        assert result.returncode == 2, query
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1
        assert "has no letter or digit to search for" in result.stderr
        assert result.stderr.startswith("ark: error: QUERY ")


def test_graph_links_workspace_modules(project: Path) -> None:
    edges = json.loads(ark("graph", "--format", "json", cwd=project).stdout)
    assert {(e["from"], e["to"]) for e in edges} == {
        ("shop.kernel.boot", "shop.pricing"),
        ("shop.pricing", "shop.kernel"),
        ("tests.test_pricing", "shop.pricing"),
    }


def test_a_script_no_import_can_name_is_in_the_graph_by_its_path(project: Path) -> None:
    # h11's docs/source/make-state-diagrams.py and wcwidth's bin/*-*.py imported the
    # package, and the graph left them out.
    (project / "bin").mkdir()
    (project / "bin" / "run-me.py").write_text("import shop.pricing\n")
    edges = json.loads(ark("graph", "--format", "json", cwd=project).stdout)
    assert {"from": "bin/run-me.py", "to": "shop.pricing"} in edges


def test_a_corrupt_database_is_one_clear_line_and_rebuild_recovers(project: Path) -> None:
    database = project / ".ark" / "index.db"
    database.parent.mkdir()
    database.write_bytes(b"this is not a database" * 100)
    broken = ark("index", cwd=project, check=False)
    assert broken.returncode == 3
    (line,) = broken.stderr.strip().splitlines()
    assert line.startswith("ark: error:") and "index.db" in line and "--rebuild" in line
    assert database.read_bytes().startswith(b"this is not a database")

    rebuilt = ark("index", "--rebuild", "--format", "json", cwd=project)
    assert json.loads(rebuilt.stdout)["files_indexed"] == 5
    assert list((project / ".ark").glob("index.db.corrupt-*"))


def test_a_locked_database_is_reported_and_left_intact(project: Path) -> None:
    ark("index", cwd=project)
    database = project / ".ark" / "index.db"
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        (project / "shop" / "pricing.py").write_text("def changed():\n    pass\n")
        (project / "pyproject.toml").write_text(
            PROJECT["pyproject.toml"] + "\n[tool.ark]\nbusy-timeout = 0.3\n"
        )
        blocked = ark("index", cwd=project, check=False)
    finally:
        holder.rollback()
        holder.close()
    assert blocked.returncode == 3
    assert "locked" in blocked.stderr and blocked.stderr.count("\n") == 1
    names = json.loads(ark("symbols", "--format", "json", cwd=project).stdout)
    assert "changed" in {r["qualname"] for r in names}


def test_usage_errors_exit_2(project: Path) -> None:
    assert ark("symbols", "--sort", "sideways", cwd=project, check=False).returncode == 2
    assert ark("index", "no/such/path", cwd=project, check=False).returncode == 2


def test_python_m_ark_lsp_starts_the_server_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ark_lsp", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "language server" in result.stdout


def test_the_database_can_be_put_elsewhere_by_environment(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "index.db"
    result = subprocess.run(
        [str(ARK), "index", ".", "--format", "json"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "ARK_DATABASE": str(elsewhere)},
        check=True,
    )
    assert json.loads(result.stdout)["database"] == str(elsewhere)
    assert elsewhere.exists()
    assert not (project / ".ark" / "index.db").exists()


def test_a_folder_in_no_workspace_is_worked_on_only_as_far_as_it_is_named(
    tmp_path: Path,
) -> None:
    loose = tmp_path / "loose"  # like /tmp or a home folder: no workspace marker above
    (loose / "sub").mkdir(parents=True)
    (loose / "a.py").write_text("def alpha():\n    return 1\n")
    (loose / "sub" / "b.py").write_text("def beta():\n    return 2\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for args, how in (
        (["search", "alpha"], "name the folder to search with --root FOLDER"),
        (["symbols"], "name what to list: `ark symbols PATH`"),
        (["check"], "name what to check: `ark check PATH`"),
    ):
        asked = ark(*args, cwd=loose, check=False, env=env)
        assert (asked.returncode, asked.stdout) == (2, "")
        assert asked.stderr == (
            f"ark: error: {loose} is in no workspace (no pyproject.toml, .git, .ark, setup.py "
            f"or setup.cfg here or above); {how}\n"
        )
    listed = ark("symbols", "sub", "--format", "json", cwd=loose, env=env)
    assert [r["qualname"] for r in json.loads(listed.stdout)] == ["beta"]
    assert "working on sub only; the index is kept in " + str(tmp_path / "cache") in listed.stderr
    found = ark("search", "alpha", "--root", ".", "--format", "json", cwd=loose, env=env)
    assert [r["qualname"] for r in json.loads(found.stdout)] == ["alpha"]
    # Nothing was written there: a .ark would make the folder a workspace for all below it.
    assert sorted(p.name for p in loose.iterdir()) == ["a.py", "sub"]


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap makes the read-only view")
def test_a_read_only_checkout_keeps_its_index_in_the_users_cache(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cache = tmp_path_factory.mktemp("cache")  # outside the read-only checkout
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "ARK_DATABASE": ""}
    view = ["bwrap", "--dev-bind", "/", "/", "--ro-bind", str(project), str(project)]
    result = subprocess.run(
        [*view, "--chdir", str(project), str(ARK), "index", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["files_indexed"] == 5
    assert figures["database"].startswith(str(cache / "ark" / "indexes"))
    assert result.stderr == (
        f"ark: note: {project} cannot be written (read-only); "
        f"the index is kept in {figures['database']}\n"
    )
    assert not (project / ".ark").exists()


def test_rebuild_starts_the_index_anew_and_keeps_rules_and_history(project: Path) -> None:
    ark(
        "rules",
        "add",
        "CO001",
        "--kind",
        "call",
        "--pattern",
        "decimal.Decimal",
        "--message",
        "no decimals",
        cwd=project,
    )
    ark("index", cwd=project)
    database = project / ".ark" / "index.db"
    with sqlite3.connect(database) as db:
        runs_before = db.execute("SELECT count(*) FROM index_runs").fetchone()[0]
    rebuilt = ark("index", "--rebuild", "--format", "json", cwd=project)
    assert json.loads(rebuilt.stdout)["files_indexed"] == 5  # every file read again
    assert "moved" not in rebuilt.stderr
    # A healthy database is not moved aside, let alone called corrupt.
    assert not list(database.parent.glob("index.db.*"))
    assert "CO001" in ark("rules", "list", cwd=project).stdout
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM index_runs").fetchone()[0] == runs_before + 1
    found = json.loads(ark("check", "--format", "json", cwd=project, check=False).stdout)
    assert ("shop/pricing.py", "CO001") in {(r["path"], r["rule"]) for r in found["results"]}


def test_rebuild_moves_aside_a_database_of_a_newer_ark_without_calling_it_corrupt(
    project: Path,
) -> None:
    database = project / ".ark" / "index.db"
    ark("index", cwd=project)
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA user_version = 99")
    assert ark("index", cwd=project, check=False).returncode == 3
    rebuilt = ark("index", "--rebuild", cwd=project)
    (moved,) = database.parent.glob("index.db.schema-99-*[0-9Z]")
    assert f"ark: moved the previous database to {moved}" in rebuilt.stderr
    assert not list(database.parent.glob("*corrupt*"))


def test_rules_add_asks_before_replacing_and_remove_takes_only_the_users_own(
    project: Path,
) -> None:
    def add(*extra: str) -> subprocess.CompletedProcess[str]:
        return ark(
            "rules",
            "add",
            "CO001",
            "--kind",
            "call",
            "--pattern",
            "yaml.load",
            "--message",
            "unsafe",
            *extra,
            cwd=project,
            check=False,
        )

    assert add().stdout == "added CO001 (co001)\n"
    again = add()
    assert again.returncode == 2
    assert again.stderr == (
        "ark: error: CO001 exists (yaml.load); --replace replaces it, or give another id\n"
    )
    replaced = add("--pattern", "yaml.unsafe_load", "--replace")
    assert replaced.stdout == "replaced CO001 (co001)\n"
    listed = json.loads(ark("rules", "list", "--format", "json", cwd=project).stdout)
    assert [r["pattern"] for r in listed if r["id"] == "CO001"] == ["yaml.unsafe_load"]

    builtin = ark(
        "rules",
        "add",
        "ARK001",
        "--kind",
        "call",
        "--pattern",
        "x.y",
        "--message",
        "m",
        "--replace",
        cwd=project,
        check=False,
    )
    assert builtin.returncode == 2 and "ARK001 is a built-in rule" in builtin.stderr
    kept = ark("rules", "remove", "ARK001", cwd=project, check=False)
    assert kept.returncode == 2
    assert kept.stderr == (
        "ark: error: ARK001 is a built-in rule: `ark rules disable ARK001` switches it off\n"
    )
    missing = ark("rules", "remove", "CO002", cwd=project, check=False)
    assert missing.returncode == 2 and "no rule CO002 (did you mean CO001?)" in missing.stderr

    assert ark("rules", "remove", "co001", cwd=project).stdout == "removed CO001\n"
    listed = json.loads(ark("rules", "list", "--format", "json", cwd=project).stdout)
    assert "CO001" not in {r["id"] for r in listed} and "ARK001" in {r["id"] for r in listed}


def test_index_names_each_file_it_skipped_and_why(project: Path) -> None:
    os.symlink("/etc/hostname", project / "shop" / "host.py")
    os.mkfifo(project / "shop" / "pipe.py")
    text = ark("index", cwd=project)
    assert "  skipped             2\n" in text.stdout
    assert text.stderr.splitlines() == [
        "ark: skipped shop/host.py: a link leading out of the workspace",
        "ark: skipped shop/pipe.py: not a regular file (a FIFO)",
    ]
    figures = json.loads(ark("index", ".", "--format", "json", cwd=project / "shop").stdout)
    assert figures["files_skipped"] == 2
    assert figures["skipped"] == [
        {"path": "host.py", "reason": "a link leading out of the workspace"},
        {"path": "pipe.py", "reason": "not a regular file (a FIFO)"},
    ]
