"""Tests that pass today: characterize a module's functions, then write what they did.

:func:`generate_tests` finds the targets (a file's public functions and
methods, or one of them), plans sample inputs for each, runs them in the
sandbox (:mod:`~ark_lsp.generate.characterize.observe`), renders
``test.py.j2`` into the module's test file (created, or extended without
repeating a test it has), validates the file, and runs the new tests in the
sandbox to count how many pass
(:mod:`~ark_lsp.generate.characterize.rehearsal`). Without a sandbox it
writes skeletons, skipped, with TODOs. What it needs of its surroundings
comes in one :class:`CharacterizationContext`.
"""

from __future__ import annotations

import dataclasses
import functools
import keyword
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ark_lsp.analysis import module_name
from ark_lsp.config import Settings
from ark_lsp.gate.checks.tool_config import CodeStyle, annotations_required, code_style
from ark_lsp.generate import placement
from ark_lsp.generate.characterize import testfile
from ark_lsp.generate.characterize.module_values import module_values
from ark_lsp.generate.characterize.observe import Characterization, characterize
from ark_lsp.generate.characterize.rehearsal import (
    REHEARSAL_REPORT,
    count_cases,
    failed_rows,
    generated_tests_request,
    not_run,
)
from ark_lsp.generate.characterize.samples import (
    BUILT_IN_METHODS,
    Callee,
    constructions,
    plan,
)
from ark_lsp.generate.characterize.tables import Block, Imports, drop_rows, make_block
from ark_lsp.generate.characterize.targets import (
    Target,
    classes_of,
    find_targets,
    imported_bases,
    parsed_module,
    target_at,
)
from ark_lsp.generate.file_text import ReadText, read_disk
from ark_lsp.generate.results import FileChange, Generation
from ark_lsp.generate.style import Style, detect_style
from ark_lsp.generate.templating import Templates
from ark_lsp.generate.validation import validate
from ark_lsp.models import CancelCheck
from ark_lsp.sandbox.pytest_results import JUNIT_REPORT
from ark_lsp.sandbox.runner import WorkspaceRunner

Progress = Callable[[str], None]
"""Told, in a few words, what the generation is doing now (for a progress bar or a log)."""

CallSites = Callable[[str], Sequence[str]]
"""The texts of the workspace's files that call a name (their literal arguments are samples)."""
TestsUsing = Callable[[str, str], Sequence[str]]
"""The paths of the workspace's test files that may use a module's name: call the name,
or import the module or a package above it."""


@dataclass(frozen=True)
class CharacterizationContext:
    """What test generation needs of its surroundings: the workspace, the sandbox, the user."""

    root: Path
    """The workspace root; paths given to :func:`generate_tests` are relative to it."""
    settings: Settings
    templates: Templates
    runner: WorkspaceRunner | None
    """Where the code runs; ``None`` writes skipped skeletons with TODOs."""
    call_sites: CallSites | None = None
    tests_using: TestsUsing | None = None
    """The workspace's test files that may use a module's function (the index knows), so
    that one its suite exercises under other test names is left alone (tabulate's
    ``test_output.py``)."""
    read_text: ReadText = read_disk
    """A file's current text: the editor's buffer when it is open."""
    cancel: CancelCheck | None = None
    progress: Progress | None = None
    run_tests: bool = True
    """Run the written tests in the sandbox afterwards, to count how many pass."""
    base: testfile.Snapshot | None = None
    """Where the test files are read instead of ``read_text``, when the tests are a change
    set: its base commit (an untracked test file is none of its files)."""

    def read_test(self, relative: str) -> str | None:
        """A test file's text: as the base has it, when there is one."""
        if self.base is not None:
            return self.base.read(relative)
        return self.read_text(self.root / relative)

    def say(self, message: str) -> None:
        """Report progress, if anyone listens."""
        if self.progress is not None:
            self.progress(message)


class NothingToTest(ValueError):
    """The file has no function to test, or every one already has tests or is left alone."""

    def __init__(self, message: str, *, nothing_new: bool = False) -> None:
        """``nothing_new``: each target is tested already or left alone, said in ``message``.

        That is no fault of the request (a second run on the same module comes to it).
        """
        super().__init__(message)
        self.nothing_new = nothing_new


