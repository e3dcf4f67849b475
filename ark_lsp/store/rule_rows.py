"""The rule pack as rows of ``validation_rules``, where users can edit it."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlite_utils import Database

from ark_lsp.models import Severity, Tier
from ark_lsp.rules import Condition, Rule, RuleKind

_COLUMNS = (
    "name, id, description, severity, kind, pattern, message, keyword, condition, tiers, "
    "enabled, fix, builtin"
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


def seed(db: Database, rules: Iterable[Rule]) -> None:
    """Add rules the table lacks; rows already there (and users' edits) stay."""
    db.conn.executemany(
        f"INSERT OR IGNORE INTO validation_rules ({_COLUMNS}) "
        f"VALUES ({', '.join('?' * len(_COLUMNS.split(', ')))})",
        [_row(rule) for rule in rules],
    )


def add(db: Database, rule: Rule) -> None:
    """Add or replace one rule."""
    db.conn.execute(
        f"INSERT OR REPLACE INTO validation_rules ({_COLUMNS}) "
        f"VALUES ({', '.join('?' * len(_COLUMNS.split(', ')))})",
        _row(rule),
    )


def load(db: Database) -> tuple[Rule, ...]:
    """Every stored rule, built-in ones first, in id order."""
    cursor = db.conn.execute(
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


def set_enabled(db: Database, rule_id: str, enabled: bool) -> int:
    """Enable or disable every row of a rule id; return how many rows changed."""
    cursor = db.conn.execute(
        "UPDATE validation_rules SET enabled = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ') "
        "WHERE id = ?",
        (enabled, rule_id),
    )
    return cursor.rowcount
