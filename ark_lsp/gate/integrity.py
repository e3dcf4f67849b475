"""Gate integrity: flag a change that lowers the bar it is judged by.

The gate's configuration and the tests of its baseline come from the base
commit, so a change cannot edit its own judge in this run; it can still
delete a test, weaken one, skip one, or rewrite the configuration for every
later run. :func:`integrity_flags` names each of those, by file and reason,
from the base and head trees and what changed between them (read with
``ast``, never run), so the approval stage can send such a change to a
person:

- a test file deleted (or moved out of test discovery) with tests that are
  nowhere else in the head;
- a test function deleted, or its file no longer parsing;
- fewer assertions in a test function (``assert``, ``pytest.raises``,
  ``self.assert*``; ``assert True`` does not count);
- a ``skip``/``xfail`` mark or call added to a test or a test module;
- the configuration of the gate, CI or ARK edited: ``[tool.ark]`` and the
  pytest, coverage, tox, mypy and pylint sections of ``pyproject.toml`` and
  ``setup.cfg``, ``.ark/``, ``.ci/``, ``.github/workflows/``, ``conftest.py``,
  ``tox.ini``, ``noxfile.py``, ``pytest.ini``, ``.coveragerc``, ``mypy.ini``,
  ``.pylintrc``.
"""

from __future__ import annotations

import ast
import configparser
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TypeVar

from ark_lsp.config.paths import STATE_DIR
from ark_lsp.config.patterns import PatternSpec, compile_patterns
from ark_lsp.config.sections import DEFAULT_TIER_PATTERNS
from ark_lsp.gate.model import ChangedFile, FileStatus, GateInput, IntegrityFlag, IntegrityKind
from ark_lsp.gate.tree_files import ini_sections, read_text, toml_tables, tool_table
from ark_lsp.models import Tier

_TEST_FILES: PatternSpec = compile_patterns(
    [pattern for pattern, tier in DEFAULT_TIER_PATTERNS if tier is Tier.TESTING]
)
"""What ARK calls a test file anywhere else: its default tier patterns for tests."""

_CONFIG_FOLDERS = {
    f"{STATE_DIR}/": "ARK's folder",
    ".ci/": "CI configuration",
    ".github/workflows/": "CI workflows",
    ".circleci/": "CI configuration",
}
_CONFIG_FILES = {
    "conftest.py": "pytest configuration (conftest.py)",
    "pytest.ini": "pytest configuration",
    "tox.ini": "tox configuration",
    "noxfile.py": "nox sessions",
    ".coveragerc": "coverage configuration",
    "mypy.ini": "mypy configuration",
    ".mypy.ini": "mypy configuration",
    "pylintrc": "pylint configuration",
    ".pylintrc": "pylint configuration",
    ".gitlab-ci.yml": "CI configuration",
}
_PYPROJECT_TABLES = ("ark", "pytest", "coverage", "tox", "mypy", "pylint")
"""``[tool.X]`` tables of ``pyproject.toml`` that configure the gate, its tools, or ARK."""
_SETUP_CFG_SECTIONS = ("tool:pytest", "coverage:", "mypy", "pylint.", "tox:")
"""Prefixes of the ``setup.cfg`` sections that do."""

_SKIP_MARKS = frozenset({"skip", "skipif", "xfail", "skipIf", "skipUnless", "expectedFailure"})
"""Decorator names (``pytest.mark.skip``, ``unittest.skipIf``) that keep a test from judging."""
_SKIP_CALLS = frozenset({"skip", "xfail", "importorskip", "skipTest"})
"""Calls (``pytest.skip()``, ``self.skipTest()``) that end a test without judging."""
_SKIP_NAMES = _SKIP_MARKS | _SKIP_CALLS
_ASSERTING_CALLS = frozenset({"raises", "warns", "deprecated_call", "fail"})


_Read = TypeVar("_Read")


@dataclass(frozen=True)
class _Test:
    """A test function as one side of the change has it."""

    path: str
    qualname: str
    assertions: int
    skips: int


def integrity_flags(gate_input: GateInput) -> tuple[IntegrityFlag, ...]:
    """What the change does to the tests and the configuration that judge it, file by file."""
    flags = [flag for changed in gate_input.files for flag in _config_flags(gate_input, changed)]
    flags += _test_flags(gate_input)
    return tuple(flags)


# --- configuration ------------------------------------------------------------------------------


