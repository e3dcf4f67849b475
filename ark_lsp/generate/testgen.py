"""Tests that pass today: characterize a module's functions, then write what they did.

:func:`generate_tests` finds the targets (a file's public functions and
methods, or one of them), plans sample inputs for each, runs them in the
sandbox (:mod:`~ark_lsp.generate.characterize`), renders ``test.py.j2``
into the module's test file (created, or extended without repeating a test
it has), validates the file, and runs the new tests in the sandbox to count
how many pass. Without a sandbox it writes skeletons, skipped, with TODOs.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ark_lsp.analysis import module_name
from ark_lsp.config import Settings
from ark_lsp.generate import placement, testfile
from ark_lsp.generate.characterize import Characterization, Observation, characterize
from ark_lsp.generate.driver import CALL_TIMEOUT
from ark_lsp.generate.engine import ReadText, read_disk
from ark_lsp.generate.results import FileChange, Generation
from ark_lsp.generate.runner import (
    JUNIT_REPORT,
    REHEARSAL_REPORT,
    CancelCheck,
    CodeRunner,
    count_junit,
    failed_rows,
    pytest_job,
)
from ark_lsp.generate.samples import Plan, make_cases, plan
from ark_lsp.generate.style import Style, detect_style
from ark_lsp.generate.targets import Target, find_targets
from ark_lsp.generate.templating import Templates
from ark_lsp.generate.validation import validate
from ark_lsp.models import ParameterKind

MAX_VALUE_ROWS = 24
"""Rows of returned values per function: the ones that run the most lines first."""
MAX_RAISE_ROWS = 6
MAX_TYPE_ROWS = 6
SKELETON_ROWS = 3

Progress = Callable[[str], None]


class NothingToTest(ValueError):
    """The file has no function to test, or every one already has tests."""

    def __init__(self, message: str, *, already_tested: bool = False) -> None:
        super().__init__(message)
        self.already_tested = already_tested


@dataclass(frozen=True)
class TestOutcome:
    """What generating tests came to: how many were written and how many pass."""

    __test__ = False  # a library class, not a test class for pytest to collect

    path: str
    """The test file, workspace-relative."""
    targets: tuple[str, ...]
    """The functions and methods tests were written for."""
    written: int
    """Generated test cases (parametrize rows), skeletons included."""
    skeletons: int = 0
    """Of those, skipped TODO rows written because nothing could be observed."""
    passed: int | None = None
    """How many generated cases passed in the sandbox; None when they were not run."""
    failed: int = 0
    backend: str | None = None
    already_tested: tuple[str, ...] = ()
    """Targets left alone because the test file already tests them."""
    notes: tuple[str, ...] = field(default=())
    first_run: tuple[int, int] | None = None
    """Passed and run cases of the first sandbox run, before rows that failed only in
    sequence with the others were left out."""

    def as_dict(self) -> dict[str, object]:
        """Plain data for the records and JSON output."""
        return dataclasses.asdict(self)

    @property
    def summary(self) -> str:
        """One line for the user: ``wrote 12 tests to tests/test_x.py; 12 of 12 pass (local)``."""
        text = f"wrote {self.written} test{'s' * (self.written != 1)} to {self.path}"
        if self.skeletons:
            text += f" ({self.skeletons} TODO skeleton{'s' * (self.skeletons != 1)}, skipped)"
        if self.passed is not None:
            checked = self.written - self.skeletons
            text += f"; {self.passed} of {checked} pass in the sandbox ({self.backend})"
        return text


@dataclass(frozen=True)
class TestGeneration:
    """The test file change, and its outcome."""

    __test__ = False

    generation: Generation
    outcome: TestOutcome


@dataclass
class _Block:
    """One target's tests, as the test template sees them."""

    name: str
    columns: list[str]
    call: str
    expected: str = "expected"
    expected_type: str = "expected_type"
    error: str = "error"
    returns: list[list[str]] = field(default_factory=list)
    raises: list[list[str]] = field(default_factory=list)
    types: list[list[str]] = field(default_factory=list)
    skeleton: list[list[str]] = field(default_factory=list)
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    qualname: str = ""
    spare: list[list[str]] = field(default_factory=list)
    """Skeleton rows, for when every observed row has to go."""

    @property
    def rows(self) -> int:
        return len(self.returns) + len(self.raises) + len(self.types) + len(self.skeleton)

    @property
    def test_names(self) -> set[str]:
        names = {f"test_{self.name}"}
        if self.types:
            names.add(f"test_{self.name}_result_type")
        if self.raises:
            names.add(f"test_{self.name}_raises")
        return names


