"""A changed Python file of a checkout, read bounded and analysed by the engine.

The findings and complexity checks both ask what the analysis says of a
file in the base and in the head; they ask here, with the same settings for
both sides, so that any difference comes from the code alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ark_lsp.analysis import analyze
from ark_lsp.config import Settings
from ark_lsp.files import read_contained
from ark_lsp.models import ModuleReport, Symbol, SymbolKind


@dataclass(frozen=True)
class CheckedFile:
    """One file of one checkout, as the engine saw it, or why it could not be read."""

    path: str
    report: ModuleReport | None
    lines: tuple[str, ...] = ()
    """The text's lines, for the snippets that fingerprint a finding."""
    problem: str | None = None
    """Why the file could not be read (too large, a link out of the checkout...)."""

    def text(self, first: int, last: int) -> str:
        """Lines ``first`` to ``last`` (1-based, inclusive) of the file's text."""
        return "\n".join(self.lines[max(first - 1, 0) : max(last, first)])

    def enclosing(self, line: int) -> str:
        """The qualified name of the innermost function or class around ``line``, or ""."""
        if self.report is None:
            return ""
        around = [s for s in self.report.symbols if s.span.line <= line <= s.span.end_line]
        return max(around, key=lambda s: s.span.line).qualname if around else ""

    def functions(self) -> tuple[Symbol, ...]:
        """The file's functions and methods, in file order."""
        if self.report is None:
            return ()
        return tuple(s for s in self.report.symbols if s.kind is not SymbolKind.CLASS)


def check_file(checkout: Path, path: str, settings: Settings) -> CheckedFile:
    """Read ``path`` (relative, POSIX) of ``checkout`` within bounds and analyse it."""
    try:
        data = read_contained(checkout / path, [checkout], settings.max_file_size)
    except OSError as error:
        reason = error.strerror or str(error)
        return CheckedFile(path, None, problem=f"cannot be read: {reason}")
    report = analyze(data, path, settings)
    lines = tuple(data.decode("utf-8", "replace").splitlines())
    return CheckedFile(path, report, lines)