@dataclass(frozen=True)
class WrittenTests:
    """What generating tests came to: how many were written and how many pass."""

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
    extended: bool = False
    """The tests were added to the module's existing test file (not a new one)."""
    notes: tuple[str, ...] = field(default=())
    first_run: tuple[int, int] | None = None
    """Passed and run cases of the first sandbox run, before rows that failed only in
    sequence with the others were left out."""
    collectable: bool = True
    """False when pytest could not collect the generated file: it must not be written."""
    problem: str | None = None
    """Why the tests are not what was asked for, when they are not: nothing could be
    observed (every test a skipped skeleton), or the written tests could not be run (a
    conftest that fails to import, a collection error, no pytest). Never a test count."""

    def as_dict(self) -> dict[str, object]:
        """Plain data for the records and JSON output."""
        return dataclasses.asdict(self)

    @property
    def summary(self) -> str:
        """One line for the user: ``wrote 12 tests to tests/test_x.py; 12 of 12 pass (local)``."""
        return self.told("wrote")

    def told(self, verb: str) -> str:
        """The summary with another verb: ``writes`` for a change set that holds the tests."""
        where = f"the existing {self.path}" if self.extended else self.path
        text = f"{verb} {self.written} test{'s' * (self.written != 1)} to {where}"
        if self.skeletons:
            text += f" ({self.skeletons} TODO skeleton{'s' * (self.skeletons != 1)}, skipped)"
        if self.passed is not None:
            checked = self.written - self.skeletons
            text += f"; {self.passed} of {checked} pass in the sandbox ({self.backend})"
        if self.first_run is not None and self.first_run[1] > self.first_run[0]:
            # "running the 112 generated tests", then 106 of 106: the 6 are said, not lost.
            dropped = self.first_run[1] - self.first_run[0]
            text += f"; {dropped} row{'s' * (dropped != 1)} that failed under pytest left out"
        return text


@dataclass(frozen=True)
class GeneratedTests:
    """The test file change, and its outcome."""

    generation: Generation
    outcome: WrittenTests


def _render(
    templates: Templates,
    style: Style,
    blocks: list[Block],
    imports: Imports,
    module: str,
    header: bool,
    observed: bool,
    *,
    single_line: bool = False,
) -> tuple[str, str]:
    how = "from behaviour observed in the sandbox" if observed else "as skeletons to fill in"
    docstring = f"Tests of {module}, generated by ARK {how}."
    if len(docstring) + 2 * len(style.docstring_quote) > templates.line_length():
        docstring = f"Tests of {module}.\n\nGenerated by ARK {how}.\n"
    context = {
        "file": {
            "header": header,
            "docstring": docstring,
            "imports": imports.lines(
                _code(blocks), templates.line_length(), single_line=single_line
            ),
        },
        "tests": [dataclasses.asdict(block) for block in blocks],
    }
    rendered = templates.render("test.py.j2", context, style)
    return rendered.text, rendered.label


def _used_by_tests(
    context: CharacterizationContext,
    target: Target,
    module: str,
    test_path: str,
    uses: Callable[[str], testfile.FileUses],
) -> str | None:
    """A test of the workspace that uses ``target`` through its imports, if any.

    ``path::test``, or the file's path when no one test of it does (a class
    of tests that binds it, ``halve = staticmethod(shapes.halve)``). The
    module's own test file counts as any other (marshmallow's
    ``test_oneof_options`` calls ``OneOf.options``), then those the index
    names. A function: the file names it. A method or property: the file
    names its class, and reads the method on it (``Version.parse(...)``,
    ``Version(...).to_dict()``) or on anything when no built-in type has a
    method of that name (semver's ``v.bump_major()``; not ``x.replace(...)``).
    """
    owner = target.class_name.split(".")[0] if target.class_name else None
    wanted = testfile.names_for(module, owner or target.name)

    def uses_it(used: testfile.FileUses) -> bool:
        if wanted.isdisjoint(used.references):
            return False
        if owner is None or any((name, target.name) in used.on_classes for name in wanted):
            return True
        return target.name in used.attributes and target.name not in BUILT_IN_METHODS

    others = context.tests_using(module, target.name) if context.tests_using else ()
    for path in dict.fromkeys([test_path, *others]):
        used = uses(path)
        if uses_it(used):
            test = next((name for name, inner in used.tests if uses_it(inner)), None)
            return f"{path}::{test}" if test else path
    return None


