"""Document symbols from the document's report; workspace symbols from the index's search."""

from __future__ import annotations

from lsprotocol import types
from pygls.uris import from_fs_path

from ark_lsp.models import Span, SymbolKind
from ark_lsp.server.convert import lsp_range
from ark_lsp.server.core import ArkServer, Feature
from ark_lsp.server.documents import Snapshot

WORKSPACE_SYMBOL_LIMIT = 100

_KIND = {
    SymbolKind.FUNCTION: types.SymbolKind.Function,
    SymbolKind.METHOD: types.SymbolKind.Method,
    SymbolKind.CLASS: types.SymbolKind.Class,
}


def document_symbols(snapshot: Snapshot) -> list[types.DocumentSymbol]:
    """The document's classes and functions, nested as written."""
    children_of: dict[str, list[types.DocumentSymbol]] = {}
    top: list[types.DocumentSymbol] = []
    document = snapshot.document
    for symbol in snapshot.report.symbols:
        name_span = symbol.name_span
        entry = types.DocumentSymbol(
            name=symbol.name,
            kind=_KIND.get(symbol.kind, types.SymbolKind.Function),
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


def workspace_symbols(server: ArkServer, query: str) -> list[types.WorkspaceSymbol]:
    """Symbols of every indexed folder matching the query, best first."""
    if not query.strip():
        return []
    found: list[types.WorkspaceSymbol] = []
    for folder in server.folders.all():
        store = folder.reader()
        if store is None:
            continue
        for record in store.index.search(query, limit=WORKSPACE_SYMBOL_LIMIT):
            uri = from_fs_path(str(folder.root / record.path)) or ""
            # Index columns are code points; for a symbol's start line that is
            # what every encoding agrees on in ASCII code, and close enough elsewhere.
            start = types.Position(line=record.line - 1, character=record.column)
            end = types.Position(line=record.end_line - 1, character=record.end_column)
            found.append(
                types.WorkspaceSymbol(
                    name=record.name,
                    kind=_KIND.get(SymbolKind(record.kind), types.SymbolKind.Function),
                    location=types.Location(uri=uri, range=types.Range(start=start, end=end)),
                    container_name=record.qualname.rpartition(".")[0] or record.path,
                )
            )
    return found[:WORKSPACE_SYMBOL_LIMIT]


class Symbols(Feature):
    """Document symbols and workspace symbols."""

    def register(self) -> None:
        """Answer document and workspace symbol requests."""
        server = self.server

        @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
        def document_symbol(
            ls: ArkServer, params: types.DocumentSymbolParams
        ) -> list[types.DocumentSymbol]:
            snapshot = ls.documents.latest(params.text_document.uri)
            return document_symbols(snapshot) if snapshot else []

        @server.feature(types.WORKSPACE_SYMBOL)
        def workspace_symbol(
            ls: ArkServer, params: types.WorkspaceSymbolParams
        ) -> list[types.WorkspaceSymbol]:
            return workspace_symbols(ls, params.query)
