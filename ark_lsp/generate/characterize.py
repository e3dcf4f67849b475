"""Characterization: run functions on sample inputs in the sandbox and keep what reproduces.

The driver (:mod:`ark_lsp.generate.driver`) is run twice. The first run
explores: it tries the plan's examples and candidates and keeps every call
it made. The second run makes exactly those calls again under another hash
seed. A call whose two observations differ depends on time, randomness,
hash order or the outside world; it is left out of the tests, and counted
so the test file can say so.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ark_lsp.generate import driver
from ark_lsp.generate.runner import CancelCheck, CodeRunner, Execution, Job
from ark_lsp.generate.samples import Plan
from ark_lsp.generate.targets import Target

_REPEATED = frozenset({"value", "raises", "type"})
"""Observations the checking run repeats; timeouts are not worth waiting for twice."""

DRIVER_FILE = ".ark_characterize.py"
"""The driver's name in the sandbox's work folder (hidden from pytest's collection)."""


@dataclass(frozen=True)
class Observation:
    """What one call did."""

    values: tuple[str, ...]
    kind: str
    """``value``, ``raises``, ``type``, ``timeout``, ``unstable``, ``unwritable``, ``crashed``,
    ``bad_input``."""
    text: str = ""
    """For a value: its ``repr``, a literal."""
    module: str = ""
    """For ``raises`` and ``type``: the module a test imports to name the class."""
    name: str = ""
    """For ``raises`` and ``type``: the class's qualified name in that module."""
    consumed: bool = False
    """The result was an iterator; ``text`` is the list of what it yielded."""
    lines: frozenset[int] = frozenset()
    """The lines of the target's file the call ran."""
    stateful: bool = False
    """The call changed the module's globals: in one test process, it would change others."""

    def same_result(self, other: Observation | None) -> bool:
        """Whether ``other`` saw the same outcome (the lines run may differ: caches)."""
        return other is not None and dataclasses.replace(other, lines=self.lines) == self

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Observation:
        """Read one observation the driver wrote."""
        return cls(
            values=tuple(str(v) for v in raw.get("values", ())),
            kind=str(raw.get("kind", "")),
            text=str(raw.get("text", "")),
            module=str(raw.get("module", "")),
            name=str(raw.get("name", "")),
            consumed=bool(raw.get("consumed", False)),
            lines=frozenset(int(n) for n in raw.get("lines", ())),
            stateful=bool(raw.get("stateful", False)),
        )


@dataclass(frozen=True)
class Characterization:
    """What a target did on its sample inputs, reproducible calls only."""

    target: Target
    plan: Plan
    observations: tuple[Observation, ...] = ()
    unstable: int = 0
    """Calls whose result differed between the two runs."""
    timeouts: int = 0
    unwritable: int = 0
    """Calls whose result cannot be written down as test data."""
    crashed: int = 0
    """Calls that ended the process (``os._exit``, a signal, the memory limit)."""
    stateful: int = 0
    """Calls that changed the module's global state."""
    problem: str | None = None
    """Why the target could not be run at all (no instance could be made, say)."""
    construction: str = ""
    """For a method: the arguments its instance was made with."""


@dataclass(frozen=True)
class CharacterizationRun:
    """The characterization of a file's targets, or why there is none."""

    backend: str
    results: dict[str, Characterization] = field(default_factory=dict)
    error: str | None = None
    """Why nothing could be observed: no sandbox run, an import that fails."""


def _order(
    target: Target,
    plan: Plan,
    cases: Sequence[tuple[str, ...]] | None,
    constructions: Sequence[str] | None = None,
) -> dict[str, Any]:
    return {
        "qualname": target.qualname,
        "name": target.name,
        "class_name": target.class_name,
        "binding": target.binding,
        "is_async": target.is_async,
        "columns": [{"name": c.name, "kind": c.kind.value} for c in plan.columns],
        "pools": [list(pool) for pool in plan.pools],
        "seeds": [list(seed.values) for seed in plan.seeds],
        "cases": None if cases is None else [list(case) for case in cases],
        "constructions": list(plan.constructions if constructions is None else constructions),
    }


def _sys_path(relative: str) -> list[str]:
    # A src layout's packages import from src/, as an installed package would.
    return ["src"] if relative.startswith("src/") else []


def _job(relative: str, module: str, orders: list[dict[str, Any]], seed: str) -> Job:
    spec = {"module": module, "sys_path": _sys_path(relative), "targets": orders}
    return Job(
        command=("python3", DRIVER_FILE),
        files={
            DRIVER_FILE: Path(driver.__file__).read_bytes(),
            driver.SPEC: json.dumps(spec).encode("utf-8"),
        },
        collect=(driver.OUT,),
        env={"PYTHONHASHSEED": seed},
        target_path=relative,
        target_name=",".join(o["qualname"] for o in orders),
        kind="function",
        timeout=min(600.0, 30.0 + driver.TARGET_SECONDS * len(orders)),
    )


def _report(execution: Execution) -> tuple[dict[str, Any] | None, str | None]:
    """The driver's report, or why there is none."""
    if not execution.ran:
        return None, execution.error or f"the {execution.backend} sandbox could not run"
    raw = execution.artifacts.get(driver.OUT)
    if not raw:
        tail = execution.stderr.strip().splitlines()[-1:] or ["no output"]
        reason = "it timed out" if execution.timed_out else f"exit {execution.exit_code}"
        return None, f"the characterization run wrote nothing ({reason}: {tail[0]})"
    try:
        report = json.loads(raw)
    except ValueError:
        return None, "the characterization run wrote an unreadable report"
    if report.get("import_error"):
        return None, f"the module cannot be imported in the sandbox: {report['import_error']}"
    return report, None


def characterize(
    targets: Sequence[tuple[Target, Plan]],
    relative: str,
    module: str,
    runner: CodeRunner,
    cancel: CancelCheck | None = None,
) -> CharacterizationRun:
    """Run every target on its samples twice in the sandbox; keep what both runs agree on."""
    if not targets:
        return CharacterizationRun(runner.backend)
    first = runner.run(
        _job(relative, module, [_order(t, p, None) for t, p in targets], "0"), cancel
    )
    explored, error = _report(first)
    if explored is None:
        return CharacterizationRun(runner.backend, error=error)
    made: dict[str, list[Observation]] = {}
    problems: dict[str, str] = {}
    constructed: dict[str, str] = {}
    for target, _ in targets:
        entry = explored["targets"].get(target.qualname)
        if entry is None:
            problems[target.qualname] = "the sandbox run ended before reaching it"
        elif entry.get("problem"):
            problems[target.qualname] = str(entry["problem"])
        else:
            made[target.qualname] = [Observation.from_json(c) for c in entry["cases"]]
            constructed[target.qualname] = str(entry.get("construction") or "")
    checking = [
        _order(
            t,
            p,
            [o.values for o in made[t.qualname] if o.kind in _REPEATED],
            [constructed[t.qualname]],
        )
        for t, p in targets
        if t.qualname in made
    ]
    second_report: dict[str, Any] = {"targets": {}}
    if checking:
        second = runner.run(_job(relative, module, checking, "1"), cancel)
        checked, error = _report(second)
        if checked is None:
            return CharacterizationRun(runner.backend, error=error)
        second_report = checked
    results: dict[str, Characterization] = {}
    for target, plan in targets:
        if target.qualname not in made:
            results[target.qualname] = Characterization(
                target, plan, problem=problems.get(target.qualname)
            )
            continue
        again = second_report["targets"].get(target.qualname, {}).get("cases", [])
        repeated = {tuple(c["values"]): Observation.from_json(c) for c in again}
        kept: list[Observation] = []
        unstable = timeouts = unwritable = crashed = stateful = 0
        for observation in made[target.qualname]:
            if observation.stateful:
                stateful += 1
            elif observation.kind == "crashed":
                crashed += 1
            elif observation.kind == "timeout":
                timeouts += 1
            elif observation.kind == "unwritable":
                unwritable += 1
            elif observation.kind == "bad_input":
                continue
            elif observation.kind == "unstable" or not observation.same_result(
                repeated.get(observation.values)
            ):
                unstable += 1
            else:
                kept.append(observation)
        results[target.qualname] = Characterization(
            target,
            plan,
            tuple(kept),
            unstable,
            timeouts,
            unwritable,
            crashed,
            stateful,
            construction=constructed[target.qualname],
        )
    return CharacterizationRun(runner.backend, results)


__all__ = ["Characterization", "CharacterizationRun", "Observation", "characterize"]