def _config_flags(gate_input: GateInput, changed: ChangedFile) -> Iterator[IntegrityFlag]:
    paths = dict.fromkeys((changed.base_path, changed.path))
    for path in paths:
        what = _config_kind(path)
        if what is not None:
            verb = {FileStatus.ADDED: "adds", FileStatus.DELETED: "deletes"}.get(
                changed.status, "edits"
            )
            yield IntegrityFlag(IntegrityKind.CONFIG_EDITED, path, f"{verb} {what}")
            return
    name = PurePosixPath(changed.path).name
    if name == "pyproject.toml":
        yield from _pyproject_flags(gate_input, changed)
    elif name == "setup.cfg":
        yield from _setup_cfg_flags(gate_input, changed)


def _config_kind(path: str) -> str | None:
    for folder, what in _CONFIG_FOLDERS.items():
        if path.startswith(folder):
            return f"{what} ({folder})"
    return _CONFIG_FILES.get(PurePosixPath(path).name)


def _pyproject_flags(gate_input: GateInput, changed: ChangedFile) -> Iterator[IntegrityFlag]:
    before = _base_side(gate_input, changed, toml_tables)
    after = _head_side(gate_input, changed, toml_tables)
    if after is None and changed.status is not FileStatus.DELETED:
        yield IntegrityFlag(
            IntegrityKind.CONFIG_EDITED, changed.path, "pyproject.toml no longer reads as TOML"
        )
        return
    for table in _PYPROJECT_TABLES:
        if tool_table(before, table) != tool_table(after, table):
            yield IntegrityFlag(IntegrityKind.CONFIG_EDITED, changed.path, f"edits [tool.{table}]")


def _setup_cfg_flags(gate_input: GateInput, changed: ChangedFile) -> Iterator[IntegrityFlag]:
    before = _ini_gate_sections(_base_side(gate_input, changed, ini_sections))
    after = _ini_gate_sections(_head_side(gate_input, changed, ini_sections))
    for section in sorted(before.keys() | after.keys()):
        if before.get(section) != after.get(section):
            yield IntegrityFlag(IntegrityKind.CONFIG_EDITED, changed.path, f"edits [{section}]")


def _ini_gate_sections(parser: configparser.ConfigParser | None) -> dict[str, dict[str, str]]:
    if parser is None:
        return {}
    return {
        name: dict(parser[name])
        for name in parser.sections()
        if name.startswith(_SETUP_CFG_SECTIONS)
    }


def _base_side(
    gate_input: GateInput, changed: ChangedFile, read: Callable[[Path, str], _Read | None]
) -> _Read | None:
    """A changed file as the base has it, read by ``read``; ``None`` for an added file."""
    if changed.status is FileStatus.ADDED:
        return None
    return read(gate_input.base_dir, changed.base_path)


def _head_side(
    gate_input: GateInput, changed: ChangedFile, read: Callable[[Path, str], _Read | None]
) -> _Read | None:
    """A changed file as the head has it, read by ``read``; ``None`` for a deleted file."""
    if changed.status is FileStatus.DELETED:
        return None
    return read(gate_input.head_dir, changed.path)


# --- tests --------------------------------------------------------------------------------------


def is_test_file(path: str) -> bool:
    """Whether ARK counts ``path`` among the tests (its default tier patterns for tests)."""
    return path.endswith(".py") and _TEST_FILES.match_file(path)


def _test_flags(gate_input: GateInput) -> list[IntegrityFlag]:
    flags: list[IntegrityFlag] = []
    base_tests: list[_Test] = []
    head_tests: list[_Test] = []
    head_path_of: dict[str, str] = {}
    gone: list[ChangedFile] = []
    broken: set[str] = set()
    for changed in gate_input.files:
        was_test = changed.status is not FileStatus.ADDED and is_test_file(changed.base_path)
        is_test = changed.status is not FileStatus.DELETED and is_test_file(changed.path)
        before = _TestFile.read(gate_input.base_dir, changed.base_path) if was_test else None
        after = _TestFile.read(gate_input.head_dir, changed.path) if is_test else None
        base_tests += before.tests if before else []
        head_tests += after.tests if after else []
        if was_test and is_test:
            head_path_of[changed.base_path] = changed.path
            flags += _file_flags(changed.path, before, after)
            if before is not None and after is None:
                broken.add(changed.base_path)  # flagged as a whole: no test of it runs
        elif was_test:
            gone.append(changed)
    unmatched = _match(base_tests, head_tests, head_path_of, flags)
    for changed in gone:
        lost = [test.qualname for test in unmatched if test.path == changed.base_path]
        if lost:
            verb = "deletes" if changed.status is FileStatus.DELETED else "moves out of the tests"
            plural = "s" if len(lost) > 1 else ""
            flags.append(
                IntegrityFlag(
                    IntegrityKind.TEST_FILE_DELETED,
                    changed.base_path,
                    f"{verb} a test file whose {len(lost)} test{plural} are nowhere else in"
                    f" the head: {', '.join(lost)}",
                )
            )
    flagged_whole = broken | {changed.base_path for changed in gone}
    flags += [
        IntegrityFlag(
            IntegrityKind.TEST_DELETED,
            head_path_of.get(test.path, test.path),
            "deletes the test",
            test.qualname,
        )
        for test in unmatched
        if test.path not in flagged_whole
    ]
    return flags


