"""Stubs asked for by name, as the command line asks: a function or method, a class, a module.

Each gets a :class:`~ark_lsp.generate.results.Generation` back, validated
and ready to record with :func:`~ark_lsp.generate.generated_code.record`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ark_lsp.analysis import module_name
from ark_lsp.config import Settings
from ark_lsp.generate.file_text import read_disk, relative_to
from ark_lsp.generate.results import Generation
from ark_lsp.generate.stubs.calls import calls_of
from ark_lsp.generate.stubs.for_call import function_for_call
from ark_lsp.generate.stubs.rendering import new_module, place_class, place_function
from ark_lsp.generate.stubs.specs import ClassSpec, FunctionSpec, ModuleSpec
from ark_lsp.generate.style import PEP8, Style, detect_style
from ark_lsp.generate.templating import Templates
from ark_lsp.models import Parameter, ParameterKind, Signature


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


__all__ = ["module_file", "named_class", "named_function", "named_module", "neighbour_style"]
