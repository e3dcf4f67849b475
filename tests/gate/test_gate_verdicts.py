"""The whole gate on real changes: all seven checks, default settings, the local sandbox.

One small shop repository (a git repository the module makes, with a test
suite) and six change sets proposed on its one commit, each judged by
``run_gate`` as ``ark gate CHANGE`` judges it: findings, types (mypy),
lint (pylint), coverage, mutation, complexity and tests, with the
``[tool.ark.gate]`` defaults, the project's suite run in the bubblewrap
sandbox with a lean interpreter (pytest and coverage.py, no other plugins).
Each test asserts the verdict a person would read and the rows the run kept
in ``code_quality_reports``, keyed by the change's id:

- a clean, tested change: every check passes;
- an ``eval()``: the findings (and pylint) fail it;
- an untested branch: coverage fails it, naming the line and the branch;
- tests that run the code but assert nothing: the mutants survive;
- a change that breaks a behaviour and deletes its test: the base's tests
  fail it, and the report flags the deleted test;
- a function moved 50 lines down: no new finding, though it holds an
  ``eval()`` the base had.

The same code (``shop/shipping.py``) comes with three suites: good tests,
tests missing a branch, and tests that assert nothing, so what separates
the verdicts is the tests alone.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.gate_shop import PRICING, TEST_PRICING, dedent, shop_project
from support.git_repos import status, worktrees

from ark_lsp.changes import Provenance, SourceKind
from ark_lsp.gate.model import CheckStatus, IntegrityKind
from ark_lsp.project import Project
from ark_lsp.workflows.changes import propose_edits
from ark_lsp.workflows.gate import GateReport, run_gate

ALL_CHECKS = ("findings", "types", "lint", "coverage", "mutation", "complexity", "tests")


EVALUATE = dedent(
    '''
    def evaluate(formula):
        """The value of an arithmetic ``formula``, with no builtins in reach."""
        return eval(formula, {"__builtins__": {}})
    '''
)
NAMED = "NAMED = {\n" + "".join(f'    "rate-{n:02}": "{n} * 2",\n' for n in range(46)) + "}\n"
FORMULAS_HEADER = '"""Formulas the shop\'s owner writes for prices, and the named ones."""\n\n\n'
FORMULAS = FORMULAS_HEADER + EVALUATE + "\n\n" + NAMED
MOVED_FORMULAS = FORMULAS_HEADER + NAMED + "\n\n" + EVALUATE

BASE = {
    "pyproject.toml": '[project]\nname = "shop"\nversion = "1.0"\n',
    "shop/__init__.py": "",
    "shop/pricing.py": PRICING,
    "shop/formulas.py": FORMULAS,
    "tests/test_pricing.py": TEST_PRICING,
    "tests/test_formulas.py": dedent(
        """
        from shop.formulas import NAMED, evaluate


        def test_formulas_are_evaluated():
            assert evaluate("2 * 3 + 1") == 7
            assert evaluate(NAMED["rate-04"]) == 8
        """
    ),
}

SHIPPING = dedent(
    '''
    """Shipping costs."""


    def shipping(weight):
        """The cost of sending ``weight`` kilograms."""
        if weight > 20:
            return 15
        return 5 + weight // 4
    '''
)
"""Ten mutants: ``>`` -> ``>=``, the condition negated, 20 -> 21, 15 -> 16, two returns of
None, ``+`` -> ``-``, 5 -> 6, ``//`` -> ``/`` and 4 -> 5."""

SHIPPING_TESTED = dedent(
    """
    from shop.shipping import shipping


    def test_heavy_parcels_cost_a_flat_rate():
        assert shipping(21) == 15


    def test_light_parcels_cost_by_weight():
        assert shipping(20) == 10
        assert shipping(3) == 5
    """
)

SHIPPING_HEAVY_UNTESTED = dedent(
    """
    from shop.shipping import shipping


    def test_light_parcels_cost_by_weight():
        assert shipping(20) == 10
        assert shipping(3) == 5
    """
)

SHIPPING_ASSERTING_NOTHING = dedent(
    """
    from shop.shipping import shipping


    def test_shipping_runs():
        shipping(21)
        shipping(20)
        shipping(3)
    """
)

PARSE_PRICE = dedent(
    '''


    def parse_price(text):
        """The price written in ``text``."""
        return eval(text)
    '''
)

