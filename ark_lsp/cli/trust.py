"""``ark trust``: let a workspace's privileged settings apply, or take that back.

A workspace's ``[tool.ark]`` may say where ARK writes its index, which
sandbox runs its code with what limits and network, and which templates
generate code. Those apply only in a workspace its user trusts; the trust
is recorded with a fingerprint of what was asked for, so a change of any of
it asks again (as direnv's ``allow`` does).

Exit codes: 0 done (``--check``: trusted); 1 ``--check``: not trusted;
4 the trust could not be recorded.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ark_lsp.cli.common import EXIT_FINDINGS, EXIT_OK, fail

if TYPE_CHECKING:
    from ark_lsp.trust import TrustStore


@click.command()
@click.argument(
    "path", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option("--revoke", is_flag=True, help="Stop trusting the workspace.")
@click.option(
    "--check", is_flag=True, help="Only say whether it is trusted: exit 0 if so, 1 if not."
)
@click.option("--list", "list_all", is_flag=True, help="List the workspaces you trust.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def trust(path: Path | None, revoke: bool, check: bool, list_all: bool, output_format: str) -> None:
    """Trust the workspace holding PATH: its privileged settings then apply.

    Privileged settings decide where ARK writes and how it runs the
    workspace's code: database, jobs, the whole
    [tool.ark.sandbox] table, and template overrides in .ark/templates/.
    They are listed here; review them before trusting a repository you did
    not write.
    """
    from ark_lsp.config import load_settings
    from ark_lsp.trust import TrustStore
    from ark_lsp.workflows.trust import trust_workspace
    from ark_lsp.workspace import find_root

    store = TrustStore()
    if list_all:
        _list(store, output_format)
        return
    root = find_root((path or Path.cwd()).resolve())
    if revoke:
        had = store.revoke(root)
        click.echo(f"ark: {root} is no longer trusted" if had else f"ark: {root} was not trusted")
        return
    loaded = load_settings(root, store=store)
    request = loaded.request
    if check:
        _say_status(root, request.keys, loaded.trust.trusted, loaded.trust.reason, output_format)
        raise SystemExit(EXIT_OK if loaded.trust.trusted else EXIT_FINDINGS)
    try:
        trusted = trust_workspace(root, store)
    except OSError as error:
        fail(f"cannot record the trust in {store.path}: {error.strerror or error}")
    if trusted.problem:
        click.echo(f"ark: warning: {trusted.problem}", err=True)
    adopted = str(trusted.adopted_rule_pack) if trusted.adopted_rule_pack else None
    if output_format == "json":
        report = {
            "root": str(root),
            "privileged": dict(request.settings),
            "templates": [name for name, _ in request.templates],
            "adopted_rule_pack": adopted,
        }
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"ark: trusted {root}")
    for key, value in request.settings:
        click.echo(f"  {key} = {value}")
    for name, _ in request.templates:
        click.echo(f"  template {name}")
    if not request:
        click.echo("  (it asks for nothing privileged today; a change will ask again)")
    if adopted:
        click.echo(f"ark: the rule pack of {adopted}, as it stands, is now in force")


def _say_status(
    root: Path, keys: tuple[str, ...], trusted: bool, reason: str, output_format: str
) -> None:
    if output_format == "json":
        report = {"root": str(root), "trusted": trusted, "reason": reason, "asks": list(keys)}
        click.echo(json.dumps(report))
        return
    state = "trusted" if trusted else "not trusted"
    asks = f"; it asks for {', '.join(keys)}" if keys else ""
    click.echo(f"{root}: {state} ({reason}){asks}")


def _list(store: TrustStore, output_format: str) -> None:
    records = store.records()
    if output_format == "json":
        click.echo(json.dumps([asdict(record) for record in records], indent=2))
        return
    if not records:
        click.echo("ark: you trust no workspace yet")
    for record in records:
        click.echo(f"{record.root}  (since {record.trusted_at})")
