"""The gate's text report says what a user needs without the JSON beside it."""

from __future__ import annotations

from ark_lsp.config import GateSettings
from ark_lsp.gate.formats import as_text
from ark_lsp.gate.model import CheckResult, CheckStatus, IntegrityFlag, IntegrityKind
from ark_lsp.gate.report import GateReport


def report(
    checks: tuple[CheckResult, ...] = (), integrity: tuple[IntegrityFlag, ...] = ()
) -> GateReport:
    return GateReport(
        run_id="run",
        subject="a..b",
        base="a" * 40,
        head="b" * 40,
        files=(),
        checks=checks,
        enabled=frozenset(c.name for c in checks),
        settings=GateSettings(),
        integrity=integrity,
    )


def test_an_integrity_flag_names_the_deleted_test_in_text() -> None:
    flags = (
        IntegrityFlag(
            IntegrityKind.TEST_DELETED,
            "tests/test_base.py",
            "deletes the test",
            "test_bidict_base_copy_result_type",
        ),
        IntegrityFlag(IntegrityKind.SKIP_ADDED, "tests/test_x.py", "adds a skip", "TestX.test_y"),
    )

    lines = as_text(report(integrity=flags)).splitlines()

    assert (
        "tests/test_base.py::test_bidict_base_copy_result_type: integrity: test deleted: "
        "deletes the test"
    ) in lines
    assert "tests/test_x.py::TestX::test_y: integrity: skip or xfail added: adds a skip" in lines


def test_the_tests_check_shows_how_long_the_suite_ran_where_another_check_started_it() -> None:
    # bidict: 64 tests ran in 8.3 s, under coverage, and the tests line read "(0 ms)".
    checks = (
        CheckResult("coverage", CheckStatus.PASSED, "coverage: 100%", duration_ms=8400.0),
        CheckResult("mutation", CheckStatus.PASSED, "mutation: no mutants", duration_ms=3.0),
        CheckResult(
            "tests",
            CheckStatus.PASSED,
            "tests: 64 tests pass on the change",
            measures={"tests": 64.0, "suite_ms": 8300.0},
            duration_ms=0.4,
        ),
    )

    lines = as_text(report(checks)).splitlines()

    assert lines[0].endswith("100% (8.4 s)")
    assert lines[2].endswith(
        "64 tests pass on the change (the tests ran 8.3 s, timed under coverage)"
    )
    assert "(0 ms)" not in lines[2]