class _Imports:
    """The names a test file needs, gathered while its blocks are made."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.from_module: list[str] = []
        self.modules: list[str] = []
        self.pytest = True
        self.any = False

    def target(self, name: str) -> None:
        if name not in self.from_module:
            self.from_module.append(name)

    def reference(self, observation: Observation) -> str:
        """How a test names the class of a raised exception or a result."""
        if observation.module == "builtins":
            return observation.name
        if observation.module == self.module and "." not in observation.name:
            self.target(observation.name)
            return observation.name
        if observation.module not in self.modules:
            self.modules.append(observation.module)
        return f"{observation.module}.{observation.name}"

    def lines(self) -> list[str]:
        """The import lines, grouped and sorted as isort and ruff would: stdlib, others, own."""
        own = self.module.split(".")[0]
        groups: list[list[str]] = [[], [], []]
        for name in sorted({"pytest", *self.modules}):
            top = name.split(".")[0]
            section = 0 if top in sys.stdlib_module_names else 2 if top == own else 1
            groups[section].append(f"import {name}")
        if self.any:
            groups[0].append("from typing import Any")
        if self.from_module:
            groups[2].append(
                testfile.import_from(self.module, sorted(self.from_module, key=_by_type))
            )
        lines: list[str] = []
        for group in groups:
            if group:
                lines += [*([""] if lines else []), *group]
        return lines


def _by_type(name: str) -> tuple[int, str]:
    """The order isort gives imported names: CONSTANTS, then Classes, then functions."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


def _call(target: Target, columns: Sequence[tuple[str, ParameterKind]], imports: _Imports) -> str:
    arguments = []
    for name, kind in columns:
        if kind is ParameterKind.VAR_POSITIONAL:
            arguments.append(f"*{name}")
        elif kind is ParameterKind.KEYWORD_ONLY:
            arguments.append(f"{name}={name}")
        else:
            arguments.append(name)
    joined = ", ".join(arguments)
    if target.class_name is None:
        imports.target(target.name)
        call = f"{target.name}({joined})"
    else:
        imports.target(target.class_name.split(".")[0])
        owner = f"{target.class_name}()" if target.binding == "method" else target.class_name
        call = f"{owner}.{target.name}({joined})"
    if target.is_async:
        if "asyncio" not in imports.modules:
            imports.modules.append("asyncio")
        call = f"asyncio.run({call})"
    return call


def _column_names(target: Target, plan_: Plan) -> list[str]:
    taken = {target.name, target.class_name or "", "pytest", "asyncio", "Any"}
    names = []
    for column in plan_.columns:
        name = column.name
        while name in taken:
            name = f"{name}_arg"
        taken.add(name)
        names.append(name)
    return names


def _free(name: str, columns: list[str]) -> str:
    while name in columns:
        name = f"{name}_"
    return name


