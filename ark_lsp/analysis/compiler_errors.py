"""What the compiler refuses after the parser accepted it: an ARK000 finding, as ruff reports it.

:func:`ast.parse` checks the grammar only. The compiler then refuses code
the grammar allows: ``return`` or ``yield`` outside a function, ``break``
outside a loop, a duplicate argument name, ``nonlocal`` at module level, a
repeated keyword argument, a starred expression where none may stand, a
late ``from __future__`` import, and more. Python raises these when the
module is imported, so such a file never runs; ARK says so instead of
checking it as if it did.

The check compiles the tree the analysis has already parsed (no second
parse), one top-level statement at a time, with the compile flags of the
module's own ``__future__`` imports (:func:`future_flags`: a statement
compiled alone would not see them, and ``annotations`` makes the compiler
refuse ``:=``, ``yield`` and ``await`` in an annotation) and
``dont_inherit``, so that ARK's own ``__future__`` imports do not change
what is accepted, and with the compiler's warnings silenced (a
``SyntaxWarning`` is not a finding).
What only the module as a whole can get wrong is looked at across its
statements: a ``from __future__`` import after other code (from each
statement's lead, so an edit need not parse the module again), and
module-level ``global`` declarations (then the module is compiled whole).
A statement's verdict is kept by its text and the
flags it was compiled with, so an edit costs the compile of the statements
it changed. The tree is compiled under an empty file name:
CPython reads the line of an error from the file it names, and the analysis
reads no file.

Compiling costs about three quarters of a parse, so it is done only when
needed. The collector's walk, which visits every node anyway, screens for
what the compiler may refuse (CPython 3.11's symtable and code generator,
message by message): ``return``, ``yield``, ``await``, ``async for`` and
``async with`` outside the function that may hold them (an async generator
returning a value or yielding from), an async comprehension, ``break`` or
``continue`` outside a loop, ``nonlocal``, a ``global`` that is not first in
its function or class body (or names a parameter, an annotated or a private
name; a module-level one), a repeated or private parameter, a repeated
keyword, ``import *`` in a function or class, a starred expression outside a
call, a display or the one starred target of an assignment, a bare
``except:`` before another handler, ``:=`` in a comprehension's iterable or
rebinding its loop variable or binding in a class, ``match`` and
``except*`` (their rules are many), Python 3.12's type parameters, blocks
nested near the compiler's limit of 20, a tree deeper than it recurses, and
``__debug__`` anywhere in the text. Only then is the compiler asked, so its
word stays the finding; otherwise nothing is compiled. Pythons 3.12 and 3.13
refuse none of the tested kinds that 3.11 takes; from 3.14 on (annotation
scopes refuse more) the compiler is always asked.
tests/engine/test_compiler_screen.py holds the screen to the compiler, kind
by kind and over the standard library.
"""

from __future__ import annotations
import __future__

import ast
import contextlib
import gc
import hashlib
import sys
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ark_lsp.analysis.blocks import Lead, first_line, lead_of
from ark_lsp.analysis.source import Source
from ark_lsp.models import Severity, Span, Violation
from ark_lsp.rules import SYNTAX_ERROR

_NO_FILE = ""
"""A file name no file has: the compiler's error then carries no text read from disk."""

_LATE_FUTURE = "syntax error: from __future__ imports must occur at the beginning of the file"
"""Python's own words for it."""

_KEPT_VERDICTS = 4096
"""Statements whose verdict is kept, most recently used first: an open file's, and more."""


@dataclass(frozen=True)
class _Verdict:
    """What the compiler said of one statement, its line counted from the statement's first."""

    message: str
    line: int
    byte_column: int
    end_byte_column: int | None


_verdicts: OrderedDict[bytes, _Verdict | None] = OrderedDict()
_lock = threading.Lock()
"""One compile at a time: ``warnings.catch_warnings`` swaps process-wide state, as does
pausing the collector, and the kept verdicts are shared by every thread."""


