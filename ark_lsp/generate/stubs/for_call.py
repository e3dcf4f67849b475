"""The stub a call of an undefined name needs, as the editor's quick fix asks for it.

:func:`function_for_call` reads the call at a position
(:mod:`~ark_lsp.generate.stubs.calls`) and places a function, a method (in
whichever file defines its class) or, for a capitalised name, a class.
"""

from __future__ import annotations

from pathlib import Path

from ark_lsp.config import Settings
from ark_lsp.generate.file_text import ReadText, read_disk, relative_to
from ark_lsp.generate.results import Generation
from ark_lsp.generate.stubs.calls import undefined_call_at
from ark_lsp.generate.stubs.rendering import place_class, place_function
from ark_lsp.generate.stubs.specs import ClassSpec
from ark_lsp.generate.style import detect_style
from ark_lsp.generate.templating import Templates
from ark_lsp.models import Signature


def function_for_call(
    text: str,
    path: Path,
    line: int,
    column: int,
    *,
    root: Path,
    settings: Settings,
    templates: Templates,
    read_text: ReadText = read_disk,
) -> Generation | None:
    """The stub an undefined call at a position of ``path`` (holding ``text``) needs.

    None when there is no call of an undefined name there. A capitalised
    name gets a class whose ``__init__`` takes the call's arguments. A
    method of a class defined in another file is generated into that file,
    read with ``read_text``.
    """
    style = detect_style(text)
    call = undefined_call_at(text, line, column, path=path, root=root, typed=style.typed)
    if call is None:
        return None
    relative = relative_to(root, path)
    if call.class_name is None and call.name[:1].isupper() and not call.spec.is_async:
        # ``Point(1, 2)``: by PEP 8's naming, a class is being made.
        spec = ClassSpec(call.name, signature=Signature(call.spec.signature.parameters), summary="")
        return place_class(
            spec,
            relative,
            text,
            settings,
            templates,
            where=call.where,
            line=call.line,
            notes=call.notes,
        )
    if call.class_name is None:
        return place_function(
            call.spec,
            relative,
            text,
            settings,
            templates,
            where=call.where,
            line=call.line,
            notes=call.notes,
        )
    target_file = call.class_file or path
    target_text = text if call.class_file is None else read_text(call.class_file)
    if target_text is None:
        return None
    return place_function(
        call.spec,
        relative_to(root, target_file),
        target_text,
        settings,
        templates,
        class_name=call.class_name,
        notes=call.notes,
    )


__all__ = ["function_for_call"]
