"""The constants and enum members of a module that generated tests may pass as arguments."""

from __future__ import annotations

from ark_lsp.generate.characterize.module_values import module_values
from ark_lsp.generate.characterize.pools import candidates
from ark_lsp.generate.characterize.samples import Column
from ark_lsp.models import ParameterKind

MODULE = """\
import enum
import sys

DEFAULT_RULES = {"WORD": "[a-z]+"}
RULES: dict[str, str] = {}
_PRIVATE_RULES = {}
if sys.platform == "win32":
    SEPARATOR = "\\\\"
ENCODING = "utf-8"
ENCODING = "latin-1"


class Base(str, enum.Enum):
    pass


class ColorType(Base):
    DEFAULT = "default"
    STANDARD = "standard"
    _ignore_ = ["x"]

    def describe(self) -> str:
        return self.value


class _Hidden(enum.IntFlag):
    A = 1


class Plain:
    LIMIT = 3
"""


def column(name: str) -> Column:
    return Column(name, ParameterKind.POSITIONAL_OR_KEYWORD)


def test_a_modules_constants_and_enum_members_are_read_from_its_text() -> None:
    values = module_values(MODULE)

    # Bound once at the top level, public; a name bound twice is no one value.
    assert values.constants == ("DEFAULT_RULES", "RULES")
    # An enum through a base of the module's own; members, not methods or _sunder_ names.
    assert values.enums == {"ColorType": ("ColorType.DEFAULT", "ColorType.STANDARD")}
    assert module_values("def broken(:\n") == module_values("")


def test_a_parameter_gets_the_constants_its_name_asks_for_and_its_enums_members() -> None:
    values = module_values(MODULE)

    assert candidates(column("rules"), None, values)[:2] == ["DEFAULT_RULES", "RULES"]
    assert candidates(column("kind"), "ColorType", values) == [
        "ColorType.DEFAULT",
        "ColorType.STANDARD",
    ]
    assert candidates(column("kind"), "ColorType | None", values)[-1] == "None"
    # Two letters say too little: "rs" is not taken for RULES.
    assert "RULES" not in candidates(column("rs"), None, values)
    assert "DEFAULT_RULES" not in candidates(column("rules"), None)


CLASSES = """\
import abc
import dataclasses
from typing import NamedTuple


class Options:
    def __init__(self, upper=False, *, width=80):
        self.upper = upper


class Settings:
    pass


@dataclasses.dataclass
class Point:
    x: int = 0
    y: int = 0


@dataclasses.dataclass
class Named:
    name: str


class Needs:
    def __init__(self, value):
        self.value = value


class Shape(abc.ABC):
    @abc.abstractmethod
    def area(self) -> float: ...


class Pair(NamedTuple):
    left: int


class Derived(Needs):
    pass


class _Private:
    pass
"""


def test_classes_made_with_no_argument_are_read_and_asked_for_by_annotation() -> None:
    values = module_values(CLASSES)

    # Required arguments (an __init__'s, a dataclass field's, a base's unread __init__),
    # abstract classes and private ones are left out.
    assert values.classes == ("Options", "Settings", "Point")
    assert {"Options", "Options()"} <= values.names | values.values
    assert candidates(column("options"), "Options", values) == ["Options()"]
    assert candidates(column("where"), "Point | None", values) == ["Point()", "None"]
    assert "Needs()" not in candidates(column("needs"), "Needs", values)
    assert values.without({"Options"}).classes == ("Settings", "Point")


ALIASES = """\
from typing import Any, Callable, Tuple, TypeAlias

Key = Tuple[str, ...]
Writer = Callable[[bytes], Any]
Header: TypeAlias = "tuple[bytes, bytes]"
Headers = list[Header] | None
Key2 = Key
"""


def test_a_parameter_annotated_with_a_type_alias_gets_values_of_the_type() -> None:
    # tomli's key: Key (Tuple[str, ...]) was given "abc" and 1; h11's write: Writer 1.
    values = module_values(ALIASES)

    def first(annotation: str) -> str:
        return candidates(Column("x", ParameterKind.POSITIONAL_OR_KEYWORD), annotation, values)[0]

    assert first("Key").startswith("('abc', '', 'Hello, World!'")
    assert first("Writer") == "str"
    assert first("Headers").startswith("[(b'abc', b'abc'), ")
    assert "Key2" not in values.aliases  # a name, not a subscript: no type to go by
    assert values.expand("Optional[Key]") == "Optional[Tuple[str, ...]]"
