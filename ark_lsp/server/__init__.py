"""The pygls front end: a core of shared services, and one module per feature registered with it."""

from __future__ import annotations

from ark_lsp.server.generated_code import compiled_once

# lsprotocol's types and the server's own classes are most of its start: the code
# attrs, typing and dataclasses write for them is compiled once, not every time.
with compiled_once():
    from ark_lsp.server.app import create_server
    from ark_lsp.server.core import ArkServer, Feature

__all__ = ["ArkServer", "Feature", "create_server"]
