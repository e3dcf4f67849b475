"""ARK's complexity agrees with `radon cc` on a sample of the standard library.

The comparison (``benchmarks/radon_agreement.py``) runs over the whole
standard library as an evaluation, about a minute; here it runs over every
tenth module and the first modules holding ``match`` and ``except*``, and the
sample is checked to hold every kind of node ARK counts a decision for, so a
disagreement on any rule shows here too.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from radon_agreement import STDLIB, compare, radon_blocks, stdlib_files

from ark_lsp.analysis import analyze

COUNTED_NODES = {
    "If", "IfExp", "For", "AsyncFor", "While", "Try", "TryStar", "ExceptHandler",
    "BoolOp", "comprehension", "Assert", "Match", "match_case", "Lambda",
    "ClassDef", "FunctionDef", "AsyncFunctionDef",
}  # fmt: skip
_MATCH_STATEMENT = re.compile(rb"^\s+match .+:\s*\n\s+case .+:", re.MULTILINE)


def sample() -> list[Path]:
    files = stdlib_files()
    chosen = files[::10]
    for holds in (lambda data: b"except*" in data, _MATCH_STATEMENT.search):
        chosen.append(next(path for path in files if holds(path.read_bytes())))
    return chosen


def test_complexity_agrees_with_radon_on_a_sample_of_the_stdlib() -> None:
    agreement = compare(sample(), STDLIB)

    assert COUNTED_NODES - agreement.node_types == set()
    assert agreement.files >= 150
    assert agreement.blocks > 2_000
    assert agreement.disagreements == [], "\n".join(agreement.disagreements[:20])


def test_except_star_is_the_documented_difference() -> None:
    source = "def f():\n    try:\n        pass\n    except* ValueError:\n        pass\n"
    (radon_says,) = [b.complexity for b in radon_blocks(source, count_except_star=False)]
    (ark_says,) = [s.complexity for s in analyze(source, "m.py").symbols]
    assert (radon_says, ark_says) == (1, 2)
