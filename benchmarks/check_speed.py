"""How fast ``ark check`` checks a large real code base, against its floor and its peers.

What is measured, all on the same set of ``.py`` files (the ones ARK's own
discovery yields for the corpus, as in ``index_speed.py``, whose helpers
this script reuses) and in one run, because only ratios measured side by
side mean anything on a noisy machine:

- **floor, parse** and **floor, read + parse**: a bare ``ast.parse`` of
  every file in this one process (bytes read beforehand, or read in the
  timed loop). DESIGN.md holds ARK to within 1.5x of the first.
- **ark check cold, 1 job / default jobs**: ``ark check ROOT --format json
  --exit-zero`` as a subprocess on a fresh database each round, so every
  round parses and checks every file (a warm ``ark check`` only reads the
  index). Wall clock, interpreter start-up included.
- **bandit, shared rules**: ``bandit -f json -q -t B102,B307,B602,B604,B605``,
  the bandit tests that match ARK001/002/004/005 (see
  ``tests/test_bandit_agreement.py``): the same question asked of both.
- **bandit, default rules**: ``bandit -f json -q``, every default test.
- **ruff S**: ``ruff check --select S --no-cache --output-format json
  --exit-zero`` (flake8-bandit's rules, in Rust, multi-threaded).

The peers are given the file list itself (their ``-r``/folder form is used
only if the list would not fit on a command line, which a note says), and
each writes its JSON report to a file, as ``ark check``'s output goes to a
file too; the reports are read after the clock stops, to check that every
tool saw every file and to compare the findings on the shared rules.

Rounds are interleaved (every tool once per round, ``--runs`` rounds) and
each row reports its median and fastest round. Tools run with bytecode
caching on, as when installed, and each runs once untimed on a small
workspace first. Progress goes to stderr, the table (or ``--json``) to stdout.

Run: ``.venv/bin/python benchmarks/check_speed.py [--runs 5] [--corpus PATH] [--json]``
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import BIN, CHILD_ENV, BenchmarkError, Row, last_line, progress_to_stderr
from index_speed import (
    PARSE_FLOOR,
    Corpus,
    find_bandit,
    run_cli,
    run_json,
    table_header,
    time_floor_parse,
    time_floor_read_parse,
    tool_command,
)

FLOOR_GOAL = 1.5
"""A cold ``ark check`` at most this many times the parse floor."""
BANDIT_GOAL = 5.0
"""A cold ``ark check`` at least this many times faster than bandit on the shared rules."""
SHARED_RULES = {
    "B102": "ARK002",
    "B307": "ARK001",
    "B602": "ARK005",
    "B604": "ARK005",
    "B605": "ARK004",
}
"""bandit's tests and the ARK rules they match (as in tests/test_bandit_agreement.py)."""

LISTED = 20
"""Findings listed per side in the table (``--json`` has them all)."""

Finding = tuple[str, int, str]
"""(path relative to the workspace, line, ARK rule id)."""


progress = progress_to_stderr("check_speed")


# --- the tools ----------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    """A checker run as a subprocess over the corpus, its report written to a file."""

    key: str
    name: str
    command: Callable[[Corpus, Path], list[str]]
    """The command line, given the corpus and the file to write the report to."""
    ok_codes: tuple[int, ...] = (0,)
    stdout_is_report: bool = False
    """The tool prints its report (``ark check``) rather than writing it to a file."""

    def run(self, corpus: Corpus, report: Path) -> float:
        """Wall clock of one run; the report is left in ``report``."""
        command = self.command(corpus, report)
        with open(report if self.stdout_is_report else os.devnull, "wb") as sink:
            started = time.perf_counter()
            result = subprocess.run(
                command,
                cwd=corpus.root,
                stdout=sink,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
                env=CHILD_ENV,
            )
            elapsed = time.perf_counter() - started
        if result.returncode not in self.ok_codes:
            raise BenchmarkError(
                f"{self.name} exited with {result.returncode}: {last_line(result.stderr)}"
            )
        return elapsed


def ark_check(jobs: int | None) -> Callable[[Corpus, Path], list[str]]:
    def command(corpus: Corpus, report: Path) -> list[str]:
        database = report.with_suffix(".db")
        database.unlink(missing_ok=True)  # cold: a fresh database every run
        line = [str(BIN / "ark"), "check", str(corpus.target), "--format", "json"]
        line += ["--exit-zero", "--database", str(database)]
        return line + (["--jobs", str(jobs)] if jobs is not None else [])

    return command


