"""The peers of ``peer_latency.py``: installed at pinned versions, and how to start each server.

The peers go into ``benchmarks/.cache/peers/`` (a venv from PyPI, pyright
from npm), never into ARK's environment; the first run installs them, a
file of the pins marks them installed, and later runs reuse them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import progress_to_stderr
from corpus import CACHE

REPOSITORY = Path(__file__).resolve().parent.parent
PEERS = CACHE / "peers"
PEER_VENV = PEERS / "venv"
PEER_NPM = PEERS / "npm"
PYPI_PINS = (
    "ruff==0.17.6",
    "python-lsp-server==1.15.0",
    # pylsp's default linters: it runs each that is installed.
    "pyflakes==3.2.0",
    "pycodestyle==2.12.1",
    "mccabe==0.7.0",
    "jedi-language-server==0.47.0",
    "jedi==0.20.1",
)
NPM_PINS = ("pyright@1.1.414",)
ARK = "ARK"
"""The name ARK's server goes by in the rows and ratios."""
PEER_NAMES = ("ruff server", "pylsp", "jedi-language-server", "pyright")
QUICK_PEERS = ("ruff server",)

progress = progress_to_stderr("peer_latency")


class PeerInstallError(Exception):
    """The peers could not be installed (one-line message)."""


@dataclass(frozen=True)
class Server:
    """How to start one language server."""

    name: str
    version: str
    command: tuple[str, ...]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] | None = None


def _installed(stamp: Path, pins: Sequence[str]) -> bool:
    return stamp.is_file() and stamp.read_text() == "\n".join(pins)


def _run_installer(command: Sequence[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PeerInstallError(f"cannot install {what}: {last[0]}")


def install_pypi_peers() -> Path:
    """The peers' venv with PYPI_PINS installed (once); returns its ``bin`` folder."""
    stamp = PEER_VENV / "pins.txt"
    if not _installed(stamp, PYPI_PINS):
        progress(f"installing {', '.join(PYPI_PINS)} into {PEER_VENV}")
        shutil.rmtree(PEER_VENV, ignore_errors=True)
        venv.EnvBuilder(with_pip=True).create(PEER_VENV)
        pip = [str(PEER_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        _run_installer([*pip, *PYPI_PINS], "the PyPI peers")
        stamp.write_text("\n".join(PYPI_PINS))
    return PEER_VENV / "bin"


def install_npm_peers() -> Path | None:
    """pyright from npm (once); its ``.bin`` folder, or None without npm."""
    npm = shutil.which("npm")
    if npm is None:
        return None
    stamp = PEER_NPM / "pins.txt"
    if not _installed(stamp, NPM_PINS):
        progress(f"installing {', '.join(NPM_PINS)} into {PEER_NPM}")
        shutil.rmtree(PEER_NPM, ignore_errors=True)
        PEER_NPM.mkdir(parents=True)
        _run_installer(
            [npm, "install", "--prefix", str(PEER_NPM), "--no-audit", "--no-fund", *NPM_PINS],
            "pyright",
        )
        stamp.write_text("\n".join(NPM_PINS))
    return PEER_NPM / "node_modules" / ".bin"


def _pin(pins: Sequence[str], name: str, separator: str) -> str:
    return next(pin.split(separator)[1] for pin in pins if pin.startswith(name + separator))


def servers(root: Path, database: Path, peers: Sequence[str]) -> tuple[list[Server], list[str]]:
    """ARK and the ``peers`` asked for, and notes on any left out."""
    from ark_lsp import __version__ as ark_version

    ark = Server(
        ARK,
        ark_version,
        (sys.executable, "-m", "ark_lsp"),
        # `-m ark_lsp` imports from its working folder first: this repository's ARK.
        cwd=REPOSITORY,
        env={"ARK_DATABASE": str(database)},
    )
    chosen, notes = [ark], []
    pypi = install_pypi_peers()
    candidates = {
        "ruff server": Server(
            "ruff server",
            _pin(PYPI_PINS, "ruff", "=="),
            (str(pypi / "ruff"), "server"),
            root,
            # ruff looks for its settings in the folders above a file too, and the corpus
            # lies under this repository, whose own settings exclude it: ruff would publish
            # nothing for it. Its defaults instead, as for a project with no ruff settings.
            options={"settings": {"configurationPreference": "editorOnly"}},
        ),
        "pylsp": Server(
            "pylsp", _pin(PYPI_PINS, "python-lsp-server", "=="), (str(pypi / "pylsp"),), root
        ),
        "jedi-language-server": Server(
            "jedi-language-server",
            _pin(PYPI_PINS, "jedi-language-server", "=="),
            (str(pypi / "jedi-language-server"),),
            root,
        ),
    }
    if "pyright" in peers:
        npm = install_npm_peers()
        if npm is None:
            notes.append("pyright left out: npm is not installed")
        else:
            candidates["pyright"] = Server(
                "pyright",
                _pin(NPM_PINS, "pyright", "@"),
                (str(npm / "pyright-langserver"), "--stdio"),
                root,
            )
    chosen += [candidates[name] for name in peers if name in candidates]
    return chosen, notes
