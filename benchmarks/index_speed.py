"""How fast ARK indexes a large real code base, against its floor and a peer.

What is measured, all on the same set of ``.py`` files (the ones ARK's own
discovery yields for the corpus, so .gitignore and ARK's excludes apply to
every row) and in one run, because the machines are noisy and only ratios
measured side by side mean anything:

- **floor, parse**: a bare ``ast.parse`` of every file's bytes in this one
  process, the bytes read into memory beforehand. No indexer that parses
  every file in one process can beat it; DESIGN.md holds ARK's cold index
  to within 1.5x of it.
- **floor, read + parse**: the same, reading each file from disk (the page
  cache, once warmed) inside the timed loop, since ARK reads the files too.
- **floor, collector paused**: the parse floor with the cyclic garbage
  collector paused, as ARK pauses it while it analyses: the collections
  the trees set off are part of the floor (and much of its spread from
  round to round), not of ARK's parse.
- **ark index cold, 1 job / all jobs**: ``ark index`` as a subprocess on a
  fresh database each run. Two figures per row: the subprocess's wall
  clock (what a user waits for, interpreter start-up included) and the
  ``duration_ms`` ARK reports itself (discovery to last commit).
- **ark index cold, 1 job, analysis left out**: the same run with ARK's
  analysis of each parsed file replaced by an empty report
  (``index_without_analysis.py``): files read, hashed, parsed and stored.
  What it costs is what a faster analysis could never take off the row
  above.
- **ark index warm**: ``ark index`` again on the same database with nothing
  changed: the cost of a restart on an unchanged workspace (goal: under 10%
  of the cold index).
- **radon cc**: ``radon cc -s --show-closures -j`` on the same files (a peer
  doing less: complexity only, no store, no security checks).
- **bandit**: the same files, only if bandit is already installed.

Rounds are interleaved (every tool once per round, ``--runs`` rounds) so a
slow minute on the machine hits every row alike; each row reports the
median of its rounds (and the minimum). The tools run with bytecode caching
on (``PYTHONDONTWRITEBYTECODE`` dropped, the cache kept under
``benchmarks/.cache/pycache``), as an installed ARK runs, and each is run
once untimed on a small workspace first so no round pays for compiling it.

The corpus defaults to django's pinned PyPI sdist (see ``corpus.py``);
``--corpus PATH`` measures another folder instead.

Run: ``.venv/bin/python benchmarks/index_speed.py [--runs 5] [--corpus PATH] [--json]``
"""

from __future__ import annotations

import argparse
import ast
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    BIN,
    CHILD_ENV,
    BenchmarkError,
    Row,
    last_line,
    load_average,
    machine,
    now,
    print_report,
    progress_to_stderr,
    version_of,
)
from corpus import CorpusError, django_source

from ark_lsp.config import load_settings
from ark_lsp.workspace import discover, find_root

PARSE_FLOOR = "floor_parse"
COLD_GOAL = 1.5
"""Cold index time at most this many times the parse floor."""
WARM_GOAL = 0.10
"""Warm index time under this fraction of the cold index time."""


progress = progress_to_stderr("index_speed")


# --- the corpus --------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """The files every row of the benchmark works on."""

    target: Path
    """The folder given to ``ark index``."""
    root: Path
    """The workspace ARK finds for it; the file paths are relative to it."""
    files: tuple[str, ...]
    lines: int
    size: int
    syntax_errors: int


def count_lines(data: bytes) -> int:
    """Physical lines, counting a last line without a newline."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def parses(data: bytes) -> bool:
    """Whether ``ast.parse`` accepts ``data`` (the tree is thrown away)."""
    try:
        ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def parse_all(sources: Sequence[bytes]) -> int:
    """``ast.parse`` every source; return how many failed to parse."""
    return sum(not parses(data) for data in sources)


def load_corpus(target: Path) -> Corpus:
    """Discover the files as ``ark index target`` does and read them once.

    The read also warms the page cache, so no row pays for the first read
    from the disk.
    """
    target = target.resolve()
    if not target.is_dir():
        raise BenchmarkError(f"{target} is not a folder")
    root = find_root(target)
    settings = load_settings(root).settings
    targets = () if target == root else (target,)
    files = tuple(dict.fromkeys(discover(root, settings, targets)))
    if not files:
        raise BenchmarkError(f"no Python files found under {target}")
    sources = read_all(root, files)
    return Corpus(
        target=target,
        root=root,
        files=files,
        lines=sum(count_lines(data) for data in sources),
        size=sum(len(data) for data in sources),
        syntax_errors=parse_all(sources),
    )


def read_all(root: Path, files: Sequence[str]) -> list[bytes]:
    """Every file's bytes; an unreadable file counts as empty."""
    sources = []
    for relative in files:
        try:
            sources.append((root / relative).read_bytes())
        except OSError:
            sources.append(b"")
    return sources