def _block(
    characterization: Characterization | None,
    target: Target,
    plan_: Plan,
    imports: _Imports,
    style: Style,
    no_sandbox: str | None,
) -> _Block:
    names = _column_names(target, plan_)
    call = _call(target, list(zip(names, [c.kind for c in plan_.columns], strict=True)), imports)
    _, cases = make_cases(target.signature, plan_.seeds, limit=SKELETON_ROWS)
    block = _Block(
        name=target.test_name,
        columns=names,
        call=call,
        expected=_free("expected", names),
        expected_type=_free("expected_type", names),
        error=_free("error", names),
        qualname=target.qualname,
        spare=[[*map(style.literal, c.values), "..."] for c in cases],
    )
    observations = characterization.observations if characterization else ()
    if characterization is not None:
        block.notes += _notes(characterization)
    # One call expression serves every table. Iterators are compared as lists, and a
    # generator raises only while it is consumed: such calls are wrapped in list(),
    # which raises what the call itself raises too.
    consumed = sum(1 for o in observations if o.consumed)
    plain = sum(1 for o in observations if o.kind in ("value", "type") and not o.consumed)
    if consumed and consumed >= plain:
        block.call = f"list({block.call})"
        left_out = plain
        observations = tuple(o for o in observations if o.consumed or o.kind == "raises")
    else:
        left_out = consumed
        observations = tuple(o for o in observations if not o.consumed)
    if left_out:
        block.notes.append(f"{left_out} result(s) of the other kind (iterator or not) left out")
    values = [o for o in observations if o.kind == "value"]
    if values and target.depends_on:
        block.notes.append(
            f"{len(values)} result(s) left out: {target.name} reads "
            f"{', '.join(target.depends_on)}, so they need not repeat"
        )
        values = []
    block.returns = [
        [*map(style.literal, o.values), style.literal(o.text)]
        for o in _choose(values, MAX_VALUE_ROWS)
    ]
    for kind, limit, rows in (
        ("type", MAX_TYPE_ROWS, block.types),
        ("raises", MAX_RAISE_ROWS, block.raises),
    ):
        chosen = _choose([o for o in observations if o.kind == kind], limit)
        rows += [[*map(style.literal, o.values), imports.reference(o)] for o in chosen]
    if block.rows == 0:
        reason = no_sandbox or (characterization.problem if characterization else None)
        if reason is None and target.depends_on:
            reason = f"its results depend on {', '.join(target.depends_on)}"
        if reason is None and characterization is not None and characterization.stateful:
            reason = "its calls change the module's global state"
        reason = reason or "no reproducible result was observed"
        block.reason = f"ARK could not observe {target.qualname}: {reason}."
        block.skeleton = block.spare
        block.notes = [n for n in block.notes if "left out" in n]
    if style.typed:
        imports.any = True
    return block


def _choose(observations: list[Observation], limit: int) -> list[Observation]:
    """Up to ``limit`` rows that run the most lines between them, in the order they were seen.

    Greedy set cover: each pick runs the most lines no earlier pick ran,
    then (for exceptions and result types) shows a class not shown yet; when
    nothing new is left, the table is filled in the order of observation.
    """
    chosen: list[int] = []
    lines: set[int] = set()
    classes: set[str] = set()
    remaining = list(range(len(observations)))
    while remaining and len(chosen) < limit:
        best = max(remaining, key=lambda i: _gain(observations[i], lines, classes))
        if _gain(observations[best], lines, classes) == (0, 0):
            break
        chosen.append(best)
        remaining.remove(best)
        lines |= observations[best].lines
        classes.add(f"{observations[best].module}.{observations[best].name}")
    chosen += remaining[: limit - len(chosen)]
    return [observations[index] for index in sorted(chosen)]


def _gain(observation: Observation, lines: set[int], classes: set[str]) -> tuple[int, int]:
    """New lines a row would run, and whether it shows a class not shown yet."""
    new_class = bool(observation.name) and f"{observation.module}.{observation.name}" not in classes
    return len(observation.lines - lines), int(new_class)


def _notes(characterization: Characterization) -> list[str]:
    notes = []
    if characterization.unstable:
        notes.append(
            f"{characterization.unstable} input(s) left out: their results differ between runs "
            "(time, randomness, hash order or I/O)"
        )
    if characterization.timeouts:
        notes.append(
            f"{characterization.timeouts} input(s) left out: no result within {CALL_TIMEOUT:g} s"
        )
    if characterization.stateful:
        notes.append(
            f"{characterization.stateful} input(s) left out: the call changes the module's "
            "global state, which would leak into other tests"
        )
    if characterization.crashed:
        notes.append(f"{characterization.crashed} input(s) left out: the call ended the process")
    if characterization.unwritable:
        notes.append(
            f"{characterization.unwritable} result(s) left out: they cannot be written as test data"
        )
    return notes


def _render(
    templates: Templates,
    style: Style,
    blocks: list[_Block],
    imports: _Imports,
    module: str,
    header: bool,
    observed: bool,
) -> tuple[str, str]:
    how = "from behaviour observed in the sandbox" if observed else "as skeletons to fill in"
    context = {
        "file": {
            "header": header,
            "docstring": f"Tests of {module}, generated by ARK {how}.",
            "imports": imports.lines(),
        },
        "tests": [dataclasses.asdict(block) for block in blocks],
    }
    rendered = templates.render("test.py.j2", context, style)
    return rendered.text, rendered.label


