"""The VS Code extension: typecheck, bundle, package, unit test, and real VS Code.

The fast tier runs the extension's own build (``npm run typecheck|bundle|
package``) and its ``node --test`` unit test. ``npm run package`` puts the
ARK server and its dependencies into the ``.vsix`` (``bundled/libs``), here
from the wheelhouse with no index; the bundled server is run by plain
Pythons that have no ARK. The end-to-end tests install the built ``.vsix``
into code-server 4.100.3 (VS Code 1.100.3 with its Node extension host) with
a fresh virtual environment without ARK as the interpreter, open the sample
project in headless Chromium through playwright-core
(``editors/vscode/test/e2e/drive.mjs``) and check what the workbench shows.
When one of them fails, its screenshots, the driver's report and the VS Code
logs are kept in ``.artifacts/vscode-e2e/``.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harness import FAILED, REPO, SAMPLE, copy_sample, isolated_env, missing_tool
from support.packaging import (
    assert_cannot_import_ark,
    fresh_venv,
    offline_pip_env,
    plain_env,
    wheelhouse,
)

import ark_lsp
from ark_lsp.analysis import analyze

EXTENSION = REPO / "editors" / "vscode"
DRIVER = EXTENSION / "test" / "e2e" / "drive.mjs"
CODE_SERVER_VERSION = "4.100.3"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("ARK_ARTIFACTS_DIR") or REPO / ".artifacts") / "vscode-e2e"
README_SCREENSHOT = EXTENSION / "images" / "screenshot.png"
REQUIRE = "ARK_REQUIRE_VSCODE"
RE2_PYTHONS = ("3.11", "3.12", "3.13", "3.14")
"""The CPython releases whose google-re2 module the .vsix carries (scripts/package.mjs)."""
VSIX_LIMIT = 16 * 1024 * 1024
"""The .vsix stays below this: ~12 MB today, two thirds of it jedi's stubs and pygments."""


def tools_dir() -> Path:
    """Where scripts/editor-deps installs code-server (the same default as there)."""
    configured = os.environ.get("ARK_TOOLS_DIR")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "ark-tools"


def run(command: list[str], timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=EXTENSION, capture_output=True, text=True, timeout=timeout, **kwargs
    )


def shown(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="session")
def node_packages() -> None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            missing_tool(f"{tool} is not on PATH", REQUIRE)
    if not (EXTENSION / "node_modules" / ".package-lock.json").exists():
        missing_tool("the extension's node packages are not installed (npm ci)", REQUIRE)


@pytest.fixture(scope="session")
def bundle(node_packages: None) -> Path:
    done = run(["npm", "run", "bundle"], timeout=300)
    assert done.returncode == 0, shown(done)
    return EXTENSION / "dist" / "extension.js"


@pytest.fixture(scope="session")
def vsix(bundle: Path) -> Path:
    # Offline: the server's wheel is built, and its dependencies installed, from the wheelhouse.
    env = offline_pip_env(wheelhouse())
    env["ARK_PYTHON"] = sys.executable
    done = run(["npm", "run", "package"], timeout=600, env=env)
    assert done.returncode == 0, shown(done)
    return EXTENSION / "dist" / "ark.vsix"


def vscode_target() -> str:
    """VS Code's name for this machine's platform, which the .vsix is built for."""
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}
    return f"{sys.platform}-{arch[platform.machine().lower()]}"


def test_the_typescript_typechecks_in_strict_mode(node_packages: None) -> None:
    assert json.loads((EXTENSION / "tsconfig.json").read_text())["compilerOptions"]["strict"]
    done = run(["npm", "run", "typecheck"], timeout=300)
    assert done.returncode == 0, shown(done)


def test_the_bundle_needs_nothing_but_vscode_at_run_time(bundle: Path) -> None:
    # The .vsix ships no node_modules: everything but Node's own modules must be inside.
    required = set(re.findall(r"require\(\"([^\"]+)\"\)", bundle.read_text()))
    listed = run(["node", "-p", "JSON.stringify(require('module').builtinModules)"], timeout=60)
    builtins = set(json.loads(listed.stdout))
    external = {name for name in required if name.removeprefix("node:") not in builtins}
    assert external == {"vscode"}, sorted(required)


