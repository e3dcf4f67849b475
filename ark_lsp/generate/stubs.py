"""Functions, methods, classes and modules rendered from their templates into a file.

A spec says what to generate; :func:`place_function`, :func:`place_class`
and :func:`new_module` render it in the file's style, put it where it
belongs, and validate the file that results.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from typing import Literal

from ark_lsp.config import Settings
from ark_lsp.generate import placement
from ark_lsp.generate.results import FileChange, Generation
from ark_lsp.generate.style import Style, detect_style
from ark_lsp.generate.templating import Templates
from ark_lsp.generate.validation import validate
from ark_lsp.models import Parameter, ParameterKind, Signature

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


Where = Literal["after", "before", "end"]


def describe(name: str) -> str:
    """A first docstring line made from a name: ``compute_total`` -> ``Compute total.``."""
    words = [w for w in _WORD_BOUNDARY.split(name.strip("_")) if w]
    if not words:
        return "TODO: describe it."
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[0].upper() + text[1:] + "."


def without_annotations(signature: Signature) -> Signature:
    """The same parameters without type hints, for files that do not use them."""
    return Signature(
        parameters=tuple(Parameter(p.name, p.kind, None, p.default) for p in signature.parameters),
        returns=None,
    )


def signature_from_text(parameters: str, returns: str | None = None) -> Signature:
    """Parse parameters written as in a ``def`` (``"text: str, width: int = 70, *, sep"``).

    Raises :class:`ValueError` with the parser's words when they are not valid.
    """
    try:
        tree = ast.parse(f"def _({parameters}) -> {returns or 'None'}: pass")
    except SyntaxError as error:
        raise ValueError(f"invalid parameters {parameters!r}: {error.msg}") from None
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    return signature_of(function.args, function.returns if returns else None)


def signature_of(args: ast.arguments, returns: ast.expr | None) -> Signature:
    """A :class:`Signature` from a parsed ``def``'s arguments."""

    def parameter(arg: ast.arg, kind: ParameterKind, default: ast.expr | None) -> Parameter:
        return Parameter(
            arg.arg,
            kind,
            ast.unparse(arg.annotation) if arg.annotation is not None else None,
            ast.unparse(default) if default is not None else None,
        )

    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += args.defaults
    parameters = [
        parameter(
            arg,
            ParameterKind.POSITIONAL_ONLY
            if index < len(args.posonlyargs)
            else ParameterKind.POSITIONAL_OR_KEYWORD,
            defaults[index],
        )
        for index, arg in enumerate(positional)
    ]
    if args.vararg is not None:
        parameters.append(parameter(args.vararg, ParameterKind.VAR_POSITIONAL, None))
    parameters += [
        parameter(arg, ParameterKind.KEYWORD_ONLY, default)
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    ]
    if args.kwarg is not None:
        parameters.append(parameter(args.kwarg, ParameterKind.VAR_KEYWORD, None))
    return Signature(tuple(parameters), ast.unparse(returns) if returns is not None else None)


def _styled(signature: Signature, style: Style, *, annotated_by_user: bool) -> Signature:
    if not (style.typed or annotated_by_user):
        signature = without_annotations(signature)
    return Signature(
        tuple(
            Parameter(p.name, p.kind, p.annotation, style.literal(p.default) if p.default else None)
            for p in signature.parameters
        ),
        signature.returns,
    )


