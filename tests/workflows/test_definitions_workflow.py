"""Where a name is defined, from the document's report and the index (no jedi)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from ark_lsp.analysis import analyze
from ark_lsp.analysis.references import reference_at
from ark_lsp.models import FileState, IndexedFile
from ark_lsp.store import Store
from ark_lsp.workflows.definitions import ABSENT, UNKNOWN, Definition, DefinitionFinder

SHAPES = """\
class Shape:
    def area(self):
        return 0

    def name(self):
        return "shape"


class Square(Shape):
    pass


class Round(Shape):
    def area(self):
        return 3

    def name(self):
        return "round"
"""

DOCUMENT = """\
from outside import Unknown
from shapes import Round, Square


class Both(Square, Round):
    def area(self):
        return super().area() + self.name()

    def size(self):
        return self.perimeter() + self.width


class Foreign(Unknown):
    def go(self):
        return self.area()
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "index.db") as store:
        report = analyze(SHAPES, "shapes.py")
        store.index.write_files([IndexedFile("shapes.py", FileState(len(SHAPES), 1, "s"), report)])
        yield store


def find(store: Store, line: int, word: str) -> Definition | object:
    report = analyze(DOCUMENT, "both.py")
    text = DOCUMENT.splitlines()[line - 1]
    reference = reference_at(report, text, line, text.index(word))
    assert reference is not None
    return DefinitionFinder(report, "both.py", store.index).find(reference, line)


def test_super_and_self_follow_pythons_method_resolution_order(store: Store) -> None:
    # Both -> Square -> Round -> Shape: C3 puts Round before Shape, though Square comes first
    found = find(store, 7, "area()")
    assert isinstance(found, Definition) and found.qualname == "Round.area"
    assert found.path == "shapes.py" and found.record is not None
    found = find(store, 7, "name()")
    assert isinstance(found, Definition) and found.qualname == "Round.name"


def test_an_attribute_no_class_of_a_known_hierarchy_defines_is_absent(store: Store) -> None:
    assert find(store, 10, "perimeter") is ABSENT
    assert find(store, 10, "width") is ABSENT


def test_a_base_outside_the_workspace_leaves_it_to_jedi(store: Store) -> None:
    assert find(store, 15, "area") is UNKNOWN


def test_names_and_classes_imported_from_the_index(store: Store) -> None:
    found = find(store, 5, "Round")
    assert isinstance(found, Definition) and (found.path, found.qualname) == ("shapes.py", "Round")


VARIABLES = """\
from shapes import Round, Square
import shapes


def measure(given: Round, named: "shapes.Square", *sizes, **options):
    made = Square()
    typed: Round = pick()
    given.area()
    named.name()
    made.area()
    typed.name()
    options.get("x")
    sizes.count(1)
    text = "%s" % made
    text.upper()
    made.width[0] = 1


def rebound(flag):
    shape = Square()
    if flag:
        shape = Round()
    shape.area()
    looped = Square()
    for looped in flag:
        pass
    looped.area()
    unpacked, other = flag
    unpacked.area()
    product = make_shape()
    product.area()


def make_shape():
    return Square()


def outer():
    kept = Round()

    def inner():
        return kept.area()

    return inner
"""


def find_in(store: Store, source: str, line: int, word: str) -> Definition | object:
    report = analyze(source, "variables.py")
    lines = source.splitlines()
    text = lines[line - 1]
    reference = reference_at(report, text, line, text.index(f".{word}") + 1)
    assert reference is not None and reference.name == word
    return DefinitionFinder(report, "variables.py", store.index, lines=lines).find(reference, line)


def find_reading(
    store: Store, source: str, path: str, line: int, column: int, others: Mapping[str, str]
) -> Definition | object:
    """What the reference at ``line``, ``column`` of ``source`` names; ``others``: other files."""
    report = analyze(source, path)
    lines = source.splitlines()
    reference = reference_at(report, lines[line - 1], line, column)
    assert reference is not None
    finder = DefinitionFinder(
        report, path, store.index, lines=lines, read=lambda name: _lines_of(others.get(name))
    )
    return finder.find(reference, line)


def _lines_of(text: str | None) -> list[str] | None:
    return None if text is None else text.splitlines()


def qualname_of(found: Definition | object) -> str:
    assert isinstance(found, Definition), found
    assert found.path == "shapes.py"
    return found.qualname


