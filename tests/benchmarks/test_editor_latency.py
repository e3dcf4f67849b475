"""The editor benchmark's hover points: definitions, and call sites of every kind ARK resolves."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from editor_latency import hover_points, interleaved, spread

SOURCE = """\
import os


class Child(Base):
    def save(self):
        self.clean()
        os.path.join("a")
        helper(1)
        make().run()
        return super().save()
"""


def test_hover_points_name_definitions_and_each_kind_of_call_site() -> None:
    definitions, calls = hover_points(SOURCE)
    lines = SOURCE.splitlines()

    def word(line: int, character: int) -> str:
        text = lines[line]
        start = character
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        end = character
        while end < len(text) and (text[end].isalnum() or text[end] == "_"):
            end += 1
        return text[start:end]

    assert [word(p.line, p.character) for p in definitions] == ["save"]
    # self.f, plain names, super() and super().f; module.f only on a plain name (os.path is not)
    assert [word(p.line, p.character) for p in calls] == [
        "clean",
        "helper",
        "make",
        "super",
        "save",
    ]


def test_hovers_mix_the_kinds_and_spread_over_the_file() -> None:
    assert interleaved([1, 2, 3], ["a"]) == [1, "a", 2, 3]  # type: ignore[list-item]
    assert spread(list(range(10)), 3) == [0, 3, 6]  # type: ignore[arg-type]


def test_the_edit_goals_are_the_issues_p50_and_p95_against_the_parse_floor() -> None:
    from editor_latency import goals

    results = {
        "parse_floor_ms": 40.0,
        "diagnostics_ms": {"p50": 16.0, "p95": 44.0},
        "hover_first_mixed_ms": {"p95": 10.0},
        "hover_definition_ms": {"p95": 1.0},
        "hover_call_site_ms": {"p95": 5.0},
        "memory_mb": {"resident": 90.0},
        "start_s": {"cold": 10.0, "warm": 0.5},
    }
    edits = [check for check in goals(results) if "didChange" in check["goal"]]
    assert [(check["value"], check["met"]) for check in edits] == [(0.4, True), (1.1, False)]
    assert "p50 <= 0.5x" in edits[0]["goal"] and "p95 <= 1.0x" in edits[1]["goal"]
