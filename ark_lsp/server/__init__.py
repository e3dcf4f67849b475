"""The pygls front end: a core of shared services, and one module per feature registered with it.

The server itself (:func:`create_server`, :class:`ArkServer`, :class:`Feature`)
is imported when first asked for, not with the package: the start's prelude
(:mod:`ark_lsp.server.prelude`) uses a few of its modules before pygls is
imported at all.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ark_lsp.server.app import create_server
    from ark_lsp.server.core import ArkServer, Feature

__all__ = ["ArkServer", "Feature", "create_server", "serve_stdio"]

_MADE_WHEN_ASKED = ("ArkServer", "Feature", "create_server")


def _starting_the_server() -> bool:
    """Whether this process imports the server to run it: ``ark-lsp`` says so (see ``launch``)."""
    return bool(getattr(sys.modules.get("ark_lsp.cli.launch"), "starting_the_server", False))


def __getattr__(name: str) -> Any:
    if name not in _MADE_WHEN_ASKED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ark_lsp.server.generated_code import compiled_once

    # lsprotocol's types and the server's own classes are most of its start: the code
    # attrs, typing and dataclasses write for them is compiled once, not every time.
    # Starting the server, lsprotocol's classes are made as first used, and what was
    # compiled anew is kept once the first diagnostics are out, not before.
    starting = _starting_the_server()
    with compiled_once(lazy_protocol=starting, save=not starting):
        from ark_lsp.server.app import create_server
        from ark_lsp.server.core import ArkServer, Feature
    globals().update(create_server=create_server, ArkServer=ArkServer, Feature=Feature)
    return globals()[name]


def serve_stdio() -> None:
    """Serve an editor over stdin and stdout: the start's prelude first, then the server.

    The prelude waits on the pipe with ``select``, which Windows has for sockets only:
    there the server reads everything itself.
    """
    handover = None
    if os.name == "posix":
        from ark_lsp.server.prelude import Prelude, user_answers

        handover = Prelude(sys.stdin.fileno(), sys.stdout.buffer, user_answers()).run()
    server = __getattr__("create_server")()
    server.start_io(handover=handover)
