"""Affected-test selection: the gate runs on a change only the tests that can reach it.

A real repository (git, a small shop with its suite), changes proposed on
its one commit, and the gate's ``tests`` and ``coverage`` checks run as
``ark gate CHANGE`` runs them, the suite in the bubblewrap sandbox. What a
person reads is asserted: how many tests ran and how they were chosen, or
why the whole suite ran; that a test not run keeps the base's verdict;
that the map of the base's tests is made once per base. The choice itself
(:func:`~ark_lsp.gate.affected_tests.plan` and ``choose``) is tested on
trees in memory below.
"""

from __future__ import annotations

import difflib
import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.gate_shop import PRICING, TEST_PRICING, dedent, shop_project, user_settings
from support.git_repos import commit, make_repo, write
from support.sandboxes import add_pytest_cov

from ark_lsp.changes import Provenance, SourceKind
from ark_lsp.config import GateSettings
from ark_lsp.gate.affected_tests import (
    FunctionTestMap,
    FunctionTests,
    choose,
    plan,
    read_test_map,
)
from ark_lsp.gate.model import ChangedFile, CheckResult, CheckStatus, FileStatus, GateInput
from ark_lsp.project import Project
from ark_lsp.sandbox.channel import ARTIFACT_CAP
from ark_lsp.trust import TrustStore
from ark_lsp.workflows.changes import propose_edits
from ark_lsp.workflows.gate import GateReport, run_gate

MAPPING = "gate: the base's suite, mapping what each test runs"
"""The sandbox run that maps the base's tests, as its record names it."""


BASE = {
    "pyproject.toml": dedent(
        """
        [project]
        name = "shop"

        [tool.ark.gate]
        checks = ["coverage", "tests"]
        """
    ),
    "shop/__init__.py": "",
    "shop/pricing.py": PRICING,
    # restock: no test runs it.
    "shop/stock.py": "def in_stock():\n    return 2\n\n\ndef restock(count):\n    return count\n",
    "tests/conftest.py": "",
    "tests/test_pricing.py": TEST_PRICING,
    # Fails on the base, and runs nothing of shop/pricing.py.
    "tests/test_stock.py": dedent(
        """
        from shop.stock import in_stock


        def test_known_bug():
            assert in_stock() == 3
        """
    ),
}

CHANGES: dict[str, dict[str, str]] = {
    # The same behaviour for whole prices, written another way.
    "label": {"shop/pricing.py": PRICING.replace("if price > 100:", "if price >= 101:")},
    "total": {
        "shop/pricing.py": PRICING.replace(
            "return sum(prices) - discount", "return sum(prices, 0) - discount"
        )
    },
    "module level": {
        "shop/pricing.py": PRICING.replace(
            '"""Prices of the shop\'s goods."""\n',
            '"""Prices of the shop\'s goods."""\n\nCURRENCY = "EUR"\n',
        )
    },
    "conftest": {"tests/conftest.py": "# Shared by the tests.\n"},
    "untested, with a doctest": {
        "shop/stock.py": (
            "def in_stock():\n    return 2\n\n\ndef restock(count):\n"
            '    """Count again.\n\n    >>> restock(2)\n    2\n    """\n    return count\n'
        )
    },
    # New tests of what the base has: one of them skipped for now.
    "new tests": {
        "tests/test_labels.py": dedent(
            """
            import pytest

            from shop.pricing import label


            def test_dear_things():
                assert label(500) == "expensive"


            def test_free_things():
                assert label(0) == "cheap"


            @pytest.mark.skip(reason="prices in other currencies come later")
            def test_foreign_prices():
                assert label("100 EUR") == "cheap"
            """
        )
    },
    "untested": {
        "shop/stock.py": (
            "def in_stock():\n    return 2\n\n\ndef restock(count):\n"
            "    if count < 0:\n        raise ValueError(count)\n    return count\n"
        )
    },
}


