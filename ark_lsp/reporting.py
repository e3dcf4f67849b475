"""``ark check`` results as text, JSON and SARIF 2.1.0.

Pure functions from results to strings, so the formats are tested without a
terminal. Lines and columns are 1-based in every format, as editors and
GitHub code scanning count them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
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
        return {"id": rule_id, "helpUri": DOCS_URL.format(rule=rule_id)}
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


def as_sarif(
    results: Sequence[CheckResult], rules: Sequence[Rule], skipped: Sequence[SkippedPath] = ()
) -> str:
    """A SARIF 2.1.0 log that GitHub code scanning accepts; skipped files are notifications."""
    rule_ids = sorted({r.id for r in rules} | {r.rule for r in results})
    index = {rule_id: number for number, rule_id in enumerate(rule_ids)}
    log = {
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
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {
                                "level": "warning",
                                "message": {"text": f"skipped: {s.reason}"},
                                "locations": [
                                    {
                                        "physicalLocation": {
                                            "artifactLocation": {"uri": s.path.replace("\\", "/")}
                                        }
                                    }
                                ],
                            }
                            for s in skipped
                        ],
                    }
                ],
                "columnKind": "unicodeCodePoints",
                "results": [
                    {
                        "ruleId": r.rule,
                        "ruleIndex": index[r.rule],
                        "level": _SARIF_LEVEL.get(r.severity, "warning"),
                        "message": {"text": r.message},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": r.path.replace("\\", "/")},
                                    "region": {
                                        "startLine": r.line,
                                        "startColumn": r.column,
                                        "endLine": r.end_line,
                                        "endColumn": r.end_column,
                                    },
                                }
                            }
                        ],
                    }
                    for r in results
                ],
            }
        ],
    }
    return json.dumps(log, indent=2)
