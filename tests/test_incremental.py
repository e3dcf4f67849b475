"""Re-parsing only the edited statements must give exactly the tree a full parse gives."""

from __future__ import annotations

import ast
import random
import sysconfig
from pathlib import Path

import pytest

from ark_lsp.analysis import analyze, analyze_edit
from ark_lsp.analysis.incremental import parse

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SAMPLES = ["textwrap.py", "dataclasses.py", "json/decoder.py"]

# Lines a user might type, including ones that open or close a block or a string.
TYPED = [
    b"x = 1\n",
    b"    return value\n",
    b"def typed(a, b):\n",
    b"\n",
    b"# a comment\n",
    b'"""\n',
    b"eval(data)\n",
    b"class Fresh:\n",
    b"        nested = True\n",
    b"else:\n",
    b"a = 1; b = 2\n",
    b"@decorator\n",
    b"x = (\n",
    b")\n",
]


def dumped(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=True)


def full(data: bytes) -> str | None:
    try:
        return dumped(ast.parse(data))
    except SyntaxError:
        return None


def edit(lines: list[bytes], rng: random.Random) -> list[bytes]:
    at = rng.randrange(len(lines) + 1)
    kind = rng.choice(["insert", "delete", "replace", "retype"])
    if kind == "insert":
        return [*lines[:at], rng.choice(TYPED), *lines[at:]]
    if kind == "delete" and lines:
        at = min(at, len(lines) - 1)
        return [*lines[:at], *lines[at + 2 :]]
    if kind == "replace" and lines:
        at = min(at, len(lines) - 1)
        return [*lines[:at], rng.choice(TYPED), *lines[at + 1 :]]
    if lines:  # retype: change a character inside a line, as typing does
        at = min(at, len(lines) - 1)
        line = lines[at]
        return [*lines[:at], line[:-1] + b"z" + line[-1:], *lines[at + 1 :]]
    return lines


@pytest.mark.parametrize("sample", SAMPLES)
def test_random_edits_give_the_tree_of_a_full_parse(sample: str) -> None:
    rng = random.Random(sample)
    lines = (STDLIB / sample).read_bytes().splitlines(keepends=True)
    previous = parse(b"".join(lines))
    spliced = 0
    for _ in range(200):
        lines = edit(lines, rng)
        data = b"".join(lines)
        expected = full(data)
        try:
            parsed = parse(data, previous)
        except SyntaxError:
            assert expected is None
            # The user fixes the typo: start again from a text that parses.
            lines = (STDLIB / sample).read_bytes().splitlines(keepends=True)
            previous = parse(b"".join(lines))
            continue
        assert dumped(parsed.tree) == expected
        spliced += parsed.tree is not previous.tree
        previous = parsed
    assert spliced > 50


def test_an_edit_that_breaks_the_file_reports_the_same_error_as_a_full_analysis() -> None:
    text = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"
    _, previous = analyze_edit(text, "m.py", None, None)
    broken = text.replace("return 2", "return (2")
    report, kept = analyze_edit(broken, "m.py", None, previous)
    assert kept is None
    assert report.violations == analyze(broken, "m.py").violations


def test_an_edited_report_equals_a_fresh_one() -> None:
    text = (STDLIB / "textwrap.py").read_text()
    _, previous = analyze_edit(text, "textwrap.py", None, None)
    edited = text.replace("    def _munge_whitespace", "    eval(x)\n\n    def _munge_whitespace")
    report, _ = analyze_edit(edited, "textwrap.py", None, previous)
    assert report == analyze(edited, "textwrap.py")
    assert [v.rule for v in report.violations] == ["ARK001"]
