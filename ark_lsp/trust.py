"""Workspace trust: which repositories may use ARK's privileged settings.

A repository someone just cloned is untrusted input. Its safe settings
(rules, severities, tiers, excludes, thresholds) apply at once; its
privileged ones (where ARK writes, which sandbox runs its code and with what
limits and network, template overrides) apply only once the user trusts the
workspace, the way direnv's ``allow`` works: ``ark trust PATH`` records the
workspace's path with a fingerprint of what it asks for, so a change of the
privileged settings asks again.

The records live in the user's data folder (``trust.json``), which neither a
repository nor a sandboxed run can write. The same file remembers the rule
pack each of the user's index databases held when ARK last wrote it: a
database ARK did not write here (committed to a repository, copied from
elsewhere, edited by code ARK ran) is not a rule source.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ark_lsp.rules import DEFAULT_RULES, Rule, with_current_built_ins

# Where ARK's user folders have always been found; ark_lsp.user_folders says where they are.
from ark_lsp.user_folders import user_cache_folder as user_cache_folder
from ark_lsp.user_folders import user_config_folder
from ark_lsp.user_folders import user_data_folder as user_data_folder

TRUST_FILE = "trust.json"
_FORMAT = 1


def user_config_file() -> Path:
    """The user's own settings file (``$XDG_CONFIG_HOME/ark/config.toml`` on Linux)."""
    return user_config_folder() / "config.toml"


@dataclass(frozen=True)
class TrustRecord:
    """One workspace the user trusted."""

    root: str
    fingerprint: str
    """What the workspace asked for when it was trusted (:attr:`PrivilegedRequest.fingerprint`)."""
    trusted_at: str


class TrustStore:
    """The user's trust decisions and the rule packs ARK wrote, in one JSON file.

    Reads never fail: an unreadable file trusts nothing. Writes replace the
    file atomically under a lock, so the server and a command line running
    at once cannot lose each other's records.
    """

    def __init__(self, path: Path | None = None) -> None:
        """Use ``path`` (default: ``trust.json`` in :func:`user_data_folder`)."""
        self.path = path or user_data_folder() / TRUST_FILE

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _update(self, change: Callable[[dict[str, Any]], None]) -> None:
        with self._locked():
            data = self._read()
            data["format"] = _FORMAT
            change(data)
            import tempfile  # only to write, not at every start

            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".trust-")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    json.dump(data, file, indent=2, sort_keys=True)
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise

    def _workspaces(self) -> dict[str, Any]:
        found = self._read().get("workspaces")
        return found if isinstance(found, dict) else {}

    def record(self, root: Path, fingerprint: str) -> None:
        """Trust ``root`` for as long as its privileged settings match ``fingerprint``."""
        from ark_lsp.store.connection import utc_now

        entry = {"fingerprint": fingerprint, "trusted_at": utc_now()}

        def add(data: dict[str, Any]) -> None:
            data.setdefault("workspaces", {})[_key(root)] = entry

        self._update(add)

    def revoke(self, root: Path) -> bool:
        """Forget the trust in ``root``; whether there was any."""
        had = _key(root) in self._workspaces()
        if had:
            self._update(lambda data: data.get("workspaces", {}).pop(_key(root), None))
        return had

    def find(self, root: Path) -> TrustRecord | None:
        """The record of ``root``, whatever it asked for then."""
        entry = self._workspaces().get(_key(root))
        if not isinstance(entry, dict):
            return None
        return TrustRecord(
            root=_key(root),
            fingerprint=str(entry.get("fingerprint", "")),
            trusted_at=str(entry.get("trusted_at", "")),
        )

    def records(self) -> list[TrustRecord]:
        """Every trusted workspace, by path."""
        return [
            record
            for key in sorted(self._workspaces())
            if (record := self.find(Path(key))) is not None
        ]

    def rule_pack_is_known(self, database: Path, digest: str) -> bool:
        """Whether ARK itself last left ``database``'s rule pack as ``digest``."""
        packs = self._read().get("rule_packs")
        return isinstance(packs, dict) and packs.get(_key(database)) == digest

    def record_rule_pack(self, database: Path, digest: str) -> None:
        """Remember the rule pack ARK has just written to ``database``."""

        def remember(data: dict[str, Any]) -> None:
            data.setdefault("rule_packs", {})[_key(database)] = digest

        self._update(remember)


