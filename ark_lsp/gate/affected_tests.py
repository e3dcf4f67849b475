"""Which of a project's tests a change can affect: the map of the base's tests, and the choice.

The gate runs a project's tests on the change for three checks (``tests``,
``coverage``, ``mutation``). A test whose run on the base executed none of
the code a change rewrote runs the same on the change (the same code, the
same inputs), so it keeps the verdict it had on the base; only the others
need to run. This is what pytest-testmon, Ekstazi and coverage.py's dynamic
contexts do, and how the gate stays fast on a one-function change of a
project with a large suite.

**The map** (:class:`FunctionTestMap`): the base's whole suite, run once in the
sandbox under coverage.py with a context per test, gives for each function
of the base's code the tests that ran a line of its body, whether a line of
it ran outside any one test (at import, while the tests were collected, in
a fixture of a class, module or session, which serves later tests too), and
each test's outcome. It is kept in the user's cache by the content of the
base (the files the sandbox gets), the driver and the sandbox's settings, so
the next change on the same base (the evolution loop's normal case) does not
pay for it again. It comes from the base and runs outside the change's
worktree: a change cannot make its own tests skipped.

**The choice** (:func:`plan` then :func:`choose`): the tests that ran a
function the change rewrote (its body's syntax tree differs, or the change
wrote a line of it), and the test modules the change edited or added, run
whole. The whole suite runs instead, and the report says why, whenever the
choice cannot be trusted:

- ``[tool.ark.gate] test-selection = "all"``;
- a change to what runs at import: imports, class bodies, constants, a
  decorator or a signature (each module is compared with its functions'
  bodies left out), a new module outside a package of the base;
- a conftest, a helper of the tests (a file of a tests folder that is no
  test module), a test module another test file imports;
- a file that is not Python (data, configuration), deleted or renamed;
- a rewritten function that ran outside any one test on the base;
- no map (coverage.py missing in the sandbox, a suite that could not run, tests
  that ran while coverage.py recorded none of them: another tracer took its place).

A selection that leaves no test to run (a change no test of the base
reached) runs no test: every test keeps its verdict, and the changed files
are measured without running anything (coverage.py's report of files that
never ran: each changed line and branch unrun), which is what the whole
suite would have found, in seconds rather than the suite's time. A base
with no tests at all runs the whole suite, which says why nothing judges;
so does a change that writes a doctest (pytest may collect it: a test the
map cannot know; :class:`~ark_lsp.gate.suite_runs.SuiteRuns` sees the text).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType

from ark_lsp.gate.model import FileStatus, GateInput
from ark_lsp.gate.suite_files import is_test_file, is_test_module
from ark_lsp.sandbox.channel import ARTIFACT_CAP
from ark_lsp.sandbox.pytest_results import FIELD_CAP, MAX_CASES, clean

MAP_VERSION = "1"
"""Bumped when the map's shape changes: older maps in the cache are not read."""
MAX_FUNCTIONS = 200_000
"""Functions read from one map."""
MAX_LINE = 10_000_000
OUTCOMES = frozenset({"passed", "failed", "skipped"})
ALL_CHOSEN = 'test-selection = "all"'
"""Why the whole suite runs when the user's setting says so."""
NONE_REACH = "no test ran the changed code on the base"
"""Why no test runs on the change."""


@dataclass(frozen=True)
class FunctionTests:
    """The tests that ran one function of the base."""

    body: tuple[int, int]
    """Its body's first and last line."""
    shared: bool
    """A line of its body ran outside any one test (at import, in a wide fixture)."""
    tests: frozenset[str]
    """Their node ids."""


