"""``ark check`` results as text, JSON and SARIF 2.1.0 (which ``ark gate`` shares).

Pure functions from results to strings, so the formats are tested without a
terminal. Lines and columns are 1-based in every format, as editors and
GitHub code scanning count them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ark_lsp import __version__
from ark_lsp.rules import DOCS_URL, Rule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


@dataclass(frozen=True)
class CheckResult:
    """One finding, as the user will read it."""

    path: str
    """As given on the command line or relative to the current folder."""
    line: int
    column: int
    end_line: int
    end_column: int
    rule: str
    severity: str
    message: str


def summary(results: Sequence[CheckResult], files_checked: int) -> dict[str, Any]:
    """Counts by severity and by rule."""
    severities = Counter(r.severity for r in results)
    return {
        "files": files_checked,
        "files_with_results": len({r.path for r in results}),
        "errors": severities["error"],
        "warnings": severities["warning"],
        "infos": severities["info"],
        "by_rule": dict(sorted(Counter(r.rule for r in results).items())),
    }


def as_text(results: Sequence[CheckResult], files_checked: int) -> str:
    """``path:line:col: RULE [severity] message`` lines and a summary line."""
    lines = [f"{r.path}:{r.line}:{r.column}: {r.rule} [{r.severity}] {r.message}" for r in results]
    counts = summary(results, files_checked)
    if results:
        lines.append(
            f"Found {_count(len(results), 'result')} ({_count(counts['errors'], 'error')}, "
            f"{_count(counts['warnings'], 'warning')}, {counts['infos']} info) "
            f"in {counts['files_with_results']} of {_count(files_checked, 'file')}."
        )
    else:
        lines.append(f"All checks passed ({_count(files_checked, 'file')}).")
    return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' * (number != 1)}"


@dataclass(frozen=True)
class SkippedPath:
    """A file the check found and did not read, as the user will read it."""

    path: str
    """As given on the command line or relative to the current folder."""
    reason: str


def as_json(
    results: Sequence[CheckResult], files_checked: int, skipped: Sequence[SkippedPath] = ()
) -> str:
    """The JSON contract of DESIGN.md: ``results`` and ``summary``, and the files ``skipped``."""
    return json.dumps(
        {
            "results": [
                {
                    "path": r.path,
                    "line": r.line,
                    "column": r.column,
                    "end_line": r.end_line,
                    "end_column": r.end_column,
                    "rule": r.rule,
                    "severity": r.severity,
                    "message": r.message,
                }
                for r in results
            ],
            "summary": summary(results, files_checked),
            "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
        },
        indent=2,
    )


def _sarif_rule(rule_id: str, rules: Sequence[Rule]) -> dict[str, Any]:
    variants = [r for r in rules if r.id == rule_id]
    if not variants:
        # Only ARK's own rules have a page; a gate check's code (complexity...) has none.
        known = rule_id.startswith("ARK")
        return {"id": rule_id, **({"helpUri": DOCS_URL.format(rule=rule_id)} if known else {})}
    first = variants[0]
    fixes = "\n".join(dict.fromkeys(r.fix for r in variants if r.fix))
    return {
        "id": rule_id,
        "name": first.name,
        "shortDescription": {"text": first.message},
        "fullDescription": {"text": first.description},
        "help": {"text": fixes or first.description},
        "helpUri": DOCS_URL.format(rule=rule_id),
        "defaultConfiguration": {"level": _SARIF_LEVEL[first.severity.value]},
        "properties": {"tags": ["security"] if first.severity.value == "error" else []},
    }


@dataclass(frozen=True)
class SarifNotification:
    """Something the run has to say besides its results: a file skipped, a check not run."""

    level: str
    """``error``, ``warning`` or ``note``."""
    text: str
    path: str | None = None
    """The file it is about, as the user will read it; None when it is about no file."""


def _notification(note: SarifNotification) -> dict[str, Any]:
    shown: dict[str, Any] = {"level": note.level, "message": {"text": note.text}}
    if note.path is not None:
        location = {"artifactLocation": {"uri": note.path.replace("\\", "/")}}
        shown["locations"] = [{"physicalLocation": location}]
    return shown


def _sarif_result(result: CheckResult, index: Mapping[str, int]) -> dict[str, Any]:
    region = {"startLine": result.line, "startColumn": result.column}
    if result.end_line >= result.line:
        region |= {"endLine": result.end_line, "endColumn": result.end_column}
    return {
        "ruleId": result.rule,
        "ruleIndex": index[result.rule],
        "level": _SARIF_LEVEL.get(result.severity, "warning"),
        "message": {"text": result.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": result.path.replace("\\", "/")},
                    "region": region,
                }
            }
        ],
    }


def sarif_log(
    results: Sequence[CheckResult],
    rules: Sequence[Rule],
    *,
    notifications: Sequence[SarifNotification] = (),
    execution_successful: bool = True,
    exit_code: int | None = None,
    properties: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A SARIF 2.1.0 log of one run of ARK, as data.

    ``notifications`` are what the run says besides its results;
    ``execution_successful``, ``exit_code`` and ``properties`` describe the
    run's invocation (the gate puts its verdict there).
    """
    rule_ids = sorted({r.id for r in rules} | {r.rule for r in results})
    index = {rule_id: number for number, rule_id in enumerate(rule_ids)}
    invocation: dict[str, Any] = {
        "executionSuccessful": execution_successful,
        "toolExecutionNotifications": [_notification(note) for note in notifications],
    }
    if exit_code is not None:
        invocation["exitCode"] = exit_code
    if properties:
        invocation["properties"] = dict(properties)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ark",
                        "version": __version__,
                        "informationUri": DOCS_URL.format(rule=""),
                        "rules": [_sarif_rule(rule_id, rules) for rule_id in rule_ids],
                    }
                },
                "invocations": [invocation],
                "columnKind": "unicodeCodePoints",
                "results": [_sarif_result(r, index) for r in results],
            }
        ],
    }


def as_sarif(
    results: Sequence[CheckResult], rules: Sequence[Rule], skipped: Sequence[SkippedPath] = ()
) -> str:
    """A SARIF 2.1.0 log that GitHub code scanning accepts; skipped files are notifications."""
    notes = [SarifNotification("warning", f"skipped: {s.reason}", s.path) for s in skipped]
    return json.dumps(sarif_log(results, rules, notifications=notes), indent=2)