@dataclass
class Shop:
    repo: Path
    cache: Path
    python: Path
    project: Project
    reports: dict[str, GateReport]

    def judge(self, name: str) -> GateReport:
        if name not in self.reports:
            proposal = propose_edits(
                self.project,
                CHANGES[name],
                Provenance(name, "tests", SourceKind.PATCH, "test_gate_test_selection"),
            )
            self.reports[name] = run_gate(self.project, proposal.change.id)
        return self.reports[name]

    def mapping_runs(self) -> int:
        with sqlite3.connect(self.project.database) as db:
            (count,) = db.execute(
                "SELECT count(*) FROM sandbox_executions WHERE target_path = ?", (MAPPING,)
            ).fetchone()
        return int(count)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """The shop, the local sandbox with the lean interpreter, and one user cache for the module."""
    with shop_project(tmp_path_factory, "selection", BASE) as loaded:
        yield Shop(loaded.repo, loaded.cache, loaded.python, loaded.project, {})


@pytest.fixture(autouse=True)
def user_cache(shop: Shop) -> Path:
    """The module's user cache (the gate's conftest would give each test its own)."""
    return shop.cache / "ark"


def _check(report: GateReport, name: str) -> CheckResult:
    return next(c for c in report.checks if c.name == name)


# --- the whole gate on real changes -------------------------------------------------------


def test_a_change_to_one_function_runs_only_the_tests_that_execute_it(shop: Shop) -> None:
    report = shop.judge("label")
    tests = _check(report, "tests")

    assert report.passed, [(c.name, c.summary) for c in report.checks]
    # test_label alone runs label(); the three others keep what they did on the base, and
    # test_known_bug, which fails there and cannot reach the change, is named as failing
    # already, not held against it.
    assert tests.summary == (
        "tests: 3 tests pass on the change; 1 failing on the base already: "
        "tests/test_stock.py::test_known_bug "
        "(1 of 4 run, chosen by what they run; the other 3 keep the base's verdict)"
    )
    assert (tests.measures["tests_run"], tests.measures["tests_kept"]) == (1, 3)
    assert tests.measures["failed"] == 0 and tests.findings == ()
    assert report.test_selection == {
        "whole_suite": False,
        "reason": "chosen by what they run",
        "chosen": 1,
        "kept": 3,
        "tests": ["tests/test_pricing.py::test_label"],
    }
    assert report.as_dict()["test_selection"] == report.test_selection
    # The coverage of the changed line comes from the chosen test's run.
    coverage = _check(report, "coverage")
    assert coverage.status is CheckStatus.PASSED
    assert coverage.measures["coverage"] == 1.0 and coverage.measures["branch_coverage"] == 1.0


def test_the_map_of_the_base_is_made_once_for_all_its_changes(shop: Shop) -> None:
    shop.judge("label")
    report = shop.judge("total")
    tests = _check(report, "tests")

    assert shop.mapping_runs() == 1
    assert tests.summary.endswith(
        "(2 of 4 run, chosen by what they run; the other 2 keep the base's verdict)"
    )
    assert report.passed


def test_a_change_no_test_reaches_runs_no_test_and_is_judged_from_the_map(shop: Shop) -> None:
    report = shop.judge("untested")
    tests, coverage = _check(report, "tests"), _check(report, "coverage")

    # No test of the base ran restock(): none can reach the change. Each keeps its verdict,
    # and the changed lines are reported unrun without the suite's run.
    assert tests.status is CheckStatus.PASSED
    assert tests.summary == (
        "tests: 3 tests pass on the change; 1 failing on the base already: "
        "tests/test_stock.py::test_known_bug "
        "(0 of 4 run, no test ran the changed code on the base; "
        "the other 4 keep the base's verdict)"
    )
    assert report.test_selection == {
        "whole_suite": False,
        "reason": "no test ran the changed code on the base",
        "chosen": 0,
        "kept": 4,
        "tests": [],
    }
    assert coverage.status is CheckStatus.FAILED
    assert coverage.summary == (
        "coverage: 0% of 2 changed line(s) and 0% of 2 branch(es) run by the tests "
        "(80% needed); never run: shop/stock.py line(s) 6-7; "
        "branches never taken at: shop/stock.py line(s) 6"
    )
    with sqlite3.connect(shop.project.database) as db:
        runs = [target for (target,) in db.execute("SELECT target_path FROM sandbox_executions")]
    assert runs[-1] == "gate: the change's lines, which no test reaches"
    assert "gate: the change's suite" not in runs