# --- the measurements --------------------------------------------------------


@dataclass
class ArkRun:
    """One ``ark index`` subprocess: its wall clock and its own report."""

    wall: float
    report: dict[str, Any]


def time_floor_parse(corpus: Corpus, *, collector_paused: bool = False) -> float:
    """The parse floor; ``collector_paused``: with the garbage collector paused, as ARK parses."""
    sources = read_all(corpus.root, corpus.files)
    if collector_paused:
        gc.disable()
    try:
        started = time.perf_counter()
        parse_all(sources)
        return time.perf_counter() - started
    finally:
        if collector_paused:
            gc.enable()


def time_floor_read_parse(corpus: Corpus) -> float:
    started = time.perf_counter()
    for relative in corpus.files:
        try:
            data = (corpus.root / relative).read_bytes()
        except OSError:
            continue
        parses(data)
    return time.perf_counter() - started


WITHOUT_ANALYSIS = [sys.executable, str(Path(__file__).with_name("index_without_analysis.py"))]
"""``ark`` with the analysis of each parsed file left out."""


def run_ark_index(
    corpus: Corpus, database: Path, jobs: int | None, ark: Sequence[str] = (str(BIN / "ark"),)
) -> ArkRun:
    """Time ``ark index`` as a user runs it; return its JSON report too."""
    command = [*ark, "index", str(corpus.target), "--format", "json"]
    command += ["--database", str(database)]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=CHILD_ENV)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchmarkError(
            f"ark index exited with {result.returncode}: {last_line(result.stderr)}"
        )
    try:
        report = json.loads(result.stdout)
        float(report["duration_ms"])
    except (ValueError, KeyError, TypeError) as error:
        raise BenchmarkError(f"ark index printed no usable JSON report ({error})") from error
    return ArkRun(wall, report)


def tool_command(corpus: Corpus, prefix: list[str]) -> list[str]:
    """``prefix`` followed by the corpus files, or by its folder if the list is too long.

    Naming the files keeps the peer on exactly ARK's file set.
    """
    files = list(corpus.files)
    argument_bytes = sum(len(f) + 1 for f in files)
    if argument_bytes < os.sysconf("SC_ARG_MAX") // 2:
        return prefix + files
    return [*prefix, "."]


def run_tool(corpus: Corpus, command: list[str], ok_codes: tuple[int, ...] = (0,)) -> float:
    """Wall clock of a peer's run over the corpus, output thrown away."""
    started = time.perf_counter()
    result = subprocess.run(
        command,
        cwd=corpus.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        env=CHILD_ENV,
    )
    elapsed = time.perf_counter() - started
    if result.returncode not in ok_codes:
        name = Path(command[0]).name
        raise BenchmarkError(f"{name} exited with {result.returncode}: {last_line(result.stderr)}")
    return elapsed


def find_bandit() -> Path | None:
    local = BIN / "bandit"
    if local.exists():
        return local
    found = shutil.which("bandit")
    return Path(found) if found else None


@dataclass(frozen=True)
class Peer:
    """Another tool run over the same files: its row and its command before the files."""

    key: str
    name: str
    prefix: list[str]
    ok_codes: tuple[int, ...] = (0,)

    def run(self, corpus: Corpus) -> float:
        return run_tool(corpus, tool_command(corpus, self.prefix), self.ok_codes)


def find_peers(notes: list[str]) -> list[Peer]:
    """radon, and bandit when it is installed (a note says when it is not)."""
    radon = [str(BIN / "radon"), "cc", "-s", "--show-closures", "-j"]
    peers = [Peer("radon", "radon cc -s --show-closures -j", radon)]
    bandit = find_bandit()
    if bandit is None:
        notes.append("bandit is not installed: no bandit row")
    else:
        # -r: the fallback to the folder needs it; named files are read either way.
        command = [str(bandit), "-q", "-r", "-f", "json", "-o", os.devnull]
        peers.append(Peer("bandit", "bandit", command, ok_codes=(0, 1)))  # 1: issues found
    return peers


def warm_up(peers: Sequence[Peer]) -> None:
    """Run every tool once, untimed, on a small workspace.

    A tool's first run compiles its bytecode (ARK's worker pool included:
    the workspace is large enough for ARK to start its workers) and faults
    its files into the page cache; no round should pay for that.
    """
    with tempfile.TemporaryDirectory(prefix="ark-index-speed-warm-") as scratch:
        folder = Path(scratch)
        (folder / "pyproject.toml").write_text("[project]\nname = 'warm-up'\n")
        files = tuple(f"module_{n}.py" for n in range(64))
        for name in files:
            (folder / name).write_text("def f(x):\n    return x if x else -x\n")
        small = Corpus(folder, folder, files, 2 * len(files), 0, 0)
        for jobs in (1, None):
            run_ark_index(small, folder / f"warm-up-{jobs}.db", jobs=jobs)
        run_ark_index(small, folder / "warm-up-bare.db", jobs=1, ark=WITHOUT_ANALYSIS)
        for peer in peers:
            peer.run(small)


