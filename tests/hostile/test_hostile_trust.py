"""A repository decides nothing privileged until its user trusts it.

Each test is an attack a cloned repository made on the user before workspace
trust: writing a file outside the workspace on opening it, choosing the
sandbox (and the network) its code runs in, and shipping an index whose rule
pack lets dangerous code through.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from support.cli import ark
from support.lsp import SERVER, open_file, reindex, start
from support.sandboxes import DockerSetup

ATTACKER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKHostileKeyHostileKeyHostileKeyHostileKey x@y"
UNSAFE = "value = eval(input())\n"


def attacker_pyproject(database: str) -> str:
    return (
        '[project]\nname = "innocent"\n\n'
        f"[tool.ark]\ndatabase = {json.dumps(database)}\n\n"
        "[[tool.ark.rules]]\n"
        'id = "X001"\nkind = "call"\npattern = "nothing.here"\n'
        f"message = {json.dumps(chr(10) + ATTACKER_KEY + chr(10))}\n"
    )


@pytest.fixture
def victim_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def editor(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    """A client each test starts on a workspace of its own."""
    yield lsp_client
    if not lsp_client.stopped:
        await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_opening_a_folder_never_writes_where_its_settings_point(
    editor: LanguageClient, tmp_path: Path, victim_home: Path
) -> None:
    keys = victim_home / ".ssh" / "authorized_keys"
    workspace = tmp_path / "repo"
    workspace.mkdir()
    (workspace / "pyproject.toml").write_text(attacker_pyproject(str(keys)))
    (workspace / "app.py").write_text(UNSAFE)

    await start(editor, "visual-studio-code", [workspace])
    shown = await open_file(editor, workspace / "app.py")

    assert not (victim_home / ".ssh").exists()
    assert (workspace / ".ark" / "index.db").is_file()  # the index stays in the workspace
    assert [d.code for d in shown] == ["ARK001"]
    warnings = [m.message for m in editor.log_messages + editor.messages]
    assert any("ignored its privileged settings database" in m for m in warnings), warnings


def test_a_trusted_workspace_still_cannot_put_its_index_outside_itself(
    tmp_path: Path, victim_home: Path
) -> None:
    workspace = tmp_path / "repo"
    workspace.mkdir()
    (workspace / "pyproject.toml").write_text(attacker_pyproject("~/.ssh/authorized_keys"))
    (workspace / "app.py").write_text(UNSAFE)
    env = {**os.environ, "HOME": str(victim_home)}

    ark("trust", cwd=workspace, env=env)
    indexed = ark("index", cwd=workspace, env=env)

    assert not (victim_home / ".ssh").exists()
    assert "outside the workspace's .ark/ folder" in indexed.stderr
    assert (workspace / ".ark" / "index.db").is_file()


def test_a_link_for_the_ark_folder_does_not_lead_the_index_out(
    tmp_path: Path, victim_home: Path
) -> None:
    workspace = tmp_path / "repo"
    workspace.mkdir()
    (victim_home / ".ssh").mkdir()
    (workspace / ".ark").symlink_to(victim_home / ".ssh")
    (workspace / "pyproject.toml").write_text('[project]\nname = "innocent"\n')
    (workspace / "app.py").write_text(UNSAFE)

    checked = ark("check", "app.py", cwd=workspace, check=False)

    assert list((victim_home / ".ssh").iterdir()) == []
    assert checked.returncode == 1 and "ARK001" in checked.stdout
    assert "is not a folder of the workspace's own" in checked.stderr


def test_a_repository_cannot_choose_the_sandbox_its_code_runs_in(
    tmp_path: Path, docker_setup: DockerSetup
) -> None:
    workspace = tmp_path / "repo"
    workspace.mkdir()
    (workspace / "pyproject.toml").write_text(
        '[project]\nname = "innocent"\n\n'
        '[tool.ark.sandbox]\nbackend = "local"\nnetwork = true\ntimeout = 100000\n'
    )
    (workspace / "where.py").write_text("import socket\nprint(socket.gethostname())\n")

    status = json.loads(ark("sandbox", "status", "--format", "json", cwd=workspace).stdout)
    ran = ark("run", "where.py", "--format", "json", cwd=workspace)

    assert (status["backend_setting"], status["backend"]) == ("auto", "docker")
    assert status["workspace_trusted"] is False
    assert status["ignored_settings"] == ["sandbox.backend", "sandbox.network", "sandbox.timeout"]
    assert json.loads(ran.stdout)["backend"] == "docker"
    assert "sandbox.backend, sandbox.network, sandbox.timeout" in ran.stderr

    ark("trust", cwd=workspace)  # the user's decision, and only then
    status = json.loads(ark("sandbox", "status", "--format", "json", cwd=workspace).stdout)
    assert status["backend_setting"] == "local"


def test_a_repository_cannot_give_its_test_suite_more_time_than_the_user_does(
    tmp_path: Path,
) -> None:
    # A suite that never ends would hold the machine for as long as the repository says.
    workspace = tmp_path / "repo"
    (workspace / "tests").mkdir(parents=True)
    (workspace / "pyproject.toml").write_text(
        '[project]\nname = "innocent"\n\n[tool.ark.sandbox]\nsuite-timeout = 100000\n'
    )
    (workspace / "tests" / "test_ok.py").write_text("def test_ok():\n    pass\n")
    database = tmp_path / "runs.db"

    def suite_limit() -> tuple[subprocess.CompletedProcess[str], object]:
        ran = ark("test", "--backend", "local", "--database", str(database), cwd=workspace)
        with closing(sqlite3.connect(database)) as db:
            (limits,) = db.execute(
                "SELECT limits FROM sandbox_executions ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return ran, json.loads(limits)["timeout"]

    status = json.loads(ark("sandbox", "status", "--format", "json", cwd=workspace).stdout)
    untrusted, untrusted_limit = suite_limit()

    assert status["ignored_settings"] == ["sandbox.suite_timeout"]
    assert "ignored its privileged settings sandbox.suite_timeout" in untrusted.stderr
    assert untrusted_limit == 600.0  # ARK's default, not the repository's

    ark("trust", cwd=workspace)  # the user's decision, and only then
    _, trusted_limit = suite_limit()
    assert trusted_limit == 100000.0


def test_changed_privileged_settings_ask_for_trust_again(tmp_path: Path) -> None:
    workspace = tmp_path / "repo"
    workspace.mkdir()
    pyproject = workspace / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n\n[tool.ark.sandbox]\ntimeout = 20\n')
    ark("trust", cwd=workspace)
    assert ark("trust", "--check", cwd=workspace).returncode == 0

    pyproject.write_text('[project]\nname = "x"\n\n[tool.ark.sandbox]\nnetwork = true\n')
    again = ark("trust", "--check", cwd=workspace, check=False)
    assert again.returncode == 1
    assert "changed since you trusted it" in again.stdout
    assert "sandbox.network" in again.stdout


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=a", "-c", "user.email=a@b", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_a_committed_index_does_not_decide_which_rules_apply(tmp_path: Path) -> None:
    # The attacker's machine: an index with every rule disabled, committed.
    attacker = tmp_path / "attacker"
    attacker.mkdir()
    (attacker / "pyproject.toml").write_text('[project]\nname = "innocent"\n')
    (attacker / "app.py").write_text(UNSAFE)
    attacker_env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "attacker-data")}
    listed = json.loads(ark("rules", "list", "--format", "json", cwd=attacker).stdout)
    for rule_id in sorted({rule["id"] for rule in listed}):
        ark("rules", "disable", rule_id, cwd=attacker, env=attacker_env)
    assert ark("check", "app.py", cwd=attacker, env=attacker_env).returncode == 0
    _git("init", "-q", cwd=attacker)
    _git("add", "-f", "pyproject.toml", "app.py", ".ark/index.db", cwd=attacker)
    _git("commit", "-qm", "initial", cwd=attacker)

    # The victim clones it and checks it.
    victim = tmp_path / "victim"
    _git("clone", "-q", str(attacker), str(victim), cwd=tmp_path)
    assert (victim / ".ark" / "index.db").is_file()
    checked = ark("check", "app.py", cwd=victim, check=False)

    assert checked.returncode == 1 and "ARK001" in checked.stdout
    assert "checking with the built-in rules" in checked.stderr
    refused = ark("rules", "enable", "ARK002", cwd=victim, check=False)
    assert refused.returncode == 4 and "not editing a rule pack you did not make" in refused.stderr


@pytest.mark.asyncio
async def test_the_server_checks_a_committed_index_with_the_built_in_rules(
    editor: LanguageClient, tmp_path: Path
) -> None:
    workspace = tmp_path / "repo"
    workspace.mkdir()
    (workspace / "pyproject.toml").write_text('[project]\nname = "innocent"\n')
    (workspace / "app.py").write_text(UNSAFE)
    elsewhere = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "other-data")}
    ark("rules", "disable", "ARK001", cwd=workspace, env=elsewhere)

    await start(editor, "neovim", [workspace])
    shown = await open_file(editor, workspace / "app.py")

    assert [d.code for d in shown] == ["ARK001"]


@pytest.mark.asyncio
async def test_vscode_restricted_mode_keeps_ark_to_safe_features(
    editor: LanguageClient, tmp_path: Path
) -> None:
    workspace = tmp_path / "repo"
    workspace.mkdir()
    (workspace / "pyproject.toml").write_text(
        '[project]\nname = "innocent"\n\n[tool.ark.sandbox]\nbackend = "local"\n'
    )
    (workspace / "app.py").write_text(UNSAFE)
    marker = tmp_path / "ran"
    (workspace / "payload.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")

    await start(editor, "visual-studio-code", [workspace], {"workspaceTrusted": False})
    shown = await open_file(editor, workspace / "app.py")
    assert [d.code for d in shown] == ["ARK001"]  # diagnostics still work

    with pytest.raises(Exception, match="restricted mode"):
        await editor.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="ark.runInSandbox", arguments=[(workspace / "payload.py").as_uri()]
            )
        )
    assert not marker.exists()
    await reindex(editor)  # and the server goes on


@pytest.mark.asyncio
async def test_ark_trust_command_lets_the_editor_trust_a_folder(
    editor: LanguageClient, tmp_path: Path
) -> None:
    workspace = tmp_path / "repo"
    (workspace / ".ark" / "templates").mkdir(parents=True)
    (workspace / "pyproject.toml").write_text('[project]\nname = "innocent"\n')
    (workspace / ".ark" / "templates" / "function.py.j2").write_text("# workspace template\n")

    await start(editor, "neovim", [workspace])
    assert ark("trust", "--check", cwd=workspace, check=False).returncode == 1

    result = await editor.workspace_execute_command_async(
        types.ExecuteCommandParams(command="ark.trust", arguments=[workspace.as_uri()])
    )

    assert result["trusted"][str(workspace)]["templates"] == [".ark/templates/function.py.j2"]
    assert ark("trust", "--check", cwd=workspace).returncode == 0


def test_ark_trust_lists_and_revokes(tmp_path: Path) -> None:
    workspace = tmp_path / "repo"
    workspace.mkdir()
    (workspace / "pyproject.toml").write_text("[tool.ark]\njobs = 1\n")
    granted = ark("trust", cwd=workspace)
    assert granted.stdout.splitlines() == [f"ark: trusted {workspace}", "  jobs = 1"]
    assert str(workspace) in ark("trust", "--list", cwd=tmp_path).stdout

    ark("trust", "--revoke", cwd=workspace)
    assert ark("trust", "--check", cwd=workspace, check=False).returncode == 1


def test_even_a_trusted_workspace_cannot_choose_weaker_isolation(tmp_path: Path) -> None:
    workspace = tmp_path / "repo"
    workspace.mkdir()
    (workspace / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.ark.sandbox]\nbackend = "local"\nweak-isolation = true\n'
    )
    (workspace / "hello.py").write_text("print('hello')\n")
    ark("trust", cwd=workspace)

    ran = ark("run", "hello.py", "--format", "json", cwd=workspace)

    result = json.loads(ran.stdout)
    assert result["backend"] == "local" and "WEAKER" not in result["isolation"]
    assert "only your own settings choose weaker isolation" in ran.stderr
