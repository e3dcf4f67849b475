"""The language server over stdio, driven by pytest-lsp as a real client.

Every test runs under VS Code's and Neovim 0.11's client capabilities. The
two differ where it matters: VS Code's preset takes pushed diagnostics and
UTF-16 positions; Neovim 0.11 pulls diagnostics and speaks UTF-8.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsp_session import (
    BROKEN,
    EXPECTED_COLUMN,
    PRESETS,
    SERVER,
    UNSAFE,
    apply,
    change_file,
    code_actions,
    diagnostics,
    hover_text,
    mark,
    open_file,
    position_encoding,
    published,
    pulls,
    reindex,
    start,
    write_workspace,
)
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from test_cli import ark

# --- diagnostics ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_syntax_error_is_reported_in_the_clients_encoding(
    client: LanguageClient, workspace: Path
) -> None:
    (diagnostic,) = await open_file(client, workspace / "broken.py", BROKEN)
    assert diagnostic.code == "ARK000"
    assert diagnostic.source == "ark"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert "unmatched ')'" in diagnostic.message
    assert diagnostic.range.start == types.Position(
        line=0, character=EXPECTED_COLUMN[position_encoding(client)]
    )


@pytest.mark.asyncio
async def test_diagnostics_follow_the_text_and_closing_clears_them(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "pkg" / "mod.py"
    assert [d.code for d in await open_file(client, path, BROKEN)] == ["ARK000"]
    assert await change_file(client, path, 'x = "ok"\n', 2) == []
    assert [d.code for d in await change_file(client, path, "eval(x)\n", 3)] == ["ARK001"]
    before = mark(client)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri())
        )
    )
    if not pulls(client):
        assert await published(client, path.as_uri(), None, before) == []


@pytest.mark.asyncio
async def test_a_burst_of_edits_ends_with_the_diagnostics_of_the_last_text(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "typing.py"
    await open_file(client, path, "")
    before = mark(client)
    text = ""
    for version in range(2, 302):
        text += "x = 1\n" if version % 50 else "eval(x)\n"
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=path.as_uri(), version=version
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
    final = await change_file(client, path, text + "exec(y)\n", 302)
    assert [d.code for d in final] == ["ARK001"] * 6 + ["ARK002"]
    seen_versions = [p.version for p in client.published[before:] if p.uri == path.as_uri()]  # type: ignore[attr-defined]
    if not pulls(client):
        assert seen_versions == sorted(seen_versions), "an older result was published later"
        assert seen_versions[-1] == 302
        assert len(seen_versions) < 100, "the burst was not coalesced"


@pytest.mark.asyncio
async def test_diagnostics_link_their_rule_and_the_quick_fix_clears_the_problem(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "unsafe.py"
    shown = await open_file(client, path, UNSAFE)
    by_code = {d.code: d for d in shown}
    assert set(by_code) == {"ARK001", "ARK004"}
    description = by_code["ARK001"].code_description
    assert description is not None and description.href.endswith("/ARK001")

    actions = await code_actions(client, path, shown, [types.CodeActionKind.QuickFix])
    assert [a.title for a in actions] == [
        "Replace eval() with ast.literal_eval()",
        "Suppress ARK001 on this line",
        "Suppress ARK004 on this line",
    ]
    preferred = actions[0]
    assert preferred.is_preferred and preferred.kind == types.CodeActionKind.QuickFix
    assert preferred.edit is not None and preferred.edit.changes is not None
    fixed = apply(UNSAFE, list(preferred.edit.changes[path.as_uri()]))
    assert fixed.splitlines()[3] == "settings = ast.literal_eval(\"{'debug': True}\")"
    assert [d.code for d in await change_file(client, path, fixed, 2)] == ["ARK004"]


@pytest.mark.asyncio
async def test_fix_all_offers_every_safe_fix_at_once(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "unsafe.py"
    shown = await open_file(client, path, UNSAFE.replace("user_command", '"make clean"'))
    (action,) = await code_actions(client, path, shown, ["source.fixAll.ark"])
    assert action.title == "Fix all safely fixable ARK problems (2)"
    assert action.edit is not None and action.edit.changes is not None
    (edit,) = action.edit.changes[path.as_uri()]
    assert 'subprocess.run(["make", "clean"], check=False)' in edit.new_text
    assert await change_file(client, path, edit.new_text, 2) == []


# --- hover ------------------------------------------------------------------------------------


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
    path.write_text("import subprocess\nfrom pkg import parser\n")
    await reindex(client)
    shown = await open_file(client, path)
    assert [d.code for d in shown] == ["ARK010"]
    forbidden = await hover_text(client, path, line=0, character=9)
    assert "subprocess" in forbidden and "forbidden in this file's tier (sandbox)" in forbidden
    allowed = await hover_text(client, path, line=1, character=18)
    assert "pkg/parser.py" in allowed and "tier trusted" in allowed
    assert "allowed in this file's tier (sandbox)" in allowed


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


# --- symbols and lenses -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_document_symbols_are_nested(client: LanguageClient, workspace: Path) -> None:
    path = workspace / "pkg" / "parser.py"
    await open_file(client, path)
    found = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()))
    )
    assert found is not None
    outline = {
        s.name: [c.name for c in s.children or []]
        for s in found
        if isinstance(s, types.DocumentSymbol)
    }
    assert outline == {"parse_config": [], "Loader": ["load", "reload"]}


@pytest.mark.asyncio
async def test_workspace_symbols_come_from_the_index(
    client: LanguageClient, workspace: Path
) -> None:
    await reindex(client)
    found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="parse conf"))
    assert found is not None
    (symbol,) = found
    assert symbol.name == "parse_config"
    assert isinstance(symbol.location, types.Location)
    assert symbol.location.uri == (workspace / "pkg" / "parser.py").as_uri()
    assert symbol.location.range.start.line == 3


@pytest_lsp.fixture(params=PRESETS, config=ClientServerConfig(server_command=SERVER))
async def lens_client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, workspace: Path
) -> AsyncIterator[None]:
    await start(lsp_client, request.param, [workspace], {"codeLensThreshold": 4})
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_code_lens_marks_functions_over_the_threshold(
    lens_client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "pkg" / "parser.py"
    await open_file(lens_client, path)
    lenses = await lens_client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()))
    )
    assert lenses is not None
    assert [
        (lens.range.start.line, lens.command.title if lens.command else None) for lens in lenses
    ] == [(3, "complexity 5 (A)")]


# --- the index, settings and files changed on disk -------------------------------------------


@pytest.mark.asyncio
async def test_initial_index_reports_progress_and_status(
    client: LanguageClient, workspace: Path
) -> None:
    await reindex(client)
    assert (workspace / ".ark" / "index.db").exists()
    titles = [
        report.title
        for reports in client.progress_reports.values()
        for report in reports
        if isinstance(report, types.WorkDoneProgressBegin)
    ]
    assert "ARK: indexing sample" in titles
    assert all(
        report.cancellable
        for reports in client.progress_reports.values()
        for report in reports
        if isinstance(report, types.WorkDoneProgressBegin)
    )
    ends = [
        report
        for reports in client.progress_reports.values()
        for report in reports
        if isinstance(report, types.WorkDoneProgressEnd)
    ]
    assert ends and all(end.message for end in ends)
    states = [folder.state for status in client.statuses for folder in status.folders]  # type: ignore[attr-defined]
    assert states[-1] == "ready" and "indexing" in states, client.statuses  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_files_changed_on_disk_update_the_index(
    client: LanguageClient, workspace: Path
) -> None:
    await reindex(client)
    if client.capabilities.workspace.did_change_watched_files.dynamic_registration:  # type: ignore[union-attr]
        (registration,) = client.registrations  # type: ignore[attr-defined]
        assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES

    async def symbol_files(query: str) -> set[str]:
        for _ in range(100):
            found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))
            if found is not None:
                return {Path(s.location.uri).name for s in found}  # type: ignore[union-attr]
        raise AssertionError

    new_file = workspace / "pkg" / "report.py"
    new_file.write_text("def render_report(rows):\n    return rows\n")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=new_file.as_uri(), type=types.FileChangeType.Created)]
        )
    )
    await reindex(client)
    assert {str(p) for p in await symbol_files("render_report")} == {
        new_file.as_uri().rsplit("/", 1)[-1]
    }

    new_file.unlink()
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=new_file.as_uri(), type=types.FileChangeType.Deleted)]
        )
    )
    await reindex(client)
    assert await symbol_files("render_report") == set()


@pytest.mark.asyncio
async def test_settings_changes_apply_without_a_restart(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "unsafe.py"
    assert {d.code for d in await open_file(client, path, UNSAFE)} == {"ARK001", "ARK004"}

    client.set_configuration(
        {"ignore": ["ARK004"], "severities": {"ARK001": "warning"}}, section="ark"
    )
    before = mark(client)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={}))
    shown = await diagnostics(client, path.as_uri(), 1, before)
    assert [(d.code, d.severity) for d in shown] == [("ARK001", types.DiagnosticSeverity.Warning)]


@pytest.mark.asyncio
async def test_bad_settings_are_reported_and_the_server_goes_on(
    bare_client: LanguageClient, workspace: Path
) -> None:
    await start(
        bare_client,
        "visual-studio-code",
        [workspace],
        {"select": "ARK001", "interpreter": "/usr/bin/python3", "jobs": None},
    )
    await reindex(bare_client)
    warnings = [m.message for m in bare_client.messages if m.type == types.MessageType.Warning]
    assert any("initializationOptions.select: expected a list of strings" in m for m in warnings)
    assert not any("interpreter" in m or "jobs" in m for m in warnings)
    assert {d.code for d in await open_file(bare_client, workspace / "u.py", UNSAFE)} == {
        "ARK001",
        "ARK004",
    }


@pytest.mark.asyncio
async def test_each_folder_of_a_multi_root_workspace_has_its_own_settings_and_index(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    strict, relaxed = tmp_path / "strict", tmp_path / "relaxed"
    for root, extra in ((strict, ""), (relaxed, '\n[tool.ark]\nignore = ["ARK001"]\n')):
        write_workspace(root)
        (root / "pyproject.toml").write_text(f'[project]\nname = "{root.name}"\n{extra}')
    await start(bare_client, "visual-studio-code", [strict, relaxed])
    folders = await reindex(bare_client)
    assert set(folders) == {str(strict), str(relaxed)}
    assert (strict / ".ark" / "index.db").exists() and (relaxed / ".ark" / "index.db").exists()
    assert [d.code for d in await open_file(bare_client, strict / "u.py", "eval(x)\n")] == [
        "ARK001"
    ]
    assert await open_file(bare_client, relaxed / "u.py", "eval(x)\n") == []


@pytest.mark.asyncio
async def test_a_start_on_a_warm_index_parses_nothing_again(
    bare_client: LanguageClient, workspace: Path
) -> None:
    ark("index", str(workspace), cwd=workspace)
    await start(bare_client, "visual-studio-code", [workspace])
    await reindex(bare_client)
    first_run = next(
        folder
        for status in bare_client.statuses  # type: ignore[attr-defined]
        for folder in status.folders
        if folder.state == "ready"
    )
    assert (first_run.indexed, first_run.unchanged) == (0, 3)


@pytest.mark.asyncio
async def test_quick_fixes_survive_a_client_that_sends_ranges_back_in_bytes(
    client: LanguageClient, workspace: Path
) -> None:
    # Neovim before 0.10 returns a diagnostic's range in bytes, not in the units it received.
    path = workspace / "accents.py"
    text = 'label = "été"; value = eval("[1, 2]")\n'
    (shown,) = await open_file(client, path, text)
    in_bytes = types.Range(
        start=types.Position(line=0, character=text.encode().index(b"eval")),
        end=types.Position(line=0, character=text.encode().index(b"eval") + 14),
    )
    sent_back = types.Diagnostic(
        range=in_bytes, message=shown.message, code=shown.code, source=shown.source
    )
    actions = await code_actions(client, path, [sent_back], [types.CodeActionKind.QuickFix])
    assert [a.title for a in actions] == [
        "Replace eval() with ast.literal_eval()",
        "Suppress ARK001 on this line",
    ]


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
