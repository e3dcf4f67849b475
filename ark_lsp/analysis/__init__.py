"""Pure analysis: source text in, :class:`~ark_lsp.models.ModuleReport` out.

Nothing here touches the disk, the database or the network, and
:func:`analyze` never raises on bad input: a file that cannot be read or
parsed yields an ARK000 violation at the fault's position together with
whatever is still knowable (its tier and line counts). An analysis keeps
the cyclic garbage collector paused while it runs (see
:mod:`~ark_lsp.analysis.garbage`).

:func:`analyze_edit` analyses a new version of a text from what the analysis
of the previous one kept, by top-level block (see
:mod:`~ark_lsp.analysis.incremental`); its report equals :func:`analyze`'s.
"""

from __future__ import annotations

import ast

from ark_lsp.analysis import incremental
from ark_lsp.analysis.collector import ModuleContext, resolve_relative
from ark_lsp.analysis.fixes import apply_fixes
from ark_lsp.analysis.garbage import collection_paused
from ark_lsp.analysis.incremental import AnalysedText
from ark_lsp.analysis.source import (
    Source,
    SourceDecodeError,
    count_lines,
    first_invalid_utf8,
    line_and_column,
    read_source,
)
from ark_lsp.analysis.symbols import cc_rank
from ark_lsp.config.sections import Settings
from ark_lsp.models import Fix, LineCounts, ModuleReport, Severity, Span, Tier, Violation
from ark_lsp.rules import SYNTAX_ERROR

_DEFAULT_SETTINGS = Settings()


def module_name(path: str) -> tuple[str, bool]:
    """Dotted module name of a workspace-relative path, and whether it is a package.

    The name is made of the trailing folders that are valid identifiers, so
    ``django-5.2/django/db/models/base.py`` is ``django.db.models.base``; a
    leading ``src`` folder (the src layout) is not part of it.
    """
    # Split by hand, as PurePosixPath would (empty and "." parts dropped): an
    # index asks this of every file, and building a path object costs more.
    parts = [part for part in path.split("/") if part and part != "."] or [""]
    parts[-1] = parts[-1].partition(".")[0]
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    kept: list[str] = []
    for part in reversed(parts):
        if not part.isidentifier():
            break
        kept.append(part)
    kept.reverse()
    if len(kept) > 1 and kept[0] == "src":
        kept.pop(0)
    return ".".join(kept), is_package


def analyze(
    source: bytes | str,
    path: str,
    settings: Settings | None = None,
    *,
    module: str | None = None,
) -> ModuleReport:
    """Analyse one file's source; ``path`` is workspace-relative (POSIX)."""
    with collection_paused():
        report, _ = _analyze(source, path, settings, module, None, keep=False)
    return report


def analyze_edit(
    text: str, path: str, settings: Settings | None, previous: AnalysedText | None
) -> tuple[ModuleReport, AnalysedText | None]:
    """Analyse a new version of an edited text, re-analysing only what changed since ``previous``.

    Returns the report and what to pass as ``previous`` next time (None when
    the text does not parse). The report equals :func:`analyze`'s.
    """
    with collection_paused():
        return _analyze(text, path, settings, None, previous, keep=True)


