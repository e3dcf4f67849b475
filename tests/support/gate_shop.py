"""The shop the gate's end-to-end tests judge changes on: its sources, and the project loaded.

A small shop (``shop/pricing.py`` and its tests) that ``tests/gate``'s
modules extend with files of their own; each module makes it a git
repository once (:func:`shop_project`), loaded as ARK loads it with the
user's own settings: the local sandbox with the lean interpreter (pytest
and coverage.py), a timeout and memory a loaded 2-core machine needs.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ark_lsp.project import Project
from ark_lsp.trust import TrustStore
from support.git_repos import make_repo
from support.sandboxes import lean_interpreter


def dedent(text: str) -> str:
    """``text`` dedented, without its first newline: a file's source written inline."""
    return textwrap.dedent(text).lstrip("\n")


PRICING = dedent(
    '''
    """Prices of the shop's goods."""


    def total(prices, discount=0):
        """The sum of ``prices`` less ``discount``."""
        return sum(prices) - discount


    def label(price):
        """A word for how dear ``price`` is."""
        if price > 100:
            return "expensive"
        return "cheap"
    '''
)
"""``shop/pricing.py``."""

TEST_PRICING = dedent(
    """
    from shop.pricing import label, total


    def test_total_is_the_sum_less_the_discount():
        assert total([1, 2]) == 3
        assert total([10], discount=4) == 6


    def test_cents_are_kept():
        assert total([0.5, 0.25]) == 0.75


    def test_label():
        assert label(101) == "expensive"
        assert label(100) == "cheap"
    """
)
"""``tests/test_pricing.py``: three tests, each running one function or both."""


def user_settings(python: Path) -> dict[str, object]:
    """The user's own layer: where the project's code runs, nothing of the gate's settings."""
    return {
        "sandbox": {"backend": "local", "python": str(python), "timeout": 120, "memory": "512m"}
    }


@dataclass(frozen=True)
class ShopProject:
    """The shop's repository, the lean interpreter, the user's cache and the loaded project."""

    repo: Path
    python: Path
    cache: Path
    """The user's cache folder (``XDG_CACHE_HOME``)."""
    project: Project


@contextmanager
def shop_project(
    tmp_path_factory: pytest.TempPathFactory, name: str, files: Mapping[str, str]
) -> Iterator[ShopProject]:
    """``files`` committed as a repository, and loaded with the user's settings.

    For a module-scoped fixture: the user's cache (mypy's, the test maps,
    the change sets' worktrees) is set for as long as the context lasts, so
    it warms over the module's gate runs.
    """
    folder = tmp_path_factory.mktemp(name)
    python = lean_interpreter(folder / "venv")
    repo = make_repo(folder / "shop", files)
    cache = folder / "cache"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_CACHE_HOME", str(cache))
        project = Project.load(
            repo,
            layers=[("the user's settings", user_settings(python))],
            trust_store=TrustStore(folder / "trust.json"),
        )
        yield ShopProject(repo, python, cache, project)
