"""The pure analysis layer: symbols, signatures, imports, line counts, tiers."""

from __future__ import annotations

import textwrap

import pytest

from ark_lsp.analysis import analyze, cc_rank, module_name, resolve_relative
from ark_lsp.config import Settings
from ark_lsp.models import ParameterKind, Span, SymbolKind, Tier

SAMPLE = textwrap.dedent(
    '''\
    """Module docstring."""
    import os
    import os.path as osp
    from . import sibling
    from ..core import engine as eng, helpers
    from .models import *


    @dataclass(frozen=True)
    class Shape(Base, metaclass=Meta):
        """A shape.

        Long description.
        """

        def area(self, scale: float = 1.0) -> float:
            """Compute the area."""
            if scale and self.ok or self.force:
                return [x for x in self.parts if x if scale]
            return 0.0 if scale else 1.0

        @property
        async def fetch(self, /, key, *, retries: int = 3, **options) -> "Shape":
            def retry(attempt):
                while attempt:
                    attempt -= 1
                else:
                    return None
            return retry

        @staticmethod
        def choose(value, *args):
            match value:
                case 1:
                    return "one"
                case [x, y]:
                    return "pair"
                case _:
                    return "other"


    def handler(event):  # comment after code
        # a comment line
        try:
            pass
        except KeyError:
            pass
        except (TypeError, ValueError):
            pass
        else:
            pass
        assert event and event.ok

        class Local:
            def method(self):
                for item in event:
                    if item:
                        yield item
    '''
)


@pytest.fixture(scope="module")
def report():
    return analyze(SAMPLE, "src/pkg/shapes/geometry.py")


def by_qualname(report):
    return {symbol.qualname: symbol for symbol in report.symbols}


def test_every_definition_is_found_with_its_kind_and_qualified_name(report) -> None:
    kinds = {s.qualname: (s.kind, s.is_async) for s in report.symbols}
    assert kinds == {
        "Shape": (SymbolKind.CLASS, False),
        "Shape.area": (SymbolKind.METHOD, False),
        "Shape.fetch": (SymbolKind.METHOD, True),
        "Shape.fetch.retry": (SymbolKind.FUNCTION, False),
        "Shape.choose": (SymbolKind.METHOD, False),
        "handler": (SymbolKind.FUNCTION, False),
        "handler.Local": (SymbolKind.CLASS, False),
        "handler.Local.method": (SymbolKind.METHOD, False),
    }
    assert [s.qualname for s in report.symbols] == sorted(
        kinds, key=lambda q: by_qualname(report)[q].span.line
    )
    assert by_qualname(report)["Shape.fetch.retry"].parent == "Shape.fetch"
    assert by_qualname(report)["Shape"].parent is None


def test_complexity_follows_mccabe_as_radon_counts_it(report) -> None:
    complexity = {s.qualname: s.complexity for s in report.symbols}
    assert complexity == {
        "Shape.area": 1 + 1 + 2 + 1 + 2 + 1,  # if, and/or, comprehension + 2 ifs, ternary
        "Shape.fetch": 1,  # the nested function counts on its own
        "Shape.fetch.retry": 1 + 2,  # while with else
        "Shape.choose": 1 + 2,  # three cases, one of them the catch-all
        "handler": 1 + 3 + 1,  # two handlers + else, assert (its `and` is not counted)
        "handler.Local": 1 + 3,  # its only method, averaged over one
        "handler.Local.method": 3,
        "Shape": (1 + 7 + 1 + 3) // 3 + 1,  # radon averages a class over its methods
    }
    assert by_qualname(report)["Shape.area"].rank == "B"


def test_signatures_render_every_parameter_kind(report) -> None:
    symbols = by_qualname(report)
    fetch = symbols["Shape.fetch"].signature
    assert fetch is not None
    assert fetch.render() == ('(self, /, key, *, retries: int = 3, **options) -> "Shape"')
    assert [p.kind for p in fetch.parameters] == [
        ParameterKind.POSITIONAL_ONLY,
        ParameterKind.POSITIONAL_OR_KEYWORD,
        ParameterKind.KEYWORD_ONLY,
        ParameterKind.VAR_KEYWORD,
    ]
    assert symbols["Shape.area"].signature.render() == "(self, scale: float = 1.0) -> float"
    assert symbols["Shape.choose"].signature.render() == "(value, *args)"
    assert symbols["Shape"].signature is None
    assert symbols["Shape"].bases == ("Base",)


def test_decorators_docstrings_and_positions(report) -> None:
    symbols = by_qualname(report)
    shape = symbols["Shape"]
    assert shape.decorators == ("dataclass(frozen=True)",)
    assert shape.docstring == "A shape."
    assert symbols["Shape.area"].docstring == "Compute the area."
    assert symbols["handler"].docstring is None
    assert symbols["Shape.fetch"].decorators == ("property",)
    assert shape.span == Span(10, 0, 39, 30)
    assert shape.name_span == Span(10, 6, 10, 11)
    assert symbols["Shape.fetch"].name_span == Span(23, 14, 23, 19)
    assert symbols["Shape.area"].lines == 5


def test_imports_are_resolved_to_absolute_modules(report) -> None:
    imports = [(i.module, i.name, i.bound, i.line, i.level) for i in report.imports]
    assert imports == [
        ("os", None, "os", 2, 0),
        ("os.path", None, "osp", 3, 0),
        ("pkg.shapes", "sibling", "sibling", 4, 1),
        ("pkg.core", "engine", "eng", 5, 2),
        ("pkg.core", "helpers", "helpers", 5, 2),
        ("pkg.shapes.models", "*", "*", 6, 1),
    ]
    assert report.module == "pkg.shapes.geometry"


