"""The gate's checks that run a project's tests in the sandbox: tests, coverage, mutation.

Small real projects in git repositories the tests make, each change checked
out in worktrees of its own and judged in the local (bubblewrap) sandbox
with a lean interpreter (pytest and coverage.py, no other plugins, so a run
starts fast), and once in docker. Each scenario's checks run once per module
and the tests assert what a person reading the gate's report would check.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.gate_trees import ChangeRepository
from support.sandboxes import DockerSetup, docker_missing, lean_interpreter

from ark_lsp.config import GateSettings, SandboxSettings, Settings
from ark_lsp.gate.checks.coverage import check_coverage
from ark_lsp.gate.checks.mutation import check_mutation, choose, read_results
from ark_lsp.gate.checks.tests import check_tests
from ark_lsp.gate.coverage_report import read_coverage
from ark_lsp.gate.diff import changed_files
from ark_lsp.gate.model import CheckResult, CheckStatus, GateInput
from ark_lsp.gate.mutants import mutants_of
from ark_lsp.gate.suite_files import is_test_file, shapes_the_tests
from ark_lsp.gate.suite_runs import SuiteRuns
from ark_lsp.git import git
from ark_lsp.sandbox import RunRequest, RunResult, SandboxRunner
from ark_lsp.sandbox.channel import ARTIFACT_CAP

BASE = {
    "pyproject.toml": '[tool.pytest.ini_options]\nfilterwarnings = ["error"]\n',
    "shop/__init__.py": "",
    "shop/pricing.py": "def total(prices):\n    return sum(prices)\n",
    "tests/test_pricing.py": textwrap.dedent(
        """\
        from shop.pricing import total


        def test_total():
            assert total([1, 2]) == 3
        """
    ),
}

WELL_TESTED = {
    "shop/shipping.py": textwrap.dedent(
        '''\
        """Shipping costs."""


        def shipping(weight):
            """The cost of sending ``weight`` kilograms."""
            if weight > 20:
                return 15
            return 5 + weight // 4
        '''
    ),
    "tests/test_shipping.py": textwrap.dedent(
        """\
        from shop.shipping import shipping


        def test_heavy_parcels_cost_a_flat_rate():
            assert shipping(21) == 15


        def test_light_parcels_cost_by_weight():
            assert shipping(20) == 10
            assert shipping(3) == 5
        """
    ),
}

UNTESTED_BRANCH = {
    "shop/shipping.py": textwrap.dedent(
        """\
        def shipping(weight):
            if weight > 20:
                return 15
            return 5


        def count_to(n):
            i = 0
            while i != n:
                i += 1
            return i
        """
    ),
    "tests/test_shipping.py": textwrap.dedent(
        """\
        from shop.shipping import count_to, shipping


        def test_light_parcels_cost_five():
            assert shipping(3) == 5


        def test_counting():
            assert count_to(3) == 3
        """
    ),
}

SLOW_TEST = {
    "shop/settling.py": textwrap.dedent(
        """\
        import time


        def settle(n):
            time.sleep(1.0)
            i = 0
            while i != n:
                i += 1
            return "settled"
        """
    ),
    "tests/test_settling.py": textwrap.dedent(
        """\
        from shop.settling import settle


        def test_settles():
            assert settle(2) == "settled"
        """
    ),
}
"""A test slower than the floor of a mutant's timeout; only one of its mutants hangs."""

BROKEN_TOTAL = {"shop/pricing.py": "def total(prices):\n    return sum(prices) + 1\n"}
TEST_EDITED_TO_MATCH = {
    **BROKEN_TOTAL,
    "tests/test_pricing.py": BASE["tests/test_pricing.py"].replace("== 3", "== 4"),
}
KNOWN_FAILURE = {"tests/test_known.py": "def test_known_bug():\n    assert 1 + 1 == 3\n"}
BROKEN_CONFTEST = {
    "tests/conftest.py": "import no_such_module\n",
    "shop/pricing.py": "def total(prices):\n    return sum(prices or [])\n",
}


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD").strip()