def test_new_tests_alone_run_and_a_skipped_one_is_not_counted_as_passing(shop: Shop) -> None:
    shop.judge("label")  # the base's map is made (once, whatever the tests' order)
    report = shop.judge("new tests")
    tests = _check(report, "tests")

    assert report.passed, [(c.name, c.summary) for c in report.checks]
    # The new file runs whole; the base's four tests keep their verdicts, one failing.
    assert tests.summary == (
        "tests: 5 tests pass on the change, 1 skipped; 1 failing on the base already: "
        "tests/test_stock.py::test_known_bug "
        "(3 of 7 run, chosen by what they run; the other 4 keep the base's verdict)"
    )
    assert tests.measures["skipped"] == 1


def test_a_change_no_test_reaches_that_writes_a_doctest_runs_the_whole_suite(
    shop: Shop,
) -> None:
    # The project may collect doctests from its modules: a new one is a test the map lacks.
    report = shop.judge("untested, with a doctest")

    assert report.test_selection is not None
    assert report.test_selection["whole_suite"] is True
    assert report.test_selection["reason"] == (
        "no test ran the changed code on the base, and the change writes a doctest"
    )


def test_a_change_at_module_level_runs_the_whole_suite(shop: Shop) -> None:
    report = shop.judge("module level")
    tests = _check(report, "tests")

    assert tests.status is CheckStatus.PASSED
    assert tests.summary == (
        "tests: 3 tests pass on the change; 1 failing on the base already: "
        "tests/test_stock.py::test_known_bug (the whole suite: "
        "shop/pricing.py changed at module level (line 3: what runs at import))"
    )
    assert (tests.measures["tests_run"], tests.measures["tests_kept"]) == (4, 0)
    assert report.test_selection == {
        "whole_suite": True,
        "reason": "shop/pricing.py changed at module level (line 3: what runs at import)",
        "chosen": None,
        "kept": None,
        "tests": None,
    }


def test_a_change_to_a_conftest_runs_the_whole_suite(shop: Shop) -> None:
    tests = _check(shop.judge("conftest"), "tests")

    assert tests.summary.endswith("(the whole suite: tests/conftest.py changed)")
    assert tests.measures["tests_run"] == 4


def test_test_selection_all_runs_the_whole_suite(shop: Shop, tmp_path: Path) -> None:
    files = dict(BASE)
    files["pyproject.toml"] += 'test-selection = "all"\n'
    repo = make_repo(tmp_path / "shop", files)
    write(repo, CHANGES["label"])
    commit(repo, "Say it another way")
    project = Project.load(
        repo,
        layers=[("the user's settings", user_settings(shop.python))],
        trust_store=TrustStore(tmp_path / "trust.json"),
    )

    report = run_gate(project, "HEAD~1..HEAD")
    tests = _check(report, "tests")

    # The user's own choice needs no word in the summary; the JSON says why all ran.
    assert tests.summary == (
        "tests: 3 tests pass on the change; "
        "1 failing on the base already: tests/test_stock.py::test_known_bug"
    )
    assert tests.measures["tests_run"] == 4
    assert report.test_selection is not None
    assert report.test_selection["reason"] == 'test-selection = "all"'


