"""Editing the rule pack: rules of the workspace's own added, replaced, removed; any switched.

``ark rules`` edits the pack in the workspace's index database, and ARK
then remembers the pack as the user's own (:func:`ark_lsp.trust.adopt_rule_pack`),
so that it stays in force. Each edit refuses what would lose a rule without
being asked: adding an id that exists (``replace`` says to), removing a
built-in rule (they are switched off instead, and come back on with
``enable``), taking another rule's name (rows are keyed by name).
"""

from __future__ import annotations

from ark_lsp.project import Project
from ark_lsp.rules import Rule, unknown_rule_id
from ark_lsp.store import Store
from ark_lsp.trust import adopt_rule_pack


class RuleEditRefused(ValueError):
    """The edit would do what was not asked for; the message says what to ask instead."""


class PackNotYours(Exception):
    """The pack was changed behind ARK's back: no edit builds on it until it is adopted."""


def add_rule(project: Project, store: Store, rule: Rule, *, replace: bool = False) -> bool:
    """Add a rule of the workspace's own; whether it replaced the rule with its id.

    Raises :class:`RuleEditRefused` for an id that exists (without
    ``replace``), a built-in id, or a name another rule has.
    """
    _check_editable(project)
    stored = store.rules.load()
    same_id = [r for r in stored if r.id == rule.id]
    if any(r.builtin for r in same_id):
        raise RuleEditRefused(
            f"{rule.id} is a built-in rule: it can be switched off "
            f"(`ark rules disable {rule.id}`), not replaced; give your rule an id of its own"
        )
    if same_id and not replace:
        raise RuleEditRefused(
            f"{rule.id} exists ({', '.join(r.pattern for r in same_id)}); "
            "--replace replaces it, or give another id"
        )
    taken = next((r for r in stored if r.name == rule.name and r.id != rule.id), None)
    if taken is not None:
        raise RuleEditRefused(f"the name {rule.name} is {taken.id}'s; give another with --name")
    store.rules.add(rule, replace=replace)
    adopt_rule_pack(store.rules.load(), store.path, project.trust_store)
    return bool(same_id)


def remove_rule(project: Project, store: Store, rule_id: str) -> None:
    """Remove the workspace's own rule ``rule_id``.

    Raises :class:`RuleEditRefused` for a built-in rule or an id no rule has.
    """
    _check_editable(project)
    stored = store.rules.load()
    same_id = [r for r in stored if r.id == rule_id]
    if not same_id:
        problem = unknown_rule_id(rule_id, {r.id for r in stored}, exact=True)
        raise RuleEditRefused(f"{problem}; `ark rules list` shows them")
    if any(r.builtin for r in same_id):
        raise RuleEditRefused(
            f"{rule_id} is a built-in rule: `ark rules disable {rule_id}` switches it off"
        )
    store.rules.remove(rule_id)
    adopt_rule_pack(store.rules.load(), store.path, project.trust_store)


def switch_rule(project: Project, store: Store, rule_id: str, enabled: bool) -> None:
    """Switch every row of ``rule_id`` on or off; :class:`RuleEditRefused` when there is none."""
    _check_editable(project)
    if not store.rules.set_enabled(rule_id, enabled):
        problem = unknown_rule_id(rule_id, {r.id for r in store.rules.load()}, exact=True)
        raise RuleEditRefused(f"{problem}; `ark rules list` shows them")
    adopt_rule_pack(store.rules.load(), store.path, project.trust_store)


def _check_editable(project: Project) -> None:
    """Refuse to build on a rule pack ARK did not leave so for this user."""
    if project.rule_pack_problem:
        raise PackNotYours(f"not editing a rule pack you did not make: {project.rule_pack_problem}")


__all__ = ["PackNotYours", "RuleEditRefused", "add_rule", "remove_rule", "switch_rule"]
