"""Names of the target's module that a test may pass as arguments: its constants and enum members.

Some parameters take nothing a literal can be: packaging's
``Tokenizer(source, rules=...)`` wants its table of compiled patterns, rich's
``Color(name, type: ColorType, ...)`` a member of its enum. Given ``{}`` or
``1``, every call raises and the tests say nothing. The module names what
they want: ``DEFAULT_RULES``, ``ColorType.STANDARD``. A parameter gets

- the members of an enum of the module its annotation names, and
- the module's constants (``UPPER_CASE`` names bound once at its top level)
  whose name is the parameter's, or ends with it (``DEFAULT_RULES`` for
  ``rules``), and
- an instance of a class of the module its annotation names, when the class
  can be made with no argument (``text: Text`` gets ``Text()``): rich's
  ``Text.append_text(text)`` is nothing but errors given a string.

They are read from the module's text; the driver resolves them in the
sandbox from the imported module, and a test imports them from it.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from ark_lsp.generate.characterize.targets import (
    classes_of,
    constructor,
    is_abstract,
    parsed_module,
)
from ark_lsp.generate.naming import last_name
from ark_lsp.models import ParameterKind

ENUM_BASES = frozenset({"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "ReprEnum"})
MAX_MEMBERS = 4
"""Members of one enum tried for a parameter: enough to reach each branch most code has."""
MAX_ALIAS_DEPTH = 4
"""Aliases spelt out within one another: ``Headers = List[Header]``, ``Header = Tuple[...]``."""
MIN_MATCHED_NAME = 3
"""A parameter named ``n`` or ``s`` says too little to pick a constant by."""


@dataclass(frozen=True)
class ModuleValues:
    """The constants and enum members of one module, by the names a test writes."""

    constants: tuple[str, ...] = ()
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per enum class, its first members as a test writes them: ``ColorType.STANDARD``."""
    classes: tuple[str, ...] = ()
    """The module's classes an instance of which is made with no argument: ``Text()``."""
    aliases: Mapping[str, str] = field(default_factory=dict)
    """The module's type aliases, by name: ``Key = Tuple[str, ...]``."""

    @property
    def names(self) -> frozenset[str]:
        """The names the values use: the driver resolves no other name of the module."""
        members = {m for members in self.enums.values() for m in members}
        return frozenset(self.constants) | members | frozenset(self.classes)

    @property
    def values(self) -> frozenset[str]:
        """Every value of the module a test may write (a call site's too)."""
        members = {m for members in self.enums.values() for m in members}
        return frozenset(self.constants) | members | {f"{c}()" for c in self.classes}

    def without(self, names: Collection[str]) -> ModuleValues:
        """These values less those whose name a test file binds to something else."""
        return ModuleValues(
            tuple(c for c in self.constants if c not in names),
            {enum: members for enum, members in self.enums.items() if enum not in names},
            tuple(c for c in self.classes if c not in names),
            self.aliases,
        )

    def expand(self, annotation: str) -> str:
        """An annotation with the module's type aliases in it spelt out.

        tomli's ``key: Key`` is a ``Tuple[str, ...]``, h11's ``write: Writer`` a
        ``Callable[[bytes], Any]``: named by their alias, they were given ``"abc"``
        and ``1``.
        """
        if not self.aliases:
            return annotation
        try:
            tree = ast.parse(annotation, mode="eval")
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return annotation
        for _ in range(MAX_ALIAS_DEPTH):  # an alias may name another
            before = ast.dump(tree)
            tree = _SpeltOut(self.aliases).visit(tree)
            if ast.dump(tree) == before:
                break
        return ast.unparse(tree)

    def instances_of(self, annotation_types: Iterable[str]) -> list[str]:
        """A new instance of each of the module's classes among an annotation's types."""
        wanted = {kind.rsplit(".", 1)[-1] for kind in annotation_types}
        return [f"{c}()" for c in self.classes if c in wanted]

    def members_of(self, annotation_types: Iterable[str]) -> list[str]:
        """The members of the module's enums among an annotation's types."""
        return [
            member
            for kind in annotation_types
            for member in self.enums.get(kind.rsplit(".", 1)[-1], ())
        ]

    def constants_for(self, parameter: str) -> list[str]:
        """The constants named as ``parameter`` is, or ending with its name."""
        wanted = parameter.strip("_").lower()
        if len(wanted) < MIN_MATCHED_NAME:
            return []
        return [
            constant
            for constant in self.constants
            if constant.lower() == wanted or constant.lower().endswith(f"_{wanted}")
        ]


class _SpeltOut(ast.NodeTransformer):
    """Replaces each name of a type alias with what it stands for."""

    def __init__(self, aliases: Mapping[str, str]) -> None:
        self.aliases = aliases

    def visit_Name(self, node: ast.Name) -> ast.expr:
        meaning = self.aliases.get(node.id)
        return ast.parse(meaning, mode="eval").body if meaning is not None else node


