"""Gate integrity: a change that lowers its own bar is flagged, by file and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.gate_trees import ChangeRepository

from ark_lsp.gate.integrity import integrity_flags
from ark_lsp.gate.model import IntegrityFlag, IntegrityKind

SOURCE = '"""Prices."""\n\n\ndef total(prices):\n    return sum(prices)\n'

TESTS = """\
import pytest

from shop.prices import total


def test_total():
    assert total([1, 2]) == 3
    assert total([]) == 0


def test_total_rejects_none():
    with pytest.raises(TypeError):
        total(None)


class TestTotals:
    def test_one(self):
        assert total([1]) == 1
"""


@pytest.fixture
def repo(tmp_path: Path) -> ChangeRepository:
    return ChangeRepository(tmp_path)


def flags_of(repo: ChangeRepository, head: dict[str, str | None]) -> set[IntegrityFlag]:
    base = {"shop/__init__.py": "", "shop/prices.py": SOURCE, "tests/test_prices.py": TESTS}
    return set(integrity_flags(repo.change(base, head)))


def test_a_clean_change_with_a_new_test_is_not_flagged(repo: ChangeRepository) -> None:
    more = TESTS + "\n\ndef test_two():\n    assert total([2]) == 2\n"
    assert (
        flags_of(repo, {"shop/prices.py": SOURCE + "\nLIMIT = 3\n", "tests/test_prices.py": more})
        == set()
    )


def test_deleting_a_test_file_is_flagged_with_its_tests(repo: ChangeRepository) -> None:
    assert flags_of(repo, {"tests/test_prices.py": None}) == {
        IntegrityFlag(
            IntegrityKind.TEST_FILE_DELETED,
            "tests/test_prices.py",
            "deletes a test file whose 3 tests are nowhere else in the head:"
            " test_total, test_total_rejects_none, TestTotals.test_one",
        )
    }


def test_moving_tests_to_another_file_is_not_flagged(repo: ChangeRepository) -> None:
    assert flags_of(repo, {"tests/test_prices.py": None, "tests/test_totals.py": TESTS}) == set()


def test_renaming_a_test_file_out_of_discovery_is_flagged(repo: ChangeRepository) -> None:
    flags = flags_of(repo, {"tests/test_prices.py": None, "shop/checks.py": TESTS})
    assert {(f.kind, f.path) for f in flags} == {
        (IntegrityKind.TEST_FILE_DELETED, "tests/test_prices.py")
    }
    [flag] = flags
    assert flag.reason.startswith("moves out of the tests a test file whose 3 tests")


def test_deleting_a_test_function_is_flagged(repo: ChangeRepository) -> None:
    fewer = TESTS.replace(
        "def test_total_rejects_none():\n    with pytest.raises(TypeError):\n        total(None)\n",
        "",
    )
    assert flags_of(repo, {"tests/test_prices.py": fewer}) == {
        IntegrityFlag(
            IntegrityKind.TEST_DELETED,
            "tests/test_prices.py",
            "deletes the test",
            "test_total_rejects_none",
        )
    }


def test_removing_an_assert_is_flagged(repo: ChangeRepository) -> None:
    weaker = TESTS.replace("    assert total([]) == 0\n", "")
    assert flags_of(repo, {"tests/test_prices.py": weaker}) == {
        IntegrityFlag(
            IntegrityKind.ASSERTIONS_WEAKENED,
            "tests/test_prices.py",
            "2 assertions -> 1",
            "test_total",
        )
    }


def test_an_assert_that_cannot_fail_counts_for_nothing(repo: ChangeRepository) -> None:
    weaker = TESTS.replace("assert total([1]) == 1", "total([1])\n        assert True")
    assert flags_of(repo, {"tests/test_prices.py": weaker}) == {
        IntegrityFlag(
            IntegrityKind.ASSERTIONS_WEAKENED,
            "tests/test_prices.py",
            "1 assertions -> 0",
            "TestTotals.test_one",
        )
    }


def test_removing_pytest_raises_is_flagged(repo: ChangeRepository) -> None:
    weaker = TESTS.replace(
        "    with pytest.raises(TypeError):\n        total(None)\n", "    total([None])\n"
    )
    flags = flags_of(repo, {"tests/test_prices.py": weaker})
    assert {(f.kind, f.symbol, f.reason) for f in flags} == {
        (IntegrityKind.ASSERTIONS_WEAKENED, "test_total_rejects_none", "1 assertions -> 0")
    }


@pytest.mark.parametrize(
    ("edit", "symbol"),
    [
        (
            ("def test_total():", "@pytest.mark.skip(reason='flaky')\ndef test_total():"),
            "test_total",
        ),
        (("def test_total():", "@pytest.mark.xfail\ndef test_total():"), "test_total"),
        (
            (
                "    assert total([1, 2]) == 3\n",
                "    pytest.skip('later')\n    assert total([1, 2]) == 3\n",
            ),
            "test_total",
        ),
        (
            ("class TestTotals:", "@pytest.mark.skipif(True, reason='')\nclass TestTotals:"),
            "TestTotals.test_one",
        ),
    ],
)
def test_adding_a_skip_or_xfail_is_flagged(
    repo: ChangeRepository, edit: tuple[str, str], symbol: str
) -> None:
    skipped = TESTS.replace(*edit)
    assert flags_of(repo, {"tests/test_prices.py": skipped}) == {
        IntegrityFlag(
            IntegrityKind.SKIP_ADDED,
            "tests/test_prices.py",
            "adds a skip or xfail to the test",
            symbol,
        )
    }


def test_skipping_a_whole_test_module_is_flagged(repo: ChangeRepository) -> None:
    skipped = TESTS.replace("import pytest\n", "import pytest\n\npytestmark = pytest.mark.skip\n")
    assert flags_of(repo, {"tests/test_prices.py": skipped}) == {
        IntegrityFlag(
            IntegrityKind.SKIP_ADDED,
            "tests/test_prices.py",
            "adds a skip or xfail to the whole module",
        )
    }


def test_a_test_file_that_no_longer_parses_is_flagged(repo: ChangeRepository) -> None:
    assert flags_of(repo, {"tests/test_prices.py": TESTS + "\ndef test_(:\n"}) == {
        IntegrityFlag(
            IntegrityKind.TEST_DELETED,
            "tests/test_prices.py",
            "no longer reads or parses: none of its tests can run",
        )
    }


@pytest.mark.parametrize(
    ("path", "text", "reason"),
    [
        (".github/workflows/ci.yml", "on: push\n", "adds CI workflows (.github/workflows/)"),
        (".ci/run", "#!/bin/sh\n", "adds CI configuration (.ci/)"),
        (".ark/rules.toml", "x = 1\n", "adds ARK's folder (.ark/)"),
        (
            "tests/conftest.py",
            "collect_ignore = ['test_prices.py']\n",
            "adds pytest configuration (conftest.py)",
        ),
        ("pytest.ini", "[pytest]\naddopts = -k 'not total'\n", "adds pytest configuration"),
        ("tox.ini", "[tox]\nenv_list = py311\n", "adds tox configuration"),
        ("noxfile.py", "import nox\n", "adds nox sessions"),
        (".coveragerc", "[run]\nomit = shop/*\n", "adds coverage configuration"),
    ],
)
def test_adding_gate_ci_or_ark_configuration_is_flagged(
    repo: ChangeRepository, path: str, text: str, reason: str
) -> None:
    assert flags_of(repo, {path: text}) == {
        IntegrityFlag(IntegrityKind.CONFIG_EDITED, path, reason)
    }


PYPROJECT = """\
[project]
name = "shop"
version = "1.0"

