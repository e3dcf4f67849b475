"""The quality gate's latency on a one-function change in a real project, end to end.

The project is attrs 24.2.0 (its PyPI sdist, pinned by sha256 in
``corpus.py``: the code, its suite of about 1,330 tests and its
configuration), made a git repository with one commit in a scratch folder.
That commit leaves one line out of attrs' ``pyproject.toml``: the
``attrs[tests-mypy]`` of its ``tests`` extra, which brings
pytest-mypy-plugins and makes ``tests/test_mypy.yml`` 86 tests of a mypy
run each (minutes of type checking; attrs' CI spreads them over ``-n
auto``), so the suite is attrs' Python tests. The change rewrites one
function, ``attr.filters._split_what``, with the same behaviour (its three
sets named before they are returned), so its verdict is the gate's
judgement alone. It is proposed as a user would (``ark change propose
--from-worktree``) and judged by ``ark gate CHANGE --format json``, a
subprocess timed on the wall clock (start-up included), with all seven
checks and the default ``[tool.ark.gate]``:

- **gate, cold**: mypy's caches and the gate's maps of the base's tests
  removed from ARK's user cache first, so mypy analyses the touched module
  and all it imports, on both sides, and the gate runs the base's whole
  suite under coverage.py to learn which tests run the rewritten function;
- **gate, warm**: the same command again, mypy's cache and the map warm, as
  for a user's next gate run on the same base (the evolution loop's normal
  case): only the tests the change can reach run.

Each run's report gives every check's duration; the ``types`` check's in
the warm run is the mypy recheck (mypy on base and head side by side, each
from its cache). The sandbox is docker when an engine answers with the
image (the workspace trusted and the layer of its declared dependencies
built first, untimed: ``ark sandbox env build``), else the local backend
with a virtual environment the script makes once in ``benchmarks/.cache``
(pytest, coverage.py, hypothesis, pympler, cloudpickle and attrs 24.2.0,
whose metadata a test reads); ``--backend`` chooses. The user's settings
give the sandbox 300 s and 1 GiB (the default 10 s is for ``ark run``).

Peers, in the same rounds, on a checkout of the change:

- **ark test**: the same suite in the same sandbox and environment, without
  coverage.py: the floor of any gate that runs the suite there, and what
  the end-to-end ratio is taken against;
- **pytest on the host**: the suite run plainly in the benchmark's
  environment (``PYTHONPATH=src``), for scale;
- **mypy cold**: ``mypy`` on the touched module with a fresh cache and the
  gate's options (``--no-site-packages``, its SQLite cache);
- **mypy warm**: the same again, the cache warm: the floor of a recheck.

Goals (issue 15): the gate end to end under 15 s on a 2-core machine with
the sandbox; the mypy recheck under 0.5 s. Rounds are interleaved
(``--runs``; each: cold gate, warm gate, ark test, pytest, mypy cold, mypy
warm), after one untimed gate run and ``ark test``; rows give the median
and the fastest round. The header says the load average at the start and
the end: on a shared machine it moves every figure.

Run: ``.venv/bin/python benchmarks/gate_latency.py [--runs 3] [--backend auto] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import BIN, BenchmarkError, Row, one_minute_load, print_report, progress_to_stderr
from corpus import ATTRS_VERSION, CACHE, CorpusError, attrs_source

END_TO_END_GOAL = 15.0
"""Seconds: the gate on a one-function change, end to end."""
RECHECK_GOAL = 0.5
"""Seconds: mypy's recheck of the touched module, its cache warm."""
TOUCHED = "src/attr/filters.py"
BEFORE = """\
    return (
        frozenset(cls for cls in what if isinstance(cls, type)),
        frozenset(cls for cls in what if isinstance(cls, str)),
        frozenset(cls for cls in what if isinstance(cls, Attribute)),
    )
"""
AFTER = """\
    classes = frozenset(cls for cls in what if isinstance(cls, type))
    names = frozenset(cls for cls in what if isinstance(cls, str))
    attributes = frozenset(cls for cls in what if isinstance(cls, Attribute))
    return (classes, names, attributes)
"""
TEST_DEPENDENCIES = ("pytest", "coverage", "hypothesis", "pympler", "cloudpickle")
"""attrs' ``tests`` extra without its mypy-plugin tests (``tests-mypy``), and coverage.py."""
MYPY_PLUGIN_TESTS = '  "attrs[tests-mypy]",\n'
"""The line of attrs' ``tests`` extra that brings pytest-mypy-plugins, which turns
``tests/test_mypy.yml`` into 86 tests of a mypy run each: minutes of type checking that
the benchmark leaves out (in the base commit), so the suite is attrs' Python tests."""
SANDBOX_TIMEOUT = 300
"""Seconds a run of attrs' suite may take (``suite-timeout``): under coverage.py on two cores
it takes about 30 s, and a run that hangs should not hold the benchmark for the default 600."""
CHECKS = ("findings", "types", "lint", "coverage", "mutation", "complexity", "tests")