_TYPE_HEADS = frozenset(
    {
        "Tuple", "List", "Dict", "Set", "FrozenSet", "Callable", "Optional", "Union", "Literal",
        "Sequence", "Mapping", "MutableMapping", "Iterable", "Iterator", "Collection", "Type",
        "tuple", "list", "dict", "set", "frozenset", "type",
    }
)  # fmt: skip
"""What a type alias's value is a subscript of: ``Tuple[str, ...]``, ``Callable[..., Any]``."""


def _type_aliases(tree: ast.Module) -> dict[str, str]:
    """The names the module binds once to a type: ``Key = Tuple[str, ...]``, ``X: TypeAlias``."""
    found: dict[str, str] = {}
    bound = Counter(name for statement in tree.body for name in _assigned_names(statement))
    for statement in tree.body:
        value: ast.expr | None = None
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
            if not _is_type(value):
                continue
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
            if last_name(statement.annotation) != "TypeAlias":
                continue
        else:
            continue
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            meaning = value.value  # a forward reference: ``X: TypeAlias = "tuple[int, int]"``
        else:
            meaning = ast.unparse(value)
        if isinstance(target, ast.Name) and bound[target.id] == 1 and _parses(meaning):
            found[target.id] = meaning
    return found


def _parses(annotation: str) -> bool:
    try:
        ast.parse(annotation, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def _is_type(value: ast.expr) -> bool:
    if isinstance(value, ast.Subscript):
        return last_name(value.value) in _TYPE_HEADS
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitOr):
        return _is_type(value.left) or _is_type(value.right)
    return False


def _is_constant_name(name: str) -> bool:
    return name.isupper() and not name.startswith("_") and name.isidentifier()


def _assigned_names(statement: ast.stmt) -> list[str]:
    if isinstance(statement, ast.Assign):
        return [t.id for t in statement.targets if isinstance(t, ast.Name)]
    if isinstance(statement, ast.AnnAssign) and statement.value is not None:
        return [statement.target.id] if isinstance(statement.target, ast.Name) else []
    return []


def _enum_members(node: ast.ClassDef) -> tuple[str, ...]:
    members = [
        name
        for statement in node.body
        for name in _assigned_names(statement)
        if not name.startswith("_")
    ]
    return tuple(f"{node.name}.{member}" for member in members[:MAX_MEMBERS])


_NOT_MADE_BARE = frozenset({"ABC", "Protocol", "TypedDict", "Generic"})
"""Bases of classes that cannot be made."""
_OPTIONAL = frozenset({ParameterKind.VAR_POSITIONAL, ParameterKind.VAR_KEYWORD})


def _made_bare(node: ast.ClassDef, classes: Mapping[str, ast.ClassDef]) -> bool:
    """Whether ``node()`` makes an instance, as far as the module's text tells.

    Its constructor as the tests make instances (its ``__init__``, ``__new__``,
    fields, or a base's of the module) takes no required argument.
    """
    bases = {last_name(base) for base in node.bases} - {"object"}
    if bases & _NOT_MADE_BARE or node.keywords or is_abstract(node):
        return False
    made_by = constructor(node, classes)
    if made_by is None:
        return bases <= set(classes)  # another module's base: its __init__ is not read here
    return all(p.default is not None or p.kind in _OPTIONAL for p in made_by.parameters)


def module_values(source: str | ast.Module) -> ModuleValues:
    """The constants, enum members and bare-made classes a module (its text, or tree) defines.

    None when it does not parse.
    """
    tree = parsed_module(source)
    if tree is None:
        return ModuleValues()
    bound = Counter(
        name
        for statement in tree.body
        for name in _assigned_names(statement)
        if _is_constant_name(name)
    )
    enum_classes = set(ENUM_BASES)
    enums: dict[str, tuple[str, ...]] = {}
    for statement in tree.body:
        if not isinstance(statement, ast.ClassDef):
            continue
        bases = {ast.unparse(base).rsplit(".", 1)[-1] for base in statement.bases}
        if not bases & enum_classes:
            continue
        enum_classes.add(statement.name)  # a base of the module's other enums
        members = _enum_members(statement)
        if members and not statement.name.startswith("_"):
            enums[statement.name] = members
    # A name bound twice (a fallback, a platform's value) is not one value a test can name.
    constants = tuple(name for name, count in bound.items() if count == 1)
    defined = classes_of(tree)
    classes = tuple(
        name
        for name, statement in defined.items()
        if not name.startswith("_") and name not in enum_classes and _made_bare(statement, defined)
    )
    return ModuleValues(constants, enums, classes, _type_aliases(tree))


__all__ = ["ModuleValues", "module_values"]
