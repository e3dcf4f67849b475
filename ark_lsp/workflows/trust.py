"""Trusting a workspace: what ``ark trust``, ``:ArkTrust`` and the ``ark.trust`` command do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ark_lsp.config import PrivilegedRequest, load_settings
from ark_lsp.project import Project
from ark_lsp.store import StoreError
from ark_lsp.trust import TrustStore, adopt_rule_pack, weakened_rules


@dataclass(frozen=True)
class Trusted:
    """What trusting a workspace granted."""

    root: Path
    request: PrivilegedRequest
    """The privileged settings and templates that now apply."""
    adopted_rule_pack: Path | None = None
    """The database whose changed rule pack is now in force, when it changes built-in rules."""
    problem: str | None = None
    """Why the database's rule pack could not be looked at, if it could not."""


def trust_workspace(root: Path, store: TrustStore | None = None) -> Trusted:
    """Record the user's trust in ``root`` as it asks today, and adopt its rule pack.

    Raises :class:`OSError` when the trust cannot be recorded.
    """
    store = store or TrustStore()
    request = load_settings(root, store=store).request
    store.record(root, request.fingerprint)
    # Now trusted, the workspace may keep its index elsewhere in .ark/: adopt the one in force.
    # Found without opening it: trusting a workspace creates no database.
    project = Project(root, load_settings(root, store=store), trust_store=store)
    location = project.database
    if not location.is_file():
        return Trusted(root, request)
    try:
        with project.open_store() as database:
            stored = database.rules.load()
    except StoreError as error:
        return Trusted(root, request, problem=str(error))
    if not weakened_rules(stored):
        return Trusted(root, request)
    adopt_rule_pack(stored, location, store)
    return Trusted(root, request, adopted_rule_pack=location)
