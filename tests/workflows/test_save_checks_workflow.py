"""mypy and pylint on a saved file: real tools on a real workspace, as the editor asks for them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ark_lsp.project import Project
from ark_lsp.trust import TrustStore
from ark_lsp.workflows.save_checks import (
    NOT_VOUCHED,
    SWITCHED_OFF,
    check_saved_file,
)
from ark_lsp.workflows.trust import trust_workspace

CART = textwrap.dedent(
    '''\
    """The cart."""

    from shop.pricing import total


    def label(price: int) -> str:
        """The price as shown."""
        return price


    def checkout(prices: list[float]) -> float:
        """What the customer pays."""
        unused = len(prices)
        return total(prices, "none")
    '''
)


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's cache, where mypy's cache for the editor lives: the test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "ark"


@pytest.fixture
def trusted(shop: Path, trust_store: TrustStore) -> Project:
    (shop / "shop" / "cart.py").write_text(CART)
    trust_workspace(shop.resolve(), trust_store)
    return Project.load(shop.resolve(), trust_store=trust_store)


def test_mypy_finds_the_saved_files_type_errors_where_they_are(
    trusted: Project, user_cache: Path
) -> None:
    checked = check_saved_file(trusted, "shop/cart.py", "types")

    assert (checked.skipped, checked.failed) == (None, None)
    found = sorted((f.line, f.column, f.end_column, f.code) for f in checked.findings)
    # `return price` (an int for a str), and the call of total() that checkout.py's import
    # resolves in the workspace: a str where pricing.py's signature takes a float.
    assert found == [(8, 12, 17, "return-value"), (14, 26, 32, "arg-type")]
    assert {f.path for f in checked.findings} == {"shop/cart.py"}
    # Its incremental cache is ARK's, in the user's cache, not in the workspace.
    assert not (trusted.root / ".mypy_cache").exists()
    assert any((user_cache / "gate" / "mypy").glob("*/editor"))


def test_pylint_reports_the_messages_the_gate_would_count(trusted: Project) -> None:
    checked = check_saved_file(trusted, "shop/cart.py", "lint")

    assert (checked.skipped, checked.failed) == (None, None)
    # The gate's lint-severity is "warning": conventions (a missing docstring...) are left out.
    assert [(f.line, f.column, f.code, f.severity) for f in checked.findings] == [
        (13, 5, "unused-variable", "warning")
    ]
    [message] = checked.findings
    assert message.message == "Unused variable 'unused' (W0612)"


def test_a_file_that_does_not_parse_is_left_to_ark000(trusted: Project) -> None:
    (trusted.root / "shop" / "cart.py").write_text("def broken(:\n    pass\n")

    for tool in ("types", "lint"):
        checked = check_saved_file(trusted, "shop/cart.py", tool)
        assert (checked.findings, checked.skipped, checked.failed) == ((), None, None), tool


def test_nothing_runs_in_a_workspace_the_user_has_not_trusted(
    shop: Path, trust_store: TrustStore, user_cache: Path
) -> None:
    (shop / "shop" / "cart.py").write_text(CART)
    project = Project.load(shop.resolve(), trust_store=trust_store)

    checked = check_saved_file(project, "shop/cart.py", "types")

    assert checked.skipped == NOT_VOUCHED
    assert checked.findings == ()
    assert not user_cache.exists()  # mypy never started


def test_the_setting_switches_them_off(shop: Path, trust_store: TrustStore) -> None:
    (shop / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n[tool.ark]\ntypes-and-lint-on-save = false\n'
    )
    trust_workspace(shop.resolve(), trust_store)
    project = Project.load(shop.resolve(), trust_store=trust_store)

    assert check_saved_file(project, "shop/pricing.py", "lint").skipped == SWITCHED_OFF


def test_a_link_out_of_the_workspace_is_not_given_to_the_tools(
    trusted: Project, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.py"
    secret.write_text("password: int = 'hunter2'\n")
    os.symlink(secret, trusted.root / "shop" / "linked.py")

    checked = check_saved_file(trusted, "shop/linked.py", "types")

    assert checked.skipped == "not a regular file of the workspace"
    assert checked.findings == ()


def test_a_tool_missing_from_the_interpreter_is_skipped_saying_so(
    trusted: Project, tmp_path: Path
) -> None:
    bare = tmp_path / "bare"  # an interpreter with no mypy, as VS Code's may be
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", bare], check=True)

    checked = check_saved_file(trusted, "shop/cart.py", "types", python=str(bare / "bin/python"))

    assert (checked.findings, checked.failed) == ((), None)
    assert checked.skipped == f"mypy is not installed for {bare / 'bin' / 'python'}"