def generate_tests(
    context: CharacterizationContext,
    relative: str,
    *,
    name: str | None = None,
    line: int | None = None,
    only: Callable[[Target], bool] | None = None,
) -> GeneratedTests:
    """Write (or extend) the test file of ``relative`` with characterization tests.

    The targets are the function or method named ``name`` (``Class.method``),
    the one defined at ``line``, or else every public one of the file (those
    ``only`` accepts, when given). Raises :class:`NothingToTest` when there
    is nothing new to test and
    :class:`~ark_lsp.generate.templating.TemplateError` for a broken template.
    """
    root, runner, read_text = context.root, context.runner, context.read_text
    module = module_name(relative)[0]
    stem = PurePosixPath(relative).name.partition(".")[0]
    if not module or not stem.isidentifier() or keyword.iskeyword(stem):
        # bin/verify-table-integrity.py: `from  import main` was found invalid only after
        # the sandbox had run.
        raise NothingToTest(
            f"{relative} cannot be imported by a test: {stem!r} is not a module name"
        )
    text = read_text(root / relative)
    if text is None:
        raise NothingToTest(f"{relative} cannot be read")
    tree = parsed_module(text)  # once, for the targets and the module's values

    def read_relative(path: str) -> str | None:
        return read_text(root / path)

    bases = imported_bases(tree, relative, read_relative) if tree is not None else {}
    every = find_targets(tree or text, None, bases)  # the module's: their names claim tests
    if line is not None:
        found = target_at(text, line, bases)
        targets = [found] if found is not None else []
    else:
        targets = find_targets(tree or text, name, bases) if name else every
    if only is not None:
        targets = [t for t in targets if only(t)]
    if not targets:
        if name and tree is not None and name in classes_of(tree):
            # marshmallow's fields.py::DateTime: "has no function or method DateTime" read
            # as a name that does not exist.
            raise NothingToTest(
                f"{relative}: class {name} has no public method or function to test"
            )
        what = f"no function or method {name}" if name else "no public function or method"
        raise NothingToTest(f"{relative} has {what} to test")
    test_path = testfile.file_for_tests(root, relative, context.base)
    if not (root / test_path).resolve().is_relative_to(root.resolve()):
        raise NothingToTest(f"{test_path} leads outside the workspace: ARK writes no tests there")
    old_text = context.read_test(test_path)
    existing = testfile.existing_tests(old_text)
    # A skeleton ARK wrote, skipped with `...` to fill in, tests nothing: its target is
    # tested again (bidict's BidictBase.values was "already tested" by one, forever).
    sketches = testfile.skeleton_tests(old_text)
    stems = {t.test_name for t in every} | {t.test_name for t in targets}
    already = [(t, testfile.tested_by(t, existing - sketches, stems)) for t in targets]
    own = [f"{t.qualname} ({by})" for t, by in already if by]
    untested = [t for t, by in already if not by]
    sketched = {
        t.qualname: sketch
        for t in untested
        if (sketch := testfile.tested_by(t, set(sketches), stems)) is not None
    }

    @functools.cache  # a test file using many of the module's functions is read once
    def uses(path: str) -> testfile.FileUses:
        return testfile.file_uses(context.read_test(path), path)

    elsewhere = [(t, _used_by_tests(context, t, module, test_path, uses)) for t in untested]
    called = [f"{t.qualname} ({path})" for t, path in elsewhere if path]
    targets = [t for t, path in elsewhere if not path]
    # Each named with its file, as those tested elsewhere are: `Parser.format
    # (tests/test_parse.py::test_parser_format)`.
    skipped = (*(f"{t.qualname} ({test_path}::{by})" for t, by in already if by), *called)
    tested = [f"{test_path} already tests {', '.join(own)}"] if own else []
    tested += [f"the workspace's tests already use {', '.join(called)}"] if called else []
    if not targets:
        raise NothingToTest("; ".join(tested), nothing_new=True)
    # Importing a target over a name the file already uses would change its own tests.
    # A name imported from the same package under the same name is taken for the target
    # itself, re-exported (``from attr import attrs`` for attr._make's): it is used as is.
    bindings = testfile.module_bindings(old_text, test_path)
    package = module.split(".")[0]
    present = {
        n
        for n, source in bindings.items()
        if source.split(".")[0] == package and source.rpartition(".")[2] == n
    }
    taken = set(bindings) - present

    def left_alone(target: Target) -> str | None:
        """Why ``target`` gets no tests, if it gets none."""
        if _imported_name(target) in taken:
            return f"{_imported_name(target)} is another thing in {test_path}"
        if target.abstract:
            # pyparsing's ParserElement: ParserElement().parse_string(...) skeletons
            # failed mypy and pylint (E0110).
            return f"{target.class_name} is abstract (no instance can be made)"
        if target.deprecated:  # sortedcontainers' SortedDict.iloc warns so
            return "it is deprecated"
        if target.reads_command_line:  # jmespath's jp.main: pytest's own arguments
            return f"it reads {target.reads_command_line}"
        return None

    judged = [(target, left_alone(target)) for target in targets]
    clash_notes = tuple(f"left alone: {t.qualname}, since {why}" for t, why in judged if why)
    targets = [t for t, why in judged if why is None]
    if not targets:
        # Each one tested or left alone: a second run on tomli's module comes to this.
        raise NothingToTest("; ".join([*tested, *clash_notes]), nothing_new=True)

    call_sites = context.call_sites
    local = testfile.local_names(old_text)
    # A constant the test file binds to something else would be that other thing there.
    named = module_values(tree or text).without(taken | local)

    @functools.cache  # a class's methods all ask for its constructions: read its callers once
    def sites_of(name: str) -> tuple[str, ...]:
        return tuple(call_sites(name)) if call_sites else ()

    plans = []
    for target in targets:
        owner = target.class_name.rsplit(".", 1)[-1] if target.class_name else None
        callee = Callee(module, owner)
        sites = sites_of(target.name)
        made = plan(
            target.signature, target.name, target.docstring, sites, named, callee,
            dict(target.edges),
        )  # fmt: skip
        if target.on_instance and target.class_name:
            made = dataclasses.replace(
                made,
                constructions=constructions(
                    target.constructor, target.class_name, sites_of(target.class_name), named,
                    module, target.docstring,
                ),
            )  # fmt: skip
        plans.append((target, made))
    no_sandbox: str | None = None
    results: dict[str, Characterization] = {}
    copy_notes: tuple[str, ...] = ()
    backend = runner.backend if runner else None
    if runner is None:
        no_sandbox = "no sandbox is available to run the code in"
    else:
        context.say(
            f"running {len(targets)} function(s) on sample inputs in the {runner.backend} sandbox"
        )
        classes = classes_of(tree) if tree is not None else {}
        run = characterize(plans, relative, module, runner, context.cancel, named.names, classes)
        no_sandbox, results, copy_notes = run.error, run.results, run.notes

    style = detect_style(old_text) if old_text else detect_style(text)
    configured = code_style(root)
    if configured.quote is not None:
        # bidict's ruff formats with single quotes: a guess from one module (double in
        # _bidict.py) made 11 hunks of `ruff format --check`.
        style = dataclasses.replace(style, quote=configured.quote)
    if not style.typed and annotations_required(root, module_name(test_path)[0]):
        # The project's mypy reports unannotated functions there: its other tests may
        # not be checked, but new ones are, by the gate's types check too.
        style = dataclasses.replace(style, typed=True)
    imports = Imports(module, taken, present, local, bindings)
    for value in sorted(named.names):
        imports.own(value.split(".")[0])  # those no table writes are left out of the imports
    blocks = [
        make_block(results.get(t.qualname), t, p, imports, style, no_sandbox) for t, p in plans
    ]
    blocks, kept_text, sketch_notes = _refill_sketches(blocks, sketched, old_text, test_path)
    targets = [t for t in targets if any(b.qualname == t.qualname for b in blocks)]
    replaced = sketches - testfile.skeleton_tests(kept_text)
    _name_apart(blocks, (existing | set(bindings)) - replaced)
    if not any(block.rows for block in blocks):
        # Left alone once observed: returns nothing and takes no argument.
        reasons = [b.reason for b in blocks if b.reason]
        left = all(reason.startswith("left alone: ") for reason in reasons)
        told = [*tested, *clash_notes, *sketch_notes, *reasons]
        raise NothingToTest("; ".join(told), nothing_new=left)
    label = f"{relative}::{name}" if name else relative
    compose = _Composer(
        context.templates, style, imports, module, test_path, old_text, context.settings, label,
        configured, kept_text,
    )  # fmt: skip
    generation = compose(blocks)
    skeletons = sum(len(b.skeleton) for b in blocks)
    fallback = None
    if no_sandbox is not None:
        fallback = f"{no_sandbox}: the tests are skipped skeletons with TODOs"
        notes = [fallback]
    else:
        notes = [b.reason for b in blocks if b.reason]
        if skeletons and skeletons == sum(b.rows for b in blocks):
            # Not one call could be observed (itsdangerous' TimestampSigner, whose
            # __init__ is another module's): the file is no more than the no-sandbox one.
            reasons = [b.reason.rstrip(".") for b in blocks if b.skeleton and b.reason]
            more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
            fallback = (
                f"{reasons[0] if reasons else 'no call ran'}{more}: nothing could be "
                "observed, the tests are skipped skeletons with TODOs"
            )
    notes = [*copy_notes, *clash_notes, *sketch_notes, *notes]
    outcome = WrittenTests(
        path=test_path,
        # Those the file tests: not one left alone once observed (a method that returns
        # nothing and takes no argument), which a change set would list as its target.
        targets=tuple(block.qualname for block in blocks if block.rows),
        written=sum(b.rows for b in blocks),
        skeletons=skeletons,
        backend=backend,
        already_tested=skipped,
        extended=old_text is not None,
        problem=fallback,
    )
    if (
        runner is not None
        and context.run_tests
        and generation.offered
        and outcome.written > skeletons
    ):
        context.say(f"running the {outcome.written - skeletons} generated tests in the sandbox")
        generation, outcome = _run_generated(
            runner, compose, blocks, generation, outcome, context.cancel
        )
        notes += outcome.notes
    generation = dataclasses.replace(generation, notes=tuple(notes))
    return GeneratedTests(generation, dataclasses.replace(outcome, notes=tuple(notes)))


