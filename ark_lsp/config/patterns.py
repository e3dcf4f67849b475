"""Gitignore-style patterns compiled once and matched in time linear in the path.

Patterns come from the repository (``.gitignore``, ``exclude``, tiers,
per-file ignores), so no pattern may stall a walk: they are matched by RE2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pathspec
import re2
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

MAX_PATTERN_LENGTH = 4096
"""Longest pattern compiled: no path a walk meets is longer (Linux's PATH_MAX)."""

InvalidPattern = Callable[[int, str, str], None]
"""Told ``(position, pattern, reason)`` of a pattern left out; positions count from 1."""

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is reported once, by the caller


class PatternSpec(pathspec.GitIgnoreSpec):
    """Compiled gitignore-style patterns that pickle as their text.

    RE2's automata do not pickle, and settings holding compiled patterns
    travel to the indexing workers: a spec is compiled again on arrival.
    """

    source: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[Callable[[Iterable[str]], PatternSpec], tuple[tuple[str, ...]]]:
        return compile_patterns, (self.source,)


def compile_patterns(
    patterns: Iterable[str], on_invalid: InvalidPattern | None = None
) -> PatternSpec:
    r"""Compile gitignore-style patterns once, for matching in time linear in the path.

    pathspec translates each pattern to a regular expression and decides,
    as git does, which matching pattern wins; the expressions are matched
    by RE2 (pathspec's ``re2`` backend), which never backtracks. Python's
    ``re`` would: ``a*a*a*a*a*a*a*a*a*a*a*a*a*b`` against a long name of
    ``a`` is hours of work holding the GIL, and patterns come from the
    repository (``.gitignore``, ``exclude``, tiers, per-file ignores).

    A pattern that cannot be used (a lone ``\``, ``[z-a]``, one longer than
    :data:`MAX_PATTERN_LENGTH`) is left out, as git leaves out what it cannot
    parse, and ``on_invalid`` is told; the other patterns still apply.
    """
    source = tuple(patterns)
    usable: list[GitIgnoreSpecPattern] = []
    for position, line in enumerate(source, 1):
        try:
            usable.extend(_linear_pattern(line))
        except ValueError as error:
            if on_invalid is not None:
                on_invalid(position, line, str(error))
    try:
        # One automaton for every pattern: one RE2 call per path, whatever their number.
        spec = PatternSpec(usable, backend="re2")
    except re2.error:
        # More than one automaton holds (thousands of patterns): pathspec's simple
        # backend tries each pattern's own RE2 expression in turn, slower but linear.
        spec = PatternSpec(usable, backend="simple")
    spec.source = source
    return spec


def _linear_pattern(line: str) -> list[GitIgnoreSpecPattern]:
    """``line`` as pathspec reads it, its expression compiled by RE2; ValueError says why not.

    No pattern (an empty list) for a blank line or a comment.
    """
    if len(line) > MAX_PATTERN_LENGTH:
        raise ValueError(f"longer than {MAX_PATTERN_LENGTH:,} characters")
    try:
        regex, include = GitIgnoreSpecPattern.pattern_to_regex(line)
    except ValueError:  # pathspec's GitIgnorePatternError: it names the pattern itself
        raise ValueError("not a valid gitignore pattern") from None
    if regex is None or include is None:
        return []
    try:
        compiled = re2.compile(regex, _RE2_OPTIONS)
    except re2.error as error:
        detail = error.args[0] if error.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", errors="replace")
        raise ValueError(f"not a valid gitignore pattern: {detail}") from None
    return [GitIgnoreSpecPattern(compiled, include)]
