"""The ``ark`` command line: a thin front end over the same engine as the server.

Exit codes: 0 success; 1 findings (``ark check`` found an error-severity
result; ``ark run``/``ark test``: the code failed, timed out or hit a limit);
2 usage error; 3 the database cannot be used (corrupt, locked, from a newer
ARK); 4 any other failure, reported in one line (for the sandbox commands:
the sandbox could not run the code at all).
"""

from __future__ import annotations

import sys

import click

from ark_lsp import __version__
from ark_lsp.cli import check, generate, index, rules, sandbox, serve, trust


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ark")
def main() -> None:
    """ARK: index, check, generate and sandbox Python code."""


for command in (
    index.index,
    index.symbols,
    index.search,
    index.graph,
    check.check,
    generate.generate,
    rules.rules,
    trust.trust,
    serve.serve,
    *sandbox.COMMANDS,
):
    main.add_command(command)


def serve_main() -> None:
    """Entry point of the ``ark-lsp`` script."""
    main(["serve", *sys.argv[1:]])
