"""What makes a finding the same in the base and the head: where it is in words, not numbers.

A tool reports a line number; the gate turns it into the enclosing function
or class and the text of the line, so that moving a function, or adding
lines above it, leaves its old findings old. The base's findings are then
taken away from the head's, each fingerprint as often as it occurs: what
remains is what the change brought.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ark_lsp.gate.model import Finding, fingerprint
from ark_lsp.gate.tree_files import read_text


@dataclass(frozen=True)
class SourceScopes:
    """A source file's lines and the line spans of its functions and classes."""

    lines: tuple[str, ...]
    spans: tuple[tuple[int, int, str], ...]
    """``(first line, last line, qualified name)``, outer before inner."""

    @classmethod
    def of(cls, text: str) -> SourceScopes:
        """The scopes of a source text; none when it does not parse (its lines still count)."""
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            return cls(tuple(text.splitlines()), ())
        spans: list[tuple[int, int, str]] = []
        _collect_spans(tree, "", spans)
        return cls(tuple(text.splitlines()), tuple(spans))

    def enclosing(self, line: int) -> str:
        """The qualified name of the innermost function or class holding ``line``; "" outside."""
        name = ""
        for first, last, qualname in self.spans:
            if first <= line <= last:
                name = qualname  # later spans that hold the line are nested deeper
        return name

    def text(self, line: int) -> str:
        """The text of a 1-based line; "" past the end."""
        return self.lines[line - 1] if 1 <= line <= len(self.lines) else ""


def _collect_spans(node: ast.AST, prefix: str, spans: list[tuple[int, int, str]]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            qualname = f"{prefix}.{child.name}" if prefix else child.name
            first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
            spans.append((first, child.end_lineno or child.lineno, qualname))
            _collect_spans(child, qualname, spans)
        else:
            _collect_spans(child, prefix, spans)


class TreeSources:
    """The scopes of a tree's files, each file read (bounded) and parsed once."""

    def __init__(self, tree: Path) -> None:
        self.tree = tree
        self._scopes: dict[str, SourceScopes] = {}

    def scopes(self, relative: str) -> SourceScopes:
        """The scopes of one file of the tree; empty when it cannot be read."""
        if relative not in self._scopes:
            self._scopes[relative] = SourceScopes.of(read_text(self.tree, relative) or "")
        return self._scopes[relative]

    def locate(self, relative: str, line: int, code: str, message: str) -> tuple[str, str]:
        """The enclosing name and the fingerprint of a tool's message at a line of a file.

        A message about the whole file (line 0 or below) has no line text;
        its own words stand in for it.
        """
        scopes = self.scopes(relative)
        if line < 1:
            return "", fingerprint(code, "", message)
        symbol = scopes.enclosing(line)
        return symbol, fingerprint(code, symbol, scopes.text(line))


def new_findings(base: Iterable[Finding], head: Iterable[Finding]) -> tuple[Finding, ...]:
    """The head's findings the base did not have, each fingerprint counted as often as it occurs.

    Two identical type errors where the base had one make one new error.
    """
    remaining = Counter(finding.fingerprint for finding in base)
    new: list[Finding] = []
    for finding in head:
        if remaining[finding.fingerprint] > 0:
            remaining[finding.fingerprint] -= 1
        else:
            new.append(finding)
    return tuple(new)
