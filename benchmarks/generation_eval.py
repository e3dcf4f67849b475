"""How good are generated tests? Generate them for pure standard-library modules and run them.

For each module of ``MODULES`` (pure-Python modules of the standard library
this interpreter ships, which ARK's templates know nothing of), the module
is copied into a scratch workspace as ``corpus/<name>.py``, and ARK
generates tests for every public top-level function with at least one
parameter, exactly as ``ark generate tests`` does: characterized in the
sandbox, written to ``tests/test_<name>.py``, then run there. The script
then runs every generated test file once more under coverage.py and reads
the line coverage each reaches on its module; that run is a measurement and
uses the local sandbox, whose Python (ARK's) has coverage.py, whatever
``--backend`` the generation used.

Reported per module and in total: the functions targeted, the test cases
written (parametrize rows), how many are skeletons (nothing could be
observed), how many of the others pass, and the line coverage. The pass
rate is passing / (written - skeletons) of the file as ARK writes it; the
"1st %" column is the first sandbox run of the file, before ARK leaves out
the rows that failed only after other tests had run (shared state).
Coverage is covered statements over all statements of the modules
(coverage.py's own counting), and also the mean of the modules' coverage.
A module whose runs the sandbox itself failed (an engine fault, a container
killed from outside) is listed but left out of the totals.

Run: ``.venv/bin/python benchmarks/generation_eval.py [--backend local|docker|auto]
[--modules textwrap,colorsys] [--keep DIR] [--json]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ark_lsp.config import SandboxSettings, Settings
from ark_lsp.generate import Templates
from ark_lsp.generate.characterize import CharacterizationContext, NothingToTest, generate_tests
from ark_lsp.sandbox import RunRequest, SandboxRunner

MODULES = (
    "base64",
    "calendar",
    "colorsys",
    "copy",
    "difflib",
    "email.base64mime",
    "email.quoprimime",
    "email.utils",
    "encodings.idna",
    "fnmatch",
    "genericpath",
    "getopt",
    "gettext",
    "glob",
    "html",
    "ipaddress",
    "ntpath",
    "nturl2path",
    "posixpath",
    "pprint",
    "quopri",
    "reprlib",
    "shlex",
    "statistics",
    "string",
    "stringprep",
    "textwrap",
    "token",
    "tokenize",
    "urllib.parse",
)
"""Thirty pure-Python standard-library modules (none replaced by a C accelerator)."""

PASS_GOAL = 0.90
COVERAGE_GOAL = 0.50

COVERAGE_DRIVER = """\
import json, sys
import coverage
import pytest
cov = coverage.Coverage(source=["corpus"], data_file=None)
cov.start()
code = pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]])
cov.stop()
cov.json_report(outfile=".ark-coverage.json")
sys.exit(0)
"""


@dataclass
class ModuleResult:
    module: str
    functions: int = 0
    written: int = 0
    skeletons: int = 0
    passed: int = 0
    failed: int = 0
    first_passed: int = 0
    first_total: int = 0
    """The first sandbox run of the file, before rows failing only after other tests went."""
    statements: int = 0
    covered: int = 0
    seconds: float = 0.0
    problem: str = ""
    ran: bool = True
    """False when the sandbox failed to run the tests or the characterization (not the code)."""

    @property
    def checked(self) -> int:
        return self.written - self.skeletons

    @property
    def coverage(self) -> float:
        return self.covered / self.statements if self.statements else 0.0


def source_of(module: str) -> Path:
    """The file of a standard-library module, without importing it."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    parts = module.split(".")
    package = stdlib.joinpath(*parts) / "__init__.py"
    return package if package.is_file() else stdlib.joinpath(*parts).with_suffix(".py")


def stem(module: str) -> str:
    return module.replace(".", "_")


