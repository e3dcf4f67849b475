"""Publish the engine's violations for open documents."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from ark_lsp.analysis import analyze
from ark_lsp.server.app import ArkServer
from ark_lsp.server.convert import lsp_diagnostic


def workspace_relative(server: ArkServer, uri: str) -> str:
    """The document's path relative to its workspace root, as tiers are matched."""
    path = Path(to_fs_path(uri) or uri)
    root = server.workspace.root_path
    if root and path.is_relative_to(root):
        return path.relative_to(root).as_posix()
    return path.name


def publish(server: ArkServer, uri: str) -> None:
    """Analyse the document's current text and publish what is wrong with it."""
    document = server.workspace.get_text_document(uri)
    report = analyze(document.source, workspace_relative(server, uri), server.settings)
    server.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(
            uri=uri,
            version=document.version,
            diagnostics=[lsp_diagnostic(document, v) for v in report.violations],
        )
    )


def register(server: ArkServer) -> None:
    """Wire the document lifecycle notifications to :func:`publish`."""

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ArkServer, params: types.DidOpenTextDocumentParams) -> None:
        publish(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ArkServer, params: types.DidChangeTextDocumentParams) -> None:
        publish(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ArkServer, params: types.DidSaveTextDocumentParams) -> None:
        publish(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ArkServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )
