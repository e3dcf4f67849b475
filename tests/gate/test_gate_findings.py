"""The findings check: what a change adds on its changed lines is new; what it moves is not."""

from __future__ import annotations

from pathlib import Path

from support.git_repos import commit, write

from ark_lsp.gate.model import CheckResult, CheckStatus
from ark_lsp.workflows.gate import run_gate

RISKY = """\
def risky(expression):
    return eval(expression)
"""


def findings_of(report_checks: tuple[CheckResult, ...]) -> CheckResult:
    (check,) = [c for c in report_checks if c.name == "findings"]
    return check


def test_a_change_adding_eval_of_input_fails_with_that_finding(repo: Path, load) -> None:
    pricing = repo / "shop/pricing.py"
    write(
        repo,
        {"shop/pricing.py": pricing.read_text() + "\n\ndef ask():\n    return eval(input())\n"},
    )

    report = run_gate(load(repo))

    check = findings_of(report.checks)
    assert check.status is CheckStatus.FAILED
    assert check.summary == "findings: 1 new finding on changed lines"
    (finding,) = check.findings
    line = pricing.read_text().splitlines().index("    return eval(input())") + 1
    assert (finding.path, finding.line, finding.column, finding.code, finding.symbol) == (
        "shop/pricing.py",
        line,
        12,
        "ARK001",
        "ask",
    )
    assert finding.message == "eval() evaluates arbitrary code"
    assert not report.passed


def eval_line(text: str) -> int:
    return text.splitlines().index("    return eval(expression)") + 1


def test_moving_a_function_50_lines_gives_no_new_findings(repo: Path, load) -> None:
    pricing = repo / "shop/pricing.py"
    base = RISKY + "\n\n" + pricing.read_text()
    write(repo, {"shop/pricing.py": base})
    commit(repo, "risky, already there")
    filler = "".join(f"\n\ndef helper_{n}():\n    return {n}\n" for n in range(13))
    moved = base.replace(RISKY, "") + filler + "\n\n" + RISKY
    write(repo, {"shop/pricing.py": moved})
    assert eval_line(moved) - eval_line(base) >= 50

    check = findings_of(run_gate(load(repo)).checks)

    assert check.measures["head_findings"] == check.measures["base_findings"] == 1
    assert check.status is CheckStatus.PASSED, check.findings
    assert check.findings == ()


def test_a_function_moved_to_another_changed_file_brings_no_new_findings(repo: Path, load) -> None:
    write(repo, {"shop/risky.py": RISKY})
    commit(repo, "risky in its own module")
    write(repo, {"shop/risky.py": None, "shop/unsafe.py": '"""Unsafe things."""\n\n\n' + RISKY})

    check = findings_of(run_gate(load(repo)).checks)

    assert check.status is CheckStatus.PASSED, check.findings


def test_a_second_copy_of_an_existing_finding_is_new(repo: Path, load) -> None:
    write(repo, {"shop/risky.py": RISKY})
    commit(repo, "one eval")
    # The same function twice: the same rule, name and text, so the same fingerprint.
    write(repo, {"shop/risky.py": RISKY + "\n\n" + RISKY})

    check = findings_of(run_gate(load(repo)).checks)

    assert check.status is CheckStatus.FAILED
    (finding,) = check.findings
    assert (finding.code, finding.line, finding.symbol) == ("ARK001", 6, "risky")


def test_findings_on_lines_the_change_did_not_write_are_not_its_own(repo: Path, load) -> None:
    write(repo, {"shop/risky.py": RISKY})
    commit(repo, "an eval the change will not touch")
    write(repo, {"shop/risky.py": RISKY + "\n\ndef safe():\n    return 1\n"})

    check = findings_of(run_gate(load(repo)).checks)

    assert check.status is CheckStatus.PASSED
    assert check.files == {"shop/risky.py": {"findings": 0.0}}


def test_a_file_too_large_to_read_is_a_finding_not_a_pass(repo: Path, load) -> None:
    pyproject = (repo / "pyproject.toml").read_text()
    write(repo, {"pyproject.toml": pyproject + "\n[tool.ark]\nmax-file-size = 200\n"})
    commit(repo, "small files only")
    write(repo, {"shop/big.py": "".join(f"value_{n} = {n}\n" for n in range(40))})

    check = findings_of(run_gate(load(repo)).checks)

    assert check.status is CheckStatus.FAILED
    (finding,) = check.findings
    assert finding.code == "ARK090"
    assert "larger than max_file_size" in finding.message
