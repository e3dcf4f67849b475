"""Which files of a project are its tests, or shape how its tests run.

pytest's own defaults decide: ``test_*.py`` and ``*_test.py`` modules,
``conftest.py`` anywhere, and everything under a ``tests``, ``test`` or
``testing`` folder (helpers and data the tests read). The pytest
configuration files at the root decide which tests run (``addopts``,
``--deselect``), so the gate takes them from the base with the tests.
"""

from __future__ import annotations

from pathlib import PurePosixPath

TEST_FOLDERS = frozenset({"tests", "test", "testing"})
PYTEST_CONFIGURATION = frozenset(
    {"pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml"}
)
"""Root files pytest reads its configuration from."""


def is_test_module(path: str) -> bool:
    """Whether pytest collects tests from ``path`` by its name."""
    name = PurePosixPath(path).name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def is_test_file(path: str) -> bool:
    """Whether ``path`` is a test, a conftest, or lies in a tests folder."""
    parts = PurePosixPath(path).parts
    return (
        is_test_module(path)
        or (bool(parts) and parts[-1] == "conftest.py")
        or any(part in TEST_FOLDERS for part in parts[:-1])
    )


def shapes_the_tests(path: str) -> bool:
    """Whether ``path`` is a test file or the pytest configuration at the root."""
    return is_test_file(path) or path in PYTEST_CONFIGURATION