def test_a_variable_of_one_class_resolves_to_its_method(store: Store) -> None:
    assert qualname_of(find_in(store, VARIABLES, 8, "area")) == "Round.area"  # given: Round
    # named: "shapes.Square": Square defines no name(), its base Shape does
    assert qualname_of(find_in(store, VARIABLES, 9, "name")) == "Shape.name"
    assert qualname_of(find_in(store, VARIABLES, 10, "area")) == "Shape.area"  # made = Square()
    assert qualname_of(find_in(store, VARIABLES, 11, "name")) == "Round.name"  # typed: Round
    # a closure's variable: the outer function's binding
    assert qualname_of(find_in(store, VARIABLES, 42, "area")) == "Round.area"


def test_a_builtin_containers_method_has_nothing_to_show(store: Store) -> None:
    assert find_in(store, VARIABLES, 12, "get") is ABSENT  # **options
    assert find_in(store, VARIABLES, 13, "count") is ABSENT  # *sizes
    assert find_in(store, VARIABLES, 15, "upper") is ABSENT  # "%s" % ...


def test_a_variable_the_text_cannot_type_is_left_to_jedi(store: Store) -> None:
    # rebound to another class on some path: either may be there
    assert find_in(store, VARIABLES, 23, "area") is UNKNOWN
    assert find_in(store, VARIABLES, 27, "area") is UNKNOWN  # rebound by a loop
    assert find_in(store, VARIABLES, 29, "area") is UNKNOWN  # unpacked
    assert find_in(store, VARIABLES, 31, "area") is UNKNOWN  # a function's result


OBJECTS = """\
from shapes import Round, Square
import registry

round_one = Round()
twice = Square()
if round_one:
    twice = Round()


def use():
    round_one.area()
    twice.area()
    registry.default.name()
    registry.counted.name()
"""

REGISTRY = """\
from shapes import Square

default = Square()
counted = Square()
for counted in range(3):
    pass
"""


def test_a_module_level_object_resolves_from_its_one_binding(store: Store, tmp_path: Path) -> None:
    report = analyze(REGISTRY, "registry.py")
    store.index.write_files([IndexedFile("registry.py", FileState(len(REGISTRY), 1, "r"), report)])

    def find_object(line: int, word: str) -> Definition | object:
        column = OBJECTS.splitlines()[line - 1].index(f".{word}") + 1
        return find_reading(store, OBJECTS, "objects.py", line, column, {"registry.py": REGISTRY})

    assert qualname_of(find_object(11, "area")) == "Round.area"  # round_one = Round()
    assert qualname_of(find_object(13, "name")) == "Shape.name"  # registry.default
    # bound again in a block of the module, or by a loop: the index does not say
    assert find_object(12, "area") is UNKNOWN
    assert find_object(14, "name") is UNKNOWN


OWNERS = """\
from shapes import Round


class Owner:
    def __init__(self):
        self.shape = Round()
"""

ATTRIBUTES = """\
from owners import Owner
from shapes import Round, Square
import shapes


class Holder:
    kept: Round

    def __init__(self, flag):
        self.made = Square()
        self.typed: "shapes.Round" = pick()
        self.either = Square()
        if flag:
            self.either = Round()
        self.moved = Round()

    def use(self):
        self.made.area()
        self.typed.name()
        self.kept.area()
        self.either.area()
        self.moved.area()
        self.never.area()


class Sub(Holder):
    def go(self):
        self.made.name()


class Mine(Owner):
    def go(self):
        self.shape.area()


def swap(holder):
    holder.moved = Square()
"""


def index_source(store: Store, path: str, source: str) -> None:
    """Index ``source`` as the workspace file ``path``."""
    report = analyze(source, path)
    store.index.write_files([IndexedFile(path, FileState(len(source), 1, path), report)])


def find_attribute(store: Store, text: str) -> Definition | object:
    """What the call on the line of ``ATTRIBUTES`` that reads ``text`` names."""
    lines = ATTRIBUTES.splitlines()
    line = next(n for n, each in enumerate(lines, 1) if each.strip() == text)
    word = text.rpartition(".")[2].partition("(")[0]
    column = lines[line - 1].rindex(f".{word}") + 1
    return find_reading(store, ATTRIBUTES, "attributes.py", line, column, {"owners.py": OWNERS})