@dataclass(frozen=True)
class FunctionTestMap:
    """Which tests of the base ran each function of its code, and how each test ended."""

    tests: tuple[str, ...]
    """The base's tests by pytest node id."""
    outcomes: Mapping[str, str]
    """``passed``, ``failed`` or ``skipped``, by node id."""
    functions: Mapping[str, Mapping[int, FunctionTests]]
    """By file, then by the line of its ``def``: the files mapped so far."""
    known: bool = True
    """Whether :attr:`tests` are the base's: False when no map of the base was needed (the
    change rewrote no function of it) and none was kept."""

    @property
    def failed(self) -> frozenset[str]:
        """The tests that failed (or errored) on the base."""
        return frozenset(t for t, outcome in self.outcomes.items() if outcome == "failed")


# --- reading a map: the sandbox's word, read as untrusted data --------------------------------


def _line(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_LINE:
        return value
    return None


def _indices(runs: object, count: int) -> frozenset[int] | None:
    if not isinstance(runs, list) or len(runs) % 2:
        return None
    found: set[int] = set()
    for first, last in zip(runs[::2], runs[1::2], strict=True):
        if not (isinstance(first, int) and isinstance(last, int)):
            return None
        if not 0 <= first <= last < count:
            return None
        found.update(range(first, last + 1))
    return frozenset(found)


def _functions(entries: object, names: list[str]) -> dict[int, FunctionTests] | None:
    if not isinstance(entries, list):
        return None
    found: dict[int, FunctionTests] = {}
    for entry in entries[:MAX_FUNCTIONS]:
        if not (isinstance(entry, list) and len(entry) == 5):
            return None
        line, first, last, shared, runs = entry
        line, first, last = _line(line), _line(first), _line(last)
        tests = _indices(runs, len(names))
        if line is None or first is None or last is None or tests is None:
            return None
        found[line] = FunctionTests(
            (first, last), shared is True, frozenset(names[index] for index in tests)
        )
    return found


def read_test_map(data: bytes, measured: Collection[str]) -> FunctionTestMap | None:
    """The map the driver wrote, for the files in ``measured`` only; None if it is not one.

    Bounded like every sandbox output: a map cut at the cap, a test name
    that is not clean text, an index out of range make it unreadable rather
    than partly read (a test left out of a map would be a test never run).
    """
    if not data or len(data) >= ARTIFACT_CAP:
        return None
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError, MemoryError):
        return None
    if not isinstance(raw, dict):
        return None
    tests, outcomes, files = raw.get("tests"), raw.get("outcomes"), raw.get("files")
    if not (isinstance(tests, list) and isinstance(outcomes, list) and isinstance(files, dict)):
        return None
    if len(tests) != len(outcomes) or len(tests) > MAX_CASES:
        return None
    for name, outcome in zip(tests, outcomes, strict=True):
        if not isinstance(name, str) or not name or clean(name, FIELD_CAP) != name:
            return None
        if outcome not in OUTCOMES:
            return None
    functions: dict[str, Mapping[int, FunctionTests]] = {}
    for path in measured:
        read = _functions(files.get(path, []), tests)
        if read is None:
            return None
        functions[path] = MappingProxyType(read)
    return FunctionTestMap(
        tuple(tests),
        MappingProxyType(dict(zip(tests, outcomes, strict=True))),
        MappingProxyType(functions),
    )


def merged(maps: Iterable[FunctionTestMap]) -> FunctionTestMap:
    """One map of the functions of several maps of the same base (its tests from the first)."""
    found = list(maps)
    functions: dict[str, Mapping[int, FunctionTests]] = {}
    for each in found:
        functions.update(each.functions)
    return FunctionTestMap(found[0].tests, found[0].outcomes, MappingProxyType(functions))


UNKNOWN = FunctionTestMap((), MappingProxyType({}), MappingProxyType({}), known=False)
"""No map: the change needs none, and none of its base was kept."""


# --- keeping maps in the user's cache ----------------------------------------------------------


