"""Analysis results built by hand for the store's tests, and a look at the file from outside.

Shared by the modules of tests/store (the fixtures live in its conftest.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from ark_lsp.analysis import analyze
from ark_lsp.models import (
    FileState,
    Import,
    IndexedFile,
    LineCounts,
    ModuleReport,
    Parameter,
    ParameterKind,
    Severity,
    Signature,
    Span,
    Symbol,
    SymbolKind,
    Tier,
    Violation,
)

ARK_TABLES = {
    "code_index",
    "code_patterns",
    "sandbox_executions",
    "validation_rules",
    "generated_code",
    "code_improvements",
    "code_quality_reports",
    "approval_queue",
    "deployments",
    "deployment_health",
    "code_performance",
    "improvement_tasks",
}


def sym(
    name: str,
    *,
    qualname: str | None = None,
    kind: SymbolKind = SymbolKind.FUNCTION,
    line: int = 1,
    end_line: int | None = None,
    complexity: int = 1,
    docstring: str | None = None,
    signature: Signature | None = None,
    parent: str | None = None,
    bases: tuple[str, ...] = (),
    decorators: tuple[str, ...] = (),
    is_async: bool = False,
) -> Symbol:
    end = end_line if end_line is not None else line + 1
    if signature is None and kind is not SymbolKind.CLASS:
        signature = Signature()
    return Symbol(
        name=name,
        qualname=qualname or name,
        kind=kind,
        span=Span(line, 0, end, 10),
        name_span=Span(line, 4, line, 4 + len(name)),
        complexity=complexity,
        rank="A" if complexity <= 5 else "B" if complexity <= 10 else "C",
        is_async=is_async,
        signature=signature,
        bases=bases,
        decorators=decorators,
        docstring=docstring,
        parent=parent,
    )


def imp(module: str, name: str | None = None, *, line: int = 1, level: int = 0) -> Import:
    bound = name or module.partition(".")[0]
    return Import(module=module, name=name, bound=bound, line=line, column=0, level=level)


def make_file(
    path: str,
    *,
    module: str | None = None,
    tier: Tier = Tier.TRUSTED,
    symbols: Sequence[Symbol] = (),
    imports: Sequence[Import] = (),
    violations: Sequence[Violation] = (),
    mtime_ns: int = 1,
    sha: str | None = None,
    lines: int = 10,
) -> IndexedFile:
    if module is None:
        module = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    report = ModuleReport(
        path=path,
        module=module,
        tier=tier,
        lines=LineCounts(total=lines, code=lines - 2, comment=1, blank=1),
        symbols=tuple(symbols),
        imports=tuple(imports),
        violations=tuple(violations),
    )
    state = FileState(size=lines * 10, mtime_ns=mtime_ns, sha256=sha or f"sha-{path}")
    return IndexedFile(path=path, state=state, report=report)


def violation(rule: str, line: int, severity: Severity = Severity.ERROR) -> Violation:
    return Violation(rule, severity, f"{rule} here", Span(line, 0, line, 5))


def analysed_file(path: str, text: str) -> IndexedFile:
    """A file as the indexer would analyse it."""
    report = analyze(text, path)
    return IndexedFile(path=path, state=FileState(len(text), 1, f"sha-{path}"), report=report)


SIGNATURE = Signature(
    parameters=(
        Parameter("source", ParameterKind.POSITIONAL_ONLY, "bytes"),
        Parameter("strict", ParameterKind.KEYWORD_ONLY, "bool", "False"),
    ),
    returns="Tree",
)


def sample_files() -> list[IndexedFile]:
    return [
        make_file(
            "pkg/__init__.py",
            symbols=[
                sym(
                    "Store",
                    kind=SymbolKind.CLASS,
                    line=3,
                    end_line=30,
                    complexity=4,
                    bases=("Base",),
                    docstring="Holds the index.",
                ),
                sym(
                    "open",
                    qualname="Store.open",
                    kind=SymbolKind.METHOD,
                    line=5,
                    complexity=2,
                    parent="Store",
                    decorators=("classmethod",),
                    docstring="Open the database.",
                ),
            ],
            imports=[imp("os"), imp("pkg.parser", "parse_file", line=2)],
        ),
        make_file(
            "pkg/parser.py",
            symbols=[
                sym(
                    "parse_file",
                    line=4,
                    end_line=20,
                    complexity=12,
                    signature=SIGNATURE,
                    docstring="Parse one file into a tree.",
                    is_async=True,
                ),
                sym("helper", line=22, complexity=12),
            ],
            imports=[imp("pkg"), imp("pkg.util", "tools", line=2), imp("json", line=3)],
            violations=[violation("ARK001", 7), violation("ARK020", 9, Severity.WARNING)],
        ),
        make_file(
            "pkg2/other.py",
            tier=Tier.TESTING,
            symbols=[sym("check", line=1, complexity=3, docstring="Uses parse results.")],
            imports=[imp("pkg.parser"), imp("pkg2.other", "check")],
            violations=[violation("ARK001", 1)],
        ),
        make_file("pkg/util/__init__.py", imports=[imp("pkg", "parser", level=2)]),
        make_file("Pkg/upper.py", symbols=[sym("upper", complexity=7)]),
    ]


def outside_connection(path: Path) -> sqlite3.Connection:
    """A connection of its own to the database file, as a user inspecting it would open."""
    return sqlite3.connect(path, isolation_level=None)


def rows(path: Path, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
    """What ``sql`` selects from the database at ``path``, read over a connection of its own."""
    conn = outside_connection(path)
    try:
        return list(conn.execute(sql, params))
    finally:
        conn.close()
