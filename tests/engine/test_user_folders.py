"""ARK's user folders are where platformdirs puts them, whatever the environment says.

ark_lsp.user_folders reads the XDG variables itself on Linux (platformdirs'
import is too slow for a start); each environment here is one a user may
have, and platformdirs' answer is the one expected.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import platformdirs
import pytest

from ark_lsp import trust, user_folders

FOLDERS: list[tuple[str, Callable[[], Path], Callable[[], Path]]] = [
    (
        "XDG_DATA_HOME",
        user_folders.user_data_folder,
        lambda: platformdirs.user_data_path("ark", appauthor=False),
    ),
    (
        "XDG_CONFIG_HOME",
        user_folders.user_config_folder,
        lambda: platformdirs.user_config_path("ark", appauthor=False),
    ),
    (
        "XDG_CACHE_HOME",
        user_folders.user_cache_folder,
        lambda: platformdirs.user_cache_path("ark", appauthor=False),
    ),
]

ENVIRONMENTS: dict[str, dict[str, str | None]] = {
    "the variable set": {"HOME": "/home/someone", "XDG": "/elsewhere/xdg"},
    "the variable with a trailing slash": {"HOME": "/home/someone", "XDG": "/elsewhere/xdg/"},
    "no variable": {"HOME": "/home/someone", "XDG": None},
    "an empty variable": {"HOME": "/home/someone", "XDG": ""},
    "a relative variable": {"HOME": "/home/someone", "XDG": "relative/xdg"},
    "a home with a trailing slash": {"HOME": "/home/someone/", "XDG": None},
    "the root as home": {"HOME": "/", "XDG": None},
    "a relative home": {"HOME": "someone", "XDG": None},
    "no home": {"HOME": None, "XDG": None},
    "no home, the variable set": {"HOME": None, "XDG": "/elsewhere/xdg"},
}


@pytest.mark.parametrize("environment", ENVIRONMENTS.values(), ids=list(ENVIRONMENTS))
@pytest.mark.parametrize(("variable", "ours", "theirs"), FOLDERS, ids=[f[0] for f in FOLDERS])
def test_each_user_folder_is_where_platformdirs_puts_it(
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str | None],
    variable: str,
    ours: Callable[[], Path],
    theirs: Callable[[], Path],
) -> None:
    for name, value in (("HOME", environment["HOME"]), (variable, environment["XDG"])):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)

    try:
        expected: Path | RuntimeError = theirs()
    except RuntimeError as error:  # platformdirs finds no home: neither may ARK
        expected = error
    if isinstance(expected, RuntimeError):
        with pytest.raises(RuntimeError):
            ours()
    else:
        assert ours() == expected


def test_the_trust_records_and_settings_live_in_those_folders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))

    assert trust.user_config_file() == tmp_path / "config" / "ark" / "config.toml"
    assert trust.user_data_folder() == tmp_path / "data" / "ark"
