"""Checking generated code with the analysis engine before anyone is offered it.

Generated text is judged in the file it lands in: the file must still
parse, and it must have no violation that it did not have before (a file's
own old problems are not the generator's to refuse over). The tier of the
target path applies, so a stub written into ``ark_generated/`` may not
import what the sandbox tier forbids.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ark_lsp.analysis import analyze
from ark_lsp.config import Settings
from ark_lsp.models import Violation


@dataclass(frozen=True)
class Validation:
    """What the analysis engine said about a generated text."""

    ok: bool
    problems: tuple[str, ...] = ()
    """One line per violation the generated text brought, ``ARK001 line 3: ...``."""

    def as_dict(self) -> dict[str, object]:
        """Plain data for the records and JSON output."""
        return {"ok": self.ok, "problems": list(self.problems)}

    @property
    def summary(self) -> str:
        """One line for a message to the user."""
        if self.ok:
            return "valid"
        return "; ".join(self.problems[:3]) + (
            f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        )


def _key(violation: Violation) -> tuple[str, str]:
    return violation.rule, violation.message


def validate(
    new_text: str, path: str, settings: Settings, old_text: str | None = None
) -> Validation:
    """Judge ``new_text`` (the whole file after generation) against ``old_text`` (before it)."""
    report = analyze(new_text, path, settings)
    if not report.parsed:
        (fault,) = report.violations
        return Validation(
            ok=False, problems=(f"{fault.rule} line {fault.span.line}: {fault.message}",)
        )
    before: Counter[tuple[str, str]] = Counter()
    if old_text is not None:
        before.update(_key(v) for v in analyze(old_text, path, settings).violations)
    problems: list[str] = []
    for violation in report.violations:
        key = _key(violation)
        if before[key] > 0:
            before[key] -= 1
            continue
        problems.append(f"{violation.rule} line {violation.span.line}: {violation.message}")
    return Validation(ok=not problems, problems=tuple(problems))


__all__ = ["Validation", "validate"]
