"""What one gate run decided: every check's result, the verdict, and the rows that keep it.

The verdict is "pass" only when every enabled check passed. A check that
was switched off in ``[tool.ark.gate]`` is listed as not run ("switched
off") and does not count; an enabled check that did not run (its tool is
missing, it is not available in this ARK, it failed) fails the gate.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ark_lsp.config import GateSettings
from ark_lsp.gate.model import (
    ChangedFile,
    CheckResult,
    CheckStatus,
    Finding,
    FunctionMetrics,
    IntegrityFlag,
)

SWITCHED_OFF = "switched off"
"""Why a check ``[tool.ark.gate] checks`` leaves out did not run."""


class Verdict(enum.StrEnum):
    """The gate's decision on a change."""

    PASS = "pass"
    FAIL = "fail"


@dataclass(frozen=True)
class GateReport:
    """One run of the gate on one change: what was judged, each check, and the verdict."""

    run_id: str
    """This run's id, shared by its rows in ``code_quality_reports``."""
    subject: str
    """What was judged, as the report names it: a change id, ``BASE..HEAD``, the working tree."""
    base: str
    """The base commit (full id)."""
    head: str
    """The head commit; for the working tree, a commit of it that no branch holds."""
    files: tuple[ChangedFile, ...]
    checks: tuple[CheckResult, ...]
    """Every check of the gate, in order, switched-off ones included."""
    enabled: frozenset[str]
    """The checks ``[tool.ark.gate]`` switched on (in the base commit)."""
    settings: GateSettings
    change_id: str | None = None
    """The change set judged, when it was one."""
    working_tree: bool = False
    """Whether the head is the working tree's uncommitted state."""
    problems: tuple[str, ...] = ()
    """What was wrong with the base commit's settings (the defaults applied instead)."""
    integrity: tuple[IntegrityFlag, ...] = ()
    """How the change touches what judges it (tests, the gate's, CI's or ARK's settings):
    not part of the verdict, but what the approval stage sends to a person."""
    started_at: str = ""
    duration_ms: float = 0.0
    test_selection: Mapping[str, object] | None = None
    """Which tests ran on the change (see :mod:`ark_lsp.gate.affected_tests`): the whole
    suite and why, or those chosen; None when no check ran the tests."""

    @property
    def judged(self) -> tuple[CheckResult, ...]:
        """The enabled checks' results: what the verdict is made of."""
        return tuple(c for c in self.checks if c.name in self.enabled)

    @property
    def verdict(self) -> Verdict:
        """Pass only when every enabled check passed."""
        return Verdict.PASS if all(c.passed for c in self.judged) else Verdict.FAIL

    @property
    def passed(self) -> bool:
        """Whether the change passed the gate."""
        return self.verdict is Verdict.PASS

    @property
    def findings(self) -> tuple[Finding, ...]:
        """What the enabled checks found new in the change, check by check."""
        return tuple(f for c in self.judged for f in c.findings)

    def summary(self) -> str:
        """One line: the verdict and what made it."""
        failed = [c.name for c in self.judged if c.status is CheckStatus.FAILED]
        missing = [c.name for c in self.judged if c.status is CheckStatus.NOT_RUN]
        if not failed and not missing:
            if not self.files:
                return "gate passed: nothing changed, nothing to judge"
            return f"gate passed: {len(self.judged)} of {len(self.judged)} checks passed"
        parts = []
        if failed:
            parts.append(f"{', '.join(failed)} failed")
        if missing:
            parts.append(f"{', '.join(missing)} not run")
        return f"gate failed: {'; '.join(parts)}"

    def as_dict(self, path: Callable[[str], str] = str) -> dict[str, Any]:
        """The report as plain data (``ark gate --format json``); ``path`` shows each path."""

        def finding(f: Finding) -> dict[str, Any]:
            return {
                "check": f.check,
                "path": path(f.path),
                "line": f.line,
                "column": f.column,
                "end_line": f.end_line,
                "end_column": f.end_column,
                "code": f.code,
                "severity": f.severity,
                "message": f.message,
                "symbol": f.symbol,
                "fingerprint": f.fingerprint,
            }

        def function(m: FunctionMetrics) -> dict[str, Any]:
            return {
                "path": path(m.path),
                "qualname": m.qualname,
                "line": m.line,
                "complexity_before": m.complexity_before,
                "complexity_after": m.complexity_after,
                "coverage": m.coverage,
                "untested": m.untested,
                "mutants": m.mutants,
                "mutants_killed": m.mutants_killed,
                "mutation_score": m.mutation_score,
            }

        def check(c: CheckResult) -> dict[str, Any]:
            return {
                "name": c.name,
                "enabled": c.name in self.enabled,
                "status": c.status.value,
                "summary": c.summary,
                "reason": c.reason,
                "duration_ms": round(c.duration_ms, 1),
                "measures": dict(c.measures),
                "files": {path(p): dict(v) for p, v in c.files.items()},
                "functions": [function(m) for m in c.functions],
                "findings": [finding(f) for f in c.findings],
            }

        return {
            "run_id": self.run_id,
            "verdict": self.verdict.value,
            "summary": self.summary(),
            "subject": self.subject,
            "change_id": self.change_id,
            "base": self.base,
            "head": self.head,
            "working_tree": self.working_tree,
            "started_at": self.started_at,
            "duration_ms": round(self.duration_ms, 1),
            "checks": [check(c) for c in self.checks],
            "findings": [finding(f) for f in self.findings],
            "files": [
                {
                    "path": path(f.path),
                    "status": f.status.value,
                    "old_path": path(f.old_path) if f.old_path else None,
                    "binary": f.binary,
                    "changed_lines": len(f.lines),
                }
                for f in self.files
            ],
            "settings": asdict(self.settings),
            "problems": list(self.problems),
            "integrity": [integrity_flag(flag, path) for flag in self.integrity],
            "test_selection": dict(self.test_selection) if self.test_selection else None,
        }


