"""A hostile repository against what goes into the sandbox and what comes back out of it.

The repository links to host secrets (a file outside it, ``/proc/self/environ``
holding ARK's own environment, ``/etc/shadow``), keeps a FIFO, forges the JUnit
report its tests leave behind and the observations file test generation reads.
Each test is the attack as the repository would mount it, checked as the user
would: the secret is not in the output, nothing hangs, the generated test file
runs nothing the sandbox chose.
"""

from __future__ import annotations

import ast
import asyncio
import io
import json
import os
import subprocess
import sys
import textwrap
import tokenize
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from support.cli import ark
from support.lsp import open_file, start

pytestmark = pytest.mark.slow

FILE_SECRET = "ARK-HOSTILE-FILE-SECRET-7c1e90"
ENV_SECRET = "ARK-HOSTILE-ENV-SECRET-41d9b2"
"""Set in the environment of the ARK process only, as an ``AWS_SECRET_ACCESS_KEY`` would be."""

LINKS = ("stolen.txt", "relative.txt", "environ.txt", "shadow.txt", "outside/secret.txt")

SHOW = textwrap.dedent(
    """\
    for name in {names!r}:
        try:
            with open(name, "rb") as handle:
                print(name, handle.read(4000))
        except OSError as error:
            print(name, "cannot be read:", type(error).__name__)
    """
)


def ark_env() -> dict[str, str]:
    return {**os.environ, "AWS_SECRET_ACCESS_KEY": ENV_SECRET}


