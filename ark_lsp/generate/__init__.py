"""Generated code: stubs from templates, and characterization tests that pass.

Two features share this package's top level:

- :mod:`~ark_lsp.generate.stubs`: a function, method, class or module from a
  call of an undefined name or from a name the user gives;
- :mod:`~ark_lsp.generate.characterize`: tests written from what a module's
  functions did when run on sample inputs in the sandbox.

What both use lives here: the Jinja2 templates and their workspace
overrides (:mod:`~ark_lsp.generate.templating`), the style of the file
written into (:mod:`~ark_lsp.generate.style`), names and signatures
(:mod:`~ark_lsp.generate.naming`, :mod:`~ark_lsp.generate.signatures`),
where code goes (:mod:`~ark_lsp.generate.placement`), how a file is read
(:mod:`~ark_lsp.generate.file_text`), the check by the analysis engine
(:mod:`~ark_lsp.generate.validation`), the result
(:mod:`~ark_lsp.generate.results`) and its record in ``generated_code``
(:mod:`~ark_lsp.generate.generated_code`). Code runs through the sandbox's
own runner (:class:`ark_lsp.sandbox.SandboxRunner`). Nothing here imports
pygls or click.

This package exports the stubs and what is shared; test generation is
imported from :mod:`ark_lsp.generate.characterize` (it brings the sandbox
with it, which a stub does not need).
"""

from __future__ import annotations

from ark_lsp.generate.file_text import ReadText, read_disk
from ark_lsp.generate.generated_code import record
from ark_lsp.generate.results import FileChange, Generation
from ark_lsp.generate.signatures import signature_from_text
from ark_lsp.generate.stubs import (
    ClassSpec,
    FunctionSpec,
    ModuleSpec,
    function_for_call,
    module_file,
    named_class,
    named_function,
    named_module,
)
from ark_lsp.generate.style import Style, detect_style
from ark_lsp.generate.templating import TemplateError, Templates
from ark_lsp.generate.validation import Validation, validate

__all__ = [
    "ClassSpec",
    "FileChange",
    "FunctionSpec",
    "Generation",
    "ModuleSpec",
    "ReadText",
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