@dataclass
class Shop:
    """The shop repository and its commits, each checked out on demand."""

    repo: Path
    commits: dict[str, str]
    folder: Path

    def checkout(self, name: str) -> Path:
        target = self.folder / name
        if not target.exists():
            git(self.repo, "worktree", "add", "-q", "--detach", str(target), self.commits[name])
        return target

    def gate(self, base: str, head: str, **settings: Any) -> GateInput:
        # These tests judge the runs of the whole suite; test_gate_test_selection.py judges
        # the choice of the tests a change can reach.
        settings.setdefault("test_selection", "all")
        files = changed_files(self.repo, self.commits[base], self.commits[head])
        return GateInput(self.checkout(base), self.checkout(head), files, GateSettings(**settings))


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    folder = tmp_path_factory.mktemp("shop")
    repo = folder / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    commits = {}
    _write(repo, BASE)
    commits["base"] = _commit(repo, "base")
    for name, change in (
        ("well tested", WELL_TESTED),
        ("untested branch", UNTESTED_BRANCH),
        ("test edited to match", TEST_EDITED_TO_MATCH),
        ("broken conftest", BROKEN_CONFTEST),
        ("slow test", SLOW_TEST),
    ):
        git(repo, "checkout", "-q", "--detach", commits["base"])
        _write(repo, change)
        commits[name] = _commit(repo, name)
    git(repo, "checkout", "-q", "--detach", commits["base"])
    _write(repo, KNOWN_FAILURE)
    commits["known failure"] = _commit(repo, "a test that fails already")
    _write(repo, BROKEN_TOTAL)
    commits["broken total"] = _commit(repo, "break total")
    git(repo, "checkout", "-q", "--detach", commits["known failure"])
    _write(repo, WELL_TESTED)
    commits["well tested, a known failure"] = _commit(repo, "shipping, beside a known failure")
    git(repo, "checkout", "-q", "--detach", commits["base"])
    git(repo, "rm", "-rq", "tests")
    commits["tests deleted"] = _commit(repo, "no more tests")
    git(repo, "checkout", "-q", "--detach", commits["base"])
    return Shop(repo, commits, folder)


@pytest.fixture(scope="module")
def lean_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return lean_interpreter(tmp_path_factory.mktemp("lean") / "venv", with_coverage=True)


def _runner(
    repo: Path,
    python: Path | None,
    backend: str = "local",
    ran: list[str] | None = None,
    timeout: float = 120.0,
    suite_timeout: float = 120.0,
    suite_memory: int = 1024 * 1024 * 1024,
    memory: int = 512 * 1024 * 1024,
) -> SandboxRunner:
    sandbox = SandboxSettings(
        backend=backend,
        python=str(python) if python else None,
        timeout=timeout,
        suite_timeout=suite_timeout,
        memory=memory,
        suite_memory=suite_memory,
    )

    def record(request: RunRequest, result: RunResult) -> RunResult:
        if ran is not None:
            ran.append(request.target_path)
        return result

    return SandboxRunner(
        repo, Settings(sandbox=sandbox), backend=backend, pool_size=0, recorder=record
    )


@dataclass
class Judged:
    """The three checks' results on one change, and the sandbox runs they made."""

    tests: CheckResult
    coverage: CheckResult
    mutation: CheckResult
    runs: list[str]


def _judge(repo: Path, python: Path | None, gate: GateInput, backend: str = "local") -> Judged:
    ran: list[str] = []
    runner = _runner(repo, python, backend, ran)
    try:
        runs = SuiteRuns(runner, gate)
        return Judged(
            check_tests(gate, runs), check_coverage(gate, runs), check_mutation(gate, runs), ran
        )
    finally:
        runner.close()


@pytest.fixture(scope="module")
def local(shop: Shop, lean_python: Path) -> Iterator[SandboxRunner]:
    runner = _runner(shop.repo, lean_python)
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def well_tested(shop: Shop, lean_python: Path) -> Judged:
    gate = shop.gate("base", "well tested", max_mutants=4, mutant_timeout=20)
    return _judge(shop.repo, lean_python, gate)


@pytest.fixture(scope="module")
def untested_branch(shop: Shop, lean_python: Path) -> Judged:
    gate = shop.gate("base", "untested branch", max_mutants=8, mutant_timeout=3, mutation_score=0.8)
    return _judge(shop.repo, lean_python, gate)


# --- a good change ------------------------------------------------------------------------


