"""Per-test results of a pytest run, read from the JUnit XML report pytest wrote in the sandbox.

pytest is run with ``-o junit_family=xunit1``, whose test cases carry the
file and the (0-based) line of each test. A failure's own line comes from
the end of its traceback, which pytest writes as ``path:line: Exception``.

The report is written by code in the sandbox, so it is read as untrusted
data: at most :data:`REPORT_CAP` bytes, no DTD (so no entities, internal or
external: pytest writes none, and expat's own limits stop a "billion laughs"
anyway), at most :data:`MAX_CASES` cases, every field capped and stripped of
control characters, and a file path kept only when it is relative and stays
inside the work folder.
"""

from __future__ import annotations

import enum
import functools
import math
import re
import textwrap
import unicodedata
import xml.etree.ElementTree as ElementTree
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from ark_lsp.sandbox.channel import ARTIFACT_CAP

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

REPORT_CAP = ARTIFACT_CAP
"""Bytes of a report that are read at all: the agent sends no more of a collected file."""
MAX_CASES = 200_000
"""Test cases read from one report; the rest are dropped."""
FIELD_CAP = 1000
"""Characters kept of a name, class name, path or message."""
DETAIL_CAP = 8000
_LINE_DIGITS = 7
"""No test file has ten million lines: a longer number is not a line."""
_CRASH_LINE = re.compile(r"^(?P<path>[^\s:][^:\n]*\.py):(?P<line>\d{1,7}): ", re.MULTILINE)


class CaseOutcome(enum.StrEnum):
    """How one test case ended."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    XFAILED = "xfailed"
    """Marked ``xfail``, and failed as expected: pytest counts it apart, neither a pass nor a
    skip."""
    XPASSED = "xpassed"
    """Marked ``xfail`` (not strict) and passed. The JUnit report cannot tell it from a pass:
    only :func:`summary`'s counts, from pytest's own summary line, have it."""


@dataclass(frozen=True)
class PytestCase:
    """One test's result; lines are 1-based; ``path`` is relative to the work folder."""

    nodeid: str
    path: str
    name: str
    line: int | None
    """The ``def`` line of the test."""
    outcome: CaseOutcome
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


def _nodeid(path: str, classname: str, name: str, files: Collection[str] | None = None) -> str:
    """The pytest id of a test: from the file that defines it and the module collecting it.

    They differ for a test function imported into another test module (jinja2's
    ``tests.py`` defines ``test_boolean``; a test module importing it collects it
    too): the collecting module, a file of the run that ``classname`` starts with,
    names it.
    """
    module = _module_of(path)
    if classname == module:
        return f"{path}::{name}"
    if classname.startswith(module + "."):
        return "::".join([path, *classname[len(module) + 1 :].split("."), name])
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        collecting = "/".join(parts[:end]) + ".py"
        if files is not None and collecting in files:
            return "::".join([collecting, *parts[end:], name])
    return f"{path}::{name}"


def _failure_line(text: str, path: str) -> int | None:
    lines = [int(m.group("line")) for m in _CRASH_LINE.finditer(text) if m.group("path") == path]
    return lines[-1] if lines else None


_SHORTENED = re.compile(
    r"\n\[(?:\+(?P<more>\d{1,7}) more lines?|truncated); full report in element text\]\Z"
)
"""The note pytest (9.1 on) ends a ``message`` it shortened with, in JUnit's own words."""


def _full_message(message: str, details: str, nodeid: str) -> str:
    """A failure's message without pytest's note that it was shortened: whole again if it can be.

    The note points to "element text", which no ARK user sees: the lines it
    dropped are the last ``E`` lines of the traceback, taken from there when
    they begin as the message does; else the message says how to see them.
    """
    note = _SHORTENED.search(message)
    if note is None:
        return message
    kept = message[: note.start()]
    blocks = _ERROR_BLOCK.findall(details)
    if blocks:
        lines = textwrap.dedent("\n".join(line[1:] for line in blocks[-1].splitlines()))
        full = "\n".join(line.rstrip() for line in lines.splitlines()).strip("\n")
        first = kept.split("\n", 1)[0]
        if first and full.startswith(first):
            return full
    more = note.group("more")
    dropped = f"+{more} more line{'s' * (more != '1')}" if more else "the rest"
    return f"{kept}\n[{dropped}: `ark test {nodeid}` shows the full report]"


class _NoDoctype(ElementTree.TreeBuilder):
    """Builds the tree, refusing any DTD before its declarations are read."""

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise ValueError("a report with a DTD is not pytest's")


def read_report(data: bytes) -> ElementTree.Element | None:
    """The root element of a JUnit XML report; None when it is not one ARK reads."""
    if not data or len(data) > REPORT_CAP:
        return None
    parser = ElementTree.XMLParser(target=_NoDoctype())
    try:
        parser.feed(data)
        root: ElementTree.Element = parser.close()
    except (ElementTree.ParseError, ValueError, RecursionError, MemoryError):
        return None
    return root