def test_an_attribute_of_one_class_resolves_through_the_hierarchy(store: Store) -> None:
    index_source(store, "owners.py", OWNERS)

    def find_attribute_of(text: str) -> Definition | object:
        return find_attribute(store, text)

    assert qualname_of(find_attribute_of("self.made.area()")) == "Shape.area"  # = Square()
    assert qualname_of(find_attribute_of("self.typed.name()")) == "Round.name"  # : "shapes.Round"
    assert qualname_of(find_attribute_of("self.kept.area()")) == "Round.area"  # kept: Round
    # bound in a base class of this module, and of another module
    assert qualname_of(find_attribute_of("self.made.name()")) == "Shape.name"
    assert qualname_of(find_attribute_of("self.shape.area()")) == "Round.area"
    # two classes, rebound outside the class, never bound: not the index's to say
    assert find_attribute_of("self.either.area()") is UNKNOWN
    assert find_attribute_of("self.moved.area()") is UNKNOWN
    assert find_attribute_of("self.never.area()") is UNKNOWN


@pytest.mark.parametrize(
    ("statement", "rebinds"),
    [
        ("owner.shape = Square()", True),
        ("owner.shape: Square = Square()", True),
        ("owner.shape += 1", True),
        ("owner.shape, other = pair", True),
        ("for owner.shape in pair: pass", True),
        ("with pair as owner.shape: pass", True),
        ("del owner.shape", True),
        ('setattr(owner, "shape", Square())', True),
        ("setattr(owner, computed, Square())", True),
        ('object.__setattr__(owner, "shape", Square())', True),
        ("owner.shape.area()", False),  # read, not bound
        ('setattr(owner, "other", Square())', False),
        ("owner.shaped = Square()", False),
    ],
)
def test_an_attribute_bound_in_another_file_is_left_to_jedi(
    store: Store, statement: str, rebinds: bool
) -> None:
    # Owner sets self.shape = Round(); another file of the workspace may set it to a Square
    index_source(store, "owners.py", OWNERS)
    index_source(
        store,
        "swaps.py",
        f"from shapes import Square\n\n\ndef swap(owner, pair):\n    {statement}\n",
    )
    found = find_attribute(store, "self.shape.area()")
    assert (found is UNKNOWN) if rebinds else qualname_of(found) == "Round.area", found


HOLDER = """\
from shapes import Round, Square


class Holder:
    def __init__(self):
        self.made = Square()

    def other(self, key, value):
        {statement}

    def use(self):
        self.made.area()
"""


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("self.made = Round()", UNKNOWN),  # two classes
        ("self.\uff4dade = Round()", UNKNOWN),  # the same name as the parser reads it (NFKC)
        ("setattr(self, key, value)", UNKNOWN),
        ('setattr(self, "made", value)', UNKNOWN),
        ("self.made_too = Round()", "Shape.area"),  # Square inherits it
        ("made = Round()", "Shape.area"),  # a local of the method's
    ],
    ids=[
        "another-class",
        "spelt-otherwise",
        "setattr-computed",
        "setattr-literal",
        "other",
        "local",
    ],
)
def test_every_method_of_a_class_is_read_for_an_attributes_bindings(
    store: Store, statement: str, expected: object
) -> None:
    # Only the methods that spell the name out (or call setattr) are walked: the others
    # cannot bind it, as long as the text spells names as the parser reads them.
    source = HOLDER.format(statement=statement)
    lines = source.splitlines()
    line = len(lines)
    found = find_reading(store, source, "holder.py", line, lines[-1].rindex("area"), {})
    if expected is UNKNOWN:
        assert found is UNKNOWN, found
    else:
        assert qualname_of(found) == expected


APPS = '''\
"""A registry, as django.apps.registry is one: its name is in its prose too."""


class Apps:
    """A registry of the installed apps, as apps = Apps(...) makes one."""

    def __init__(self, installed_apps=()):
        # Mapping of labels to configurations for installed apps.
        self.configs = {}

    def get_model(self, label):
        """Return the model, for apps as installed."""
        return self.configs[label]


apps = Apps(installed_apps=None)
'''


def test_a_module_level_object_named_in_comments_and_docstrings_resolves(
    store: Store, tmp_path: Path
) -> None:
    report = analyze(APPS, "registry.py")
    store.index.write_files([IndexedFile("registry.py", FileState(len(APPS), 1, "a"), report)])
    source = "from registry import apps\n\n\ndef get(label):\n    return apps.get_model(label)\n"
    column = source.splitlines()[4].index("get_model")
    found = find_reading(store, source, "fields.py", 5, column, {"registry.py": APPS})
    assert isinstance(found, Definition) and (found.path, found.qualname) == (
        "registry.py",
        "Apps.get_model",
    )
    # bound a second time in code, not prose: the index does not say
    twice = APPS + "if installed:\n    apps = Apps()\n"
    assert find_reading(store, source, "fields.py", 5, column, {"registry.py": twice}) is UNKNOWN