[tool.ark.gate]
coverage = 0.8

[tool.pytest.ini_options]
addopts = "-ra"

[tool.ruff]
line-length = 100
"""


@pytest.mark.parametrize(
    ("edit", "reasons"),
    [
        (('version = "1.0"', 'version = "1.1"'), set()),
        (("line-length = 100", "line-length = 120"), set()),
        (("coverage = 0.8", "coverage = 0.1"), {"edits [tool.ark]"}),
        (('addopts = "-ra"', 'addopts = "-ra -k not total"'), {"edits [tool.pytest]"}),
        (
            ("[tool.ruff]", '[tool.coverage.run]\nomit = ["shop/*"]\n\n[tool.ruff]'),
            {"edits [tool.coverage]"},
        ),
        (
            ("[tool.ruff]", "[tool.mypy]\nignore_errors = true\n\n[tool.ruff]"),
            {"edits [tool.mypy]"},
        ),
        (("[project]", "[project"), {"pyproject.toml no longer reads as TOML"}),
    ],
)
def test_pyproject_edits_are_flagged_for_the_gate_and_ark_tables_only(
    repo: ChangeRepository, edit: tuple[str, str], reasons: set[str]
) -> None:
    base = {"shop/__init__.py": "", "pyproject.toml": PYPROJECT}
    flags = integrity_flags(repo.change(base, {"pyproject.toml": PYPROJECT.replace(*edit)}))
    assert {(f.kind, f.path) for f in flags} <= {(IntegrityKind.CONFIG_EDITED, "pyproject.toml")}
    assert {f.reason for f in flags} == reasons


def test_setup_cfg_edits_are_flagged_for_test_and_tool_sections_only(
    repo: ChangeRepository,
) -> None:
    setup_cfg = (
        "[metadata]\nname = shop\n\n[tool:pytest]\naddopts = -ra\n\n[coverage:run]\nbranch = true\n"
    )
    edited = setup_cfg.replace("name = shop", "name = shop2").replace(
        "branch = true", "branch = false"
    )
    change = repo.change({"setup.cfg": setup_cfg}, {"setup.cfg": edited})
    assert integrity_flags(change) == (
        IntegrityFlag(IntegrityKind.CONFIG_EDITED, "setup.cfg", "edits [coverage:run]"),
    )
