"""What a repository can make mypy and pylint run when the editor saves one of its files: nothing.

The editor runs them on every save, without the user asking each time, and
only in a workspace the user trusted; trusting it grants its privileged
settings, never its code a run. As for the gate, each test first shows the
attack works on the tool run plainly, then that the save's run never
executes it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ark_lsp.project import Project
from ark_lsp.trust import TrustStore
from ark_lsp.workflows.save_checks import check_saved_file
from ark_lsp.workflows.trust import trust_workspace


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def marker_writer(marker: Path, what: str) -> str:
    return f"import pathlib; pathlib.Path({str(marker)!r}).write_text({what!r})"


def trusted_workspace(root: Path, files: dict[str, str], trust_store: TrustStore) -> Project:
    root.mkdir()
    base = {
        "pyproject.toml": '[project]\nname = "shop"\n',
        "shop/__init__.py": '"""Shop."""\n',
        "shop/prices.py": '"""Prices."""\n\n\ndef total(prices: list[int]) -> int:\n'
        '    """Sum."""\n    return sum(prices)\n',
    }
    for relative, text in {**base, **files}.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    trust_workspace(root, trust_store)
    return Project.load(root, trust_store=trust_store)


def plainly(tree: Path, *command: str) -> None:
    """Run a tool in ``tree`` as a user would, trusting the repository."""
    subprocess.run([sys.executable, *command], cwd=tree, capture_output=True, timeout=120)


def test_a_trusted_workspaces_mypy_plugin_and_pylint_hooks_never_run_on_save(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "marker"
    plugin = (
        f"{marker_writer(marker, 'mypy plugin ran')}\n"
        "from mypy.plugin import Plugin\n\n\ndef plugin(version):\n    return Plugin\n"
    )
    hook = marker_writer(marker, "pylint init-hook ran")
    files = {
        "mypy.ini": "[mypy]\nplugins = evil_plugin.py\n",
        "evil_plugin.py": plugin,
        ".pylintrc": f"[MAIN]\ninit-hook = {hook}\nload-plugins = evil_lint\n",
        "evil_lint.py": marker_writer(marker, "pylint plugin ran")
        + "\n\ndef register(linter):\n    pass\n",
        # pylint imports isort while it lints: the workspace's own must not stand in for it.
        "isort.py": marker_writer(marker, "the workspace's isort ran"),
    }
    project = trusted_workspace(
        (tmp_path / "work").resolve(), files, TrustStore(tmp_path / "trust.json")
    )
    assert project.vouched_for
    for tool in (("-m", "mypy", "shop/prices.py"), ("-m", "pylint", "shop/prices.py")):
        plainly(project.root, *tool)
        assert marker.exists(), f"the fixture's attack on {tool[1]} must be live"
        marker.unlink()

    for tool in ("types", "lint"):
        checked = check_saved_file(project, "shop/prices.py", tool)

        assert (checked.skipped, checked.failed) == (None, None), tool
        assert not marker.exists(), tool
