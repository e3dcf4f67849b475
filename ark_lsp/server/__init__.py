"""The pygls front end: one module per LSP feature, each a thin adapter."""

from __future__ import annotations

from ark_lsp.server.app import ArkServer, create_server

__all__ = ["ArkServer", "create_server"]
