"""ARK's complexity against ``radon cc``, function by function, over a whole corpus.

Every function, method, closure and class radon reports (with
``--show-closures``) is compared by line and name with what ``ark symbols``
would say. The one deliberate difference, documented in
``ark_lsp.analysis.collector``, is that ARK counts ``except*`` handlers as
decisions and radon 6 does not recognise the node; the comparison teaches
radon the same so that agreement can be required to be total.

```sh
.venv/bin/python benchmarks/radon_agreement.py                    # the standard library
.venv/bin/python benchmarks/radon_agreement.py --corpus DIR       # any folder
```

Prints the files and blocks compared and each disagreement; exits 1 when
there is one. The whole standard library takes about a minute, which is why
this is not a test: ``tests/engine/test_radon_agreement.py`` compares a
sample of it with :func:`compare`.
"""

from __future__ import annotations

import argparse
import ast
import collections
import sys
import sysconfig
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from radon.complexity import add_inner_blocks, cc_visit
from radon.visitors import ComplexityVisitor

from ark_lsp.analysis import analyze

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def stdlib_files() -> list[Path]:
    """The standard library's modules, in a stable order (installed packages left out)."""
    return python_files(STDLIB)


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts)


def radon_blocks(source: str, *, count_except_star: bool) -> list[object]:
    """radon's blocks of ``source``, closures included; ``except*`` counted as ARK counts it."""
    if not count_except_star:
        return list(add_inner_blocks(cc_visit(source)))
    try:
        ComplexityVisitor.get_name = staticmethod(  # type: ignore[method-assign]
            lambda node: "Try" if type(node) is ast.TryStar else type(node).__name__
        )
        return list(add_inner_blocks(cc_visit(source)))
    finally:
        del ComplexityVisitor.get_name  # back to the inherited CodeVisitor.get_name


@dataclass
class Agreement:
    """What a comparison covered, and where the two disagree."""

    files: int = 0
    blocks: int = 0
    node_types: set[str] = field(default_factory=set)
    """The kinds of AST node in the files compared: what the comparison exercised."""
    disagreements: list[str] = field(default_factory=list)


def compare(paths: Iterable[Path], root: Path) -> Agreement:
    """Compare ARK and radon on every file of ``paths`` both can read."""
    agreement = Agreement()
    for path in paths:
        data = path.read_bytes()
        try:
            source = data.decode("utf-8")
            with warnings.catch_warnings():
                # The test suite's modules hold invalid escapes on purpose.
                warnings.simplefilter("ignore", SyntaxWarning)
                tree = ast.parse(source)
        except (UnicodeDecodeError, SyntaxError, ValueError):
            continue  # radon cannot read these either (test fixtures of bad syntax)
        agreement.node_types.update(type(node).__name__ for node in ast.walk(tree))
        ours: dict[tuple[int, str], set[int]] = collections.defaultdict(set)
        for symbol in analyze(data, path.relative_to(root).as_posix()).symbols:
            ours[(symbol.span.line, symbol.name)].add(symbol.complexity)
        agreement.files += 1
        for block in radon_blocks(source, count_except_star="except*" in source):
            agreement.blocks += 1
            line, name, theirs = block.lineno, block.name, block.complexity  # type: ignore[attr-defined]
            key = (line, name.rsplit(".", 1)[-1])
            if theirs not in ours.get(key, ()):
                agreement.disagreements.append(
                    f"{path}:{line} {name}: radon {theirs}, ark {sorted(ours.get(key, ()))}"
                )
    return agreement


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=STDLIB, help="folder (the stdlib)")
    arguments = parser.parse_args(argv)
    root: Path = arguments.corpus.resolve()
    agreement = compare(python_files(root), root)
    print(f"{agreement.files:,} files, {agreement.blocks:,} blocks compared with radon")
    for line in agreement.disagreements:
        print(line)
    print(f"{len(agreement.disagreements):,} disagreements")
    return 1 if agreement.disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