def map_key(files: Mapping[str, bytes], *parts: str) -> str:
    """The identity of a map: the base's files as the sandbox gets them, and ``parts``."""
    digest = hashlib.sha256(MAP_VERSION.encode())
    for part in parts:
        digest.update(b"\0" + part.encode())
    for path in sorted(files):
        digest.update(b"\0" + path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
    return digest.hexdigest()[:32]


def file_key(key: str, path: str) -> str:
    """The identity of the map of one file ``path`` under the base's ``key``."""
    return f"{key}-{hashlib.sha256(path.encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class MapCache:
    """Maps kept as the sandbox wrote them, one file per key, in a folder of the user's."""

    folder: Path

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def load(self, key: str) -> bytes | None:
        """The map kept under ``key``; None when there is none (or it cannot be read)."""
        try:
            with self.path(key).open("rb") as handle:
                return handle.read(ARTIFACT_CAP)
        except OSError:
            return None

    def save(self, key: str, data: bytes) -> None:
        """Keep ``data`` under ``key``, whole or not at all.

        A cache that cannot be written only costs the next run the map.
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = self.folder / f".{key}.{os.getpid()}.part"
            partial.write_bytes(data)
            partial.replace(self.path(key))
        except OSError:
            return


# --- the choice -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangedFunction:
    """A function of the base the change rewrote."""

    path: str
    qualname: str
    line: int
    """Its ``def`` line in the base."""


@dataclass(frozen=True)
class Plan:
    """What the change touched, as far as the choice of tests goes."""

    whole: str | None = None
    """Why the whole suite must run; None when the tests can be chosen."""
    functions: tuple[ChangedFunction, ...] = ()
    test_files: tuple[str, ...] = ()
    """Test modules of the head to run whole (edited or added)."""


@dataclass(frozen=True)
class Selection:
    """The tests to run on the change, and how they were chosen, in words."""

    tests: tuple[str, ...] | None
    """Node ids and test files to give pytest; None for the whole suite."""
    reason: str
    """``chosen by what they run`` or why the whole suite runs."""
    chosen: int = 0
    """How many of the base's tests were chosen (besides the test files run whole)."""
    kept: tuple[str, ...] = field(default=())
    """The base's tests not run, which keep the base's verdict."""

    @property
    def whole(self) -> bool:
        """Whether the whole suite runs."""
        return self.tests is None


def whole_suite(reason: str) -> Selection:
    """The whole suite, and why."""
    return Selection(None, reason)


def _parse(source: bytes) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


Function = ast.FunctionDef | ast.AsyncFunctionDef


def _outermost_functions(tree: ast.AST) -> list[tuple[str, Function]]:
    """The functions not inside another function, qualified, in source order."""
    found: list[tuple[str, Function]] = []

    def visit(node: ast.AST, scope: tuple[str, ...]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append((".".join((*scope, child.name)), child))
            elif isinstance(child, ast.ClassDef):
                visit(child, (*scope, child.name))
            else:
                visit(child, scope)

    visit(tree, ())
    return found


def _skeleton(source: bytes) -> tuple[str, list[tuple[str, Function]]]:
    """What runs at import (the module with each function's body left out), and the functions."""
    tree = _parse(source)
    if tree is None:
        raise ValueError("does not parse")
    functions = _outermost_functions(tree)
    stripped = _parse(source)
    assert stripped is not None
    for _, node in _outermost_functions(stripped):
        node.body = [ast.Pass()]
    return ast.dump(stripped), functions


def _body(node: Function) -> str:
    return "\n".join(ast.dump(statement) for statement in node.body)


def _first_difference(base: ast.Module, head: ast.Module) -> int:
    """The head line of the first top-level statement that differs from the base's."""
    for old, new in zip(base.body, head.body, strict=False):
        if ast.dump(old) != ast.dump(new) or type(old) is not type(new):
            return new.lineno
    return head.body[len(base.body)].lineno if len(head.body) > len(base.body) else 1


def _rewritten(
    path: str, base: bytes, head: bytes, changed_lines: frozenset[int]
) -> list[ChangedFunction] | str:
    """The functions of ``path`` the change rewrote, or why the module itself changed."""
    try:
        base_skeleton, base_functions = _skeleton(base)
        head_skeleton, head_functions = _skeleton(head)
    except ValueError:
        return f"{path} does not parse on one side"
    if base_skeleton != head_skeleton:
        base_tree, head_tree = _parse(base), _parse(head)
        line = _first_difference(base_tree, head_tree) if base_tree and head_tree else 1
        return f"{path} changed at module level (line {line}: what runs at import)"
    found = []
    for (qualname, old), (_, new) in zip(base_functions, head_functions, strict=True):
        # A line the change wrote in it (a comment, a reformatted line): its coverage counts.
        wrote = any(new.lineno <= line <= (new.end_lineno or new.lineno) for line in changed_lines)
        if wrote or _body(old) != _body(new):
            found.append(ChangedFunction(path, qualname, old.lineno))
    return found


def _module_names(path: str) -> frozenset[str]:
    """The dotted names a test module ``path`` can be imported by.

    ``tests/test_b.py`` is ``tests.test_b`` from the root, and ``test_b``
    where pytest puts its folder on ``sys.path`` (a tests folder without an
    ``__init__.py``, or ``rootdir`` on the path).
    """
    parts = PurePosixPath(path.removesuffix(".py")).parts
    return frozenset(".".join(parts[start:]) for start in range(len(parts)))


def _package_of(path: str, level: int) -> tuple[str, ...] | None:
    """The folder a relative import of ``level`` dots in ``path`` starts from, as parts."""
    folder = PurePosixPath(path).parent.parts
    if level - 1 > len(folder):
        return None
    return folder[: len(folder) - (level - 1)]


def _named_modules(other: str, tree: ast.Module) -> Iterable[tuple[str, bool]]:
    """The modules the file ``other`` imports (each ``from`` name too), and whether by path.

    A relative import is resolved against ``other``'s folder and given as
    its path with dots (``tests.test_b``), to be compared with that path
    alone (True); ``pytest_plugins`` and the literal names given to
    ``importlib.import_module`` or ``__import__`` count too.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, False) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package_of(other, node.level)
                if package is None:
                    continue
                base = ".".join((*package, *base.split("."))).strip(".")
            found = [base] if base else []
            found += [f"{base}.{alias.name}" if base else alias.name for alias in node.names]
            yield from ((name, node.level > 0) for name in found)
        elif isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "pytest_plugins"
            for target in node.targets
        ):
            yield from ((name, False) for name in _strings(node.value))
        elif isinstance(node, ast.Call) and _called(node.func) in ("import_module", "__import__"):
            yield from ((name, False) for name in (_strings(node.args[0]) if node.args else ()))


def _called(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _strings(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [
            e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        ]
    return []


def _imported_elsewhere(path: str, tests: Mapping[str, bytes]) -> str | None:
    """Another test file of the base (a conftest too) that imports the test module ``path``.

    Its imports are read from its syntax tree: ``import tests.test_b``,
    ``from tests.test_b import x``, ``from tests import test_b``, ``from .
    import test_b``, ``from .test_b import x``, ``pytest_plugins``. A name
    that only looks like the module's (a test function ``test_b`` in
    ``tests/test_a.py``) is no import. A file that does not parse is read as
    text, a whole word of the module's name taken as an import of it.
    """
    names = _module_names(path)
    stem = PurePosixPath(path).stem
    pattern = re.compile(rb"\b" + re.escape(stem.encode()) + rb"\b")
    for other, data in tests.items():
        if other == path:
            continue
        tree = _parse(data)
        if tree is None:
            if pattern.search(data):
                return other
            continue
        dotted = ".".join(PurePosixPath(path.removesuffix(".py")).parts)
        for name, by_path in _named_modules(other, tree):
            if name == dotted or (not by_path and name in names):
                return other
    return None


def _in_a_package(path: str, base_files: Mapping[str, bytes]) -> bool:
    """Whether a new module ``path`` sits in a package of the base and shadows nothing there."""
    parent = PurePosixPath(path).parent
    if parent == PurePosixPath(".") or str(parent / "__init__.py") not in base_files:
        return False
    package = path.removesuffix(".py") + "/"
    return not any(other.startswith(package) for other in base_files)


def plan(gate: GateInput, base_files: Mapping[str, bytes], head_files: Mapping[str, bytes]) -> Plan:
    """What the change touched, read from the two trees (see the module's description)."""
    if gate.settings.test_selection == "all":
        return Plan(whole=ALL_CHOSEN)
    base_tests = {p: d for p, d in base_files.items() if is_test_file(p) and p.endswith(".py")}
    functions: list[ChangedFunction] = []
    test_files: list[str] = []
    for changed in gate.files:
        path = changed.path
        if changed.status is FileStatus.DELETED:
            return Plan(whole=f"{path} was deleted")
        if changed.status is FileStatus.RENAMED:
            return Plan(whole=f"{changed.base_path} was renamed")
        if not changed.is_python:
            return Plan(whole=f"{path} is not Python")
        if PurePosixPath(path).name == "conftest.py":
            return Plan(whole=f"{path} changed")
        if is_test_file(path):
            if not is_test_module(path):
                return Plan(whole=f"{path} changed (a helper of the tests)")
            importer = _imported_elsewhere(path, base_tests)
            if importer is not None:
                return Plan(whole=f"{path} changed, and {importer} imports it")
            test_files.append(path)
            continue
        if changed.status is FileStatus.ADDED:
            if not _in_a_package(path, base_files):
                return Plan(whole=f"{path} is a new module outside the base's packages")
            continue  # nothing of the base imports it: what does is rewritten too
        if path not in base_files or path not in head_files:
            return Plan(whole=f"{path} is not in the sandbox's copy")
        rewritten = _rewritten(path, base_files[path], head_files[path], changed.lines)
        if isinstance(rewritten, str):
            return Plan(whole=rewritten)
        functions += rewritten
    return Plan(functions=tuple(functions), test_files=tuple(test_files))


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def choose(planned: Plan, test_map: FunctionTestMap, changed_paths: Iterable[str]) -> Selection:
    """The tests to run for ``planned``, from the base's ``test_map``."""
    if planned.whole is not None:
        return whole_suite(planned.whole)
    chosen: set[str] = set()
    for function in planned.functions:
        by_line = test_map.functions.get(function.path)
        if by_line is None:
            return whole_suite(f"the map of the base's tests has nothing of {function.path}")
        tests = by_line.get(function.line)
        if tests is None:
            return whole_suite(f"the map of the base's tests lacks {function.qualname}")
        if tests.shared:
            return whole_suite(
                f"{function.path}: {function.qualname} ran outside any one test on the base "
                "(at import, or in a fixture shared by tests)"
            )
        chosen.update(tests.tests)
    # A test in a file the change touched (a doctest of a rewritten module) may be gone or
    # renamed in the head: its whole file runs instead, as the head has it.
    touched = set(changed_paths)
    whole_files = set(planned.test_files) | {_file_of(t) for t in chosen if _file_of(t) in touched}
    chosen = {nodeid for nodeid in chosen if _file_of(nodeid) not in whole_files}
    run = sorted(chosen) + sorted(whole_files)
    if not run:
        if not test_map.tests:
            # A base without tests: the whole suite's run says why nothing can judge.
            return whole_suite(NONE_REACH)
        return Selection((), NONE_REACH, 0, test_map.tests)
    kept = tuple(t for t in test_map.tests if t not in chosen and _file_of(t) not in whole_files)
    return Selection(tuple(run), "chosen by what they run", len(chosen), kept)


__all__ = [
    "ALL_CHOSEN",
    "NONE_REACH",
    "UNKNOWN",
    "ChangedFunction",
    "FunctionTestMap",
    "FunctionTests",
    "MapCache",
    "Plan",
    "Selection",
    "choose",
    "file_key",
    "map_key",
    "merged",
    "plan",
    "read_test_map",
    "whole_suite",
]