def _judge_commit(
    tmp_path_factory: pytest.TempPathFactory,
    files: Mapping[str, str],
    change: Mapping[str, str],
    *,
    pytest_cov: bool = False,
) -> GateReport:
    """``change`` committed on ``files`` and judged as ``ark gate HEAD~1..HEAD`` judges it."""
    with shop_project(tmp_path_factory, "committed", files) as loaded:
        if pytest_cov:
            add_pytest_cov(loaded.python)
        write(loaded.repo, change)
        commit(loaded.repo, "The change")
        return run_gate(loaded.project, "HEAD~1..HEAD")


BREAKS_LABEL = {"shop/pricing.py": PRICING.replace("if price > 100:", "if price > 1000:")}
"""A change that makes test_label fail."""


def test_pytest_cov_in_the_projects_addopts_leaves_the_map_and_the_coverage_to_ark(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # arrow's tox.ini: pytest-cov's own coverage.py paused the gate's for the whole suite, the
    # map of the base's tests came back empty, and a change that broke 7 tests passed with
    # "0 of 1,839 run, no test ran the changed code on the base".
    files = {
        **BASE,
        "pyproject.toml": BASE["pyproject.toml"]
        + '\n[tool.pytest.ini_options]\naddopts = "--cov=shop --cov-branch --cov-fail-under=99"\n',
    }

    report = _judge_commit(tmp_path_factory, files, BREAKS_LABEL, pytest_cov=True)
    tests, coverage = _check(report, "tests"), _check(report, "coverage")

    assert tests.status is CheckStatus.FAILED
    assert tests.summary == (
        "tests: 1 test(s) fail on the change: tests/test_pricing.py::test_label; "
        "1 failing on the base already: tests/test_stock.py::test_known_bug "
        "(1 of 4 run, chosen by what they run; the other 3 keep the base's verdict)"
    )
    # The changed line ran in test_label (its other branch in no test): measured by ARK.
    assert coverage.summary.startswith(
        "coverage: 100% of 1 changed line(s) and 50% of 2 branch(es) run by the tests"
    )


def test_a_map_in_which_no_test_recorded_a_line_is_no_map_and_the_whole_suite_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # A conftest that starts a coverage.py of its own pauses the gate's: an empty map would
    # read as "no test runs the changed code", and every test would keep its verdict.
    conftest = dedent(
        """
        import coverage

        _theirs = coverage.Coverage(data_file=None)
        _theirs.start()


        def pytest_unconfigure():
            _theirs.stop()
        """
    )
    files = {**BASE, "tests/conftest.py": conftest}

    report = _judge_commit(tmp_path_factory, files, BREAKS_LABEL)
    tests, coverage = _check(report, "tests"), _check(report, "coverage")

    untraced = (
        "coverage.py recorded no line while the tests ran: another tracer took its place "
        "(pytest-cov or a conftest that starts coverage.py itself)"
    )
    assert tests.status is CheckStatus.FAILED
    assert tests.summary == (
        "tests: 1 test(s) fail on the change: tests/test_pricing.py::test_label; "
        "1 failing on the base already: tests/test_stock.py::test_known_bug "
        f"(the whole suite: no map of the base's tests: {untraced})"
    )
    assert coverage.status is CheckStatus.NOT_RUN
    assert coverage.summary == f"coverage: not run ({untraced})"


NAMES = {
    "pyproject.toml": '[project]\nname = "names"\n\n[tool.ark.gate]\nchecks = ["tests"]\n',
    "lib.py": "def double(x):\n    return 2 * x\n",
    "tests/test_a.py": "from lib import double\n\n\ndef test_b():\n    assert double(2) == 4\n",
    "tests/test_b.py": (
        "from lib import double\n\n\ndef test_double():\n    assert double(1) == 2\n"
    ),
}
"""The users' project: a test function of test_a.py is called like the module test_b.py."""
MORE_TESTS_OF_B = {
    "tests/test_b.py": NAMES["tests/test_b.py"]
    + "\n\ndef test_zero():\n    assert double(0) == 0\n"
}


def test_an_edited_test_module_only_named_elsewhere_runs_alone(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tests = _check(_judge_commit(tmp_path_factory, NAMES, MORE_TESTS_OF_B), "tests")

    assert tests.summary == (
        "tests: 2 tests pass on the change; the base's 1 test of the files it edits passes on "
        "it too (2 run: the test files the change wrote; no other test of the base runs what "
        "it changed)"
    )


def test_the_base_tests_of_the_edited_files_are_counted_when_the_whole_suite_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    files = {**NAMES, "tests/test_c.py": "from tests.test_b import test_double as test_c\n"}

    tests = _check(_judge_commit(tmp_path_factory, files, MORE_TESTS_OF_B), "tests")

    # The base's whole suite ran on the change (3 tests); 1 of them is of tests/test_b.py.
    assert tests.summary == (
        "tests: 4 tests pass on the change; the base's 1 test of the files it edits passes on "
        "it too (the whole suite: tests/test_b.py changed, and tests/test_c.py imports it)"
    )


# --- the choice, on trees in memory --------------------------------------------------------


def _gate(
    base: Mapping[str, str], head: Mapping[str, str | None]
) -> tuple[GateInput, dict[str, bytes], dict[str, bytes]]:
    """What changed between ``base`` and ``head`` (a None deletes), as the gate reads it."""
    after = {path: text for path, text in {**base, **head}.items() if text is not None}
    changed = []
    for path in sorted(set(base) | set(after)):
        old, new = base.get(path), after.get(path)
        if old == new:
            continue
        if new is None:
            changed.append(ChangedFile(path, FileStatus.DELETED))
            continue
        matcher = difflib.SequenceMatcher(
            a=(old or "").splitlines(), b=new.splitlines(), autojunk=False
        )
        written = frozenset(
            n + 1
            for tag, _, _, first, last in matcher.get_opcodes()
            if tag in ("replace", "insert")
            for n in range(first, last)
        )
        status = FileStatus.ADDED if old is None else FileStatus.MODIFIED
        changed.append(ChangedFile(path, status, written))
    gate = GateInput(Path("base"), Path("head"), tuple(changed), GateSettings())
    encoded = {p: t.encode() for p, t in base.items()}
    return gate, encoded, {p: t.encode() for p, t in after.items()}


TREE = {k: v for k, v in BASE.items() if k != "pyproject.toml"}


def _plan(head: Mapping[str, str | None]) -> tuple[str | None, list[str], list[str]]:
    planned = plan(*_gate(TREE, head))
    return planned.whole, [f.qualname for f in planned.functions], list(planned.test_files)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        # A comment in a function's body: no change to what runs, but a line the change
        # wrote, whose coverage the gate measures.
        (
            {
                "shop/pricing.py": PRICING.replace(
                    '    """A word', '    # dear or not\n    """A word'
                )
            },
            (None, ["label"], []),
        ),
        # Which functions: label's body only.
        ({"shop/pricing.py": CHANGES["label"]["shop/pricing.py"]}, (None, ["label"], [])),
        # An edited test module runs whole; a new one too.
        (
            {
                "tests/test_stock.py": BASE["tests/test_stock.py"]
                + "\n\ndef test_more():\n    pass\n"
            },
            (None, [], ["tests/test_stock.py"]),
        ),
        ({"tests/test_new.py": "def test_new():\n    pass\n"}, (None, [], ["tests/test_new.py"])),
        # A new module inside a package of the base: nothing of the base imports it.
        ({"shop/tax.py": "def tax(x):\n    return x\n"}, (None, [], [])),
    ],
)
def test_what_a_change_rewrote_decides_the_tests(
    head: Mapping[str, str], expected: tuple[str | None, list[str], list[str]]
) -> None:
    assert _plan(head) == expected


