"""Inputs at the edges of a function's comparisons, where its branches turn."""

from __future__ import annotations

import ast
import textwrap

from ark_lsp.generate.characterize.boundaries import edge_values

SOURCE = textwrap.dedent(
    """\
    def check(count, label, mode, flag, other):
        if count > 0xFF:
            raise OverflowError(count)
        if -1 <= count < 2.5:
            pass
        if len(label) > 63 or len(other.name) > 3:
            return False
        if mode == "strict" or mode in ("loose", "fast", 3):
            return True
        if flag is True:
            return None

        def inner(count):
            return count == 1000

        return count
    """
)


def edges_of(source: str) -> dict[str, tuple[str, ...]]:
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    return dict(edge_values(function, frozenset(a.arg for a in function.args.args)))


def test_each_parameter_gets_the_values_where_its_comparisons_turn() -> None:
    edges = edges_of(SOURCE)

    # 0xFF and its neighbours, -1 and 2.5; not the nested function's 1000.
    assert edges["count"] == ("255", "256", "254", "-1", "0", "-2", "2.5")
    # Strings of the length compared, and one past it (a 64-character label is refused).
    assert edges["label"] == (repr("a" * 63), repr("a" * 64), repr("a" * 62))
    assert edges["mode"] == ("'strict'", "'loose'", "'fast'")
    assert "flag" not in edges and "other" not in edges
