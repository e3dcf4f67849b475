"""Quick fixes, suppressions and fix-all, from the engine's fixes for the current text.

Every edit offered is checked first: a fix that would leave the file
unparsable is not offered.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from ark_lsp.analysis import fix_all, fix_keeps_code_valid
from ark_lsp.analysis.fixes import suppression_fix
from ark_lsp.models import Violation
from ark_lsp.server.code_actions import wanted
from ark_lsp.server.convert import (
    lsp_range,
    whole_document_edit,
    workspace_edit,
)
from ark_lsp.server.core import Feature
from ark_lsp.server.diagnostic_sources import ANALYSIS_SOURCE
from ark_lsp.server.documents import Snapshot

FIX_ALL = "source.fixAll.ark"


def _violation_of(snapshot: Snapshot, diagnostic: types.Diagnostic) -> Violation | None:
    """The violation a diagnostic of this text was made from; None if it is stale.

    Matched by rule, line and message: some clients (Neovim before 0.10)
    send ranges back in other units than they received them, so a range
    alone cannot be trusted. The range only breaks ties on one line.
    """
    line = diagnostic.range.start.line + 1
    candidates = [
        violation
        for violation in snapshot.report.violations
        if violation.rule == diagnostic.code
        and violation.span.line == line
        and violation.message == diagnostic.message
    ]
    for violation in candidates:
        if lsp_range(snapshot.document, violation.span) == diagnostic.range:
            return violation
    return candidates[0] if candidates else None


def quick_fixes(snapshot: Snapshot, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    """The engine's fix, then a suppression comment, for each of ARK's diagnostics."""
    actions = []
    text = snapshot.document.source
    lines = snapshot.document.lines
    for diagnostic in diagnostics:
        if diagnostic.source != ANALYSIS_SOURCE:
            continue
        violation = _violation_of(snapshot, diagnostic)
        if violation is None:
            continue
        line = lines[violation.span.line - 1] if violation.span.line <= len(lines) else ""
        candidates = [(violation.fix, True), (suppression_fix(violation, line), False)]
        for fix, is_engine_fix in candidates:
            if fix is None or not fix_keeps_code_valid(text, fix):
                continue
            actions.append(
                types.CodeAction(
                    title=fix.title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    is_preferred=is_engine_fix and fix.safe,
                    edit=workspace_edit(snapshot.document, fix),
                )
            )
    return actions


def fix_all_action(snapshot: Snapshot) -> types.CodeAction | None:
    """Every safe fix in the document at once, if there is any."""
    text = snapshot.document.source
    fixed, applied = fix_all(text, snapshot.relative, snapshot.settings)
    if not applied:
        return None
    return types.CodeAction(
        title=f"Fix all safely fixable ARK problems ({applied})",
        kind=FIX_ALL,
        edit=whole_document_edit(snapshot.document, fixed),
    )


class QuickFixes(Feature):
    """Offers the engine's fixes of ARK's own diagnostics as code actions."""

    kinds: Sequence[str] = (types.CodeActionKind.QuickFix, FIX_ALL)

    def register(self) -> None:
        """Offer the fixes through the server's code actions."""
        self.server.code_actions.add(self)

    async def actions(
        self, snapshot: Snapshot, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        """The quick fixes of the diagnostics the client sent, then the fix-all."""
        actions = []
        if wanted(params, types.CodeActionKind.QuickFix):
            actions += quick_fixes(snapshot, list(params.context.diagnostics))
        if wanted(params, FIX_ALL):
            everything = fix_all_action(snapshot)
            if everything is not None:
                actions.append(everything)
        return actions

    async def resolve(self, action: types.CodeAction) -> types.CodeAction | None:
        """Every fix comes with its edit: nothing to resolve."""
        return None
