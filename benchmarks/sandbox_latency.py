"""How long a trivial sandboxed run takes: warm pool, cold container, ``docker run --rm``, local.

Rows, all running ``print('hello')`` in the same image with the same limits
(256 MiB, no swap, 1 CPU, 64 processes, no network, read-only root, no
capabilities, non-root user):

- **warm pool**: ``DockerSandbox(pool_size=2).run()``: the container was
  started earlier, its agent waiting; the run sends the file, reads the
  output and the agent's report. The pool is refilled (untimed) between
  rounds, as it is between a user's runs.
- **cold container**: the same with no pool: create, attach and start a
  container, then the same run. The container's removal happens after the
  result is returned, off the caller's thread, so it is not counted.
- **docker run --rm**: the ``docker`` command line doing the same with the
  same hardening flags: create, start, run, wait, remove. The baseline
  DESIGN.md holds the warm pool to (at least 3x faster).
- **local backend**: ``LocalSandbox().run()``: scratch folder, bubblewrap,
  cgroup when root, the same agent.
- **floor: python3 -c**: ARK's own interpreter started bare on the host, for
  scale.

Rounds are interleaved (each row once per round) and every row reports its
median, fastest round and its ratio to ``docker run --rm``. Needs a Docker
engine and the sandbox image (``scripts/docker-engine`` provides both).

Run: ``.venv/bin/python benchmarks/sandbox_latency.py [--runs 20] [--json]``
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
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ark_lsp.sandbox import Limits, Outcome, RunRequest
from ark_lsp.sandbox.docker_backend import DockerSandbox
from ark_lsp.sandbox.docker_engine import connect
from ark_lsp.sandbox.image import choose_image
from ark_lsp.sandbox.local_backend import LocalSandbox

GOAL = 3.0
"""The warm pool at least this many times faster than ``docker run --rm``."""
CODE = "print('hello')"
REQUEST = RunRequest(command=("python3", "main.py"), files={"main.py": CODE.encode()})
LIMITS = Limits()


def docker_run_command(image: str) -> list[str]:
    memory = str(LIMITS.memory)
    return [
        shutil.which("docker") or "docker",
        "run", "--rm", "--network", "none", "--memory", memory, "--memory-swap", memory,
        "--cpus", str(LIMITS.cpus), "--pids-limit", str(LIMITS.pids), "--read-only",
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--user", "1000:1000",
        image, "python3", "-c", CODE,
    ]  # fmt: skip


def timed(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="rounds [default: 20]")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    options = parser.parse_args()

    engine = connect()
    if not engine.answers:
        print(f"sandbox_latency: {engine.error}", file=sys.stderr)
        return 1
    image = choose_image(engine.client, None)
    if not image.present:
        print(f"sandbox_latency: {image.reason}", file=sys.stderr)
        return 1

    warm = DockerSandbox(engine.client, image.name, pool_size=2, pool_limits=LIMITS)
    cold = DockerSandbox(engine.client, image.name, pool_size=0)
    local = LocalSandbox()
    assert warm.pool is not None

    def check(sandbox: DockerSandbox | LocalSandbox) -> Callable[[], None]:
        def run() -> None:
            result = sandbox.run(REQUEST)
            if result.outcome is not Outcome.PASSED or result.stdout != "hello\n":
                raise SystemExit(f"sandbox_latency: a {sandbox.name} run failed: {result}")

        return run

    def docker_run() -> None:
        subprocess.run(docker_run_command(image.name), check=True, capture_output=True)

    def bare_python() -> None:
        subprocess.run([sys.executable, "-I", "-c", CODE], check=True, capture_output=True)

    rows: dict[str, Callable[[], None]] = {
        "warm pool": check(warm),
        "cold container": check(cold),
        "docker run --rm": docker_run,
        "local backend": check(local),
        "floor: python3 -c": bare_python,
    }
    samples: dict[str, list[float]] = {name: [] for name in rows}
    load_before = os.getloadavg()[0]
    try:
        for action in rows.values():  # once untimed: page cache, bytecode, the engine's caches
            warm.pool.wait_ready(60)
            action()
        for round_number in range(options.runs):
            for name, action in rows.items():
                warm.pool.wait_ready(60)
                time.sleep(0.2)  # let the refill and removals of the last run settle
                samples[name].append(timed(action))
            print(f"round {round_number + 1}/{options.runs}", file=sys.stderr)
    finally:
        warm.close()
        cold.close()
        engine.close()

    baseline = statistics.median(samples["docker run --rm"])
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "engine": engine.version,
        "image": image.name,
        "runs": options.runs,
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "rows": {
            name: {
                "median_ms": round(statistics.median(times) * 1000, 1),
                "min_ms": round(min(times) * 1000, 1),
                "speedup_vs_docker_run": round(baseline / statistics.median(times), 2),
            }
            for name, times in samples.items()
        },
    }
    speedup = report["rows"]["warm pool"]["speedup_vs_docker_run"]  # type: ignore[index]
    report["goal"] = {"warm pool vs docker run --rm": f">= {GOAL}x", "met": speedup >= GOAL}
    if options.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['date']}, Docker {engine.version}, image {image.name}, {options.runs} rounds")
    print(f"load average {report['load'][0]} -> {report['load'][1]}")
    print("| row | median ms | min ms | x faster than docker run --rm |")
    print("| --- | ---: | ---: | ---: |")
    for name, row in report["rows"].items():  # type: ignore[attr-defined]
        print(
            f"| {name} | {row['median_ms']:.1f} | {row['min_ms']:.1f} | "
            f"{row['speedup_vs_docker_run']:.2f} |"
        )
    verdict = "met" if speedup >= GOAL else "MISSED"
    print(f"goal: warm pool at least {GOAL}x faster than docker run --rm: {verdict} ({speedup}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
