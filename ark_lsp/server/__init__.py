"""The pygls front end: a core of shared services, and one module per feature registered with it."""

from __future__ import annotations

from ark_lsp.server.app import create_server
from ark_lsp.server.core import ArkServer, Feature

__all__ = ["ArkServer", "Feature", "create_server"]
