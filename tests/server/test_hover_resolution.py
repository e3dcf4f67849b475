"""Hover on call sites answers from the index, never waiting on jedi.

The server runs with a stand-in for jedi whose import blocks until the test
opens a gate: every hover the index can answer (names defined or imported,
through a package's re-exports, ``import x`` then ``x.f``, a class's
method, ``self``, ``cls`` and ``super()`` through bases in another module)
must answer while jedi cannot even be imported, and one that only jedi can
answer must come back empty rather than block. Once the gate opens, jedi
(now the real one) answers that hover too.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from support.lsp import PRESETS, SERVER, hover_text, open_file, start, write_workspace

BASE = '''\
"""Bases in a module of their own."""


class Base:
    """The root of the models."""

    def save(self):
        """Store the object."""
        return self.validate()

    def validate(self):
        return True

    @classmethod
    def create(cls):
        return cls()
'''

MODELS = '''\
"""Models over a base in another module."""

from pkg.base import Base


class Model(Base):
    def validate(self):
        return super().validate()

    @classmethod
    def build(cls):
        return cls.create()


class Child(Model):
    def save(self):
        self.validate()
        return super().save()


class Opened(Base):
    def open(self):
        return self.format()

    def format(self):
        return self.open()
'''

USES = """\
import pkg.parser
import pkg.parser as parsing
from pkg import parse_config as configured
from pkg.parser import Loader

pkg.parser.parse_config("a=1")
parsing.parse_config("b=2")
configured("c=3")
Loader.load(Loader(), "path")
loader = [Loader()][0]
loader.load("path")
import textwrap
textwrap.dedent("  x")
def use(given: Loader, flag):
    made = Loader()
    made.load("path")
    given.load("path")
    either = Loader()
    if flag:
        either = flag
    either.load("path")
shared = Loader()
shared.load("path")
from pkg.loaders import default_loader
default_loader.load("path")
"""

STAND_IN = '''\
"""A stand-in for jedi: its import waits for the test's gate, then it becomes jedi."""

import importlib
import os
import sys
import time
from pathlib import Path

_gate = Path(os.environ["ARK_TEST_JEDI_GATE"])
while not _gate.exists():
    time.sleep(0.02)
