"""Document symbols from the document's report; workspace symbols from the index's search."""

from __future__ import annotations

from lsprotocol import types
from pygls.uris import from_fs_path

from ark_lsp.server.convert import lsp_document_symbols, lsp_workspace_symbol
from ark_lsp.server.core import ArkServer, Feature
from ark_lsp.server.documents import Snapshot

WORKSPACE_SYMBOL_LIMIT = 100


def document_symbols(snapshot: Snapshot) -> list[types.DocumentSymbol]:
    """The document's classes and functions, nested as written."""
    return lsp_document_symbols(snapshot.document, snapshot.report.symbols)


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
            found.append(lsp_workspace_symbol(uri, record))
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