def test_a_well_tested_change_passes_all_three(well_tested: Judged) -> None:
    tests, coverage, mutation = well_tested.tests, well_tested.coverage, well_tested.mutation

    assert tests.status is CheckStatus.PASSED, tests.summary
    assert tests.summary == "tests: 3 tests pass on the change"
    assert coverage.status is CheckStatus.PASSED, coverage.summary
    # Of shipping.py's eight lines four are statements (the def, the if, two returns):
    # docstrings and blank lines do not count.
    assert (coverage.measures["lines"], coverage.measures["coverage"]) == (4, 1.0)
    assert (coverage.measures["branches"], coverage.measures["branch_coverage"]) == (2, 1.0)
    assert coverage.files["shop/shipping.py"]["coverage"] == 1.0
    assert [(f.qualname, f.line, f.coverage) for f in coverage.functions] == [("shipping", 4, 1.0)]
    assert coverage.functions[0].untested is False
    assert mutation.status is CheckStatus.PASSED, mutation.summary
    # The four mutants include `weight > 20` -> `weight >= 20`: shipping(20) == 10 kills it.
    source = WELL_TESTED["shop/shipping.py"].encode()
    made = choose(
        mutants_of("shop/shipping.py", source, set(range(1, 9))), {"shop/shipping.py": source}, 4
    )
    assert ("comparison", "if (weight >= 20):") in {(m.operator, m.mutated) for m in made}
    assert (mutation.measures["mutants"], mutation.measures["killed"]) == (4, 4)
    assert not mutation.findings
    assert mutation.measures["timeouts"] == 0
    (function,) = mutation.functions
    assert (function.qualname, function.mutants, function.mutation_score) == ("shipping", 4, 1.0)


def test_the_checks_share_one_run_of_the_changes_suite(well_tested: Judged) -> None:
    # New test modules leave the base's tests as they were: nothing more to run than the
    # change's suite (for all three checks) and one run of all the mutants.
    assert well_tested.runs == ["gate: the change's suite", "gate: mutants of the change"]
    # The tests check says how long the shared run took, whichever check started it.
    assert well_tested.tests.measures["suite_ms"] > 0


# --- an untested branch, weak tests, a mutant that hangs ------------------------------


def test_an_untested_new_branch_fails_coverage_naming_its_lines(untested_branch: Judged) -> None:
    coverage = untested_branch.coverage

    assert coverage.status is CheckStatus.FAILED
    assert "shop/shipping.py line(s) 3" in coverage.summary  # `return 15` never ran
    assert "branches never taken at: shop/shipping.py line(s) 2" in coverage.summary
    assert (coverage.measures["branches"], coverage.measures["taken_branches"]) == (4, 3)
    found = {(f.code, f.line) for f in coverage.findings}
    assert found == {("line-not-run", 3), ("branch-not-taken", 2)}
    shipping = next(f for f in coverage.functions if f.qualname == "shipping")
    assert shipping.coverage == pytest.approx(3 / 4)
    assert shipping.untested is False  # the tests ran the rest of its body


def test_survivors_are_named_and_a_hanging_mutant_is_killed_by_the_timeout(
    untested_branch: Judged,
) -> None:
    mutation = untested_branch.mutation

    survivors = {(f.line, f.code, f.message) for f in mutation.findings}
    # The untested line's mutant survives without a run, and says so.
    assert (
        3,
        "constant",
        "mutant survived (15 -> 16; no test runs this line): return 16",
    ) in survivors
    # `i += 1` -> `i -= 1` never ends: the timeout kills it, and the run goes on to the end.
    assert mutation.measures["timeouts"] >= 1
    assert all(line != 10 for line, _, _ in survivors)
    assert mutation.measures["unjudged"] == 0 and mutation.measures["errors"] == 0
    assert mutation.measures["mutants"] == 8
    assert mutation.status is CheckStatus.FAILED, mutation.summary  # 80% needed
    assert "by the 3 s timeout" in mutation.summary
    assert mutation.measures["seconds_per_mutant"] > 0


def test_a_mutant_whose_slow_tests_pass_survives_and_only_a_hang_is_killed_by_the_timeout(
    shop: Shop, lean_python: Path
) -> None:
    # The floor is half the test's second: a timeout not scaled from the test's own time
    # would call every mutant of `settle` hung, survivors and all.
    gate = shop.gate("base", "slow test", max_mutants=10, mutant_timeout=0.5)
    mutation = _judge(shop.repo, lean_python, gate).mutation

    survivors = {(f.line, f.message) for f in mutation.findings}
    assert (6, "mutant survived (0 -> 1; the tests still pass): i = 1") in survivors
    assert (7, "mutant survived (!= -> ==; the tests still pass): while (i == n):") in survivors
    # `i += 1` -> `i -= 1` never ends: it alone is killed by the timeout.
    assert mutation.measures["timeouts"] == 1
    assert all(line != 8 or "i -= 1" not in message for line, message in survivors)
    assert mutation.measures["survived"] == 5
    assert mutation.measures["unjudged"] == 0 and mutation.measures["errors"] == 0
    # Its timeout: 5 times the test's second or more unmutated, and 2 s; far above the floor.
    found = re.search(r", 1 by the (\S+) s timeout \(their tests take (\S+) s", mutation.summary)
    assert found, mutation.summary
    timeout, clean = float(found[1]), float(found[2])
    assert clean >= 1.0 and timeout >= 7.0, mutation.summary


