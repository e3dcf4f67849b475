"""The functions of a Python source, and which lines each holds.

A function's qualified name joins the classes and functions around it with
dots (``Parser.feed``, ``outer.inner``); its lines run from its ``def`` to
its last line, decorators left out. A line belongs to the innermost function
that holds it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionSpan:
    """One function: its qualified name and the lines from its ``def`` to its end."""

    qualname: str
    line: int
    end_line: int

    def holds(self, line: int) -> bool:
        """Whether ``line`` is one of the function's."""
        return self.line <= line <= self.end_line


def function_spans(tree: ast.AST) -> tuple[FunctionSpan, ...]:
    """Every function and method of a parsed module, nested ones too, in source order."""
    found: list[FunctionSpan] = []

    def visit(node: ast.AST, scope: tuple[str, ...]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = (*scope, child.name)
                end = child.end_lineno or child.lineno
                found.append(FunctionSpan(".".join(name), child.lineno, end))
                visit(child, name)
            elif isinstance(child, ast.ClassDef):
                visit(child, (*scope, child.name))
            else:
                visit(child, scope)

    visit(tree, ())
    return tuple(sorted(found, key=lambda span: (span.line, span.end_line)))


def innermost(spans: Iterable[FunctionSpan], line: int) -> FunctionSpan | None:
    """The innermost function holding ``line``; None at module or class level."""
    holding = [span for span in spans if span.holds(line)]
    return max(holding, key=lambda span: span.line) if holding else None
