"""No touched function more complex than before, beyond ``complexity_slack``.

A function is touched when the change wrote a line of it (its definition
line to its last line, in the head), or removed it. Its cyclomatic
complexity is the engine's (the same figure as ``ark symbols`` and radon),
before in the base and after in the head; functions are paired by qualified
name (in order, where a module defines one name twice). A function the
change adds has no "before" and cannot have grown; one it removes has no
"after".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from ark_lsp.gate.context import CheckContext
from ark_lsp.gate.model import (
    ChangedFile,
    CheckResult,
    CheckStatus,
    FileStatus,
    Finding,
    FunctionMetrics,
    GateInput,
    fingerprint,
)
from ark_lsp.gate.sources import CheckedFile, check_file
from ark_lsp.models import Symbol

NAME = "complexity"
CODE = "complexity"
"""The code of a finding that reports a function grown too complex."""


def _by_qualname(symbols: Iterable[Symbol]) -> dict[str, list[Symbol]]:
    grouped: dict[str, list[Symbol]] = defaultdict(list)
    for symbol in symbols:
        grouped[symbol.qualname].append(symbol)
    return grouped


def _touched(symbol: Symbol, lines: frozenset[int]) -> bool:
    return any(symbol.span.line <= line <= symbol.span.end_line for line in lines)


def measure_file(
    changed: ChangedFile, before: CheckedFile | None, after: CheckedFile | None
) -> list[FunctionMetrics]:
    """The touched functions of one changed file, with their complexity before and after."""
    base = _by_qualname(before.functions() if before else ())
    head = _by_qualname(after.functions() if after else ())
    measured: list[FunctionMetrics] = []
    for qualname, versions in head.items():
        for index, symbol in enumerate(versions):
            if not _touched(symbol, changed.lines):
                continue
            olds = base.get(qualname, [])
            old = olds[index] if index < len(olds) else None
            measured.append(
                FunctionMetrics(
                    path=changed.path,
                    qualname=qualname,
                    line=symbol.name_span.line,
                    complexity_before=old.complexity if old else None,
                    complexity_after=symbol.complexity,
                )
            )
    for qualname, versions in base.items():
        for symbol in versions[len(head.get(qualname, [])) :]:
            measured.append(
                FunctionMetrics(
                    path=changed.path,
                    qualname=qualname,
                    line=symbol.name_span.line,
                    complexity_before=symbol.complexity,
                )
            )
    return measured


def _grown(metrics: FunctionMetrics) -> int:
    if metrics.complexity_before is None or metrics.complexity_after is None:
        return 0
    return metrics.complexity_after - metrics.complexity_before


def _finding(metrics: FunctionMetrics, slack: int) -> Finding:
    message = (
        f"{metrics.qualname}: cyclomatic complexity {metrics.complexity_before} -> "
        f"{metrics.complexity_after}, more than the slack of {slack} allows"
    )
    return Finding(
        check=NAME,
        path=metrics.path,
        line=metrics.line,
        code=CODE,
        message=message,
        fingerprint=fingerprint(CODE, metrics.qualname, str(metrics.complexity_after)),
        severity="error",
        symbol=metrics.qualname,
        column=1,
    )


def check_complexity(gate_input: GateInput, context: CheckContext) -> CheckResult:
    """Fail when a touched function's complexity grew by more than ``complexity_slack``."""
    slack = gate_input.settings.complexity_slack
    settings = context.settings
    functions: list[FunctionMetrics] = []
    for changed in gate_input.files:
        if changed.binary:
            continue
        before = after = None
        if changed.status is not FileStatus.ADDED and changed.base_path.endswith(".py"):
            before = check_file(gate_input.base_dir, changed.base_path, settings)
        if changed.is_python and changed.status is not FileStatus.DELETED:
            after = check_file(gate_input.head_dir, changed.path, settings)
        if before is not None or after is not None:
            functions.extend(measure_file(changed, before, after))
        if context.cancel():
            break
    too_complex = [m for m in functions if _grown(m) > slack]
    measures = {
        "functions": float(len(functions)),
        "largest_increase": float(max((_grown(m) for m in functions), default=0)),
    }
    return CheckResult(
        NAME,
        CheckStatus.FAILED if too_complex else CheckStatus.PASSED,
        _summary(functions, too_complex, slack),
        findings=tuple(_finding(m, slack) for m in too_complex),
        measures=measures,
        functions=tuple(functions),
    )


def _summary(
    functions: Sequence[FunctionMetrics], too_complex: Sequence[FunctionMetrics], slack: int
) -> str:
    touched = f"{len(functions)} touched function{'s' * (len(functions) != 1)}"
    # Added and removed ones have nothing to grow from, or to: said, so that a change of
    # new tests alone does not read as 21 functions the change made more complex.
    new = sum(1 for m in functions if m.complexity_before is None)
    gone = sum(1 for m in functions if m.complexity_after is None)
    kinds = [f"{count} {word}" for count, word in ((new, "new"), (gone, "removed")) if count]
    if kinds:
        touched += " (all new)" if new == len(functions) else f" ({', '.join(kinds)})"
    if not too_complex:
        return f"{NAME}: {touched}, none more complex than the slack of {slack} allows"
    worst = max(too_complex, key=_grown)
    return (
        f"{NAME}: {len(too_complex)} of {touched} more complex than the slack of {slack} "
        f"allows ({worst.qualname} {worst.complexity_before} -> {worst.complexity_after})"
    )


__all__ = ["CODE", "NAME", "check_complexity", "measure_file"]