# --- a suite that fails on the change ---------------------------------------------------


def test_a_test_failing_on_the_change_fails_the_check(shop: Shop, local: SandboxRunner) -> None:
    gate = shop.gate("known failure", "broken total")
    tests = check_tests(gate, SuiteRuns(local, gate))

    assert tests.status is CheckStatus.FAILED
    (finding,) = tests.findings
    assert (finding.code, finding.path, finding.line) == (
        "test-failed",
        "tests/test_pricing.py",
        5,
    )
    assert finding.message.startswith("tests/test_pricing.py::test_total fails on the change")
    # The test that failed before the change is named, not held against it.
    assert "1 failing on the base already: tests/test_known.py::test_known_bug" in tests.summary


def test_a_test_that_failed_on_the_base_already_is_run_alone_there_not_the_whole_suite(
    shop: Shop, lean_python: Path
) -> None:
    gate = shop.gate("known failure", "well tested, a known failure", max_mutants=1)
    judged = _judge(shop.repo, lean_python, gate)

    assert judged.tests.status is CheckStatus.PASSED, judged.tests.summary
    assert judged.tests.summary == (
        "tests: 3 tests pass on the change; "
        "1 failing on the base already: tests/test_known.py::test_known_bug"
    )
    assert judged.runs == [
        "gate: the change's suite",
        "gate: the base's tests that fail on the change",
        "gate: mutants of the change",
    ]


def test_a_change_cannot_pass_by_editing_the_test_it_breaks(
    shop: Shop, local: SandboxRunner
) -> None:
    gate = shop.gate("base", "test edited to match")
    runs = SuiteRuns(local, gate)
    tests = check_tests(gate, runs)

    assert runs.head_suite().failures == ()  # the change's own, edited, test passes
    assert tests.status is CheckStatus.FAILED
    (finding,) = tests.findings
    assert finding.code == "base-test-failed"
    assert finding.message.startswith("tests/test_pricing.py::test_total (the base's) fails")


def test_a_suite_that_cannot_be_collected_fails_with_its_cause(
    shop: Shop, lean_python: Path
) -> None:
    judged = _judge(shop.repo, lean_python, shop.gate("base", "broken conftest"))

    assert judged.tests.status is CheckStatus.FAILED
    assert "tests/conftest.py cannot be imported" in judged.tests.summary
    assert "No module named 'no_such_module'" in judged.tests.summary
    assert " 0 " not in judged.tests.summary and "pass" not in judged.tests.summary
    for other in (judged.coverage, judged.mutation):
        assert other.status is CheckStatus.NOT_RUN
        assert "conftest.py cannot be imported" in (other.reason or "")


def test_a_suite_the_base_cannot_collect_either_is_not_run_never_failed(
    tmp_path: Path, lean_python: Path
) -> None:
    # A dependency the sandbox lacks breaks the base's suite as much as the change's: the
    # change is not to blame, and nothing was judged.
    changes = ChangeRepository(tmp_path)
    base = {**BASE, "tests/conftest.py": "import hypothesis_is_not_here\n"}
    gate = changes.change(
        base,
        {"shop/pricing.py": BROKEN_CONFTEST["shop/pricing.py"]},
        GateSettings(test_selection="all"),
    )
    judged = _judge(changes.repo, lean_python, gate)

    assert judged.tests.status is CheckStatus.NOT_RUN
    assert judged.tests.reason == (
        "the tests cannot run on the base either: tests/conftest.py cannot be imported: "
        "ModuleNotFoundError: No module named 'hypothesis_is_not_here'"
    )
    assert judged.runs == ["gate: the change's suite", "gate: the base's suite"]


