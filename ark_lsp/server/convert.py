"""Every translation from engine models to lsprotocol types lives here."""

from __future__ import annotations

from typing import Any

from lsprotocol import converters, types
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import ServerTextPosition, ServerTextRange

from ark_lsp.analysis.fixes import suppression_fix
from ark_lsp.models import Fix, Severity, Span, Violation
from ark_lsp.rules import DOCS_URL

_CONVERTER = converters.get_converter()

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


def lsp_range(document: TextDocument, span: Span) -> types.Range:
    """A span (1-based lines, code-point columns) in the client's position encoding."""
    server_range = ServerTextRange(
        start=ServerTextPosition(line=span.line - 1, character=span.column),
        end=ServerTextPosition(line=span.end_line - 1, character=span.end_column),
    )
    return document.range_to_client_units(server_range)


def fix_payload(document: TextDocument, fix: Fix) -> dict[str, Any]:
    """A fix as JSON for a diagnostic's ``data``, its ranges in the client's encoding."""
    edits = [
        types.TextEdit(range=lsp_range(document, edit.span), new_text=edit.new_text)
        for edit in fix.edits
    ]
    return {"title": fix.title, "safe": fix.safe, "edits": _CONVERTER.unstructure(edits)}


def edits_from_payload(payload: dict[str, Any]) -> list[types.TextEdit]:
    """The text edits of a fix carried in a diagnostic's ``data``."""
    return list(_CONVERTER.structure(payload["edits"], list[types.TextEdit]))


def lsp_diagnostic(document: TextDocument, violation: Violation) -> types.Diagnostic:
    """A violation as an LSP diagnostic: ARK as its source, the rule as its code.

    Its ``data`` carries the engine's fix and a suppression comment, so a code
    action needs no second analysis.
    """
    lines = document.lines
    line = lines[violation.span.line - 1] if violation.span.line <= len(lines) else ""
    data: dict[str, Any] = {"suppress": fix_payload(document, suppression_fix(violation, line))}
    if violation.fix is not None:
        data["fix"] = fix_payload(document, violation.fix)
    return types.Diagnostic(
        range=lsp_range(document, violation.span),
        message=violation.message,
        severity=_SEVERITY[violation.severity],
        code=violation.rule,
        code_description=types.CodeDescription(href=DOCS_URL.format(rule=violation.rule)),
        source="ark",
        data=data,
    )
