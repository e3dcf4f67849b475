"""ARK's own mypy and pylint configuration: the base's safe options, nothing that runs code."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from ark_lsp.gate.checks.tool_config import (
    annotations_required,
    code_style,
    line_length,
    mypy_config,
    pylint_config,
)


def sections(text: str) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return {name: dict(parser[name]) for name in parser.sections()}


def test_mypy_keeps_what_to_report_and_drops_what_runs_or_reads(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        """\
[tool.mypy]
strict = true
python_version = "3.11"
warn_unreachable = true
disable_error_code = ["import-untyped", "misc"]
plugins = ["evil.py", "pydantic.mypy"]
mypy_path = "/etc"
python_executable = "./evil"
cache_dir = "/tmp/elsewhere"
junit_xml = "/tmp/report.xml"
html_report = "/tmp/html"
custom_typeshed_dir = "/tmp/typeshed"
follow_imports = "silent"

[[tool.mypy.overrides]]
module = ["legacy.*", "vendor"]
ignore_errors = true
plugins = ["evil.py"]

[[tool.mypy.overrides]]
module = "evil]\\n[mypy"
ignore_errors = true
"""
    )

    assert sections(mypy_config(tmp_path)) == {
        "mypy": {
            "strict": "True",
            "python_version": "3.11",
            "warn_unreachable": "True",
            "disable_error_code": "import-untyped, misc",
            "follow_imports": "silent",
            "ignore_missing_imports": "True",
        },
        "mypy-legacy.*,vendor": {"ignore_errors": "True"},
    }


def test_mypy_reads_the_base_configuration_in_mypys_own_order(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.mypy]\nstrict = true\n")
    (tmp_path / "setup.cfg").write_text("[mypy]\ncheck_untyped_defs = True\n")
    (tmp_path / "mypy.ini").write_text(
        "[mypy]\ndisallow_untyped_defs = yes\nplugins = evil.py\n\n"
        "[mypy-tests.*]\nignore_errors = True\nplugins = evil.py\n"
    )

    assert sections(mypy_config(tmp_path)) == {
        "mypy": {"disallow_untyped_defs": "True", "ignore_missing_imports": "True"},
        "mypy-tests.*": {"ignore_errors": "True"},
    }


@pytest.mark.parametrize(
    "pyproject",
    ["tool = 1\n", "[tool]\nmypy = 'strict'\n", "not toml [", "[tool.mypy]\noverrides = 'x'\n"],
)
def test_a_malformed_configuration_gives_arks_defaults(tmp_path: Path, pyproject: str) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject)

    assert sections(mypy_config(tmp_path)) == {"mypy": {"ignore_missing_imports": "True"}}
    assert sections(pylint_config(tmp_path))["MAIN"]["load-plugins"] == ""


PYLINT_FORCED = {
    "load-plugins": "",
    "unsafe-load-any-extension": "no",
    "extension-pkg-allow-list": "",
    "extension-pkg-whitelist": "",
    "persistent": "no",
    "jobs": "1",
    "reports": "no",
    "score": "no",
}


@pytest.mark.parametrize(
    ("configuration", "module", "required"),
    [
        ("", "tests.test_make", False),
        ("[tool.mypy]\ndisallow_untyped_defs = true\n", "tests.test_make", True),
        ("[tool.mypy]\nstrict = true\n", "tests.test_make", True),
        ("[tool.mypy]\nstrict = true\ndisallow_untyped_defs = false\n", "tests.test_make", False),
        (
            "[tool.mypy]\nstrict = true\n\n[[tool.mypy.overrides]]\n"
            'module = "tests.*"\ndisallow_untyped_defs = false\n',
            "tests.test_make",
            False,
        ),
        (
            "[tool.mypy]\nstrict = true\n\n[[tool.mypy.overrides]]\n"
            'module = "tests.*"\nignore_errors = true\n',
            "pkg.tests",
            True,
        ),
        (
            "[tool.mypy]\ndisallow_untyped_defs = true\n\n[[tool.mypy.overrides]]\n"
            'module = ["tests", "tests.*"]\nignore_errors = true\n',
            "tests",
            False,
        ),
    ],
    ids=[
        "none",
        "untyped-defs",
        "strict",
        "strict-but-not-defs",
        "override-off",
        "override-elsewhere",
        "override-ignores",
    ],
)
def test_annotations_are_required_where_the_projects_mypy_reports_their_absence(
    tmp_path: Path, configuration: str, module: str, required: bool
) -> None:
    (tmp_path / "pyproject.toml").write_text(configuration)
    assert annotations_required(tmp_path, module) is required


def test_pylint_keeps_what_to_report_and_drops_what_runs_or_backtracks(tmp_path: Path) -> None:
    (tmp_path / ".pylintrc").write_text(
        """\