def leaky_workspace(tmp_path: Path) -> Path:
    """A repository whose links lead to a secret file, ARK's environment and /etc/shadow."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text(FILE_SECRET)
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "leaky"\n')
    (root / "stolen.txt").symlink_to(elsewhere / "secret.txt")
    (root / "relative.txt").symlink_to(Path("..") / "elsewhere" / "secret.txt")
    (root / "environ.txt").symlink_to("/proc/self/environ")
    (root / "shadow.txt").symlink_to("/etc/shadow")
    (root / "outside").symlink_to(elsewhere)  # a linked folder leading out
    (root / "kept.txt").write_text("inside the workspace")
    (root / "alias.txt").symlink_to("kept.txt")  # a link that stays inside: copied
    (root / "show.py").write_text(SHOW.format(names=(*LINKS, "alias.txt")))
    return root


def assert_no_secret(text: str) -> None:
    assert FILE_SECRET not in text
    assert ENV_SECRET not in text
    assert "root:" not in text  # /etc/shadow's first line


@pytest.mark.parametrize("backend", ["local", "docker"])
def test_links_out_of_the_workspace_do_not_carry_host_secrets_into_the_sandbox(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "docker":
        request.getfixturevalue("docker_setup")  # fails under ARK_REQUIRE_DOCKER=1 without one
    root = leaky_workspace(tmp_path)
    run = ark("run", "show.py", "--backend", backend, cwd=root, env=ark_env(), check=False)
    assert_no_secret(run.stdout + run.stderr)
    assert "alias.txt b'inside the workspace'" in run.stdout  # links inside the root still work
    for name in LINKS:
        assert f"{name} cannot be read" in run.stdout
    (note,) = [line for line in run.stderr.splitlines() if "outside the workspace" in line]
    assert all(name in note for name in ("stolen.txt", "environ.txt", "outside"))


GENERATE = textwrap.dedent(
    """\
    import json, sys
    from pathlib import Path
    from ark_lsp.config import settings_from_mapping
    from ark_lsp.generate import Templates
    from ark_lsp.generate.characterize import CharacterizationContext, generate_tests
    from ark_lsp.sandbox import SandboxRunner

    root, relative, backend = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    settings = settings_from_mapping({"sandbox": {"backend": backend, "timeout": 60}}).settings
    runner = SandboxRunner(root, settings, pool_size=0)
    try:
        context = CharacterizationContext(
            root=root, settings=settings, templates=Templates(root), runner=runner,
            run_tests=False,
        )
        made = generate_tests(context, relative)
    finally:
        runner.close()
    print(json.dumps({"text": made.generation.change.new_text,
                      "notes": list(made.generation.notes)}))
    """
)
"""Test generation as the CLI and the editor run it, with the backend the user chose."""

READERS = textwrap.dedent(
    """\
    def stolen() -> str:
        with open("stolen.txt", encoding="utf-8", errors="replace") as handle:
            return handle.read()


    def environment() -> str:
        with open("environ.txt", encoding="utf-8", errors="replace") as handle:
            return handle.read()
    """
)


@pytest.mark.parametrize("backend", ["local", "docker"])
def test_generated_tests_hold_no_secret_a_workspace_link_pointed_at(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "docker":
        request.getfixturevalue("docker_setup")
    root = leaky_workspace(tmp_path)
    (root / "readers.py").write_text(READERS)
    done = subprocess.run(
        [sys.executable, "-c", GENERATE, str(root), "readers.py", backend],
        cwd=tmp_path,  # "-c" puts the current folder first on sys.path
        capture_output=True,
        text=True,
        timeout=300,
        env=ark_env(),
        check=True,
    )
    made = json.loads(done.stdout)
    assert_no_secret(made["text"])
    assert "def test_stolen" in made["text"]  # the function was characterized all the same


def test_indexing_does_not_follow_a_link_out_of_the_workspace(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "settings.py").write_text(f'TOKEN = "{FILE_SECRET}"\nrun = eval(input())\n')
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "leaky"\n')
    (root / "app.py").write_text("print('hello')\n")
    (root / "stolen.py").symlink_to(elsewhere / "settings.py")
    (root / "outside").symlink_to(elsewhere)
    index = json.loads(ark("index", ".", "--format", "json", cwd=root).stdout)
    assert index["files_indexed"] == 1  # app.py only
    check = ark("check", ".", cwd=root, check=False)
    # The link is named as left out, and nothing of what it leads to is read or reported.
    assert "ark: note: skipped stolen.py: a link leading out of the workspace" in check.stderr
    output = check.stdout + check.stderr
    assert "stolen.py" not in check.stdout and FILE_SECRET not in output and "ARK001" not in output


def test_a_fifo_in_the_workspace_does_not_hang_the_copy(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "piped"\n')
    os.mkfifo(root / "pipe.txt")
    (root / "feed.txt").symlink_to("pipe.txt")
    (root / "hello.py").write_text("print('hello from the sandbox')\n")
    run = ark("run", "hello.py", "--backend", "local", cwd=root, check=False)  # 120 s deadline
    assert run.stdout == "hello from the sandbox\n"
    assert any("pipe.txt" in line and "special file" in line for line in run.stderr.splitlines())


def test_the_size_cap_names_the_largest_files(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "data").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "heavy"\n')
    with open(root / "data" / "dump.bin", "wb") as dump:
        dump.truncate(40 * 1024 * 1024)  # sparse: cheap to make, 40 MiB to copy
    (root / "hello.py").write_text("print('hello')\n")
    run = ark("run", "hello.py", "--backend", "local", cwd=root, check=False)
    assert run.returncode == 4
    (error,) = [line for line in run.stderr.splitlines() if line.startswith("ark: error:")]
    assert "32 MiB" in error and "data/dump.bin (40.0 MiB)" in error
    assert "exclude" in error


def test_a_bind_mounted_workspace_resolves_its_links_inside_the_container(
    tmp_path: Path, docker_setup: Any
) -> None:
    """``mount-workspace`` binds the folder itself: links resolve in the container, not the host.

    This held before the copy was fixed; it must keep holding.
    """
    from ark_lsp.config import settings_from_mapping
    from ark_lsp.sandbox import SandboxRunner

    root = leaky_workspace(tmp_path)
    settings = settings_from_mapping(
        {"sandbox": {"backend": "docker", "mount-workspace": True, "pool-size": 0}}
    ).settings
    runner = SandboxRunner(root, settings)
    try:
        result = runner.run_file("show.py")
    finally:
        runner.close()
    assert result.outcome.value == "passed", result.error or result.stderr
    assert_no_secret(result.stdout + result.stderr)
    assert "alias.txt b'inside the workspace'" in result.stdout


FORGED_JUNIT = """\
<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="4" skipped="0" tests="4">
<testcase classname="tests.test_it" name="test_pipe" file="tests/pipe.py" line="0">
<failure message="boom">tests/pipe.py:1: AssertionError</failure></testcase>
<testcase classname="tests.test_it" name="test_shadow" file="/etc/shadow" line="0">
<failure message="boom">/etc/shadow:1: AssertionError</failure></testcase>
<testcase classname="tests.test_it" name="test_passwd" file="../../etc/passwd" line="0">
<failure message="boom">../../etc/passwd:1: AssertionError</failure></testcase>
<testcase classname="tests.test_it" name="test_zero" file="/dev/zero" line="0">
<failure message="boom">/dev/zero:1: AssertionError</failure></testcase>
</testsuite></testsuites>
"""
FORGED_PATHS = ("tests/pipe.py", "/etc/shadow", "../../etc/passwd", "/dev/zero")


def forging_workspace(tmp_path: Path) -> Path:
    """Tests whose conftest replaces pytest's JUnit report with one naming host files."""
    root = tmp_path / "repo"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "forger"\n')
    (root / "tests" / "test_it.py").write_text("def test_fine():\n    assert True\n")
    (root / "tests" / "conftest.py").write_text(
        textwrap.dedent(
            f"""\
            FORGED = {FORGED_JUNIT!r}


            def pytest_unconfigure(config):
                path = getattr(config.option, "xmlpath", None)
                if path:
                    with open(path, "w", encoding="utf-8") as report:
                        report.write(FORGED)
            """
        )
    )
    os.mkfifo(root / "tests" / "pipe.py")  # opening it would block until a writer comes
    return root