@pytest.mark.parametrize(
    ("head", "why"),
    [
        (
            {"shop/pricing.py": PRICING.replace("discount=0", "discount=1")},
            "shop/pricing.py changed at module level (line 4: what runs at import)",
        ),
        (
            {"shop/pricing.py": PRICING + "\n\ndef tax(x):\n    return x\n"},
            "shop/pricing.py changed at module level (line 16: what runs at import)",
        ),
        (
            {"shop/pricing.py": "import os\n" + PRICING},
            "shop/pricing.py changed at module level (line 1: what runs at import)",
        ),
        ({"tests/conftest.py": "import pytest\n"}, "tests/conftest.py changed"),
        ({"tests/helpers.py": "X = 1\n"}, "tests/helpers.py changed (a helper of the tests)"),
        ({"shop/stock.py": None}, "shop/stock.py was deleted"),
        ({"shop/prices.csv": "a,1\n"}, "shop/prices.csv is not Python"),
        ({"stock.py": "X = 1\n"}, "stock.py is a new module outside the base's packages"),
        (
            {"tests/test_stock.py": "from shop.stock import in_stock\n"},
            None,  # test_stock.py is imported by no other test: it runs whole
        ),
    ],
)
def test_what_runs_at_import_or_is_no_code_runs_the_whole_suite(
    head: Mapping[str, str | None], why: str | None
) -> None:
    assert _plan(head)[0] == why


