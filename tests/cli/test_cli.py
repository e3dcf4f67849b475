"""The `ark` command line, run as users run it: the installed script, in a subprocess."""

from __future__ import annotations

import json
import os
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


def test_graph_links_workspace_modules(project: Path) -> None:
    edges = json.loads(ark("graph", "--format", "json", cwd=project).stdout)
    assert {(e["from"], e["to"]) for e in edges} == {
        ("shop.kernel.boot", "shop.pricing"),
        ("shop.pricing", "shop.kernel"),
        ("tests.test_pricing", "shop.pricing"),
    }


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
