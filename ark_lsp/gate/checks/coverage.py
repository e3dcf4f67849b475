"""The gate's ``coverage`` check: the tests run the lines and branches the change wrote.

The change's suite runs in the sandbox under coverage.py with branch
coverage (see :mod:`ark_lsp.gate.suite_runs`), measuring the changed code
files (not the tests). Of each file's changed lines, only the executable
ones count: comments, blank lines and docstrings are no statements to
coverage.py. A changed branch is one leaving a changed line (an ``if``'s
two ways, a loop's entry and exit). Both shares must reach
``[tool.ark.gate] coverage`` (0.8 by default); a change with no branches
is judged on its lines. Each line never run and each branch never taken is
a finding, so a person sees what to test; the result has the figures per
file and per touched function.

Not run, never passed: no coverage.py in the sandbox (Debian's
``python3-coverage`` is in ARK's docker image; the local backend needs it
in the workspace's environment), a suite that could not run, a report that
cannot be read. What coverage.py reports is the sandbox's word, read as
data with bounds (:mod:`ark_lsp.gate.coverage_report`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass

from ark_lsp.gate.coverage_report import Branch, FileCoverage
from ark_lsp.gate.functions import FunctionSpan, function_spans, innermost
from ark_lsp.gate.model import (
    CheckResult,
    CheckStatus,
    Finding,
    FunctionMetrics,
    GateInput,
    fingerprint,
    not_run,
)
from ark_lsp.gate.suite_runs import SuiteRuns, unfinished

NAME = "coverage"


@dataclass(frozen=True)
class _FileShare:
    """What the tests ran of one file's changed lines and branches."""

    path: str
    lines: frozenset[int]
    covered: frozenset[int]
    branches: frozenset[Branch]
    taken: frozenset[Branch]


def _share(done: int, total: int) -> float:
    return done / total if total else 1.0


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _ranges(lines: Iterable[int]) -> str:
    """``7-8, 12``: sorted lines with runs joined."""
    runs: list[list[int]] = []
    for line in sorted(set(lines)):  # two branches of one line name it once
        if runs and line == runs[-1][1] + 1:
            runs[-1][1] = line
        else:
            runs.append([line, line])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def _spans(source: bytes | None) -> tuple[FunctionSpan, ...]:
    import ast

    try:
        return function_spans(ast.parse(source or b""))
    except (SyntaxError, ValueError):
        return ()


def _line_text(source: bytes | None, line: int) -> str:
    lines = (source or b"").splitlines()
    if 0 < line <= len(lines):
        return lines[line - 1].decode("utf-8", errors="replace").strip()
    return ""


def _target(branch: Branch) -> str:
    return f"line {branch[1]}" if branch[1] > 0 else "the function's exit"


def _findings(
    share: _FileShare, source: bytes | None, spans: tuple[FunctionSpan, ...]
) -> list[Finding]:
    found = []
    for line in sorted(share.lines - share.covered):
        text = _line_text(source, line)
        span = innermost(spans, line)
        symbol = span.qualname if span else ""
        found.append(
            Finding(
                check=NAME,
                path=share.path,
                line=line,
                code="line-not-run",
                message=f"changed line {line} never ran in the tests: {text}",
                fingerprint=fingerprint(NAME, "line-not-run", symbol, text),
                symbol=symbol,
            )
        )
    for branch in sorted(share.branches - share.taken):
        text = _line_text(source, branch[0])
        span = innermost(spans, branch[0])
        symbol = span.qualname if span else ""
        found.append(
            Finding(
                check=NAME,
                path=share.path,
                line=branch[0],
                code="branch-not-taken",
                message=f"the branch from line {branch[0]} to {_target(branch)} was never taken "
                f"in the tests: {text}",
                fingerprint=fingerprint(NAME, "branch-not-taken", symbol, text, str(branch[1] > 0)),
                symbol=symbol,
            )
        )
    return found


def _functions(share: _FileShare, spans: tuple[FunctionSpan, ...]) -> list[FunctionMetrics]:
    found = []
    for span in spans:
        lines = {line for line in share.lines if innermost(spans, line) == span}
        if lines:
            covered = len(lines & share.covered)
            body = lines - {span.line}  # its def line runs when the module is imported
            found.append(
                FunctionMetrics(
                    share.path,
                    span.qualname,
                    span.line,
                    coverage=covered / len(lines),
                    untested=not body & share.covered if body else None,
                )
            )
    return found