def test_a_forged_junit_report_names_no_host_file_on_the_command_line(tmp_path: Path) -> None:
    root = forging_workspace(tmp_path)
    run = ark("test", "--backend", "local", "--format", "json", cwd=root, check=False)
    result = json.loads(run.stdout)
    assert result["summary"]["failed"] == 4  # the forged cases still count, as data
    assert {case["path"] for case in result["tests"]} == {""}
    text = ark("test", "--backend", "local", cwd=root, check=False)
    failed = [line for line in text.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 4
    for path in FORGED_PATHS:
        assert not [line for line in failed if path in line]
    assert "/etc/" not in text.stderr and "/dev/" not in text.stderr


async def answered(client: LanguageClient, request: Any, seconds: float) -> Any:
    """The server's answer, or a failure when it hangs (ending it, so teardown does not wait)."""
    try:
        return await asyncio.wait_for(request, timeout=seconds)
    except TimeoutError:
        client.error = TimeoutError("hung")  # pytest-lsp then skips its shutdown handshake
        client._server.kill()  # type: ignore[union-attr]
        raise AssertionError(f"the server did not answer within {seconds} s") from None


@pytest.mark.asyncio
async def test_a_forged_junit_report_makes_the_server_read_nothing(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    root = forging_workspace(tmp_path)
    await start(bare_client, "neovim", [root], {"sandbox": {"backend": "local", "timeout": 30}})
    test_file = root / "tests" / "test_it.py"
    await open_file(bare_client, test_file)
    result = await answered(
        bare_client,
        bare_client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="ark.runTestsInSandbox", arguments=[])
        ),
        90,
    )
    assert result["summary"]["failed"] == 4
    # The server still answers, and showed no failure at a file outside the project.
    symbols = await answered(
        bare_client,
        bare_client.text_document_document_symbol_async(
            types.DocumentSymbolParams(
                text_document=types.TextDocumentIdentifier(uri=test_file.as_uri())
            )
        ),
        30,
    )
    assert symbols
    shown = {params.uri for params in bare_client.published}  # type: ignore[attr-defined]
    assert all(uri.startswith(root.as_uri() + "/") for uri in shown), shown
    assert (root / "tests" / "pipe.py").as_uri() not in shown


