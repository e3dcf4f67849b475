"""The pygls front end: a core of shared services, and one module per feature registered with it."""

from __future__ import annotations

import sys

from ark_lsp.server.generated_code import compiled_once


def _starting_the_server() -> bool:
    """Whether this process imports the server to run it: ``ark-lsp`` says so (see ``launch``)."""
    return bool(getattr(sys.modules.get("ark_lsp.cli.launch"), "starting_the_server", False))


# lsprotocol's types and the server's own classes are most of its start: the code
# attrs, typing and dataclasses write for them is compiled once, not every time.
# Starting the server, lsprotocol's classes are made as first used, and what was
# compiled anew is kept once the first diagnostics are out, not before.
_STARTING = _starting_the_server()
with compiled_once(lazy_protocol=_STARTING, save=not _STARTING):
    from ark_lsp.server.app import create_server
    from ark_lsp.server.core import ArkServer, Feature

__all__ = ["ArkServer", "Feature", "create_server"]