def _refill_sketches(
    blocks: list[Block], sketched: dict[str, str], old_text: str | None, test_path: str
) -> tuple[list[Block], str | None, list[str]]:
    """The blocks to write, the test file less the skeletons they replace, and notes.

    A target whose skeleton (``sketched``: its test's name) nothing observed
    could fill in again keeps it, and gets no second one; one observed now
    replaces it, where the file lets it be taken out whole, else the new
    tests go beside it.
    """
    if old_text is None or not sketched:
        return blocks, old_text, []
    kept: list[Block] = []
    notes: list[str] = []
    refilled: dict[str, str] = {}
    for block in blocks:
        name = sketched.get(block.qualname)
        if name is not None and block.rows == len(block.skeleton) > 0:
            notes.append(f"{block.qualname} has a skeleton to fill in: {test_path}::{name}")
            continue
        if name is not None and block.rows:
            refilled[name] = block.qualname
        kept.append(block)
    kept_text, removed = testfile.without_skeletons(old_text, set(refilled))
    for name, qualname in refilled.items():
        if name in removed:
            notes.append(f"{qualname}: its skeleton {name} is replaced by the tests written now")
        else:
            notes.append(
                f"{qualname} has a skeleton to fill in: {test_path}::{name}, "
                "left as it is beside the tests written now"
            )
    return kept, kept_text, notes