def bandit(options: list[str]) -> Callable[[Corpus, Path], list[str]]:
    executable = find_bandit()
    if executable is None:
        raise BenchmarkError("bandit is not installed: .venv/bin/pip install bandit")

    def command(corpus: Corpus, report: Path) -> list[str]:
        # -r matters only when the file list is too long and the folder is passed instead.
        prefix = [str(executable), "-r", "-f", "json", "-q", *options, "-o", str(report)]
        return tool_command(corpus, prefix)

    return command


def ruff_security(corpus: Corpus, report: Path) -> list[str]:
    executable = BIN / "ruff" if (BIN / "ruff").exists() else shutil.which("ruff")
    if executable is None:
        raise BenchmarkError("ruff is not installed: .venv/bin/pip install ruff")
    prefix = [str(executable), "check", "--select", "S", "--no-cache"]
    prefix += ["--output-format", "json", "--exit-zero", "--output-file", str(report)]
    return tool_command(corpus, prefix)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def tools() -> list[Tool]:
    shared = ",".join(SHARED_RULES)
    return [
        Tool("ark_check_1", "ark check cold, 1 job", ark_check(1), stdout_is_report=True),
        Tool(
            "ark_check_all",
            f"ark check cold, default jobs ({default_jobs()})",
            ark_check(None),
            stdout_is_report=True,
        ),
        Tool(
            "bandit_shared",
            f"bandit -t {shared}",
            bandit(["-t", shared]),
            ok_codes=(0, 1),  # 1: issues found
        ),
        Tool("bandit_full", "bandit (default rules)", bandit([]), ok_codes=(0, 1)),
        Tool("ruff_s", "ruff check --select S", ruff_security),
    ]


# --- reading the reports (after the clock stops) -----------------------------


@dataclass
class Report:
    """What one tool's report says: files seen, findings, and errors."""

    files: int | None
    findings: int
    errors: int
    shared: frozenset[Finding] = frozenset()
    """Findings on the shared rules, as (path, line, ARK rule)."""