def test_relative_import_above_the_top_level_is_kept_unresolved() -> None:
    report = analyze("from ...far import x\n", "pkg/mod.py")
    (imported,) = report.imports
    assert not imported.resolved
    assert imported.module == "...far"


def test_relative_imports_in_a_package_init() -> None:
    assert resolve_relative("pkg.sub", is_package=True, level=1, target="mod") == "pkg.sub.mod"
    assert resolve_relative("pkg.sub", is_package=True, level=2, target=None) == "pkg"
    assert resolve_relative("pkg.sub.mod", is_package=False, level=1, target=None) == "pkg.sub"
    assert resolve_relative("top", is_package=False, level=1, target=None) is None


def test_line_counts(report) -> None:
    assert report.lines.total == len(SAMPLE.splitlines())
    assert report.lines.comment == 1
    assert report.lines.blank == SAMPLE.splitlines().count("")
    assert report.lines.code == report.lines.total - report.lines.comment - report.lines.blank


@pytest.mark.parametrize(
    ("path", "module", "is_package"),
    [
        ("pkg/mod.py", "pkg.mod", False),
        ("pkg/__init__.py", "pkg", True),
        ("src/pkg/mod.py", "pkg.mod", False),
        ("django-5.2.9/django/db/models/base.py", "django.db.models.base", False),
        ("setup.py", "setup", False),
    ],
)
def test_module_names(path: str, module: str, is_package: bool) -> None:
    assert module_name(path) == (module, is_package)


@pytest.mark.parametrize(
    ("path", "tier"),
    [
        ("tests/test_app.py", Tier.TESTING),
        ("pkg/tests/helpers.py", Tier.TESTING),
        ("pkg/test_io.py", Tier.TESTING),
        ("pkg/io_test.py", Tier.TESTING),
        ("conftest.py", Tier.TESTING),
        ("ark_generated/gen_1.py", Tier.SANDBOX),
        ("pkg/ark_generated/x.py", Tier.TRUSTED),
        ("pkg/app.py", Tier.TRUSTED),
        ("pkg/testing.py", Tier.TRUSTED),
    ],
)
def test_default_tiers(path: str, tier: Tier) -> None:
    assert analyze("", path).tier is tier


def test_configured_tiers_come_first_in_order() -> None:
    settings = Settings(
        tiers=(
            ("pkg/kernel/**", Tier.CORE),
            ("pkg/**", Tier.TRUSTED),
            ("plugins/", Tier.SANDBOX),
        )
    )
    assert settings.tier_for("pkg/kernel/boot.py") is Tier.CORE
    assert settings.tier_for("pkg/tests/test_x.py") is Tier.TRUSTED
    assert settings.tier_for("plugins/a/b.py") is Tier.SANDBOX
    assert settings.tier_for("tests/test_x.py") is Tier.TESTING


@pytest.mark.parametrize(
    ("score", "rank"),
    [
        (0, "A"),
        (1, "A"),
        (5, "A"),
        (6, "B"),
        (10, "B"),
        (11, "C"),
        (20, "C"),
        (21, "D"),
        (30, "D"),
        (31, "E"),
        (40, "E"),
        (41, "F"),
        (400, "F"),
    ],
)
def test_ranks_match_radon(score: int, rank: str) -> None:
    from radon.complexity import cc_rank as radon_rank

    assert cc_rank(score) == rank == radon_rank(score)


@pytest.mark.parametrize(
    "source",
    [
        "def eval(x):\n    return x\neval(y)\neval = other\n",
        "class C:\n    eval = f\n    x = eval(1)\n    eval = g\n",
    ],
    ids=["module", "class-body"],
)
def test_a_name_bound_twice_is_local_from_its_first_binding(source: str) -> None:
    # The walk meets statements in no particular order; a later rebinding must
    # not make the call between the two look like the builtin's.
    assert analyze(source, "m.py").violations == ()


def test_a_fix_names_a_module_by_the_first_import_binding_it() -> None:
    source = 'import subprocess as sp\nimport subprocess\n\n\ndef f():\n    os.system("ls")\n'
    (violation,) = analyze(source + "import os\n", "m.py").violations
    assert violation.fix is not None
    assert violation.fix.edits[0].new_text == 'sp.run(["ls"], check=False)'


def test_the_report_names_every_attribute_the_module_binds_on_any_object() -> None:
    source = textwrap.dedent(
        """\
        class Holder:
            def __init__(self):
                self.made = 1
                self.read.called()

        def swap(holder, pair, key):
            holder.typed: int = 2
            holder.added += 1
            holder.first, holder.second = pair
            for holder.looped in pair:
                del holder.deleted
            setattr(holder, "named", 3)
            object.__setattr__(holder, "frozen", 4)
            holder.other.setattr(holder, "not_a_builtin", 5)
        """
    )
    assert analyze(source, "m.py").bound_attributes == (
        "added",
        "deleted",
        "first",
        "frozen",
        "looped",
        "made",
        "named",
        "second",
        "typed",
    )
    computed = analyze("def f(holder, key):\n    setattr(holder, key, 1)\n", "m.py")
    assert computed.bound_attributes == ("*",)
