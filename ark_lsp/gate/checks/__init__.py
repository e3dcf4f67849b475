"""The gate's checks by name: what ``[tool.ark.gate] checks`` can switch on.

Every name of :data:`~ark_lsp.config.values.GATE_CHECKS` has an entry. A
check is a function ``(GateInput, CheckContext) -> CheckResult``
(:data:`Check`); those this ARK does not have yet are answered "not run:
not available in this ARK", which fails the gate: a check that did not
judge has never passed. :func:`run_check` is how the workflow calls one:
timed, and a check that raises is "not run", saying why, never a crash of
the gate.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType

from ark_lsp.config.values import GATE_CHECKS
from ark_lsp.gate.checks.complexity import check_complexity
from ark_lsp.gate.checks.coverage import check_coverage
from ark_lsp.gate.checks.findings import check_findings
from ark_lsp.gate.checks.lint import check_lint
from ark_lsp.gate.checks.mutation import check_mutation
from ark_lsp.gate.checks.tests import check_tests
from ark_lsp.gate.checks.types import check_types
from ark_lsp.gate.context import CheckContext
from ark_lsp.gate.model import CheckResult, GateInput, not_run
from ark_lsp.gate.suite_runs import SuiteRuns

logger = logging.getLogger(__name__)

Check = Callable[[GateInput, CheckContext], CheckResult]
"""One check of the gate: the change and what it may use, in; its judgement, out."""

NOT_AVAILABLE = "not available in this ARK"


def _not_available(name: str) -> Check:
    def check(gate_input: GateInput, context: CheckContext) -> CheckResult:
        return not_run(name, NOT_AVAILABLE)

    return check


def _in_sandbox(name: str, check: Callable[[GateInput, SuiteRuns], CheckResult]) -> Check:
    """A check that runs the project's tests, on the runs the gate run shares."""

    def run(gate_input: GateInput, context: CheckContext) -> CheckResult:
        runs = context.suite_runs(gate_input)
        if runs is None:
            return not_run(name, context.sandbox_refused)
        return check(gate_input, runs)

    return run


_WRITTEN: dict[str, Check] = {
    "findings": check_findings,
    "types": lambda gate_input, _: check_types(gate_input),
    "lint": lambda gate_input, _: check_lint(gate_input),
    "coverage": _in_sandbox("coverage", check_coverage),
    "mutation": _in_sandbox("mutation", check_mutation),
    "complexity": check_complexity,
    "tests": _in_sandbox("tests", check_tests),
}
"""The checks this ARK has; one that needs nothing of the context joins as
``lambda gate_input, _: check(gate_input)``."""

CHECKS: Mapping[str, Check] = MappingProxyType(
    {name: _WRITTEN.get(name) or _not_available(name) for name in GATE_CHECKS}
)
"""Every check by name, in the order the gate runs and reports them."""


def available(name: str) -> bool:
    """Whether this ARK can run the check ``name``."""
    return name in _WRITTEN


def run_check(name: str, gate_input: GateInput, context: CheckContext) -> CheckResult:
    """Run the check ``name`` and time it; a check that raises is not run, and says why."""
    check = CHECKS.get(name) or _not_available(name)
    started = time.perf_counter()
    try:
        result = check(gate_input, context)
    except Exception as error:  # one check's fault must not cost the others their say
        logger.exception("the gate's %s check failed", name)
        result = not_run(name, f"it failed: {type(error).__name__}: {error}")
    elapsed = (time.perf_counter() - started) * 1000
    return dataclasses.replace(result, duration_ms=elapsed)


__all__ = ["CHECKS", "NOT_AVAILABLE", "Check", "available", "run_check"]