def _measure(path: str, changed: frozenset[int], measured: FileCoverage) -> _FileShare:
    lines = changed & measured.statements
    branches = frozenset(b for b in measured.branches if b[0] in changed)
    return _FileShare(
        path, lines, lines & measured.executed, branches, branches & measured.executed_branches
    )


def check_coverage(gate: GateInput, runs: SuiteRuns) -> CheckResult:
    """Whether the tests run enough of the change's lines and branches (see the module)."""
    started = time.perf_counter()
    targets = {path: gate.changed_lines(path) for path in runs.measured}
    targets = {path: lines for path, lines in targets.items() if lines}
    if not targets:
        summary = f"{NAME}: the change wrote no code lines to cover"
        return _timed(CheckResult(NAME, CheckStatus.PASSED, summary), started)
    head = runs.head_suite()
    if head.problem is not None:
        return _timed(not_run(NAME, f"the tests could not run: {head.problem}"), started)
    report = head.coverage
    if report is None:
        stopped = unfinished("the change's suite", head, runs.limits)
        reason = stopped or head.coverage_problem or "no coverage report"
        return _timed(not_run(NAME, reason), started)
    unreported = sorted(path for path in targets if path not in report.files)
    if unreported:
        reason = f"coverage.py reported nothing of {', '.join(unreported)}"
        return _timed(not_run(NAME, reason), started)

    head_files = runs.head_files()
    sources = head_files if isinstance(head_files, dict) else {}
    threshold = gate.settings.coverage
    shares = [_measure(path, lines, report.files[path]) for path, lines in sorted(targets.items())]
    findings: list[Finding] = []
    functions: list[FunctionMetrics] = []
    files: dict[str, dict[str, float]] = {}
    for share in shares:
        source = sources.get(share.path)
        spans = _spans(source)
        findings += _findings(share, source, spans)
        functions += _functions(share, spans)
        files[share.path] = {
            "coverage": _share(len(share.covered), len(share.lines)),
            "lines": float(len(share.lines)),
            "covered_lines": float(len(share.covered)),
            "branch_coverage": _share(len(share.taken), len(share.branches)),
            "branches": float(len(share.branches)),
            "taken_branches": float(len(share.taken)),
        }
    lines = sum(len(s.lines) for s in shares)
    covered = sum(len(s.covered) for s in shares)
    branches = sum(len(s.branches) for s in shares)
    taken = sum(len(s.taken) for s in shares)
    line_share, branch_share = _share(covered, lines), _share(taken, branches)
    measures = {
        "coverage": line_share,
        "lines": float(lines),
        "covered_lines": float(covered),
        "branch_coverage": branch_share,
        "branches": float(branches),
        "taken_branches": float(taken),
    }
    passed = line_share >= threshold and branch_share >= threshold
    summary = (
        f"{NAME}: {_percent(line_share)} of {lines} changed line(s)"
        + (f" and {_percent(branch_share)} of {branches} branch(es)" if branches else "")
        + f" run by the tests ({_percent(threshold)} needed)"
    )
    missed = [s for s in shares if s.lines - s.covered]
    if missed:
        summary += "; never run: " + "; ".join(
            f"{s.path} line(s) {_ranges(s.lines - s.covered)}" for s in missed
        )
    not_taken = [s for s in shares if s.branches - s.taken]
    if not_taken:
        summary += "; branches never taken at: " + "; ".join(
            f"{s.path} line(s) {_ranges(b[0] for b in s.branches - s.taken)}" for s in not_taken
        )
    return _timed(
        CheckResult(
            NAME,
            CheckStatus.PASSED if passed else CheckStatus.FAILED,
            summary,
            findings=tuple(findings),
            measures=measures,
            files=files,
            functions=tuple(functions),
        ),
        started,
    )


def _timed(result: CheckResult, started: float) -> CheckResult:
    return dataclasses.replace(result, duration_ms=(time.perf_counter() - started) * 1000)


__all__ = ["NAME", "check_coverage"]