def _key(path: Path) -> str:
    return str(Path(path).resolve())


_DECISIVE_RULE_FIELDS = ("kind", "pattern", "keyword", "condition", "tiers", "enabled", "severity")
"""What decides whether a rule finds anything; names and messages do not."""

_BUILT_IN_SINCE_RECORDS = frozenset({"file-not-checked"})
"""Names of built-in rules added after ARK began recording rule packs.

A newer ARK seeds them into a database whose pack the user adopted before;
left as they come they change nothing the user decided, so they are left
out of the fingerprint, and the pack the user adopted stays theirs.
"""


def rule_pack_digest(rules: Sequence[Rule]) -> str:
    """A fingerprint of what a rule pack makes of the built-in rules, order aside.

    Rules of the user's own only add findings, so they are left out: adding
    one needs no new record, and neither does a newer ARK seeding new rules.
    """
    builtin_ids = {rule.id for rule in DEFAULT_RULES}
    as_seeded = {_decisive(rule) for rule in DEFAULT_RULES if rule.name in _BUILT_IN_SINCE_RECORDS}
    rows = sorted(
        repr(_decisive(rule))
        for rule in rules
        if rule.id in builtin_ids
        and not (rule.name in _BUILT_IN_SINCE_RECORDS and _decisive(rule) in as_seeded)
    )
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def _decisive(rule: Rule) -> tuple[object, ...]:
    return (rule.id, *(getattr(rule, name) for name in _DECISIVE_RULE_FIELDS))


def weakened_rules(rules: Sequence[Rule]) -> list[str]:
    """Ids of built-in rules that ``rules`` drops or switches off (an id may name several rules).

    A built-in rule stored as an older ARK defined it is checked as this one
    defines it (:func:`~ark_lsp.rules.with_current_built_ins`): that is no
    change of the user's.
    """
    stored = {_decisive(rule) for rule in with_current_built_ins(rules)}
    return sorted({rule.id for rule in DEFAULT_RULES if _decisive(rule) not in stored})


def rules_in_force(
    stored: Sequence[Rule], database: Path, store: TrustStore | None = None
) -> tuple[tuple[Rule, ...], str | None]:
    """The rule pack to check with, from a database's, and why it was not taken if it was not.

    A pack that leaves the built-in rules on is taken, each built-in rule as
    this ARK defines it. One that switches them off or drops them is taken
    only if ARK itself left it so for this user (``ark rules``, ``ark
    trust``): otherwise it came from somewhere else (a database committed to
    the repository, code that wrote to it), and the built-in rules apply,
    with the database's own additions.
    """
    weakened = weakened_rules(stored)
    # The digest is of the rows as stored, as it was when the user adopted them.
    if not weakened or (store or TrustStore()).rule_pack_is_known(
        database, rule_pack_digest(stored)
    ):
        return with_current_built_ins(stored), None
    builtin_ids = {rule.id for rule in DEFAULT_RULES}
    kept = DEFAULT_RULES + tuple(rule for rule in stored if rule.id not in builtin_ids)
    return kept, (
        f"{database}: its rule pack changes {', '.join(weakened)}, but not through ARK "
        "by you (a database committed to the repository, or written by other code); "
        "checking with the built-in rules (`ark trust` adopts the pack)"
    )


def adopt_rule_pack(
    stored: Sequence[Rule], database: Path, store: TrustStore | None = None
) -> None:
    """Record ``stored`` as the rule pack the user left in ``database``."""
    (store or TrustStore()).record_rule_pack(database, rule_pack_digest(stored))


__all__ = [
    "TrustRecord",
    "TrustStore",
    "adopt_rule_pack",
    "rule_pack_digest",
    "rules_in_force",
    "user_cache_folder",
    "user_config_file",
    "user_data_folder",
    "weakened_rules",
]