def test_the_vsix_holds_only_what_users_need_and_installs_on_vscode_1_100(vsix: Path) -> None:
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("extension/package.json"))
    libs = "extension/bundled/libs/"
    assert {name for name in names if not name.startswith(libs)} == {
        "extension.vsixmanifest",
        "[Content_Types].xml",
        "extension/package.json",
        "extension/readme.md",
        "extension/LICENSE.txt",
        "extension/images/icon.png",
        "extension/dist/extension.js",
        "extension/bundled/bundle.json",
    }
    match = re.fullmatch(r"\^1\.(\d+)\.\d+", manifest["engines"]["vscode"])
    assert match and int(match.group(1)) <= 100, manifest["engines"]
    # vsce refuses @types/vscode newer than engines; VS Code refuses engines newer than itself.
    types = json.loads((EXTENSION / "package-lock.json").read_text())["packages"][
        "node_modules/@types/vscode"
    ]["version"]
    assert tuple(map(int, types.split("."))) <= (1, int(match.group(1)), 999)


def test_the_vsix_carries_the_server_and_its_dependencies_and_stays_small(vsix: Path) -> None:
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        vsix_manifest = archive.read("extension.vsixmanifest").decode()
        bundle = json.loads(archive.read("extension/bundled/bundle.json"))
    libs = "extension/bundled/libs/"
    carried = {name.removeprefix(libs) for name in names if name.startswith(libs)}
    templates = {
        path.relative_to(REPO).as_posix()
        for path in (REPO / "ark_lsp" / "generate" / "templates").glob("*.j2")
    }
    assert {"ark_lsp/__init__.py", "ark_lsp/__main__.py", "ark_lsp/py.typed"} | templates <= carried
    packages = {name.split("/")[0] for name in carried}
    assert {"pygls", "lsprotocol", "cattrs", "jedi", "click", "jinja2", "docker", "re2"} <= packages
    # No bytecode, console scripts or pip (sqlite-utils declares it for a command ARK never runs).
    assert not [name for name in carried if "__pycache__" in name or name.endswith(".pyc")]
    assert not {"bin", "pip"} & packages
    # The gate's tools stay out: large, and mypy is compiled for one CPython release.
    assert not {"mypy", "pylint", "astroid", "coverage"} & packages
    # google-re2 is the one compiled dependency: its module for each CPython carried.
    abi = {"x64": "x86_64", "arm64": "aarch64"}[vscode_target().split("-")[1]]
    for release in RE2_PYTHONS:
        tag = release.replace(".", "")
        assert f"re2/_re2.cpython-{tag}-{abi}-linux-gnu.so" in carried, sorted(
            name for name in carried if name.startswith("re2/")
        )
    assert bundle == {
        "ark": ark_lsp.__version__,
        "target": vscode_target(),
        "re2Pythons": list(RE2_PYTHONS),
    }
    # Marked for the platform its compiled module is for: VS Code installs it only there.
    assert f'TargetPlatform="{vscode_target()}"' in vsix_manifest
    assert vsix.stat().st_size < VSIX_LIMIT, f"{vsix.stat().st_size:,} bytes"