def test_a_test_module_other_tests_import_runs_the_whole_suite() -> None:
    base = {**TREE, "tests/test_more.py": "from tests.test_stock import test_known_bug\n"}
    planned = plan(*_gate(base, {"tests/test_stock.py": "def test_known_bug():\n    pass\n"}))

    assert planned.whole == "tests/test_stock.py changed, and tests/test_more.py imports it"


@pytest.mark.parametrize(
    ("importer", "imports"),
    [
        ("import tests.test_stock\n", True),
        ("import tests.test_stock as stock\n", True),
        ("from tests.test_stock import test_known_bug\n", True),
        ("from tests import test_stock\n", True),
        ("from . import test_stock\n", True),
        ("from .test_stock import test_known_bug\n", True),
        ("import test_stock\n", True),  # the tests folder on sys.path (no __init__.py)
        ('pytest_plugins = ["tests.test_stock"]\n', True),
        # Only the name: a test function, a string, a comment.
        ("def test_stock():\n    assert 'test_stock'  # test_stock\n", False),
        ("from shop.stock import in_stock\n", False),
        ("from .. import test_stock\n", False),  # the root's, not the tests folder's
    ],
)
def test_a_test_module_is_imported_by_another_only_by_a_real_import(
    importer: str, imports: bool
) -> None:
    base = {**TREE, "tests/test_more.py": importer}
    planned = plan(*_gate(base, {"tests/test_stock.py": "def test_known_bug():\n    pass\n"}))

    # tests/test_a.py with a `def test_b()` once ran the whole suite, "names it" as the reason.
    assert (planned.whole is not None) is imports
    assert planned.test_files == (() if imports else ("tests/test_stock.py",))


def _map(shared: bool = False) -> FunctionTestMap:
    tests = (
        "shop/pricing.py::shop.pricing.label",  # a doctest of the rewritten module
        "tests/test_pricing.py::test_label",
        "tests/test_pricing.py::test_total_is_the_sum_less_the_discount",
        "tests/test_stock.py::test_known_bug",
    )
    label_line = PRICING.splitlines().index("def label(price):") + 1
    total_line = PRICING.splitlines().index("def total(prices, discount=0):") + 1
    return FunctionTestMap(
        tests,
        dict.fromkeys(tests, "passed"),
        {
            "shop/pricing.py": {
                label_line: FunctionTests(
                    (label_line + 1, label_line + 4), shared, frozenset(tests[:2])
                ),
                total_line: FunctionTests(
                    (total_line + 1, total_line + 2), False, frozenset(tests[2:3])
                ),
            }
        },
    )


