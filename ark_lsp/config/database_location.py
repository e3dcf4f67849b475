"""Where a workspace's index lives: its own `.ark/`, a place the user chose, or the cache."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ark_lsp.config.paths import STATE_DIR, is_workspace_root, resolves_inside
from ark_lsp.trust import user_cache_folder

if TYPE_CHECKING:
    from ark_lsp.config.sections import Settings

DATABASE_ENV = "ARK_DATABASE"
"""Environment variable that overrides where the index database lives."""


@dataclass(frozen=True)
class DatabaseLocation:
    """Where the index of a workspace is, and why it is in the user's cache when it is."""

    path: Path
    cached_because: str | None = None
    """Why not in the workspace's ``.ark/``, for a note to the user; None when it is there."""


def database_path(root: Path, settings: Settings) -> Path:
    """Where the index of the workspace at ``root`` lives (see :func:`database_location`)."""
    return database_location(root, settings).path


def database_location(root: Path, settings: Settings) -> DatabaseLocation:
    """Where the index of the workspace at ``root`` lives, and why there.

    ``ARK_DATABASE`` or the ``database`` setting when given (a workspace can
    only set it inside its own ``.ark/``, see :func:`~ark_lsp.config.load_settings`);
    else ``.ark/index.db``, unless that is not ARK's to write, when the index
    goes to the user's cache instead (:func:`cached_database_path`):

    - the workspace's ``.ark`` is not a real folder of its own (a link out
      of it): opening a folder never writes outside it;
    - the folder is in no workspace (no marker at or above it: ``/tmp``, a
      home folder): a ``.ark`` there would make it one for every folder below;
    - the workspace cannot be written (a read-only checkout or file system).
    """
    configured = os.environ.get(DATABASE_ENV) or settings.database
    if configured:
        path = Path(configured).expanduser()
        return DatabaseLocation(path if path.is_absolute() else root / path)
    state = root / STATE_DIR
    cached = cached_database_path(root)
    if state.is_symlink() or not resolves_inside(state, root):
        return DatabaseLocation(cached, f"{state} is not a folder of the workspace's own")
    if not is_workspace_root(root):
        return DatabaseLocation(cached, f"{root} is in no workspace")
    if not _writable(state):
        return DatabaseLocation(cached, f"{root} cannot be written (read-only)")
    return DatabaseLocation(state / "index.db")


def _writable(state: Path) -> bool:
    """Whether ARK can keep its index in ``state``, or create it (a read-only tree says no)."""
    if not state.exists():
        return os.access(state.parent, os.W_OK)
    database = state / "index.db"
    return os.access(state, os.W_OK) and (not database.exists() or os.access(database, os.W_OK))


def cached_database_path(root: Path) -> Path:
    """The index of ``root`` in the user's cache, for workspaces ARK may not write in."""
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return user_cache_folder() / "indexes" / f"{root.name or 'root'}-{key}" / "index.db"