def report_cases(root: ElementTree.Element) -> list[ElementTree.Element]:
    """The report's ``testcase`` elements, at most :data:`MAX_CASES` of them."""
    cases: list[ElementTree.Element] = []
    for case in root.iter("testcase"):
        if len(cases) >= MAX_CASES:
            break
        cases.append(case)
    return cases


def clean(text: str | None, cap: int = FIELD_CAP, *, lines: bool = False) -> str:
    """``text`` capped, without control characters (terminal escapes); newlines kept if asked."""
    text = (text or "")[:cap]
    if text.isprintable():
        return text  # no control character (a report holds tens of thousands of names)
    kept = []
    for char in text:
        if (lines and char in "\n\t") or unicodedata.category(char)[0] != "C":
            kept.append(char)
    return "".join(kept)


@functools.lru_cache(maxsize=4096)
def work_path(text: str | None) -> str:
    """A relative POSIX path inside the work folder, or ``""`` for anything else."""
    if not text or len(text) > FIELD_CAP or clean(text) != text or "\\" in text:
        return ""
    path = PurePosixPath(text)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return ""
    return path.as_posix()


def _line(text: str | None) -> int | None:
    if text and text.isdigit() and len(text) <= _LINE_DIGITS:
        return int(text) + 1
    return None


def _duration(text: str | None) -> float:
    try:
        seconds = float(text or "0")
    except ValueError:
        return 0.0
    return seconds if math.isfinite(seconds) and seconds >= 0 else 0.0


def parse_junit(data: bytes, files: Collection[str] | None = None) -> list[PytestCase]:
    """The test cases of a pytest JUnit XML report (xunit1); ``[]`` when it cannot be read.

    With ``files``, a case's path is kept only when it names one of them
    (the files copied into the run); a case whose path is dropped still
    counts, at no file.
    """
    root = read_report(data)
    if root is None:
        return []
    cases: list[PytestCase] = []
    for case in report_cases(root):
        path = work_path(case.get("file"))
        if files is not None and path not in files:
            path = ""
        name = clean(case.get("name"))
        classname = clean(case.get("classname"))
        outcome, message, details = CaseOutcome.PASSED, "", ""
        for child, kind in (
            (case.find("failure"), CaseOutcome.FAILED),
            (case.find("error"), CaseOutcome.ERROR),
            (case.find("skipped"), CaseOutcome.SKIPPED),
        ):
            if child is not None:
                outcome = kind
                if kind is CaseOutcome.SKIPPED and child.get("type") == "pytest.xfail":
                    outcome = CaseOutcome.XFAILED
                message = clean(child.get("message"), lines=True)
                details = clean((child.text or "")[-DETAIL_CAP:], DETAIL_CAP, lines=True)
                break
        nodeid = _nodeid(path, classname, name, files) if path else f"{classname}::{name}"
        cases.append(
            PytestCase(
                nodeid=nodeid,
                path=path,
                name=name,
                line=_line(case.get("line")),
                outcome=outcome,
                message=_full_message(message, details, nodeid),
                failure_line=_failure_line(details, path) if details and path else None,
                duration_s=_duration(case.get("time")),
                details=details,
            )
        )
    return cases


_ERROR_LINE = re.compile(r"^E\s+(?P<text>\S.*)$", re.MULTILINE)
_CONFTEST = re.compile(r"ImportError while loading conftest '(?P<path>[^'\n]{1,500})'")
_INTERNAL_ERROR_LINE = re.compile(r"^INTERNALERROR>\s*(?P<text>\S.*)$", re.MULTILINE)
INTERNAL_ERROR = 3
"""pytest's exit code for an error of its own (or of a plugin, a hook, a conftest's hook)."""
USAGE_ERROR = 4
"""pytest's exit code for a command line (or ``addopts``) it could not parse."""
PYTEST_MISSING = "pytest is not installed in the sandbox's Python"
"""How :func:`setup_problem` begins when the sandbox has no pytest."""
NO_TESTS = "pytest collected no tests"
"""How :func:`setup_problem` begins when there was nothing to run."""
_PYTEST_EXIT_MEANING = {
    2: "pytest was interrupted",
    INTERNAL_ERROR: "pytest hit an internal error",
    USAGE_ERROR: "pytest could not start (a usage error)",
    5: NO_TESTS,
}
COLLECTION_FAILURE = "collection failure"
"""The message pytest's JUnit report gives a file that could not be collected."""


def _first_error(text: str) -> str:
    """The first ``E   ...`` line of pytest's output: the exception that stopped it."""
    found = _ERROR_LINE.search(text)
    return clean(found.group("text"), 300) if found else ""


