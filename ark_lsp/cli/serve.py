"""``ark serve``: the language server's command line."""

from __future__ import annotations

from pathlib import Path

import click

from ark_lsp import __version__
from ark_lsp.cli.common import EXIT_USAGE, fail
from ark_lsp.cli.launch import LOG_LEVELS, ServeOptions, launch, tcp_address


@click.command()
@click.version_option(__version__, prog_name="ark-lsp")
@click.option("--stdio", is_flag=True, help="Talk over stdin/stdout (the default).")
@click.option("--tcp", "address", metavar="HOST:PORT", help="Listen on a TCP socket instead.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), help="Log here.")
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS),
    default="warning",
    show_default=True,
)
def serve(stdio: bool, address: str | None, log_file: Path | None, log_level: str) -> None:
    """Run the language server (stdio by default)."""
    tcp = tcp_address(address) if address else None
    if address and tcp is None:
        fail(f"--tcp takes HOST:PORT, got {address!r}", EXIT_USAGE)
    launch(ServeOptions(tcp, log_file, log_level))
