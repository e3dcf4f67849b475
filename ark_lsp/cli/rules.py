"""``ark rules``: the workspace's rule pack, listed, explained, switched and extended."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ark_lsp.cli.common import DATABASE, EXIT_USAGE, ROOT, Workspace, fail, open_workspace

if TYPE_CHECKING:
    from ark_lsp.rules import Rule


@click.group()
def rules() -> None:
    """List, explain, switch, add and remove the rules of the workspace's rule pack."""


def _rules_database(root: Path | None, database: Path | None) -> AbstractContextManager[Workspace]:
    return open_workspace([root] if root else [], database)


@rules.command("list")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@ROOT
@DATABASE
def rules_list(output_format: str, root: Path | None, database: Path | None) -> None:
    """Every rule with its state, severity and pattern."""
    from ark_lsp.rules import with_current_built_ins

    with _rules_database(root, database) as workspace:
        stored = with_current_built_ins(workspace.store.rules.load())
    if output_format == "json":
        click.echo(json.dumps([_rule_json(rule) for rule in stored], indent=2))
        return
    for rule in stored:
        state = "on " if rule.enabled else "off"
        click.echo(
            f"{rule.id:<7} {state} {rule.severity.value:<8} {rule.kind.value:<10} "
            f"{rule.pattern:<22} {rule.name}"
        )


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "description": rule.description,
        "severity": rule.severity.value,
        "kind": rule.kind.value,
        "pattern": rule.pattern,
        "keyword": rule.keyword,
        "condition": rule.condition.value if rule.condition else None,
        "message": rule.message,
        "tiers": [tier.value for tier in rule.tiers],
        "enabled": rule.enabled,
        "fix": rule.fix,
        "builtin": rule.builtin,
    }


@rules.command("show")
@click.argument("rule_id")
@ROOT
@DATABASE
def rules_show(rule_id: str, root: Path | None, database: Path | None) -> None:
    """Explain one rule: what it matches, why it matters, how to fix it."""
    from ark_lsp.rules import DOCS_URL, with_current_built_ins

    with _rules_database(root, database) as workspace:
        stored = with_current_built_ins(workspace.store.rules.load())
    matching = [rule for rule in stored if rule.id == rule_id.upper()]
    if not matching:
        fail(f"no rule {rule_id}; `ark rules list` shows them", EXIT_USAGE)
    first = matching[0]
    click.echo(f"{first.id}: {first.description}")
    click.echo(f"  severity: {first.severity.value}")
    for rule in matching:
        state = "enabled" if rule.enabled else "disabled"
        detail = f" (keyword {rule.keyword})" if rule.keyword else ""
        if rule.condition:
            detail += f" (only: {rule.condition.value})"
        click.echo(f"  {rule.kind.value} {rule.pattern}{detail}: {rule.message} [{state}]")
    for fix in dict.fromkeys(rule.fix for rule in matching if rule.fix):
        click.echo(f"  fix: {fix}")
    click.echo(f"  docs: {DOCS_URL.format(rule=first.id)}")


def _switch(rule_id: str, enabled: bool, root: Path | None, database: Path | None) -> None:
    from ark_lsp.workflows.rules import switch_rule

    with _rules_database(root, database) as workspace, _edit_failures():
        switch_rule(workspace.project, workspace.store, rule_id.upper(), enabled)
    click.echo(f"{rule_id.upper()} {'enabled' if enabled else 'disabled'}")


@contextmanager
def _edit_failures() -> Iterator[None]:
    """An edit the pack refuses is one line: a usage error, or a pack that is not the user's."""
    from ark_lsp.workflows.rules import PackNotYours, RuleEditRefused

    try:
        yield
    except RuleEditRefused as error:
        fail(str(error), EXIT_USAGE)
    except PackNotYours as error:
        fail(str(error))


@rules.command("enable")
@click.argument("rule_id")
@ROOT
@DATABASE
def rules_enable(rule_id: str, root: Path | None, database: Path | None) -> None:
    """Switch a rule on."""
    _switch(rule_id, True, root, database)


@rules.command("disable")
@click.argument("rule_id")
@ROOT
@DATABASE
def rules_disable(rule_id: str, root: Path | None, database: Path | None) -> None:
    """Switch a rule off."""
    _switch(rule_id, False, root, database)


@rules.command("add")
@click.argument("rule_id")
@click.option("--kind", type=click.Choice(["call", "call-kwarg", "import"]), required=True)
@click.option("--pattern", required=True, help="Qualified callee (pkg.* for a prefix) or module.")
@click.option("--message", required=True, help="What the diagnostic says.")
@click.option("--keyword", help="For call-kwarg: the keyword whose true value is flagged.")
@click.option(
    "--severity",
    type=click.Choice(["error", "warning", "info"]),
    default="error",
    show_default=True,
)
@click.option("--name", help="A short name [default: the id in lower case].")
@click.option("--fix", "fix_text", help="What to do about it.")
@click.option("--replace", is_flag=True, help="Replace your rule of this id, if there is one.")
@ROOT
@DATABASE
def rules_add(
    rule_id: str,
    kind: str,
    pattern: str,
    message: str,
    keyword: str | None,
    severity: str,
    name: str | None,
    fix_text: str | None,
    replace: bool,
    root: Path | None,
    database: Path | None,
) -> None:
    """Add a rule of the workspace's own; no code change needed.

    An id that exists is refused unless --replace is given; a built-in id
    is always refused (switch a built-in rule off with `ark rules disable`).
    """
    from ark_lsp.rules import user_rule
    from ark_lsp.workflows.rules import add_rule

    raw = {
        "id": rule_id.upper(),
        "kind": kind,
        "pattern": pattern,
        "message": message,
        "keyword": keyword,
        "severity": severity,
        "name": name,
        "fix": fix_text,
    }
    try:
        rule = user_rule({key: value for key, value in raw.items() if value is not None})
    except ValueError as error:
        fail(str(error), EXIT_USAGE)
    with _rules_database(root, database) as workspace, _edit_failures():
        replaced = add_rule(workspace.project, workspace.store, rule, replace=replace)
    click.echo(f"{'replaced' if replaced else 'added'} {rule.id} ({rule.name})")


@rules.command("remove")
@click.argument("rule_id")
@ROOT
@DATABASE
def rules_remove(rule_id: str, root: Path | None, database: Path | None) -> None:
    """Remove a rule of the workspace's own (a built-in rule is disabled, not removed)."""
    from ark_lsp.workflows.rules import remove_rule

    with _rules_database(root, database) as workspace, _edit_failures():
        remove_rule(workspace.project, workspace.store, rule_id.upper())
    click.echo(f"removed {rule_id.upper()}")
