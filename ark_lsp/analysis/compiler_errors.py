"""What the compiler refuses after the parser accepted it: an ARK000 finding, as ruff reports it.

:func:`ast.parse` checks the grammar only. The compiler then refuses code
the grammar allows: ``return`` or ``yield`` outside a function, ``break``
outside a loop, a duplicate argument name, ``nonlocal`` at module level, a
repeated keyword argument, a starred expression where none may stand, a
late ``from __future__`` import, and more. Python raises these when the
module is imported, so such a file never runs; ARK says so instead of
checking it as if it did.

The check compiles the tree the analysis has already parsed (no second
parse), with ``dont_inherit`` so that ARK's own ``__future__`` imports do
not change what is accepted, and with the compiler's warnings silenced (a
``SyntaxWarning`` is not a finding). The tree is compiled under an empty
file name: CPython reads the line of an error from the file it names, and
the analysis reads no file.
"""

from __future__ import annotations

import ast
import threading
import warnings
from collections.abc import Sequence

from ark_lsp.analysis.source import Source
from ark_lsp.models import Severity, Span, Violation
from ark_lsp.rules import SYNTAX_ERROR

_NO_FILE = ""
"""A file name no file has: the compiler's error then carries no text read from disk."""

_warnings_lock = threading.Lock()
"""``warnings.catch_warnings`` swaps process-wide state: one thread at a time."""


def compiler_error(statements: Sequence[ast.stmt], source: Source) -> Violation | None:
    """The first error the compiler finds in ``statements`` (a module's, or one block's).

    ``statements`` are compiled as a module of their own; given a whole
    module's, the result is what importing it would raise. Lines and
    columns are those of ``source``, as every violation's are.
    """
    module = ast.Module(body=list(statements), type_ignores=[])
    try:
        with _warnings_lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(module, _NO_FILE, "exec", dont_inherit=True)
    except SyntaxError as error:
        return _violation(error, source)
    except (RecursionError, MemoryError):
        # Deeper than the compiler goes, though not the parser: import fails just the same.
        return _at(source, "source is nested too deeply for the Python compiler", 1, 0, None)
    except ValueError as error:  # a tree the compiler finds malformed: not one ast.parse makes
        return _at(source, f"source cannot be compiled: {error}", 1, 0, None)
    return None


def _violation(error: SyntaxError, source: Source) -> Violation:
    # The compiler counts columns in UTF-8 bytes from 1, as the tree does from 0.
    line = error.lineno or 1
    end = None
    if error.end_lineno == line and error.end_offset:
        end = error.end_offset - 1
    return _at(source, f"syntax error: {error.msg}", line, (error.offset or 1) - 1, end)


def _at(source: Source, message: str, line: int, byte_column: int, end: int | None) -> Violation:
    line = max(line, 1)
    column = source.column(line, max(byte_column, 0))
    end_column = source.column(line, end) if end is not None else column + 1
    return Violation(
        rule=SYNTAX_ERROR,
        severity=Severity.ERROR,
        message=message,
        span=Span(line, column, line, max(end_column, column + 1)),
    )


__all__ = ["compiler_error"]
