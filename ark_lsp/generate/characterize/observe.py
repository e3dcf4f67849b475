"""Characterization: run functions on sample inputs in the sandbox and keep what reproduces.

The driver (:mod:`ark_lsp.generate.characterize.driver`) is run twice. The first run
explores: it tries the plan's examples and candidates and keeps every call
it made. The second run makes exactly those calls again under another hash
seed. A call whose two observations differ depends on time, randomness,
hash order or the outside world; it is left out of the tests, and counted
so the test file can say so.

The report is the sandbox's word (the code under test can overwrite it), so
it is read as data (see :mod:`~ark_lsp.generate.characterize.untrusted`): a call's
arguments must be values ARK planned, a value a literal (or a call of
literals of a class of the module or of
:data:`~ark_lsp.generate.characterize.driver.REMADE_CLASSES`), a class a dotted
name of an importable module, an instance made with arguments ARK gave;
anything else is dropped and counted.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ark_lsp.generate.characterize import driver
from ark_lsp.generate.characterize.samples import Plan
from ark_lsp.generate.characterize.targets import Target
from ark_lsp.generate.characterize.untrusted import (
    arguments_source,
    dotted_name,
    importable_module,
    literal_source,
    one_line,
)
from ark_lsp.models import CancelCheck
from ark_lsp.sandbox.models import Outcome, RunRequest, RunResult
from ark_lsp.sandbox.runner import WorkspaceRunner

_REPEATED = frozenset({"value", "raises", "type"})
"""Observations the checking run repeats; timeouts are not worth waiting for twice."""

DRIVER_FILE = ".ark_characterize.py"
"""The driver's name in the sandbox's work folder (hidden from pytest's collection)."""

KINDS = frozenset(
    {"value", "raises", "type", "timeout", "unstable", "unwritable", "crashed", "bad_input"}
)
"""What an observation can be; a report saying anything else is not the driver's."""

MAX_OBSERVATIONS = 1000
"""Calls read per target; the driver makes at most a few hundred."""

MAX_LINE = 10_000_000
MAX_LINES = 100_000
"""Bounds on the lines a call reports having run (numbers, and how many)."""


@dataclass(frozen=True)
class Planned:
    """What ARK asked the driver to try on one target: all a report may say was called."""

    values: tuple[frozenset[str], ...]
    """Per column, every value ARK gave the driver (candidates and examples)."""
    constructions: frozenset[str]
    """The argument lists ARK gave for making an instance (``""`` when none was given)."""
    module: str = ""
    """The target's module, which a test imports whatever its name (``pkg._tokenizer``)."""
    classes: frozenset[str] = frozenset()
    """The classes the module's own ``class`` statements make at its top level."""
    owner: str = ""
    """For a method: its class, whose instance a call may leave in a state a test writes."""

    @classmethod
    def of(
        cls, plan: Plan, module: str = "", classes: Collection[str] = (), owner: str = ""
    ) -> Planned:
        """What ``plan`` gives the driver for a target of ``module``, its ``classes`` these."""
        per_column = [set(pool) for pool in plan.pools]
        for seed in plan.seeds:
            for column, value in zip(per_column, seed.values, strict=False):
                column.add(value)
        return cls(
            tuple(frozenset(column) for column in per_column),
            frozenset(plan.constructions or ("",)),
            module,
            frozenset(classes),
            owner,
        )

    def importable(self, raw: object) -> str | None:
        """``raw`` as a module a test may import to name a class; None otherwise.

        The target's own, any module of its package (whose modules the tests import
        anyway, private ones too: ``h11._util``), or a public one.
        """
        if self.module and raw == self.module:
            return self.module
        name = dotted_name(raw)
        package = self.module.split(".")[0]
        if name and "." in self.module and name.split(".")[0] == package:
            return name
        return importable_module(raw)

    def remade(self, module: str, name: str, arguments: str) -> bool:
        """Whether a test may write a value as ``name`` (``module``'s), called with ``arguments``.

        A class the target's module makes with a ``class`` statement may be
        called, or an enum member of one named (no arguments): not whatever the
        module binds (``os.system`` of its ``import os``). Another module's class
        must be one whose instances are plain values (:data:`driver.REMADE_CLASSES`):
        the sandbox cannot have a test on the host call ``subprocess.Popen(...)``.
        """
        if module and module == self.module:
            owner, dot, member = name.partition(".")
            if not dot:
                return bool(arguments) and name in self.classes
            return not arguments and owner in self.classes and member.isidentifier()
        return bool(arguments) and f"{module}.{name}" in driver.REMADE_CLASSES

    def arguments(self, raw: object) -> tuple[str, ...] | None:
        """``raw`` as a call's arguments when it is one ARK planned; None otherwise."""
        if not isinstance(raw, list) or len(raw) != len(self.values):
            return None
        pairs = zip(raw, self.values, strict=True)
        if not all(isinstance(value, str) and value in kept for value, kept in pairs):
            return None
        return tuple(raw)


def _lines(raw: object) -> frozenset[int] | None:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list) or len(raw) > MAX_LINES:
        return None
    if not all(type(n) is int and 0 < n <= MAX_LINE for n in raw):
        return None
    return frozenset(raw)


