"""A file opened in a warm workspace shows the index's findings first, and they are the analysis's.

The workspace is indexed before each test opens anything (``start`` waits
for the index run), so every file opened with its text on disk has its
findings in the index already. What the editor shows must not depend on
where they came from: the diagnostics of an opened file equal those the
analysis gives for the same text (sent again as an edit, which is always
analysed). A text the index did not analyse, byte for byte, is analysed.
Every test runs under VS Code's (pushed, UTF-16) and Neovim's (pulled,
UTF-8) client capabilities.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from support.lsp import (
    change_file,
    diagnostics,
    mark,
    open_file,
    position_encoding,
    published,
    pulls,
    write_workspace,
)

from ark_lsp.project import Project

FILES = {
    "unsafe.py": "import os\n\nsettings = eval(\"{'debug': True}\")\nos.system(user_command)\n",
    "compiler.py": "def ready():\n    return True\n\n\nreturn ready()\n",
    "suppressed.py": "import os\n\nos.system(command)  # noqa: ARK004\nvalue = eval(text)\n",
    "switched_off.py": "setattr(target, name, 1)\nvalue = eval(text)\n",
    "unicode_text.py": 'label = "𝄞é"; result = eval(label)\n',
    "clean.py": "def add(a, b):\n    return a + b\n",
}
"""Each file of the workspace, with the codes the analysis finds in it (in order)."""
CODES = {
    "unsafe.py": ["ARK001", "ARK004"],
    "compiler.py": ["ARK000"],  # the compiler's: 'return' outside function
    "suppressed.py": ["ARK001"],  # ARK004 silenced by its noqa comment
    "switched_off.py": ["ARK001"],  # ARK021 switched off in pyproject.toml
    "unicode_text.py": ["ARK001"],
    "clean.py": [],
}
UNICODE_PREFIX = 'label = "𝄞é"; result = '


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "sample"
    write_workspace(root)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "sample"\n\n[tool.ark]\nignore = ["ARK021"]\n'
    )
    for name, text in FILES.items():
        (root / name).write_text(text)
    return root


def publishes_of(client: LanguageClient, uri: str, version: int) -> int:
    return sum(
        1
        for params in client.published  # type: ignore[attr-defined]
        if params.uri == uri and params.version == version
    )


def units(text: str, encoding: str) -> int:
    """The length of ``text`` in the code units of a position encoding."""
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text.encode("utf-8")) if encoding == "utf-8" else len(text)


def make_index_stale(workspace: Path, path: str) -> None:
    """Change what the index says of a file, not its hash: as an index ARK no longer agrees with."""
    database = Project.load(workspace).database
    with sqlite3.connect(database) as connection:
        changed = connection.execute(
            "UPDATE violations SET message = 'stale finding' WHERE path = ?", (path,)
        ).rowcount
    assert changed


async def analysed_again(
    client: LanguageClient, path: Path, version: int
) -> list[types.Diagnostic]:
    """The analysis's diagnostics of the file's text, sent again as an edit."""
    return await change_file(client, path, path.read_text(), version)


@pytest.mark.asyncio
async def test_every_opened_file_shows_what_the_analysis_finds(
    client: LanguageClient, workspace: Path
) -> None:
    for name, codes in CODES.items():
        path = workspace / name
        shown = await open_file(client, path)

        assert [d.code for d in shown] == codes, name
        assert shown == await analysed_again(client, path, 2), name
        if not pulls(client):  # the analysis of the opened text, equal, was not published again
            assert publishes_of(client, path.as_uri(), 1) == 1, name

    (found,) = await diagnostics(client, (workspace / "unicode_text.py").as_uri(), 2)
    start = units(UNICODE_PREFIX, position_encoding(client))
    assert found.range.start == types.Position(line=0, character=start)
    assert found.range.end == types.Position(line=0, character=start + len("eval(label)"))
    (compiler,) = await diagnostics(client, (workspace / "compiler.py").as_uri(), 2)
    assert compiler.message == "syntax error: 'return' outside function"
    assert compiler.source == "ark"
    assert compiler.code_description is not None


@pytest.mark.asyncio
async def test_the_analysis_replaces_findings_of_the_index_it_disagrees_with(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "unsafe.py"
    make_index_stale(workspace, "unsafe.py")
    before = mark(client)

    shown = await open_file(client, path)

    # The index's findings came first (its hash matched), and the analysis corrected them.
    assert {d.message for d in shown} == {"stale finding"}
    if pulls(client):
        corrected = await diagnostics(client, path.as_uri())
    else:
        first = next(
            i
            for i, params in enumerate(client.published)  # type: ignore[attr-defined]
            if i >= before and params.uri == path.as_uri()
        )
        corrected = await published(client, path.as_uri(), 1, first + 1)
    assert "stale finding" not in {d.message for d in corrected}
    assert corrected == await analysed_again(client, path, 2)


@pytest.mark.asyncio
async def test_a_text_the_index_did_not_analyse_is_analysed(
    client: LanguageClient, workspace: Path
) -> None:
    # Edited on disk after the index run: the index's findings are of the old text.
    edited = workspace / "unsafe.py"
    edited.write_text("import os\n\nos.system(user_command)\n")
    make_index_stale(workspace, "unsafe.py")
    assert [d.code for d in await open_file(client, edited)] == ["ARK004"]

    # Opened with unsaved text that differs from the file.
    clean = workspace / "clean.py"
    assert [d.code for d in await open_file(client, clean, "value = eval(text)\n")] == ["ARK001"]

    # The same text with other line endings is other bytes than the index hashed.
    crlf = workspace / "suppressed.py"
    make_index_stale(workspace, "suppressed.py")
    before = mark(client)
    shown = await open_file(client, crlf, FILES["suppressed.py"].replace("\n", "\r\n"))
    assert [(d.code, d.message) for d in shown] == [("ARK001", "eval() evaluates arbitrary code")]
    if not pulls(client):
        messages = {
            d.message
            for params in client.published[before:]  # type: ignore[attr-defined]
            for d in params.diagnostics
        }
        assert "stale finding" not in messages


@pytest.mark.asyncio
async def test_the_first_edit_after_an_open_from_the_index_is_analysed_in_place(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "unsafe.py"
    uri = path.as_uri()
    assert [d.code for d in await open_file(client, path)] == ["ARK001", "ARK004"]

    before = mark(client)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=2, character=0),
                        end=types.Position(line=2, character=0),
                    ),
                    text="exec(payload)\n",
                )
            ],
        )
    )
    edited = await diagnostics(client, uri, 2, before)

    assert [(d.code, d.range.start.line) for d in edited] == [
        ("ARK002", 2),
        ("ARK001", 3),
        ("ARK004", 4),
    ]
    text = FILES["unsafe.py"].replace("settings =", "exec(payload)\nsettings =")
    assert edited == await change_file(client, path, text, 3)
