"""Hover on call sites answers from the index, never waiting on jedi.

The server runs with a stand-in for jedi whose import blocks until the test
opens a gate: every hover the index can answer (names defined or imported,
through a package's re-exports, ``import x`` then ``x.f``, a class's
method, ``self``, ``cls`` and ``super()`` through bases in another module,
an attribute ``self.x`` bound to one class, a module-level object)
must answer while jedi cannot even be imported, and one that only jedi can
answer must come back empty rather than block. Once the gate opens, jedi
(now the real one) answers that hover too.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
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

HOLDERS = '''\
"""Loaders held by attribute, and one registry's."""

from pkg.base import Base
from pkg.parser import Loader
from pkg.registry import apps


class Holder:
    def __init__(self, flag):
        self.loader = Loader()
        self.either = Loader()
        if flag:
            self.either = Base()

    def run(self):
        apps.load("path")
        self.loader.load("path")
        return self.either.load("path")
'''

REGISTRY = '''\
"""The loader of the installed apps: apps = Loader() is made below."""

from pkg.parser import Loader

# One loader for all the installed apps.
apps = Loader()
'''

THINGS = '''\
"""A thing whose loader another module may swap."""

from pkg.parser import Loader


class Thing:
    def __init__(self):
        self.source = Loader()

    def run(self):
        return self.source.load("path")
'''

SWAPPER = '''\
"""Swaps a thing's source for anything at all."""


def swap(thing, other):
    thing.source = other
'''

SHADOWS = '''\
"""Names bound in a function, or again in the module, over the module's classes."""

from pkg.parser import Loader, parse_config


def by_parameter(Loader):
    return Loader()


def by_assignment():
    parse_config = make()
    return parse_config("a=1")


def by_lambda():
    return lambda Loader: Loader.load("path")


class Later:
    def go(self):
        return 1


Later = Loader


def after():
    return Later.go()


def kept():
    return Loader.load(Loader(), "path")


class Saver:
    def save(self):
        return 1

    save = staticmethod(print)

    def go(self):
        return self.save()
