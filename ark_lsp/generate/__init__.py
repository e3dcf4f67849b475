"""Generated code: functions, classes and modules from templates, and tests that pass.

Templates (:mod:`~ark_lsp.generate.templating`) are Jinja2 files shipped in
this package and overridable per workspace; context builders read what a
stub needs off a call site (:mod:`~ark_lsp.generate.calls`, with jedi) or
what a test needs off a function's signature and its observed behaviour.
Every text is validated by the analysis engine before it is offered
(:mod:`~ark_lsp.generate.validation`) and can be recorded in
``generated_code``. Nothing here imports pygls or click.
"""

from __future__ import annotations

from ark_lsp.generate.engine import (
    function_for_call,
    module_file,
    named_class,
    named_function,
    named_module,
    read_disk,
    record,
)
from ark_lsp.generate.results import FileChange, Generation
from ark_lsp.generate.stubs import ClassSpec, FunctionSpec, ModuleSpec, signature_from_text
from ark_lsp.generate.style import Style, detect_style
from ark_lsp.generate.templating import TemplateError, Templates
from ark_lsp.generate.validation import Validation, validate

__all__ = [
    "ClassSpec",
    "FileChange",
    "FunctionSpec",
    "Generation",
    "ModuleSpec",
    "Style",
    "TemplateError",
    "Templates",
    "Validation",
    "detect_style",
    "function_for_call",
    "module_file",
    "named_class",
    "named_function",
    "named_module",
    "read_disk",
    "record",
    "signature_from_text",
    "validate",
]
