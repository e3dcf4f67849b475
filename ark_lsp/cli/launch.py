"""Starting the language server: the one door from the command line into it, without click.

An editor starts the server on every window it opens, and waits for its
first diagnostics: ``ark-lsp`` and ``python -m ark_lsp`` read their few
options here, and only what this module cannot answer (``--help``,
``--version``, a mistake) goes to ``ark serve``'s click command, which says
it as every ``ark`` command does.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

LOG_LEVELS = ("debug", "info", "warning", "error")

starting_the_server = False
"""True once :func:`launch` imports the server to run it: only then are lsprotocol's
classes made as they are first used (``ark_lsp.server.lazy_protocol``)."""


class ServeOptions(NamedTuple):
    """``ark serve``'s options."""

    address: tuple[str, int] | None
    """HOST and PORT to listen on; None for stdio."""
    log_file: Path | None
    log_level: str


def tcp_address(address: str) -> tuple[str, int] | None:
    """``HOST:PORT`` split, or None when it is not one."""
    host, _, port = address.rpartition(":")
    return (host, int(port)) if host and port.isdigit() else None


def plain_options(arguments: Sequence[str]) -> ServeOptions | None:
    """The options when they are all well formed; None sends them to click instead."""
    values: dict[str, str] = {}
    remaining = list(arguments)
    while remaining:
        argument = remaining.pop(0)
        if argument == "--stdio":
            continue
        name, equals, value = argument.partition("=")
        if name not in {"--tcp", "--log-file", "--log-level"}:
            return None
        if not equals:
            if not remaining:
                return None
            value = remaining.pop(0)
        values[name] = value
    address = None
    if "--tcp" in values and (address := tcp_address(values["--tcp"])) is None:
        return None
    level = values.get("--log-level", "warning")
    log_file = Path(values["--log-file"]) if "--log-file" in values else None
    if level not in LOG_LEVELS or (log_file is not None and log_file.is_dir()):
        return None  # click says what is wrong
    return ServeOptions(address, log_file, level)


def launch(options: ServeOptions) -> None:
    """Run the language server until the client ends it."""
    # Never log to stdout: in stdio mode it carries the protocol.
    logging.basicConfig(
        filename=options.log_file,
        level=options.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    global starting_the_server
    starting_the_server = True  # the server's package makes lsprotocol's types lazily
    # What the start makes (modules, classes, protocol types) lives as long as the
    # server, and the cyclic collector's passes over it while it grows cost a tenth of
    # the imports: it is off until ``initialize`` is answered, which freezes what was
    # made and switches it back on (ArkProtocol.lsp_initialize).
    gc.disable()
    if options.address:
        from ark_lsp.server import create_server

        create_server().start_tcp(*options.address)
        return
    # Before the server is imported, the start's prelude answers what it can on its own:
    # a warm workspace's first diagnostics come without waiting for pygls.
    from ark_lsp.server import serve_stdio

    serve_stdio()


def serve_main(arguments: Sequence[str] | None = None) -> None:
    """``ark-lsp [OPTIONS]``: ``ark serve``'s options, read without click when they are plain."""
    arguments = sys.argv[1:] if arguments is None else arguments
    options = plain_options(arguments)
    if options is not None:
        launch(options)
        return
    from ark_lsp.cli import app

    app.main(["serve", *arguments])
