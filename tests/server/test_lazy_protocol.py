"""The lazily made ``lsprotocol.types`` the server starts with is the module the file makes.

Each side runs in its own interpreter (the lazy module replaces
``lsprotocol.types`` where it is installed) and describes every name the
plain module defines: classes by their MRO, attrs fields, enum members,
methods and docs; tables by their entries; the rest by its repr. The lazy
side asks for the names in reverse order, so classes are made in another
order than the file's.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

DESCRIBE = r"""
import json, re, sys, types as builtin_types
import attrs, enum

ADDRESS = re.compile(r" at 0x[0-9a-f]+")

def plain(value):
    return ADDRESS.sub("", repr(value))

def describe(value):
    if isinstance(value, type):
        described = {
            "kind": "class",
            "module": value.__module__,
            "qualname": value.__qualname__,
            "mro": [f"{c.__module__}.{c.__qualname__}" for c in value.__mro__],
            "doc": value.__doc__,
            "attributes": sorted(vars(value)),
        }
        if attrs.has(value):
            described["fields"] = [
                [f.name, plain(f.type), plain(f.default), plain(f.validator), f.kw_only, f.alias]
                for f in attrs.fields(value)
            ]
            described["init"] = value.__init__.__code__.co_varnames
        if issubclass(value, enum.Enum):
            described["members"] = [[m.name, plain(m.value)] for m in value]
        return described
    if isinstance(value, dict):
        entries = [[plain(k), plain(v)] for k, v in value.items()]
        return {"kind": type(value).__mro__[-2].__name__, "entries": entries}
    if isinstance(value, builtin_types.FunctionType):
        code = value.__code__
        return {"kind": "function", "code": code.co_code.hex(), "line": code.co_firstlineno}
    if isinstance(value, builtin_types.ModuleType):
        return {"kind": "module", "name": value.__name__}
    return {"kind": type(value).__name__, "repr": plain(value)}

names = json.loads(sys.stdin.read() or "null")
if names is None:
    import lsprotocol.types as module
    names = [n for n in vars(module) if not (n.startswith("__") and n.endswith("__"))]
else:
    import lsprotocol
    import ark_lsp.cli.launch as launch
    launch.starting_the_server = True
    from ark_lsp.server import create_server, lazy_protocol  # the server, made as launched
    lazy = lazy_protocol.installed
    assert lazy is not None, "the lazy module was not installed"
    module = sys.modules["lsprotocol.types"]
    assert lsprotocol.types is module
    import copy, pickle
    table = module.METHOD_TO_TYPES  # read one entry, then copied and pickled whole
    assert table.get(module.INITIALIZE)[0] is module.InitializeRequest
    assert pickle.loads(pickle.dumps(table)) == table
    assert type(copy.copy(module.ALL_TYPES_MAP)) is dict
    assert copy.copy(module.ALL_TYPES_MAP) == module.ALL_TYPES_MAP
    for name in reversed(names):
        getattr(module, name)
    assert not lazy.later, sorted(lazy.later)
print(json.dumps({n: describe(getattr(module, n)) for n in names}))
"""


def described(names: list[str] | None = None) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", DESCRIBE],
        input=json.dumps(names) if names is not None else "",
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_every_name_of_the_lazy_module_is_what_the_plain_module_defines() -> None:
    plain = described()
    lazy = described(list(plain))

    assert len(plain) > 750  # classes, aliases, method names, tables, functions
    assert sum(1 for d in plain.values() if d["kind"] == "class") > 550  # type: ignore[index]
    assert lazy.keys() == plain.keys()
    different = [name for name in plain if lazy[name] != plain[name]]
    assert different == []


LAUNCHED = """
import sys
{before}
import ark_lsp.cli.launch as launch
launch.starting_the_server = True
from ark_lsp.server import create_server  # the server, made as launched
import lsprotocol.types
print(type(vars(lsprotocol.types)["__builtins__"]).__name__)
"""


def launched_with(before: str = "") -> str:
    """How the server's package made lsprotocol.types, launched (lazy: ``_MakingBuiltins``)."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHED.format(before=before)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_the_pinned_versions_get_the_lazy_module() -> None:
    assert launched_with() == "_MakingBuiltins"


def test_another_lsprotocol_or_pygls_gets_the_plain_module(tmp_path: Path) -> None:
    for package, other in (("lsprotocol", "2023.0.1"), ("pygls", "1.3.1")):
        # The same files, under another version's name, first on the path.
        installed = Path(importlib.util.find_spec(package).origin or "").parent  # type: ignore[union-attr]
        site = tmp_path / package
        shutil.copytree(installed, site / package, ignore=shutil.ignore_patterns("__pycache__"))
        dist_info = site / f"{package}-{other}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Name: {package}\nVersion: {other}\n")
        before = f"sys.path.insert(0, {str(site)!r})"
        assert launched_with(before) == "dict"


def test_the_server_package_makes_the_types_lazily_only_when_launched() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom ark_lsp.server import create_server\n"
            "print(type(vars(sys.modules['lsprotocol.types'])['__builtins__']).__name__)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "dict"


def test_two_installs_of_the_same_file_keep_their_own_plans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A CI checkout's venv and VS Code's bundled copy hold the very same text: each start of
    # one must not plan the module again because the other started in between.
    from ark_lsp.server import lazy_protocol

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    planned: list[str] = []
    plan_of = lazy_protocol.plan_of

    def counted(source: str, filename: str) -> lazy_protocol.Plan:
        planned.append(filename)
        return plan_of(source, filename)

    monkeypatch.setattr(lazy_protocol, "plan_of", counted)
    raw = b"from typing import Union\n\nclass Position:\n    line: int\n"
    first, second = str(tmp_path / "a" / "types.py"), str(tmp_path / "b" / "types.py")
    for _ in range(2):
        for filename in (first, second):
            plan = lazy_protocol.cached_plan(raw, filename)
            assert plan[-1][:2] == ("later", ("Position",))
    assert planned == [first, second]
