"""Hover: definitions, call sites, imports, plain text for clients without markdown.

Every test runs under VS Code's and Neovim 0.11's client capabilities. The
two differ where it matters: VS Code's preset takes pushed diagnostics and
UTF-16 positions; Neovim 0.11 pulls diagnostics and speaks UTF-8.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from support.lsp import (
    hover_text,
    open_file,
    reindex,
    start,
)


@pytest.mark.asyncio
async def test_hover_on_a_definition_shows_complexity_tier_and_callers(
    client: LanguageClient, workspace: Path
) -> None:
    await reindex(client)
    path = workspace / "pkg" / "parser.py"
    await open_file(client, path)
    text = await hover_text(client, path, line=3, character=6)  # def parse_config
    assert "def parse_config(text, strict=False)" in text
    assert "Turn a config text into a dict." in text
    assert "complexity 5 (A)" in text
    assert "tier trusted" in text
    assert "called from 3 places" in text  # twice in app.py, once in Loader.load
    assert "Lines without" not in text  # only the first docstring line


@pytest.mark.asyncio
async def test_hover_on_a_call_site_is_resolved_across_files(
    client: LanguageClient, workspace: Path
) -> None:
    await reindex(client)
    path = workspace / "app.py"
    await open_file(client, path)
    text = await hover_text(client, path, line=2, character=13)  # parse_config("a=1")
    assert "def parse_config(text, strict=False)" in text
    assert "complexity 5 (A)" in text
    assert "pkg/parser.py:4" in text


@pytest.mark.asyncio
async def test_hover_on_a_method_call_through_self(client: LanguageClient, workspace: Path) -> None:
    path = workspace / "pkg" / "parser.py"
    await open_file(client, path)
    text = await hover_text(client, path, line=26, character=22)  # self.load(path)
    assert "def Loader.load(self, path)" in text
    assert "complexity 1 (A)" in text


@pytest.mark.asyncio
async def test_hover_on_an_import_says_whether_the_tier_forbids_it(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "ark_generated" / "job.py"
    path.parent.mkdir()
    path.write_text("import subprocess\nfrom pkg import parser\nfrom pkg.parser import Loader\n")
    await reindex(client)
    shown = await open_file(client, path)
    assert [d.code for d in shown] == ["ARK010"]
    forbidden = await hover_text(client, path, line=0, character=9)
    assert "subprocess" in forbidden and "forbidden in this file's tier (sandbox)" in forbidden
    allowed = await hover_text(client, path, line=1, character=18)
    assert "pkg/parser.py" in allowed and "tier trusted" in allowed
    assert "allowed in this file's tier (sandbox)" in allowed
    assert allowed.startswith("module `pkg.parser` — `pkg/parser.py`")
    # A name of a module is not a module: packaging's DEFAULT_RULES was "module
    # `packaging._tokenizer.DEFAULT_RULES`".
    named = await hover_text(client, path, line=2, character=25)
    assert named.startswith("`Loader` from module `pkg.parser` — `pkg/parser.py`"), named


@pytest.mark.asyncio
async def test_hover_in_plain_text_for_a_client_without_markdown(
    bare_client: LanguageClient, workspace: Path
) -> None:
    capabilities = client_capabilities("neovim@v0.7.0")
    assert capabilities.text_document is not None
    capabilities.text_document.hover = types.HoverClientCapabilities(
        content_format=[types.MarkupKind.PlainText]
    )
    await start(bare_client, "neovim@v0.7.0", [workspace], capabilities=capabilities)
    path = workspace / "pkg" / "parser.py"
    await open_file(bare_client, path)
    hover = await bare_client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            position=types.Position(line=3, character=6),
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.kind == types.MarkupKind.PlainText
    assert "```" not in hover.contents.value
    assert "complexity 5 (A)" in hover.contents.value


@pytest.mark.asyncio
async def test_nothing_to_say_is_no_hover(client: LanguageClient, workspace: Path) -> None:
    path = workspace / "app.py"
    await open_file(client, path)
    for line, character in [(1, 0), (2, 28), (400, 0)]:
        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                position=types.Position(line=line, character=character),
            )
        )
        assert hover is None


@pytest.mark.asyncio
async def test_builtins_get_no_hover_but_a_shadowing_definition_does(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "shadow.py"
    text = "def len(items):\n    return 0\n\n\nlen([1])\nprint(len)\n"
    await open_file(client, path, text)
    assert "def len(items)" in await hover_text(client, path, line=4, character=1)
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            position=types.Position(line=5, character=2),
        )
    )
    assert hover is None


HEADERS = """\
from typing import Literal, Union, overload


@overload
def normalize_and_validate(headers: list, _parsed: Literal[True]) -> list:
    ...


@overload
def normalize_and_validate(headers: tuple, _parsed: Literal[False]) -> list:
    ...


@overload
def normalize_and_validate(headers: Union[list, tuple], _parsed: bool = False) -> list:
    ...


def normalize_and_validate(headers, _parsed=False):
    new_headers = []
    for name, value in headers:
        if not name:
            raise ValueError("empty name")
        if _parsed:
            new_headers.append((name, value))
        elif value:
            new_headers.append((name.lower(), value))
    return new_headers


def set_comma_header(headers):
    return normalize_and_validate(headers)
"""


@pytest.mark.asyncio
async def test_hover_on_a_call_of_an_overloaded_function_shows_its_implementation(
    client: LanguageClient, workspace: Path
) -> None:
    headers = workspace / "pkg" / "headers.py"
    headers.write_text(HEADERS)
    events = workspace / "pkg" / "events.py"
    events.write_text(
        "from pkg.headers import normalize_and_validate\n\nnormalize_and_validate([])\n"
    )
    await reindex(client)
    await open_file(client, events)
    across = await hover_text(client, events, line=2, character=3)  # from another module
    await open_file(client, headers)
    within = await hover_text(client, headers, line=31, character=14)  # in its own module
    for text in (across, within):
        assert "def normalize_and_validate(headers, _parsed=False)" in text
        assert "complexity 5 (A) · 10 lines · tier trusted · 3 overloads" in text
        assert "pkg/headers.py:19" in text
