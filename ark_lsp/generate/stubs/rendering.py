"""Functions, methods, classes and modules rendered from their templates into a file.

A spec (:mod:`~ark_lsp.generate.stubs.specs`) says what to generate;
:func:`place_function`, :func:`place_class` and :func:`new_module` render it
in the file's style, put it where it belongs, and validate the file that
results.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import Literal

from ark_lsp.config import Settings
from ark_lsp.generate import placement
from ark_lsp.generate.results import FileChange, Generation
from ark_lsp.generate.stubs.specs import ClassSpec, FunctionSpec, ModuleSpec, describe
from ark_lsp.generate.style import Style, detect_style
from ark_lsp.generate.templating import Templates
from ark_lsp.generate.validation import validate
from ark_lsp.models import Parameter, Signature

Where = Literal["after", "before", "end"]


def without_annotations(signature: Signature) -> Signature:
    """The same parameters without type hints, for files that do not use them."""
    return Signature(
        parameters=tuple(Parameter(p.name, p.kind, None, p.default) for p in signature.parameters),
        returns=None,
    )


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
    "Where",
    "find_class",
    "new_module",
    "place_class",
    "place_function",
    "without_annotations",
]
