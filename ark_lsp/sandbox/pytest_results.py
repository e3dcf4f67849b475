"""Per-test results of a pytest run, read from the JUnit XML report pytest wrote in the sandbox.

pytest is run with ``-o junit_family=xunit1``, whose test cases carry the
file and the (0-based) line of each test. A failure's own line comes from
the end of its traceback, which pytest writes as ``path:line: Exception``.
"""

from __future__ import annotations

import enum
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass

JUNIT_REPORT = ".ark-pytest-junit.xml"
"""Where, relative to the work folder, pytest writes the report ARK reads back."""

PYTEST_ARGS: tuple[str, ...] = (
    "-p",
    "no:cacheprovider",
    "-o",
    "junit_family=xunit1",
    "-q",
)
"""What ARK adds to every pytest command line it runs, besides ``--junitxml``."""

DETAIL_CAP = 8000
_CRASH_LINE = re.compile(r"^(?P<path>[^\s:][^:\n]*\.py):(?P<line>\d+): ", re.MULTILINE)


class TestOutcome(enum.StrEnum):
    """How one test ended."""

    __test__ = False  # a library class, not a test class for pytest to collect

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class TestCase:
    """One test's result; lines are 1-based; ``path`` is relative to the work folder."""

    __test__ = False

    nodeid: str
    path: str
    name: str
    line: int | None
    """The ``def`` line of the test."""
    outcome: TestOutcome
    message: str = ""
    failure_line: int | None = None
    """Where in ``path`` the failure was raised, when the traceback says."""
    duration_s: float = 0.0
    details: str = ""
    """The traceback or skip reason, capped."""

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``--format json``."""
        return {
            "nodeid": self.nodeid,
            "path": self.path,
            "name": self.name,
            "line": self.line,
            "outcome": self.outcome.value,
            "message": self.message,
            "failure_line": self.failure_line,
            "duration_s": self.duration_s,
        }


def _module_of(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def _nodeid(path: str, classname: str, name: str) -> str:
    module = _module_of(path)
    if classname.startswith(module + "."):
        return "::".join([path, *classname[len(module) + 1 :].split("."), name])
    return f"{path}::{name}"


def _failure_line(text: str, path: str) -> int | None:
    lines = [int(m.group("line")) for m in _CRASH_LINE.finditer(text) if m.group("path") == path]
    return lines[-1] if lines else None


def parse_junit(data: bytes) -> list[TestCase]:
    """The test cases of a pytest JUnit XML report (xunit1); ``[]`` when it cannot be read."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return []
    cases: list[TestCase] = []
    for case in root.iter("testcase"):
        path = case.get("file", "")
        name = case.get("name", "")
        classname = case.get("classname", "")
        line_text = case.get("line")
        line = int(line_text) + 1 if line_text and line_text.isdigit() else None
        outcome, message, details = TestOutcome.PASSED, "", ""
        for child, kind in (
            (case.find("failure"), TestOutcome.FAILED),
            (case.find("error"), TestOutcome.ERROR),
            (case.find("skipped"), TestOutcome.SKIPPED),
        ):
            if child is not None:
                outcome = kind
                message = child.get("message", "")
                details = (child.text or "")[-DETAIL_CAP:]
                break
        try:
            duration = float(case.get("time", "0"))
        except ValueError:
            duration = 0.0
        cases.append(
            TestCase(
                nodeid=_nodeid(path, classname, name) if path else f"{classname}::{name}",
                path=path,
                name=name,
                line=line,
                outcome=outcome,
                message=message,
                failure_line=_failure_line(details, path) if details else None,
                duration_s=duration,
                details=details,
            )
        )
    return cases


def summary(cases: list[TestCase]) -> dict[str, int]:
    """Counts per outcome, every outcome present."""
    counts = {outcome.value: 0 for outcome in TestOutcome}
    for case in cases:
        counts[case.outcome.value] += 1
    return counts