def _analyze(
    source: bytes | str,
    path: str,
    settings: Settings | None,
    module: str | None,
    previous: AnalysedText | None,
    *,
    keep: bool,
) -> tuple[ModuleReport, AnalysedText | None]:
    settings = settings or _DEFAULT_SETTINGS
    tier = settings.tier_for(path)
    derived_module, is_package = module_name(path)
    module = derived_module if module is None else module

    try:
        prepared = read_source(source)
    except SourceDecodeError as error:
        raw = source if isinstance(source, bytes) else source.encode("utf-8", "replace")
        report = ModuleReport(
            path=path,
            module=module,
            tier=tier,
            lines=count_lines(raw),
            violations=(_syntax_violation(str(error), error.line, error.column),),
            parsed=False,
        )
        return report, None

    context = ModuleContext(path, module, is_package, tier, settings.ruleset_for(path))
    if previous is not None:
        analysed = incremental.analyse_edit(previous, context, prepared)
        if analysed is not None:
            return analysed.report, analysed
    lines = count_lines(prepared.data)
    try:
        tree = ast.parse(prepared.parse_input, filename=path)
    except (SyntaxError, ValueError) as error:
        violation = (
            _decode_violation(prepared)
            or _null_byte_violation(prepared)
            or _violation_from_syntax_error(error)
        )
        return _unparsed(path, module, tier, lines, prepared, violation), None
    except (RecursionError, MemoryError):
        violation = _syntax_violation("source is nested too deeply for the Python parser", 1, 0)
        return _unparsed(path, module, tier, lines, prepared, violation), None
    if not keep:
        return incremental.report_of_tree(context, prepared, lines, tree), None
    analysed = incremental.analyse_tree(context, prepared, lines, tree)
    return analysed.report, analysed


def fix_all(text: str, path: str, settings: Settings | None = None) -> tuple[str, int]:
    """Apply every safe fix until none is left; return the new text and the fixes made.

    Fixes that would leave the file unparsable are not made; a fix can enable
    another (two edits in one call), hence the rounds.
    """
    total = 0
    for _ in range(_FIX_ROUNDS):
        report = analyze(text, path, settings)
        fixes = [v.fix for v in report.violations if v.fix is not None and v.fix.safe]
        if not fixes:
            break
        fixed, applied = apply_fixes(text, fixes)
        try:
            ast.parse(fixed)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            break
        if fixed == text:
            break
        text, total = fixed, total + applied
    return text, total


_FIX_ROUNDS = 5


def fix_keeps_code_valid(text: str, fix: Fix) -> bool:
    """Whether applying ``fix`` to ``text`` leaves a file that still parses."""
    fixed, _ = apply_fixes(text, [fix])
    try:
        ast.parse(fixed)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _unparsed(
    path: str, module: str, tier: Tier, lines: LineCounts, source: Source, violation: Violation
) -> ModuleReport:
    return ModuleReport(
        path=path,
        module=module,
        tier=tier,
        lines=lines,
        violations=(violation,),
        parsed=False,
        encoding=source.encoding,
    )


def _syntax_violation(
    message: str, line: int, column: int, end_column: int | None = None
) -> Violation:
    line = max(line, 1)
    column = max(column, 0)
    end = column + 1 if end_column is None or end_column <= column else end_column
    return Violation(
        rule=SYNTAX_ERROR,
        severity=Severity.ERROR,
        message=message,
        span=Span(line, column, line, end),
    )


def _violation_from_syntax_error(error: SyntaxError | ValueError) -> Violation:
    if not isinstance(error, SyntaxError):
        return _syntax_violation(f"source cannot be parsed: {error}", 1, 0)
    line = error.lineno or 1
    column = (error.offset or 1) - 1
    end_column = None
    if error.end_lineno == line and error.end_offset:
        end_column = error.end_offset - 1
    return _syntax_violation(f"syntax error: {error.msg}", line, column, end_column)


def _null_byte_violation(source: Source) -> Violation | None:
    offset = source.data.find(b"\0")
    if offset < 0:
        return None
    line, byte_column = line_and_column(source.data, offset)
    column = source.column(line, byte_column)
    return _syntax_violation("source contains a null byte", line, column)


def _decode_violation(source: Source) -> Violation | None:
    invalid = first_invalid_utf8(source.data)
    if invalid is None:
        return None
    line, byte_column, byte = invalid
    column = source.column(line, byte_column)
    return _syntax_violation(
        f"file is not valid UTF-8: byte {byte:#04x} at line {line} cannot be decoded", line, column
    )


__all__ = [
    "AnalysedText",
    "analyze",
    "analyze_edit",
    "cc_rank",
    "fix_all",
    "fix_keeps_code_valid",
    "module_name",
    "resolve_relative",
]