def test_a_suite_past_the_sandboxs_time_says_which_setting_gives_it_more(
    tmp_path: Path, lean_python: Path
) -> None:
    changes = ChangeRepository(tmp_path)
    slow = "import time\n\n\ndef test_slowly():\n    time.sleep(60)\n"
    gate = changes.change(
        BASE, {**WELL_TESTED, "tests/test_slow.py": slow}, GateSettings(test_selection="all")
    )
    runner = _runner(changes.repo, lean_python, suite_timeout=4)
    try:
        runs = SuiteRuns(runner, gate)
        tests, coverage = check_tests(gate, runs), check_coverage(gate, runs)
        mutation = check_mutation(gate, runs)
    finally:
        runner.close()

    stopped = (
        "the change's suite ran past the sandbox's 4 s limit "
        "(raise `suite-timeout` in [tool.ark.sandbox])"
    )
    assert tests.status is CheckStatus.FAILED
    assert tests.summary == f"tests: {stopped}"
    assert (coverage.status, coverage.reason) == (CheckStatus.NOT_RUN, stopped)
    assert (mutation.status, mutation.reason) == (CheckStatus.NOT_RUN, stopped)


def test_a_suite_past_the_sandboxs_memory_says_which_setting_gives_it_more(
    tmp_path: Path, lean_python: Path
) -> None:
    changes = ChangeRepository(tmp_path)
    hungry = "def test_hungry():\n    assert len(b'x' * (300 * 1024 * 1024)) > 0\n"
    gate = changes.change(
        BASE, {**WELL_TESTED, "tests/test_hungry.py": hungry}, GateSettings(test_selection="all")
    )
    runner = _runner(changes.repo, lean_python, suite_memory=200 * 1024 * 1024)
    try:
        tests = check_tests(gate, SuiteRuns(runner, gate))
    finally:
        runner.close()

    # Killed by the limit, pytest is not taken for a suite that could not be collected.
    assert tests.status is CheckStatus.FAILED
    assert tests.summary == (
        "tests: the change's suite ran out of the sandbox's memory "
        "(raise `suite-memory` in [tool.ark.sandbox])"
    )


def test_the_mutants_tests_run_with_the_memory_of_a_suite(
    tmp_path: Path, lean_python: Path
) -> None:
    # The tests of a mutant are a suite's: within a run of code's 200 MiB each would be
    # killed, and a mutant its tests cannot tell from the code would pass for killed.
    changes = ChangeRepository(tmp_path)
    hungry = (
        "from shop.shipping import shipping\n\n\n"
        "def test_heavy_parcels_only():\n"
        "    held = b'x' * (300 * 1024 * 1024)\n"
        "    assert shipping(21) == 15 and held\n"
    )
    gate = changes.change(
        BASE,
        {**WELL_TESTED, "tests/test_shipping.py": hungry},
        GateSettings(max_mutants=4, mutant_timeout=20),
    )
    runner = _runner(changes.repo, lean_python, memory=200 * 1024 * 1024)
    try:
        mutation = check_mutation(gate, SuiteRuns(runner, gate))
    finally:
        runner.close()

    assert mutation.status is CheckStatus.FAILED, mutation.summary
    assert "mutant survived (> -> >=; the tests still pass)" in mutation.summary


def test_a_suite_longer_than_a_run_of_code_may_take_has_the_suite_timeout(
    tmp_path: Path, lean_python: Path
) -> None:
    changes = ChangeRepository(tmp_path)
    slow = "import time\n\n\ndef test_slowly():\n    time.sleep(3)\n"
    gate = changes.change(
        BASE, {**WELL_TESTED, "tests/test_slow.py": slow}, GateSettings(test_selection="all")
    )
    runner = _runner(changes.repo, lean_python, timeout=1, suite_timeout=120)
    try:
        runs = SuiteRuns(runner, gate)
        tests, coverage = check_tests(gate, runs), check_coverage(gate, runs)
    finally:
        runner.close()

    assert tests.status is CheckStatus.PASSED, tests.summary
    assert tests.summary == "tests: 4 tests pass on the change"
    assert coverage.status is CheckStatus.PASSED, coverage.summary


def test_a_change_deleting_every_test_is_not_run_never_passed(
    shop: Shop, local: SandboxRunner
) -> None:
    gate = shop.gate("base", "tests deleted")
    tests = check_tests(gate, SuiteRuns(local, gate))

    assert tests.status is CheckStatus.NOT_RUN
    assert tests.reason is not None and "pytest collected no tests" in tests.reason


# --- coverage.py missing ------------------------------------------------------------------