'''

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
atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)  # made at import, for the fixture's env
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
    (root / "pkg" / "holders.py").write_text(HOLDERS)
    (root / "pkg" / "registry.py").write_text(REGISTRY)
    (root / "pkg" / "things.py").write_text(THINGS)
    (root / "pkg" / "swapper.py").write_text(SWAPPER)
    (root / "shadows.py").write_text(SHADOWS)
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


async def assert_hover_shows(
    client: LanguageClient, path: Path, line: int, character: int, *parts: str
) -> None:
    """The hover at ``line``, ``character`` of ``path`` shows every one of ``parts``."""
    text = await hover_text(client, path, line=line, character=character)
    missing = [part for part in parts if part not in text]
    assert not missing, (line, character, missing, text)


async def hover_once_answered(client: LanguageClient, path: Path, line: int, character: int) -> str:
    """The hover's text once the server has one (work in the background first), else "".

    Asked again every 0.2 s, as a user hovers again: jedi's background work waits for
    requests to pause, and a poll every few milliseconds would read as a sweep of hovers.
    """
    for _ in range(300):
        text = await hover_or_none(client, path, line=line, character=character)
        if text:
            return text
        await asyncio.sleep(0.2)
    return ""


@pytest.mark.asyncio
async def test_self_cls_and_super_resolve_through_bases_in_another_module(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "pkg" / "models.py"
    await open_file(client, path)
    # super().validate() in Model: the base's, in pkg/base.py
    await assert_hover_shows(client, path, 7, 24, "def Base.validate(self)", "pkg/base.py:11")
    # cls.create() in Model: inherited from Base
    await assert_hover_shows(client, path, 11, 20, "def Base.create(cls)", "pkg/base.py:15")
    # self.validate() in Child: Model's own, which comes first in Child's MRO
    await assert_hover_shows(client, path, 16, 14, "def Model.validate(self)", "pkg/models.py:7")
    # super().save() in Child: Model defines none, so the next class that does, Base
    await assert_hover_shows(
        client, path, 17, 24, "def Base.save(self)", "Store the object.", "pkg/base.py:7"
    )
    # a method named like a builtin is the method, not the builtin
    await assert_hover_shows(client, path, 22, 21, "def Opened.format(self)", "pkg/models.py:25")
    # a base class named in a class statement, imported from another module
    await assert_hover_shows(client, path, 5, 13, "class Base", "pkg/base.py:4")


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
        await assert_hover_shows(
            client, path, line, character, "def parse_config(text, strict=False)", "pkg/parser.py:4"
        )
    # Loader.load(...)
    await assert_hover_shows(client, path, 8, 8, "def Loader.load(self, path)", "pkg/parser.py:23")


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
async def test_an_attribute_bound_to_one_class_resolves_from_the_index(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "pkg" / "holders.py"
    await open_file(client, path)
    # self.loader = Loader() in __init__, and nothing else binds it
    await assert_hover_shows(
        client, path, 16, 20, "def Loader.load(self, path)", "pkg/parser.py:23"
    )
    # apps = Loader() in pkg/registry.py, whose comment and docstring name it too
    await assert_hover_shows(
        client, path, 15, 13, "def Loader.load(self, path)", "pkg/parser.py:23"
    )
    # self.either is a Loader or a Base: not the index's to say, and jedi is not up
    assert await hover_or_none(client, path, line=17, character=27) == ""


@pytest.mark.asyncio
async def test_calls_into_the_standard_library_resolve_without_jedi(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "uses.py"
    await open_file(client, path)
    # textwrap.py is analysed in the background once the document is first hovered
    text = await hover_once_answered(client, path, 12, 10)  # textwrap.dedent
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
    text = await hover_once_answered(client, path, 10, 8)
    assert "def Loader.load(self, path)" in text and "pkg/parser.py:23" in text


def place_of(text: str, line_text: str, word: str) -> tuple[int, int]:
    """The 0-based line and character of the last ``word`` on the line that reads ``line_text``."""
    lines = text.splitlines()
    line = next(n for n, each in enumerate(lines) if each.strip() == line_text)
    return line, lines[line].rindex(word)


@pytest.mark.asyncio
async def test_the_index_names_no_definition_a_rebinding_may_have_replaced(
    client: LanguageClient, workspace: Path
) -> None:
    # (file, its text, the line, the word hovered, what the hover shows: "" for nothing yet)
    cases = [
        # thing.source = other in pkg/swapper.py: self.source may be anything, not a Loader
        ("pkg/things.py", THINGS, 'return self.source.load("path")', "load", ""),
        # a parameter, an assignment and a lambda's parameter named like the module's names
        ("shadows.py", SHADOWS, "return Loader()", "Loader", ""),
        ("shadows.py", SHADOWS, 'return parse_config("a=1")', "parse_config", ""),
        ("shadows.py", SHADOWS, 'return lambda Loader: Loader.load("path")', "load", ""),
        # class Later, then Later = Loader: the class is no longer what the name holds
        ("shadows.py", SHADOWS, "return Later.go()", "go", ""),
        # save = staticmethod(print) in the class body, below its def save
        ("shadows.py", SHADOWS, "return self.save()", "save", ""),
        # the module's own Loader, where nothing shadows it
        (
            "shadows.py",
            SHADOWS,
            'return Loader.load(Loader(), "path")',
            "load",
            "def Loader.load(self, path)",
        ),
    ]
    for relative, text, line_text, word, shown in cases:
        path = workspace / relative
        await open_file(client, path)
        line, character = place_of(text, line_text, word)
        hover = await hover_or_none(client, path, line=line, character=character)
        assert (shown in hover) if shown else hover == "", (relative, line_text, hover)
