"""The pygls front end: a core of shared services, and one module per feature registered with it."""

from __future__ import annotations

from ark_lsp.server.type_cache import import_lsprotocol_types

# Before any module of the server imports lsprotocol's types: they are most of its start.
import_lsprotocol_types()

from ark_lsp.server.app import create_server  # noqa: E402
from ark_lsp.server.core import ArkServer, Feature  # noqa: E402

__all__ = ["ArkServer", "Feature", "create_server"]
