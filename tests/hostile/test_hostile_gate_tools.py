"""What a repository can make the gate's mypy and pylint run: nothing of its own.

Both tools execute code a repository names: mypy its configuration's
``plugins``, pylint its ``init-hook`` and ``load-plugins`` and, if allowed,
the project's C extensions; and pylint puts the linted folders in front of
``sys.path``, so a repository's ``isort.py`` stands in for the real one. A
file name can read as an option. Each test first shows the attack works on
the tool run plainly (so the test cannot pass for a broken fixture), then
that the gate's run never executes it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from support.gate_trees import ChangeRepository

from ark_lsp.gate.checks.lint import check_lint
from ark_lsp.gate.checks.tool_config import pylint_config
from ark_lsp.gate.checks.types import check_types
from ark_lsp.gate.model import CheckStatus, GateInput

PRICES = (
    '"""Prices."""\n\n\ndef total(prices: list[int]) -> int:\n    """Sum."""\n'
    "    return sum(prices)\n"
)
CHANGED = (
    PRICES + '\n\ndef count(prices: list[int]) -> int:\n    """Count."""\n    return len(prices)\n'
)


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


def hostile_change(tmp_path: Path, files: dict[str, str]) -> GateInput:
    """A change to ``shop/prices.py`` in a repository whose base and head both hold ``files``."""
    repo = ChangeRepository(tmp_path)
    base = {"shop/__init__.py": '"""Shop."""\n', "shop/prices.py": PRICES, **files}
    return repo.change(base, {"shop/prices.py": CHANGED})


def plainly(tree: Path, *command: str) -> None:
    """Run a tool in ``tree`` as a user would, trusting the repository."""
    subprocess.run([sys.executable, *command], cwd=tree, capture_output=True, timeout=120)


def marker_writer(marker: Path, what: str) -> str:
    return f"import pathlib; pathlib.Path({str(marker)!r}).write_text({what!r})"


# --- mypy plugins -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("mypy.ini", "[mypy]\nplugins = evil_plugin.py\n"),
        (".mypy.ini", "[mypy]\nplugins = evil_plugin.py\n"),
        ("pyproject.toml", '[tool.mypy]\nplugins = ["evil_plugin.py"]\n'),
        ("setup.cfg", "[mypy]\nplugins = evil_plugin.py\n"),
    ],
)
def test_the_repositorys_mypy_plugins_never_run(
    tmp_path: Path, mypy_cache: Path, name: str, config: str
) -> None:
    marker = tmp_path / "marker"
    plugin = (
        f"{marker_writer(marker, 'mypy plugin ran')}\n"
        "from mypy.plugin import Plugin\n\n\ndef plugin(version):\n    return Plugin\n"
    )
    change = hostile_change(tmp_path / "work", {name: config, "evil_plugin.py": plugin})
    plainly(change.base_dir, "-m", "mypy", "shop/prices.py")
    assert marker.read_text() == "mypy plugin ran", "the fixture's plugin must be live"
    marker.unlink()

    result = check_types(change, cache_dir=mypy_cache)

    assert result.status is CheckStatus.PASSED, result.reason
    assert not marker.exists()


# --- pylint hooks and plugins -------------------------------------------------------------------


def pylint_settings(name: str, marker: Path) -> str:
    hook = marker_writer(marker, "pylint init-hook ran")
    if name == "pyproject.toml":
        return f'[tool.pylint.main]\ninit-hook = "{hook}"\nload-plugins = ["evil_lint"]\n'
    section = "[pylint.main]" if name in ("setup.cfg", "tox.ini") else "[MAIN]"
    return f"{section}\ninit-hook = {hook}\nload-plugins = evil_lint\n"


@pytest.mark.parametrize(
    "name", [".pylintrc", "pylintrc", "pyproject.toml", "setup.cfg", "tox.ini"]
)
def test_the_repositorys_pylint_hooks_and_plugins_never_run(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "marker"
    files = {
        name: pylint_settings(name, marker),
        "evil_lint.py": marker_writer(marker, "pylint plugin ran")
        + "\n\ndef register(linter):\n    pass\n",
    }
    change = hostile_change(tmp_path / "work", files)
    plainly(change.base_dir, "-m", "pylint", "shop/prices.py")
    assert marker.exists(), "the fixture's hook must be live"
    marker.unlink()

    result = check_lint(change)

    assert result.status is CheckStatus.PASSED, result.reason
    assert not marker.exists()


# --- the repository's modules in place of the tools' own ----------------------------------------

SHADOWED = (
    "isort",
    "astroid",
    "json",
    "difflib",
    "tomllib",
    "platformdirs",
    "dill",
    "mypy_extensions",
    "typing_extensions",
    "pathspec",
)


def test_modules_of_the_repository_never_stand_in_for_the_tools_own(
    tmp_path: Path, mypy_cache: Path
) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    shadows = {f"{module}.py": marker_writer(markers / module, "imported") for module in SHADOWED}
    change = hostile_change(tmp_path / "work", shadows)
    config = tmp_path / "ark-pylintrc"
    config.write_text(pylint_config(change.base_dir))
    plainly(change.head_dir, "-I", "-m", "pylint", "--rcfile", str(config), "./shop/prices.py")
    assert "isort" in {m.name for m in markers.iterdir()}, "the fixture's shadow must be live"
    for marker in markers.iterdir():
        marker.unlink()

    lint = check_lint(change)
    types = check_types(change, cache_dir=mypy_cache)

    assert lint.status is CheckStatus.PASSED, lint.reason
    # mypy refuses a tree whose module stands in for a library's: it cannot judge, and says so.
    assert types.status is CheckStatus.NOT_RUN
    assert types.reason is not None and "shadows library module" in types.reason
    assert not list(markers.iterdir())


# --- file names that read as options ------------------------------------------------------------


def test_a_file_name_that_reads_as_an_option_stays_a_file_name(
    tmp_path: Path, mypy_cache: Path
) -> None:
    name = "--init-hook=open('hooked','w').py"
    repo = ChangeRepository(tmp_path / "work")
    base = repo.commit({"shop/__init__.py": "", "shop/prices.py": PRICES})
    head = repo.commit({name: "VALUE = 1\n"})
    change = repo.gate_input(base, head)
    plainly(change.head_dir, "-m", "pylint", name)
    assert (change.head_dir / "hooked").exists(), "the fixture's option must be live"
    (change.head_dir / "hooked").unlink()

    check_lint(change)
    check_types(change, cache_dir=mypy_cache)

    assert not (change.head_dir / "hooked").exists()
    assert not (change.base_dir / "hooked").exists()


# --- C extensions -------------------------------------------------------------------------------

EXTENSION = """\
#include <Python.h>
#include <stdio.h>
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "speedups", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_speedups(void) {
    FILE *marker = fopen("%s", "w");
    if (marker) { fputs("extension loaded", marker); fclose(marker); }
    return PyModule_Create(&module);
}
"""


def test_a_c_extension_of_the_repository_is_never_loaded(tmp_path: Path) -> None:
    compiler = shutil.which("cc") or shutil.which("gcc")
    include = Path(sysconfig.get_paths()["include"])
    if compiler is None or not (include / "Python.h").exists():
        pytest.skip("no C compiler or Python headers to build an extension with")
    marker = tmp_path / "marker"
    source = tmp_path / "speedups.c"
    source.write_text(EXTENSION % marker)
    library = tmp_path / f"speedups{sysconfig.get_config_var('EXT_SUFFIX')}"
    subprocess.run(
        [compiler, "-shared", "-fPIC", f"-I{include}", "-o", str(library), str(source)],
        check=True,
    )
    repo = ChangeRepository(tmp_path / "work")
    uses = '"""Uses speedups."""\n\nimport speedups\n\nFAST = speedups.fast\n'
    base = repo.commit({"shop/__init__.py": "", "shop/uses.py": uses})
    shutil.copy(library, repo.repo / library.name)
    head = repo.commit({"shop/uses.py": uses + "SLOW = speedups.slow\n"})
    change = repo.gate_input(base, head)
    unsafe = tmp_path / "unsafe-pylintrc"
    unsafe.write_text("[MAIN]\nunsafe-load-any-extension=yes\n")
    plainly(change.head_dir, "-m", "pylint", "--rcfile", str(unsafe), "shop/uses.py")
    assert marker.exists(), "the fixture's extension must be live"
    marker.unlink()

    result = check_lint(change)

    assert result.status is not CheckStatus.NOT_RUN, result.reason
    assert not marker.exists()


# --- links out of the tree ----------------------------------------------------------------------


def test_a_changed_file_that_links_out_of_the_tree_is_never_given_to_a_tool(
    tmp_path: Path, mypy_cache: Path
) -> None:
    secret = tmp_path / "secret.py"
    secret.write_text('AWS_KEY: int = "AKIA7HOSTILE5ECRET"\n')
    repo = ChangeRepository(tmp_path / "work")
    base = repo.commit({"shop/__init__.py": "", "shop/prices.py": PRICES})
    (repo.repo / "shop" / "leak.py").symlink_to(secret)
    head = repo.commit({"shop/prices.py": CHANGED})
    change = repo.gate_input(base, head)

    types = check_types(change, cache_dir=mypy_cache)
    lint = check_lint(change)

    for result in (types, lint):
        assert result.status is CheckStatus.PASSED, result.reason
        assert set(result.files) == {"shop/prices.py"}
        assert "AKIA" not in repr(result)
