"""The complexity check: each touched function before and after, against the base's slack."""

from __future__ import annotations

from pathlib import Path

from support.git_repos import commit, write

from ark_lsp.gate.model import CheckResult, CheckStatus, FunctionMetrics
from ark_lsp.workflows.gate import run_gate

LABEL = """\
def label(price):
    if price > 100:
        return "expensive"
    return "cheap"
"""

LABEL_GROWN = """\
def label(price):
    if price > 1000:
        return "luxury"
    if price > 100:
        return "expensive"
    if price < 0:
        return "refund"
    if price == 0:
        return "free"
    return "cheap"
"""


def complexity_of(checks: tuple[CheckResult, ...]) -> CheckResult:
    (check,) = [c for c in checks if c.name == "complexity"]
    return check


def grow_label(repo: Path) -> None:
    pricing = repo / "shop/pricing.py"
    write(repo, {"shop/pricing.py": pricing.read_text().replace(LABEL, LABEL_GROWN)})


def test_a_complexity_increase_beyond_the_slack_fails(repo: Path, load) -> None:
    pyproject = (repo / "pyproject.toml").read_text()
    write(repo, {"pyproject.toml": pyproject + "\n[tool.ark.gate]\ncomplexity-slack = 2\n"})
    commit(repo, "a slack of 2")
    grow_label(repo)

    report = run_gate(load(repo))

    check = complexity_of(report.checks)
    assert check.status is CheckStatus.FAILED
    assert check.functions == (
        FunctionMetrics("shop/pricing.py", "label", 9, complexity_before=2, complexity_after=5),
    )
    (finding,) = check.findings
    assert (finding.code, finding.path, finding.line, finding.symbol) == (
        "complexity",
        "shop/pricing.py",
        9,
        "label",
    )
    assert finding.message == (
        "label: cyclomatic complexity 2 -> 5, more than the slack of 2 allows"
    )
    assert "label 2 -> 5" in check.summary
    assert not report.passed


def test_an_increase_within_the_slack_passes(repo: Path, load) -> None:
    pyproject = (repo / "pyproject.toml").read_text()
    write(repo, {"pyproject.toml": pyproject + "\n[tool.ark.gate]\ncomplexity-slack = 3\n"})
    commit(repo, "a slack of 3")
    grow_label(repo)

    check = complexity_of(run_gate(load(repo)).checks)

    assert check.status is CheckStatus.PASSED
    assert check.summary == (
        "complexity: 1 touched function, none more complex than the slack of 3 allows"
    )


def test_every_touched_function_is_measured_added_and_removed_ones_too(repo: Path, load) -> None:
    pricing = repo / "shop/pricing.py"
    text = pricing.read_text()
    # total is edited, label removed, fresh added; the untouched __init__ has none.
    text = text.replace("return sum(prices) - discount", "return max(sum(prices) - discount, 0)")
    text = text.replace(LABEL, "def fresh(flag):\n    return 1 if flag else 2\n")
    write(repo, {"shop/pricing.py": text})

    check = complexity_of(run_gate(load(repo)).checks)

    assert check.status is CheckStatus.PASSED
    assert set(check.functions) == {
        FunctionMetrics("shop/pricing.py", "total", 4, complexity_before=1, complexity_after=1),
        FunctionMetrics("shop/pricing.py", "fresh", 9, complexity_after=2),
        FunctionMetrics("shop/pricing.py", "label", 9, complexity_before=2),
    }
    assert check.summary == (
        "complexity: 3 touched functions (1 new, 1 removed), "
        "none more complex than the slack of 0 allows"
    )


def test_moving_a_function_does_not_make_it_more_complex(repo: Path, load) -> None:
    pricing = repo / "shop/pricing.py"
    write(repo, {"shop/pricing.py": LABEL + "\n\n" + pricing.read_text().replace(LABEL, "")})

    check = complexity_of(run_gate(load(repo)).checks)

    assert check.status is CheckStatus.PASSED
    assert (
        FunctionMetrics("shop/pricing.py", "label", 1, complexity_before=2, complexity_after=2)
        in check.functions
    )
