"""Where a module's tests live, which tests it already has, and how new ones join them.

The tests folder is the first of pytest's ``testpaths`` (read from
``pytest.ini``, ``pyproject.toml``, ``tox.ini`` or ``setup.cfg``, in the
order pytest reads them), else an existing ``tests/`` or ``test/``, else a
new ``tests/``. The file name follows ``python_files`` (``test_*.py`` by
default; ``*_test.py`` when that is all a project collects).

The module's existing test file, when it has one, is extended rather than
a second one made beside it. It is looked for under the tests folder (and,
when no ``testpaths`` narrow what pytest collects, under ``tests/``,
``test/`` and next to the module): a file named for the module
(``test__make.py`` for ``_make.py``), or for it without its leading
underscores (``test_make.py``) when that file imports the module, or
imports from its package (``from attr import asdict`` tests
``attr._funcs``) and the package has no public module of that name (whose
tests it would be). Of several, one that imports the module comes first,
then one importing from its package, then the name in full. A relative
import counts as the absolute one it stands for (``from .._util import
validate`` in ``h11/tests/test_util.py``). With none, a folder mirroring
the package (``tests/pkg/``) is used when the project has one.
"""

from __future__ import annotations

import ast
import configparser
import dataclasses
import functools
import sys
import tomllib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ark_lsp.analysis import module_name
from ark_lsp.analysis.collector import resolve_relative
from ark_lsp.files import read_contained, within
from ark_lsp.generate import placement
from ark_lsp.generate.characterize.targets import Target
from ark_lsp.generate.style import Style

CONFIG_SIZE_CAP = 1024 * 1024
"""Largest pytest configuration file read: the repository's, so bounded."""

TEST_FILE_SIZE_CAP = 4 * 1024 * 1024
"""Largest test file read to see what it imports; a larger one is taken not to."""

_IGNORED_FOLDERS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".ark", ".tox"}


@dataclass(frozen=True)
class Snapshot:
    """The workspace's files at a commit, where tests are looked for instead of the disk.

    A change set's base: a test file lying untracked in the working tree is
    none of its files, and one changed there is read as the commit has it.
    """

    files: frozenset[str]
    """Workspace-relative paths of its files."""
    read: Callable[[str], str | None]
    """A file's text, by its workspace-relative path; None when it has none to read."""

    def is_dir(self, relative: str) -> bool:
        """Whether a file of the snapshot is under the folder ``relative`` (``""``: the root)."""
        prefix = f"{relative}/" if relative else ""
        return any(path.startswith(prefix) for path in self.files)

    def exists(self, relative: str) -> bool:
        """Whether ``relative`` is a file or a folder of the snapshot."""
        return relative in self.files or self.is_dir(relative)


def _relative(root: Path, path: Path) -> str:
    """``path`` (under ``root``) as a workspace-relative POSIX path, ``""`` for the root."""
    found = path.relative_to(root).as_posix()
    return "" if found == "." else found


def _is_dir(root: Path, path: Path, base: Snapshot | None) -> bool:
    return base.is_dir(_relative(root, path)) if base else path.is_dir()


def _exists(root: Path, path: Path, base: Snapshot | None) -> bool:
    return base.exists(_relative(root, path)) if base else path.exists()


@dataclass(frozen=True)
class PytestConfig:
    """The parts of a project's pytest configuration that decide where tests go."""

    testpaths: tuple[str, ...] = ()
    python_files: tuple[str, ...] = ("test_*.py", "*_test.py")