[MAIN]
init-hook = import os; os.system("touch /tmp/pwned")
load-plugins = evil_plugin, pylint.extensions.docparams
extension-pkg-allow-list = numpy, evil_ext
unsafe-load-any-extension = yes
jobs = 8
ignore-patterns = (a+)+$
py-version = 3.11

[MESSAGES CONTROL]
disable =
    missing-module-docstring,
    C0116,
    too-few-public-methods

[FORMAT]
max-line-length = 120
good-names = i, j, df
function-rgx = (a*)*b
"""
    )

    assert sections(pylint_config(tmp_path)) == {
        "MAIN": {
            "py-version": "3.11",
            # what an import finds depends on ARK's environment, not the project's
            "disable": "missing-module-docstring,C0116,too-few-public-methods,"
            "import-error,no-name-in-module",
            "max-line-length": "120",
            "good-names": "i,j,df",
            **PYLINT_FORCED,
        }
    }


def test_pylint_reads_pyproject_tables_and_only_the_pylint_sections_of_setup_cfg(
    tmp_path: Path,
) -> None:
    (tmp_path / "setup.cfg").write_text(
        "[flake8]\nmax-line-length = 79\n\n[pylint.format]\nmax-line-length = 99\n"
    )
    assert sections(pylint_config(tmp_path))["MAIN"]["max-line-length"] == "99"

    (tmp_path / "pyproject.toml").write_text(
        '[tool.pylint.main]\ninit-hook = "import os"\nload-plugins = ["evil"]\n\n'
        '[tool.pylint."messages control"]\ndisable = ["C0114", "W0611"]\n\n'
        "[tool.pylint.design]\nmax-args = 9\n"
    )
    assert sections(pylint_config(tmp_path)) == {
        "MAIN": {
            "disable": "C0114,W0611,import-error,no-name-in-module",
            "max-args": "9",
            **PYLINT_FORCED,
        }
    }


@pytest.mark.parametrize(
    ("files", "length"),
    [
        pytest.param({}, 88, id="blacks-when-none-is-set"),
        pytest.param({"pyproject.toml": "[tool.ruff]\nline-length = 79\n"}, 79, id="ruff"),
        pytest.param({"ruff.toml": "line-length = 100\n"}, 100, id="ruff-toml"),
        pytest.param(
            {
                "pyproject.toml": "[tool.black]\nline-length = 120\n",
                ".ruff.toml": "line-length = 99\n",
            },
            99,
            id="ruff-before-black",
        ),
        pytest.param({"setup.cfg": "[flake8]\nmax-line-length = 110\n"}, 110, id="flake8"),
        pytest.param({".flake8": "[flake8]\nselect = E,W\n"}, 79, id="flake8s-own-79"),
        pytest.param(
            {"pyproject.toml": "[tool.ruff.lint]\nselect = ['E']\n", ".flake8": "[flake8]\n"},
            88,
            id="ruff-configured-keeps-its-88",
        ),
        pytest.param({"tox.ini": "[pylint.format]\nmax-line-length = 90\n"}, 90, id="pylint"),
        pytest.param({"pyproject.toml": "[tool.ruff]\nline-length = '5'\n"}, 88, id="implausible"),
        pytest.param({"pyproject.toml": "[tool.ruff\n"}, 88, id="malformed"),
    ],
)
def test_the_line_length_is_the_projects_formatters(
    tmp_path: Path, files: dict[str, str], length: int
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert line_length(tmp_path) == length


@pytest.mark.parametrize(
    ("files", "quote", "single_line"),
    [
        pytest.param({}, None, False, id="nothing-configured"),
        pytest.param(
            {
                "pyproject.toml": "[tool.ruff.format]\nquote-style = 'single'\n\n"
                "[tool.ruff.lint.isort]\nforce-single-line = true\n"
            },
            "'",
            True,
            id="bidicts-ruff",
        ),
        pytest.param(
            {"ruff.toml": "format.quote-style = 'preserve'\nisort.force-single-line = true\n"},
            None,
            True,
            id="ruff-toml-preserving-with-the-older-isort-table",
        ),
        pytest.param({".ruff.toml": "[format]\nindent-style = 'space'\n"}, '"', False, id="ruff"),
        pytest.param({"pyproject.toml": "[tool.black]\n"}, '"', False, id="black"),
        pytest.param(
            {"pyproject.toml": "[tool.black]\nskip-string-normalization = true\n"},
            None,
            False,
            id="black-leaving-quotes",
        ),
        pytest.param({"setup.cfg": "[isort]\nforce_single_line = True\n"}, None, True, id="isort"),
    ],
)
def test_quotes_and_imports_are_the_projects_formatters(
    tmp_path: Path, files: dict[str, str], quote: str | None, single_line: bool
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    style = code_style(tmp_path)
    assert (style.quote, style.single_line_imports) == (quote, single_line)
