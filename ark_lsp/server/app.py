"""The server object and the factory that wires its features."""

from __future__ import annotations

from pygls.lsp.server import LanguageServer

from ark_lsp import __version__
from ark_lsp.config import Settings


class ArkServer(LanguageServer):
    """ARK's language server; per-instance state, so tests can make many."""

    def __init__(self) -> None:
        super().__init__(name="ark", version=__version__)
        self.settings = Settings()


def create_server() -> ArkServer:
    """Build a server with every feature registered."""
    from ark_lsp.server import code_actions, diagnostics

    server = ArkServer()
    diagnostics.register(server)
    code_actions.register(server)
    return server