def make_workspace(root: Path, modules: list[str]) -> None:
    (root / "pyproject.toml").write_text('[project]\nname = "generation-eval"\n')
    (root / "corpus").mkdir()
    (root / "corpus" / "__init__.py").write_text("")
    for module in modules:
        shutil.copyfile(source_of(module), root / "corpus" / f"{stem(module)}.py")


def coverage_of(runner: SandboxRunner, root: Path, module: str) -> tuple[int, int, str]:
    """Statements and covered statements of ``corpus/<module>.py`` under its generated tests."""
    test_file = f"tests/test_{stem(module)}.py"
    execution = runner.run_in_workspace(
        RunRequest(
            command=("python3", ".ark_coverage.py", test_file),
            files={".ark_coverage.py": COVERAGE_DRIVER.encode()},
            limits=runner.suite_limits,  # the generated tests' whole suite, under coverage.py
            collect=(".ark-coverage.json",),
            target_path=test_file,
            kind="test",
        )
    )
    raw = execution.artifacts.get(".ark-coverage.json")
    if not raw:
        tail = (execution.stderr.strip().splitlines() or [execution.error or "no report"])[-1]
        return 0, 0, f"coverage run wrote no report: {tail}"
    report = json.loads(raw)
    for name, data in report["files"].items():
        if name.endswith(f"corpus/{stem(module)}.py"):
            summary = data["summary"]
            return summary["num_statements"], summary["covered_lines"], ""
    return 0, 0, "the module was never imported under coverage"


def evaluate(
    module: str, root: Path, runner: SandboxRunner, settings: Settings, measure: SandboxRunner
) -> ModuleResult:
    result = ModuleResult(module)
    started = time.perf_counter()
    relative = f"corpus/{stem(module)}.py"
    context = CharacterizationContext(
        root=root, settings=settings, templates=Templates(root), runner=runner
    )
    try:
        generated = generate_tests(
            context,
            relative,
            only=lambda t: t.class_name is None and bool(t.signature.parameters),
        )
    except NothingToTest as error:
        result.problem = str(error)
        return result
    outcome = generated.outcome
    result.functions = len(outcome.targets)
    result.written, result.skeletons = outcome.written, outcome.skeletons
    result.passed, result.failed = outcome.passed or 0, outcome.failed
    result.first_passed, result.first_total = outcome.first_run or (0, 0)
    # A sandbox fault (an engine gone, a container killed from outside) is not a test result.
    result.ran = not any(
        "could not be run" in note or "skipped skeletons with TODOs" in note
        for note in generated.generation.notes
    )
    if not generated.generation.offered:
        result.problem = f"refused: {generated.generation.validation.summary}"
        return result
    path = root / generated.generation.change.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(generated.generation.change.new_text)
    result.statements, result.covered, problem = coverage_of(measure, root, module)
    result.problem = problem or "; ".join(n for n in generated.generation.notes if "sandbox" in n)
    result.seconds = time.perf_counter() - started
    return result


def table(results: list[ModuleResult], backend: str) -> str:
    header = (
        f"{'module':<18} {'funcs':>5} {'tests':>6} {'skel':>5} {'pass':>6} {'fail':>5} "
        f"{'pass %':>7} {'1st %':>6} {'cover %':>8} {'secs':>6}"
    )
    lines = [f"backend: {backend}", header, "-" * len(header)]
    for r in results:
        rate = f"{100 * r.passed / r.checked:.1f}" if r.checked and r.ran else "-"
        first = f"{100 * r.first_passed / r.first_total:.1f}" if r.first_total and r.ran else "-"
        lines.append(
            f"{r.module:<18} {r.functions:>5} {r.written:>6} {r.skeletons:>5} {r.passed:>6} "
            f"{r.failed:>5} {rate:>7} {first:>6} {100 * r.coverage:>8.1f} {r.seconds:>6.1f}"
            + (f"  {r.problem}" if r.problem else "")
        )
    totals = summary(results)
    lines.append("-" * len(header))
    lines.append(
        f"{'total':<18} {totals['functions']:>5} {totals['written']:>6} {totals['skeletons']:>5} "
        f"{totals['passed']:>6} {totals['failed']:>5} {100 * totals['pass_rate']:>7.1f} "
        f"{100 * totals['first_run_pass_rate']:>6.1f} "
        f"{100 * totals['coverage']:>8.1f} {totals['seconds']:>6.1f}"
    )
    if totals["not_run"]:
        lines.append(
            f"left out of the totals, the sandbox failed them: {', '.join(totals['not_run'])}"
        )
    lines.append(
        f"pass rate {100 * totals['pass_rate']:.1f}% (goal {100 * PASS_GOAL:.0f}%; "
        f"{100 * totals['first_run_pass_rate']:.1f}% on the first run), "
        f"line coverage {100 * totals['coverage']:.1f}% over all statements, "
        f"{100 * totals['mean_coverage']:.1f}% mean per module (goal {100 * COVERAGE_GOAL:.0f}%)"
    )
    return "\n".join(lines)


