"""What a check of the gate may use beyond its :class:`~ark_lsp.gate.model.GateInput`.

The application layer makes one :class:`CheckContext` per gate run and
passes it to every check, so that no check reaches for a project, a store
or a front end: ARK's settings as the base commit has them (the rules and
tiers the findings are judged by), a way to the sandbox for the checks that
run the project's tests, and the run's cancel and progress callbacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ark_lsp.config import Settings
from ark_lsp.models import CancelCheck

if TYPE_CHECKING:
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