_ERROR_BLOCK = re.compile(r"(?:^E(?:[ \t][^\n]*)?\n?)+", re.MULTILINE)
"""Consecutive ``E`` lines: what pytest says of one exception of a traceback."""
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?::[ \t]|$)")
"""An exception's own line: ``pkg.NotFoundError: message``, or a bare ``StopIteration``."""


def _raised(text: str) -> str:
    """The exception a traceback ended with: the last of a chain, the one pytest shows last.

    ``During handling of the above exception, another exception occurred``
    puts the cause the user needs last (a ``StopIteration`` inside
    ``importlib.metadata``, then its ``PackageNotFoundError``). Of that
    exception's ``E`` lines, the one naming it (a ``SyntaxError`` comes
    after the code it quotes); ``""`` without any.
    """
    blocks = _ERROR_BLOCK.findall(text)
    if not blocks:
        return ""
    lines = [line[1:].strip() for line in blocks[-1].splitlines()]
    lines = [line for line in lines if line]
    named = [line for line in lines if _EXCEPTION_LINE.match(line)]
    found = named[0] if named else (lines[0] if lines else "")
    return clean(found, 300)


def _work_relative(path: str, work_folder: str) -> str:
    """A path pytest printed in the sandbox, shown relative to the work folder when it can be."""
    if work_folder and path.startswith(work_folder.rstrip("/") + "/"):
        return path[len(work_folder.rstrip("/")) + 1 :]
    return PurePosixPath(path).name


MAX_CAUSES = 3
"""Causes of collection failures named in one message; more are counted."""


def setup_problem(
    exit_code: int | None,
    cases: Collection[PytestCase],
    stdout: str,
    stderr: str,
    work_folder: str = "",
    report_size: int = 0,
) -> str | None:
    """Why a pytest run is not a test result at all, or ``None`` when it is one.

    A conftest that fails to import, a file that cannot be collected, no
    pytest in the sandbox, no tests found: each is said with its cause
    (the exception pytest printed), so that it is never shown as a count of
    tests passed. A run killed by a limit (no exit code) is the limit's to
    report. A path is shown relative to ``work_folder``, where the run saw
    its files.
    """
    output = f"{stdout}\n{stderr}"
    if exit_code is None or (exit_code in (0, 1) and cases):
        return None
    if "No module named pytest" in output or "No module named 'pytest'" in output:
        return PYTEST_MISSING
    broken = [case for case in cases if case.message == COLLECTION_FAILURE]
    if exit_code == 2 and broken:
        # Each cause once, with the files it stopped: pyparsing's two files lacked two
        # modules, and the second went unsaid behind "(and 1 more)".
        by_cause: dict[str, list[str]] = {}
        for case in broken:
            cause = _raised(case.details) or _last_line(case.details) or _first_error(output)
            by_cause.setdefault(cause, []).append(case.path or case.name)
        parts = [
            f"{paths[0]}{f' (and {len(paths) - 1} more)' if len(paths) > 1 else ''}: {cause}"
            for cause, paths in list(by_cause.items())[:MAX_CAUSES]
        ]
        if len(by_cause) > MAX_CAUSES:
            parts.append(f"and {len(by_cause) - MAX_CAUSES} other cause(s)")
        return f"{len(broken)} test file(s) could not be collected: {'; '.join(parts)}"
    conftest = _CONFTEST.search(output)
    if conftest:
        cause = _raised(output[conftest.end() :])
        path = _work_relative(conftest.group("path"), work_folder)
        return f"{path} cannot be imported: {cause}" if cause else f"{path} cannot be imported"
    if exit_code in (0, 1):
        if report_size >= REPORT_CAP:
            summary = _last_line(stdout)
            return (
                f"pytest's report is larger than the {REPORT_CAP // 2**20} MiB ARK reads"
                + (f" (pytest: {summary})" if summary else "")
                + ": run fewer tests at once (ark test PATH...)"
            )
        # A conftest's hook pytest refuses (boltons' pytest_ignore_collect(path, ...) under
        # pytest 8) ends it in a bare traceback: its exception is the cause.
        cause = _first_error(output) or _traceback_error(output, work_folder)
        ended = f"pytest ended with exit code {exit_code} and reported no test"
        return f"{ended}: {cause}" if cause else ended
    meaning = _PYTEST_EXIT_MEANING.get(exit_code, f"pytest ended with exit code {exit_code}")
    cause = (
        (exit_code == INTERNAL_ERROR and _internal_error(output))
        or (exit_code == USAGE_ERROR and _usage_error(output, work_folder))
        or _first_error(output)
        or _last_line(stderr)
        or _last_line(stdout)
    )
    return f"{meaning}: {cause}" if cause else meaning


