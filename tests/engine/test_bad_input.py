"""No input makes `analyze` raise; each fault is reported where it is."""

from __future__ import annotations

import codecs

import pytest

from ark_lsp.analysis import analyze
from ark_lsp.models import Span


def syntax_errors(report):
    return [(v.rule, v.span.line, v.span.column, v.message) for v in report.violations]


def test_syntax_error_is_reported_at_its_position_and_facts_survive() -> None:
    report = analyze("import os\n\ndef broken(:\n    pass\n", "tests/test_x.py")
    assert not report.parsed
    assert syntax_errors(report) == [("ARK000", 3, 11, "syntax error: invalid syntax")]
    assert report.tier == "testing"
    assert report.lines.total == 4


def test_half_typed_code_is_an_error_not_an_exception() -> None:
    report = analyze("def f(x):\n    return x.\n", "m.py")
    assert [(v.rule, v.span.line) for v in report.violations] == [("ARK000", 2)]


def test_invalid_utf8_names_the_byte_and_line() -> None:
    report = analyze(b"x = 1\ny = '\xff\xfe'\n", "m.py")
    assert syntax_errors(report) == [
        ("ARK000", 2, 5, "file is not valid UTF-8: byte 0xff at line 2 cannot be decoded")
    ]
    assert report.lines.total == 2


def test_byte_order_mark_is_accepted_and_columns_ignore_it() -> None:
    report = analyze(codecs.BOM_UTF8 + b"def f():\n    pass\n", "m.py")
    assert report.parsed and report.encoding == "utf-8-sig"
    assert report.symbols[0].name_span == Span(1, 4, 1, 5)


def test_pep263_coding_line_is_honoured() -> None:
    source = "# -*- coding: latin-1 -*-\ndef café(ü='é'):\n    return ü\n".encode("latin-1")
    report = analyze(source, "m.py")
    assert report.parsed and report.encoding == "iso-8859-1"
    (symbol,) = report.symbols
    assert symbol.name == "café"
    assert symbol.signature is not None and symbol.signature.render() == "(ü='é')"


def test_bytes_invalid_for_the_declared_coding_are_reported() -> None:
    report = analyze(b"# coding: ascii\nx = '\xe9'\n", "m.py")
    assert [(v.rule, v.span.line) for v in report.violations] == [("ARK000", 2)]
    assert "ascii" in report.violations[0].message


def test_unknown_coding_is_reported() -> None:
    report = analyze(b"# coding: no-such-codec\nx = 1\n", "m.py")
    assert report.violations[0].rule == "ARK000"
    assert "no-such-codec" in report.violations[0].message


@pytest.mark.parametrize("codec", ["rot13", "zlib_codec", "hex", "base64", "uu", "bz2"])
@pytest.mark.parametrize("as_text", [False, True], ids=["bytes", "editor-text"])
def test_a_coding_line_naming_no_text_encoding_is_refused(codec: str, as_text: bool) -> None:
    source = f"#!/usr/bin/env python\n# -*- coding: {codec} -*-\nx = 1\n"
    report = analyze(source if as_text else source.encode(), "m.py")
    assert syntax_errors(report) == [
        ("ARK000", 2, 0, f"unsupported encoding {codec!r}: not a text encoding")
    ]


@pytest.mark.parametrize("codec", ["punycode", "undefined"])
def test_a_text_codec_failing_without_a_position_is_reported_at_the_top(codec: str) -> None:
    report = analyze(f"# coding: {codec}\nx = 1\n".encode(), "m.py")
    assert [(v.rule, v.span.line) for v in report.violations] == [("ARK000", 1)]
    assert f"file is not valid {codec}" in report.violations[0].message


def test_null_byte_is_reported_where_it_is() -> None:
    report = analyze(b"a = 1\nb = 2\0\n", "m.py")
    assert syntax_errors(report) == [("ARK000", 2, 5, "source contains a null byte")]


def test_binary_garbage_is_an_error_not_an_exception() -> None:
    garbage = bytes(range(256)) * 64
    report = analyze(garbage, "m.py")
    assert not report.parsed
    assert report.violations[0].rule == "ARK000"


def test_non_ascii_text_before_a_definition_gives_code_point_columns() -> None:
    report = analyze("x = 'ünïcödé'; y = 1\nclass Ä: pass\n", "m.py")
    (symbol,) = report.symbols
    assert symbol.name_span == Span(2, 6, 2, 7)


def test_empty_file() -> None:
    report = analyze(b"", "m.py")
    assert report.parsed and report.symbols == () and report.lines.total == 0


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "-" * 100_000 + "1\n",
        "x = " + "(" * 5_000 + "1" + ")" * 5_000 + "\n",
        "".join("    " * depth + f"if x{depth}:\n" for depth in range(150)) + " " * 600 + "pass\n",
        "x = a" + ".b" * 100_000 + "\n",
    ],
    ids=["unary-chain", "parentheses", "indentation", "attribute-chain"],
)
def test_nesting_beyond_the_parser_is_reported(source: str) -> None:
    report = analyze(source, "m.py")
    assert not report.parsed
    assert report.violations[0].rule == "ARK000"


def test_nesting_beyond_pythons_recursion_limit_is_still_measured() -> None:
    # 2,000 nested additions parse, but a recursive visitor (radon's) overflows.
    source = "def f(a):\n    return " + "1 + " * 2_000 + "(a if a else 0)\n"
    report = analyze(source, "m.py")
    assert report.parsed
    assert [(s.name, s.complexity) for s in report.symbols] == [("f", 2)]


@pytest.mark.slow
def test_a_100000_line_file() -> None:
    body = "".join(
        f"def function_{n}(value: int = {n}) -> int:\n    if value:\n        return value\n"
        f"    return {n}\n\n"
        for n in range(20_000)
    )
    report = analyze(body, "big.py")
    assert report.lines.total == 100_000
    assert len(report.symbols) == 20_000
    assert {s.complexity for s in report.symbols} == {2}
    assert report.symbols[-1].span.line == 99_996