@dataclass(frozen=True)
class Observation:
    """What one call did."""

    values: tuple[str, ...]
    kind: str
    """``value``, ``raises``, ``type``, ``timeout``, ``unstable``, ``unwritable``, ``crashed``,
    ``bad_input``."""
    text: str = ""
    """For a value: its ``repr``, a literal; with a ``name``, the arguments of a call of
    it that makes the value (``(major=1, minor=2)``), or nothing for an enum member."""
    module: str = ""
    """For ``raises`` and ``type``, and a value made by a call: the module a test imports
    to name the class."""
    name: str = ""
    """For ``raises`` and ``type``: the class's qualified name in that module; for a
    value, the class that makes it, or the enum member it is (``Color.RED``)."""
    consumed: bool = False
    """The result was an iterator; ``text`` is the list of what it yielded."""
    lines: frozenset[int] = frozenset()
    """The lines of the target's file the call ran."""
    stateful: bool = False
    """The call changed the module's globals: in one test process, it would change others."""
    incidental: bool = False
    """For ``raises``: a ``TypeError`` or ``AttributeError`` of an operation on an argument
    (``1 .get``), not of a ``raise``: the call's misuse, not its behaviour."""
    after: str = ""
    """For a method that returned nothing: the arguments its class makes the instance
    again with, as the call left it (``(items=[1])``); empty when it cannot be written."""

    def same_result(self, other: Observation | None) -> bool:
        """Whether ``other`` saw the same outcome (the lines run may differ: caches)."""
        return other is not None and dataclasses.replace(other, lines=self.lines) == self

    @classmethod
    def from_json(cls, raw: object, planned: Planned) -> Observation | None:
        """Read one observation the driver wrote; None when it is not well-formed data.

        The arguments must be ones ARK planned (not what the sandbox claims
        it called), a value a literal, a class a dotted name in a module a
        test may import (the target's own, or a public one), and the lines
        run bounded numbers.
        """
        if not isinstance(raw, dict):
            return None
        values = planned.arguments(raw.get("values"))
        kind = raw.get("kind")
        lines = _lines(raw.get("lines"))
        if values is None or kind not in KINDS or lines is None:
            return None
        text = module = name = ""
        if kind == "value" and "name" in raw:
            module = planned.importable(raw.get("module")) or ""
            name = dotted_name(raw.get("name")) or ""
            made = arguments_source(raw.get("text"))
            if made is None or not planned.remade(module, name, made):
                return None
            text = made
        elif kind == "value":
            text = literal_source(raw.get("text")) or ""
            if not text:
                return None
        elif kind in ("raises", "type"):
            module = planned.importable(raw.get("module")) or ""
            name = dotted_name(raw.get("name")) or ""
            if not module or not name:
                return None
        after = ""
        if "after" in raw:  # the state of the instance, as a call of its class: data only
            state = arguments_source(raw.get("after"))
            if not state or not planned.remade(planned.module, planned.owner, state):
                return None
            after = state
        return cls(
            values=values,
            kind=str(kind),
            text=text,
            module=module,
            name=name,
            consumed=raw.get("consumed") is True,
            lines=lines,
            stateful=raw.get("stateful") is True,
            incidental=kind == "raises" and raw.get("incidental") is True,
            after=after,
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
    dropped: int = 0
    """Observations the sandbox reported that were not well-formed data."""


@dataclass(frozen=True)
class CharacterizationRun:
    """The characterization of a file's targets, or why there is none."""

    backend: str
    results: dict[str, Characterization] = field(default_factory=dict)
    error: str | None = None
    """Why nothing could be observed: no sandbox run, an import that fails."""
    notes: tuple[str, ...] = ()
    """What the sandbox runs' input left out (see :attr:`~ark_lsp.sandbox.RunResult.notes`)."""


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
        "columns": [
            {"name": c.name, "kind": c.kind.value, "by_keyword": c.by_keyword} for c in plan.columns
        ],
        "pools": [list(pool) for pool in plan.pools],
        "seeds": [list(seed.values) for seed in plan.seeds],
        "cases": None if cases is None else [list(case) for case in cases],
        "constructions": list(plan.constructions if constructions is None else constructions),
        "after": target.returns_nothing and target.binding == "method",
    }


