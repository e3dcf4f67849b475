"""``ark index`` with ARK's analysis of each parsed file left out, for ``index_speed.py``.

Each file is still read, hashed and parsed, and its (empty) report stored as
``ark index`` stores any: what is left of a cold index's time is what it
costs apart from the analysis (the parse, the reads, the store, the
command's start). Measured beside the real ``ark index`` it says how much
of the ratio to the parse floor the analysis makes, and how far a faster
analysis alone could bring it.

Run: ``.venv/bin/python benchmarks/index_without_analysis.py ARK-INDEX-ARGUMENTS...``
"""

from __future__ import annotations

import ast
import sys
from collections import Counter

from ark_lsp.analysis import incremental
from ark_lsp.analysis.collector import ModuleContext
from ark_lsp.analysis.source import Source
from ark_lsp.cli import main
from ark_lsp.models import LineCounts, ModuleReport


def unanalysed_report(
    context: ModuleContext, source: Source, lines: LineCounts, tree: ast.Module
) -> ModuleReport:
    """The report of a module with nothing found in it: no symbols, imports, calls or findings."""
    return incremental._report(context, source, lines, (), (), (), Counter(), (), ())


if __name__ == "__main__":
    incremental.report_of_tree = unanalysed_report
    sys.argv = ["ark", *sys.argv[1:]]
    main()
