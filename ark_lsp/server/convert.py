"""Every translation from engine models to lsprotocol types lives here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import ServerTextPosition, ServerTextRange

from ark_lsp.models import Fix, Severity, Span, Symbol, SymbolKind, Violation
from ark_lsp.rules import DOCS_URL
from ark_lsp.server.diagnostic_sources import (
    ANALYSIS_SOURCE,
    GATE_SOURCE,
    LINT_SOURCE,
    TEST_FAILURE_SOURCE,
)

if TYPE_CHECKING:  # the engines' models, only named here: the first diagnostics need none of them
    from ark_lsp.gate.model import Finding
    from ark_lsp.generate.results import FileChange
    from ark_lsp.sandbox import PytestCase
    from ark_lsp.store import SymbolRecord, ViolationRecord

_PYLINT_DOCS = (
    "https://pylint.readthedocs.io/en/stable/user_guide/messages/{category}/{symbol}.html"
)

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


_SYMBOL_KIND = {
    SymbolKind.FUNCTION: types.SymbolKind.Function,
    SymbolKind.METHOD: types.SymbolKind.Method,
    SymbolKind.CLASS: types.SymbolKind.Class,
}


def lsp_range(document: TextDocument, span: Span) -> types.Range:
    """A span (1-based lines, code-point columns) in the client's position encoding."""
    server_range = ServerTextRange(
        start=ServerTextPosition(line=span.line - 1, character=span.column),
        end=ServerTextPosition(line=span.end_line - 1, character=span.end_column),
    )
    return document.range_to_client_units(server_range)


def server_position(document: TextDocument, position: types.Position) -> tuple[int, int]:
    """A client position as the engine counts: 1-based line, code-point column."""
    converted = document.position_from_client_units(position)
    return converted.line + 1, converted.character


def workspace_edit(document: TextDocument, fix: Fix) -> types.WorkspaceEdit:
    """A fix as an edit of the document, in the client's position encoding."""
    edits = [
        types.TextEdit(range=lsp_range(document, edit.span), new_text=edit.new_text)
        for edit in fix.edits
    ]
    return types.WorkspaceEdit(changes={document.uri: edits})


def generation_edit(
    uri: str, document: TextDocument | None, change: FileChange, can_create: bool
) -> types.WorkspaceEdit | None:
    """A generated file change as an edit; None when it creates a file the client cannot.

    ``document`` is the target's current text (for the client's position
    encoding); a new file is created and filled in one edit.
    """
    if change.creates:
        if not can_create:
            return None
        insert = types.TextEdit(
            range=types.Range(
                start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)
            ),
            new_text=change.new_text,
        )
        return types.WorkspaceEdit(
            document_changes=[
                types.CreateFile(uri=uri, options=types.CreateFileOptions(ignore_if_exists=True)),
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=None
                    ),
                    edits=[insert],
                ),
            ]
        )
    if document is None:
        return None
    edits = [
        types.TextEdit(range=lsp_range(document, edit.span), new_text=edit.new_text)
        for edit in change.edits
    ]
    return types.WorkspaceEdit(changes={uri: edits})


def _diagnostic(
    document: TextDocument, span: Span, rule: str, severity: Severity, message: str
) -> types.Diagnostic:
    return types.Diagnostic(
        range=lsp_range(document, span),
        message=message,
        severity=_SEVERITY[severity],
        code=rule,
        code_description=types.CodeDescription(href=DOCS_URL.format(rule=rule)),
        source=ANALYSIS_SOURCE,
    )


def lsp_diagnostic(document: TextDocument, violation: Violation) -> types.Diagnostic:
    """A violation as an LSP diagnostic: ARK as its source, the rule as its code."""
    return _diagnostic(
        document, violation.span, violation.rule, violation.severity, violation.message
    )


def stored_diagnostic(document: TextDocument, record: ViolationRecord) -> types.Diagnostic:
    """A violation read from the index as an LSP diagnostic."""
    span = Span(record.line, record.column, record.end_line, record.end_column)
    return _diagnostic(document, span, record.rule, Severity(record.severity), record.message)


def test_failure_diagnostic(document: TextDocument, case: PytestCase) -> types.Diagnostic:
    """A failing or erroring test as a diagnostic over the line that failed."""
    line = case.failure_line or case.line or 1
    text = document.lines[line - 1] if line <= len(document.lines) else ""
    span = Span(line, len(text) - len(text.lstrip()), line, len(text.rstrip("\r\n")))
    return types.Diagnostic(
        range=lsp_range(document, span),
        message=f"{case.name} {case.outcome.value}: {case.message}".strip(),
        severity=types.DiagnosticSeverity.Error,
        code="test-failure",
        source=TEST_FAILURE_SOURCE,
    )


def gate_diagnostic(document: TextDocument, finding: Finding) -> types.Diagnostic:
    """Something the quality gate found new, at its place; to the line's end when open-ended."""
    return tool_diagnostic(document, finding, GATE_SOURCE)