def integrity_flag(flag: IntegrityFlag, path: Callable[[str], str] = str) -> dict[str, str]:
    """An integrity flag as plain data."""
    return {
        "kind": flag.kind.value,
        "path": path(flag.path),
        "symbol": flag.symbol,
        "reason": flag.reason,
    }


# --- the rows of code_quality_reports -------------------------------------------------------

_FILE_COLUMNS = {
    "findings": "findings",
    "coverage": "coverage",
    "branch_coverage": "branch_coverage",
    "mutation_score": "mutation_score",
}
"""Per-file figures a check reports, and the column each is kept in."""


def quality_rows(report: GateReport) -> list[dict[str, Any]]:
    """The run as rows of ``code_quality_reports``: the run, each check, file and function.

    Each file and each function has one row, its figures gathered from
    every check that measured it (coverage from one, complexity from
    another); what has no column is kept in ``details`` as JSON.
    """
    key = {
        "gate_run": report.run_id,
        "change_id": report.change_id,
        "subject": report.subject,
        "base_commit": report.base,
        "head_commit": report.head,
    }
    rows: list[dict[str, Any]] = [
        {
            **key,
            "scope": "run",
            "status": report.verdict.value,
            "summary": report.summary(),
            "duration_ms": report.duration_ms,
            "findings": len(report.findings),
            "details": json.dumps(
                {
                    "enabled": sorted(report.enabled),
                    "working_tree": report.working_tree,
                    "settings": asdict(report.settings),
                    "problems": list(report.problems),
                    "integrity": [integrity_flag(flag) for flag in report.integrity],
                    # How the tests were chosen, without the list of them (in the JSON output).
                    "test_selection": (
                        {k: v for k, v in report.test_selection.items() if k != "tests"}
                        if report.test_selection
                        else None
                    ),
                }
            ),
        }
    ]
    for check in report.checks:
        rows.append(
            {
                **key,
                "scope": "check",
                "check_name": check.name,
                "status": check.status.value,
                "summary": check.summary,
                "reason": check.reason,
                "duration_ms": check.duration_ms,
                "findings": len(check.findings),
                "details": json.dumps(
                    {
                        "enabled": check.name in report.enabled,
                        "measures": dict(check.measures),
                        "new_findings": [asdict(f) for f in check.findings],
                    }
                ),
            }
        )
    rows.extend(_file_rows(report, key))
    rows.extend(_function_rows(report, key))
    return rows


def _file_rows(report: GateReport, key: Mapping[str, Any]) -> list[dict[str, Any]]:
    by_path: dict[str, dict[str, Any]] = {}
    for changed in report.files:
        by_path[changed.path] = {
            **key,
            "scope": "file",
            "path": changed.path,
            "status": changed.status.value,
            "details": {"changed_lines": len(changed.lines)},
        }
    for check in report.checks:
        for path, figures in check.files.items():
            row = by_path.setdefault(path, {**key, "scope": "file", "path": path, "details": {}})
            for name, value in figures.items():
                column = _FILE_COLUMNS.get(name)
                if column and row.get(column) is None:
                    row[column] = value
                else:
                    row["details"][f"{check.name}.{name}"] = value
    return [{**row, "details": json.dumps(row["details"])} for row in by_path.values()]


def _function_rows(report: GateReport, key: Mapping[str, Any]) -> list[dict[str, Any]]:
    by_function: dict[tuple[str, str], dict[str, Any]] = {}
    for check in report.checks:
        for m in check.functions:
            row = by_function.setdefault(
                (m.path, m.qualname),
                {
                    **key,
                    "scope": "function",
                    "path": m.path,
                    "qualname": m.qualname,
                    "line": m.line,
                    "details": {},
                },
            )
            if m.untested is not None and "untested" not in row["details"]:
                row["details"]["untested"] = m.untested
            figures = {
                "complexity_before": m.complexity_before,
                "complexity_after": m.complexity_after,
                "coverage": m.coverage,
                "mutants": m.mutants or None,
                "mutants_killed": m.mutants_killed if m.mutants else None,
                "mutation_score": m.mutation_score,
            }
            for column, value in figures.items():
                if value is not None and row.get(column) is None:
                    row[column] = value
    findings_of: dict[tuple[str, str], int] = {}
    for finding in report.findings:
        if finding.symbol:
            place = (finding.path, finding.symbol)
            findings_of[place] = findings_of.get(place, 0) + 1
    for place, row in by_function.items():
        row["findings"] = findings_of.get(place, 0)
    return [{**row, "details": json.dumps(row["details"])} for row in by_function.values()]


__all__ = ["SWITCHED_OFF", "GateReport", "Verdict", "quality_rows"]
