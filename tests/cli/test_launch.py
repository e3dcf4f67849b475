"""``ark-lsp``'s options read without click: what it reads itself, and what it leaves to click."""

from __future__ import annotations

from pathlib import Path

import pytest

from ark_lsp.cli.launch import ServeOptions, plain_options


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ([], ServeOptions(None, None, "warning")),
        (["--stdio"], ServeOptions(None, None, "warning")),
        (["--tcp", "127.0.0.1:2087"], ServeOptions(("127.0.0.1", 2087), None, "warning")),
        (["--tcp=localhost:9"], ServeOptions(("localhost", 9), None, "warning")),
        (
            ["--stdio", "--log-file", "ark.log", "--log-level=debug"],
            ServeOptions(None, Path("ark.log"), "debug"),
        ),
    ],
)
def test_plain_options_are_read_without_click(arguments: list[str], expected: ServeOptions) -> None:
    assert plain_options(arguments) == expected


@pytest.mark.parametrize(
    "arguments",
    [
        ["--help"],
        ["-h"],
        ["--version"],
        ["--tcp", "2087"],
        ["--tcp"],
        ["--log-level", "loud"],
        ["--log-file", "."],
        ["--unknown"],
        ["serve"],
    ],
)
def test_anything_else_goes_to_click(arguments: list[str]) -> None:
    assert plain_options(arguments) is None