def test_the_tests_of_a_rewritten_function_are_chosen_and_the_rest_keep_their_verdict() -> None:
    head = {"shop/pricing.py": CHANGES["label"]["shop/pricing.py"]}
    gate, base, after = _gate(TREE, head)

    chosen = choose(plan(gate, base, after), _map(), ["shop/pricing.py"])

    # The doctest lives in the rewritten module: its file runs whole, as the head has it.
    assert chosen.tests == ("tests/test_pricing.py::test_label", "shop/pricing.py")
    assert chosen.reason == "chosen by what they run"
    assert chosen.kept == (
        "tests/test_pricing.py::test_total_is_the_sum_less_the_discount",
        "tests/test_stock.py::test_known_bug",
    )


def test_a_function_that_ran_outside_any_one_test_runs_the_whole_suite() -> None:
    gate, base, after = _gate(TREE, {"shop/pricing.py": CHANGES["label"]["shop/pricing.py"]})

    chosen = choose(plan(gate, base, after), _map(shared=True), ["shop/pricing.py"])

    assert chosen.whole
    assert chosen.reason == (
        "shop/pricing.py: label ran outside any one test on the base "
        "(at import, or in a fixture shared by tests)"
    )


def test_a_change_no_test_reached_runs_no_test_and_keeps_every_verdict() -> None:
    gate, base, after = _gate(TREE, CHANGES["untested"])
    test_map = FunctionTestMap(
        ("tests/test_a.py::test_one",),
        {"tests/test_a.py::test_one": "passed"},
        {"shop/stock.py": {5: FunctionTests((6, 6), False, frozenset())}},
    )

    chosen = choose(plan(gate, base, after), test_map, ["shop/stock.py"])

    assert (chosen.whole, chosen.tests) == (False, ())
    assert chosen.reason == "no test ran the changed code on the base"
    assert chosen.kept == ("tests/test_a.py::test_one",)
    # A base without tests: the whole suite runs, to say why nothing can judge the change.
    untested_base = FunctionTestMap((), {}, test_map.functions)
    assert choose(plan(gate, base, after), untested_base, ["shop/stock.py"]).whole


# --- the map, read as the sandbox's untrusted word ------------------------------------------


def _written(files: dict[str, object], tests: list[object] | None = None) -> bytes:
    names = ["tests/test_a.py::test_one", "tests/test_a.py::test_two"] if tests is None else tests
    return json.dumps(
        {"tests": names, "outcomes": ["passed"] * len(names), "files": files}
    ).encode()


def test_a_map_is_read_for_the_files_asked_and_its_runs_of_tests() -> None:
    data = _written({"shop/a.py": [[4, 5, 9, False, [0, 1]]], "shop/b.py": [[1, 2, 3, True, []]]})

    read = read_test_map(data, ["shop/a.py"])

    assert read is not None
    assert set(read.functions) == {"shop/a.py"}  # what was not asked for is not read
    assert read.functions["shop/a.py"][4] == FunctionTests(
        (5, 9), False, frozenset({"tests/test_a.py::test_one", "tests/test_a.py::test_two"})
    )


@pytest.mark.parametrize(
    "data",
    [
        _written({"shop/a.py": [[4, 5, 9, False, [0, 2]]]}),  # a test index out of range
        _written({"shop/a.py": [[4, 5, 9, False, [1, 0]]]}),  # a run backwards
        _written({"shop/a.py": [[0, 5, 9, False, []]]}),  # no such line
        _written({"shop/a.py": [[4, 5, 9, False, []]]}, ["tests/test_a.py::t\x1b[2J"]),
        _written({"shop/a.py": "everything"}),
        b"[" * 100_000,
        b" " * ARTIFACT_CAP,  # a map cut at the cap is not whole
    ],
)
def test_a_map_that_is_not_one_is_no_map(data: bytes) -> None:
    # A map partly read would leave tests out: never run, and never failing.
    assert read_test_map(data, ["shop/a.py"]) is None
