"""What a check of the gate may use beyond its :class:`~ark_lsp.gate.model.GateInput`.

The application layer makes one :class:`CheckContext` per gate run and
passes it to every check, so that no check reaches for a project, a store
or a front end: ARK's settings as the base commit has them (the rules and
tiers the findings are judged by), a way to the sandbox for the checks that
run the project's tests, and the run's cancel and progress callbacks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ark_lsp.config import Settings
from ark_lsp.gate.suite_runs import SuiteRuns
from ark_lsp.models import CancelCheck

if TYPE_CHECKING:
    from ark_lsp.gate.model import GateInput
    from ark_lsp.sandbox import SandboxRunner

SandboxFactory = Callable[[Path], "SandboxRunner"]
"""A sandbox runner over one checkout (the base's or the head's), recording every run.

The gate's workflow owns the runners it hands out and closes them when the run ends.
"""


def _never() -> bool:
    return False


def _quiet(message: str) -> None:
    del message


@dataclass(frozen=True)
class CheckContext:
    """What every check is given with the change: settings, the sandbox, cancel, progress."""

    settings: Settings = field(default_factory=Settings)
    """ARK's settings in force for the judgement, read from the base commit (rules, tiers)."""
    sandbox: SandboxFactory | None = None
    """Runners for a checkout; None where nothing of the project may run."""
    sandbox_refused: str = "no sandbox was given to the gate"
    """Why :attr:`sandbox` is None, in words for a "not run" reason."""
    cancel: CancelCheck = _never
    """True once the run should stop."""
    progress: Callable[[str], None] = _quiet
    """Told, in a few words, what a long check is doing."""
    _suite_runs: list[SuiteRuns] = field(default_factory=list, repr=False, compare=False)
    _suite_runs_lock: threading.Lock = field(
        default_factory=threading.Lock, repr=False, compare=False
    )

    def suite_runs(self, gate_input: GateInput) -> SuiteRuns | None:
        """The project's test runs for this gate run; None where nothing of the project may run.

        Made on first use and shared by the checks that run the tests (the
        suite, coverage, mutants), so the change's suite runs once.
        """
        if self.sandbox is None:
            return None
        with self._suite_runs_lock:
            if not self._suite_runs:
                runner = self.sandbox(gate_input.head_dir)
                self._suite_runs.append(SuiteRuns(runner, gate_input, cancel=self.cancel))
            return self._suite_runs[0]

    def test_selection(self) -> dict[str, object] | None:
        """Which tests the run gave the change, when a check ran them; None when none did."""
        with self._suite_runs_lock:
            made = self._suite_runs[0] if self._suite_runs else None
        return made.selection_used() if made is not None else None