def plain_pythons() -> list[Path]:
    """CPython 3.11+ interpreters on this machine: the tests' own, and any other release."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [str(Path(sys.executable).resolve())]
    candidates += [str(path) for path in sorted(pyenv.glob("3.1[1-9]*/bin/python3"))]
    candidates += [shutil.which(f"python{release}") or "" for release in RE2_PYTHONS]
    found: dict[str, Path] = {}
    for candidate in filter(None, candidates):
        about = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info >= (3, 11), sys.base_prefix)"],
            env=plain_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        usable, _, prefix = about.stdout.strip().partition(" ")
        if usable == "True":
            found.setdefault(prefix, Path(candidate))
    return list(found.values())


def run_bundled(
    python: Path, libs: Path, project: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """``python -P ARGS`` with only the bundled code added, as the extension starts it."""
    env = plain_env()
    env["PYTHONPATH"] = str(libs)
    return subprocess.run(
        [python, "-P", *args], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_bundled_server_runs_with_plain_pythons_that_have_no_ark(
    vsix: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(vsix) as archive:
        archive.extractall(tmp_path / "vsix")
    libs = tmp_path / "vsix" / "extension" / "bundled" / "libs"
    project = copy_sample(tmp_path)
    pythons = plain_pythons()
    for python in pythons:
        assert_cannot_import_ark(python, project)
        server = run_bundled(python, libs, project, "-m", "ark_lsp", "--version")
        assert server.stdout.strip() == f"ark-lsp, version {ark_lsp.__version__}", server
        code = "import ark_lsp, re2; print(ark_lsp.__file__, re2.__file__)"
        where = run_bundled(python, libs, project, "-c", code)
        assert where.returncode == 0, (python, where.stderr)
        assert all(Path(file).is_relative_to(libs) for file in where.stdout.split()), where
        # A check matches the project's patterns with RE2 and flags eval(), as in the editor.
        code = "from ark_lsp.cli import main; main()"
        checked = run_bundled(python, libs, project, "-c", code, "check", "app")
        assert checked.returncode == 1, (python, checked.stdout, checked.stderr)
        assert "ARK001" in checked.stdout, (python, checked.stdout)
    print(f"the bundled server ran with {', '.join(map(str, pythons))}")


def test_the_client_wiring_unit_tests_pass(bundle: Path) -> None:
    env = dict(os.environ, ARK_TEST_PYTHON=sys.executable)
    done = run(["node", "--test", "test/unit/"], timeout=600, env=env)
    assert done.returncode == 0, shown(done)
    passed = re.search(r"^# pass (\d+)$", done.stdout, re.MULTILINE)
    assert passed and int(passed.group(1)) >= 3, shown(done)
    assert re.search(r"^# fail 0$", done.stdout, re.MULTILINE), shown(done)


# --- VS Code itself -------------------------------------------------------------------


def code_server_binary() -> Path:
    binary = tools_dir() / f"code-server-{CODE_SERVER_VERSION}" / "node_modules" / ".bin"
    binary = binary / "code-server"
    if not binary.exists():
        missing_tool(f"code-server {CODE_SERVER_VERSION} is not installed at {binary}", REQUIRE)
    if not CHROMIUM.exists():
        missing_tool("Debian's chromium is not installed", REQUIRE)
    return binary


USER_SETTINGS = {
    # A quiet workbench: no welcome page, tips, update checks or trust prompt.
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "update.mode": "none",
    "git.enabled": False,
    "chat.commandCenter.enabled": False,
    "window.commandCenter": False,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_serving(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"code-server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"code-server did not answer at {url}:\n{log.read_text()}")


@dataclass
class Workbench:
    report: dict[str, Any]
    text: str
    python: Path
    """The interpreter VS Code was told to use: a fresh venv without ARK."""
    user_data: Path

    def extension_log(self) -> str:
        """What the extension wrote to its ARK output channel."""
        logs = sorted((self.user_data / "logs").glob("*/**/ark-lsp.ark/*.log"))
        return "\n".join(log.read_text() for log in logs)

    def step(self, name: str) -> dict[str, Any]:
        step = self.report["steps"].get(name)
        assert step is not None, f"the driver never ran {name!r}: {self.report}"
        assert step["ok"], f"{name}: {step['error']}\n(screenshots in {ARTIFACTS})"
        return dict(step)


def keep_artifacts(out: Path, user_data: Path, server_log: Path) -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    shutil.copytree(out, ARTIFACTS)
    shutil.copy(server_log, ARTIFACTS / "code-server.log")
    shutil.copytree(user_data / "logs", ARTIFACTS / "logs", dirs_exist_ok=True)


@pytest.fixture(scope="module")
def workbench(vsix: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workbench]:
    """What a user sees in VS Code 1.100 with ARK installed, one session for the module."""
    binary = code_server_binary()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # what is there must be from this run
    root = tmp_path_factory.mktemp("code-server")
    workspace = copy_sample(root)
    # A Python without ARK: the extension must run the server it carries.
    python = fresh_venv(root / "plain-python", with_pip=False)
    assert_cannot_import_ark(python, workspace)
    (workspace / ".vscode").mkdir()
    settings = {"ark.interpreter": str(python)}
    (workspace / ".vscode" / "settings.json").write_text(json.dumps(settings))
    user_data, extensions, out = root / "user-data", root / "extensions", root / "out"
    (user_data / "User").mkdir(parents=True)
    (user_data / "User" / "settings.json").write_text(json.dumps(USER_SETTINGS))
    config = root / "config.yaml"
    config.write_text("bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n")
    # No PYTHONPATH naming the checkout: the server's code must come from the .vsix.
    env = plain_env(isolated_env(root / "home"))
    env["HOME"] = str(root / "home")  # code-server writes under ~ otherwise
    common = [f"--config={config}", f"--user-data-dir={user_data}"]
    common.append(f"--extensions-dir={extensions}")

    installed = subprocess.run(
        [binary, *common, "--install-extension", str(vsix)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "was successfully installed" in installed.stdout, shown(installed)

    port = free_port()
    server_log = root / "code-server.log"
    with server_log.open("wb") as log:
        # Its own session, so the file watchers it forks are stopped with it.
        server = subprocess.Popen(
            [
                binary,
                *common,
                f"--bind-addr=127.0.0.1:{port}",
                "--auth=none",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--disable-getting-started-override",
                str(workspace),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/healthz", server, server_log)
        file = workspace / "app" / "loader.py"
        driven = subprocess.run(
            [
                "node",
                DRIVER,
                f"--url=http://127.0.0.1:{port}/?folder={workspace}",
                "--file=app/loader.py",
                f"--text-file={file}",
                f"--out={out}",
            ],
            cwd=EXTENSION,
            capture_output=True,
            text=True,
            timeout=900,
        )
        report_file = out / "report.json"
        if not report_file.exists():
            keep_artifacts(out, user_data, server_log)
            pytest.fail(f"the driver wrote no report:\n{shown(driven)}")
        text = (SAMPLE / "app/loader.py").read_text()
        yield Workbench(json.loads(report_file.read_text()), text, python, user_data)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    if "workbench" in FAILED:
        keep_artifacts(out, user_data, server_log)
    elif (out / "readme.png").exists() and os.environ.get("ARK_UPDATE_SCREENSHOT") == "1":
        shutil.copy(out / "readme.png", README_SCREENSHOT)


def utf16_column(line: str, needle: str) -> int:
    """VS Code's 1-based column of ``needle``: it counts UTF-16 code units."""
    return len(line[: line.index(needle)].encode("utf-16-le")) // 2 + 1


