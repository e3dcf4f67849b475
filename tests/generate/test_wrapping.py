"""Long generated lines are split at their brackets, meaning kept, as a formatter splits them."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap

import pytest

from ark_lsp.generate.wrapping import wrap_long_lines

LIMIT = 60

LONG_TABLE = textwrap.dedent(
    """\
    import pytest


    @pytest.mark.parametrize(
        ("first", "second", "ratio", "gamma", "clamp", "digits", "expected"),
        [
            (10, 20, 0.5, 2, True, 3, "a (string, with) # brackets"),
            ([1, 2, 3], {"key": (1, 2)}, None, (4,), False, 0, 15.0),
        ],
    )
    def test_blend(first, second, ratio, gamma, clamp, digits, expected):
        assert blend(first, second, ratio, gamma, clamp, digits) == expected
        assert isinstance(blend(first, second, ratio, gamma, clamp), float)
        assert Palette(1, 2, 3).brightest(first, second, ratio, digits) == expected
        with pytest.raises(ValueError):
            asyncio.run(blend(first, second, ratio, gamma, clamp, digits))
    """
)


def test_every_line_fits_and_the_code_means_what_it_meant() -> None:
    wrapped = wrap_long_lines(LONG_TABLE, LIMIT, "    ")

    assert max(len(line) for line in wrapped.splitlines()) <= LIMIT, wrapped
    assert ast.dump(ast.parse(wrapped)) == ast.dump(ast.parse(LONG_TABLE))
    assert "        (\n            10,\n            20,\n" in wrapped
    assert '            "a (string, with) # brackets",\n        ),' in wrapped


def test_a_formatter_leaves_the_split_lines_as_they_are() -> None:
    wrapped = wrap_long_lines(LONG_TABLE, LIMIT, "    ")

    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--line-length", str(LIMIT), "-"],
        input=wrapped,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert formatted == wrapped


@pytest.mark.parametrize(
    ("line", "split"),
    [
        pytest.param(
            "values = [first_name_of_it for first_name_of_it, other in pairs]",
            ["values = [", "    first_name_of_it for first_name_of_it, other in pairs", "]"],
            id="a-comprehensions-commas-are-no-items",
        ),
        pytest.param(
            "value = table_of_everything[some_long_index_name + another_long_one]",
            ["value = table_of_everything[", "    some_long_index_name + another_long_one", "]"],
            id="a-subscripts-one-item-gets-no-comma",
        ),
        pytest.param(
            "value = (some_long_operand_name_here + another_long_operand_name_too)",
            ["value = (", "    some_long_operand_name_here + another_long_operand_name_too", ")"],
            id="a-parenthesized-expression-stays-no-tuple",
        ),
        pytest.param(
            "only = ('a single item in a tuple that is long enough to split',)",
            ["only = (", "    'a single item in a tuple that is long enough to split',", ")"],
            id="a-one-item-tuple-keeps-its-comma",
        ),
    ],
)
def test_a_comma_is_added_only_where_it_changes_nothing(line: str, split: list[str]) -> None:
    wrapped = wrap_long_lines(line + "\n", LIMIT, "    ")

    assert wrapped.splitlines() == split
    assert ast.dump(ast.parse(wrapped)) == ast.dump(ast.parse(line))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "x = call_something(first_argument, second_argument)  # a comment too\n",
            id="a-comment-line",
        ),
        pytest.param(
            'text = """\nkeep(this, long, line, of, text, inside, the, string, as, it, is)\n"""\n',
            id="inside-a-string",
        ),
        pytest.param(
            "name = 'one string literal much longer than the limit of the line'\n",
            id="no-bracket",
        ),
        pytest.param("def broken(first_argument, second_argument, third_one:\n", id="no-python"),
    ],
)
def test_what_cannot_be_split_safely_is_left_as_it_is(text: str) -> None:
    assert wrap_long_lines(text, LIMIT, "    ") == text