def _code(blocks: list[Block]) -> str:
    """What the blocks' tests write besides names: what their imports must cover."""
    return "\n".join(block.code for block in blocks)


def _imported_name(target: Target) -> str:
    """The name a test imports from the module to call ``target``."""
    return target.class_name.split(".")[0] if target.class_name else target.name


def _name_apart(blocks: list[Block], existing: set[str]) -> None:
    """Give each block test names no other block and no test of the file has.

    ``Box.area`` and ``box_area`` would both be ``test_box_area``: in one
    module, the second definition would hide the first from pytest.
    """
    taken = set(existing)

    def every_name(name: str) -> set[str]:  # rows may go later: each table's name is kept
        return {f"test_{name}", f"test_{name}_result_type", f"test_{name}_raises"}

    for block in blocks:
        stem, number = block.name, 2
        while every_name(block.name) & taken:
            block.name, number = f"{stem}_{number}", number + 1
        taken |= every_name(block.name)


@dataclass(frozen=True)
class _Composer:
    """Renders blocks into the test file (new, or the existing one extended) and validates it."""

    templates: Templates
    style: Style
    imports: Imports
    module: str
    test_path: str
    old_text: str | None
    settings: Settings
    target: str
    configured: CodeStyle
    """What the project's formatter configuration says (its isort's force-single-line)."""
    kept_text: str | None
    """``old_text`` less the skeletons the new tests replace: what they are added to."""

    def __call__(self, blocks: list[Block]) -> Generation:
        observed = any(not b.skeleton for b in blocks)
        single_line = self.configured.single_line_imports
        render = functools.partial(
            _render, self.templates, self.style, blocks, self.imports, self.module,
            single_line=single_line,
        )  # fmt: skip
        if self.old_text is None:
            new_text, label = render(True, observed)
            generated = new_text
            change = FileChange.new_file(self.test_path, new_text)
            first_line = 1
        else:
            generated, label = render(False, observed)
            width = self.templates.line_length()
            kept = self.kept_text if self.kept_text is not None else self.old_text
            with_imports = testfile.add_imports(
                kept,
                testfile.imports_missing(
                    kept, self.imports.lines(_code(blocks), width), width, self.test_path
                ),
                self.style,
                own=self.module.split(".")[0],
                width=width,
                where=self.test_path,
                single_line=single_line,
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
    runner: WorkspaceRunner,
    compose: _Composer,
    blocks: list[Block],
    generation: Generation,
    outcome: WrittenTests,
    cancel: CancelCheck | None,
) -> tuple[Generation, WrittenTests]:
    """Run the new tests in the sandbox; rows that fail only there are left out and run again.

    A row can pass on its own (the driver called it in a fresh process) yet
    fail after the other tests, when they share state (``gettext``'s domain
    registry). Such rows are dropped and the file is run once more; the
    counts are those of the file as written, with the first run's kept too.
    """
    # In the file's order: a test may depend on what an earlier one left, as they will run.
    names = [name for b in blocks if not b.skeleton for name in b.test_names]
    test_path = compose.test_path
    # Hundreds of rows (pyparsing's core.py: 654) are a suite, not one call: its limits.
    request = generated_tests_request(
        test_path, generation.change.new_text, runner.suite_limits, rehearse=True, only=names
    )
    first = runner.run_in_workspace(request, cancel)
    problem = not_run(first, test_path)
    if problem is not None:
        why = f"the generated tests could not be run: {problem}"
        # A file pytest cannot collect would break the tests already in it: it is not kept.
        broken = f"could not be collected: {test_path}" in problem
        return generation, dataclasses.replace(
            outcome, notes=(why,), problem=why, collectable=not broken
        )
    counts = count_cases(first.artifacts.get(JUNIT_REPORT, b""), test_path, names)
    outcome = dataclasses.replace(
        outcome, passed=counts.passed, failed=counts.failed, first_run=(counts.passed, counts.run)
    )
    failing = failed_rows(first.artifacts.get(REHEARSAL_REPORT, b""))
    dropped = drop_rows(blocks, failing)
    if not dropped:
        return generation, outcome
    pruned = compose(blocks)
    if not pruned.offered:
        return generation, outcome
    # A table whose rows all went is a skipped skeleton now, or gone: run what is left.
    left = [name for b in blocks if not b.skeleton for name in b.test_names]
    if not left:
        # Nothing that held alone held under pytest: no more than the no-sandbox file.
        why = (
            "no observed row held when the tests ran under pytest, the tests are skipped "
            "skeletons with TODOs"
        )
        return pruned, dataclasses.replace(
            outcome,
            written=sum(b.rows for b in blocks),
            skeletons=sum(len(b.skeleton) for b in blocks),
            passed=0,
            problem=why,
        )
    request = generated_tests_request(
        test_path, pruned.change.new_text, runner.suite_limits, only=left
    )
    second = runner.run_in_workspace(request, cancel)
    if not second.ran:
        return generation, outcome
    counts = count_cases(second.artifacts.get(JUNIT_REPORT, b""), test_path, left)
    return pruned, dataclasses.replace(
        outcome,
        written=sum(b.rows for b in blocks),
        skeletons=sum(len(b.skeleton) for b in blocks),
        passed=counts.passed,
        failed=counts.failed,
    )


__all__ = [
    "CallSites",
    "CharacterizationContext",
    "GeneratedTests",
    "NothingToTest",
    "Progress",
    "TestsUsing",
    "WrittenTests",
    "generate_tests",
]
