"""ARK's complexity agrees with `radon cc` over the standard library.

Every function, method, closure and class radon reports (with
`--show-closures`) is compared by line and name. The one deliberate
difference, documented in `ark_lsp.analysis.collector`, is that ARK counts
`except*` handlers as decisions and radon 6 does not recognise the node; the
comparison teaches radon the same so that agreement can be required to be
total.
"""

from __future__ import annotations

import ast
import collections
import sysconfig
from pathlib import Path

import pytest
from radon.complexity import add_inner_blocks, cc_visit
from radon.visitors import ComplexityVisitor

from ark_lsp.analysis import analyze

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def stdlib_files() -> list[Path]:
    return sorted(p for p in STDLIB.rglob("*.py") if "site-packages" not in p.parts)


def radon_blocks(source: str, count_except_star: bool):
    if not count_except_star:
        return add_inner_blocks(cc_visit(source))
    try:
        ComplexityVisitor.get_name = staticmethod(
            lambda node: "Try" if type(node) is ast.TryStar else type(node).__name__
        )
        return add_inner_blocks(cc_visit(source))
    finally:
        del ComplexityVisitor.get_name  # back to the inherited CodeVisitor.get_name


@pytest.mark.slow
def test_complexity_agrees_with_radon_on_every_stdlib_function() -> None:
    compared_files = compared_blocks = 0
    disagreements: list[str] = []
    for path in stdlib_files():
        data = path.read_bytes()
        try:
            source = data.decode("utf-8")
            ast.parse(source)
        except (UnicodeDecodeError, SyntaxError, ValueError):
            continue  # radon cannot read these either (test fixtures of bad syntax)
        ours = collections.defaultdict(set)
        for symbol in analyze(data, str(path.relative_to(STDLIB))).symbols:
            ours[(symbol.span.line, symbol.name)].add(symbol.complexity)
        compared_files += 1
        for block in radon_blocks(source, count_except_star="except*" in source):
            compared_blocks += 1
            key = (block.lineno, block.name.rsplit(".", 1)[-1])
            if block.complexity not in ours.get(key, ()):
                disagreements.append(
                    f"{path}:{block.lineno} {block.name}: "
                    f"radon {block.complexity}, ark {sorted(ours.get(key, ()))}"
                )
    assert compared_files >= 200
    assert compared_blocks > 10_000
    assert disagreements == [], "\n".join(disagreements[:20])


def test_except_star_is_the_documented_difference() -> None:
    source = "def f():\n    try:\n        pass\n    except* ValueError:\n        pass\n"
    (radon_says,) = [b.complexity for b in radon_blocks(source, count_except_star=False)]
    (ark_says,) = [s.complexity for s in analyze(source, "m.py").symbols]
    assert (radon_says, ark_says) == (1, 2)