def _sys_path(relative: str) -> list[str]:
    # A src layout's packages import from src/, as an installed package would.
    return ["src"] if relative.startswith("src/") else []


def _request(
    runner: WorkspaceRunner,
    relative: str,
    module: str,
    orders: list[dict[str, Any]],
    seed: str,
    named: Collection[str] = (),
    classes: Collection[str] = (),
) -> RunRequest:
    spec = {
        "module": module,
        "sys_path": _sys_path(relative),
        "named": sorted(named),
        "classes": sorted(classes),
        "targets": orders,
    }
    # The driver needs time for every target; the settings' limit still applies if longer.
    seconds = min(600.0, 30.0 + driver.TARGET_SECONDS * len(orders))
    limits = runner.limits
    return RunRequest(
        command=("python3", DRIVER_FILE),
        files={
            DRIVER_FILE: Path(driver.__file__).read_bytes(),
            driver.SPEC: json.dumps(spec).encode("utf-8"),
        },
        limits=dataclasses.replace(limits, timeout=max(limits.timeout, seconds)),
        target_path=relative,
        target_name=",".join(o["qualname"] for o in orders),
        env={"PYTHONHASHSEED": seed},
        collect=(driver.OUT,),
        kind="function",
    )


def _report(result: RunResult, runner: WorkspaceRunner) -> tuple[dict[str, Any] | None, str | None]:
    """The driver's report, or why there is none."""
    if not result.ran:
        return None, one_line(result.error or f"the {result.backend} sandbox could not run")
    raw = result.artifacts.get(driver.OUT)
    if not raw:
        tail = result.stderr.strip().splitlines()[-1:] or ["no output"]
        timed_out = result.outcome is Outcome.TIMEOUT
        reason = "it timed out" if timed_out else f"exit {result.exit_code}"
        return None, f"the characterization run wrote nothing ({reason}: {one_line(tail[0])})"
    try:
        report = json.loads(raw)
    except (ValueError, RecursionError):
        report = None
    if not isinstance(report, dict) or not isinstance(report.get("targets"), dict):
        return None, "the characterization run wrote an unreadable report"
    if report.get("import_error"):
        return None, runner.explain(
            f"the module cannot be imported in the sandbox: {one_line(report['import_error'])}"
        )
    return report, None