@dataclass
class Results:
    """Everything one benchmark run measured."""

    rows: dict[str, Row]
    ark_reports: dict[str, dict[str, Any]]
    notes: list[str]


def benchmark(corpus: Corpus, runs: int) -> Results:
    """Run every measurement ``runs`` times, interleaved round by round."""
    rows: dict[str, Row] = {}
    reports: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    peers = find_peers(notes)
    if tool_command(corpus, [])[-1:] == ["."]:
        notes.append("file list too long for one command line: the peers ran on the folder")

    def add(key: str, name: str, value: float) -> None:
        rows.setdefault(key, Row(key, name)).samples.append(value)

    def add_ark(key: str, name: str, run: ArkRun) -> None:
        add(f"{key}_wall", f"{name} (wall)", run.wall)
        add(f"{key}_self", f"{name} (duration_ms)", run.report["duration_ms"] / 1000)
        reports[key] = run.report

    def floor(_: Path) -> None:
        add(PARSE_FLOOR, "floor: ast.parse (bytes in memory)", time_floor_parse(corpus))
        add("floor_read_parse", "floor: read + ast.parse", time_floor_read_parse(corpus))
        paused = time_floor_parse(corpus, collector_paused=True)
        add("floor_no_gc", "floor: ast.parse, collector paused", paused)

    def cold_one(scratch: Path) -> None:
        run = run_ark_index(corpus, scratch / "cold1.db", jobs=1)
        add_ark("ark_cold_1", "ark index cold, 1 job", run)

    def cold_one_unanalysed(scratch: Path) -> None:
        run = run_ark_index(corpus, scratch / "bare1.db", jobs=1, ark=WITHOUT_ANALYSIS)
        add_ark("ark_bare_1", "ark index cold, 1 job, no analysis", run)

    def cold_all_then_warm(scratch: Path) -> None:
        database = scratch / "cold.db"
        run = run_ark_index(corpus, database, jobs=None)
        jobs = run.report.get("jobs", "all")
        add_ark("ark_cold_all", f"ark index cold, {jobs} jobs", run)
        warm = run_ark_index(corpus, database, jobs=None)
        add_ark("ark_warm", f"ark index warm, {jobs} jobs", warm)
        if warm.report.get("files_indexed"):
            notes.append(f"warm run re-indexed {warm.report['files_indexed']} files")

    def peer_step(peer: Peer) -> Callable[[Path], None]:
        return lambda _: add(peer.key, peer.name, peer.run(corpus))

    steps: list[tuple[str, Callable[[Path], None]]] = [
        ("floor", floor),
        ("ark cold 1 job", cold_one),
        ("ark cold 1 job, analysis left out", cold_one_unanalysed),
        ("ark cold + warm", cold_all_then_warm),
        *((peer.key, peer_step(peer)) for peer in peers),
    ]

    progress("warming up (bytecode caches, worker start-up)")
    warm_up(peers)
    for round_number in range(1, runs + 1):
        with tempfile.TemporaryDirectory(prefix="ark-index-speed-") as scratch:
            for label, step in steps:
                progress(f"round {round_number}/{runs}: {label}")
                step(Path(scratch))

    scanned = {report.get("files_scanned") for report in reports.values()}
    if scanned != {len(corpus.files)}:
        notes.append(
            f"ark scanned {sorted(scanned, key=str)} files, the floor parsed {len(corpus.files)}"
        )
    return Results(rows, reports, notes)


# --- the report --------------------------------------------------------------


def goals(rows: dict[str, Row]) -> list[dict[str, Any]]:
    """The DESIGN.md targets this benchmark checks, each met or missed."""
    floor = rows[PARSE_FLOOR].median
    checks = []
    for key in ("ark_cold_1_wall", "ark_cold_all_wall"):
        ratio = rows[key].median / floor
        checks.append(
            {
                "goal": f"{rows[key].name} <= {COLD_GOAL}x the parse floor",
                "value": round(ratio, 3),
                "met": ratio <= COLD_GOAL,
            }
        )
    for kind in ("wall", "self"):
        warm, cold = rows[f"ark_warm_{kind}"], rows[f"ark_cold_all_{kind}"]
        fraction = warm.median / cold.median
        checks.append(
            {
                "goal": f"{warm.name} < {WARM_GOAL:.0%} of cold",
                "value": round(fraction, 3),
                "met": fraction < WARM_GOAL,
            }
        )
    return checks


