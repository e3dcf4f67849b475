"""The rule pack (``store.rules``): seeded with the built-in rules, edited by the user."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ark_lsp.models import Severity
from ark_lsp.rules import DEFAULT_RULES, Rule, RuleKind
from ark_lsp.store import Store


def test_rules_are_seeded_once_and_edits_survive(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    with Store.open(path) as store:
        stored = store.rules.load()
        assert [r.name for r in stored] == [r.name for r in DEFAULT_RULES]
        assert stored == DEFAULT_RULES
        assert store.rules.set_enabled("ARK004", False) == sum(
            r.id == "ARK004" for r in DEFAULT_RULES
        )
        assert store.rules.set_enabled("ARK999", False) == 0
        store.rules.add(
            Rule(
                "CO001",
                "no-pickle",
                "",
                Severity.ERROR,
                RuleKind.CALL,
                "pickle.loads",
                "pickle.loads() runs code from its input",
                builtin=False,
            )
        )
    with Store.open(path) as store:
        again = {r.name: r for r in store.rules.load()}
    assert not again["os-system"].enabled and not again["os-popen"].enabled
    assert again["eval"].enabled
    assert again["no-pickle"].pattern == "pickle.loads"
    assert len(again) == len(DEFAULT_RULES) + 1


def test_a_rule_switched_before_the_pack_was_read_is_still_found(tmp_path: Path) -> None:
    with Store.open(tmp_path / "index.db") as store:
        assert store.rules.set_enabled("ARK001", False) == 1
        assert not {r.name: r for r in store.rules.load()}["eval"].enabled


def test_a_rule_switched_off_stays_off_when_an_upgrade_adds_rows_to_it(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    ark004 = [r.name for r in DEFAULT_RULES if r.id == "ARK004"]
    assert len(ark004) > 1, "the test needs a rule id with several rows"
    with Store.open(path) as store:
        store.rules.load()
        store.rules.set_enabled("ARK004", False)
    # A database written before the release that added a row to ARK004 lacks that row.
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("DELETE FROM validation_rules WHERE name = ?", (ark004[-1],))
    raw.close()
    with Store.open(path) as store:
        upgraded = {r.name: r for r in store.rules.load()}
    assert [upgraded[name].enabled for name in ark004] == [False] * len(ark004)
    assert upgraded["eval"].enabled


def test_reading_the_seeded_rules_needs_no_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    with Store.open(path) as store:
        store.rules.load()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with Store.open(path, busy_timeout=0.2) as store:
            assert len(store.rules.load()) == len(DEFAULT_RULES)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
