"""A hostile repository's templates, globs and ignore files: bounded work, no crash, no leak.

Each test is an attack as a repository would ship it, run through the real
``ark`` command or the real server over stdio; each failed before ARK
bounded template rendering, matched globs in linear time and made a bad
pattern a warning.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from support.cli import ARK
from support.lsp import hover_text, open_file, start, write_workspace

# Ten billion loop turns: hours of CPU, no output, in a template the sandbox accepts.
RANGE_BOMB = (
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    "def {{ function.name }}():\n    pass\n"
)
CATASTROPHIC_GLOB = "a*" * 13 + "b"
"""Python's regex engine backtracks through every split of a long run of ``a``."""
LONG_NAME = "a" * 64 + ".py"
BOUNDED = 60
"""Seconds an attacked run may take here: the limits are ~2 s, the rest is a slow machine."""
SECRET = "AWS_SECRET_ACCESS_KEY=host-only-5f0c1e"

CALLER = textwrap.dedent(
    """\
    def build_report(text):
        config = dict(text=text)
        total = summarize(config, limit=10)
        return total
    """
)


def ark_bounded(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``ark`` as users do; a run past the bound fails the test instead of hanging it."""
    return subprocess.run(
        [str(ARK), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=BOUNDED,
        env={**os.environ, "ARK_DATABASE": ""},
    )


def project(root: Path, files: dict[str, str]) -> Path:
    for relative, text in {"pyproject.toml": '[project]\nname = "victim"\n', **files}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def trusted(root: Path) -> Path:
    """The user trusted the workspace: its templates are in force, and must still be bounded."""
    assert ark_bounded("trust", cwd=root).returncode == 0
    return root


def one_line_error(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


async def _message(client: LanguageClient, *words: str) -> str:
    """The first ``window/showMessage`` holding every word, waited for with a deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOUNDED
    while loop.time() < deadline:
        for message in client.messages:
            if all(word in message.message for word in words):
                return message.message
        await asyncio.sleep(0.01)
    raise AssertionError(f"no message with {words}: {[m.message for m in client.messages]}")


# --- templates --------------------------------------------------------------------------------


def test_a_range_bomb_template_fails_generate_in_bounded_time(tmp_path: Path) -> None:
    root = trusted(project(tmp_path, {".ark/templates/function.py.j2": RANGE_BOMB}))
    result = ark_bounded("generate", "function", "helper", cwd=root)
    assert result.returncode == 4
    line = one_line_error(result.stderr)
    assert "function.py.j2" in line and "longer than" in line


def test_a_template_rendering_megabytes_is_cut_off(tmp_path: Path) -> None:
    # 20 MB of one Python name: valid, and far past what a stub can be.
    flood = (
        "def {{ function.name }}():\n"
        "    return {% for i in range(2000) %}{{ 'x' * 10000 }}{% endfor %}\n"
    )
    root = trusted(project(tmp_path, {".ark/templates/function.py.j2": flood}))
    result = ark_bounded("generate", "function", "helper", cwd=root)
    assert result.returncode == 4
    line = one_line_error(result.stderr)
    assert "function.py.j2" in line and "more than 1 MiB" in line
    assert result.stdout == ""


@pytest.mark.parametrize("link", ["included", "override", "folder"])
def test_a_linked_template_reads_no_host_file(tmp_path: Path, link: str) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "secret.txt").write_text(SECRET + "\n")
    (host / "function.py.j2").write_text(f'def {{{{ function.name }}}}():\n    "{SECRET}"\n')
    root = project(tmp_path / "victim", {})
    templates = root / ".ark" / "templates"
    templates.parent.mkdir()
    if link == "folder":
        # The whole templates folder is a link out of the workspace.
        templates.symlink_to(host, target_is_directory=True)
    else:
        templates.mkdir()
        if link == "included":
            (templates / "notes.txt").symlink_to(host / "secret.txt")
            (templates / "function.py.j2").write_text(
                'def {{ function.name }}():\n    """{% include "notes.txt" %}"""\n'
            )
        else:
            (templates / "function.py.j2").symlink_to(host / "function.py.j2")
    trusted(root)
    result = ark_bounded("generate", "function", "helper", cwd=root)
    assert "host-only" not in result.stdout + result.stderr
    assert result.returncode == 4
    assert "function.py.j2" in one_line_error(result.stderr)


async def _code_actions(
    client: LanguageClient, path: Path, line: int, character: int
) -> list[types.CodeAction | types.Command]:
    found = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            range=types.Range(
                start=types.Position(line=line, character=character),
                end=types.Position(line=line, character=character),
            ),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return list(found or [])


