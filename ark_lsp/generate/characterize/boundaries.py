"""Inputs at the edges of a function's own comparisons: where its branches turn.

itsdangerous' ``int_to_bytes`` raises past ``0xFFFFFFFFFFFFFFFF`` and idna's
``valid_label_length`` is ``False`` past 63 characters; sample values (``0``,
``100000``, ``'abc'``) never reach either branch, so the tests never run it
and the gate's coverage check fails on the new line. The function's text
says where the edges are: a parameter compared with a literal gets that
literal and its neighbours (``n - 1``, ``n``, ``n + 1``), one whose
``len()`` is compared gets strings of those lengths, and one compared for
equality or membership with strings gets those strings.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping

MAX_PER_PARAMETER = 12
"""Edge values tried per parameter: enough for a few comparisons (a value within one of
two ranges, ``0 <= c <= 10 or 20 <= c <= 30``, has twelve)."""
MAX_LENGTH = 100
"""Longest string made to reach a length comparison: a longer one is no readable row."""

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def edge_values(
    node: ast.FunctionDef | ast.AsyncFunctionDef, parameters: frozenset[str]
) -> Mapping[str, tuple[str, ...]]:
    """Per parameter, the literal texts at the edges of the comparisons the body makes of it."""
    found: dict[str, list[str]] = {}
    for name, value in _compared(node):
        if name in parameters:
            values = found.setdefault(name, [])
            for text in value:
                if text not in values and len(values) < MAX_PER_PARAMETER:
                    values.append(text)
    return {name: tuple(values) for name, values in found.items()}


def _compared(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[tuple[str, list[str]]]:
    """``(parameter, values)`` for each comparison of a parameter with a literal."""
    pending: list[ast.AST] = list(node.body)
    while pending:
        child = pending.pop(0)
        if isinstance(child, _SCOPES):
            continue  # a scope of its own, with parameters of its own
        pending.extend(ast.iter_child_nodes(child))
        if not isinstance(child, ast.Compare):
            continue
        sides = [child.left, *child.comparators]
        for left, operator, right in zip(sides, child.ops, sides[1:], strict=False):
            for subject, other in ((left, right), (right, left)):
                yield from _edges(subject, operator, other)


def _edges(
    subject: ast.expr, operator: ast.cmpop, other: ast.expr
) -> Iterator[tuple[str, list[str]]]:
    if isinstance(subject, ast.Name):
        number = _number(other)
        if number is not None:
            yield subject.id, _around(number)
        elif isinstance(operator, ast.Eq | ast.NotEq) and _string(other) is not None:
            yield subject.id, [repr(_string(other))]
        elif isinstance(operator, ast.In | ast.NotIn) and isinstance(
            other, ast.Tuple | ast.List | ast.Set
        ):
            strings = [_string(element) for element in other.elts]
            yield subject.id, [repr(s) for s in strings if s is not None]
    elif (
        isinstance(subject, ast.Call)
        and isinstance(subject.func, ast.Name)
        and subject.func.id == "len"
        and len(subject.args) == 1
        and isinstance(subject.args[0], ast.Name)
    ):
        length = _number(other)
        if isinstance(length, int):
            sizes = [n for n in (length, length + 1, length - 1) if 0 <= n <= MAX_LENGTH]
            yield subject.args[0].id, [repr("a" * size) for size in sizes]


def _number(node: ast.expr) -> int | float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return -inner if inner is not None else None
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return None if isinstance(node.value, bool) else node.value
    return None


def _string(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _around(number: int | float) -> list[str]:
    """The number and, for an integer, its neighbours: ``> 63`` turns between 63 and 64."""
    if isinstance(number, float):
        return [repr(number)]
    return [str(n) for n in (number, number + 1, number - 1)]


__all__ = ["MAX_PER_PARAMETER", "edge_values"]
