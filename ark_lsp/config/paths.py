"""Where ARK keeps its things in a workspace: its state folder and templates.

Names only, and no disk access beyond resolving a path: the analysis reads
:data:`GENERATED_DIR` through the settings. Where the index lives, which
may be the user's cache, is :mod:`ark_lsp.config.database_location`.
"""

from __future__ import annotations

from pathlib import Path

GENERATED_DIR = "ark_generated"
"""Folder, relative to the workspace root, where ARK writes generated code."""

STATE_DIR = ".ark"
"""The workspace folder ARK owns: its index, and the workspace's template overrides."""

WORKSPACE_TEMPLATES = Path(STATE_DIR) / "templates"
"""Where, relative to the workspace root, a workspace keeps its own templates."""

ROOT_MARKERS = ("pyproject.toml", ".git", STATE_DIR, "setup.py", "setup.cfg")
"""What makes a folder a workspace root: the nearest folder holding one is the workspace."""


def is_workspace_root(folder: Path) -> bool:
    """Whether ``folder`` holds a workspace marker (:data:`ROOT_MARKERS`)."""
    return any((folder / marker).exists() for marker in ROOT_MARKERS)


def resolves_inside(path: Path, folder: Path) -> bool:
    """Whether ``path``, its links followed, is ``folder`` or inside it."""
    return path.resolve().is_relative_to(folder.resolve())