def tool_diagnostic(document: TextDocument, finding: Finding, source: str) -> types.Diagnostic:
    """A finding of the gate or of a tool (mypy, pylint) under ``source``, at its place.

    A finding with no end, or an end before its start, reaches to the line's end.
    """
    line = finding.line or 1
    text = document.lines[line - 1].rstrip("\r\n") if line <= len(document.lines) else ""
    start = (finding.column or 1) - 1
    end_line, end = finding.end_line, (finding.end_column or 1) - 1
    if end_line is not None and finding.end_column is not None and (end_line, end) > (line, start):
        span = Span(line, start, end_line, end)
    else:
        span = Span(line, start, line, max(len(text), start))
    severity = {"error": Severity.ERROR, "fatal": Severity.ERROR, "warning": Severity.WARNING}
    return types.Diagnostic(
        range=lsp_range(document, span),
        message=finding.message,
        severity=_SEVERITY[severity.get(finding.severity, Severity.INFO)],
        code=finding.code,
        code_description=_code_description(finding, source),
        source=source,
    )


def _code_description(finding: Finding, source: str) -> types.CodeDescription | None:
    """Where a finding's code is explained: ARK's rules, pylint's messages."""
    if finding.code.startswith("ARK"):
        return types.CodeDescription(href=DOCS_URL.format(rule=finding.code))
    if source == LINT_SOURCE and finding.severity != "info":
        href = _PYLINT_DOCS.format(category=finding.severity, symbol=finding.code)
        return types.CodeDescription(href=href)
    return None


def whole_document_edit(document: TextDocument, new_text: str) -> types.WorkspaceEdit:
    """An edit replacing the document's whole text."""
    whole = types.Range(
        start=types.Position(line=0, character=0),
        end=types.Position(line=len(document.lines), character=0),
    )
    return types.WorkspaceEdit(
        changes={document.uri: [types.TextEdit(range=whole, new_text=new_text)]}
    )


def lsp_document_symbols(
    document: TextDocument, symbols: Sequence[Symbol]
) -> list[types.DocumentSymbol]:
    """A report's classes and functions, nested as written."""
    children_of: dict[str, list[types.DocumentSymbol]] = {}
    top: list[types.DocumentSymbol] = []
    for symbol in symbols:
        name_span = symbol.name_span
        entry = types.DocumentSymbol(
            name=symbol.name,
            kind=_SYMBOL_KIND.get(symbol.kind, types.SymbolKind.Function),
            range=lsp_range(document, symbol.span),
            selection_range=lsp_range(
                document,
                Span(
                    name_span.line,
                    name_span.column,
                    name_span.line,
                    name_span.column + len(symbol.name),
                ),
            ),
            detail=f"complexity {symbol.complexity} ({symbol.rank})",
            children=children_of.setdefault(symbol.qualname, []),
        )
        siblings = children_of.get(symbol.qualname.rpartition(".")[0], top)
        siblings.append(entry)
    return top


def lsp_workspace_symbol(uri: str, record: SymbolRecord) -> types.WorkspaceSymbol:
    """A symbol of the index, found by a workspace symbol search."""
    # Index columns are code points; for a symbol's start line that is
    # what every encoding agrees on in ASCII code, and close enough elsewhere.
    start = types.Position(line=record.line - 1, character=record.column)
    end = types.Position(line=record.end_line - 1, character=record.end_column)
    return types.WorkspaceSymbol(
        name=record.name,
        kind=_SYMBOL_KIND.get(SymbolKind(record.kind), types.SymbolKind.Function),
        location=types.Location(uri=uri, range=types.Range(start=start, end=end)),
        container_name=record.qualname.rpartition(".")[0] or record.path,
    )


def complexity_lens(document: TextDocument, symbol: Symbol) -> types.CodeLens:
    """A "complexity 23 (D)" label above a function."""
    line = symbol.name_span.line
    return types.CodeLens(
        range=lsp_range(document, Span(line, 0, line, 0)),
        # An empty command id makes a label the user cannot click by mistake.
        command=types.Command(title=f"complexity {symbol.complexity} ({symbol.rank})", command=""),
    )


def untested_lens(document: TextDocument, symbol: Symbol, command: str) -> types.CodeLens:
    """An "untested" lens above a function, whose command (generate tests) gets its ``def`` line."""
    name = symbol.name_span
    at = lsp_range(document, Span(name.line, name.column, name.line, name.column)).start
    argument = {"uri": document.uri, "position": {"line": at.line, "character": at.character}}
    return types.CodeLens(
        range=lsp_range(document, Span(name.line, 0, name.line, 0)),
        command=types.Command(title="untested", command=command, arguments=[argument]),
    )


def lsp_hover(document: TextDocument, span: Span, text: str, markdown: bool) -> types.Hover:
    """Hover text (markdown) over a span, as plain text for a client without markdown."""
    return types.Hover(
        contents=types.MarkupContent(
            kind=types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText,
            value=text if markdown else text.replace("`", ""),
        ),
        range=lsp_range(document, span),
    )