def test_without_coverage_py_in_the_sandbox_coverage_is_not_run(shop: Shop, tmp_path: Path) -> None:
    python = lean_interpreter(tmp_path / "venv", with_coverage=False)
    gate = shop.gate("base", "well tested", max_mutants=1, mutant_timeout=20)
    judged = _judge(shop.repo, python, gate)

    assert judged.coverage.status is CheckStatus.NOT_RUN
    assert judged.coverage.reason is not None
    assert judged.coverage.reason.startswith("coverage.py is not installed in the sandbox's")
    assert judged.tests.status is CheckStatus.PASSED  # the tests ran all the same
    # Without coverage to pick each mutant's tests, each runs the whole suite.
    assert judged.mutation.status is CheckStatus.PASSED
    assert judged.mutation.measures["killed"] == 1


# --- docker ---------------------------------------------------------------------------------


def test_the_checks_run_in_docker_too(shop: Shop, docker_setup: DockerSetup) -> None:
    from ark_lsp.sandbox.image import outdated

    stale = outdated(docker_setup.client, docker_setup.image)
    if stale:
        docker_missing(f"{stale}: `ark sandbox image build --if-missing` adds coverage.py")
    judged = _judge(shop.repo, None, shop.gate("base", "well tested", max_mutants=3), "docker")

    assert judged.tests.status is CheckStatus.PASSED, judged.tests.summary
    assert judged.coverage.status is CheckStatus.PASSED, judged.coverage.summary
    assert judged.coverage.measures["branches"] == 2
    assert judged.mutation.status is CheckStatus.PASSED, judged.mutation.summary
    assert judged.mutation.measures["killed"] == 3


def test_an_image_an_older_ark_built_is_outdated() -> None:
    from ark_lsp.sandbox.image import IMAGE_FORMAT, outdated

    class Images:
        labels: dict[str, dict[str, str]] = {
            "old": {"ark.image": "1"},
            "current": {"ark.image": IMAGE_FORMAT},
            "users-own": {},
        }

        def get(self, name: str) -> Any:
            return type("Image", (), {"labels": self.labels[name]})()

    client = type("Client", (), {"images": Images()})()
    assert outdated(client, "old") == (
        f"old was built by an older ARK (image format 1, now {IMAGE_FORMAT})"
    )
    assert outdated(client, "current") is None and outdated(client, "users-own") is None


# --- what the sandbox sends back is data ----------------------------------------------------


def test_a_forged_coverage_report_is_read_within_bounds() -> None:
    report = {
        "tests": ["tests/t.py::ok", "bad\x1b[31mname", 7],
        "files": {
            "app.py": {
                "executed": [1, 2, True, -4, 10**12, "3", 5],
                "missing": [5, 6],
                "executed_branches": [[2, 3], [2, -1], [2], "x", [True, 3]],
                "missing_branches": [[2, 4]],
                "contexts": {"2": [0, 1, 2, 99, -1], "x": [0], "5": "0"},
            },
            "/etc/passwd": {"executed": [1]},
            "other.py": {"executed": [1]},
        },
    }
    read = read_coverage(json.dumps(report).encode(), {"app.py"})

    assert read is not None and set(read.files) == {"app.py"}
    measured = read.files["app.py"]
    assert measured.executed == {1, 2}  # 5 is also "missing": doubt is never tested
    assert measured.missing == {5, 6}
    assert measured.executed_branches == {(2, 3), (2, -1)}
    assert dict(measured.tests) == {2: {"tests/t.py::ok"}}
    assert read_coverage(b"[" * 100_000, {"app.py"}) is None
    assert read_coverage(b"x" * ARTIFACT_CAP, {"app.py"}) is None


def test_mutant_verdicts_are_read_only_for_mutants_ark_sent(shop: Shop) -> None:
    source = UNTESTED_BRANCH["shop/shipping.py"].encode()
    sent = {m.key: m for m in mutants_of("shop/shipping.py", source, {2})}
    key = next(iter(sent))
    lines = [
        json.dumps({"id": key, "status": "killed", "seconds": 0.5}),
        json.dumps({"id": "forged", "status": "killed", "seconds": 0.5}),
        json.dumps({"id": key, "status": "survived", "seconds": 1}),  # the first word stands
        json.dumps({"id": key + "x", "status": "exploded"}),
        "{" * 5000,
    ]
    assert read_results("\n".join(lines).encode(), sent) == {key: ("killed", 0.5)}