CHANGES: dict[str, tuple[str, dict[str, str | None]]] = {
    "clean": (
        "Charge for shipping",
        {"shop/shipping.py": SHIPPING, "tests/test_shipping.py": SHIPPING_TESTED},
    ),
    "eval": (
        "Read prices from text",
        {
            "shop/pricing.py": PRICING + PARSE_PRICE,
            "tests/test_parsing.py": dedent(
                """
                from shop.pricing import parse_price


                def test_prices_are_read():
                    assert parse_price("2.5") == 2.5
                """
            ),
        },
    ),
    "untested branch": (
        "Charge for shipping, heavy parcels untested",
        {"shop/shipping.py": SHIPPING, "tests/test_shipping.py": SHIPPING_HEAVY_UNTESTED},
    ),
    "no asserts": (
        "Charge for shipping, tests asserting nothing",
        {"shop/shipping.py": SHIPPING, "tests/test_shipping.py": SHIPPING_ASSERTING_NOTHING},
    ),
    "deleted test": (
        "Round totals to whole units",
        {
            "shop/pricing.py": PRICING.replace(
                "return sum(prices) - discount", "return round(sum(prices) - discount)"
            ),
            "tests/test_pricing.py": TEST_PRICING.replace(
                "def test_cents_are_kept():\n    assert total([0.5, 0.25]) == 0.75\n\n\n", ""
            ),
        },
    ),
    "moved": ("Put the named formulas first", {"shop/formulas.py": MOVED_FORMULAS}),
}


@dataclass(frozen=True)
class Judged:
    """One change's gate run: the report, the change's id and the rows kept of it."""

    change_id: str
    report: GateReport
    rows: list[dict[str, Any]]

    def status(self, name: str) -> CheckStatus:
        return next(c.status for c in self.report.checks if c.name == name)

    def check(self, name: str) -> Any:
        return next(c for c in self.report.checks if c.name == name)

    @property
    def failed(self) -> set[str]:
        return {c.name for c in self.report.checks if c.status is not CheckStatus.PASSED}

    def row(self, scope: str, **key: str) -> dict[str, Any]:
        (found,) = [
            r for r in self.rows if r["scope"] == scope and all(r[k] == v for k, v in key.items())
        ]
        return found

    def rows_of(self, scope: str) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["scope"] == scope]


@dataclass
class Shop:
    """The shop's repository, the project as ARK loads it, and each change judged once."""

    repo: Path
    cache: Path
    """The user's cache folder (``XDG_CACHE_HOME``)."""
    project: Project
    judged: dict[str, Judged]

    def judge(self, name: str) -> Judged:
        if name not in self.judged:
            reason, edits = CHANGES[name]
            proposal = propose_edits(
                self.project,
                edits,
                Provenance(reason, "tests", SourceKind.PATCH, "test_gate_verdicts"),
            )
            report = run_gate(self.project, proposal.change.id)
            with sqlite3.connect(self.project.database) as db:
                db.row_factory = sqlite3.Row
                rows = db.execute(
                    "SELECT * FROM code_quality_reports WHERE gate_run = ? ORDER BY id",
                    (report.run_id,),
                ).fetchall()
            self.judged[name] = Judged(proposal.change.id, report, [dict(r) for r in rows])
        return self.judged[name]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """The shop, loaded with the user's own settings: the local sandbox, the lean interpreter.

    The gate's settings are the defaults; the user's layer only says where
    the project's code runs (the local backend, with a timeout and memory a
    loaded 2-core machine needs). The user's cache (mypy's, the change sets'
    worktrees) is the module's, so mypy's cache warms over the six runs.
    """
    with shop_project(tmp_path_factory, "verdicts", BASE) as loaded:
        yield Shop(loaded.repo, loaded.cache, loaded.project, {})


@pytest.fixture(autouse=True)
def user_cache(shop: Shop) -> Path:
    """The user's cache is the module's (the gate's conftest would give each test its own)."""
    return shop.cache / "ark"


@pytest.fixture(scope="module")
def judge(shop: Shop) -> Callable[[str], Judged]:
    return shop.judge


def _details(row: dict[str, Any]) -> dict[str, Any]:
    return json.loads(row["details"])  # type: ignore[no-any-return]


def _assert_keyed(judged: Judged) -> None:
    """Every row of the run names the change set, its base and its head."""
    report = judged.report
    assert {
        (r["change_id"], r["subject"], r["base_commit"], r["head_commit"]) for r in judged.rows
    } == {(judged.change_id, report.subject, report.base, report.head)}
    assert [r["check_name"] for r in judged.rows_of("check")] == list(ALL_CHECKS)


# --- a clean change -----------------------------------------------------------------------