@pytest.mark.asyncio
async def test_a_range_bomb_template_does_not_stop_the_server(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    root = tmp_path / "sample"
    write_workspace(root)
    (root / ".ark" / "templates").mkdir(parents=True)
    (root / ".ark" / "templates" / "function.py.j2").write_text(RANGE_BOMB)
    report = root / "report.py"
    report.write_text(CALLER)
    trusted(root)
    await start(bare_client, "visual-studio-code", [root])
    await open_file(bare_client, report)
    parser = root / "pkg" / "parser.py"
    await open_file(bare_client, parser)

    # The quick fix renders the workspace template off the server's thread...
    asked = asyncio.ensure_future(_code_actions(bare_client, report, 2, 14))
    # ...and the server answers a hover meanwhile.
    hover = await asyncio.wait_for(hover_text(bare_client, parser, 3, 6), BOUNDED)
    assert "complexity 5 (A)" in hover
    actions = await asyncio.wait_for(asked, BOUNDED)
    assert not [a for a in actions if a.title.startswith("Generate function")]
    warning = await _message(bare_client, "function.py.j2", "longer than")
    assert warning.startswith("ARK cannot generate: template function.py.j2")

    # Generation keeps working for what comes next (the worker was not left stuck).
    await asyncio.wait_for(_code_actions(bare_client, report, 2, 14), BOUNDED)
    assert "complexity 5 (A)" in await hover_text(bare_client, parser, 3, 6)


# --- globs and ignore files ---------------------------------------------------------------------


def test_a_catastrophic_exclude_glob_does_not_hang_index(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pyproject.toml": f'[tool.ark]\nexclude = ["{CATASTROPHIC_GLOB}"]\n',
            LONG_NAME: "x = 1\n",
            f"{'a' * 20}b/excluded.py": "y = 2\n",
        },
    )
    result = ark_bounded("index", ".", "--format", "json", cwd=root)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    # Matching is still gitignore's: the folder ending in b is left out, the long name is not.
    assert figures["files_indexed"] == 1


@pytest.mark.asyncio
async def test_a_catastrophic_exclude_glob_does_not_hang_the_server(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    root = tmp_path / "sample"
    write_workspace(root)
    (root / "pyproject.toml").write_text(f'[tool.ark]\nexclude = ["{CATASTROPHIC_GLOB}"]\n')
    (root / LONG_NAME).write_text("x = 1\n")
    # initialize, then the first index run over the long name, end to end.
    await asyncio.wait_for(start(bare_client, "visual-studio-code", [root]), BOUNDED)
    parser = root / "pkg" / "parser.py"
    await open_file(bare_client, parser)
    hover = await asyncio.wait_for(hover_text(bare_client, parser, 3, 6), BOUNDED)
    assert "complexity 5 (A)" in hover


def test_a_fifo_gitignore_does_not_hang_index(tmp_path: Path) -> None:
    root = project(tmp_path, {"app.py": "x = 1\n", "sub/mod.py": "y = 2\n", ".git/HEAD": ""})
    os.mkfifo(root / "sub" / ".gitignore")  # nothing will ever write to it
    result = ark_bounded("index", ".", "--format", "json", cwd=root)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["files_indexed"] == 2


BAD_PATTERN_FILES = {
    "app.py": "result = eval(input())\n",
    "vendor/blob.py": "exec(input())\n",
}


def _bad_pattern_project(root: Path, where: str) -> Path:
    if where == ".gitignore":
        # A lone backslash between two good patterns: vendor/ must still apply,
        # in a git work tree, where .gitignore files apply.
        files = {".gitignore": "*.log\n\\\nvendor/\n", ".git/HEAD": "ref: refs/heads/main\n"}
    else:
        files = {"pyproject.toml": '[tool.ark]\nexclude = ["*.log", "\\\\", "vendor/"]\n'}
    return project(root, {**BAD_PATTERN_FILES, **files})


@pytest.mark.parametrize("where", [".gitignore", "exclude"])
def test_a_backslash_pattern_is_a_warning_for_index(tmp_path: Path, where: str) -> None:
    root = _bad_pattern_project(tmp_path, where)
    result = ark_bounded("index", ".", "--format", "json", cwd=root)
    assert result.returncode == 0
    warning = one_line_error(result.stderr)
    assert warning.startswith("ark: warning:") and where in warning and "'\\\\'" in warning
    assert json.loads(result.stdout)["files_indexed"] == 1  # app.py; vendor/ left out


@pytest.mark.parametrize("where", [".gitignore", "exclude"])
def test_a_backslash_pattern_is_a_warning_for_check(tmp_path: Path, where: str) -> None:
    root = _bad_pattern_project(tmp_path, where)
    result = ark_bounded("check", "--format", "json", cwd=root)
    assert result.returncode == 1  # app.py's eval() is still found
    warning = one_line_error(result.stderr)
    assert warning.startswith("ark: warning:") and where in warning and "'\\\\'" in warning
    found = json.loads(result.stdout)["results"]
    assert [(r["path"], r["rule"]) for r in found] == [("app.py", "ARK001")]


@pytest.mark.asyncio
async def test_a_backslash_pattern_is_a_warning_in_the_server(
    bare_client: LanguageClient, tmp_path: Path
) -> None:
    root = _bad_pattern_project(tmp_path / "sample", ".gitignore")
    await asyncio.wait_for(start(bare_client, "visual-studio-code", [root]), BOUNDED)
    warning = await _message(bare_client, ".gitignore", "'\\\\'")
    assert "Traceback" not in warning
    symbols = await bare_client.workspace_symbol_async(types.WorkspaceSymbolParams(query="blob"))
    assert not symbols
    status = bare_client.statuses[-1]  # type: ignore[attr-defined]
    assert "failed" not in json.dumps(status)