# --- the mutants ----------------------------------------------------------------------------


def test_mutants_are_made_of_changed_lines_inside_functions_only() -> None:
    source = textwrap.dedent(
        """\
        LIMIT = 3 + 4


        class Account:
            def withdraw(self, amount: int = 3) -> bool:
                if amount > self.cash and not self.shut:  # low
                    return False
                self.cash -= amount
                log(f"took {amount + 1}")
                return [x for x in range(amount) if x % 2 == 0] == [0]
        """
    ).encode()
    found = mutants_of("bank.py", source, set(range(1, 11)))
    seen = {(m.line, m.operator, m.description, m.mutated) for m in found}

    assert {m.qualname for m in found} == {"Account.withdraw"}  # LIMIT is module level
    assert all(m.line >= 6 for m in found)  # the default and the annotations stay
    assert (
        6,
        "comparison",
        "> -> >=",
        "if (amount >= self.cash) and not self.shut:  # low",
    ) in seen
    assert (
        6,
        "boolean-operator",
        "and -> or",
        "if (amount > self.cash or not self.shut):  # low",
    ) in seen
    negated = "if (not (amount > self.cash and not self.shut)):  # low"
    assert (6, "negated-condition", "condition negated", negated) in seen
    assert (7, "constant", "False -> True", "return True") in seen
    assert (8, "arithmetic-operator", "-= -> +=", "self.cash += amount") in seen
    assert (9, "removed-call", "call removed", "None") in seen
    assert (10, "return-value", "return value -> None", "return None") in seen
    assert not any("took {amount + 2}" in m.text for m in found)  # f-strings are left alone
    only_seven = mutants_of("bank.py", source, {7})
    assert {m.line for m in only_seven} == {7}


def test_the_mutants_chosen_are_spread_over_the_functions() -> None:
    source = UNTESTED_BRANCH["shop/shipping.py"].encode()
    found = mutants_of("shop/shipping.py", source, set(range(1, 12)))
    chosen = choose(found, {"shop/shipping.py": source}, 4)

    assert [(m.qualname, m.line) for m in chosen] == [
        ("shipping", 2),
        ("shipping", 3),
        ("count_to", 8),
        ("count_to", 9),
    ]


def test_which_files_are_tests() -> None:
    assert is_test_file("tests/helpers.py") and is_test_file("pkg/test_x.py")
    assert is_test_file("conftest.py") and is_test_file("src/pkg/x_test.py")
    assert not is_test_file("pkg/testing_tools.py") and not is_test_file("pytest.ini")
    assert shapes_the_tests("pytest.ini") and not shapes_the_tests("pkg/pytest.ini")


NAMESPACES = textwrap.dedent(
    """\
    def process_namespace(name, namespaces, ns_sep=":", attr_prefix="@"):
        if not namespaces:
            return name
        ns, sep, rest = name.rpartition(ns_sep)
        ns_res = namespaces.get(ns.strip(attr_prefix))
        return ns_res + sep + rest


    LIMIT = 3
    """
)


def test_no_mutants_says_whether_the_change_wrote_code_in_a_function(tmp_path: Path) -> None:
    # xmltodict's _process_namespace: `namespaces.get(ns.strip(attr_prefix))` became
    # `namespaces.get(ns)`, a line inside a function no operator mutates; the gate said
    # "the change wrote no mutable code in a function".
    changes = ChangeRepository(tmp_path)
    base = {"xmltodict.py": NAMESPACES}
    in_function = {"xmltodict.py": NAMESPACES.replace("ns.strip(attr_prefix)", "ns")}
    gate = changes.change(base, in_function, GateSettings(test_selection="all"))
    runner = _runner(changes.repo, None)
    try:
        inside = check_mutation(gate, SuiteRuns(runner, gate))
        head = git(changes.repo, "rev-parse", "HEAD").strip()
        more = changes.commit({"xmltodict.py": in_function["xmltodict.py"] + "LIMIT = 4\n"})
        outside = changes.gate_input(head, more, GateSettings(test_selection="all"))
        module_level = check_mutation(outside, SuiteRuns(runner, outside))
    finally:
        runner.close()

    assert inside.status is CheckStatus.PASSED
    assert inside.summary == (
        "mutation: no mutants: no mutation applies to the 1 changed line(s) in functions"
    )
    assert module_level.summary == "mutation: no mutants: the change wrote no code in a function"


