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
from ark_lsp.gate.checks.findings import check_findings
from ark_lsp.gate.context import CheckContext
from ark_lsp.gate.model import CheckResult, GateInput, not_run

logger = logging.getLogger(__name__)

Check = Callable[[GateInput, CheckContext], CheckResult]
"""One check of the gate: the change and what it may use, in; its judgement, out."""

NOT_AVAILABLE = "not available in this ARK"


def _not_available(name: str) -> Check:
    def check(gate_input: GateInput, context: CheckContext) -> CheckResult:
        return not_run(name, NOT_AVAILABLE)

    return check


_WRITTEN: dict[str, Check] = {
    "findings": check_findings,
    "complexity": check_complexity,
}
"""The checks this ARK has. The type, lint, tests, coverage and mutation checks join here;
one that needs nothing of the context joins as ``lambda gate_input, _: check(gate_input)``."""

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