progress = progress_to_stderr("gate_latency")


@dataclass
class Workspace:
    """The scratch repository, ARK's user folders for it, and the environment of its tests."""

    folder: Path
    repo: Path
    python: Path
    """The benchmark's environment: the local sandbox's interpreter, and the peers'."""
    env: dict[str, str]
    """ARK's environment: the scratch user folders, bytecode cached as when installed."""

    @property
    def mypy_caches(self) -> Path:
        return self.folder / "cache" / "ark" / "gate" / "mypy"

    @property
    def test_maps(self) -> Path:
        return self.folder / "cache" / "ark" / "test-maps"


def run(command: Sequence[str | Path], *, cwd: Path, env: dict[str, str] | None = None,
        ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run a command to its end; :class:`BenchmarkError` with its last words on a bad exit."""
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True
    )
    if done.returncode not in ok:
        words = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
        raise BenchmarkError(
            f"{Path(str(command[0])).name} {command[1]} failed: {' / '.join(words)}"
        )
    return done


def timed(command: Sequence[str | Path], **options: Any) -> tuple[float, str]:
    started = time.perf_counter()
    done = run(command, **options)
    return time.perf_counter() - started, done.stdout


# --- the workspace --------------------------------------------------------------------------


def environment(python_version: str) -> Path:
    """The benchmark's virtual environment of attrs' test dependencies, made once; its python.

    A venv's scripts name its folder, so it is made where it stays; a file
    written last marks it complete, and one without it is made again.
    """
    folder = CACHE / f"attrs-{ATTRS_VERSION}-venv-py{python_version}"
    python, complete = folder / "bin" / "python", folder / ".complete"
    if complete.exists():
        return python
    packages = [*TEST_DEPENDENCIES, f"attrs=={ATTRS_VERSION}"]
    progress(f"making {folder.name}: pip install {' '.join(packages)}")
    shutil.rmtree(folder, ignore_errors=True)
    run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", folder], cwd=CACHE)
    run([python, "-m", "pip", "install", "-q", *packages], cwd=CACHE)
    complete.write_text(" ".join(packages) + "\n")
    return python


def workspace(folder: Path, python: Path, backend: str) -> Workspace:
    """attrs as a git repository with one commit, and ARK's user folders and settings for it."""
    repo = folder / "attrs"
    shutil.copytree(attrs_source(), repo)
    user = ("-c", "user.name=benchmark", "-c", "user.email=benchmark@ark.invalid")
    pyproject = repo / "pyproject.toml"
    declared = pyproject.read_text()
    if MYPY_PLUGIN_TESTS not in declared:
        raise BenchmarkError(f"attrs {ATTRS_VERSION}'s pyproject.toml is not as expected")
    pyproject.write_text(declared.replace(MYPY_PLUGIN_TESTS, "", 1))
    run(["git", "init", "-q", "-b", "main"], cwd=repo)
    run(["git", "add", "-A"], cwd=repo)
    run(["git", *user, "commit", "-q", "-m", f"attrs {ATTRS_VERSION}"], cwd=repo)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",)},
        "XDG_CACHE_HOME": str(folder / "cache"),
        "XDG_CONFIG_HOME": str(folder / "config"),
        "XDG_DATA_HOME": str(folder / "data"),
        "PYTHONPYCACHEPREFIX": str(CACHE / "pycache"),
    }
    config = folder / "config" / "ark" / "config.toml"
    config.parent.mkdir(parents=True)
    sandbox = [f'backend = "{backend}"', f"suite-timeout = {SANDBOX_TIMEOUT}"]
    if backend == "local":
        sandbox.append(f'python = "{python}"')
    config.write_text("[sandbox]\n" + "\n".join(sandbox) + "\n")
    return Workspace(folder, repo, python, env)


