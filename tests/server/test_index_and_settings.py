"""The index kept current, settings applied without a restart, files changed on disk.

Every test runs under VS Code's and Neovim 0.11's client capabilities. The
two differ where it matters: VS Code's preset takes pushed diagnostics and
UTF-16 positions; Neovim 0.11 pulls diagnostics and speaks UTF-8.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from support.lsp import (
    UNSAFE,
    ark_index,
    diagnostics,
    mark,
    open_file,
    reindex,
    start,
    write_workspace,
)
from support.processes import descendants


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


async def open_empty_module(client: LanguageClient, path: Path) -> Path:
    """An empty module, indexed, then opened in the editor."""
    path.write_text("")
    await reindex(client)
    await open_file(client, path, "")
    return path


def type_text(client: LanguageClient, path: Path, text: str, version: int, *, save: bool) -> None:
    """Send the document's new text as an editor does while the user types; saved if ``save``."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    if save:
        path.write_text(text)
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri())
            )
        )


@pytest.mark.asyncio
async def test_a_file_saved_while_typing_is_indexed_once_typing_pauses(
    client: LanguageClient, workspace: Path
) -> None:
    path = await open_empty_module(client, workspace / "pkg" / "totals.py")
    text = ""
    for version in range(2, 7):
        text += f"def total_{version}(rows):\n    return sum(rows)\n\n"
        # saved in the middle of typing, which goes on
        type_text(client, path, text, version, save=version == 3)
        await asyncio.sleep(0.05)

    # No reindex asked for: the save's own refresh brings the saved text in.
    for _ in range(300):
        found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="total_"))
        names = {symbol.name for symbol in found or []}
        if names:
            break
        await asyncio.sleep(0.05)
    assert names == {"total_2", "total_3"}


@pytest.mark.asyncio
async def test_reindex_asked_while_typing_goes_on_does_not_wait_for_a_pause(
    client: LanguageClient, workspace: Path
) -> None:
    path = await open_empty_module(client, workspace / "pkg" / "totals.py")
    typing = True

    async def type_without_a_pause() -> None:
        text, version = "", 1
        while typing:
            version += 1
            text += f"def total_{version}(rows):\n    return sum(rows)\n\n"
            # the save's refresh then waits for typing to pause
            type_text(client, path, text, version, save=version == 3)
            await asyncio.sleep(0.1)  # well inside the pause a refresh waits for

    typist = asyncio.ensure_future(type_without_a_pause())
    try:
        await asyncio.sleep(0.5)  # the save's refresh is waiting
        # Asked for by the user: answered while typing goes on, not after the longest
        # deferral (30 s) a save's refresh may wait.
        folders = await asyncio.wait_for(reindex(client), timeout=20)
    finally:
        typing = False
        await typist
    assert all(figures.get("files_scanned") for figures in folders.values()), folders


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
    expected = "initializationOptions.select: expected a list, each a rule id or id prefix"
    assert any(expected in m for m in warnings)
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
    ark_index(workspace)
    await start(bare_client, "visual-studio-code", [workspace])
    await reindex(bare_client)
    first_run = next(
        folder
        for status in bare_client.statuses  # type: ignore[attr-defined]
        for folder in status.folders
        if folder.state == "ready"
    )
    assert (first_run.indexed, first_run.unchanged) == (0, 3)


def write_many_modules(root: Path, count: int, name: str) -> None:
    """A workspace with enough changed files that the server indexes them in worker processes."""
    root.mkdir(exist_ok=True)
    (root / "pyproject.toml").write_text('[project]\nname = "many"\n')
    body = "".join(
        f"def {name}_{n}(request, retries=3):\n"
        f"    for attempt in range(retries):\n"
        f"        if request.ready and attempt % {n + 2}:\n"
        f"            return request.send(attempt)\n"
        f"    return None\n\n\n"
        for n in range(30)
    )
    for module in range(count):
        (root / f"module_{module}.py").write_text(body)


def server_processes(client: LanguageClient) -> list[str]:
    """The processes the server started that still run, jedi's own helper apart."""
    server = client._server  # the subprocess pytest-lsp started
    assert server is not None
    return [command for command in descendants(server.pid) if "jedi" not in command]


async def watching_processes(client: LanguageClient, work: Awaitable[object]) -> set[str]:
    """Run ``work``; return the command lines of the server's processes seen while it ran."""
    seen: set[str] = set()
    task = asyncio.ensure_future(work)
    while not task.done():
        seen.update(server_processes(client))
        await asyncio.sleep(0.02)  # polling /proc: there is no event to wait on
    await task
    return seen


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")
@pytest.mark.asyncio
async def test_index_workers_end_with_the_index_and_start_again_for_the_next(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    root = tmp_path / "many"
    write_many_modules(root, 150, "handler")
    seen = await watching_processes(
        bare_client, start(bare_client, "visual-studio-code", [root], {"jobs": 2})
    )
    # The cold index ran in workers, and nothing of them stays once it is done.
    assert any("multiprocessing.forkserver" in command for command in seen), seen
    assert server_processes(bare_client) == []

    write_many_modules(root, 150, "renamed")
    seen = await watching_processes(bare_client, reindex(bare_client))
    assert any("multiprocessing.forkserver" in command for command in seen), seen
    assert server_processes(bare_client) == []
    # Every file was analysed again: the old names are gone from all of them.
    found = await bare_client.workspace_symbol_async(
        types.WorkspaceSymbolParams(query="renamed_29")
    )
    assert found
    assert {s.name for s in found} == {"renamed_29"}
    assert not await bare_client.workspace_symbol_async(
        types.WorkspaceSymbolParams(query="handler_")
    )
