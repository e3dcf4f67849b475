"""The check workflow: findings under paths, rules selected and ignored, the safe fixes."""

from __future__ import annotations

from pathlib import Path

from ark_lsp.project import Project
from ark_lsp.workflows.check import CheckReport, check, findings
from ark_lsp.workflows.index import refresh_index
from ark_lsp.workspace import IndexFigures


def test_findings_under_the_targets_with_the_files_checked(project: Project) -> None:
    with project.open_store() as store:
        report = check(project, store)
        assert [(f.path, f.rule, f.line) for f in report.findings] == [
            ("shop/pricing.py", "ARK001", 10)
        ]
        assert report.files_checked == 3 and report.failed
        assert "ARK001" in {rule.id for rule in report.rules}
        assert all(rule.enabled for rule in report.rules)

        only_checkout = check(project, store, targets=[project.root / "shop" / "checkout.py"])
        assert only_checkout.findings == () and only_checkout.files_checked == 1
        assert not only_checkout.failed


def test_select_and_ignore_leave_syntax_errors_in(project: Project) -> None:
    (project.root / "broken.py").write_text("def broken(:\n")
    with project.open_store() as store:
        ignored = check(project, store, ignore=["ARK0"])
        assert [f.rule for f in ignored.findings] == ["ARK000"]
        selected = check(project, store, select=["ARK001"])
        assert [f.rule for f in selected.findings] == ["ARK000", "ARK001"]


def test_fix_applies_the_safe_fixes_and_checks_again(project: Project) -> None:
    literal = project.root / "shop" / "literal.py"
    literal.write_text('VALUES = eval("[1, 2]")\n')
    with project.open_store() as store:
        unfixed = check(project, store)
        fixed = check(project, store, fix=True)
    assert unfixed.fixed is None
    assert ("shop/literal.py", "ARK001") in {(f.path, f.rule) for f in unfixed.findings}
    assert fixed.fixed is not None and (fixed.fixed.files, fixed.fixed.fixes) == (1, 1)
    assert "literal_eval" in literal.read_text()
    assert [(f.path, f.rule) for f in fixed.findings] == [("shop/pricing.py", "ARK001")]


def test_a_file_that_is_not_text_is_a_finding_that_fails_the_check(project: Project) -> None:
    (project.root / "shop" / "binary.py").write_bytes(b"\xff\xfe\x00 not text")
    with project.open_store() as store:
        report = check(project, store, targets=[project.root / "shop" / "binary.py"])
    assert [(f.path, f.rule, f.severity) for f in report.findings] == [
        ("shop/binary.py", "ARK000", "error")
    ]
    assert report.failed


def test_a_file_that_could_not_be_read_fails_the_check_even_without_findings() -> None:
    figures = IndexFigures(
        root="/w",
        problems=["a.py: cannot read (Permission denied)", "b.py:1: invalid syntax"],
        unreadable=["a.py"],
    )
    report = CheckReport(findings=(), files_checked=2, rules=(), figures=figures)
    assert report.unreadable == ("a.py: cannot read (Permission denied)",)
    assert report.failed


def test_the_server_reads_the_same_findings_from_the_index(project: Project, shop: Path) -> None:
    refresh_index(project)
    with project.open_store() as store:
        assert [(f.path, f.rule) for f in findings(store)] == [("shop/pricing.py", "ARK001")]
        assert findings(store, path_prefixes=["shop/checkout.py"]) == []
