"""Characterization tests: run a module's functions in the sandbox and write what they did.

- :mod:`~ark_lsp.generate.characterize.targets`: what can be tested (functions, methods);
- :mod:`~ark_lsp.generate.characterize.pools`, :mod:`~ark_lsp.generate.characterize.samples`:
  sample inputs, from signatures, docstrings and call sites;
- :mod:`~ark_lsp.generate.characterize.driver`: the script that calls them, in the sandbox;
- :mod:`~ark_lsp.generate.characterize.observe`: two runs of the driver, what reproduces kept;
- :mod:`~ark_lsp.generate.characterize.untrusted`: the sandbox's report read as data only;
- :mod:`~ark_lsp.generate.characterize.tables`: parametrize tables chosen from observations;
- :mod:`~ark_lsp.generate.characterize.testfile`: where the tests go, which exist already;
- :mod:`~ark_lsp.generate.characterize.rehearsal`: running the written file, counting passes;
- :mod:`~ark_lsp.generate.characterize.pipeline`: :func:`generate_tests`, all of the above.
"""

from __future__ import annotations

from ark_lsp.generate.characterize.pipeline import (
    CharacterizationContext,
    GeneratedTests,
    NothingToTest,
    WrittenTests,
    generate_tests,
)

__all__ = [
    "CharacterizationContext",
    "GeneratedTests",
    "NothingToTest",
    "WrittenTests",
    "generate_tests",
]
