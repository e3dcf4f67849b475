"""What coverage.py saw in the sandbox, read back as untrusted data.

The gate's driver (:mod:`ark_lsp.gate.sandbox_driver`) writes a compact
JSON of the files it measured. The code under test runs in the same
process and could write anything there, so the report is read like every
sandbox output: at most :data:`~ark_lsp.sandbox.channel.ARTIFACT_CAP`
bytes, no more than :data:`MAX_LINE_ENTRIES` lines or branches per list and
:data:`MAX_TESTS` test names, line numbers that are plausible, test names
capped and stripped of control characters, and only the files ARK asked
to measure. Whatever does not have the expected shape is dropped; a report
that cannot be read at all is ``None``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ark_lsp.sandbox.channel import ARTIFACT_CAP
from ark_lsp.sandbox.pytest_results import FIELD_CAP, MAX_CASES, clean

MAX_LINE = 10_000_000
"""No source file has ten million lines: a larger number is not a line."""
MAX_LINE_ENTRIES = 200_000
"""Lines (or branches, or tested lines) read per list of one file."""
MAX_TESTS = MAX_CASES
"""Test names read from one report."""

Branch = tuple[int, int]
"""A branch as coverage.py gives it: from a line to a line, a negative target leaving the
function that starts at that line."""


@dataclass(frozen=True)
class FileCoverage:
    """The lines and branches of one file the tests ran or missed, and which tests ran each."""

    executed: frozenset[int] = frozenset()
    missing: frozenset[int] = frozenset()
    executed_branches: frozenset[Branch] = frozenset()
    missing_branches: frozenset[Branch] = frozenset()
    tests: Mapping[int, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    """The pytest node ids that ran each line (lines run at import time have none)."""
    possible_branches: frozenset[Branch] | None = None
    """Every branch of the file, from coverage.py's static analysis (taken or not); None
    when the report does not say."""

    @property
    def branches(self) -> frozenset[Branch]:
        """The file's branches: each line's count does not depend on which were taken."""
        if self.possible_branches is not None:
            return self.possible_branches
        return self.executed_branches | self.missing_branches

    @property
    def statements(self) -> frozenset[int]:
        """The executable lines: comments, blank lines and docstrings are not among them."""
        return self.executed | self.missing


@dataclass(frozen=True)
class CoverageReport:
    """What coverage.py measured of the files the gate asked about."""

    files: Mapping[str, FileCoverage]
    version: str = ""
    """coverage.py's version in the sandbox."""


def _line(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_LINE:
        return value
    return None


def _lines(value: object) -> frozenset[int]:
    if not isinstance(value, list):
        return frozenset()
    return frozenset(n for n in map(_line, value[:MAX_LINE_ENTRIES]) if n is not None)


def _branches(value: object) -> frozenset[Branch]:
    if not isinstance(value, list):
        return frozenset()
    found: set[Branch] = set()
    for pair in value[:MAX_LINE_ENTRIES]:
        if not (isinstance(pair, list) and len(pair) == 2):
            continue
        start, end = _line(pair[0]), pair[1]
        if start is None or not isinstance(end, int) or isinstance(end, bool):
            continue
        if _line(abs(end)) is not None:
            found.add((start, end))
    return frozenset(found)


def _tests(names: object) -> list[str | None]:
    if not isinstance(names, list):
        return []
    kept: list[str | None] = []
    for name in names[:MAX_TESTS]:
        text = clean(name, FIELD_CAP) if isinstance(name, str) else ""
        kept.append(text if text and text == name else None)
    return kept


def _line_tests(value: object, names: list[str | None]) -> dict[int, frozenset[str]]:
    if not isinstance(value, dict):
        return {}
    found: dict[int, frozenset[str]] = {}
    for key, ids in list(value.items())[:MAX_LINE_ENTRIES]:
        line = _line(int(key)) if isinstance(key, str) and key.isdigit() and len(key) < 9 else None
        if line is None or not isinstance(ids, list):
            continue
        tests = {
            name
            for index in ids[:MAX_TESTS]
            if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(names)
            and (name := names[index]) is not None
        }  # fmt: skip
        found[line] = frozenset(tests)
    return found


def _file(entry: Mapping[str, Any], names: list[str | None]) -> FileCoverage:
    missing = _lines(entry.get("missing"))
    # A line the report calls both run and missed is missed: doubt never counts as tested.
    executed = _lines(entry.get("executed")) - missing
    missing_branches = _branches(entry.get("missing_branches"))
    return FileCoverage(
        executed=executed,
        missing=missing,
        executed_branches=_branches(entry.get("executed_branches")) - missing_branches,
        missing_branches=missing_branches,
        tests=MappingProxyType(_line_tests(entry.get("contexts"), names)),
        possible_branches=(
            _branches(entry["branch_arcs"]) if isinstance(entry.get("branch_arcs"), list) else None
        ),
    )


def read_coverage(data: bytes, measured: Collection[str]) -> CoverageReport | None:
    """The report the driver wrote, for the files in ``measured`` only; None if unreadable."""
    if not data or len(data) >= ARTIFACT_CAP:
        return None  # a report cut at the cap is not whole
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError, MemoryError):
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("files"), dict):
        return None
    names = _tests(raw.get("tests"))
    files = {
        path: _file(entry, names)
        for path, entry in raw["files"].items()
        if path in measured and isinstance(entry, dict)
    }
    version = raw.get("version")
    return CoverageReport(
        MappingProxyType(files), clean(version, 40) if isinstance(version, str) else ""
    )
