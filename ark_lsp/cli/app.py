"""The command line as shipped: the ``ark`` group with every command.

Imported only when a command runs through click: the language server's start
(``ark-lsp``, ``python -m ark_lsp``) goes around it, see :mod:`ark_lsp.cli.launch`.
Each command's module is imported when the command is asked for, so ``ark
index`` does not pay for importing the gate's, the sandbox's and the
generator's engines (``ark --help`` imports them all, for their help lines).
"""

from __future__ import annotations

from importlib import import_module
from typing import IO, Any

import click

from ark_lsp import __version__
from ark_lsp.cli.common import EXIT_USAGE

COMMANDS = {
    "index": ("index", "index"),
    "symbols": ("index", "symbols"),
    "search": ("index", "search"),
    "graph": ("index", "graph"),
    "check": ("check", "check"),
    "gate": ("gate", "gate"),
    "change": ("changes", "change"),
    "generate": ("generate", "generate"),
    "rules": ("rules", "rules"),
    "trust": ("trust", "trust"),
    "serve": ("serve", "serve"),
    "run": ("sandbox", "run"),
    "test": ("sandbox", "test"),
    "history": ("sandbox", "history"),
    "sandbox": ("sandbox", "sandbox"),
}
"""Each command of ``ark``: the module of :mod:`ark_lsp.cli` that holds it, and its name there."""


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
    """The ``ark`` command group: commands loaded when asked for, usage errors on one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, name = COMMANDS[cmd_name]
            command = getattr(import_module(f"ark_lsp.cli.{module}"), name)
            assert isinstance(command, click.Command)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

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
