"""Generating stubs, as both front ends ask for them.

The language server asks for the function a call at a position needs; the
command line asks for a named function, class or module, optionally with
its parameters spelt out. Both get a :class:`Generation` back, validated
and ready to record with :func:`record`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path

from ark_lsp.analysis import module_name
from ark_lsp.config import Settings
from ark_lsp.generate.calls import calls_of, undefined_call_at
from ark_lsp.generate.results import Generation
from ark_lsp.generate.stubs import (
    ClassSpec,
    FunctionSpec,
    ModuleSpec,
    new_module,
    place_class,
    place_function,
)
from ark_lsp.generate.style import PEP8, Style, detect_style
from ark_lsp.generate.templating import Templates
from ark_lsp.models import Parameter, ParameterKind, Signature
from ark_lsp.store import Store

ReadText = Callable[[Path], str | None]
"""The current text of a file: the editor's buffer when it is open, else the disk's."""


def read_disk(path: Path) -> str | None:
    """A file's text from disk; None when it is missing or unreadable."""
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def relative_to(root: Path, path: Path) -> str:
    """A path inside the workspace as the index names it."""
    return path.resolve().relative_to(root.resolve()).as_posix()


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


def named_function(
    spec: FunctionSpec,
    path: Path,
    *,
    root: Path,
    settings: Settings,
    templates: Templates,
    use_calls: bool = True,
) -> Generation:
    """A function (``Class.method`` for a method) added to ``path``, created if missing.

    With ``use_calls`` and no parameters in ``spec``, a call of the name in
    the file gives the stub its parameters and place, as the editor's code
    action would.
    """
    text = read_disk(path) or ""
    relative = relative_to(root, path)
    class_name, _, method = spec.name.rpartition(".")
    if class_name:
        spec = dataclasses.replace(spec, name=method)
        if not spec.signature.parameters or spec.signature.parameters[0].name not in (
            "self",
            "cls",
        ):
            first = Parameter("self", ParameterKind.POSITIONAL_OR_KEYWORD)
            spec = dataclasses.replace(
                spec,
                signature=Signature((first, *spec.signature.parameters), spec.signature.returns),
            )
        return place_function(spec, relative, text, settings, templates, class_name=class_name)
    if use_calls and not spec.signature.parameters:
        for line, column in calls_of(text, spec.name):
            generated = function_for_call(
                text, path, line, column, root=root, settings=settings, templates=templates
            )
            if generated is not None and generated.kind == "function":
                return generated
    return place_function(spec, relative, text, settings, templates)


def named_class(
    spec: ClassSpec, path: Path, *, root: Path, settings: Settings, templates: Templates
) -> Generation:
    """A class added at the end of ``path``, created if missing."""
    text = read_disk(path) or ""
    return place_class(spec, relative_to(root, path), text, settings, templates)


def neighbour_style(folder: Path) -> Style:
    """The style of the first readable Python file next to a new module; PEP 8 if none."""
    try:
        candidates = sorted(folder.glob("*.py"))
    except OSError:
        return PEP8
    for candidate in candidates:
        text = read_disk(candidate)
        if text and text.strip():
            return detect_style(text)
    return PEP8


def module_file(root: Path, name: str) -> Path:
    """Where a dotted module name lives under the workspace root (``a.b`` -> ``a/b.py``)."""
    return root.joinpath(*name.split(".")).with_suffix(".py")


def named_module(
    spec: ModuleSpec, path: Path, *, root: Path, settings: Settings, templates: Templates
) -> Generation:
    """A new module file; raises FileExistsError rather than overwrite one."""
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    relative = relative_to(root, path)
    if not spec.name:
        spec = dataclasses.replace(spec, name=module_name(relative)[0])
    return new_module(spec, relative, settings, templates, neighbour_style(path.parent))


def record(
    store: Store, generation: Generation, test_outcome: Mapping[str, object] | None = None
) -> int:
    """Keep a generation (offered or refused) in ``generated_code``."""
    return store.generations.record(
        kind=generation.kind,
        target=generation.target,
        template=generation.template,
        text=generation.text,
        validation=generation.validation.as_dict(),
        test_outcome=test_outcome,
    )


__all__ = [
    "ReadText",
    "function_for_call",
    "module_file",
    "named_class",
    "named_function",
    "named_module",
    "neighbour_style",
    "read_disk",
    "record",
    "relative_to",
]
