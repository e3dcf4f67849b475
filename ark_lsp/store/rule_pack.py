"""The rule pack as rows of ``validation_rules``, where users can edit it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace

from ark_lsp.models import Severity, Tier
from ark_lsp.rules import DEFAULT_RULES, Condition, Rule, RuleKind
from ark_lsp.store.connection import write_transaction
from ark_lsp.store.repository import Repository, guarded

_COLUMNS = (
    "name, id, description, severity, kind, pattern, message, keyword, condition, tiers, "
    "enabled, fix, builtin"
)
_MARKS = ", ".join("?" * len(_COLUMNS.split(", ")))


class RulePackRepository(Repository):
    """The workspace's rule pack: the built-in rules as the user left them, and the user's own.

    Reached as ``store.rules``. Whether a pack that weakens the built-in
    rules is in force is not decided here but by :mod:`ark_lsp.trust`.
    """

    @guarded
    def load(self) -> tuple[Rule, ...]:
        """The rule pack, built-in rules first in id order; they are added on first use."""
        stored = self._read()
        if {r.name for r in DEFAULT_RULES} - {r.name for r in stored}:
            # Only then a write: read-only commands must not need the write lock.
            with write_transaction(self._db):
                self._seed(DEFAULT_RULES)
            stored = self._read()
        return stored

    @guarded
    def set_enabled(self, rule_id: str, enabled: bool) -> int:
        """Switch every row of a rule id on or off; return the rows changed (0: no such rule)."""
        with write_transaction(self._db):
            self._seed(DEFAULT_RULES)
            cursor = self._db.conn.execute(
                "UPDATE validation_rules SET enabled = ?, "
                "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ') WHERE id = ?",
                (enabled, rule_id),
            )
            return cursor.rowcount

    @guarded
    def add(self, rule: Rule, *, replace: bool = False) -> None:
        """Store a rule of the user's own (replacing one of the same name).

        ``replace``: the user's own rules with its id go first, in the same
        transaction. Whether the id may be added or replaced is the
        caller's to decide (:mod:`ark_lsp.workflows.rules`).
        """
        with write_transaction(self._db):
            if replace:
                self._db.conn.execute(
                    "DELETE FROM validation_rules WHERE id = ? AND NOT builtin", (rule.id,)
                )
            self._db.conn.execute(
                f"INSERT OR REPLACE INTO validation_rules ({_COLUMNS}) VALUES ({_MARKS})",
                _row(rule),
            )

    @guarded
    def remove(self, rule_id: str) -> int:
        """Delete the user's own rules with this id; return the rows deleted.

        Built-in rules are never deleted (they are seeded again on next use):
        they are switched off instead.
        """
        with write_transaction(self._db):
            cursor = self._db.conn.execute(
                "DELETE FROM validation_rules WHERE id = ? AND NOT builtin", (rule_id,)
            )
            return cursor.rowcount

    def _seed(self, rules: Iterable[Rule]) -> None:
        """Add rules the table lacks; rows already there (and users' edits) stay.

        A new row of a rule id the user switched off (every built-in row of
        it off) comes in off too: an upgrade that adds a pattern to a rule
        must not switch the rule back on.
        """
        switched_off = {
            rule_id
            for (rule_id,) in self._db.conn.execute(
                "SELECT id FROM validation_rules WHERE builtin GROUP BY id HAVING max(enabled) = 0"
            )
        }
        self._db.conn.executemany(
            f"INSERT OR IGNORE INTO validation_rules ({_COLUMNS}) VALUES ({_MARKS})",
            [
                _row(replace(rule, enabled=False) if rule.id in switched_off else rule)
                for rule in rules
            ],
        )

    def _read(self) -> tuple[Rule, ...]:
        cursor = self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM validation_rules ORDER BY builtin DESC, id, rowid"
        )
        return tuple(
            Rule(
                id=rule_id,
                name=name,
                description=description,
                severity=Severity(severity),
                kind=RuleKind(kind),
                pattern=pattern,
                message=message,
                keyword=keyword,
                condition=Condition(condition) if condition else None,
                tiers=tuple(Tier(t) for t in json.loads(tiers)),
                enabled=bool(enabled),
                fix=fix,
                builtin=bool(builtin),
            )
            for (
                name,
                rule_id,
                description,
                severity,
                kind,
                pattern,
                message,
                keyword,
                condition,
                tiers,
                enabled,
                fix,
                builtin,
            ) in cursor
        )


def _row(rule: Rule) -> tuple[object, ...]:
    return (
        rule.name,
        rule.id,
        rule.description,
        rule.severity.value,
        rule.kind.value,
        rule.pattern,
        rule.message,
        rule.keyword,
        rule.condition.value if rule.condition else None,
        json.dumps([tier.value for tier in rule.tiers]),
        rule.enabled,
        rule.fix,
        rule.builtin,
    )