@dataclass
class _Read:
    """One target's part of a report, read as data."""

    observations: list[Observation] = field(default_factory=list)
    construction: str = ""
    problem: str | None = None
    dropped: int = 0


def _read_entry(entry: object, target: Target, planned: Planned) -> _Read:
    if not isinstance(entry, dict):
        return _Read(problem="the sandbox run ended before reaching it")
    if entry.get("problem"):
        return _Read(problem=one_line(entry["problem"]))
    raw_cases = entry.get("cases")
    cases = raw_cases if isinstance(raw_cases, list) else []
    read = _Read(dropped=max(0, len(cases) - MAX_OBSERVATIONS))
    construction = entry.get("construction") or ""
    if target.on_instance and construction not in planned.constructions:
        # An instance made some other way than ARK asked: none of its calls can be written.
        read.problem = "the sandbox reported an instance made with arguments ARK did not give"
        read.dropped = len(cases)
        return read
    read.construction = construction if target.on_instance else ""
    for raw in cases[:MAX_OBSERVATIONS]:
        observation = Observation.from_json(raw, planned)
        if observation is None:
            read.dropped += 1
        else:
            read.observations.append(observation)
    return read


def characterize(
    targets: Sequence[tuple[Target, Plan]],
    relative: str,
    module: str,
    runner: WorkspaceRunner,
    cancel: CancelCheck | None = None,
    named: Collection[str] = (),
    classes: Collection[str] = (),
) -> CharacterizationRun:
    """Run every target on its samples twice in the sandbox; keep what both runs agree on.

    ``named``: the names of the module the plans' values may use (its constants and
    enum members), which the driver resolves there and nothing else of it.
    ``classes``: those its ``class`` statements make, whose instances a test may make.
    """
    if not targets:
        return CharacterizationRun(runner.backend)
    orders = [_order(t, p, None) for t, p in targets]
    first = runner.run_in_workspace(
        _request(runner, relative, module, orders, "0", named, classes), cancel
    )
    explored, error = _report(first, runner)
    if explored is None:
        return CharacterizationRun(runner.backend, error=error, notes=first.notes)
    planned = {
        target.qualname: Planned.of(plan, module, classes, target.class_name or "")
        for target, plan in targets
    }
    read = {
        target.qualname: _read_entry(
            explored["targets"].get(target.qualname), target, planned[target.qualname]
        )
        for target, _ in targets
    }
    made = {q: r for q, r in read.items() if r.problem is None}
    checking = [
        _order(
            t,
            p,
            [o.values for o in made[t.qualname].observations if o.kind in _REPEATED],
            [made[t.qualname].construction],
        )
        for t, p in targets
        if t.qualname in made
    ]
    second_report: dict[str, Any] = {"targets": {}}
    if checking:
        second = runner.run_in_workspace(
            _request(runner, relative, module, checking, "1", named, classes), cancel
        )
        checked, error = _report(second, runner)
        if checked is None:
            return CharacterizationRun(runner.backend, error=error, notes=first.notes)
        second_report = checked
    results: dict[str, Characterization] = {}
    for target, plan in targets:
        mine = read[target.qualname]
        if target.qualname not in made:
            results[target.qualname] = Characterization(
                target, plan, problem=mine.problem, dropped=mine.dropped
            )
            continue
        again = _read_entry(
            second_report["targets"].get(target.qualname), target, planned[target.qualname]
        )
        repeated = {o.values: o for o in again.observations}
        kept: list[Observation] = []
        unstable = timeouts = unwritable = crashed = stateful = 0
        for observation in mine.observations:
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
            construction=mine.construction,
            dropped=mine.dropped,
        )
    return CharacterizationRun(runner.backend, results, notes=first.notes)


__all__ = ["Characterization", "CharacterizationRun", "Observation", "Planned", "characterize"]
