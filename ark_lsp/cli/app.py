"""The command line as shipped: the ``ark`` group with every command.

Imported only when a command runs through click: the language server's start
(``ark-lsp``, ``python -m ark_lsp``) goes around it, see :mod:`ark_lsp.cli.launch`.
"""

from __future__ import annotations

from typing import IO, Any

import click

from ark_lsp import __version__
from ark_lsp.cli import changes, check, gate, generate, index, rules, sandbox, serve, trust
from ark_lsp.cli.common import EXIT_USAGE


class OneLineUsageError(click.ClickException):
    """A usage error said on one line of stderr, as every ``ark`` failure is (exit 2)."""

    exit_code = EXIT_USAGE

    def __init__(self, error: click.UsageError) -> None:
        super().__init__(error.format_message())
        self.help_command = f"{error.ctx.command_path} --help" if error.ctx is not None else None

    def show(self, file: IO[Any] | None = None) -> None:
        """``ark: error: <what is wrong> (see ark check --help)``."""
        hint = f" (see {self.help_command})" if self.help_command else ""
        click.echo(f"ark: error: {self.format_message().rstrip('.')}{hint}", err=True)


class ArkGroup(click.Group):
    """The ``ark`` command group: click's three-line usage errors said on one line."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as error:
            raise OneLineUsageError(error) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:  # a subcommand's arguments, at any depth
            raise OneLineUsageError(error) from None


@click.group(cls=ArkGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ark")
def main() -> None:
    """ARK: index, check, gate, generate and sandbox Python code."""


for command in (
    index.index,
    index.symbols,
    index.search,
    index.graph,
    check.check,
    gate.gate,
    changes.change,
    generate.generate,
    rules.rules,
    trust.trust,
    serve.serve,
    *sandbox.COMMANDS,
):
    main.add_command(command)
