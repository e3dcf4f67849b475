"""The gate's ``mutation`` check: the tests notice small faults in the changed functions.

Mutants are made of the changed lines of the change's functions only (see
:mod:`ark_lsp.gate.mutants` for the operators, and why ARK makes them itself
rather than with mutmut or cosmic-ray), at most ``[tool.ark.gate]
max_mutants`` of them, spread over the functions in turn. Each mutant is run
against the tests that ran its lines in the change's suite (coverage.py's
per-test contexts, see :mod:`ark_lsp.gate.suite_runs`), and only those that
passed there: a mutant no test runs survives without a run. Without
coverage.py in the sandbox every mutant runs against the whole suite, which
must then pass on the change.

All mutants run in one sandbox run: the driver applies each in turn, runs
pytest in a child with the mutant's timeout (then kills it), and puts the
file back. A mutant is **killed** when its tests fail or cannot even be
collected, or when they run past its timeout (a mutant that makes a loop
endless is caught by it; mutmut and cosmic-ray count timeouts as killed
too); it **survives** when they pass. A run that ends another way (pytest
cannot find the tests) is an error, left out of the score. The score is
killed / (killed + survived), and must reach ``mutation_score`` (0.6 by
default). Each survivor is a finding naming the line, the operator and the
mutated source, so a person sees what to test.

A timeout must mean a hang, not a slow test or a loaded machine, so each
mutant's is scaled, as mutmut's is, from the time its tests took unmutated
in the change's suite run (their JUnit times, or the whole run's for the
whole suite): ``max(mutant_timeout, TIMEOUT_FACTOR * clean +
TIMEOUT_CONSTANT)`` seconds, ``[tool.ark.gate] mutant_timeout`` being the
floor. The summary gives the timeouts that killed mutants, and how long
their tests took unmutated, so a person can tell a hang from a slow test.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ark_lsp.gate.coverage_report import CoverageReport
from ark_lsp.gate.functions import function_spans
from ark_lsp.gate.model import (
    CheckResult,
    CheckStatus,
    Finding,
    FunctionMetrics,
    GateInput,
    fingerprint,
    not_run,
)
from ark_lsp.gate.mutants import Mutant, mutants_of, parses
from ark_lsp.gate.suite_runs import RESULTS, SuiteRun, SuiteRuns, unfinished, with_timeout
from ark_lsp.sandbox import Limits, Outcome
from ark_lsp.sandbox.channel import ARTIFACT_CAP

NAME = "mutation"
MUTANT_PYTEST_ARGS = ("-x", "-q", "-p", "no:cacheprovider")
"""pytest's arguments for a mutant: the first failure is enough to kill it."""
MAX_NODE_IDS = 100
"""Tests named one by one for a mutant; beyond, their files are run whole."""
SESSION_SLACK = 30.0
"""Seconds the sandbox run gets beyond its mutants' timeouts (starting, copying)."""
TIMEOUT_FACTOR = 5.0
"""How many times their unmutated time a mutant's tests may take before they count as hung.

The unmutated time was measured under coverage.py, which slows the tests
itself: the margin is larger still than it reads."""
TIMEOUT_CONSTANT = 2.0
"""Seconds a mutant's run gets besides its tests' time: pytest collecting them."""
PER_MUTANT_SLACK = 2.0
"""Seconds a mutant may take beyond its timeout (writing the file, killing the tests)."""
RESULT_LINE_CAP = 1000
STATUSES = frozenset({"killed", "survived", "timeout", "error"})


@dataclass(frozen=True)
class _Judged:
    """How one mutant ended."""

    mutant: Mutant
    status: str
    """``killed``, ``survived``, ``timeout``, ``error``, ``untested`` (no test runs it) or
    ``unjudged`` (the sandbox run ended first)."""
    seconds: float | None = None
    timeout: float | None = None
    """Seconds its tests were given, when they ran."""
    clean_seconds: float | None = None
    """Seconds its tests took unmutated, in the change's suite run."""

    @property
    def killed(self) -> bool:
        return self.status in ("killed", "timeout")

    @property
    def survived(self) -> bool:
        return self.status in ("survived", "untested")


