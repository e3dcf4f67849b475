"""Fixtures of the change-set tests: a real repository, and a cache folder of the test's own."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support.git_repos import make_repo

PRICING = textwrap.dedent(
    '''\
    """Prices."""


    def total(prices: list[float], discount: float = 0.0) -> float:
        """The sum of ``prices`` less ``discount``."""
        return sum(prices) - discount


    def parse(text: str) -> object:
        return eval(text)
    '''
)

FILES = {
    "pyproject.toml": '[project]\nname = "shop"\n',
    "shop/__init__.py": "",
    "shop/pricing.py": PRICING,
    "README.md": "A shop.\n",
}


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's cache for this test (and every ``ark`` it starts): where worktrees go."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository of a small project, one commit on main."""
    return make_repo(tmp_path / "shop", FILES)