def test_a_clean_tested_change_passes_every_check(judge: Callable[[str], Judged]) -> None:
    judged = judge("clean")
    report = judged.report

    assert report.passed, [(c.name, c.summary, c.reason) for c in report.checks]
    assert report.summary() == "gate passed: 7 of 7 checks passed"
    assert [(c.name, c.status) for c in report.checks] == [
        (n, CheckStatus.PASSED) for n in ALL_CHECKS
    ]
    assert report.change_id == judged.change_id and report.findings == ()
    assert report.integrity == ()
    # The change adds a module and its tests: those run; the base's reach none of it.
    assert judged.check("tests").summary == (
        "tests: 2 tests pass on the change (2 run: the test files the change wrote; "
        "no other test of the base runs what it changed)"
    )
    assert judged.check("mutation").measures["mutants"] == 10

    _assert_keyed(judged)
    run = judged.row("run")
    assert (run["status"], run["findings"], run["summary"]) == ("pass", 0, report.summary())
    assert _details(run)["integrity"] == []
    for check in judged.rows_of("check"):
        assert (check["status"], check["findings"]) == ("passed", 0), check
        assert check["duration_ms"] > 0
    code = judged.row("file", path="shop/shipping.py")
    assert (code["status"], code["coverage"], code["branch_coverage"]) == ("added", 1.0, 1.0)
    assert code["mutation_score"] == 1.0
    assert judged.row("file", path="tests/test_shipping.py")["status"] == "added"
    function = judged.row("function", path="shop/shipping.py", qualname="shipping")
    assert function["line"] == 4
    assert (function["complexity_before"], function["complexity_after"]) == (None, 2)
    assert (function["coverage"], function["mutants"], function["mutants_killed"]) == (1.0, 10, 10)
    assert (function["mutation_score"], function["findings"]) == (1.0, 0)


# --- an eval() ----------------------------------------------------------------------------


def test_a_change_adding_eval_fails_on_its_findings(judge: Callable[[str], Judged]) -> None:
    judged = judge("eval")
    report = judged.report

    assert not report.passed
    # pylint's eval-used is a warning, the severity the gate fails on by default.
    assert judged.failed == {"findings", "lint"}
    assert report.summary() == "gate failed: findings, lint failed"
    line = (PRICING + PARSE_PRICE).splitlines().index("    return eval(text)") + 1
    assert [(f.check, f.path, f.line, f.code, f.symbol) for f in report.findings] == [
        ("findings", "shop/pricing.py", line, "ARK001", "parse_price"),
        ("lint", "shop/pricing.py", line, "eval-used", "parse_price"),
    ]
    # The base's eval() in shop/formulas.py is not the change's: only the new one counts.
    assert judged.check("findings").summary.startswith("findings: 1 new finding")

    _assert_keyed(judged)
    run = judged.row("run")
    assert (run["status"], run["findings"]) == ("fail", 2)
    statuses = {r["check_name"]: (r["status"], r["findings"]) for r in judged.rows_of("check")}
    assert statuses == {
        "findings": ("failed", 1),
        "types": ("passed", 0),
        "lint": ("failed", 1),
        "coverage": ("passed", 0),
        "mutation": ("passed", 0),
        "complexity": ("passed", 0),
        "tests": ("passed", 0),
    }
    (new,) = _details(judged.row("check", check_name="findings"))["new_findings"]
    assert (new["code"], new["path"], new["line"]) == ("ARK001", "shop/pricing.py", line)
    pricing = judged.row("file", path="shop/pricing.py")
    assert (pricing["status"], pricing["coverage"]) == ("modified", 1.0)
    function = judged.row("function", path="shop/pricing.py", qualname="parse_price")
    assert (function["complexity_before"], function["complexity_after"]) == (None, 1)
    assert (function["coverage"], function["mutation_score"], function["findings"]) == (1.0, 1.0, 2)


# --- an untested branch --------------------------------------------------------------------


def test_an_untested_branch_fails_on_coverage_naming_the_lines(
    judge: Callable[[str], Judged],
) -> None:
    judged = judge("untested branch")
    report = judged.report
    coverage = judged.check("coverage")

    assert not report.passed
    assert judged.failed == {"coverage"}
    # Of the four statements (def, if, two returns) `return 15` never ran, and the `if`
    # never took its way there: 75% of the lines, 50% of the branches, 80% needed.
    assert "shop/shipping.py line(s) 7" in coverage.summary
    assert "branches never taken at: shop/shipping.py line(s) 6" in coverage.summary
    assert {(f.path, f.line, f.code) for f in coverage.findings} == {
        ("shop/shipping.py", 7, "line-not-run"),
        ("shop/shipping.py", 6, "branch-not-taken"),
    }
    # Its two mutants survive unrun; the rest of the function is tested well enough (7 of 10).
    mutation = judged.check("mutation")
    assert (mutation.measures["mutants"], mutation.measures["killed"]) == (10, 7)

    _assert_keyed(judged)
    assert (judged.row("run")["status"], judged.row("check", check_name="coverage")["status"]) == (
        "fail",
        "failed",
    )
    assert judged.row("check", check_name="coverage")["findings"] == 2
    code = judged.row("file", path="shop/shipping.py")
    assert (code["coverage"], code["branch_coverage"]) == (0.75, 0.5)
    function = judged.row("function", path="shop/shipping.py", qualname="shipping")
    assert (function["coverage"], function["mutants"], function["mutants_killed"]) == (0.75, 10, 7)
    assert function["mutation_score"] == pytest.approx(0.7)


