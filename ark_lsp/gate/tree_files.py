"""Reading a base or head tree's files: bounded, and never through a link out of the tree.

A change is untrusted input, and so is what it checks out: a file may be a
link to ``/etc/shadow``, a FIFO, or a gigabyte of text. The gate's checks read
the trees here, through :func:`~ark_lsp.files.read_contained`, and give a tool
only files :func:`tool_may_read` allows.
"""

from __future__ import annotations

import configparser
import tomllib
from pathlib import Path
from typing import Any

from ark_lsp.files import read_contained
from ark_lsp.gate.model import FileStatus, GateInput

MAX_SOURCE_SIZE = 10_000_000
"""Bytes of one source file the gate reads (as ``max_file_size``'s default)."""

MAX_CONFIG_SIZE = 1_000_000
"""Bytes of one configuration file (``pyproject.toml``, ``setup.cfg``) the gate reads."""


def read_text(tree: Path, relative: str, max_size: int = MAX_SOURCE_SIZE) -> str | None:
    """The text of a file of ``tree``; ``None`` when missing, unreadable, outside, or too large."""
    try:
        data = read_contained(tree / relative, [tree], max_size)
    except OSError:
        return None
    return data.decode("utf-8", "replace")


def tool_may_read(tree: Path, relative: str) -> bool:
    """Whether a tool may be given this file: a regular file of ``tree``, reached through no link.

    mypy and pylint follow links; a changed ``evil.py`` that links to a
    secret would put the secret's text into their messages.
    """
    root = tree.resolve()
    path = root / relative
    try:
        return path.resolve() == path and path.is_file()
    except (OSError, ValueError):
        return False


def python_files_for_tools(gate_input: GateInput) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The touched Python files a tool may read, as ``(base paths, head paths)``.

    The base side keeps a file the change deleted or renamed: its code may
    have moved, and its old findings with it.
    """
    base = tuple(
        f.base_path
        for f in gate_input.files
        if f.is_python
        and f.status is not FileStatus.ADDED
        and tool_may_read(gate_input.base_dir, f.base_path)
    )
    head = tuple(
        f.path for f in gate_input.python_files if tool_may_read(gate_input.head_dir, f.path)
    )
    return base, head


def toml_tables(tree: Path, relative: str) -> dict[str, Any] | None:
    """A TOML file of ``tree`` as tables; ``None`` when absent, unreadable or invalid."""
    text = read_text(tree, relative, MAX_CONFIG_SIZE)
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def tool_table(tables: dict[str, Any] | None, name: str) -> Any:
    """``[tool.NAME]`` of a ``pyproject.toml`` read by :func:`toml_tables`; ``None`` if absent.

    A repository may make ``tool`` anything (``tool = 1``): that is no table.
    """
    tool = (tables or {}).get("tool")
    return tool.get(name) if isinstance(tool, dict) else None


def ini_sections(tree: Path, relative: str) -> configparser.ConfigParser | None:
    """An INI file of ``tree`` (``setup.cfg``, ``mypy.ini``); ``None`` when absent or invalid.

    Read without interpolation (``%(name)s`` stays text) and tolerating
    repeated keys, as the tools themselves read these files.
    """
    text = read_text(tree, relative, MAX_CONFIG_SIZE)
    if text is None:
        return None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return parser