def summary(results: list[ModuleResult]) -> dict[str, Any]:
    """Totals over the modules whose tests the sandbox managed to run."""
    lost = [r.module for r in results if not r.ran]
    results = [r for r in results if r.ran]
    checked = sum(r.checked for r in results)
    statements = sum(r.statements for r in results)
    return {
        "modules": len(results),
        "not_run": lost,
        "functions": sum(r.functions for r in results),
        "written": sum(r.written for r in results),
        "skeletons": sum(r.skeletons for r in results),
        "passed": sum(r.passed for r in results),
        "failed": sum(r.failed for r in results),
        "pass_rate": sum(r.passed for r in results) / checked if checked else 0.0,
        "first_run_pass_rate": (
            sum(r.first_passed for r in results) / sum(r.first_total for r in results)
            if any(r.first_total for r in results)
            else 0.0
        ),
        "coverage": sum(r.covered for r in results) / statements if statements else 0.0,
        "mean_coverage": sum(r.coverage for r in results) / len(results) if results else 0.0,
        "seconds": sum(r.seconds for r in results),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["auto", "docker", "local"], default="auto")
    parser.add_argument("--modules", help="Comma-separated subset of the module list.")
    parser.add_argument("--keep", type=Path, help="Build the workspace here and keep it.")
    parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    args = parser.parse_args(argv)
    modules = args.modules.split(",") if args.modules else list(MODULES)
    missing = [m for m in modules if not source_of(m).is_file()]
    if missing:
        print(f"generation_eval: no source for {', '.join(missing)}", file=sys.stderr)
        return 2
    scratch = None
    if args.keep:
        root = args.keep.resolve()
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
    else:
        scratch = tempfile.TemporaryDirectory(prefix="ark-generation-eval-")
        root = Path(scratch.name)
    try:
        make_workspace(root, modules)
        settings = Settings(sandbox=replace(SandboxSettings(), backend=args.backend, timeout=300))
        runner = SandboxRunner(root, settings, pool_size=0)
        # coverage.py is in ARK's environment (the test extras), not in the sandbox image:
        # the coverage run is a measurement, made in the local sandbox whatever --backend says.
        local = Settings(sandbox=replace(settings.sandbox, backend="local"))
        measure = SandboxRunner(root, local, pool_size=0)
        results = []
        try:
            for module in modules:
                print(f"generation_eval: {module}", file=sys.stderr)
                results.append(evaluate(module, root, runner, settings, measure))
        finally:
            runner.close()
            measure.close()
        if args.json:
            payload = {
                "backend": runner.backend,
                "python": sys.version.split()[0],
                "summary": summary(results),
                "modules": [{**asdict(r), "coverage": r.coverage} for r in results],
            }
            print(json.dumps(payload, indent=2))
        else:
            print(table(results, runner.backend))
    finally:
        if scratch is not None:
            scratch.cleanup()
    totals = summary(results)
    return 0 if totals["pass_rate"] >= PASS_GOAL and totals["coverage"] >= COVERAGE_GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
