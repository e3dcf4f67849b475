"""Fixtures of the gate's tests: a real repository with a committed base, and its project."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.git_repos import make_repo

from ark_lsp.project import Project
from ark_lsp.trust import TrustStore

PYPROJECT = '[project]\nname = "shop"\n'

PRICING = '''\
"""Prices."""


def total(prices, discount=0.0):
    """The sum of prices less the discount."""
    return sum(prices) - discount


def label(price):
    if price > 100:
        return "expensive"
    return "cheap"
'''


class Loader:
    """Loads a folder as both front ends do, with trust records of the test's own."""

    def __init__(self, trust_store: TrustStore) -> None:
        self.trust_store = trust_store

    def __call__(self, root: Path) -> Project:
        return Project.load(root.resolve(), trust_store=self.trust_store)


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's cache, where the gate checks commits out: the test's own."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache / "ark"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose one commit is a small package."""
    return make_repo(
        tmp_path / "shop",
        {"pyproject.toml": PYPROJECT, "shop/__init__.py": "", "shop/pricing.py": PRICING},
    )


@pytest.fixture
def load(tmp_path: Path) -> Loader:
    """Loads a folder as a project, with trust records of the test's own."""
    return Loader(TrustStore(tmp_path / "user" / "trust.json"))