def _file_flags(
    path: str, before: _TestFile | None, after: _TestFile | None
) -> list[IntegrityFlag]:
    """What happened to a test file that is still one: it stopped parsing, or skips more."""
    if before is None:
        return []
    if after is None:
        reason = "no longer reads or parses: none of its tests can run"
        return [IntegrityFlag(IntegrityKind.TEST_DELETED, path, reason)]
    if after.module_skips > before.module_skips:
        reason = "adds a skip or xfail to the whole module"
        return [IntegrityFlag(IntegrityKind.SKIP_ADDED, path, reason)]
    return []


def _match(
    base: list[_Test],
    head: list[_Test],
    head_path_of: dict[str, str],
    flags: list[IntegrityFlag],
) -> list[_Test]:
    """Pair each base test with its head version (same file first, then moved); the unpaired.

    Each pair is compared: fewer assertions, or more skips, are flagged.
    """
    available = list(head)
    unmatched: list[_Test] = []
    for test in base:
        candidates = [h for h in available if h.qualname == test.qualname]
        same_file = [h for h in candidates if h.path == head_path_of.get(test.path)]
        if not candidates:
            unmatched.append(test)
            continue
        match = (same_file or candidates)[0]
        available.remove(match)
        if match.assertions < test.assertions:
            reason = f"{test.assertions} assertions -> {match.assertions}"
            flags.append(
                IntegrityFlag(IntegrityKind.ASSERTIONS_WEAKENED, match.path, reason, test.qualname)
            )
        if match.skips > test.skips:
            reason = "adds a skip or xfail to the test"
            flags.append(IntegrityFlag(IntegrityKind.SKIP_ADDED, match.path, reason, test.qualname))
    return unmatched


@dataclass(frozen=True)
class _TestFile:
    """The test functions of a test file, and the skips its module-level code names."""

    tests: list[_Test]
    module_skips: int

    @classmethod
    def read(cls, tree: Path, path: str) -> _TestFile | None:
        """A test file of ``tree``; ``None`` when it cannot be read or does not parse."""
        text = read_text(tree, path)
        if text is None:
            return None
        try:
            module = ast.parse(text)
        except (SyntaxError, ValueError):
            return None
        module_skips = sum(
            _skips_named(statement)
            for statement in module.body
            if not isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        )
        tests: list[_Test] = []
        _collect_tests(module.body, path, "", 0, tests)
        return cls(tests, module_skips)


def _collect_tests(
    body: list[ast.stmt],
    path: str,
    prefix: str,
    inherited_skips: int,
    tests: list[_Test],
) -> None:
    """Test functions as pytest collects them: ``test*`` at module level or in a test class."""
    for node in body:
        if isinstance(node, ast.ClassDef) and _is_test_class(node):
            skips = inherited_skips + sum(_skips_named(d) for d in node.decorator_list)
            qualname = f"{prefix}{node.name}"
            _collect_tests(node.body, path, f"{qualname}.", skips, tests)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            skips = inherited_skips + sum(_skips_named(d) for d in node.decorator_list)
            skips += sum(
                _is_call_to(n, _SKIP_CALLS) for statement in node.body for n in ast.walk(statement)
            )
            tests.append(_Test(path, f"{prefix}{node.name}", _assertions(node.body), skips))


def _is_test_class(node: ast.ClassDef) -> bool:
    bases = [_last_name(base) for base in node.bases]
    return node.name.startswith("Test") or any(b and b.endswith("TestCase") for b in bases)


def _assertions(body: list[ast.stmt]) -> int:
    """Assertions in a test: asserts that can fail, ``raises``/``warns``, ``assert*`` calls."""
    count = 0
    for node in (n for statement in body for n in ast.walk(statement)):
        if isinstance(node, ast.Assert):
            always_true = isinstance(node.test, ast.Constant) and bool(node.test.value)
            count += not always_true
        elif isinstance(node, ast.Call):
            name = _last_name(node.func) or ""
            count += name.startswith("assert") or name in _ASSERTING_CALLS
    return count


def _skips_named(node: ast.AST) -> int:
    """Skip or xfail marks and calls named anywhere in a decorator or a module-level statement."""
    return sum(_last_name(n) in _SKIP_NAMES for n in ast.walk(node))


def _is_call_to(node: ast.AST, names: frozenset[str]) -> bool:
    return isinstance(node, ast.Call) and _last_name(node.func) in names


def _last_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None