ROUND = "from shapes import Round\n\n\n"
CONFIG = "class Config:\n    def load(self):\n        pass\n\n\ndef load():\n    pass\n\n\n"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # a function's own bindings shadow the module's names, as Python's scoping does:
        # a value, no function or class to show
        (CONFIG + "def f(Config):\n    return Config()\n", ABSENT),
        (CONFIG + "def f(load):\n    return load()\n", ABSENT),
        (CONFIG + "def f():\n    Config = make()\n    return Config()\n", ABSENT),
        (CONFIG + "def f(xs):\n    for Config in xs:\n        Config()\n", ABSENT),
        (CONFIG + "def f(x):\n    with x as Config:\n        Config()\n", ABSENT),
        (
            CONFIG
            + "def f():\n    try:\n        pass\n    except E as Config:\n        Config()\n",
            ABSENT,
        ),
        (CONFIG + "def f(xs):\n    return [Config() for Config in xs]\n", ABSENT),
        (CONFIG + "items = [Config() for Config in xs]\n", ABSENT),
        (CONFIG + "def f():\n    return lambda Config: Config()\n", ABSENT),
        (CONFIG + "def outer(Config):\n    def inner():\n        return Config()\n", ABSENT),
        (CONFIG + "class A:\n    Config = make()\n    made = Config()\n", ABSENT),
        (
            CONFIG + "class A:\n    Config = make()\n\n    def f(self):\n        Config()\n",
            "Config",
        ),
        # a local of another function shadows nothing here
        (CONFIG + "def f(Config):\n    pass\n\n\ndef g():\n    return Config()\n", "Config"),
        (CONFIG + "class A:\n    def load(self):\n        pass\n\n\nload()\n", "load"),
        # an import in the function is that import's; the module's code keeps the module's
        (
            ROUND + "def f():\n    from shapes import Square as Round\n    return Round()\n",
            "shapes.py:Square",
        ),
        (
            ROUND + "def f():\n    from shapes import Square as Round\n\n\nRound()\n",
            "shapes.py:Round",
        ),
        # a module-level name bound again: which binding is in force is not the index's to say
        (CONFIG + "def f():\n    global Config\n    Config = 2\n    Config()\n", UNKNOWN),
        (CONFIG + "Config = object()\n\n\ndef f():\n    return Config()\n", UNKNOWN),
        (CONFIG + "del Config\n\n\ndef f():\n    return Config()\n", UNKNOWN),
        (CONFIG + "load = other\nload()\n", UNKNOWN),
        (CONFIG + "for Config in xs:\n    pass\nConfig()\n", UNKNOWN),
        (CONFIG + "if flag:\n    Config = None\nConfig()\n", UNKNOWN),
        (
            "try:\n    from shapes import Round\nexcept ImportError:\n"
            "    from shapes import Square as Round\nRound()\n",
            UNKNOWN,
        ),
        ("class Round:\n    pass\n\n\nfrom shapes import *\nRound()\n", UNKNOWN),
        ("from shapes import Square\nfrom shapes import Round as Square\nSquare()\n", UNKNOWN),
        (
            CONFIG + "if flag:\n    def pick():\n        pass\n"
            "else:\n    def pick():\n        pass\npick()\n",
            UNKNOWN,
        ),
        (
            "from typing import overload\n\n\n@overload\ndef pick(x: int) -> int: ...\n"
            "@overload\ndef pick(x: str) -> str: ...\ndef pick(x):\n    return x\npick(1)\n",
            "pick",
        ),
        # a method hidden by an assignment in the class or to its instances
        (
            "class A:\n    def save(self):\n        pass\n\n    save = other\n\n"
            "    def go(self):\n        self.save()\n",
            UNKNOWN,
        ),
        (
            "class A:\n    def __init__(self, f):\n        self.save = f\n\n"
            "    def save(self):\n        pass\n\n    def go(self):\n        self.save()\n",
            UNKNOWN,
        ),
        (
            "class A:\n    def save(self):\n        pass\n\n    def go(self):\n"
            "        self.run(\n            save=True,\n        )\n        self.save()\n",
            "A.save",
        ),
        (
            "class A:\n    def __init__(self, f):\n        setattr(self, 'save', f)\n\n"
            "    def save(self):\n        pass\n\n    def go(self):\n        self.save()\n",
            UNKNOWN,
        ),
        # __setstate__ restores data attributes by computed names: methods stay the defs
        (
            "class A:\n    def __setstate__(self, state):\n"
            "        for attr, value in state.items():\n            setattr(self, attr, value)\n\n"
            "    def save(self):\n        pass\n\n    def go(self):\n        self.save()\n",
            "A.save",
        ),
        # a star import above a definition is overridden by it; imports over lines are imports
        ("from shapes import *\n\n\nclass Round:\n    pass\n\n\nRound()\n", "Round"),
        ("from shapes import (\n    Round,\n    Square,\n)\n\nRound()\n", "shapes.py:Round"),
        ("import shapes as forms\n\nforms.Round()\n", "shapes.py:Round"),
        (CONFIG + "if flag:\n    class Late:\n        pass\nLate()\n", "Late"),
    ],
    ids=[
        "parameter",
        "parameter-named-like-a-function",
        "assignment",
        "for-target",
        "with-as",
        "except-as",
        "comprehension",
        "module-level-comprehension",
        "lambda",
        "enclosing-function",
        "class-body",
        "class-body-unseen-by-methods",
        "another-functions-parameter",
        "method-named-like-a-function",
        "import-in-the-function",
        "module-code-past-a-functions-import",
        "global",
        "assigned-below",
        "deleted",
        "function-assigned-over",
        "module-level-loop",
        "conditional-assignment",
        "alternative-imports",
        "star-import-below",
        "imported-twice",
        "defined-on-two-paths",
        "overloads",
        "method-assigned-over-in-its-class",
        "method-hidden-by-an-instance-attribute",
        "keyword-argument-named-like-a-method",
        "method-hidden-by-a-literal-setattr",
        "method-beside-a-setstate",
        "star-import-above",
        "import-over-lines",
        "import-as",
        "conditional-class",
    ],
)
def test_a_name_is_what_pythons_scoping_makes_it_where_it_is_used(
    store: Store, source: str, expected: object
) -> None:
    # the name called first on the last line
    lines = source.splitlines()
    called = re.search(r"(\w+)\(", lines[-1])
    assert called is not None
    found = find_reading(store, source, "scopes.py", len(lines), called.start(1), {})
    if expected is UNKNOWN or expected is ABSENT:
        assert found is expected, found
    else:
        assert isinstance(found, Definition), found
        path, _, qualname = str(expected).rpartition(":")
        assert (found.path, found.qualname) == (path or "scopes.py", qualname)