def run_json(
    corpus: Corpus,
    rows: dict[str, Row],
    runs: int,
    when: str,
    load_at_start: list[float] | None,
    tools: Sequence[str],
) -> dict[str, Any]:
    """What every benchmark reports: corpus, machine, versions, rows and goals."""
    floor = rows[PARSE_FLOOR].median
    return {
        "date": when,
        "corpus": str(corpus.target),
        "workspace": str(corpus.root),
        "files": len(corpus.files),
        "lines": corpus.lines,
        "bytes": corpus.size,
        "syntax_errors": corpus.syntax_errors,
        "runs": runs,
        "machine": machine(),
        "load_average": {"start": load_at_start, "end": load_average()},
        "versions": {name: version_of(name) for name in tools},
        "results": [
            {
                "key": row.key,
                "name": row.name,
                "median_s": round(row.median, 4),
                "min_s": round(min(row.samples), 4),
                "ratio_to_floor": round(row.median / floor, 3),
                "samples_s": [round(s, 4) for s in row.samples],
            }
            for row in rows.values()
        ],
    }


def as_json(
    corpus: Corpus, results: Results, runs: int, when: str, load_at_start: list[float] | None
) -> dict[str, Any]:
    return {
        **run_json(corpus, results.rows, runs, when, load_at_start, ("ark-lsp", "radon", "bandit")),
        "goals": goals(results.rows),
        "ark_reports": {
            key: {k: v for k, v in report.items() if k != "problems"}
            | {"problems": len(report.get("problems", []))}
            for key, report in results.ark_reports.items()
        },
        "notes": results.notes,
    }


def table_header(title: str, data: dict[str, Any]) -> list[str]:
    """The lines naming the corpus, the machine and the run, above every table."""
    m, load = data["machine"], data["load_average"]
    return [
        f"{title}: {data['corpus']}",
        f"  {data['files']:,} files, {data['lines']:,} lines, {data['bytes'] / 1e6:.1f} MB"
        f" ({data['syntax_errors']} that do not parse)",
        f"  {m['cpu']}, {m['usable_cores']}/{m['cores']} cores, {m['implementation']}"
        f" {m['python']}, {m['system']}",
        f"  {data['date']}, median of {data['runs']} runs,"
        f" load average {load['start']} at start, {load['end']} at the end",
        "",
    ]


def as_table(data: dict[str, Any]) -> str:
    lines = table_header("ARK index speed", data)
    width = max(len(r["name"]) for r in data["results"])
    lines.append(f"{'name':<{width}}  {'median s':>9}  {'x floor':>8}  {'min s':>8}")
    lines.append(f"{'-' * width}  {'-' * 9}  {'-' * 8}  {'-' * 8}")
    for r in data["results"]:
        lines.append(
            f"{r['name']:<{width}}  {r['median_s']:>9.3f}  {r['ratio_to_floor']:>8.2f}"
            f"  {r['min_s']:>8.3f}"
        )
    lines.append("")
    for check in data["goals"]:
        verdict = "met" if check["met"] else "MISSED"
        lines.append(f"goal: {check['goal']}: {check['value']:.2f} ({verdict})")
    lines.extend(f"note: {note}" for note in data["notes"])
    return "\n".join(lines)


# --- the command line --------------------------------------------------------


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def run_cli(
    argv: Sequence[str] | None,
    *,
    name: str,
    verb: str,
    benchmark: Callable[[Corpus, int], Any],
    as_json: Callable[[Corpus, Any, int, str, list[float] | None], dict[str, Any]],
    as_table: Callable[[dict[str, Any]], str],
) -> int:
    """The command line every benchmark script shares."""
    parser = argparse.ArgumentParser(prog=name)
    parser.add_argument("--runs", type=positive, default=5, help="rounds; medians are reported")
    parser.add_argument(
        "--corpus", type=Path, help=f"folder to {verb} instead of django's pinned sdist"
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    args = parser.parse_args(argv)
    try:
        target = args.corpus or django_source()
        progress(f"discovering and reading the files under {target}")
        corpus = load_corpus(target)
        progress(f"{len(corpus.files):,} files, {corpus.lines:,} lines")
        when = now()
        load_at_start = load_average()
        results = benchmark(corpus, args.runs)
    except (CorpusError, BenchmarkError) as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 1
    data = as_json(corpus, results, args.runs, when, load_at_start)
    print_report(data, args.json, as_table)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(
        argv,
        name="index_speed",
        verb="index",
        benchmark=benchmark,
        as_json=as_json,
        as_table=as_table,
    )


if __name__ == "__main__":
    sys.exit(main())