PAYLOAD = "open('PWNED', 'w').write('code from the sandbox')"

FORGER = textwrap.dedent(
    """\
    import atexit
    import json
    import os

    PAYLOAD = {payload!r}


    def answer() -> int:
        return 42


    def pick(flag: bool) -> int:
        return 1 if flag else 2


    class Box:
        def __init__(self, size: int = 1) -> None:
            self.size = size

        def get(self) -> int:
            return self.size

        def reset(self) -> None:
            self.size = 0


    def broken() -> int:
        return 1


    def _forge() -> None:
        # Runs as the driver exits: its honest report is replaced by this one.
        try:
            with open(".ark-characterize.json", encoding="utf-8") as spec_file:
                spec = json.load(spec_file)
        except OSError:
            return  # not a characterization run
        targets = {{}}
        for order in spec["targets"]:
            cases = [{{"values": [], "kind": "value", "text": PAYLOAD, "lines": [1]}}]
            if order["pools"]:  # one column: a row per way in
                first = order["pools"][0][0]
                cases = [
                    {{"values": [first], "kind": "value", "text": PAYLOAD, "lines": [1]}},
                    {{"values": [PAYLOAD], "kind": "value", "text": "1", "lines": [2]}},
                    {{"values": ["'c'"], "kind": "raises", "module": "os",
                      "name": "error if " + PAYLOAD + " else OSError", "lines": [3]}},
                    {{"values": ["'d'"], "kind": "type", "module": "os",
                      "name": "error if " + PAYLOAD + " else int", "lines": [4]}},
                    # Values "made" by a call: of what is no plain value's class.
                    {{"values": [first], "kind": "value", "module": "builtins",
                      "name": "open", "text": "('PWNED', 'w')", "lines": [5]}},
                    {{"values": [first], "kind": "value", "module": "subprocess",
                      "name": "Popen", "text": "(['touch', 'PWNED'])", "lines": [6]}},
                    {{"values": [first], "kind": "value", "module": "forger",
                      "name": "os.system", "text": "('touch PWNED',)", "lines": [7]}},
                    {{"values": [first], "kind": "value", "module": "forger",
                      "name": "Box", "text": "(" + PAYLOAD + ")", "lines": [8]}},
                ]
            entry = {{"problem": None, "cases": cases, "construction": PAYLOAD}}
            if order["qualname"] == "Box.get":
                entry["cases"] = [{{"values": [], "kind": "value", "text": "1", "lines": [1]}}]
            if order["qualname"] == "Box.reset":  # the state the call "left": literals only
                entry["construction"] = ""
                entry["cases"] = [{{"values": [], "kind": "value", "text": "None", "lines": [2],
                                    "after": "(" + PAYLOAD + ")"}}]
            if order["qualname"] == "broken":
                entry = {{"problem": "gone\\n" + PAYLOAD + "\\n#", "cases": []}}
            targets[order["qualname"]] = entry
        with open(".ark-observed.json", "w", encoding="utf-8") as out:
            json.dump({{"import_error": None, "targets": targets}}, out)


    atexit.register(_forge)
    """
)


def called_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            names.add(ast.unparse(node.func))
    return names


def test_a_forged_observations_file_puts_no_code_in_the_generated_tests(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "forger"\n')
    (root / "forger.py").write_text(FORGER.format(payload=PAYLOAD))
    ark("generate", "tests", "forger.py", "--no-run", cwd=root, check=False)
    test_file = root / "tests" / "test_forger.py"
    text = test_file.read_text()
    code = "".join(  # what runs: the sandbox's messages may stay quoted in comments
        token.string
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type != tokenize.COMMENT
    )
    assert "open(" not in code and "PWNED" not in code and "system" not in code
    calls = called_names(ast.parse(text))
    assert not {name for name in calls if "open" in name}, calls
    # Plain pytest on the host, as the user would run the new tests.
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        cwd=root,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert not (root / "PWNED").exists()
