"""The editor's sandbox commands: run a file or a function, run the tests, see the outcome.

These use the local backend, so they run wherever the server does; the
docker backend itself is proven in ``test_sandbox_docker.py``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from support.lsp import diagnostics, hover_text, open_file, pulls, start

LOCAL = {"sandbox": {"backend": "local", "timeout": 20}}


async def pushed_with_failures(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    """The latest pushed diagnostics of ``uri`` once they show a failing test."""
    for _ in range(200):
        pushed = [p for p in client.published if p.uri == uri]  # type: ignore[attr-defined]
        if pushed and any(d.source == "ark-sandbox" for d in pushed[-1].diagnostics):
            return list(pushed[-1].diagnostics)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no failing test was published for {uri}")


async def execute(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("preset", ["visual-studio-code", "neovim"])
async def test_running_a_file_and_a_function_reports_and_records_the_outcome(
    bare_client: LanguageClient, workspace: Path, preset: str
) -> None:
    script = workspace / "hello.py"
    script.write_text('def greet():\n    return "hi " * 2\n\n\nprint("hello from the sandbox")\n')
    await start(bare_client, preset, [workspace], LOCAL)
    await open_file(bare_client, script)

    result = await execute(bare_client, "ark.runInSandbox", script.as_uri())
    assert (result["outcome"], result["backend"]) == ("passed", "local")
    assert result["target"] == "hello.py"
    message = bare_client.messages[-1]
    assert message.type == types.MessageType.Info
    assert message.message.startswith("ARK sandbox (local): hello.py passed in ")

    at_greet = {"uri": script.as_uri(), "position": {"line": 1, "character": 8}}
    result = await execute(bare_client, "ark.runInSandbox", at_greet)
    assert (result["target"], result["outcome"]) == ("hello.py::greet", "passed")
    assert "last sandbox run: passed (1 of 1 runs passed)" in await hover_text(
        bare_client, script, line=0, character=5
    )


@pytest.mark.asyncio
async def test_the_status_names_the_backend_auto_chose_once_a_run_has_chosen(
    bare_client: LanguageClient, workspace: Path
) -> None:
    script = workspace / "hello.py"
    script.write_text('print("hello")\n')
    await start(bare_client, "visual-studio-code", [workspace], {"sandbox": {"poolSize": 0}})
    await open_file(bare_client, script)
    statuses: list[Any] = bare_client.statuses  # type: ignore[attr-defined]
    assert statuses and statuses[-1].sandboxBackend == "auto"

    result = await execute(bare_client, "ark.runInSandbox", script.as_uri())
    assert result["backend"] in ("docker", "local")
    assert statuses[-1].sandboxBackend == result["backend"]


@pytest.mark.asyncio
@pytest.mark.parametrize("preset", ["visual-studio-code", "neovim"])
async def test_failing_tests_become_diagnostics_at_the_test(
    bare_client: LanguageClient, workspace: Path, preset: str
) -> None:
    tests = workspace / "tests" / "test_math.py"
    tests.parent.mkdir()
    tests.write_text(
        "def test_adds():\n    assert 1 + 1 == 2\n\n\n"
        "def test_breaks():\n    total = 1 + 1\n    assert total == 3\n"
    )
    await start(bare_client, preset, [workspace], LOCAL)
    await open_file(bare_client, tests)
    result = await execute(bare_client, "ark.runTestsInSandbox", tests.as_uri())
    assert result["summary"] == {"passed": 1, "failed": 1} | {
        k: v for k, v in result["summary"].items() if k not in ("passed", "failed")
    }
    assert "1 passed, 1 failed" in bare_client.messages[-1].message

    if pulls(bare_client):
        shown = await diagnostics(bare_client, tests.as_uri())
    else:
        shown = await pushed_with_failures(bare_client, tests.as_uri())
    (failure,) = [d for d in shown if d.source == "ark-sandbox"]
    assert failure.range.start.line == 6  # assert total == 3
    assert failure.message.startswith("test_breaks failed")


@pytest.mark.asyncio
async def test_a_run_a_limit_stopped_names_the_setting_that_raises_it(
    bare_client: LanguageClient, workspace: Path
) -> None:
    script = workspace / "forever.py"
    script.write_text("while True:\n    pass\n")
    tests = workspace / "tests" / "test_slow.py"
    tests.parent.mkdir()
    tests.write_text("import time\n\n\ndef test_a_slow_one():\n    time.sleep(5)\n")
    limits = {"sandbox": {"backend": "local", "timeout": 1, "suiteTimeout": 1}}
    await start(bare_client, "visual-studio-code", [workspace], limits)
    await open_file(bare_client, script)

    result = await execute(bare_client, "ark.runInSandbox", script.as_uri())
    assert result["outcome"] == "timeout"
    message = bare_client.messages[-1]
    assert message.type == types.MessageType.Warning
    assert message.message.startswith(
        "ARK sandbox (local): forever.py timeout (stopped by the timeout limit: raise"
        " `ark.sandbox.timeout` in the editor's settings or `timeout` in [tool.ark.sandbox])"
    )

    # A suite has a time limit of its own: its setting is the one named.
    await execute(bare_client, "ark.runTestsInSandbox", tests.as_uri())
    assert "tests/test_slow.py timeout (stopped by the timeout limit: raise" in (
        bare_client.messages[-1].message
    )
    assert (
        "`ark.sandbox.suiteTimeout` in the editor's settings or `suite-timeout` in"
        " [tool.ark.sandbox])" in bare_client.messages[-1].message
    )