_here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _here]
del sys.modules["jedi"]
importlib.invalidate_caches()
sys.modules["jedi"] = importlib.import_module("jedi")
'''

_FOLDER = Path(tempfile.mkdtemp(prefix="ark-test-jedi-gate-"))
(_FOLDER / "jedi").mkdir()
(_FOLDER / "jedi" / "__init__.py").write_text(STAND_IN)
GATE = _FOLDER / "open"
GATED_ENV = {
    **os.environ,
    "ARK_TEST_JEDI_GATE": str(GATE),
    "PYTHONPATH": os.pathsep.join(filter(None, [str(_FOLDER), os.environ.get("PYTHONPATH")])),
}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "sample"
    write_workspace(root)
    (root / "pkg" / "__init__.py").write_text("from pkg.parser import parse_config\n")
    (root / "pkg" / "base.py").write_text(BASE)
    (root / "pkg" / "models.py").write_text(MODELS)
    (root / "pkg" / "loaders.py").write_text(
        "from pkg.parser import Loader\n\ndefault_loader = Loader()\n"
    )
    (root / "uses.py").write_text(USES)
    return root


@pytest_lsp.fixture(
    params=PRESETS, config=ClientServerConfig(server_command=SERVER, server_env=GATED_ENV)
)
async def client(
    request: pytest.FixtureRequest, lsp_client: LanguageClient, workspace: Path
) -> AsyncIterator[None]:
    GATE.unlink(missing_ok=True)  # jedi's import blocks from the start of the session
    await start(lsp_client, request.param, [workspace])
    yield
    GATE.touch()  # let the jedi thread finish its import, so the server ends as usual
    await lsp_client.shutdown_session()


async def hover_or_none(client: LanguageClient, path: Path, line: int, character: int) -> str:
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            position=types.Position(line=line, character=character),
        )
    )
    if hover is None:
        return ""
    assert isinstance(hover.contents, types.MarkupContent)
    return hover.contents.value


@pytest.mark.asyncio
async def test_self_cls_and_super_resolve_through_bases_in_another_module(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "pkg" / "models.py"
    await open_file(client, path)
    # super().validate() in Model: the base's, in pkg/base.py
    text = await hover_text(client, path, line=7, character=24)
    assert "def Base.validate(self)" in text and "pkg/base.py:11" in text
    # cls.create() in Model: inherited from Base
    text = await hover_text(client, path, line=11, character=20)
    assert "def Base.create(cls)" in text and "pkg/base.py:15" in text
    # self.validate() in Child: Model's own, which comes first in Child's MRO
    text = await hover_text(client, path, line=16, character=14)
    assert "def Model.validate(self)" in text and "pkg/models.py:7" in text
    # super().save() in Child: Model defines none, so the next class that does, Base
    text = await hover_text(client, path, line=17, character=24)
    assert "def Base.save(self)" in text and "Store the object." in text
    assert "pkg/base.py:7" in text
    # a method named like a builtin is the method, not the builtin
    text = await hover_text(client, path, line=22, character=21)
    assert "def Opened.format(self)" in text and "pkg/models.py:25" in text
    # a base class named in a class statement, imported from another module
    text = await hover_text(client, path, line=5, character=13)
    assert "class Base" in text and "pkg/base.py:4" in text


@pytest.mark.asyncio
async def test_imported_names_resolve_from_the_index(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "uses.py"
    await open_file(client, path)
    for line, character in [
        (5, 12),  # import pkg.parser; pkg.parser.parse_config(...)
        (6, 9),  # import pkg.parser as parsing; parsing.parse_config(...)
        (7, 1),  # from pkg import parse_config (a re-export of pkg/__init__.py)
    ]:
        text = await hover_text(client, path, line=line, character=character)
        assert "def parse_config(text, strict=False)" in text, (line, text)
        assert "pkg/parser.py:4" in text
    text = await hover_text(client, path, line=8, character=8)  # Loader.load(...)
    assert "def Loader.load(self, path)" in text and "pkg/parser.py:23" in text


@pytest.mark.asyncio
async def test_a_functions_variable_of_one_class_resolves_from_the_index(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "uses.py"
    await open_file(client, path)
    # made = Loader() and given: Loader, while jedi's import is still blocked
    for line, character in [(15, 9), (16, 10)]:
        text = await hover_text(client, path, line=line, character=character)
        assert "def Loader.load(self, path)" in text and "pkg/parser.py:23" in text
    # either is rebound to something else on one path: not the index's to say
    assert await hover_or_none(client, path, line=20, character=11) == ""


@pytest.mark.asyncio
async def test_a_module_level_object_resolves_from_its_one_binding(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "uses.py"
    await open_file(client, path)
    # shared = Loader() in this module; default_loader = Loader() in pkg/loaders.py
    for line, character in [(22, 8), (24, 16)]:
        text = await hover_text(client, path, line=line, character=character)
        assert "def Loader.load(self, path)" in text and "pkg/parser.py:23" in text


@pytest.mark.asyncio
async def test_calls_into_the_standard_library_resolve_without_jedi(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "uses.py"
    await open_file(client, path)
    # textwrap.py is analysed in the background once the document is first hovered
    for _ in range(600):
        text = await hover_or_none(client, path, line=12, character=10)  # textwrap.dedent
        if text:
            break
        await asyncio.sleep(0.05)
    assert "def dedent(text)" in text and "outside the workspace" in text
    assert "textwrap.py:" in text


@pytest.mark.asyncio
async def test_what_only_jedi_knows_waits_for_nothing_and_comes_once_jedi_is_up(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "uses.py"
    await open_file(client, path)
    # The first hovers of the session answer from the index: jedi's import is still blocked.
    assert "def parse_config" in await hover_text(client, path, line=7, character=1)
    # A variable's type is jedi's to infer: no answer yet, and no waiting for one.
    assert await hover_or_none(client, path, line=10, character=8) == ""
    assert await hover_or_none(client, path, line=10, character=8) == ""
    GATE.touch()
    for _ in range(600):
        text = await hover_or_none(client, path, line=10, character=8)
        if text:
            break
        await asyncio.sleep(0.05)
    assert "def Loader.load(self, path)" in text and "pkg/parser.py:23" in text
