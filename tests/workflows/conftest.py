"""Fixtures of the workflow tests: a small workspace and its project, with trust of their own."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from ark_lsp.project import Project
from ark_lsp.trust import TrustStore

SHOP = {
    "pyproject.toml": '[project]\nname = "shop"\n',
    "shop/__init__.py": "",
    "shop/pricing.py": textwrap.dedent(
        '''\
        """Prices."""


        def total(prices: list[float], discount: float = 0.0) -> float:
            """The sum of ``prices`` less ``discount``."""
            return sum(prices) - discount


        def risky(expression: str) -> object:
            return eval(expression)
        '''
    ),
    "shop/checkout.py": textwrap.dedent(
        """\
        from shop.pricing import total


        def pay():
            return total([1.5, 2.5], 1.0)
        """
    ),
}


def _write_tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def write_tree() -> Callable[[Path, dict[str, str]], Path]:
    """Writes files (relative path -> text) under a folder and returns the folder."""
    return _write_tree


@pytest.fixture
def trust_store(tmp_path: Path) -> TrustStore:
    """The user's trust records, in a file of the test's own."""
    return TrustStore(tmp_path / "user" / "trust.json")


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A workspace with two modules, one of which calls the other, and one finding."""
    return _write_tree(tmp_path / "shop-repo", SHOP)


@pytest.fixture
def project(shop: Path, trust_store: TrustStore) -> Project:
    """The shop workspace as both front ends load it."""
    return Project.load(shop.resolve(), trust_store=trust_store)
