"""ARK's per-user folders (data, settings, cache), where platformdirs puts them.

platformdirs decides them. Importing it imports tempfile, shutil and random
too, and every start of the server needs these folders (its compiled-code
cache, the user's settings, the trust records) before its first
diagnostics. On Linux, where platformdirs follows the XDG base directory
spec, the answer is read from the environment as platformdirs reads it when
nothing is unusual (an absolute ``HOME``); anything else (another system, a
relative or missing ``HOME``, Android) is asked of platformdirs itself.
tests/engine/test_user_folders.py holds the two to the same answers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "ark"


def user_data_folder() -> Path:
    """ARK's per-user data folder (``$XDG_DATA_HOME/ark`` on Linux)."""
    found = _xdg_folder("XDG_DATA_HOME", "~/.local/share")
    if found is not None:
        return found
    import platformdirs

    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def user_config_folder() -> Path:
    """ARK's per-user settings folder (``$XDG_CONFIG_HOME/ark`` on Linux)."""
    found = _xdg_folder("XDG_CONFIG_HOME", "~/.config")
    if found is not None:
        return found
    import platformdirs

    return platformdirs.user_config_path(APP_NAME, appauthor=False)


def user_cache_folder() -> Path:
    """ARK's per-user cache folder (``$XDG_CACHE_HOME/ark`` on Linux)."""
    found = _xdg_folder("XDG_CACHE_HOME", "~/.cache")
    if found is not None:
        return found
    import platformdirs

    return platformdirs.user_cache_path(APP_NAME, appauthor=False)


def _xdg_folder(variable: str, default: str) -> Path | None:
    """The folder as platformdirs' XDG rules give it on Linux; None where they may not apply."""
    if sys.platform != "linux" or hasattr(sys, "getandroidapilevel"):
        return None
    if "ANDROID_DATA" in os.environ:  # platformdirs may take it for an Android app
        return None
    chosen = os.environ.get(variable, "")
    if not os.path.isabs(chosen):  # platformdirs ignores a relative or empty variable
        home = os.environ.get("HOME", "")
        if not os.path.isabs(home):  # platformdirs looks the user up: let it
            return None
        chosen = os.path.expanduser(default)
    return Path(os.path.join(chosen, APP_NAME))
