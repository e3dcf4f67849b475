"""``ark generate`` as users run it: the installed script, in a subprocess."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import pytest
from support.cli import ark

APP = textwrap.dedent(
    """\
    from __future__ import annotations


    def main(path: str, count: int) -> float:
        total: float = compute_total(path, count + 1, scale=2.5)
        return total
    """
)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "app.py").write_text(APP)
    return tmp_path


def generated_rows(root: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(root / ".ark" / "index.db") as db:
        rows = db.execute("SELECT kind, target, validation FROM generated_code ORDER BY id")
        return [(kind, target, json.loads(validation)["ok"]) for kind, target, validation in rows]


def test_a_function_called_in_the_file_gets_the_calls_parameters(workspace: Path) -> None:
    result = ark("generate", "function", "compute_total", "--in", "shop/app.py", cwd=workspace)
    assert result.stdout == "Added function compute_total in shop/app.py:9\n"
    text = (workspace / "shop" / "app.py").read_text()
    assert text.startswith(APP)
    assert "def compute_total(path: str, count: int, scale: float) -> float:" in text
    assert generated_rows(workspace) == [("function", "compute_total", True)]


def test_without_a_file_the_stub_is_printed(workspace: Path) -> None:
    result = ark(
        "generate", "function", "slug", "--params", "title: str, *, sep='-'", "--returns", "str",
        cwd=workspace,
    )  # fmt: skip
    assert result.stdout == (
        'def slug(title: str, *, sep="-") -> str:\n    """Slug."""\n'
        '    raise NotImplementedError("slug")\n'
    )


def test_annotations_the_user_writes_are_kept_in_a_file_without_hints(workspace: Path) -> None:
    (workspace / "shop" / "plain.py").write_text("def tally(items):\n    return len(items)\n")
    ark("generate", "function", "score", "--params", "total: float, weight=2", "--returns",
        "float", "--in", "shop/plain.py", cwd=workspace)  # fmt: skip
    text = (workspace / "shop" / "plain.py").read_text()
    assert "def score(total: float, weight=2) -> float:" in text


def test_a_method_goes_into_its_class_and_a_class_into_its_file(workspace: Path) -> None:
    ark("generate", "class", "Point", "--params", "x: float, y: float = 0.0", "--in",
        "shop/geo.py", cwd=workspace)  # fmt: skip
    ark("generate", "function", "Point.norm", "--returns", "float", "--in", "shop/geo.py",
        cwd=workspace)  # fmt: skip
    symbols = json.loads(ark("symbols", "shop/geo.py", "--format", "json", cwd=workspace).stdout)
    assert [(s["qualname"], s["kind"]) for s in symbols] == [
        ("Point", "class"),
        ("Point.__init__", "method"),
        ("Point.norm", "method"),
    ]


def test_a_new_module_follows_its_neighbours(workspace: Path) -> None:
    result = ark("generate", "module", "shop.tools", "--functions", "load,save", cwd=workspace)
    assert result.stdout == "Created module shop.tools in shop/tools.py:1\n"
    text = (workspace / "shop" / "tools.py").read_text()
    assert text.startswith('"""Tools."""\n\nfrom __future__ import annotations\n')
    again = ark("generate", "module", "shop.tools", cwd=workspace, check=False)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_generated_code_with_a_violation_is_refused_and_recorded(workspace: Path) -> None:
    result = ark(
        "generate", "function", "load", "--params", "data=eval('{}')", "--in", "shop/app.py",
        cwd=workspace, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "not written: ARK001" in result.stderr
    assert (workspace / "shop" / "app.py").read_text() == APP
    assert generated_rows(workspace) == [("function", "load", False)]


def test_bad_names_and_parameters_are_usage_errors(workspace: Path) -> None:
    for args in (
        ["function", "not a name"],
        ["function", "f", "--params", "x y"],
        ["function", "Cls.method"],
        ["class", "1x"],
    ):
        result = ark("generate", *args, cwd=workspace, check=False)
        assert result.returncode == 2, args
        assert result.stderr.startswith("ark: error:"), args


def test_a_broken_workspace_template_is_one_clear_line(workspace: Path) -> None:
    templates = workspace / ".ark" / "templates"
    templates.mkdir(parents=True)
    (templates / "class.py.j2").write_text("class {{ cls.name }}:\n    x = {{ missing }}\n")
    untrusted = ark("generate", "class", "A", cwd=workspace)
    assert untrusted.stdout.startswith("class A:")  # the built-in template, until trusted
    assert "ignored its privileged settings .ark/templates/class.py.j2" in untrusted.stderr

    ark("trust", cwd=workspace)
    result = ark("generate", "class", "A", cwd=workspace, check=False)
    assert result.returncode == 4
    assert result.stderr == (
        f"ark: error: template class.py.j2 ({templates / 'class.py.j2'}), line 2: "
        "undefined variable: 'missing' is undefined\n"
    )


PRICING = textwrap.dedent(
    '''\
    def discount(price: float, percent: int = 10) -> float:
        """Price after a discount.

        >>> discount(200.0, 25)
        150.0
        """
        if not 0 <= percent <= 100:
            raise ValueError(percent)
        return price * (100 - percent) / 100
    '''
)


def test_generate_tests_writes_runs_and_records(workspace: Path) -> None:
    (workspace / "shop" / "pricing.py").write_text(PRICING)
    result = ark("generate", "tests", "shop/pricing.py::discount", cwd=workspace)
    (line,) = result.stdout.splitlines()
    written = int(line.split()[1])
    assert line == (
        f"Wrote {written} tests to tests/test_pricing.py; "
        f"{written} of {written} pass in the sandbox ({line.rsplit('(', 1)[1]}"
    )
    text = (workspace / "tests" / "test_pricing.py").read_text()
    assert "(200.0, 25, 150.0)," in text  # the docstring's example
    assert "ValueError" in text

    with sqlite3.connect(workspace / ".ark" / "index.db") as db:
        kinds = [k for (k,) in db.execute("SELECT kind FROM sandbox_executions ORDER BY id")]
        (outcome,) = [
            json.loads(o) for (o,) in db.execute("SELECT test_outcome FROM generated_code")
        ]
    assert kinds == ["function", "function", "test"]  # explore, check, run the tests
    assert outcome["written"] == outcome["passed"] == written

    again = ark("generate", "tests", "shop/pricing.py", cwd=workspace)
    assert again.stderr == (
        "ark: nothing new to test: tests/test_pricing.py already tests discount (test_discount)\n"
    )
    # bidict's second run in JSON printed nothing at all.
    answer = ark("generate", "tests", "shop/pricing.py", "--format", "json", cwd=workspace)
    assert json.loads(answer.stdout) == {
        "written": 0,
        "nothing_new": "tests/test_pricing.py already tests discount (test_discount)",
    }


def test_a_function_the_suite_calls_under_other_test_names_is_left_alone(
    workspace: Path,
) -> None:
    # tabulate's suite tests tabulate() in test_output.py, test_api.py...: ARK wrote a new
    # test/test_tabulate.py of 37 tests beside them.
    (workspace / "shop" / "pricing.py").write_text(
        PRICING
        + "\n\ndef rounded(price: float) -> float:\n    return round(price, 2)\n"
        + "\n\ndef halved(price: float) -> float:\n    return price / 2\n"
    )
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_sales.py").write_text(
        "from shop.pricing import discount\n\n\n"
        "def test_a_quarter_off():\n    assert discount(200.0, 25) == 150.0\n"
    )
    # A call of another module's function of that name is not a test of this one, nor a
    # call of a local of that name (cachetools' test_func.py: cached = self.decorator(...)).
    (workspace / "tests" / "test_other.py").write_text(
        "from decimal import Decimal\n\n\ndef rounded(x):\n    return x\n\n\n"
        "def test_rounded():\n    assert rounded(Decimal(1)) == 1\n"
    )
    (workspace / "tests" / "test_local.py").write_text(
        "import shop.pricing\n\n\ndef test_a_local():\n"
        "    rounded = shop.pricing.discount\n    assert rounded(10.0, 50) == 5.0\n"
    )
    # A function the suite passes on to the tests that call it is used by them.
    (workspace / "tests" / "test_halves.py").write_text(
        "import shop.pricing\n\n\nclass TestHalving:\n"
        "    halve = staticmethod(shop.pricing.halved)\n\n"
        "    def test_four(self):\n        assert self.halve(4.0) == 2.0\n"
    )

    result = ark("generate", "tests", "shop/pricing.py", cwd=workspace)

    assert "ark: note: already tested, left alone: discount (tests/test_" in result.stderr
    assert "ark: note: already tested, left alone: halved (tests/test_halves.py)" in result.stderr
    assert result.stdout.startswith("Wrote ")
    text = (workspace / "tests" / "test_pricing.py").read_text()
    assert "def test_rounded(" in text and "discount" not in text and "halved" not in text
    again = ark("generate", "tests", "shop/pricing.py::halved", cwd=workspace, check=False)
    assert again.stderr == (
        "ark: nothing new to test: the workspace's tests already use "
        "halved (tests/test_halves.py)\n"
    )


def test_a_second_run_with_every_target_tested_or_left_alone_has_nothing_new(
    workspace: Path,
) -> None:
    # tomli's Flags.finalize_pending, marshmallow's deprecated old: the second run was a
    # usage error, `ark: error: left alone: ...`, exit 2.
    (workspace / "shop" / "box.py").write_text(
        "import warnings\n\n\nclass Box:\n    def __init__(self) -> None:\n"
        "        self.x = 0\n\n    def reset(self) -> None:\n        self.x = 0\n\n"
        "    def get(self, n: int) -> int:\n        return n + self.x\n\n\n"
        "def old(n: int) -> int:\n    warnings.warn('old', DeprecationWarning, stacklevel=2)\n"
        "    return n\n"
    )
    first = ark("generate", "tests", "shop/box.py", cwd=workspace)
    assert first.stdout.startswith("Wrote ")

    again = ark("generate", "tests", "shop/box.py", cwd=workspace, check=False)

    assert (again.returncode, again.stdout) == (0, "")
    running, said = again.stderr.splitlines()
    assert running.startswith("ark: running 1 function(s) on sample inputs")  # not old
    assert said == (
        "ark: nothing new to test: tests/test_box.py already tests Box.get (test_box_get); "
        "left alone: old, since it is deprecated; "
        "left alone: Box.reset returns nothing and takes no argument"
    )
    only_old = ark("generate", "tests", "shop/box.py::old", cwd=workspace, check=False)
    assert (only_old.returncode, only_old.stderr) == (
        0,
        "ark: nothing new to test: left alone: old, since it is deprecated\n",
    )


def test_a_file_no_test_can_import_is_refused_before_the_sandbox_runs(workspace: Path) -> None:
    # wcwidth's bin/verify-table-integrity.py: after the sandbox, `ark: error: template
    # test.py.j2 (builtin): rendered invalid Python (... 'from  import main')`, exit 4.
    (workspace / "bin").mkdir()
    (workspace / "bin" / "verify-table-integrity.py").write_text(
        "def main(path: str) -> int:\n    return len(path)\n"
    )

    result = ark("generate", "tests", "bin/verify-table-integrity.py", cwd=workspace, check=False)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "ark: error: bin/verify-table-integrity.py cannot be imported by a test: "
        "'verify-table-integrity' is not a module name\n"
    )
    assert not (workspace / "tests").exists()


def test_module_help_says_where_the_module_is_written(workspace: Path) -> None:
    shown = " ".join(ark("generate", "module", "--help", cwd=workspace).stdout.split())
    assert "print" not in shown
    assert "Create a new module NAME" in shown and "a module is always written" in shown
    assert "File to create [default: NAME's file under the workspace root" in shown
