"""No new ARK findings on changed lines: the change's findings, less the base's, by fingerprint.

Each changed Python file is analysed as it is in the base and in the head,
with the same settings (the base commit's). A finding's identity is its
fingerprint (:func:`~ark_lsp.gate.model.fingerprint`): the rule, the
qualified name of the function or class around it, and the text of the
offending lines with their spacing normalised; not its line number, so a
function moved 50 lines, or to another changed file, brings no "new"
finding. The base's findings are a multiset: a second copy of an existing
finding is new. What is new is reported only on the lines the change wrote.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ark_lsp.gate.context import CheckContext
from ark_lsp.gate.model import (
    CheckResult,
    CheckStatus,
    FileStatus,
    Finding,
    GateInput,
    fingerprint,
)
from ark_lsp.gate.sources import CheckedFile, check_file
from ark_lsp.models import Violation
from ark_lsp.rules import UNCHECKED_FILE

NAME = "findings"


@dataclass(frozen=True)
class _Seen:
    """A finding of one side, with what it needs to be compared and reported."""

    finding: Finding
    lines: range
    """The head lines it spans."""


def finding_of(file: CheckedFile, violation: Violation) -> Finding:
    """A violation of the engine as a gate finding, with its fingerprint."""
    span = violation.span
    symbol = file.enclosing(span.line)
    snippet = file.text(span.line, span.end_line)
    return Finding(
        check=NAME,
        path=file.path,
        line=span.line,
        code=violation.rule,
        message=violation.message,
        fingerprint=fingerprint(violation.rule, symbol, snippet),
        severity=violation.severity.value,
        symbol=symbol,
        column=span.column + 1,
        end_line=span.end_line,
        end_column=span.end_column + 1,
    )


def _findings(file: CheckedFile) -> list[_Seen]:
    if file.report is None:
        # A file the gate cannot read has not been checked: never a pass.
        unread = Finding(
            check=NAME,
            path=file.path,
            line=1,
            code=UNCHECKED_FILE,
            message=f"{file.path} {file.problem}; nothing in it was checked",
            fingerprint=fingerprint(UNCHECKED_FILE, file.path, file.problem or ""),
            column=1,
            end_line=1,
            end_column=1,
        )
        return [_Seen(unread, range(1, 2))]
    return [
        _Seen(finding_of(file, v), range(v.span.line, v.span.end_line + 1))
        for v in file.report.violations
    ]


def check_findings(gate_input: GateInput, context: CheckContext) -> CheckResult:
    """Fail on any ARK finding on a changed line that the base does not have."""
    settings = context.settings
    base: Counter[str] = Counter()
    head: list[_Seen] = []
    for changed in gate_input.files:
        if changed.binary:
            continue
        if changed.status is not FileStatus.ADDED and changed.base_path.endswith(".py"):
            before = check_file(gate_input.base_dir, changed.base_path, settings)
            base.update(seen.finding.fingerprint for seen in _findings(before))
        if changed.is_python and changed.status is not FileStatus.DELETED:
            after = check_file(gate_input.head_dir, changed.path, settings)
            head.extend(_findings(after))
        if context.cancel():
            break

    # Findings off the changed lines use up the base's copies first: what the
    # change wrote is what is judged new.
    unchanged_first = sorted(head, key=lambda seen: _on_changed_lines(seen, gate_input))
    new: list[Finding] = []
    left = base.copy()
    for seen in unchanged_first:
        mark = seen.finding.fingerprint
        if left[mark] > 0:
            left[mark] -= 1
        elif _on_changed_lines(seen, gate_input):
            new.append(seen.finding)
    new.sort(key=lambda f: (f.path, f.line or 0, f.column or 0, f.code))

    per_file = Counter(f.path for f in new)
    files = {path: {"findings": float(per_file[path])} for path in _python_paths(gate_input)}
    measures = {
        "new_findings": float(len(new)),
        "base_findings": float(sum(base.values())),
        "head_findings": float(len(head)),
    }
    if new:
        status, summary = CheckStatus.FAILED, f"{NAME}: {_count(len(new))} on changed lines"
    else:
        status, summary = CheckStatus.PASSED, f"{NAME}: no new findings on changed lines"
    return CheckResult(NAME, status, summary, findings=tuple(new), measures=measures, files=files)


def _on_changed_lines(seen: _Seen, gate_input: GateInput) -> bool:
    changed = gate_input.changed_lines(seen.finding.path)
    return any(line in changed for line in seen.lines)


def _python_paths(gate_input: GateInput) -> list[str]:
    return [f.path for f in gate_input.python_files]


def _count(number: int) -> str:
    return f"{number} new finding{'s' * (number != 1)}"


__all__ = ["NAME", "check_findings", "finding_of"]