def place_function(
    spec: FunctionSpec,
    path: str,
    text: str,
    settings: Settings,
    templates: Templates,
    *,
    where: Where = "end",
    line: int = 0,
    class_name: str | None = None,
    notes: tuple[str, ...] = (),
) -> Generation:
    """Render a function into ``text`` (``path``'s content) and validate the result.

    ``where`` is ``after`` or ``before`` line ``line`` (a top-level
    statement's last or first line) or the ``end`` of the file. With
    ``class_name`` the function becomes a method at the end of that
    top-level class (``self`` is the caller's to include).
    """
    style = detect_style(text)
    styled = replace(
        spec, signature=_styled(spec.signature, style, annotated_by_user=spec.annotated_by_user)
    )
    rendered = templates.render("function.py.j2", {"function": styled.context()}, style)
    kind = "function"
    target = spec.name
    if class_name is not None:
        node = find_class(text, class_name)
        if node is None:
            raise ValueError(f"{path} has no class {class_name}")
        indent = placement.body_indent(text, node)
        block = placement.indent_block(rendered.text, indent)
        inserted = placement.insert_after(
            text,
            node.end_lineno or node.lineno,
            block,
            1,
            style.newline,
            blank_lines_after=2 if node.col_offset == 0 else 1,
        )
        kind, target = "method", f"{class_name}.{spec.name}"
    else:
        block = rendered.text
        if where == "after":
            inserted = placement.insert_after(text, line, block, 2, style.newline)
        elif where == "before":
            inserted = placement.insert_before(text, line, block, 2, style.newline)
        else:
            inserted = placement.append(text, block, 2, style.newline)
    change = FileChange(path, text, inserted.new_text, (inserted.edit,))
    return Generation(
        kind=kind,
        target=target,
        template=rendered.label,
        text=block,
        change=change,
        validation=validate(inserted.new_text, path, settings, text),
        line=inserted.line,
        notes=notes,
    )


def place_class(
    spec: ClassSpec,
    path: str,
    text: str,
    settings: Settings,
    templates: Templates,
    *,
    where: Where = "end",
    line: int = 0,
    notes: tuple[str, ...] = (),
) -> Generation:
    """Render a class into ``text`` (at the ``end``, or ``after``/``before`` line ``line``)."""
    style = detect_style(text)
    signature = _styled(spec.signature, style, annotated_by_user=spec.annotated_by_user)
    styled = replace(spec, signature=signature)
    rendered = templates.render("class.py.j2", {"cls": styled.context()}, style)
    if where == "after":
        inserted = placement.insert_after(text, line, rendered.text, 2, style.newline)
    elif where == "before":
        inserted = placement.insert_before(text, line, rendered.text, 2, style.newline)
    else:
        inserted = placement.append(text, rendered.text, 2, style.newline)
    return Generation(
        kind="class",
        target=spec.name,
        template=rendered.label,
        text=rendered.text,
        change=FileChange(path, text, inserted.new_text, (inserted.edit,)),
        validation=validate(inserted.new_text, path, settings, text),
        line=inserted.line,
        notes=notes,
    )


def new_module(
    spec: ModuleSpec, path: str, settings: Settings, templates: Templates, style: Style
) -> Generation:
    """Render a new module file (``style`` from its neighbours) and validate it."""
    stubs = []
    for function in spec.functions:
        signature = _styled(function.signature, style, annotated_by_user=function.annotated_by_user)
        styled = replace(function, signature=signature)
        stubs.append(templates.render("function.py.j2", {"function": styled.context()}, style).text)
    context = {
        "module": {
            "name": spec.name,
            "summary": spec.summary
            or f"{describe(spec.name.rsplit('.', 1)[-1]).removesuffix('.')}.",
            "exports": [f.name for f in spec.functions if not f.name.startswith("_")],
            "stubs": [stub.rstrip("\n") for stub in stubs],
        }
    }
    rendered = templates.render("module.py.j2", context, style)
    return Generation(
        kind="module",
        target=spec.name,
        template=rendered.label,
        text=rendered.text,
        change=FileChange.new_file(path, rendered.text),
        validation=validate(rendered.text, path, settings),
    )


def find_class(text: str, name: str) -> ast.ClassDef | None:
    """The class ``name`` (dotted for a nested class) defined in ``text``."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    body: list[ast.stmt] = tree.body
    found: ast.ClassDef | None = None
    for part in name.split("."):
        found = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == part), None)
        if found is None:
            return None
        body = found.body
    return found


__all__ = [
    "ClassSpec",
    "FunctionSpec",
    "ModuleSpec",
    "describe",
    "find_class",
    "new_module",
    "place_class",
    "place_function",
    "signature_from_text",
    "signature_of",
    "without_annotations",
]
