"""What the docker sandbox tests share: how a missing engine fails or skips them."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

REQUIRE_DOCKER = os.environ.get("ARK_REQUIRE_DOCKER") == "1"


def docker_missing(reason: str) -> NoReturn:
    """Fail when docker is required, skip otherwise."""
    if REQUIRE_DOCKER:
        pytest.fail(f"ARK_REQUIRE_DOCKER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class DockerSetup:
    client: Any
    image: str


def lean_interpreter(folder: Path, *, with_coverage: bool = True) -> Path:
    """A venv at ``folder`` holding pytest (and coverage.py) only, linked from the tests' own.

    What the gate's sandboxed checks need and no other plugin, so a local
    sandbox run starts fast. The links lead into the environment running
    the tests, which the local sandbox lends read-only anyway (its
    interpreter runs there).
    """
    import _pytest
    import coverage
    import iniconfig
    import packaging
    import pluggy
    import pygments

    from support.packaging import fresh_venv

    python = fresh_venv(folder, with_pip=False)
    (site,) = folder.glob("lib/python3*/site-packages")
    packages = [_pytest, pluggy, iniconfig, packaging, pygments]
    packages += [coverage] if with_coverage else []
    for module in packages:
        source = Path(module.__file__ or "").parent
        (site / source.name).symlink_to(source)
    pytest_folder = Path(pytest.__file__).parent
    (site / "pytest").symlink_to(pytest_folder)
    shim = pytest_folder.parent / "py.py"  # pytest's own stand-in for the old `py` library
    if shim.exists():
        (site / "py.py").symlink_to(shim)
    return python


def add_pytest_cov(python: Path) -> None:
    """pytest-cov installed into the lean interpreter ``python``, from the package index.

    Not in the tests' own environment, whose Python other tests use as a
    sandbox without it (its ``no_cover`` mark must stay unknown there).
    Skipped when the index cannot be reached, and failed under CI, which reaches it.
    """
    (site,) = python.parent.parent.glob("lib/python3*/site-packages")
    install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site]
    done = subprocess.run(
        [*install, "pytest-cov>=4"], capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        reason = f"pytest-cov could not be installed: {done.stderr.strip()[-500:]}"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
