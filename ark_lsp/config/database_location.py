"""Where a workspace's index lives: its own `.ark/`, a place the user chose, or the cache."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ark_lsp.config.paths import STATE_DIR, resolves_inside
from ark_lsp.trust import user_cache_folder

if TYPE_CHECKING:
    from ark_lsp.config.sections import Settings

DATABASE_ENV = "ARK_DATABASE"
"""Environment variable that overrides where the index database lives."""


def database_path(root: Path, settings: Settings) -> Path:
    """Where the index of the workspace at ``root`` lives.

    ``ARK_DATABASE`` or the ``database`` setting when given (a workspace can
    only set it inside its own ``.ark/``, see :func:`~ark_lsp.config.load_settings`);
    else ``.ark/index.db``, unless the workspace's ``.ark`` is not a real folder
    of its own (a link out of it, say), when the index goes to the user's
    cache instead, so that opening a folder never writes outside it.
    """
    configured = os.environ.get(DATABASE_ENV) or settings.database
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else root / path
    state = root / STATE_DIR
    if state.is_symlink() or not resolves_inside(state, root):
        return cached_database_path(root)
    return state / "index.db"


def cached_database_path(root: Path) -> Path:
    """The index of ``root`` in the user's cache, for workspaces ARK may not write in."""
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return user_cache_folder() / "indexes" / f"{root.name or 'root'}-{key}" / "index.db"