def _words(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    return ()


def read_pytest_config(root: Path, base: Snapshot | None = None) -> PytestConfig:
    """The project's pytest settings, from the first file that has a pytest section.

    Those of ``base`` when given (a change set's base commit), else the disk's.
    """
    for name, section in (
        ("pytest.ini", "pytest"),
        (".pytest.ini", "pytest"),
        ("pyproject.toml", None),
        ("tox.ini", "pytest"),
        ("setup.cfg", "tool:pytest"),
    ):
        path = root / name
        if not (name in base.files if base else path.is_file()):
            continue
        try:
            if base is None:
                text = read_contained(path, [root], CONFIG_SIZE_CAP).decode("utf-8")
            elif (found := base.read(name)) is not None:
                text = found
            else:
                continue
            if section is None:
                data = tomllib.loads(text)
                options = data.get("tool", {}).get("pytest", {}).get("ini_options")
                if not isinstance(options, dict):
                    continue
            else:
                parser = configparser.ConfigParser(interpolation=None)
                parser.read_string(text)
                if not parser.has_section(section):
                    continue
                options = dict(parser.items(section))
        except (OSError, UnicodeDecodeError, ValueError, configparser.Error):
            continue
        files = _words(options.get("python_files")) or PytestConfig.python_files
        return PytestConfig(_words(options.get("testpaths")), files)
    return PytestConfig()


def _file_name(stem: str, patterns: tuple[str, ...]) -> str:
    for pattern in patterns:
        if pattern == "test_*.py":
            return f"test_{stem}.py"
    for pattern in patterns:
        if pattern.count("*") == 1 and pattern.endswith(".py"):
            return pattern.replace("*", stem)
    return f"test_{stem}.py"


def _walk(folder: Path) -> list[Path]:
    found = []
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            entries = sorted(current.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                continue  # a test file ARK extends is one of the workspace's own
            if entry.is_dir() and entry.name not in _IGNORED_FOLDERS:
                pending.append(entry)
            elif entry.suffix == ".py" and entry.is_file():
                found.append(entry)
    return found


def file_for_tests(root: Path, relative: str, base: Snapshot | None = None) -> str:
    """The workspace-relative path of the test file for the module at ``relative``.

    Looked for among the files of ``base`` when given (a change set's base
    commit), else on disk.
    """
    config = read_pytest_config(root, base)
    module, _ = module_name(relative)
    parts = module.split(".") if module else [PurePosixPath(relative).stem]
    stem = parts[-1]
    # pytest collects only its testpaths when they are set, existing or not yet.
    configured = [p.strip("/") for p in config.testpaths if "*" not in p]
    folder = next((p for p in configured if _is_dir(root, root / p, base)), None)
    if folder is None and configured:
        folder = configured[0]
    if folder is None:
        folder = next((f for f in ("tests", "test") if _is_dir(root, root / f, base)), "tests")
    name = _file_name(stem, config.python_files)
    searched = [root / folder]
    beside: Path | None = None
    if not configured:
        module_folder = (root / relative).parent
        searched += [root / "tests", root / "test", module_folder / "tests", module_folder / "test"]
        beside = module_folder
    candidates = _python_files(root, searched, beside, base)
    bare = stem.strip("_")
    # test_make.py may be the tests of a public make.py beside _make.py: then only its
    # imports can tell, not its name.
    module_folder = (root / relative).parent
    public_twin = _exists(root, module_folder / f"{bare}.py", base) or _is_dir(
        root, module_folder / bare, base
    )
    existing = _existing_test_file(
        root, candidates, module or stem, stem, config, public_twin, base
    )
    if existing is not None:
        return existing.relative_to(root).as_posix()
    tests_root = root / folder
    packages = parts[:-1]
    mirrors = (tests_root.joinpath(*packages[:depth]) for depth in range(len(packages), 0, -1))
    place = next((mirror for mirror in mirrors if _is_dir(root, mirror, base)), tests_root)
    # A private module's tests are named as people name them (test_textwrap.py for
    # _textwrap.py), unless a public twin would claim the name or a file has it already.
    plain = _file_name(bare, config.python_files) if bare and bare != stem else name
    if not public_twin and not _exists(root, place / plain, base):
        name = plain
    return (place / name).relative_to(root).as_posix()


def _python_files(
    root: Path, searched: list[Path], beside: Path | None, base: Snapshot | None = None
) -> list[Path]:
    """The Python files under the ``searched`` folders, then those directly in ``beside``."""
    if base is not None:
        return _snapshot_files(root, searched, beside, base)
    inside = [root.resolve()]
    found: dict[Path, None] = {}
    walked: set[Path] = set()
    for folder in [*searched, beside]:
        if folder is None or not folder.is_dir() or not within(folder.resolve(), inside):
            continue
        if folder.resolve() in walked:
            continue
        walked.add(folder.resolve())
        if folder is beside:
            files = [p for p in sorted(folder.iterdir()) if p.suffix == ".py" and _plain_file(p)]
        else:
            files = _walk(folder)
        found.update(dict.fromkeys(files))
    return list(found)


def _snapshot_files(
    root: Path, searched: list[Path], beside: Path | None, base: Snapshot
) -> list[Path]:
    """What :func:`_python_files` finds, among the files of ``base``."""
    found: dict[Path, None] = {}
    python = sorted(path for path in base.files if path.endswith(".py"))
    for folder in [*searched, beside]:
        if folder is None:
            continue
        prefix = _relative(root, folder)
        prefix = f"{prefix}/" if prefix else ""
        for path in python:
            rest = path[len(prefix) :].split("/")
            if not path.startswith(prefix) or (folder is beside and len(rest) > 1):
                continue
            if not _IGNORED_FOLDERS.intersection(rest[:-1]):
                found[root / path] = None
    return list(found)


def _plain_file(path: Path) -> bool:
    return not path.is_symlink() and path.is_file()


def _existing_test_file(
    root: Path,
    candidates: list[Path],
    module: str,
    stem: str,
    config: PytestConfig,
    public_twin: bool,
    base: Snapshot | None = None,
) -> Path | None:
    """The module's test file among ``candidates``, by the rule of the module docstring."""
    full = _file_name(stem, config.python_files)
    bare = stem.strip("_")
    stripped = _file_name(bare, config.python_files) if bare and bare != stem else None
    package = module.rpartition(".")[0]
    # Named with its package too, as idna names tests/test_idna_codec.py for idna/codec.py:
    # taken only when it imports the module.
    parts = module.split(".")
    qualified = {
        _file_name("_".join(parts[start:]), config.python_files) for start in range(len(parts) - 1)
    }
    ranked: list[tuple[int, bool, int]] = []
    for order, path in enumerate(candidates):
        if path.name not in (full, stripped) and path.name not in qualified:
            continue
        imported = _imported(path, module, root, base)
        importing = module in imported
        if path.name in qualified and not importing:
            continue
        # A private module is mostly tested through its package's names (from attr import
        # asdict, for attr._funcs): that counts too, unless a public twin may be the one.
        through_package = bool(package) and package in imported and not public_twin
        if path.name == full or importing or through_package:
            ranked.append(
                (0 if importing else 1 if through_package else 2, path.name != full, order)
            )
    return candidates[min(ranked)[-1]] if ranked else None


def _imported(path: Path, module: str, root: Path, base: Snapshot | None = None) -> set[str]:
    """Of ``module`` and its package, the ones the test file at ``path`` imports from.

    Relative imports too: h11's ``h11/tests/test_util.py`` imports ``from .._util
    import validate``. The file as ``base`` has it, when given.
    """
    where = _relative(root, path)
    try:
        if base is None:
            tree = ast.parse(read_contained(path, [root], TEST_FILE_SIZE_CAP))
        else:
            tree = ast.parse(base.read(where) or "")
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    package = module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and (source := imported_from(node, where)):
            # ``from .. import _util`` imports the module as a name of its package.
            names = [source, *(f"{source}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            if _within_module(name, module):
                found.add(module)
            elif package and name == package:
                found.add(package)
    return found


def _within_module(name: str, module: str) -> bool:
    return name == module or name.startswith(f"{module}.")


def imported_from(node: ast.ImportFrom, where: str = "") -> str | None:
    """The absolute module ``node`` imports from, in the file at workspace path ``where``.

    ``h11._util`` for ``from .._util import validate`` in ``h11/tests/test_util.py``;
    None for a relative import when ``where`` is not given, or climbs above its top.
    """
    if not node.level:
        return node.module
    if not where:
        return None
    module, is_package = module_name(where)
    return resolve_relative(module, is_package, node.level, node.module)


@functools.lru_cache(maxsize=4)
def _tree(text: str | None) -> ast.Module | None:
    """The test file's tree; None for a file that is empty, absent or does not parse.

    Cached (a tree not to change): one generation reads the same file for
    its tests, its bindings, its locals and its imports.
    """
    if not text:
        return None
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def existing_tests(text: str | None) -> set[str]:
    """Names of the test functions and classes a test file defines (methods included).

    A class's methods also as ``TestSigner.test_sign``: what a method of ``Signer`` is
    tested by.
    """
    tree = _tree(text)
    if tree is None:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            methods = [
                item.name
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
            names.update(methods)
            names.update(f"{node.name}.{method}" for method in methods)
    return names


SKELETON_REASONS = ("TODO: fill in the expected results", "TODO: check what the call changes")
"""The skip reasons of the skeletons ARK writes (``test.py.j2``)."""

_ARK_COMMENT = "# ARK could not observe "
"""How the comment above each skeleton ARK writes begins."""


def skeleton_tests(text: str | None) -> frozenset[str]:
    """The test functions of a file that are skeletons ARK wrote, still to be filled in.

    Skipped with a reason starting ``TODO``, and each of their rows still
    holds ``...`` (or, for a call that returns nothing, the reason is ARK's
    ``TODO: check what the call changes``). They test nothing yet.
    """
    tree = _tree(text)
    if tree is None:
        return frozenset()
    return frozenset(
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_skeleton(node)
    )


def _is_skeleton(node: ast.stmt) -> bool:
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    reason: object = None
    rows: list[ast.expr] = []
    for decorator in node.decorator_list:
        if not isinstance(decorator, ast.Call):
            continue
        called = ast.unparse(decorator.func)
        if called == "pytest.mark.skip":
            given = [k.value for k in decorator.keywords if k.arg == "reason"] or decorator.args
            reason = given[0].value if given and isinstance(given[0], ast.Constant) else None
        elif called == "pytest.mark.parametrize" and len(decorator.args) > 1:
            table = decorator.args[1]
            rows = list(table.elts) if isinstance(table, ast.List | ast.Tuple) else []
    if not isinstance(reason, str) or not reason.startswith("TODO"):
        return False
    if reason == SKELETON_REASONS[1]:
        return True
    return bool(rows) and all(
        any(isinstance(n, ast.Constant) and n.value is Ellipsis for n in ast.walk(row))
        for row in rows
    )


def without_skeletons(text: str, names: Collection[str]) -> tuple[str, frozenset[str]]:
    """``text`` without the skeletons ``names``, and the names of those taken out.

    A skeleton goes with ARK's comment above it and the blank lines after it,
    only when that is all it is: on lines of its own, with a blank line (or
    the file's start) above it or its ``# ARK could not observe`` comment.
    One with anything else around it (a comment of the user's) stays.
    """
    tree = _tree(text)
    if tree is None or not names:
        return text, frozenset()
    rows = text.split("\n")
    removed: set[str] = set()
    nodes = [
        n
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        and n.name in names
        and _is_skeleton(n)
    ]
    for node in sorted(nodes, key=lambda n: n.lineno, reverse=True):
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        last = node.end_lineno or node.lineno  # one past the last line, 0-based
        if rows[first][:1] != "@" and not rows[first].startswith(("def ", "async def ")):
            continue
        if rows[last - 1][node.end_col_offset or 0 :].strip():
            continue  # more code on its last line
        start = first
        while start > 0 and rows[start - 1].startswith("#"):
            start -= 1
        if start < first and not rows[start].startswith(_ARK_COMMENT):
            continue
        if start > 0 and rows[start - 1].strip():
            continue
        end = last
        while end < len(rows) and not rows[end].strip():
            end += 1
        if end == len(rows):  # the file's last: what was before it ends the file
            while start > 0 and not rows[start - 1].strip():
                start -= 1
            rows[start:end] = [""]
        else:
            rows[start:end] = []
        removed.add(node.name)
    return "\n".join(rows), frozenset(removed)


def module_bindings(text: str | ast.Module | None, where: str = "") -> dict[str, str]:
    """What each top-level name of a test file (its text, or tree) is bound to.

    An import gives what it imports (``attr._make.attrs`` for ``from
    attr._make import attrs``, ``attr`` for ``import attr.exceptions``; a
    relative one resolved in the file at workspace path ``where``, else
    with its dots, ``.._util.validate``), anything else (a definition, an
    assignment) ``""``.
    """
    tree = text if isinstance(text, ast.Module) else _tree(text)
    if tree is None:
        return {}
    bound: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    bound[top] = top
        elif isinstance(node, ast.ImportFrom):
            source = imported_from(node, where) or "." * node.level + (node.module or "")
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound[node.name] = ""
        else:
            for child in ast.walk(node):
                if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                    bound[child.id] = ""
    return bound


def local_names(text: str | None) -> frozenset[str]:
    """The names a test file's functions and classes bind for themselves.

    Parameters, locals, and what they import (boltons' tests import
    ``GUIDerator`` inside the test that uses it: the same name imported at the
    top was pylint's W0621 and W0404 on ARK's own tests).
    """
    tree = _tree(text)
    if tree is None:
        return frozenset()
    names: set[str] = set()
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
    for statement in tree.body:
        for node in ast.walk(statement) if isinstance(statement, scopes) else ():
            if isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
    return frozenset(names)


@dataclass(frozen=True)
class FileUses:
    """What a test file names through its imports, and the attributes it reads."""

    references: frozenset[str] = frozenset()
    """Dotted names: ``tabulate.tabulate`` for ``tabulate(...)`` after ``from tabulate
    import tabulate``; ``cachetools.func.fifo_cache`` for cachetools' suite's
    ``staticmethod(cachetools.func.fifo_cache)``. A local variable (``cached = ...``) is
    no import, and what it is called is not taken for the module's function of that name."""
    attributes: frozenset[str] = frozenset()
    """Attribute names read (and called) on anything: ``bump_major`` of ``v.bump_major()``."""
    on_classes: frozenset[tuple[str, str]] = frozenset()
    """``(class, attribute)`` read on a class the imports name, or on one just made:
    ``("semver.Version", "parse")`` of ``Version.parse(...)``, of ``Version(...).parse``."""
    tests: tuple[tuple[str, FileUses], ...] = ()
    """The same of each test of the file, by its pytest id: ``test_bump``,
    ``TestBox::test_area``; so that a note can say which test uses a function."""


def file_uses(text: str | None, where: str = "") -> FileUses:
    """What the test file ``text`` uses of what it imports (see :class:`FileUses`).

    ``where`` is its workspace path, for its relative imports (``from .. import _util``).
    """
    tree = _tree(text)
    if tree is None:
        return FileUses()
    bound = {
        name: source
        for name, source in module_bindings(tree, where).items()
        if source and not source.startswith(".")
    }
    # A skeleton to fill in uses nothing yet: BidictBase.values was "already tested" by one.
    tree = ast.Module([n for n in tree.body if not _is_skeleton(n)], tree.type_ignores)
    tests = tuple((name, _uses(node, bound)) for name, node in _tests_in(tree))
    return dataclasses.replace(_uses(tree, bound), tests=tests)


def _tests_in(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """The file's test functions, and test methods of its classes, by their pytest ids."""
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    found: list[tuple[str, ast.AST]] = []
    for node in tree.body:
        if isinstance(node, functions) and node.name.startswith("test"):
            found.append((node.name, node))
        elif isinstance(node, ast.ClassDef):
            found += [
                (f"{node.name}::{item.name}", item)
                for item in node.body
                if isinstance(item, functions) and item.name.startswith("test")
            ]
    return found


def _uses(tree: ast.AST, bound: dict[str, str]) -> FileUses:
    """What ``tree`` (a file, or one of its tests) uses of the names ``bound`` imports."""
    references: set[str] = set()
    attributes: set[str] = set()
    on_classes: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        found = resolved_name(node, bound)
        if found is not None:
            references.add(found)
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            attributes.add(node.attr)
            receiver = node.value.func if isinstance(node.value, ast.Call) else node.value
            owner = resolved_name(receiver, bound)
            if owner is not None:
                on_classes.add((owner, node.attr))
    return FileUses(frozenset(references), frozenset(attributes), frozenset(on_classes))


def resolved_name(node: ast.AST, bound: dict[str, str]) -> str | None:
    """The dotted name ``node`` (``a.b.c``) stands for, through ``bound`` (a file's imports).

    None when its root is no name ``bound`` knows, or it is no dotted name.
    """
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and bound.get(node.id):
        return ".".join([bound[node.id], *reversed(parts)])
    return None


def names_for(module: str, name: str) -> frozenset[str]:
    """The dotted names a test may use for ``module``'s ``name``: through a package above too.

    ``attr.attrs`` for ``attr._make``'s ``attrs``, which ``attr`` re-exports.
    """
    return frozenset(f"{package}.{name}" for package in enclosing(module))


def enclosing(module: str) -> list[str]:
    """The module and the packages above it, outermost first: ``a``, ``a.b``, ``a.b.c``."""
    parts = module.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts) + 1)]


def tested_by(target: Target, names: set[str], stems: Collection[str] = ()) -> str | None:
    """The existing test that already covers ``target``, if any.

    ``test_<stem>`` or ``test_<stem>_...``, unless another of the module's
    ``stems`` names it more closely: ``test_help_formatter_write_text``
    tests ``write_text``, not ``write``; or a class of tests named for it
    (``TestPadNone``, ``PadnoneTests``).
    """
    closer = [f"test_{other}" for other in stems if len(other) > len(target.test_name)]

    def names_it(name: str, stem: str) -> bool:
        return name == stem or name.startswith(f"{stem}_")

    for name in sorted(names):
        if names_it(name, f"test_{target.test_name}") and not any(
            names_it(name, other) for other in closer
        ):
            return name
    squashed = target.test_name.replace("_", "").lower()
    found = next((name for name in sorted(names) if _test_class_stem(name) == squashed), None)
    if found is None and target.class_name is not None:
        found = _tested_in_its_class(target, names, stems)
    return found


def _tested_in_its_class(target: Target, names: set[str], stems: Collection[str]) -> str | None:
    """``TestSigner.test_sign`` for ``Signer.sign``: a test of the method in its class's tests.

    itsdangerous tests ``Signer`` so; ARK wrote 168 tests beside them. As for a
    function, ``test_sign_value`` is not ``sign``'s where the class has ``sign_value``.
    """
    assert target.class_name is not None
    method = target.name.rstrip("_") or target.name
    prefix = target.test_name[: len(target.test_name) - len(method)]
    siblings = [stem[len(prefix) :] for stem in stems if stem.startswith(prefix)]
    closer = [f"test_{other}" for other in siblings if len(other) > len(method)]
    owner = target.class_name.rsplit(".", 1)[-1].replace("_", "").lower()

    def names_it(name: str, stem: str) -> bool:
        return name == stem or name.startswith(f"{stem}_")

    for name in sorted(names):
        tests, dot, test = name.partition(".")
        if (
            dot
            and _test_class_stem(tests) == owner
            and names_it(test, f"test_{method}")
            and not any(names_it(test, other) for other in closer)
        ):
            return name
    return None


def _test_class_stem(name: str) -> str | None:
    """What a test class's name says it tests, squashed: ``padnone`` of ``PadnoneTests``.

    ``TestPadNone``, ``PadNoneTests`` and ``PadNoneTest`` (unittest's way,
    more-itertools' ``UniqueEverseenTests``) all name ``pad_none``.
    """
    if not name[:1].isupper():
        return None
    squashed = name.replace("_", "").lower()
    if squashed.startswith("test"):
        return squashed[len("test") :] or None
    for suffix in ("tests", "test"):
        if squashed.endswith(suffix):
            return squashed[: -len(suffix)] or None
    return None


def imports_missing(
    text: str | None, wanted: list[str], width: int = 100, where: str = ""
) -> list[str]:
    """The import lines of ``wanted`` whose names ``text`` does not import yet.

    A ``from`` import longer than ``width`` takes one name a line. ``where``
    is the file's workspace path, for its relative imports.
    """
    tree = _tree(text)
    if tree is None:
        return [line for line in wanted if line.strip()]
    have: set[tuple[str | None, str]] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            have.update((None, alias.asname or alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (source := imported_from(node, where)):
            have.update((source, alias.asname or alias.name) for alias in node.names)
    missing = []
    for line in wanted:
        if not line.strip():
            continue
        statement = ast.parse(line).body[0]
        if isinstance(statement, ast.Import):
            missing += [
                f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                for alias in statement.names
                if (None, alias.asname or alias.name) not in have
            ]
        elif isinstance(statement, ast.ImportFrom) and statement.module:
            module = statement.module
            names = [alias.name for alias in statement.names if (module, alias.name) not in have]
            if names:
                missing.append(import_from(module, names, width))
    return missing


def import_from(module: str, names: list[str], width: int = 100) -> str:
    """``from module import a, b``, wrapped one name a line when it is too long."""
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= width:
        return line
    inner = "".join(f"    {name},\n" for name in names)
    return f"from {module} import (\n{inner})"


def _section(module: str, own: str) -> int:
    if module.startswith("."):
        return 3  # isort's local folder: relative imports come last
    top = module.split(".")[0]
    if top == "__future__":
        return -1
    return 0 if top in sys.stdlib_module_names else 2 if top == own else 1


def add_imports(
    text: str,
    lines: list[str],
    style: Style,
    own: str = "",
    width: int = 100,
    where: str = "",
    *,
    single_line: bool = False,
) -> str:
    """Add import lines to a test file the way a person would.

    A name from a module the file already imports from joins that
    statement, a relative one too (``from .._util import`` in the file at
    workspace path ``where``, as h11's tests import); any other import
    takes its place in its section (standard library, third party, ``own``
    package, relative imports) in isort's order, a new section goes between
    the others, and a file with no imports gets them after its docstring.
    A ``from`` import longer than ``width`` takes one name a line. Names are
    imported a statement each with ``single_line`` (the project's isort
    ``force-single-line``) or when the file does so already.
    """
    lines = [line for line in lines if line.strip()]
    if not lines:
        return text
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "\n".join(lines) + style.newline + text
    rows = text.split("\n")
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    # Edits from the bottom up, so that earlier line numbers stay valid.
    edits: list[tuple[int, int, list[str]]] = []
    pending: list[str] = []
    single = single_line or _one_name_a_line(imports)
    for line in lines:
        statement = ast.parse(line).body[0]
        if single and isinstance(statement, ast.ImportFrom) and len(statement.names) > 1:
            # isort's force-single-line (itsdangerous): one name a statement, as the file has.
            pending += [f"from {statement.module} import {alias.name}" for alias in statement.names]
            continue
        if not single and isinstance(statement, ast.ImportFrom) and statement.module:
            joined = next(
                (
                    n
                    for n in imports
                    if isinstance(n, ast.ImportFrom)
                    and imported_from(n, where) == statement.module
                    and all(a.asname is None for a in n.names)
                ),
                None,
            )
            if joined is not None:
                names = [a.name for a in joined.names] + [a.name for a in statement.names]
                unique = sorted(dict.fromkeys(names), key=lambda n: (_name_type(n), n))
                # As the file writes it: ``.._util`` stays relative.
                source = _module_of(joined)
                edits.append(
                    (
                        joined.lineno,
                        joined.end_lineno or joined.lineno,
                        import_from(source, unique, width).split("\n"),
                    )
                )
                continue
        pending.append(line)
    # By section, each in isort's order (plain imports, then from-imports, by module):
    # ruff's I001 takes a new section's lines apart, or out of order, for a fault.
    sections: dict[int, list[tuple[bool, tuple[str, int, str], str]]] = {}
    for line in pending:
        statement = ast.parse(line).body[0]
        assert isinstance(statement, ast.Import | ast.ImportFrom)
        module = _module_of(statement)
        sections.setdefault(_section(module, own), []).append(
            (isinstance(statement, ast.ImportFrom), _sort_key(statement), line)
        )
    for section, added in sorted(sections.items()):
        added.sort()
        same = [n for n in imports if _section(_module_of(n), own) == section]
        if same:
            edits += [_place_in(same, is_from, key, line) for is_from, key, line in added]
            continue
        block = [line for _, _, line in added]
        earlier = [n for n in imports if _section(_module_of(n), own) < section]
        later = [n for n in imports if _section(_module_of(n), own) > section]
        if earlier:
            after = earlier[-1].end_lineno or earlier[-1].lineno
            edits.append((after + 1, after, ["", *block]))
        elif later:
            edits.append((later[0].lineno, later[0].lineno - 1, [*block, ""]))
        else:
            return _after_docstring(text, tree, "\n".join(pending), style)
    # Bottom up; of two lines put at one place, the later first, so that they read in order.
    for _, (first, last, replacement) in sorted(
        enumerate(edits), key=lambda e: (e[1][0], e[1][1], e[0]), reverse=True
    ):
        rows[first - 1 : last] = replacement
    return "\n".join(rows)


def _place_in(
    section: list[ast.Import | ast.ImportFrom],
    is_from: bool,
    key: tuple[str, int, str],
    line: str,
) -> tuple[int, int, list[str]]:
    """Where ``line`` goes among a section's imports, in isort's order."""
    kind = [n for n in section if isinstance(n, ast.ImportFrom) == is_from]
    following = next((n for n in kind if _sort_key(n) > key), None)
    if following is None and not kind and not is_from:
        following = section[0]  # a plain import goes before the section's from-imports
    if following is not None:
        return following.lineno, following.lineno - 1, [line]
    last = (kind or section)[-1]
    after = last.end_lineno or last.lineno
    return after + 1, after, [line]


def _sort_key(node: ast.Import | ast.ImportFrom) -> tuple[str, int, str]:
    """What isort orders a statement by within its kind: the module, then the first name.

    Names by type first, as isort's ``order-by-type``: constants, classes, functions
    (parse's ``Match`` before ``date_convert``).
    """
    first = node.names[0].name if isinstance(node, ast.ImportFrom) and node.names else ""
    return _module_of(node).lower(), _name_type(first), first.lower()


def _name_type(name: str) -> int:
    return 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2


def _one_name_a_line(imports: list[ast.Import | ast.ImportFrom]) -> bool:
    """Whether the file imports a module's names a statement each (isort's force-single-line)."""
    froms = [n for n in imports if isinstance(n, ast.ImportFrom) and n.module]
    modules = [n.module for n in froms]
    return all(len(n.names) == 1 for n in froms) and len(set(modules)) < len(modules)


def _module_of(node: ast.Import | ast.ImportFrom) -> str:
    if isinstance(node, ast.Import):
        return node.names[0].name
    return "." * node.level + (node.module or "")


def _after_docstring(text: str, tree: ast.Module, block: str, style: Style) -> str:
    first = tree.body[0] if tree.body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return placement.insert_after(
            text, first.end_lineno or first.lineno, block, 1, style.newline
        ).new_text
    return block + style.newline * 2 + text


__all__ = [
    "SKELETON_REASONS",
    "FileUses",
    "PytestConfig",
    "Snapshot",
    "add_imports",
    "enclosing",
    "existing_tests",
    "file_for_tests",
    "file_uses",
    "import_from",
    "imported_from",
    "imports_missing",
    "local_names",
    "module_bindings",
    "names_for",
    "read_pytest_config",
    "resolved_name",
    "skeleton_tests",
    "tested_by",
    "without_skeletons",
]