def choose(candidates: Sequence[Mutant], sources: Mapping[str, bytes], most: int) -> list[Mutant]:
    """At most ``most`` mutants that parse, spread over the functions and lines in turn."""
    by_function: dict[tuple[str, str], dict[int, list[Mutant]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for mutant in candidates:
        by_function[(mutant.path, mutant.qualname)][mutant.line].append(mutant)
    queues: list[list[Mutant]] = []
    for lines in by_function.values():
        # Within a function, each line's first mutant, then each line's second, ...
        ordered = [lines[line] for line in sorted(lines)]
        depth = max(len(group) for group in ordered)
        queues.append([g[i] for i in range(depth) for g in ordered if i < len(g)])
    chosen: list[Mutant] = []
    while len(chosen) < most and any(queues):
        for queue in queues:
            while queue:
                mutant = queue.pop(0)
                if parses(sources[mutant.path], mutant):
                    chosen.append(mutant)
                    break
            if len(chosen) >= most:
                break
    return sorted(chosen, key=lambda m: (m.path, m.line, m.column, m.key))


def _tests_for(mutant: Mutant, report: CoverageReport, head: SuiteRun) -> list[str] | None:
    """The passing tests that run the mutant's lines; None when no test runs them.

    ``[]`` (the whole suite) for lines that ran, but outside any one test
    (called while the tests were collected), when the whole suite passed.
    """
    measured = report.files.get(mutant.path)
    if measured is None:
        return None
    lines = range(mutant.first, mutant.last + 1)
    ids: set[str] = set()
    for line in lines:
        ids |= measured.tests.get(line, frozenset())
    ids &= head.passed
    if not ids:
        ran = any(line in measured.executed for line in lines)
        return [] if ran and not head.failures else None
    if len(ids) > MAX_NODE_IDS:
        return sorted({nodeid.split("::", 1)[0] for nodeid in ids})
    return sorted(ids)


def clean_seconds(tests: Sequence[str], head: SuiteRun) -> float:
    """The seconds ``tests`` took unmutated in the change's suite run ``head``.

    ``tests`` are node ids or whole files, as :func:`_tests_for` gives them;
    ``[]``, the whole suite, is the whole run's time.
    """
    if not tests:
        return head.result.duration_ms / 1000
    wanted = set(tests)
    return sum(
        case.duration_s
        for case in head.tests.cases
        if case.nodeid in wanted or case.nodeid.split("::", 1)[0] in wanted
    )


def mutant_timeout(clean: float, floor: float) -> float:
    """The seconds a mutant's tests may take, when they took ``clean`` unmutated (see module)."""
    return round(max(floor, TIMEOUT_FACTOR * clean + TIMEOUT_CONSTANT), 1)


def read_results(data: bytes, sent: Mapping[str, Mutant]) -> dict[str, tuple[str, float | None]]:
    """The driver's verdicts, by mutant id, read as untrusted data: only ids ARK sent."""
    found: dict[str, tuple[str, float | None]] = {}
    for raw_line in data[:ARTIFACT_CAP].splitlines():
        if len(raw_line) > RESULT_LINE_CAP:
            continue
        try:
            entry = json.loads(raw_line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(entry, dict):
            continue
        key, status, seconds = entry.get("id"), entry.get("status"), entry.get("seconds")
        if not isinstance(key, str) or key not in sent or status not in STATUSES:
            continue
        if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0):
            seconds = None
        found.setdefault(key, (str(status), float(seconds) if seconds is not None else None))
    return found


def _head_tests(head: SuiteRun, limits: Limits) -> tuple[CoverageReport | None, str | None]:
    """The coverage to pick each mutant's tests from, or why the mutants cannot be judged."""
    if head.problem is not None:
        return None, f"the tests could not run: {head.problem}"
    stopped = unfinished("the change's suite", head, limits)
    if stopped:
        return None, stopped
    if head.coverage is not None:
        return head.coverage, None
    if head.failures:
        return None, (
            "without coverage.py in the sandbox every mutant would run the whole suite, and "
            f"{len(head.failures)} test(s) already fail on the change"
        )
    return None, None


def check_mutation(gate: GateInput, runs: SuiteRuns) -> CheckResult:
    """The share of the changed functions' mutants the tests kill (see the module)."""
    started = time.perf_counter()
    sources = runs.head_files()
    if isinstance(sources, str):
        return _timed(not_run(NAME, sources), started)
    candidates = [
        mutant
        for path in runs.measured
        if path in sources
        for mutant in mutants_of(path, sources[path], gate.changed_lines(path))
    ]
    chosen = choose(candidates, sources, gate.settings.max_mutants)
    if not chosen:
        summary = f"{NAME}: no mutants: {_why_none(gate, runs.measured, sources, candidates)}"
        return _timed(CheckResult(NAME, CheckStatus.PASSED, summary), started)
    head = runs.head_suite()
    report, problem = _head_tests(head, runs.limits)
    if problem is not None:
        return _timed(not_run(NAME, problem), started)

    judged: dict[str, _Judged] = {}
    to_run: list[dict[str, object]] = []
    clean: dict[str, float] = {}
    timeouts: dict[str, float] = {}
    for mutant in chosen:
        tests: list[str] | None = []  # the whole suite
        if report is not None:
            tests = _tests_for(mutant, report, head)
        if tests is None:
            judged[mutant.key] = _Judged(mutant, "untested")
            continue
        clean[mutant.key] = clean_seconds(tests, head)
        timeouts[mutant.key] = mutant_timeout(clean[mutant.key], gate.settings.mutant_timeout)
        to_run.append({"id": mutant.key, "path": mutant.path, "first": mutant.first,
                       "last": mutant.last, "text": mutant.text, "tests": tests,
                       "timeout": timeouts[mutant.key]})  # fmt: skip
    session_seconds = 0.0
    if to_run:
        budget = sum(timeouts.values()) + len(to_run) * PER_MUTANT_SLACK + SESSION_SLACK
        outcome = _run_session(gate, runs, to_run, {m.key: m for m in chosen}, budget)
        if isinstance(outcome, str):
            return _timed(not_run(NAME, outcome), started)
        verdicts, session_seconds = outcome
        by_key = {mutant.key: mutant for mutant in chosen}
        for entry in to_run:
            key = str(entry["id"])
            status, seconds = verdicts.get(key, ("unjudged", None))
            judged[key] = _Judged(by_key[key], status, seconds, timeouts[key], clean[key])
    return _timed(_result(gate, sources, list(judged.values()), session_seconds), started)


def _run_session(
    gate: GateInput,
    runs: SuiteRuns,
    to_run: list[dict[str, object]],
    sent: Mapping[str, Mutant],
    budget: float,
) -> tuple[dict[str, tuple[str, float | None]], float] | str:
    """Run the mutants in one sandbox run of ``budget`` seconds at most.

    Their verdicts and the run's seconds, or why they could not be run.
    """
    files = runs.head_files()
    assert isinstance(files, dict)
    spec = {
        "mode": "mutants",
        "pytest_args": list(MUTANT_PYTEST_ARGS),
        "timeout": gate.settings.mutant_timeout,
        "results": RESULTS,
        "mutants": to_run,
    }
    request = runs.driver_request(
        files, spec, collect=(RESULTS,), limits=with_timeout(runs.limits, budget),
        target="gate: mutants of the change",
    )  # fmt: skip
    result = runs.run_driver(request)
    if result.outcome in (Outcome.ERROR, Outcome.CANCELLED):
        return f"the mutants could not be run: {result.error or result.outcome.value}"
    verdicts = read_results(result.artifacts.get(RESULTS, b""), sent)
    if not verdicts:
        why = result.error or (result.stderr.strip().splitlines() or ["no verdicts"])[-1]
        return f"the sandbox judged no mutant ({result.outcome.value}: {why[:300]})"
    return verdicts, result.duration_ms / 1000


def _survivor(judged: _Judged) -> Finding:
    mutant = judged.mutant
    why = "no test runs this line" if judged.status == "untested" else "the tests still pass"
    return Finding(
        check=NAME,
        path=mutant.path,
        line=mutant.line,
        code=mutant.operator,
        message=f"mutant survived ({mutant.description}; {why}): {mutant.mutated}",
        fingerprint=fingerprint(
            NAME, mutant.operator, mutant.description, mutant.qualname, mutant.original
        ),
        severity="error",
        symbol=mutant.qualname,
    )


def _why_none(
    gate: GateInput, measured: Sequence[str], sources: Mapping[str, bytes], candidates: list[Mutant]
) -> str:
    """Why the changed code gave no mutant: no code in a function, or none that mutates."""
    if candidates:
        return f"none of the {len(candidates)} mutant(s) of the changed lines parses"
    written = 0
    for path in measured:
        changed = gate.changed_lines(path)
        if path not in sources or not changed:
            continue
        try:
            spans = function_spans(ast.parse(sources[path]))
        except (SyntaxError, ValueError):
            continue
        lines = sources[path].splitlines()
        written += sum(
            1
            for line in changed
            if 0 < line <= len(lines)
            and lines[line - 1].strip()
            and not lines[line - 1].lstrip().startswith(b"#")
            and any(span.holds(line) for span in spans)
        )
    if written:
        return f"no mutation applies to the {written} changed line(s) in functions"
    return "the change wrote no code in a function"


def _function_lines(sources: Mapping[str, bytes], paths: set[str]) -> dict[tuple[str, str], int]:
    lines: dict[tuple[str, str], int] = {}
    for path in paths:
        try:
            spans = function_spans(ast.parse(sources[path]))
        except (SyntaxError, ValueError):
            continue
        lines.update({(path, span.qualname): span.line for span in spans})
    return lines


def _score(items: Sequence[_Judged]) -> tuple[int, int]:
    """Mutants judged (killed or survived) and killed."""
    killed = sum(1 for j in items if j.killed)
    return killed + sum(1 for j in items if j.survived), killed


def _result(
    gate: GateInput, sources: Mapping[str, bytes], judged: list[_Judged], session_seconds: float
) -> CheckResult:
    judged.sort(key=lambda j: (j.mutant.path, j.mutant.line, j.mutant.column, j.mutant.key))
    counts = {s: sum(1 for j in judged if j.status == s) for s in
              ("killed", "timeout", "survived", "untested", "error", "unjudged")}  # fmt: skip
    total, killed = _score(judged)
    if total == 0:
        reason = (
            f"no mutant could be judged ({counts['error']} errors, {counts['unjudged']} unjudged)"
        )
        return not_run(NAME, reason)
    score = killed / total
    ran = [j.seconds for j in judged if j.seconds is not None]
    measures = {
        "mutation_score": score,
        "mutants": float(len(judged)),
        "killed": float(killed),
        "survived": float(counts["survived"] + counts["untested"]),
        "timeouts": float(counts["timeout"]),
        "untested": float(counts["untested"]),
        "errors": float(counts["error"]),
        "unjudged": float(counts["unjudged"]),
        "session_seconds": session_seconds,
    }
    if ran:
        measures["seconds_per_mutant"] = sum(ran) / len(ran)
    files: dict[str, dict[str, float]] = {}
    by_function: dict[tuple[str, str], list[_Judged]] = defaultdict(list)
    for item in judged:
        by_function[(item.mutant.path, item.mutant.qualname)].append(item)
    for path in sorted({j.mutant.path for j in judged}):
        n, k = _score([j for j in judged if j.mutant.path == path])
        files[path] = {"mutation_score": k / n if n else 0.0, "mutants": float(n),
                       "killed": float(k)}  # fmt: skip
    lines = _function_lines(sources, set(files))
    functions = []
    for (path, qualname), items in sorted(by_function.items()):
        n, k = _score(items)
        line = lines.get((path, qualname), min(j.mutant.line for j in items))
        functions.append(FunctionMetrics(path, qualname, line, mutants=n, mutants_killed=k))
    survivors = tuple(_survivor(j) for j in judged if j.survived)
    threshold = gate.settings.mutation_score
    summary = (
        f"{NAME}: the tests killed {killed} of {total} mutants of the changed lines "
        f"({score * 100:.0f}%, {threshold * 100:.0f}% needed)"
    )
    if counts["timeout"]:
        summary += ", " + _timeouts([j for j in judged if j.status == "timeout"])
    if survivors:
        shown = "; ".join(f"{f.path}:{f.line} {f.message}" for f in survivors[:3])
        summary += f"; survivors: {shown}" + (
            f" and {len(survivors) - 3} more" if len(survivors) > 3 else ""
        )
    left_out = counts["error"] + counts["unjudged"]
    if left_out:
        summary += f"; {left_out} mutant(s) could not be judged and are left out"
    return CheckResult(
        NAME,
        CheckStatus.PASSED if score >= threshold else CheckStatus.FAILED,
        summary,
        findings=survivors,
        measures=measures,
        files=files,
        functions=tuple(functions),
    )


def _timeouts(hung: Sequence[_Judged]) -> str:
    """How many mutants the timeout killed, at what timeout, and how long their tests take."""
    limits = sorted({j.timeout for j in hung if j.timeout is not None})
    clean = max((j.clean_seconds for j in hung if j.clean_seconds is not None), default=0.0)
    if len(limits) == 1:
        at = f"the {limits[0]:g} s timeout"
    else:
        at = f"the timeout ({limits[0]:g}-{limits[-1]:g} s)" if limits else "the timeout"
    return f"{len(hung)} by {at} (their tests take {clean:.1f} s or less unmutated)"


def _timed(result: CheckResult, started: float) -> CheckResult:
    return dataclasses.replace(result, duration_ms=(time.perf_counter() - started) * 1000)


__all__ = ["NAME", "check_mutation", "choose", "read_results"]