# --- tests that assert nothing ---------------------------------------------------------------


def test_tests_asserting_nothing_fail_on_the_mutation_score(judge: Callable[[str], Judged]) -> None:
    judged = judge("no asserts")
    report = judged.report
    mutation = judged.check("mutation")

    assert not report.passed
    # Every line and branch runs: coverage cannot tell these tests from good ones.
    assert judged.failed == {"mutation"}
    assert judged.check("coverage").measures["coverage"] == 1.0
    assert (mutation.measures["mutants"], mutation.measures["killed"]) == (10, 0)
    assert mutation.measures["mutation_score"] == 0.0
    survivors = {(f.line, f.message) for f in mutation.findings}
    assert len(mutation.findings) == 10
    assert (6, "mutant survived (> -> >=; the tests still pass): if (weight >= 20):") in survivors

    _assert_keyed(judged)
    row = judged.row("check", check_name="mutation")
    assert (row["status"], row["findings"]) == ("failed", 10)
    assert _details(row)["measures"]["killed"] == 0
    function = judged.row("function", path="shop/shipping.py", qualname="shipping")
    assert (function["coverage"], function["mutants"], function["mutants_killed"]) == (1.0, 10, 0)
    assert (function["mutation_score"], function["findings"]) == (0.0, 10)


# --- a deleted test --------------------------------------------------------------------------


def test_a_change_deleting_the_test_it_breaks_fails_and_is_flagged(
    judge: Callable[[str], Judged],
) -> None:
    judged = judge("deleted test")
    report = judged.report
    tests = judged.check("tests")

    assert not report.passed
    assert judged.failed == {"tests"}
    # The change's own suite passes; the base's tests, run on the change, do not.
    (finding,) = tests.findings
    assert finding.code == "base-test-failed"
    assert finding.message.startswith("tests/test_pricing.py::test_cents_are_kept (the base's)")
    flags = [(f.kind, f.path, f.symbol) for f in report.integrity]
    assert flags == [(IntegrityKind.TEST_DELETED, "tests/test_pricing.py", "test_cents_are_kept")]

    _assert_keyed(judged)
    run = judged.row("run")
    assert run["status"] == "fail"
    (flag,) = _details(run)["integrity"]
    assert (flag["kind"], flag["path"], flag["symbol"]) == (
        "test deleted",
        "tests/test_pricing.py",
        "test_cents_are_kept",
    )
    assert (
        judged.row("check", check_name="tests")["status"],
        judged.row("check", check_name="tests")["findings"],
    ) == ("failed", 1)
    assert judged.row("file", path="tests/test_pricing.py")["status"] == "modified"
    function = judged.row("function", path="shop/pricing.py", qualname="total")
    assert (function["complexity_before"], function["complexity_after"]) == (1, 1)
    assert (function["coverage"], function["mutation_score"]) == (1.0, 1.0)


# --- a moved function ------------------------------------------------------------------------


def test_a_function_moved_50_lines_brings_no_new_finding(judge: Callable[[str], Judged]) -> None:
    judged = judge("moved")
    report = judged.report
    moved_to = MOVED_FORMULAS.splitlines().index("def evaluate(formula):") + 1
    assert moved_to - FORMULAS.splitlines().index("def evaluate(formula):") - 1 >= 50

    # Its eval() was the base's: neither ARK nor pylint has anything new to say.
    assert report.passed, [(c.name, c.summary, c.reason) for c in report.checks]
    assert report.findings == ()
    assert judged.check("findings").status is CheckStatus.PASSED

    _assert_keyed(judged)
    assert (judged.row("run")["status"], judged.row("run")["findings"]) == ("pass", 0)
    function = judged.row("function", path="shop/formulas.py", qualname="evaluate")
    assert function["line"] == moved_to
    assert (function["complexity_before"], function["complexity_after"]) == (1, 1)
    assert (function["findings"], function["coverage"], function["mutation_score"]) == (0, 1.0, 1.0)


def test_the_users_checkout_is_left_as_it_was(shop: Shop, judge: Callable[[str], Judged]) -> None:
    judge("clean")

    assert status(shop.repo) == ""
    # The change sets' worktrees are ARK's, in the user's cache; the gate's own are gone.
    user, *others = worktrees(shop.repo)
    assert user == str(shop.repo)
    assert others and all(Path(w).is_relative_to(shop.cache / "ark" / "changes") for w in others)
