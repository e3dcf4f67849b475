"""mypy and pylint on save: diagnostics of sources ``ark-types`` and ``ark-lint``, over stdio.

A real server, real mypy and pylint, a workspace on disk. VS Code's preset
takes pushed diagnostics (each publish is kept in order, so what came first
can be asserted); Neovim 0.11's pulls them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from support.lsp import PRESETS, change_file, mark, open_file, published, pulls, start

TYPES, LINT = "ark-types", "ark-lint"

PRICES = '''\
"""Prices."""


def total(prices: list[float]) -> float:
    """The sum of the prices."""
    return sum(prices)


def parse(text: str) -> object:
    """A price list, as written."""
    return eval(text)
'''

WITH_A_TYPE_ERROR = PRICES.replace(
    "    return sum(prices)\n",
    "    count = len(prices)\n    return sum(prices)\n\n\n"
    'def label(price: float) -> str:\n    """The price as shown."""\n    return price\n',
)


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server's user cache, where mypy's cache for the editor lives: the test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "ark"


async def execute(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


async def start_trusted(client: LanguageClient, preset: str, workspace: Path) -> None:
    """Start as each editor trusts a folder: VS Code's workspace trust, Neovim's :ArkTrust."""
    if preset == "visual-studio-code":
        await start(client, preset, [workspace], {"workspaceTrusted": True})
    else:
        await start(client, preset, [workspace])
        await execute(client, "ark.trust")


def save(client: LanguageClient, path: Path) -> None:
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri())
        )
    )


async def shown(client: LanguageClient, uri: str, after: int = 0) -> list[types.Diagnostic]:
    """What the editor shows for ``uri`` now: pulled, or the latest push since ``after``."""
    if pulls(client):
        report = await client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        return list(report.items)  # type: ignore[union-attr]
    pushed = [p for p in client.published[after:] if p.uri == uri]  # type: ignore[attr-defined]
    return list(pushed[-1].diagnostics) if pushed else []


async def until_shown(
    client: LanguageClient, uri: str, sources: set[str], after: int = 0
) -> list[types.Diagnostic]:
    """Wait until the editor shows diagnostics of every one of ``sources`` for ``uri``."""
    for _ in range(3000):
        now = await shown(client, uri, after)
        if sources <= {d.source for d in now}:
            return now
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {sources} diagnostics for {uri}; last: {now}")


async def until_gone(client: LanguageClient, uri: str, source: str) -> list[types.Diagnostic]:
    """Wait until the editor shows no diagnostic of ``source`` for ``uri``."""
    for _ in range(1000):
        now = await shown(client, uri)
        if source not in {d.source for d in now}:
            return now
        await asyncio.sleep(0.02)
    raise AssertionError(f"{source} diagnostics still shown for {uri}: {now}")


def of(source: str, diagnostics: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return [d for d in diagnostics if d.source == source]


def where(diagnostic: types.Diagnostic) -> tuple[int, int, int, int]:
    start, end = diagnostic.range.start, diagnostic.range.end
    return start.line, start.character, end.line, end.character


@pytest.mark.asyncio
@pytest.mark.parametrize("preset", PRESETS)
async def test_a_saved_type_error_is_shown_after_arks_own_diagnostics(
    bare_client: LanguageClient, workspace: Path, preset: str
) -> None:
    path, uri = workspace / "pkg" / "prices.py", (workspace / "pkg" / "prices.py").as_uri()
    path.write_text(PRICES)
    await start_trusted(bare_client, preset, workspace)
    await open_file(bare_client, path)

    path.write_text(WITH_A_TYPE_ERROR)
    before = mark(bare_client)
    edited = await change_file(bare_client, path, WITH_A_TYPE_ERROR, 2)
    save(bare_client, path)
    both = await until_shown(bare_client, uri, {TYPES, LINT}, before)

    # ARK's own, for the edit, came first, and the tools' findings leave them as they were.
    assert [d.source for d in edited] == ["ark"]
    assert of("ark", both) == edited
    lines = WITH_A_TYPE_ERROR.splitlines()
    (type_error,) = of(TYPES, both)
    line = lines.index("    return price")
    assert where(type_error) == (line, 11, line, 16)
    assert (type_error.code, type_error.severity) == (
        "return-value",
        types.DiagnosticSeverity.Error,
    )
    assert type_error.message == 'Incompatible return value type (got "float", expected "str")'
    messages = {d.code: d for d in of(LINT, both)}
    assert set(messages) == {"unused-variable", "eval-used"}  # ARK001 and pylint's, side by side
    lint = messages["unused-variable"]
    line = lines.index("    count = len(prices)")
    assert where(lint) == (line, 4, line, 9)
    assert (lint.code, lint.severity) == ("unused-variable", types.DiagnosticSeverity.Warning)
    assert lint.message == "Unused variable 'count' (W0612)"
    assert lint.code_description is not None
    assert lint.code_description.href.endswith("/messages/warning/unused-variable.html")
    if not pulls(bare_client):
        pushes = [p for p in bare_client.published[before:] if p.uri == uri]  # type: ignore[attr-defined]
        first_with_tools = next(
            n for n, p in enumerate(pushes) if {d.source for d in p.diagnostics} != {"ark"}
        )
        assert first_with_tools > 0  # at least the edit's own push came before
        assert all(p.version == 2 for p in pushes)
    # The workspace has no mypy cache of its own: ARK keeps it in the user's cache.
    assert not (workspace / ".mypy_cache").exists()


@pytest.mark.asyncio
async def test_a_fix_saved_takes_the_finding_back(
    bare_client: LanguageClient, workspace: Path
) -> None:
    path, uri = workspace / "pkg" / "prices.py", (workspace / "pkg" / "prices.py").as_uri()
    path.write_text(WITH_A_TYPE_ERROR)
    await start_trusted(bare_client, "visual-studio-code", workspace)
    await open_file(bare_client, path)
    save(bare_client, path)
    await until_shown(bare_client, uri, {TYPES})

    fixed = WITH_A_TYPE_ERROR.replace("    return price\n", "    return f'{price:.2f}'\n")
    path.write_text(fixed)
    before = mark(bare_client)
    await change_file(bare_client, path, fixed, 2)
    save(bare_client, path)

    left = await until_gone(bare_client, uri, TYPES)
    assert {d.source for d in left} == {"ark", LINT}
    pushed = [p for p in bare_client.published[before:] if p.uri == uri]  # type: ignore[attr-defined]
    assert {p.version for p in pushed} == {2}


@pytest.mark.asyncio
async def test_switching_the_setting_off_takes_them_back(
    bare_client: LanguageClient, workspace: Path
) -> None:
    path, uri = workspace / "pkg" / "prices.py", (workspace / "pkg" / "prices.py").as_uri()
    path.write_text(WITH_A_TYPE_ERROR)
    await start_trusted(bare_client, "visual-studio-code", workspace)
    await open_file(bare_client, path)
    save(bare_client, path)
    await until_shown(bare_client, uri, {TYPES, LINT})

    bare_client.set_configuration({"typesAndLintOnSave": False}, section="ark")
    bare_client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={}))

    assert {d.source for d in await until_gone(bare_client, uri, TYPES)} == {"ark"}


@pytest.mark.asyncio
async def test_nothing_runs_until_the_user_trusts_the_workspace(
    bare_client: LanguageClient, workspace: Path, user_cache: Path
) -> None:
    path, uri = workspace / "pkg" / "prices.py", (workspace / "pkg" / "prices.py").as_uri()
    path.write_text(WITH_A_TYPE_ERROR)
    await start(bare_client, "visual-studio-code", [workspace])
    await open_file(bare_client, path)
    save(bare_client, path)  # checked in turn: refused, nothing shown
    await execute(bare_client, "ark.trust")
    path.write_text(WITH_A_TYPE_ERROR + "\n")
    before = mark(bare_client)
    await change_file(bare_client, path, WITH_A_TYPE_ERROR + "\n", 2)
    save(bare_client, path)

    await until_shown(bare_client, uri, {TYPES}, before)
    with_tools = [
        p.version
        for p in bare_client.published  # type: ignore[attr-defined]
        if p.uri == uri and {d.source for d in p.diagnostics} - {"ark"}
    ]
    assert set(with_tools) == {2}  # none for the first save, before the trust


@pytest.mark.asyncio
async def test_closing_the_file_clears_them(bare_client: LanguageClient, workspace: Path) -> None:
    path, uri = workspace / "pkg" / "prices.py", (workspace / "pkg" / "prices.py").as_uri()
    path.write_text(WITH_A_TYPE_ERROR)
    await start_trusted(bare_client, "visual-studio-code", workspace)
    await open_file(bare_client, path)
    save(bare_client, path)
    await until_shown(bare_client, uri, {TYPES, LINT})

    before = mark(bare_client)
    bare_client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert await published(bare_client, uri, None, before) == []
    reopened = await open_file(bare_client, path)
    assert {d.source for d in reopened} == {"ark"}