def compiler_errors(
    statements: Sequence[ast.stmt],
    source: Source,
    *,
    whole_module: bool = False,
    screened: bool = False,
    futures: int | None = None,
) -> list[Violation]:
    """What the compiler refuses in ``statements``, top-level ones, the first error of each.

    With a module-level ``global`` among them they are compiled together, as
    the declaration is checked against the names bound before it; the caller
    then passes the whole module. Lines and columns are those of ``source``,
    as every violation's are.

    ``whole_module`` (the statements are a whole module, analysed once, as an
    index does) tries one compile of them all first: without a ``__future__``
    import or a ``global`` at module level, no top-level statement changes
    how the compiler takes another, so a module it accepts has no statement
    it refuses. Only a module it refuses is compiled statement by statement.

    ``screened``: the collector's walk of the statements met nothing the
    compiler refuses anywhere (see the module's docstring); then nothing is
    compiled, unless a ``__future__`` import could change the rules.

    ``futures``: the compile flags of the module's ``__future__`` features
    (:func:`future_flags`), for statements that are not the whole module
    (an edit's); ``None`` takes them from ``statements``, then the module.
    """
    if futures is None:
        futures = future_flags(statements)
    if screened and _SCREEN_HOLDS and _futures_keep_the_rules(statements, source, futures):
        return []
    if any(isinstance(statement, ast.Global) for statement in statements):
        verdict = _compile(statements, futures)
        return [] if verdict is None else [_violation(verdict, 0, source)]
    if (
        whole_module
        and statements
        and not any(map(_is_future_import, statements))
        and _compile(statements, futures) is None
    ):
        return []
    refused = []
    for statement in statements:
        first = first_line(statement)
        verdict = _verdict_of(statement, first, source, futures)
        if verdict is not None:
            refused.append(_violation(verdict, first, source))
    return refused


_SCREEN_HOLDS = sys.version_info[:2] <= (3, 13)
"""The walk's screen follows the compilers of Python 3.11 to 3.13; a later one (3.14's
annotation scopes refuse more) is always asked."""

_FEATURE_FLAGS = {
    name: getattr(__future__, name).compiler_flag for name in __future__.all_feature_names
}
"""Each ``__future__`` feature's flag for :func:`compile`."""

_HARMLESS_FUTURES = frozenset(__future__.all_feature_names) - {"barry_as_FLUFL"}
"""Features whose import the compiler takes (``annotations`` changes what it refuses
elsewhere: see :func:`_futures_keep_the_rules`)."""

_POSTPONED_ANNOTATIONS = _FEATURE_FLAGS["annotations"]

_NOT_IN_POSTPONED_ANNOTATIONS = (b"yield", b"await", b":=")
"""What the compiler refuses in an annotation once annotations are postponed."""


def future_flags(statements: Iterable[ast.stmt]) -> int:
    """The compile flags of the ``__future__`` features a module's leading statements import.

    Only those at its start count (after a docstring), as for the compiler; a
    later one is refused (:func:`late_future_import`), an unknown feature by
    compiling its import.
    """
    flags = 0
    for index, statement in enumerate(statements):
        lead = lead_of(statement)
        if lead is Lead.FUTURE:
            for alias in statement.names:  # type: ignore[attr-defined]
                flags |= _FEATURE_FLAGS.get(alias.name, 0)
        elif not (lead is Lead.DOCSTRING and index == 0):
            break
    return flags


def _futures_keep_the_rules(statements: Sequence[ast.stmt], source: Source, futures: int) -> bool:
    """Whether the module's ``__future__`` features leave what the compiler refuses as it is.

    An unknown feature is refused. Postponed annotations refuse ``yield``,
    ``await`` and ``:=`` in an annotation, even a local variable's: the
    text must hold none of them.
    """
    if futures & _POSTPONED_ANNOTATIONS and any(
        word in source.data for word in _NOT_IN_POSTPONED_ANNOTATIONS
    ):
        return False
    for statement in statements:
        if _is_future_import(statement):
            for alias in statement.names:  # type: ignore[attr-defined]
                if alias.name not in _HARMLESS_FUTURES:
                    return False
    return True