def test_a_library_module_with_a_c_accelerator_still_names_its_python_definition(
    store: Store,
) -> None:
    # datetime.py ends with "from _datetime import *": the same API, its source the Python one
    library = (
        "class delta:\n    pass\n\n\n"
        "try:\n    from _fastlib import *\nexcept ImportError:\n    pass\n"
    )
    reports = {"fastlib": (Path("/lib/fastlib.py"), analyze(library, "fastlib.py"))}
    source = "import fastlib\n\nfastlib.delta(1)\n"
    lines = source.splitlines()
    reference = reference_at(analyze(source, "uses.py"), lines[2], 3, lines[2].index("delta"))
    assert reference is not None
    finder = DefinitionFinder(
        analyze(source, "uses.py"), "uses.py", store.index, reports.get, lines=lines
    )
    found = finder.find(reference, 3)
    assert isinstance(found, Definition) and (found.qualname, found.external) == ("delta", True)


OVERLOADED = """\
import typing


class Codec:
    @typing.overload
    def decode(self, data: bytes) -> str: ...
    @typing.overload
    def decode(self, data: str) -> str: ...
    def decode(self, data):
        if isinstance(data, bytes):
            return data.decode()
        return data

    def again(self, data):
        return self.decode(data)
"""


def test_an_overloaded_function_resolves_to_its_implementation(
    store: Store, tmp_path: Path
) -> None:
    # In the document itself...
    found = find_reading(store, OVERLOADED, "codec.py", 15, 20, {})
    assert isinstance(found, Definition) and found.symbol is not None
    assert (found.qualname, found.symbol.span.line, found.overloads) == ("Codec.decode", 9, 2)
    # ...and in another module, through the index.
    report = analyze(OVERLOADED, "codec.py")
    store.index.write_files([IndexedFile("codec.py", FileState(1, 1, "c"), report)])
    user = "from codec import Codec\n\n\ndef use(codec: Codec):\n    return codec.decode(b'')\n"
    found = find_reading(store, user, "use.py", 5, 17, {"codec.py": OVERLOADED})
    assert isinstance(found, Definition) and found.record is not None
    assert (found.qualname, found.record.line, found.overloads) == ("Codec.decode", 9, 2)
    assert found.record.complexity == 2
