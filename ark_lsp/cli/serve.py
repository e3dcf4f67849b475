"""``ark serve``: the language server's command line."""

from __future__ import annotations

from pathlib import Path

import click

from ark_lsp import __version__
from ark_lsp.cli.common import EXIT_USAGE, fail


@click.command()
@click.version_option(__version__, prog_name="ark-lsp")
@click.option("--stdio", is_flag=True, help="Talk over stdin/stdout (the default).")
@click.option("--tcp", "address", metavar="HOST:PORT", help="Listen on a TCP socket instead.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), help="Log here.")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
)
def serve(stdio: bool, address: str | None, log_file: Path | None, log_level: str) -> None:
    """Run the language server (stdio by default)."""
    import logging

    host, _, port = (address or "").rpartition(":")
    if address and not (host and port.isdigit()):
        fail(f"--tcp takes HOST:PORT, got {address!r}", EXIT_USAGE)
    # Never log to stdout: in stdio mode it carries the protocol.
    logging.basicConfig(
        filename=log_file,
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from ark_lsp.server import create_server

    server = create_server()
    if address:
        server.start_tcp(host, int(port))
    else:
        server.start_io()
