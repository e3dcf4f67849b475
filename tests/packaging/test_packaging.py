"""What users install: the sdist and wheel hatchling builds, checked as PyPI would check them.

The sdist and the wheel built from it (``python -m build``) pass
``twine check --strict``; the wheel holds the package with its templates and
``py.typed`` and nothing else; the sdist builds the same wheel as the
checkout; and the wheel, installed into a fresh virtual environment with no
index (its dependencies from the wheelhouse), gives working ``ark`` and
``ark-lsp`` commands. The documents users read name only installs that work.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from support.packaging import (
    REPO,
    Distributions,
    build_distributions,
    build_wheel_from_tree,
    fresh_venv,
    offline_pip_env,
    plain_env,
    wheelhouse,
)

import ark_lsp

TEMPLATES = sorted(
    path.relative_to(REPO).as_posix()
    for path in (REPO / "ark_lsp" / "generate" / "templates").glob("*.j2")
)
USER_DOCUMENTS = [
    REPO / "README.md",
    REPO / "editors" / "vscode" / "README.md",
    REPO / "editors" / "neovim" / "README.md",
    REPO / "editors" / "neovim" / "doc" / "ark.txt",
    *(REPO / "editors" / "vscode" / "src").glob("*.ts"),
    *(REPO / "editors" / "neovim" / "lua" / "ark").glob("*.lua"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Distributions:
    return build_distributions(tmp_path_factory.mktemp("dist"))


def contents(wheel: Path) -> dict[str, str]:
    """Each file of the wheel and the SHA-256 of its bytes."""
    with zipfile.ZipFile(wheel) as archive:
        return {
            name: hashlib.sha256(archive.read(name)).hexdigest()
            for name in archive.namelist()
            if not name.endswith("/")
        }


def tracked(folder: str) -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", folder], cwd=REPO, capture_output=True, text=True, check=True
    )
    return set(listed.stdout.split())


def test_twine_check_passes_on_the_sdist_and_the_wheel(built: Distributions) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", built.sdist, built.wheel],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_the_wheel_holds_the_package_its_templates_and_py_typed(built: Distributions) -> None:
    names = set(contents(built.wheel))
    assert TEMPLATES, "no templates in ark_lsp/generate/templates"
    assert set(TEMPLATES) <= names
    assert "ark_lsp/py.typed" in names
    assert tracked("ark_lsp") <= names
    dist_info = f"ark_lsp-{ark_lsp.__version__}.dist-info"
    assert f"{dist_info}/licenses/LICENSE" in names
    entry_points = zipfile.ZipFile(built.wheel).read(f"{dist_info}/entry_points.txt").decode()
    assert "ark = ark_lsp.cli:main" in entry_points
    assert "ark-lsp = ark_lsp.cli:serve_main" in entry_points


def test_the_wheel_holds_no_tests_caches_or_leftovers(built: Distributions) -> None:
    names = [PurePosixPath(name) for name in contents(built.wheel)]
    assert {name.parts[0] for name in names} == {
        "ark_lsp",
        f"ark_lsp-{ark_lsp.__version__}.dist-info",
    }
    unwanted = [
        str(name)
        for name in names
        if name.suffix in (".pyc", ".pyo", ".orig", ".rej")
        or {"__pycache__", "tests", ".mypy_cache", ".ruff_cache", ".ark"} & set(name.parts)
        or name.name == "conftest.py"
        or re.match(r"test_.*\.py$", name.name)
    ]
    assert unwanted == []


def test_the_sdist_holds_the_sources_and_builds_the_same_wheel(
    built: Distributions, tmp_path: Path
) -> None:
    with tarfile.open(built.sdist) as sdist:
        names = {PurePosixPath(member.name) for member in sdist.getmembers() if member.isfile()}
    top = f"ark_lsp-{ark_lsp.__version__}"
    assert {name.parts[0] for name in names} == {top}
    outside_package = {str(name.relative_to(top)) for name in names if name.parts[1] != "ark_lsp"}
    assert outside_package == {"PKG-INFO", "pyproject.toml", "README.md", "LICENSE", ".gitignore"}
    # The wheel built from the sdist is the wheel built from the checkout, byte for byte.
    assert contents(built.wheel) == contents(build_wheel_from_tree(tmp_path))


def test_the_wheel_installs_offline_into_a_fresh_venv_and_ark_works(
    built: Distributions, tmp_path: Path
) -> None:
    house = wheelhouse()
    python = fresh_venv(tmp_path / "venv")
    installed = subprocess.run(
        [python, "-m", "pip", "install", built.wheel],
        env=offline_pip_env(house),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "app"\n')
    (project / "app.py").write_text('settings = eval(open("settings.txt").read())\n')
    bin_folder = python.parent

    def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, cwd=project, env=plain_env(), capture_output=True, text=True, timeout=120
        )

    where = run(python, "-c", "import ark_lsp; print(ark_lsp.__file__)")
    assert Path(where.stdout.strip()).is_relative_to(tmp_path / "venv"), where
    version = run(bin_folder / "ark", "--version")
    assert version.stdout.strip() == f"ark, version {ark_lsp.__version__}", version
    server = run(bin_folder / "ark-lsp", "--version")
    assert server.stdout.strip() == f"ark-lsp, version {ark_lsp.__version__}", server
    checked = run(bin_folder / "ark", "check", "app.py")
    assert checked.returncode == 1, checked
    assert checked.stdout.startswith("app.py:1:12: ARK001 [error] eval()"), checked
    # The templates came with the wheel: a generated function renders from them.
    generated = run(bin_folder / "ark", "generate", "function", "greet", "--params", "name: str")
    assert generated.returncode == 0, generated
    assert "def greet(name: str)" in generated.stdout, generated


@pytest.mark.parametrize("document", USER_DOCUMENTS, ids=lambda path: str(path.relative_to(REPO)))
def test_no_document_or_editor_tells_users_to_install_from_pypi(document: Path) -> None:
    # ark-lsp is not on PyPI: `pip install ark-lsp` fails for every user who tries it.
    text = document.read_text()
    assert not re.search(r"(pip|pipx|uv pip|uv tool) install (-U |--upgrade )*ark-lsp", text), (
        f"{document.relative_to(REPO)} tells users to install ark-lsp from PyPI"
    )
