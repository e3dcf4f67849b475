"""Stubs: a function, method, class or module rendered from its template into a file.

- :mod:`~ark_lsp.generate.stubs.specs`: what a stub is to be;
- :mod:`~ark_lsp.generate.stubs.calls`: a stub's context read off a call of an
  undefined name (with jedi);
- :mod:`~ark_lsp.generate.stubs.rendering`: rendering a spec into a file where it belongs;
- :mod:`~ark_lsp.generate.stubs.for_call`: the stub a call needs (the editor's quick fix);
- :mod:`~ark_lsp.generate.stubs.named`: stubs asked for by name (the command line).
"""

from __future__ import annotations

from ark_lsp.generate.stubs.for_call import function_for_call
from ark_lsp.generate.stubs.named import module_file, named_class, named_function, named_module
from ark_lsp.generate.stubs.specs import ClassSpec, FunctionSpec, ModuleSpec

__all__ = [
    "ClassSpec",
    "FunctionSpec",
    "ModuleSpec",
    "function_for_call",
    "module_file",
    "named_class",
    "named_function",
    "named_module",
]