def generate_tests(
    root: Path,
    relative: str,
    *,
    settings: Settings,
    templates: Templates,
    runner: CodeRunner | None,
    name: str | None = None,
    line: int | None = None,
    only: Callable[[Target], bool] | None = None,
    call_sites: Callable[[str], list[str]] | None = None,
    read_text: ReadText = read_disk,
    cancel: CancelCheck | None = None,
    progress: Progress | None = None,
    run_tests: bool = True,
) -> TestGeneration:
    """Write (or extend) the test file of ``relative`` with characterization tests.

    The targets are the function or method named ``name`` (``Class.method``),
    the one defined at ``line``, or else every public one of the file (those
    ``only`` accepts, when given).
    ``call_sites`` gives the texts of files calling a name, for the literal
    arguments they pass. Raises :class:`NothingToTest` when there is nothing
    new to test and :class:`~ark_lsp.generate.templating.TemplateError` for a
    broken template.
    """
    say = progress or (lambda message: None)
    text = read_text(root / relative)
    if text is None:
        raise NothingToTest(f"{relative} cannot be read")
    if line is not None:
        from ark_lsp.generate.targets import target_at

        found = target_at(text, line)
        targets = [found] if found is not None else []
    else:
        targets = find_targets(text, name)
    if only is not None:
        targets = [t for t in targets if only(t)]
    if not targets:
        what = f"no function or method {name}" if name else "no public function or method"
        raise NothingToTest(f"{relative} has {what} to test")
    module = module_name(relative)[0]
    test_path = testfile.file_for_tests(root, relative)
    old_text = read_text(root / test_path)
    existing = testfile.existing_tests(old_text)
    already = [(t, testfile.tested_by(t, existing)) for t in targets]
    skipped = tuple(f"{t.qualname} ({by})" for t, by in already if by)
    targets = [t for t, by in already if not by]
    if not targets:
        raise NothingToTest(f"{test_path} already tests {', '.join(skipped)}", already_tested=True)

    plans = []
    for target in targets:
        sites = call_sites(target.name) if call_sites else []
        plans.append((target, plan(target.signature, target.name, target.docstring, sites)))
    no_sandbox: str | None = None
    results: dict[str, Characterization] = {}
    backend = runner.backend if runner else None
    if runner is None:
        no_sandbox = "no sandbox is available to run the code in"
    else:
        say(f"running {len(targets)} function(s) on sample inputs in the {runner.backend} sandbox")
        run = characterize(plans, relative, module, runner, cancel)
        no_sandbox, results = run.error, run.results

    style = detect_style(old_text) if old_text else detect_style(text)
    imports = _Imports(module)
    blocks = [_block(results.get(t.qualname), t, p, imports, style, no_sandbox) for t, p in plans]
    label = f"{relative}::{name}" if name else relative
    compose = _Composer(templates, style, imports, module, test_path, old_text, settings, label)
    generation = compose(blocks)
    skeletons = sum(len(b.skeleton) for b in blocks)
    if no_sandbox is not None:
        notes = [f"{no_sandbox}: the tests are skipped skeletons with TODOs"]
    else:
        notes = [b.reason for b in blocks if b.skeleton]
    outcome = TestOutcome(
        path=test_path,
        targets=tuple(t.qualname for t in targets),
        written=sum(b.rows for b in blocks),
        skeletons=skeletons,
        backend=backend,
        already_tested=skipped,
    )
    if runner is not None and run_tests and generation.offered and outcome.written > skeletons:
        say(f"running the {outcome.written - skeletons} generated tests in the sandbox")
        generation, outcome = _run_generated(runner, compose, blocks, generation, outcome, cancel)
        notes += outcome.notes
    generation = dataclasses.replace(generation, notes=tuple(notes))
    return TestGeneration(generation, dataclasses.replace(outcome, notes=tuple(notes)))


