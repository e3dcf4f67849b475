"""How generation reads a workspace file: the editor's buffer when it is open, else the disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

ReadText = Callable[[Path], str | None]
"""The current text of a file: the editor's buffer when it is open, else the disk's."""


def read_disk(path: Path) -> str | None:
    """A file's text from disk; None when it is missing or unreadable."""
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def relative_to(root: Path, path: Path) -> str:
    """A path inside the workspace as the index names it."""
    return path.resolve().relative_to(root.resolve()).as_posix()


__all__ = ["ReadText", "read_disk", "relative_to"]