def docker_answers() -> str | None:
    """None when docker can run the gate's sandbox, else why not."""
    from ark_lsp.sandbox.docker_engine import connect
    from ark_lsp.sandbox.image import choose_image

    engine = connect()
    try:
        if not engine.answers:
            return engine.error or "no Docker engine answers"
        image = choose_image(engine.client, None)
        return None if image.present else image.reason
    finally:
        engine.close()


def propose(space: Workspace) -> dict[str, Any]:
    """The one-function change, proposed from the working tree as a user does; its record."""
    touched = space.repo / TOUCHED
    text = touched.read_text()
    if BEFORE not in text:
        raise BenchmarkError(f"{TOUCHED} is not attrs {ATTRS_VERSION}'s: the change does not apply")
    touched.write_text(text.replace(BEFORE, AFTER))
    done = run(
        [BIN / "ark", "change", "propose", "--from-worktree", "--format", "json",
         "--reason", "Name the three sets _split_what returns"],
        cwd=space.repo, env=space.env,
    )  # fmt: skip
    run(["git", "checkout", "--", TOUCHED], cwd=space.repo)
    change: dict[str, Any] = json.loads(done.stdout)["change"]
    return change


# --- the rounds -----------------------------------------------------------------------------


def gate(space: Workspace, change_id: str) -> tuple[float, dict[str, Any]]:
    """``ark gate CHANGE --format json``: its wall clock and its report."""
    seconds, output = timed(
        [BIN / "ark", "gate", change_id, "--format", "json"], cwd=space.repo, env=space.env,
        ok=(0, 1),
    )  # fmt: skip
    return seconds, json.loads(output)


def mypy(space: Workspace, checkout: Path, cache: Path) -> float:
    """mypy on the touched module as the gate runs it, with ``cache``."""
    command = [sys.executable, "-m", "mypy", "--no-site-packages", "--sqlite-cache",
               "--cache-dir", cache, "--no-error-summary", TOUCHED]  # fmt: skip
    seconds, _ = timed(command, cwd=checkout, env=space.env, ok=(0, 1))
    return seconds


