"""``ark.gate`` from the editor: the working tree judged, the verdict shown, findings marked."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient
from support.git_repos import commit, make_repo, status, worktrees, write
from support.lsp import diagnostics, open_file, pulls, start

ONLY_ARK_CHECKS = '\n[tool.ark.gate]\nchecks = ["findings", "complexity"]\n'


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server's user cache, where the gate checks commits out: the test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "ark"


async def execute(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


async def gate_diagnostics(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    """What the editor shows of the gate for ``uri``, pulled or once pushed."""
    for _ in range(500):
        if pulls(client):
            shown = await diagnostics(client, uri)
        else:
            pushed = [p for p in client.published if p.uri == uri]  # type: ignore[attr-defined]
            shown = list(pushed[-1].diagnostics) if pushed else []
        found = [d for d in shown if d.source == "ark-gate"]
        if found:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"no ark-gate diagnostics for {uri}")


async def no_gate_diagnostics(client: LanguageClient, uri: str) -> bool:
    """Wait until the editor shows nothing of the gate for ``uri``."""
    for _ in range(500):
        if pulls(client):
            shown = await diagnostics(client, uri)
        else:
            pushed = [p for p in client.published if p.uri == uri]  # type: ignore[attr-defined]
            shown = list(pushed[-1].diagnostics) if pushed else []
        if not any(d.source == "ark-gate" for d in shown):
            return True
        await asyncio.sleep(0.02)
    return False


@pytest.mark.asyncio
@pytest.mark.parametrize("preset", ["visual-studio-code", "neovim"])
async def test_the_gate_judges_the_working_tree_and_marks_what_is_new(
    bare_client: LanguageClient, workspace: Path, preset: str
) -> None:
    write(workspace, {"pyproject.toml": '[project]\nname = "sample"\n' + ONLY_ARK_CHECKS})
    make_repo(workspace)
    commit(workspace, "base")
    app = workspace / "app.py"
    write(workspace, {"app.py": app.read_text() + "\nanswer = eval(input())\n"})
    before = status(workspace)
    await start(bare_client, preset, [workspace])
    await open_file(bare_client, app)

    report = await execute(bare_client, "ark.gate", workspace.as_uri())

    assert (report["verdict"], report["subject"]) == ("fail", "the working tree")
    assert [(f["path"], f["code"]) for f in report["findings"]] == [("app.py", "ARK001")]
    message = bare_client.messages[-1]
    assert message.type == types.MessageType.Warning
    assert message.message == "ARK gate failed: findings failed (1 new finding)"
    (shown,) = await gate_diagnostics(bare_client, app.as_uri())
    line = app.read_text().splitlines().index("answer = eval(input())")
    assert (shown.range.start.line, shown.range.start.character) == (line, 9)
    assert (shown.code, shown.severity) == ("ARK001", types.DiagnosticSeverity.Error)
    assert shown.message == "eval() evaluates arbitrary code"
    assert status(workspace) == before
    assert worktrees(workspace) == [str(workspace)]
    if preset == "visual-studio-code":  # a client that shows $/progress
        reports = [r for rs in bare_client.progress_reports.values() for r in rs]
        assert any(
            isinstance(r, types.WorkDoneProgressBegin) and r.title == "ARK: quality gate"
            for r in reports
        ), reports
        ends = [r for r in reports if isinstance(r, types.WorkDoneProgressEnd)]
        assert any(r.message == report["summary"] for r in ends), ends


@pytest.mark.asyncio
async def test_a_fixed_change_clears_the_gates_marks(
    bare_client: LanguageClient, workspace: Path
) -> None:
    write(workspace, {"pyproject.toml": '[project]\nname = "sample"\n' + ONLY_ARK_CHECKS})
    make_repo(workspace)
    commit(workspace, "base")
    app = workspace / "app.py"
    original = app.read_text()
    write(workspace, {"app.py": original + "\nanswer = eval(input())\n"})
    await start(bare_client, "neovim", [workspace])
    await open_file(bare_client, app)
    await execute(bare_client, "ark.gate")
    await gate_diagnostics(bare_client, app.as_uri())

    write(workspace, {"app.py": original + "\nanswer = int(input())\n"})
    report = await execute(bare_client, "ark.gate")

    assert report["verdict"] == "pass"
    assert bare_client.messages[-1].message == "ARK gate passed: 2 of 2 checks passed"
    assert bare_client.messages[-1].type == types.MessageType.Info
    assert await no_gate_diagnostics(bare_client, app.as_uri())


@pytest.mark.asyncio
async def test_a_folder_outside_git_is_answered_with_the_reason(
    bare_client: LanguageClient, workspace: Path
) -> None:
    await start(bare_client, "neovim", [workspace])

    with pytest.raises(JsonRpcException, match="is not in a git repository"):
        await execute(bare_client, "ark.gate", workspace.as_uri())
