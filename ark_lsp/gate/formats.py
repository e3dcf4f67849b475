"""A gate report as text, JSON and SARIF 2.1.0: pure functions, tested without a terminal.

- text: one line per check (name, status, what it found), then each new
  finding as ``path:line:col: CODE message``, then the verdict;
- JSON: :meth:`GateReport.as_dict <ark_lsp.gate.report.GateReport.as_dict>`;
- SARIF: ARK's own log (:func:`ark_lsp.reporting.sarif_log`), the new
  findings as results, the verdict and each check in the invocation's
  ``properties``; ``executionSuccessful`` is false when an enabled check
  could not run, and every check not run is a notification.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from ark_lsp.gate.model import CheckResult, CheckStatus, Finding, IntegrityFlag
from ark_lsp.gate.report import GateReport, integrity_flag
from ark_lsp.reporting import CheckResult as ShownResult
from ark_lsp.reporting import SarifNotification, sarif_log
from ark_lsp.rules import Rule

PathShown = Callable[[str], str]
"""How a workspace-relative path is shown: relative to the current folder, as a rule."""


def _detail(check: CheckResult) -> str:
    if check.status is CheckStatus.NOT_RUN and check.reason:
        return check.reason
    return check.summary.removeprefix(f"{check.name}: ")


def _duration(milliseconds: float) -> str:
    return f"{milliseconds:.0f} ms" if milliseconds < 1000 else f"{milliseconds / 1000:.1f} s"


SHARING_RUNS = ("coverage", "mutation")
"""Checks that may start the suite runs the ``tests`` check judges (they run before it)."""


def _took(check: CheckResult, checks: Sequence[CheckResult] = ()) -> str:
    """How long the check took; for one judging suite runs made earlier, how long they took.

    The ``tests`` check reuses the runs coverage (or mutation) started: its own
    time is near nothing, and the suite's time is counted under that check.
    """
    if check.status is CheckStatus.NOT_RUN and check.duration_ms < 1:
        return ""
    suite = check.measures.get("suite_ms", 0.0)
    if suite > check.duration_ms:
        under = next(
            (c.name for c in checks if c.name in SHARING_RUNS and c.duration_ms >= suite), None
        )
        timed = f", timed under {under}" if under else ""
        return f" (the tests ran {_duration(suite)}{timed})"
    return f" ({_duration(check.duration_ms)})"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def finding_line(finding: Finding, path: PathShown = str) -> str:
    """``path:line:col: CODE message``."""
    return (
        f"{path(finding.path)}:{finding.line or 1}:{finding.column or 1}: "
        f"{finding.code} {finding.message}"
    )


def _integrity_line(flag: IntegrityFlag, path: PathShown) -> str:
    """``path::Test::test_name: integrity: kind: reason``: the test by its pytest id."""
    where = path(flag.path)
    if flag.symbol:
        where += "::" + flag.symbol.replace(".", "::")
    return f"{where}: integrity: {flag.kind.value}: {flag.reason}"


def as_text(report: GateReport, path: PathShown = str) -> str:
    """Each check on a line, the new findings, and the verdict with what was judged."""
    width = max(len(c.name) for c in report.checks) if report.checks else 0
    lines = [
        f"{c.name:<{width}}  {c.status.value:<7}  {_detail(c)}{_took(c, report.checks)}"
        for c in report.checks
    ]
    lines.extend(finding_line(f, path) for f in report.findings)
    lines.extend(_integrity_line(flag, path) for flag in report.integrity)
    if report.working_tree:
        judged = f"the working tree against {report.base[:12]}"
    else:
        judged = f"{report.subject}: {report.base[:12]}..{report.head[:12]}"
    files = len(report.files)
    lines.append(
        f"{_sentence(report.summary())} ({judged}, "
        f"{files} changed file{'s' * (files != 1)}, {_duration(report.duration_ms)})."
    )
    return "\n".join(lines)


def as_json(report: GateReport, path: PathShown = str) -> str:
    """The report's documented JSON shape."""
    return json.dumps(report.as_dict(path), indent=2)


def _shown(finding: Finding, path: PathShown) -> ShownResult:
    line = finding.line or 1
    column = finding.column or 1
    known_end = finding.end_line is not None and finding.end_column is not None
    return ShownResult(
        path=path(finding.path),
        line=line,
        column=column,
        end_line=finding.end_line if known_end and finding.end_line else 0,
        end_column=finding.end_column if known_end and finding.end_column else 0,
        rule=finding.code,
        severity=finding.severity if finding.severity in ("error", "warning") else "info",
        message=finding.message,
    )


def as_sarif(report: GateReport, rules: Sequence[Rule], path: PathShown = str) -> str:
    """A SARIF 2.1.0 log: new findings as results, the verdict on the invocation."""
    notes = [
        SarifNotification(
            "note" if c.name not in report.enabled else "error",
            f"{c.name}: not run ({c.reason or 'no reason given'})",
        )
        for c in report.checks
        if c.status is CheckStatus.NOT_RUN
    ]
    ran = all(c.status is not CheckStatus.NOT_RUN for c in report.judged)
    properties = {
        "verdict": report.verdict.value,
        "summary": report.summary(),
        "gateRun": report.run_id,
        "subject": report.subject,
        "changeId": report.change_id,
        "base": report.base,
        "head": report.head,
        "workingTree": report.working_tree,
        "checks": [
            {
                "name": c.name,
                "enabled": c.name in report.enabled,
                "status": c.status.value,
                "summary": c.summary,
                "reason": c.reason,
                "durationMs": round(c.duration_ms, 1),
            }
            for c in report.checks
        ],
        "integrity": [integrity_flag(flag, path) for flag in report.integrity],
    }
    log = sarif_log(
        [_shown(f, path) for f in report.findings],
        rules,
        notifications=notes,
        execution_successful=ran,
        exit_code=0 if report.passed else 1,
        properties=properties,
    )
    return json.dumps(log, indent=2)


__all__ = ["as_json", "as_sarif", "as_text", "finding_line"]
