"""The sandbox runs the project with its dependencies: a docker layer, or the workspace's venv."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import ark
from support.sandboxes import DockerSetup

from ark_lsp.sandbox.declarations import read_declarations
from ark_lsp.sandbox.env_layer import ENV_REPOSITORY, explain_failure

USES_SIX = textwrap.dedent(
    """\
    import six


    def kind(value):
        return "text" if isinstance(value, six.string_types) else "other"


    if __name__ == "__main__":
        print("six", six.__version__)
    """
)
TEST_USES_SIX = "from usesix import kind\n\n\ndef test_kind():\n    assert kind('a') == 'text'\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


def pyproject(name: str, *dependencies: str) -> str:
    listed = ", ".join(json.dumps(d) for d in dependencies)
    return f'[project]\nname = "{name}"\nversion = "0.1"\ndependencies = [{listed}]\n'


@pytest.fixture
def six_project(tmp_path: Path) -> Path:
    # A name of its own: the layer is this test's, not one an earlier run left cached.
    name = f"usesix-{uuid.uuid4().hex[:8]}"
    return write(
        tmp_path,
        {
            "pyproject.toml": pyproject(name, "six==1.16.0"),
            "usesix.py": USES_SIX,
            "tests/test_usesix.py": TEST_USES_SIX,
        },
    )


@pytest.fixture
def new_layers(docker_setup: DockerSetup) -> Iterator[None]:
    """Remove the environment layers a test built."""
    before = {image.id for image in docker_setup.client.images.list(name=ENV_REPOSITORY)}
    yield
    for image in docker_setup.client.images.list(name=ENV_REPOSITORY):
        if image.id not in before:
            for tag in image.tags:
                docker_setup.client.images.remove(tag, force=True)


# --- what a workspace declares ------------------------------------------------------------------


def test_extras_naming_the_project_itself_are_followed_as_attrs_declares_them(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": textwrap.dedent(
                """\
                [project]
                name = "attrs"
                dependencies = ["importlib_metadata;python_version<'3.8'"]
                [project.optional-dependencies]
                tests-mypy = ["mypy>=1.11.1"]
                tests = ["hypothesis", "pytest>=4.3.0", "attrs[tests-mypy]"]
                docs = ["sphinx"]
                [dependency-groups]
                dev = ["ruff", {include-group = "lint"}]
                lint = ["flake8"]
                """
            ),
            "src/attr/__init__.py": "",
        },
    )
    declared = read_declarations(tmp_path)
    assert declared.requirements == (
        "importlib_metadata;python_version<'3.8'",
        "hypothesis",
        "pytest>=4.3.0",
        "mypy>=1.11.1",
        "ruff",
        "flake8",
    )
    assert declared.src_layout and declared.project_extras is None


def test_a_setup_py_project_is_resolved_by_its_build_backend_with_the_extras_its_files_name(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "setup.py": "from setuptools import setup\nsetup(name='requests')\n",
            "requirements-dev.txt": "-e .[socks]\npytest>=2.8.0,<9\n-r more.txt\n",
            "more.txt": "trustme\n",
            "uv.lock": '[[package]]\nname = "trustme"\nversion = "1.2.0"\n',
        },
    )
    declared = read_declarations(tmp_path)
    # The extras its requirements name, and the test extras a setup.py may define.
    assert declared.project_extras == ("dev", "socks", "test", "testing", "tests")
    assert declared.requirement_files == ("more.txt", "requirements-dev.txt")
    files = dict(declared.files)
    assert files["requirements-dev.txt"] == b"pytest>=2.8.0,<9\n-r more.txt\n"
    assert declared.constraints == ("trustme==1.2.0",) and declared.lock == "uv.lock"
    before = declared.digest
    (tmp_path / "more.txt").write_text("trustme>=1\n")
    assert read_declarations(tmp_path).digest != before


def test_tox_ini_s_test_environment_names_extras_and_packages_the_tests_need(
    tmp_path: Path,
) -> None:
    # pyparsing's tests import railroad, of its diagrams extra, which only its tox.ini
    # names: every gate of a change to its code said the tests cannot run.
    write(
        tmp_path,
        {
            "pyproject.toml": (
                '[project]\nname = "pyparsing"\n'
                '[project.optional-dependencies]\ndiagrams = ["railroad-diagrams", "jinja2"]\n'
            ),
            "tox.ini": (
                "[tox]\nenvlist = py{39,310}\n\n[testenv]\ndeps=\n    pytest\n"
                "    matplotlib; implementation_name != 'pypy'\n    py39: mock\n"
                "    {[base]deps}\n    -r more.txt\nextras=diagrams\n\n"
                "[testenv:mypy-check]\ndeps = mypy==1.11.2\n"
            ),
        },
    )
    declared = read_declarations(tmp_path)

    assert declared.requirements == (
        "railroad-diagrams",
        "jinja2",
        "pytest",
        "matplotlib; implementation_name != 'pypy'",
    )
    assert "tox.ini" in dict(declared.files)  # a change to it rebuilds the environment
    # boltons' sdist leaves out the requirement file its tox.ini names: said, not passed over.
    missing = "tox.ini's deps name more.txt, which is not in the workspace"
    assert declared.problems == (missing,)
    assert declared.describe() == f"4 requirement(s) from pyproject.toml and tox.ini; {missing}"
    # The files tox names are the tests' requirements: no others are guessed by their names
    # (wcwidth's requirements-tests36.txt and -tests39.txt pin attrs apart).
    write(tmp_path, {"more.txt": "pytest==7.4.4\n", "requirements-tests36.txt": "attrs==22.2.0\n"})
    declared = read_declarations(tmp_path)
    assert declared.requirement_files == ("more.txt",) and declared.problems == ()


def test_requirement_files_beside_the_tests_and_named_for_them_are_read(tmp_path: Path) -> None:
    # packaging keeps its test requirements in tests/requirements.txt; others name them
    # test-requirements.txt at the root, or include the root's file from the tests' one.
    write(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname = 'packaging'\ndependencies = []\n",
            "tests/requirements.txt": "pretend\npytest>=6.2.0\n-r ../ci/base.txt\n",
            "ci/base.txt": "six\n",
            "test-requirements.txt": "trustme\n",
            "tests/data.txt": "not a requirement file\n",
            "tests/deep/requirements.txt": "not read\n",
        },
    )
    declared = read_declarations(tmp_path)
    assert declared.requirement_files == (
        "test-requirements.txt",
        "ci/base.txt",
        "tests/requirements.txt",
    )
    assert "tests/requirements.txt" in declared.describe()
    assert not declared.problems


def test_only_the_requirement_files_of_the_runtime_and_the_tests_are_read(
    tmp_path: Path,
) -> None:
    # MarkupSafe pip-compiles build, dev, docs, tests and typing apart: installed together
    # their pins conflicted (pip's ResolutionImpossible), and no test could run in docker.
    write(
        tmp_path,
        {
            "setup.py": "from setuptools import setup\nsetup(name='markupsafe')\n",
            "requirements.txt": "six\n",
            "docs-requirements.txt": "sphinx==7.1.2\n",
            "requirements-docker.txt": "gunicorn\n",  # not docs
            **{
                f"requirements/{name}.txt": f"{name}-pin==1\n"
                for name in ("build", "dev", "docs", "tests", "typing")
            },
        },
    )

    declared = read_declarations(tmp_path)

    assert declared.requirement_files == (
        "requirements-docker.txt",
        "requirements.txt",
        "requirements/tests.txt",
    )


def test_the_projects_version_is_read_from_pyproject_or_an_sdists_package_info(
    tmp_path: Path,
) -> None:
    write(tmp_path, {"pyproject.toml": pyproject("mini", "six")})
    assert read_declarations(tmp_path).project_version == "0.1"
    dynamic = '[project]\nname = "mini"\ndynamic = ["version"]\n'
    write(tmp_path, {"pyproject.toml": dynamic})
    assert read_declarations(tmp_path).project_version is None
    write(tmp_path, {"PKG-INFO": "Metadata-Version: 2.1\nName: mini\nVersion: 3.23.1\n\nText\n"})
    declared = read_declarations(tmp_path)
    assert (declared.project_name, declared.project_version) == ("mini", "3.23.1")
    write(tmp_path, {"PKG-INFO": "Metadata-Version: 2.1\nName: other\nVersion: 1.0\n"})
    assert read_declarations(tmp_path).project_version is None  # another project's file


def test_a_missing_package_is_named_from_pips_output() -> None:
    output = [
        "Collecting ark-no-such-package",
        "ERROR: Could not find a version that satisfies the requirement ark-no-such-package "
        "(from versions: none)",
        "ERROR: No matching distribution found for ark-no-such-package",
    ]
    assert explain_failure(output, 1) == (
        "cannot install the workspace's dependencies: no release of 'ark-no-such-package' on "
        "the package index (pip: No matching distribution found for ark-no-such-package)"
    )


def test_conflicting_pins_are_named_from_pips_resolver() -> None:
    output = [
        "Collecting pluggy==0.11.0",
        "ERROR: Cannot install pluggy==0.11.0 and pytest==7.4.4 because these package "
        "versions have conflicting dependencies.",
        "",
        "The conflict is caused by:",
        "    The user requested pluggy==0.11.0",
        "    pytest 7.4.4 depends on pluggy<2.0 and >=0.12",
        "",
        "To fix this you could try to:",
        "1. loosen the range of package versions you've specified",
        "",
        "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/",
    ]
    assert explain_failure(output, 1) == (
        "cannot install the workspace's dependencies: their versions conflict (The user "
        "requested pluggy==0.11.0; pytest 7.4.4 depends on pluggy<2.0 and >=0.12); "
        "pin them so that they agree"
    )


def test_a_conflict_is_named_though_pip_prepared_metadata_of_sdists_before_it() -> None:
    # wcwidth's requirement files: "zipp==3.6.0 failed to build" where pip said its pins of
    # attrs conflict, having built zipp's metadata on the way.
    output = [
        "Collecting zipp==3.6.0",
        "  Preparing metadata (setup.py): started",
        "  Preparing metadata (setup.py): finished with status 'done'",
        "ERROR: Cannot install attrs==22.2.0 and attrs==23.1.0 because these package versions "
        "have conflicting dependencies.",
        "The conflict is caused by:",
        "    The user requested attrs==22.2.0",
        "    The user requested attrs==23.1.0",
        "",
        "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/",
    ]
    assert "their versions conflict (The user requested attrs==22.2.0" in explain_failure(output, 1)


def test_a_package_whose_build_fails_is_named_with_where_to_see_why() -> None:
    output = [
        "Collecting broken==1.0",
        "  Preparing metadata (setup.py): started",
        "  error: subprocess-exited-with-error",
        "  \u00d7 python setup.py egg_info did not run successfully.",
        "Collecting other==2.0",
    ]
    assert explain_failure(output, 1) == (
        "cannot install the workspace's dependencies: broken==1.0 failed to build in the build "
        "container (its build code failed; `ark sandbox env build --verbose` shows pip's output)"
    )


# --- docker: a layer built from the declarations ------------------------------------------------


@pytest.mark.slow
def test_an_untrusted_project_runs_without_its_dependencies_until_the_user_builds_them(
    six_project: Path, docker_setup: DockerSetup, new_layers: None
) -> None:
    status = json.loads(ark("sandbox", "status", "--format", "json", cwd=six_project).stdout)
    assert status["environment"] == "image"
    assert "not trusted" in status["environment_reason"]
    before = ark("test", "--backend", "docker", cwd=six_project, check=False)
    assert before.returncode == 4
    assert "ModuleNotFoundError: No module named 'six'" in before.stderr
    # ... and says where it would come from.
    assert "(the sandbox's environment: the declared dependencies" in before.stderr
    assert "only on `ark sandbox env build` (or after `ark trust`))" in before.stderr

    built = ark("sandbox", "env", "build", cwd=six_project)
    assert built.stdout.startswith(f"layer: {ENV_REPOSITORY}:")
    assert "resolving the declared dependencies" in built.stderr

    status = json.loads(ark("sandbox", "status", "--format", "json", cwd=six_project).stdout)
    assert status["environment"] == "layer" and status["environment_pytest"] is True
    run = ark("run", "usesix.py", "--backend", "docker", cwd=six_project)
    assert run.stdout == "six 1.16.0\n"
    tested = ark("test", "--backend", "docker", cwd=six_project)
    assert tested.stdout.startswith("1 passed, 0 failed")

    # A changed declaration is a new layer; the old one is not reused.
    (six_project / "pyproject.toml").write_text(pyproject(six_project.name + "-b", "six==1.17.0"))
    status = json.loads(ark("sandbox", "status", "--format", "json", cwd=six_project).stdout)
    assert status["environment"] == "image"
    ark("sandbox", "env", "build", cwd=six_project)
    assert ark("run", "usesix.py", cwd=six_project).stdout == "six 1.17.0\n"


@pytest.mark.slow
def test_a_trusted_project_gets_its_environment_built_on_the_first_run_then_runs_offline(
    six_project: Path, docker_setup: DockerSetup, new_layers: None
) -> None:
    ark("trust", cwd=six_project)
    first = ark("run", "usesix.py", "--backend", "docker", cwd=six_project)
    assert first.stdout == "six 1.16.0\n"
    assert "ark: building the sandbox environment of" in first.stderr
    again = ark("run", "usesix.py", "--backend", "docker", cwd=six_project)
    assert "building" not in again.stderr
    (six_project / "interfaces.py").write_text(
        "import socket\nprint(sorted(name for _, name in socket.if_nameindex()))\n"
    )
    assert ark("run", "interfaces.py", cwd=six_project).stdout == "['lo']\n"
    # The project is installed as far as importlib.metadata can tell (marshmallow's tests
    # ask it for the project's version), its code the run's own copy.
    name = read_declarations(six_project).project_name
    (six_project / "meta.py").write_text(
        f"import importlib.metadata\nprint(importlib.metadata.version({name!r}))\n"
    )
    assert ark("run", "meta.py", cwd=six_project).stdout == "0.1\n"


@pytest.mark.slow
def test_dependencies_that_cannot_be_installed_are_named_in_one_clear_message(
    tmp_path: Path, docker_setup: DockerSetup, new_layers: None
) -> None:
    missing = f"ark-no-such-package-{uuid.uuid4().hex[:8]}"
    write(tmp_path, {"pyproject.toml": pyproject("broken-deps", missing), "app.py": "print(1)\n"})
    built = ark("sandbox", "env", "build", cwd=tmp_path, check=False)
    assert built.returncode == 4
    assert (
        f"ark: error: cannot install the workspace's dependencies: no release of '{missing}'"
        in (built.stderr)
    )
    ark("trust", cwd=tmp_path)
    run = ark("run", "app.py", "--backend", "docker", cwd=tmp_path, check=False)
    assert run.returncode == 4 and f"no release of '{missing}'" in run.stderr
    status = json.loads(ark("sandbox", "status", "--format", "json", cwd=tmp_path).stdout)
    assert missing in status["environment_problem"]


# --- local: the workspace's own virtual environment ---------------------------------------------


@pytest.mark.slow
def test_the_local_backend_runs_in_the_workspaces_venv_once_trusted(
    six_project: Path,
) -> None:
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", ".venv"], cwd=six_project, check=True
    )
    (site,) = (six_project / ".venv" / "lib").glob("python3*/site-packages")
    (site / "only_in_the_venv.py").write_text("WHERE = 'venv'\n")
    (six_project / "where.py").write_text(
        "import only_in_the_venv, sys\nprint(only_in_the_venv.WHERE)\n"
    )
    untrusted = ark("run", "where.py", "--backend", "local", cwd=six_project, check=False)
    assert untrusted.returncode == 1 and "No module named 'only_in_the_venv'" in untrusted.stderr

    ark("trust", cwd=six_project)
    assert ark("run", "where.py", "--backend", "local", cwd=six_project).stdout == "venv\n"
    tested = ark("test", "--backend", "local", cwd=six_project, check=False)
    assert tested.returncode == 4
    assert "pytest is not installed in the sandbox's Python" in tested.stderr
    assert f"{six_project}/.venv/bin/python -m pip install pytest" in tested.stderr


@pytest.mark.slow
def test_a_project_installed_in_its_venv_in_editable_mode_imports_the_runs_copy(
    tmp_path: Path,
) -> None:
    # An editable install's .pth names the workspace by its path; a subprocess that reads no
    # PYTHONPATH (mypy, the project's console scripts) finds the project only through it.
    project = write(
        tmp_path / "project",
        {
            "pyproject.toml": pyproject("editable"),
            "src/editable/__init__.py": "WHERE = 'workspace'\n",
            "show.py": textwrap.dedent(
                """\
                import subprocess, sys
                from pathlib import Path

                Path("src/editable/__init__.py").write_text("WHERE = 'the run'\\n")
                code = "import editable; print(editable.WHERE, editable.__file__)"
                print(subprocess.run([sys.executable, "-I", "-c", code], text=True,
                                     capture_output=True).stdout, end="")
                """
            ),
        },
    )
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", ".venv"], cwd=project, check=True
    )
    (site,) = (project / ".venv" / "lib").glob("python3*/site-packages")
    (site / "__editable__.editable-0.1.pth").write_text(f"{project / 'src'}\n")
    ark("trust", cwd=project)

    shown = ark("run", "show.py", "--backend", "local", cwd=project).stdout

    assert shown == f"the run {project}/src/editable/__init__.py\n"
    assert (project / "src" / "editable" / "__init__.py").read_text() == "WHERE = 'workspace'\n"


@pytest.mark.slow
def test_on_arks_own_python_the_suite_gets_none_of_the_plugins_installed_beside_ark(
    tmp_path: Path,
) -> None:
    # click sets filterwarnings = error: pytest-asyncio, installed beside ARK for its own
    # tests, warned as pytest started, and the suite ended in pytest's internal error.
    project = write(
        tmp_path,
        {
            "pyproject.toml": pyproject("strict")
            + '\n[tool.pytest.ini_options]\nfilterwarnings = ["error"]\n',
            "tests/test_alone.py": "import sys\n\n\ndef test_alone():\n"
            "    assert 'pytest_asyncio' not in sys.modules\n",
        },
    )

    tested = ark("test", "--backend", "local", cwd=project, check=False)

    assert tested.returncode == 0, tested.stderr
    assert "1 passed, 0 failed" in tested.stdout
