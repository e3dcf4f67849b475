"""What the packaging tests share: the built distributions, the wheelhouse, fresh Pythons.

Installing needs ARK's dependencies; the tests take them from a wheelhouse
that ``scripts/wheelhouse`` fills while PyPI is reachable (``scripts/test``
runs it first), and install with no index. Without one they skip on a
developer's machine and fail under CI (``CI=true``) or
``ARK_REQUIRE_WHEELHOUSE=1``, so CI never passes by skipping.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

_UNSET = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONSAFEPATH")


def plain_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment in which a Python sees only its own packages.

    The tests run with ``PYTHONPATH`` naming the checkout: a Python started
    with it would import ARK from there, whatever it has installed.
    """
    env = dict(os.environ if base is None else base)
    for name in _UNSET:
        env.pop(name, None)
    return env


def offline_pip_env(wheelhouse: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """``plain_env`` for pip: no index, no configuration file, the wheelhouse as the source."""
    env = {name: value for name, value in plain_env(base).items() if not name.startswith("PIP_")}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheelhouse),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
    )
    return env


def _required() -> bool:
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    return ci or os.environ.get("ARK_REQUIRE_WHEELHOUSE", "") not in ("", "0")


def wheelhouse() -> Path:
    """The filled wheelhouse (``scripts/wheelhouse``: quick once filled)."""
    done = subprocess.run(
        [REPO / "scripts" / "wheelhouse"],
        env=dict(os.environ, ARK_PYTHON=sys.executable),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        reason = f"scripts/wheelhouse failed (PyPI unreachable?): {done.stderr.strip()[-2000:]}"
        if _required():
            pytest.fail(f"{reason} (required: CI or ARK_REQUIRE_WHEELHOUSE is set)", pytrace=False)
        pytest.skip(reason)
    return Path(done.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class Distributions:
    sdist: Path
    wheel: Path
    """Built from the sdist, as ``python -m build`` does."""


def build_distributions(out: Path) -> Distributions:
    """Build the sdist, then the wheel from it, with the test environment's hatchling."""
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", out, REPO],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"python -m build failed:\n{done.stdout}\n{done.stderr}"
    (sdist,) = out.glob("ark_lsp-*.tar.gz")
    (wheel,) = out.glob("ark_lsp-*-py3-none-any.whl")
    return Distributions(sdist, wheel)


def build_wheel_from_tree(out: Path) -> Path:
    """The wheel built straight from the checkout, as ``pip install .`` builds it."""
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", out, REPO],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"python -m build --wheel failed:\n{done.stdout}\n{done.stderr}"
    (wheel,) = out.glob("ark_lsp-*-py3-none-any.whl")
    return wheel


def fresh_venv(folder: Path, *, with_pip: bool = True) -> Path:
    """A new virtual environment of the interpreter running the tests; its ``python``."""
    command = [sys.executable, "-m", "venv", folder]
    if not with_pip:
        command.append("--without-pip")
    done = subprocess.run(command, env=plain_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return folder / "bin" / "python"


def assert_cannot_import_ark(python: Path | str, cwd: Path) -> None:
    """Fail unless ``python`` on its own (no ``PYTHONPATH``) cannot import ``ark_lsp``."""
    probe = subprocess.run(
        [python, "-c", "import ark_lsp"],
        cwd=cwd,
        env=plain_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode != 0, f"{python} imports ark_lsp by itself: not a plain interpreter"
    assert "No module named 'ark_lsp'" in probe.stderr, probe.stderr