@dataclass(frozen=True)
class _Composer:
    """Renders blocks into the test file (new, or the existing one extended) and validates it."""

    templates: Templates
    style: Style
    imports: _Imports
    module: str
    test_path: str
    old_text: str | None
    settings: Settings
    target: str

    def __call__(self, blocks: list[_Block]) -> Generation:
        observed = any(not b.skeleton for b in blocks)
        render = functools.partial(
            _render, self.templates, self.style, blocks, self.imports, self.module
        )
        if self.old_text is None:
            new_text, label = render(True, observed)
            generated = new_text
            change = FileChange.new_file(self.test_path, new_text)
            first_line = 1
        else:
            generated, label = render(False, observed)
            with_imports = testfile.add_imports(
                self.old_text,
                testfile.imports_missing(self.old_text, self.imports.lines()),
                self.style,
                own=self.module.split(".")[0],
            )
            inserted = placement.append(with_imports, generated, 2, self.style.newline)
            new_text, first_line = inserted.new_text, inserted.line
            edit = placement.whole_file(self.old_text, new_text)
            change = FileChange(self.test_path, self.old_text, new_text, (edit,))
        return Generation(
            kind="tests",
            target=self.target,
            template=label,
            text=generated,
            change=change,
            validation=validate(new_text, self.test_path, self.settings, self.old_text),
            line=first_line,
        )


def _run_generated(
    runner: CodeRunner,
    compose: _Composer,
    blocks: list[_Block],
    generation: Generation,
    outcome: TestOutcome,
    cancel: CancelCheck | None,
) -> tuple[Generation, TestOutcome]:
    """Run the new tests in the sandbox; rows that fail only there are left out and run again.

    A row can pass on its own (the driver called it in a fresh process) yet
    fail after the other tests, when they share state (``gettext``'s domain
    registry). Such rows are dropped and the file is run once more; the
    counts are those of the file as written, with the first run's kept too.
    """
    names = set().union(*(b.test_names for b in blocks if not b.skeleton))
    job = pytest_job(compose.test_path, generation.change.new_text, rehearse=True)
    first = runner.run(job, cancel)
    if not first.ran:
        return generation, dataclasses.replace(
            outcome, notes=(f"the generated tests could not be run: {first.error}",)
        )
    counts = count_junit(first.artifacts.get(JUNIT_REPORT, b""), names)
    outcome = dataclasses.replace(
        outcome,
        passed=counts.passed,
        failed=counts.failed + counts.errors,
        first_run=(counts.passed, counts.total - counts.skipped),
    )
    failing = failed_rows(first.artifacts.get(REHEARSAL_REPORT, b""))
    dropped = _drop_rows(blocks, failing)
    if not dropped:
        return generation, outcome
    pruned = compose(blocks)
    if not pruned.offered:
        return generation, outcome
    second = runner.run(pytest_job(compose.test_path, pruned.change.new_text), cancel)
    if not second.ran:
        return generation, outcome
    counts = count_junit(second.artifacts.get(JUNIT_REPORT, b""), names)
    return pruned, dataclasses.replace(
        outcome,
        written=sum(b.rows for b in blocks),
        skeletons=sum(len(b.skeleton) for b in blocks),
        passed=counts.passed,
        failed=counts.failed + counts.errors,
    )


def _drop_rows(blocks: list[_Block], failing: list[tuple[str, int]]) -> int:
    """Remove the failing parametrize rows from their tables; return how many went."""
    tables: dict[str, tuple[_Block, list[list[str]]]] = {}
    for block in blocks:
        tables[f"test_{block.name}"] = (block, block.returns)
        tables[f"test_{block.name}_raises"] = (block, block.raises)
        tables[f"test_{block.name}_result_type"] = (block, block.types)
    doomed: dict[str, set[int]] = {}
    for function, index in failing:
        if function in tables and 0 <= index < len(tables[function][1]):
            doomed.setdefault(function, set()).add(index)
    for function, indices in doomed.items():
        block, rows = tables[function]
        rows[:] = [row for i, row in enumerate(rows) if i not in indices]
        block.notes.append(
            f"{len(indices)} row(s) of {function} left out: they failed when run after "
            "the other tests (state shared between tests)"
        )
        if block.rows == 0:
            block.skeleton = block.spare
            block.reason = (
                f"ARK could not observe {block.qualname}: its results depend on state "
                "that other tests change."
            )
    return sum(len(indices) for indices in doomed.values())


__all__ = ["NothingToTest", "TestGeneration", "TestOutcome", "generate_tests"]