def pytest_on_host(space: Workspace, checkout: Path) -> float:
    """attrs' suite, plainly, on the host in the benchmark's environment."""
    env = {**space.env, "PYTHONPATH": "src"}
    command = [space.python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    seconds, _ = timed(command, cwd=checkout, env=env, ok=(0, 1))
    return seconds


def pytest_in_sandbox(space: Workspace, checkout: Path) -> float:
    """``ark test``: the same suite in the same sandbox and environment as the gate's, without
    coverage.py: the floor of any gate that runs the suite there."""
    seconds, _ = timed([BIN / "ark", "test"], cwd=checkout, env=space.env, ok=(0, 1))
    return seconds


@dataclass
class Results:
    rows: dict[str, Row]
    checks: dict[str, dict[str, list[float]]]
    """Per check, its durations in seconds in the cold and the warm gate runs."""
    reports: list[dict[str, Any]]


def benchmark(space: Workspace, change: dict[str, Any], checkout: Path, runs: int) -> Results:
    names = {
        "gate cold": "`ark gate CHANGE`, cold (mypy's cache and the test map empty)",
        "gate warm": "`ark gate CHANGE`, warm (the same again)",
        "pytest": "`ark test`: the same suite in the same sandbox, no coverage.py",
        "pytest host": "pytest on the host, the same suite and packages",
        "mypy cold": f"mypy {TOUCHED}, fresh cache",
        "mypy warm": f"mypy {TOUCHED}, its cache warm",
    }
    rows = {key: Row(key, name) for key, name in names.items()}
    checks: dict[str, dict[str, list[float]]] = {c: {"cold": [], "warm": []} for c in CHECKS}
    reports = []
    # Once untimed: bytecode, the page cache, and (docker) a first start of the environment.
    progress("a first gate run, untimed")
    gate(space, change["id"])
    pytest_in_sandbox(space, checkout)
    for number in range(runs):
        shutil.rmtree(space.mypy_caches, ignore_errors=True)
        shutil.rmtree(space.test_maps, ignore_errors=True)
        for side in ("cold", "warm"):
            seconds, report = gate(space, change["id"])
            rows[f"gate {side}"].samples.append(seconds)
            reports.append(report)
            for check in report["checks"]:
                checks[check["name"]][side].append(check["duration_ms"] / 1000)
            progress(f"round {number + 1}: gate {side} {seconds:.1f} s, {report['summary']}")
        rows["pytest"].samples.append(pytest_in_sandbox(space, checkout))
        rows["pytest host"].samples.append(pytest_on_host(space, checkout))
        with tempfile.TemporaryDirectory(prefix="ark-bench-mypy-") as cache:
            rows["mypy cold"].samples.append(mypy(space, checkout, Path(cache)))
            rows["mypy warm"].samples.append(mypy(space, checkout, Path(cache)))
        progress(f"round {number + 1}/{runs} done")
    return Results(rows, checks, reports)


# --- the report -----------------------------------------------------------------------------


def as_data(results: Results, backend: str, runs: int, load: list[float | None]) -> dict[str, Any]:
    rows = results.rows
    pytest_median = rows["pytest"].median
    mypy_cold = rows["mypy cold"].median
    last = results.reports[-1]
    types_warm = statistics.median(results.checks["types"]["warm"])
    warm = rows["gate warm"].median
    cold = rows["gate cold"].median
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "project": f"attrs {ATTRS_VERSION}",
        "change": f"{TOUCHED}: _split_what rewritten",
        "backend": backend,
        "runs": runs,
        "load": load,
        "verdict": last["verdict"],
        "summary": last["summary"],
        "tests": next(c["measures"].get("tests") for c in last["checks"] if c["name"] == "tests"),
        "tests_run": next(
            c["measures"].get("tests_run") for c in last["checks"] if c["name"] == "tests"
        ),
        "mutants": next(
            c["measures"].get("mutants") for c in last["checks"] if c["name"] == "mutation"
        ),
        "rows": {
            key: {
                "name": row.name,
                "median_s": round(row.median, 3),
                "min_s": round(min(row.samples), 3),
                "x_ark_test": round(row.median / pytest_median, 2),
                "samples": [round(s, 3) for s in row.samples],
            }
            for key, row in rows.items()
        },
        "checks": {
            name: {side: round(statistics.median(times), 3) for side, times in sides.items()}
            for name, sides in results.checks.items()
        },
        "goals": [
            {
                "goal": f"the gate end to end under {END_TO_END_GOAL:g} s (warm)",
                "value": round(warm, 2),
                "met": warm < END_TO_END_GOAL,
            },
            {
                "goal": f"the gate end to end under {END_TO_END_GOAL:g} s (cold)",
                "value": round(cold, 2),
                "met": cold < END_TO_END_GOAL,
            },
            {
                "goal": f"the mypy recheck (types, warm) under {RECHECK_GOAL:g} s",
                "value": round(types_warm, 3),
                "met": types_warm < RECHECK_GOAL,
            },
        ],
        "beyond_the_suite_s": {
            # The coverage check runs the change's suite for all three sandboxed checks.
            side: round(
                rows[f"gate {side}"].median - statistics.median(results.checks["coverage"][side]), 2
            )
            for side in ("cold", "warm")
        },
        "ratios": {
            "gate warm / ark test": round(warm / pytest_median, 2),
            "gate cold / ark test": round(cold / pytest_median, 2),
            "types warm / mypy cold": round(types_warm / mypy_cold, 2),
            "types warm / mypy warm": round(types_warm / rows["mypy warm"].median, 2),
        },
    }


