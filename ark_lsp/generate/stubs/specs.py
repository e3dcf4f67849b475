"""What a stub is to be: a function, a method, a class or a module, and its docstring's words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ark_lsp.models import ParameterKind, Signature

WRAP_AT = 88
"""A ``def`` line longer than this gets one parameter per line, as black would write it."""

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|_+")


@dataclass(frozen=True)
class FunctionSpec:
    """A function or method to generate."""

    name: str
    signature: Signature = field(default_factory=Signature)
    summary: str = ""
    """The docstring's first line; made from the name when empty."""
    details: tuple[str, ...] = ()
    """Further docstring lines."""
    is_async: bool = False
    decorators: tuple[str, ...] = ()
    annotated_by_user: bool = False
    """The user wrote the annotations (``--params``): kept even in a file without hints."""

    def context(self) -> dict[str, object]:
        """What the function template sees as ``function``."""
        parts = self.signature.parts()
        one_line = f"def {self.name}({', '.join(parts)}) -> {self.signature.returns}:"
        return {
            "name": self.name,
            "parameters": parts,
            "wrap": len(one_line) > WRAP_AT and bool(parts),
            "returns": self.signature.returns,
            "summary": self.summary or describe(self.name),
            "details": list(self.details),
            "is_async": self.is_async,
            "decorators": list(self.decorators),
        }


@dataclass(frozen=True)
class ClassSpec:
    """A class to generate; its parameters become ``__init__``'s and its fields."""

    name: str
    bases: tuple[str, ...] = ()
    signature: Signature = field(default_factory=Signature)
    summary: str = ""
    annotated_by_user: bool = False
    """The user wrote the annotations (``--params``): kept even in a file without hints."""

    def context(self) -> dict[str, object]:
        """What the class template sees as ``cls``."""
        return {
            "name": self.name,
            "bases": list(self.bases),
            "parameters": self.signature.parts(),
            "fields": [
                p.name
                for p in self.signature.parameters
                if p.kind not in (ParameterKind.VAR_POSITIONAL, ParameterKind.VAR_KEYWORD)
            ],
            "summary": self.summary or f"{describe(self.name).removesuffix('.')}.",
        }


@dataclass(frozen=True)
class ModuleSpec:
    """A module to generate, with stubs of the functions it should define."""

    name: str
    summary: str = ""
    functions: tuple[FunctionSpec, ...] = field(default=())


def describe(name: str) -> str:
    """A first docstring line made from a name: ``compute_total`` -> ``Compute total.``."""
    words = [w for w in _WORD_BOUNDARY.split(name.strip("_")) if w]
    if not words:
        return "TODO: describe it."
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[0].upper() + text[1:] + "."


__all__ = ["WRAP_AT", "ClassSpec", "FunctionSpec", "ModuleSpec", "describe"]
