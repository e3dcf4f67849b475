"""Every translation from engine models to lsprotocol types lives here."""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import ServerTextPosition, ServerTextRange

from ark_lsp.models import Severity, Span, Violation

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


def lsp_diagnostic(document: TextDocument, violation: Violation) -> types.Diagnostic:
    """A violation as an LSP diagnostic with ARK as its source and the rule as its code."""
    return types.Diagnostic(
        range=lsp_range(document, violation.span),
        message=violation.message,
        severity=_SEVERITY[violation.severity],
        code=violation.rule,
        source="ark",
    )