_TRACEBACK_ERROR = re.compile(
    r"^(?P<text>[A-Za-z_][\w.]*(?:Error|Exception)\b: .*(?:\n(?!\s|ark:|Traceback)\S.*){0,3})",
    re.MULTILINE,
)
"""A traceback's last line, the exception, with the lines its message goes on to."""


def _traceback_error(text: str, work_folder: str) -> str:
    """The exception a bare Python traceback ended with; its paths as the run saw them."""
    found = _TRACEBACK_ERROR.findall(text)
    if not found:
        return ""
    cause = " ".join(found[-1].split("\n"))
    if work_folder:
        cause = cause.replace(work_folder.rstrip("/") + "/", "")
    return clean(cause, 300)


_USAGE_ERROR = re.compile(r"^(?:ERROR: )?\S[^\n]*?: error: (?P<text>\S.*)$", re.MULTILINE)
"""argparse's line under pytest's ``usage:``: ``python -m pytest: error: unrecognized ...``."""
_CONFIG_FILE = re.compile(r"^\s+(?:inifile|configfile): (?P<path>\S.*)$", re.MULTILINE)


def _usage_error(text: str, work_folder: str) -> str:
    """What pytest's command line parser refused, and the configuration file it read.

    pytest prints its usage, then the error, then the configuration file and
    the root folder: the error says what (an option of a plugin the sandbox
    lacks, from the ``addopts`` of that file), not the root folder it ends with.
    """
    found = _USAGE_ERROR.search(text)
    if not found:
        return ""
    cause = f"error: {found.group('text').strip()}"
    config = _CONFIG_FILE.search(text, found.end())
    if config:
        cause += f" (from {_work_relative(config.group('path').strip(), work_folder)})"
    return clean(cause, 300)


def _internal_error(text: str) -> str:
    """The exception that ends pytest's INTERNALERROR traceback (its last line)."""
    lines = _INTERNAL_ERROR_LINE.findall(text)
    return clean(lines[-1], 300) if lines else ""


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return clean(lines[-1], 300) if lines else ""


_EXPLAINING_LINE = re.compile(r"^(?:FAIL|ERROR)\b:?[ \t]+\S.*$", re.MULTILINE)
"""A line a plugin ends a session with when it fails it (pytest-cov's ``FAIL Required test
coverage of 99% not reached. Total coverage: 93.00%``, after its ``ERROR: Coverage failure``)."""
_SUMMARY_LINE = re.compile(
    r"^=*[ \t]*(?:\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)"
    r"|no tests ran)\b.* in [\d.]+s\b.*$",
    re.MULTILINE,
)
"""pytest's last line: ``5 passed in 1.03s``, ``===== 2 failed, 5 passed in 1.03s =====``."""


def exit_reason(
    exit_code: int | None, cases: Collection[PytestCase], stdout: str, stderr: str
) -> str | None:
    """Why pytest ended non-zero although no test failed, or None when that is not so.

    A plugin can fail a session whose tests all passed (pytest-cov's
    ``--cov-fail-under``): the reason is the line it ended the run with,
    else pytest's own summary; never a warning that went to stderr.
    """
    if not exit_code or not cases:
        return None
    if any(case.outcome in (CaseOutcome.FAILED, CaseOutcome.ERROR) for case in cases):
        return None
    explained = _EXPLAINING_LINE.findall(stdout) or _EXPLAINING_LINE.findall(stderr)
    line = explained[-1] if explained else pytest_summary(stdout)
    said = f"pytest ended with exit code {exit_code} though no test failed"
    return f"{said}: {clean(line.strip(), 300)}" if line else said


def pytest_summary(stdout: str | None) -> str:
    """Pytest's summary line (``5 passed in 1.03s``), the last of ``stdout``; ``""`` if none."""
    found = _SUMMARY_LINE.findall(stdout or "")
    return found[-1].strip() if found else ""


_XPASSED = re.compile(r"\b(\d{1,9}) xpassed\b")


def summary(cases: Iterable[PytestCase], stdout: str | None = None) -> dict[str, int]:
    """Counts per outcome, every outcome present.

    A test marked ``xfail`` that passed is a pass in the JUnit report; pytest's
    summary line in ``stdout`` (``3 passed, 2 xfailed, 1 xpassed in 0.05s``)
    says how many of the passes were, and they are counted as ``xpassed``.
    """
    counts = {outcome.value: 0 for outcome in CaseOutcome}
    for case in cases:
        counts[case.outcome.value] += 1
    found = _XPASSED.search(pytest_summary(stdout))
    xpassed = min(int(found.group(1)), counts[CaseOutcome.PASSED.value]) if found else 0
    counts[CaseOutcome.PASSED.value] -= xpassed
    counts[CaseOutcome.XPASSED.value] += xpassed
    return counts
