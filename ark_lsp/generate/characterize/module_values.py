"""Names of the target's module that a test may pass as arguments: its constants and enum members.

Some parameters take nothing a literal can be: packaging's
``Tokenizer(source, rules=...)`` wants its table of compiled patterns, rich's
``Color(name, type: ColorType, ...)`` a member of its enum. Given ``{}`` or
``1``, every call raises and the tests say nothing. The module names what
they want: ``DEFAULT_RULES``, ``ColorType.STANDARD``. A parameter gets

- the members of an enum of the module its annotation names, and
- the module's constants (``UPPER_CASE`` names bound once at its top level)
  whose name is the parameter's, or ends with it (``DEFAULT_RULES`` for
  ``rules``).

They are read from the module's text; the driver resolves them in the
sandbox from the imported module, and a test imports them from it.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from ark_lsp.generate.characterize.targets import parsed_module

ENUM_BASES = frozenset({"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "ReprEnum"})
MAX_MEMBERS = 4
"""Members of one enum tried for a parameter: enough to reach each branch most code has."""
MIN_MATCHED_NAME = 3
"""A parameter named ``n`` or ``s`` says too little to pick a constant by."""


@dataclass(frozen=True)
class ModuleValues:
    """The constants and enum members of one module, by the names a test writes."""

    constants: tuple[str, ...] = ()
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per enum class, its first members as a test writes them: ``ColorType.STANDARD``."""

    @property
    def names(self) -> frozenset[str]:
        """Every value a test may write: the driver resolves no other name of the module."""
        return frozenset(self.constants) | {m for members in self.enums.values() for m in members}

    def without(self, names: Collection[str]) -> ModuleValues:
        """These values less those whose name a test file binds to something else."""
        return ModuleValues(
            tuple(c for c in self.constants if c not in names),
            {enum: members for enum, members in self.enums.items() if enum not in names},
        )

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


def module_values(source: str | ast.Module) -> ModuleValues:
    """The constants and enum members a module (its text, or its tree) defines.

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
    return ModuleValues(constants, enums)


__all__ = ["ModuleValues", "module_values"]
