"""The registry of checks: each name the settings accept; no check that did not judge passes."""

from __future__ import annotations

from pathlib import Path

from ark_lsp.config.values import GATE_CHECKS
from ark_lsp.gate.checks import CHECKS, NOT_AVAILABLE, available, run_check
from ark_lsp.gate.context import CheckContext
from ark_lsp.gate.model import CheckStatus, GateInput


def test_every_check_the_settings_name_has_an_entry_in_their_order() -> None:
    assert tuple(CHECKS) == GATE_CHECKS
    assert all(available(name) for name in (*SANDBOX_CHECKS, "findings", "complexity"))


SANDBOX_CHECKS = ("coverage", "mutation", "tests")


def test_a_check_that_cannot_judge_is_not_run_never_passed(tmp_path: Path) -> None:
    nothing = GateInput(tmp_path, tmp_path, ())
    refused = CheckContext(sandbox_refused="the workspace is not trusted")
    for name in GATE_CHECKS:
        result = run_check(name, nothing, refused)
        if name in SANDBOX_CHECKS:  # the project's tests need a sandbox, and none was given
            assert (result.status, result.reason) == (
                CheckStatus.NOT_RUN,
                "the workspace is not trusted",
            )
        elif available(name):
            assert result.status is CheckStatus.PASSED, result  # nothing changed
        else:
            assert (result.status, result.reason) == (CheckStatus.NOT_RUN, NOT_AVAILABLE)
            assert not result.passed
        assert result.duration_ms >= 0
    assert run_check("no such check", nothing, CheckContext()).status is CheckStatus.NOT_RUN