# --- branches are counted from the code, not from what ran ------------------------------------

COUNT_ITEMS = textwrap.dedent(
    """\
    def iteritems(arg):
        yield from arg


    def count_items(arg):
        n = 0
        for _ in iteritems(arg):
            n += 1
        return n
    """
)


class _Reported:
    """The suite runs of a change, as far as the coverage check asks: coverage.py's report."""

    def __init__(self, gate: GateInput, report: dict[str, Any]) -> None:
        self.measured = ("bidict_iter.py",)
        self.report = read_coverage(json.dumps(report).encode(), set(self.measured))
        self.gate = gate

    def head_suite(self) -> Any:
        return type("Run", (), {"problem": None, "coverage": self.report})()

    def head_files(self) -> dict[str, bytes]:
        return {"bidict_iter.py": COUNT_ITEMS.encode()}


def test_a_lines_branches_are_as_many_whether_or_not_the_tests_took_them(tmp_path: Path) -> None:
    # bidict's new count_items: "0% of 2 branch(es)" untested, "100% of 3 branch(es)" once
    # tested (an older coverage.py reports executed arcs it never thought possible), and
    # "branches never taken at: bidict/_iter.py line(s) 58, 58".
    changes = ChangeRepository(tmp_path)
    gate = changes.change(
        {"bidict_iter.py": "def iteritems(arg):\n    yield from arg\n"},
        {"bidict_iter.py": COUNT_ITEMS},
    )
    possible = [[7, 8], [7, 9]]
    untested = {
        "executed": [1, 5],
        "missing": [2, 6, 7, 8, 9],
        "executed_branches": [],
        "missing_branches": possible,
        "branch_arcs": possible,
    }
    tested = {
        "executed": [1, 2, 5, 6, 7, 8, 9],
        "missing": [],
        "executed_branches": [*possible, [7, -5]],  # an arc coverage.py never thought possible
        "missing_branches": [],
        "branch_arcs": possible,
    }

    before = check_coverage(gate, _Reported(gate, {"files": {"bidict_iter.py": untested}}))
    after = check_coverage(gate, _Reported(gate, {"files": {"bidict_iter.py": tested}}))

    assert "0% of 2 branch(es)" in before.summary
    assert "branches never taken at: bidict_iter.py line(s) 7 " in before.summary + " "
    assert "100% of 2 branch(es)" in after.summary
    assert (before.measures["branches"], after.measures["branches"]) == (2, 2)


def test_the_driver_counts_a_files_branches_from_coverage_pys_analysis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    coverage = pytest.importorskip("coverage")
    from ark_lsp.gate.sandbox_driver import _branch_arcs

    monkeypatch.chdir(tmp_path)
    (tmp_path / "counting.py").write_text(COUNT_ITEMS)
    cov = coverage.Coverage(branch=True, config_file=False, data_file=None)
    cov.start()
    try:
        import importlib.util

        spec = importlib.util.spec_from_file_location("counting", tmp_path / "counting.py")
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    finally:
        cov.stop()

    # count_items never ran: its loop's two ways out are there all the same.
    assert _branch_arcs(cov, ["counting.py"]) == {"counting.py": [[7, 8], [7, 9]]}


def test_the_tests_line_counts_xfailed_and_xpassed_apart_from_passes_and_skips(
    tmp_path: Path, lean_python: Path
) -> None:
    # pytest said "2 xfailed, 1 xpassed"; the gate said "2 skipped".
    changes = ChangeRepository(tmp_path)
    marked = (
        "import pytest\n\n\n"
        "@pytest.mark.xfail\ndef test_known():\n    assert 0\n\n\n"
        "@pytest.mark.xfail\ndef test_other():\n    assert 0\n\n\n"
        "@pytest.mark.xfail\ndef test_fixed():\n    pass\n"
    )
    gate = changes.change(
        BASE, {**WELL_TESTED, "tests/test_marked.py": marked}, GateSettings(test_selection="all")
    )
    runner = _runner(changes.repo, lean_python)
    try:
        tests = check_tests(gate, SuiteRuns(runner, gate))
    finally:
        runner.close()

    assert tests.status is CheckStatus.PASSED, tests.summary
    assert tests.summary == "tests: 3 tests pass on the change, 2 xfailed, 1 xpassed"
    assert (tests.measures["xfailed"], tests.measures["xpassed"]) == (2, 1)
    assert tests.measures["skipped"] == 0