def relative_to_root(corpus: Corpus, path: str) -> str:
    absolute = Path(path) if Path(path).is_absolute() else corpus.root / path
    try:
        return absolute.resolve().relative_to(corpus.root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def read_report(corpus: Corpus, key: str, report: Path) -> Report:
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BenchmarkError(f"{key} wrote no usable JSON report ({error})") from error
    if key.startswith("ark"):
        summary = data["summary"]
        shared_rules = set(SHARED_RULES.values())
        shared = frozenset(
            (relative_to_root(corpus, r["path"]), r["line"], r["rule"])
            for r in data["results"]
            if r["rule"] in shared_rules
        )
        errors = summary["by_rule"].get("ARK000", 0)
        return Report(summary["files"], len(data["results"]), errors, shared)
    if key.startswith("bandit"):
        shared = frozenset(
            (relative_to_root(corpus, r["filename"]), r["line_number"], SHARED_RULES[r["test_id"]])
            for r in data["results"]
            if r["test_id"] in SHARED_RULES
        )
        files = len([name for name in data["metrics"] if name != "_totals"])
        return Report(files, len(data["results"]), len(data["errors"]), shared)
    unparsed = {d["filename"] for d in data if d.get("code") in (None, "invalid-syntax")}
    return Report(None, len(data), len(unparsed))


# --- the measurements ----------------------------------------------------------


@dataclass
class Results:
    rows: dict[str, Row]
    reports: dict[str, Report]
    notes: list[str] = field(default_factory=list)


def warm_up(corpus_tools: Sequence[Tool]) -> None:
    """Run every tool once, untimed, on a small workspace (bytecode, page cache, workers)."""
    with tempfile.TemporaryDirectory(prefix="ark-check-speed-warm-") as scratch:
        folder = Path(scratch)
        (folder / "pyproject.toml").write_text("[project]\nname = 'warm-up'\n")
        files = tuple(f"module_{n}.py" for n in range(64))
        for name in files:
            (folder / name).write_text("import os\n\ndef f(x):\n    return os.system(x)\n")
        small = Corpus(folder, folder, files, 4 * len(files), 0, 0)
        for tool in corpus_tools:
            tool.run(small, folder / f"{tool.key}.json")


def benchmark(corpus: Corpus, runs: int) -> Results:
    """Run every measurement ``runs`` times, interleaved round by round."""
    corpus_tools = tools()
    results = Results({}, {})

    def add(key: str, name: str, value: float) -> None:
        results.rows.setdefault(key, Row(key, name)).samples.append(value)

    if tool_command(corpus, [])[-1:] == ["."]:
        results.notes.append("file list too long for one command line: peers ran on the folder")
    progress("warming up (bytecode caches, worker start-up)")
    warm_up(corpus_tools)
    for round_number in range(1, runs + 1):
        with tempfile.TemporaryDirectory(prefix="ark-check-speed-") as scratch:
            progress(f"round {round_number}/{runs}: floor")
            add(PARSE_FLOOR, "floor: ast.parse (bytes in memory)", time_floor_parse(corpus))
            add("floor_read_parse", "floor: read + ast.parse", time_floor_read_parse(corpus))
            for tool in corpus_tools:
                progress(f"round {round_number}/{runs}: {tool.name}")
                report = Path(scratch) / f"{tool.key}.json"
                add(tool.key, tool.name, tool.run(corpus, report))
                results.reports[tool.key] = read_report(corpus, tool.key, report)
    for key, report in results.reports.items():
        if report.files is not None and report.files != len(corpus.files):
            results.notes.append(f"{key} saw {report.files} files, the floor {len(corpus.files)}")
    return results


# --- the report ----------------------------------------------------------------


def goals(rows: dict[str, Row]) -> list[dict[str, Any]]:
    """The targets this benchmark checks, each met or missed."""
    floor, peer = rows[PARSE_FLOOR], rows["bandit_shared"]
    checks = []
    for key in ("ark_check_1", "ark_check_all"):
        ratio = rows[key].median / floor.median
        checks.append(
            {
                "goal": f"{rows[key].name} <= {FLOOR_GOAL}x the parse floor",
                "value": round(ratio, 3),
                "met": ratio <= FLOOR_GOAL,
            }
        )
        speedup = peer.median / rows[key].median
        checks.append(
            {
                "goal": f"{rows[key].name} >= {BANDIT_GOAL:g}x faster than {peer.name}",
                "value": round(speedup, 3),
                "met": speedup >= BANDIT_GOAL,
            }
        )
    return checks


def agreement(reports: dict[str, Report]) -> dict[str, Any]:
    """ARK's and bandit's findings on the shared rules, on the corpus."""
    ark, peer = reports["ark_check_1"].shared, reports["bandit_shared"].shared
    return {
        "agreed": len(ark & peer),
        "total": len(ark | peer),
        "ark_only": [list(f) for f in sorted(ark - peer)],
        "bandit_only": [list(f) for f in sorted(peer - ark)],
        "ark_by_rule": dict(sorted(Counter(f[2] for f in ark).items())),
    }


def as_json(
    corpus: Corpus, results: Results, runs: int, when: str, load_at_start: list[float] | None
) -> dict[str, Any]:
    tools = ("ark-lsp", "bandit", "ruff")
    return {
        **run_json(corpus, results.rows, runs, when, load_at_start, tools),
        "goals": goals(results.rows),
        "reports": {
            key: {"files": r.files, "findings": r.findings, "errors": r.errors}
            for key, r in results.reports.items()
        },
        "shared_rules_agreement": agreement(results.reports),
        "notes": results.notes,
    }


def as_table(data: dict[str, Any]) -> str:
    lines = table_header("ARK check speed", data)
    width = max(len(r["name"]) for r in data["results"])
    # findings: every result the tool reported (all of its rules), from the last round.
    lines.append(
        f"{'name':<{width}}  {'median s':>9}  {'x floor':>8}  {'min s':>8}  {'findings':>8}"
    )
    lines.append(f"{'-' * width}  {'-' * 9}  {'-' * 8}  {'-' * 8}  {'-' * 8}")
    for r in data["results"]:
        report = data["reports"].get(r["key"])
        found = f"{report['findings']:>8,}" if report else f"{'':>8}"
        lines.append(
            f"{r['name']:<{width}}  {r['median_s']:>9.3f}  {r['ratio_to_floor']:>8.2f}"
            f"  {r['min_s']:>8.3f}  {found}"
        )
    lines.append("")
    for check in data["goals"]:
        verdict = "met" if check["met"] else "MISSED"
        lines.append(f"goal: {check['goal']}: {check['value']:.2f} ({verdict})")
    shared = data["shared_rules_agreement"]
    lines.append(
        f"shared rules on this corpus: ARK and bandit agree on {shared['agreed']}"
        f" of {shared['total']} findings ({len(shared['ark_only'])} ARK only,"
        f" {len(shared['bandit_only'])} bandit only)"
    )
    for side in ("ark_only", "bandit_only"):
        listed = shared[side][:LISTED]
        lines.extend(f"  {side.replace('_', ' ')}: {p}:{n} {rule}" for p, n, rule in listed)
        if len(shared[side]) > LISTED:
            lines.append(f"  ... and {len(shared[side]) - LISTED} more {side.replace('_', ' ')}")
    lines.extend(f"note: {note}" for note in data["notes"])
    return "\n".join(lines)


# --- the command line ------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(
        argv,
        name="check_speed",
        verb="check",
        benchmark=benchmark,
        as_json=as_json,
        as_table=as_table,
    )


if __name__ == "__main__":
    sys.exit(main())