def eval_line(text: str) -> tuple[int, str]:
    lines = text.split("\n")
    index = next(i for i, line in enumerate(lines) if "eval(" in line)
    return index + 1, lines[index]


def test_vscode_activates_ark_and_shows_the_eval_squiggle(workbench: Workbench) -> None:
    workbench.step("open")
    squiggle = workbench.step("squiggle")
    assert squiggle["errors"] == 1
    # The status bar item: the server runs, and runs code in the configured sandbox.
    assert squiggle["status"].strip() == "ARK · sandbox: auto"


def test_vscode_runs_the_server_the_extension_carries_with_a_python_without_ark(
    workbench: Workbench,
) -> None:
    workbench.step("squiggle")  # the server ran: its diagnostic is on screen
    log = workbench.extension_log()
    assert f"Python for the server: {workbench.python} (from ark.interpreter)" in log, log
    version = re.escape(ark_lsp.__version__)
    # The installed extension's folder: ark-lsp.ark-VERSION, with the target on some releases.
    folder = rf"ark-lsp\.ark-{version}(-{vscode_target()})?"
    bundled = rf"extensions/{folder}/bundled/libs/ark_lsp"
    assert re.search(rf"ARK {version} from \S+/{bundled} \(bundled with the extension\)", log), log


def test_the_problems_panel_lists_ark001_at_its_line_and_column(workbench: Workbench) -> None:
    rows = workbench.step("problems")["rows"]
    number, line = eval_line(workbench.text)
    expected = f"eval() evaluates arbitrary code ark ARK001 [Ln {number}, Col "
    expected += f"{utf16_column(line, 'eval(')}]"
    assert expected in rows, rows


def test_hovering_the_squiggle_shows_the_problem_and_its_quick_fix(workbench: Workbench) -> None:
    hover = workbench.step("hover")["onEval"]
    assert "eval() evaluates arbitrary code" in hover
    assert "ARK001" in hover
    assert "Quick Fix" in hover


def test_hovering_a_function_shows_its_complexity_rank_and_trust_tier(
    workbench: Workbench,
) -> None:
    (load,) = analyze(workbench.text, "app/loader.py").symbols
    hover = workbench.step("hover")["onFunction"]
    assert "def load(text, strict=False)" in hover
    assert f"complexity {load.complexity} ({load.rank})" in hover
    assert "tier trusted" in hover


def test_the_quick_fix_rewrites_eval_and_the_problem_goes(workbench: Workbench) -> None:
    fix = workbench.step("quickfix")
    assert "Replace eval() with ast.literal_eval()" in fix["offered"]
    assert "Suppress ARK001 on this line" in fix["offered"]
    _, line = eval_line(workbench.text)
    assert line.replace("eval(", "ast.literal_eval(") in fix["lines"]
    assert fix["errors"] == 0
    assert fix["problems"] == "No problems have been detected in the workspace."


def test_re_index_workspace_from_the_command_palette_reports_the_run(
    workbench: Workbench,
) -> None:
    notification = workbench.step("reindex")["notification"]
    figures = r"\d+ files scanned, \d+ indexed, \d+ unchanged in [\d.]+ s"
    assert re.search(rf"ARK: re-indexed workspace: {figures}", notification), notification


def test_generate_tests_from_the_command_palette_opens_a_passing_test_file(
    workbench: Workbench,
) -> None:
    generated = workbench.step("generate")
    assert "test_loader.py" in generated["tab"]
    assert "from app.loader import load" in generated["lines"], generated["lines"]
    assert any("@pytest.mark.parametrize(" in line for line in generated["lines"])
    passed = re.search(r"wrote (\d+) tests? to \S+; (\d+) of (\d+) pass", generated["notification"])
    assert passed, generated["notification"]
    written, passing, checked = map(int, passed.groups())
    assert written > 0 and passing == checked == written, generated["notification"]