def _is_future_import(statement: ast.stmt) -> bool:
    return type(statement) is ast.ImportFrom and statement.module == "__future__"


def late_future_import(heads: Iterable[tuple[int, Lead]]) -> Violation | None:
    """A ``from __future__`` import after other code: only a docstring may come first.

    ``heads`` are the module's top-level statements, each as its line and lead.
    """
    leading = True
    for index, (line, lead) in enumerate(heads):
        if lead is Lead.FUTURE and not leading:
            span = Span(line, 0, line, 1)
            return Violation(SYNTAX_ERROR, Severity.ERROR, _LATE_FUTURE, span)
        leading = leading and (lead is Lead.FUTURE or (lead is Lead.DOCSTRING and index == 0))
    return None


def _verdict_of(statement: ast.stmt, first: int, source: Source, futures: int) -> _Verdict | None:
    """The compiler's verdict on one statement, kept by its text, place on its lines and flags."""
    end = statement.end_lineno or statement.lineno
    text = b"\n".join(source.lines[first - 1 : end])
    place = (futures, statement.col_offset, end - first, statement.end_col_offset or 0)
    key = hashlib.blake2b(b"%d:%d:%d:%d|" % place + text, digest_size=16).digest()
    with _lock:
        if key in _verdicts:
            _verdicts.move_to_end(key)
            return _verdicts[key]
    verdict = _compile([statement], futures)
    if verdict is not None:
        verdict = _Verdict(
            verdict.message, verdict.line - first, verdict.byte_column, verdict.end_byte_column
        )
    with _lock:
        _verdicts[key] = verdict
        if len(_verdicts) > _KEPT_VERDICTS:
            _verdicts.popitem(last=False)
    return verdict


def _compile(statements: Sequence[ast.stmt], futures: int) -> _Verdict | None:
    """What compiling ``statements`` as a module with ``futures`` says; lines are the file's."""
    module = ast.Module(body=list(statements), type_ignores=[])
    try:
        with _lock, warnings.catch_warnings(), _collector_paused():
            warnings.simplefilter("ignore")
            compile(module, _NO_FILE, "exec", flags=futures, dont_inherit=True)
    except SyntaxError as error:
        # The compiler counts columns in UTF-8 bytes from 1, as the tree does from 0.
        line = error.lineno or 1
        end = error.end_offset - 1 if error.end_lineno == line and error.end_offset else None
        return _Verdict(f"syntax error: {error.msg}", line, (error.offset or 1) - 1, end)
    except (RecursionError, MemoryError):
        # Deeper than the compiler goes, though not the parser: import fails just the same.
        first = first_line(statements[0]) if statements else 1
        return _Verdict("source is nested too deeply for the Python compiler", first, 0, None)
    except ValueError as error:  # a tree the compiler finds malformed: not one ast.parse makes
        return _Verdict(f"source cannot be compiled: {error}", 1, 0, None)
    return None


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while compiling: the code made is thrown away whole.

    Compiling allocates code objects by the thousand, and each collection
    they set off would walk the tree just parsed, which holds no cycle.
    Taken under the module's lock; it resumes only if it was running.
    """
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def _violation(verdict: _Verdict, first_line: int, source: Source) -> Violation:
    line = max(verdict.line + first_line, 1) if first_line else max(verdict.line, 1)
    column = source.column(line, max(verdict.byte_column, 0))
    end = verdict.end_byte_column
    end_column = source.column(line, end) if end is not None else column + 1
    return Violation(
        rule=SYNTAX_ERROR,
        severity=Severity.ERROR,
        message=verdict.message,
        span=Span(line, column, line, max(end_column, column + 1)),
    )


__all__ = ["compiler_errors", "future_flags", "late_future_import"]
