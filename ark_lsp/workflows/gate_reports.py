"""What the kept gate reports say of a file's functions: the editor's hover figures and lenses.

Every gate run keeps a row per function it measured (``code_quality_reports``,
see :mod:`ark_lsp.gate.report`): the share of its changed lines the tests
ran, and how many of its mutants they killed. A function is read here as
the latest run that measured it found it, so a later run that touched
other files leaves it as it was.
"""

from __future__ import annotations

from ark_lsp.store import QualityRow, Store


def function_quality(store: Store, path: str, qualname: str) -> QualityRow | None:
    """The tests' coverage and mutation score of a function, from the latest run measuring them.

    None when no kept run measured either for it (a run of ARK's own checks
    alone measures only complexity).
    """
    row = store.quality.latest_function(path, qualname)
    if row is None or (row.coverage is None and row.mutation_score is None):
        return None
    return row


def untested_functions(store: Store, path: str) -> tuple[QualityRow, ...]:
    """The functions of a file that no test ran, by the latest gate run that measured each.

    A function's coverage is the share of its changed lines the tests ran:
    0 means the coverage check found every one of them never run (a
    ``line-not-run`` finding each). A new function's ``def`` line runs when
    its module is imported, so the check also says whether any line of its
    body ran (``untested`` in the row's details); either way, no test
    covers it. A function whose coverage was not measured is not counted.
    """
    return tuple(
        row
        for row in store.quality.latest_functions(path)
        if row.coverage == 0 or (row.details or {}).get("untested") is True
    )


__all__ = ["function_quality", "untested_functions"]