def as_table(data: dict[str, Any]) -> str:
    lines = [
        f"{data['date']}, {data['machine']}, Python {data['python']}, {data['project']}, "
        f"backend {data['backend']}, {data['runs']} round(s)",
        f"load average {data['load'][0]} -> {data['load'][1]}",
        f"change: {data['change']}; verdict {data['verdict']} ({data['summary']}); "
        f"{data['tests']:.0f} tests ({data['tests_run'] or 0:.0f} run, warm), "
        f"{data['mutants']:.0f} mutants",
        "",
        "| row | median s | min s | x `ark test` |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in data["rows"].values():
        figures = f"{row['median_s']:.2f} | {row['min_s']:.2f} | {row['x_ark_test']:.2f}"
        lines.append(f"| {row['name']} | {figures} |")
    lines += ["", "| check | cold s | warm s |", "| --- | ---: | ---: |"]
    for name, sides in data["checks"].items():
        lines.append(f"| {name} | {sides['cold']:.2f} | {sides['warm']:.2f} |")
    lines.append("")
    for name, value in data["ratios"].items():
        lines.append(f"{name}: {value:.2f}")
    beyond = data["beyond_the_suite_s"]
    lines.append(
        f"the gate beyond its suite run (the coverage check's): cold {beyond['cold']:.1f} s, "
        f"warm {beyond['warm']:.1f} s"
    )
    for goal in data["goals"]:
        verdict = "met" if goal["met"] else "MISSED"
        lines.append(f"goal: {goal['goal']}: {verdict} ({goal['value']} s)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds [default: 3]")
    parser.add_argument(
        "--backend",
        choices=("auto", "docker", "local"),
        default="auto",
        help="the sandbox [default: docker when it answers, else local]",
    )
    parser.add_argument("--keep", type=Path, help="make the scratch repository here and keep it")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    options = parser.parse_args(argv)

    backend = options.backend
    if backend == "auto":
        why_not = docker_answers()
        backend = "docker" if why_not is None else "local"
        progress(f"sandbox: {backend}" + (f" ({why_not})" if why_not else ""))
    folder = options.keep or Path(tempfile.mkdtemp(prefix="ark-gate-latency-"))
    folder.mkdir(parents=True, exist_ok=True)
    load_start = one_minute_load()
    try:
        python = environment(f"{sys.version_info.major}.{sys.version_info.minor}")
        space = workspace(folder, python, backend)
        if backend == "docker":
            progress("trusting the workspace and building its sandbox environment (untimed)")
            run([BIN / "ark", "trust", space.repo], cwd=space.repo, env=space.env)
            run([BIN / "ark", "sandbox", "env", "build"], cwd=space.repo, env=space.env)
        change = propose(space)
        checkout = folder / "change"
        run(
            ["git", "worktree", "add", "-q", "--detach", checkout, change["branch"]], cwd=space.repo
        )
        results = benchmark(space, change, checkout, options.runs)
    except (BenchmarkError, CorpusError) as error:
        print(f"gate_latency: {error}", file=sys.stderr)
        return 1
    finally:
        if options.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    data = as_data(results, backend, options.runs, [load_start, one_minute_load()])
    print_report(data, options.json, as_table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
