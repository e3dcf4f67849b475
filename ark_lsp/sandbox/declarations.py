"""What a workspace declares it depends on, read from its files without running any of them.

The sandbox's environment (see :mod:`ark_lsp.sandbox.environment`) is built
from these declarations and cached by their digest:

- ``pyproject.toml``: ``[project] dependencies``, the test extras of
  ``[project.optional-dependencies]`` (``test``, ``tests``, ``testing``,
  ``dev``; an extra naming the project itself, ``attrs[tests-mypy]``, is
  followed) and the same groups of ``[dependency-groups]`` (PEP 735,
  ``include-group`` followed);
- ``*requirements*.txt`` at the root (``requirements-dev.txt``,
  ``test-requirements.txt``), ``requirements/*.txt``, and
  ``requirements*.txt`` in ``tests/`` or ``test/``, with the files they
  include with ``-r``/``-c``; not those for docs, linting, typing or
  builds, nor a development file where one is named for the tests (each
  may be pinned apart: installed together, they conflict); a line naming
  the project itself
  (``-e .[socks]``) asks for the project's own dependencies;
- a lock file (``uv.lock``, ``poetry.lock``, ``pdm.lock``, ``pylock.toml``):
  its pins constrain every version installed.

A project whose dependencies are not static (no ``[project]`` table, or
``dependencies`` in ``dynamic``: a ``setup.py``) has them computed by its
build backend, which is the repository's code: that happens only inside the
build container (see :mod:`ark_lsp.sandbox.env_layer`), never here.
"""

from __future__ import annotations

import configparser
import hashlib
import posixpath
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ark_lsp.files import read_contained

DECLARATION_CAP = 1024 * 1024
"""Bytes of one declaration file read; a larger one is not a declaration."""
MAX_REQUIREMENTS = 2000
MAX_INCLUDED_FILES = 50
TEST_EXTRAS = ("test", "tests", "testing", "dev")
"""Extras and dependency groups whose packages the tests need."""
LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "pylock.toml")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(?:;.*)?$")
_REQUIREMENT_START = re.compile(r"^[A-Za-z0-9]")
_INCLUDE = re.compile(r"^\s*(-r|--requirement|-c|--constraint)\s*=?\s*(\S+)")
_PROJECT_LINE = re.compile(r"^\s*(?:-e\s+|--editable\s+|--editable=)?\.(?:/)?(\[[^\]]*\])?\s*$")
_DEFAULT_EXCLUDE = ("-e ", "--editable")


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class DeclaredDependencies:
    """The workspace's declared dependencies, ready for pip in the build container."""

    requirements: tuple[str, ...] = ()
    """PEP 508 strings from ``pyproject.toml`` (dependencies, test extras and groups) and
    tox.ini's ``[testenv] deps``."""
    requirement_sources: tuple[str, ...] = ("pyproject.toml",)
    """Where :attr:`requirements` come from, as :meth:`describe` names them."""
    requirement_files: tuple[str, ...] = ()
    """Root-relative requirement files, each with the lines naming the project removed."""
    files: tuple[tuple[str, bytes], ...] = ()
    """Every declaration file read, ``(root-relative path, bytes as pip gets them)``."""
    constraints: tuple[str, ...] = ()
    """``name==version`` pins from the lock file."""
    lock: str | None = None
    project_extras: tuple[str, ...] | None = None
    """The project itself is resolved for its dependencies, with these extras (None: not)."""
    project_name: str | None = None
    project_version: str | None = None
    """The project's version where its files say it (``[project] version``, an sdist's
    ``PKG-INFO``): runs see the project as installed under it (``importlib.metadata``)."""
    src_layout: bool = False
    """The project's packages live in ``src/``: runs get ``PYTHONPATH=src``."""
    problems: tuple[str, ...] = ()
    """Declarations that could not be read, one line each."""

    @property
    def empty(self) -> bool:
        """Whether nothing is declared: the base image serves as it is."""
        return not (self.requirements or self.requirement_files or self.project_extras is not None)

    @property
    def digest(self) -> str:
        """A hash of everything declared: the environment is rebuilt when it changes."""
        hashed = hashlib.sha256()
        for path, data in sorted(self.files):
            hashed.update(f"{path}\0{len(data)}\0".encode())
            hashed.update(data)
        hashed.update(repr((self.requirements, self.constraints, self.project_extras)).encode())
        return hashed.hexdigest()

    def describe(self) -> str:
        """What is declared, in a few words: ``3 requirements from pyproject.toml, ...``."""
        parts = []
        if self.requirements:
            sources = " and ".join(self.requirement_sources)
            parts.append(f"{len(self.requirements)} requirement(s) from {sources}")
        if self.project_extras is not None:
            extras = f"[{','.join(self.project_extras)}]" if self.project_extras else ""
            parts.append(f"the project's own dependencies{extras} (its build backend says which)")
        parts += self.requirement_files
        if self.lock:
            parts.append(f"pinned by {self.lock}")
        said = ", ".join(parts) if parts else "nothing"
        # What could not be read is said with it (ark sandbox status): tests may lack it.
        return "; ".join([said, *self.problems])


def _read(root: Path, relative: str) -> bytes | None:
    path = root / relative
    if not path.is_file():
        return None
    try:
        return read_contained(path, [root], DECLARATION_CAP)
    except OSError:
        return None


def _self_extras(requirement: str, project: str | None) -> tuple[str, ...] | None:
    """The extras of a requirement naming the project itself (``attrs[tests]``), else None."""
    found = _NAME.match(requirement)
    if not found or project is None or normalize(found.group(1)) != normalize(project):
        return None
    return tuple(e.strip() for e in (found.group(2) or "").split(",") if e.strip())


def _expand_extras(
    project: dict[str, Any], wanted: list[str], name: str | None
) -> tuple[list[str], list[str]]:
    """The requirements of the ``wanted`` extras, following extras of the project itself."""
    optional = project.get("optional-dependencies")
    optional = optional if isinstance(optional, dict) else {}
    by_name = {normalize(key): value for key, value in optional.items()}
    seen: set[str] = set()
    chosen: list[str] = []
    out: list[str] = []
    pending = [normalize(extra) for extra in wanted]
    while pending:
        extra = pending.pop(0)
        if extra in seen or extra not in by_name:
            continue
        seen.add(extra)
        chosen.append(extra)
        for requirement in by_name[extra] if isinstance(by_name[extra], list) else []:
            if not isinstance(requirement, str):
                continue
            inner = _self_extras(requirement, name)
            if inner is None:
                out.append(requirement)
            else:
                pending += [normalize(e) for e in inner]
    return out, chosen


_TOX_FACTOR = re.compile(r"^[\w{},.!-]+:\s")
"""A tox line that applies to some environments only: ``py38: mock``."""


def _tox_test_environment(data: bytes) -> tuple[list[str], list[str], list[str]]:
    """The ``deps``, ``extras`` and included requirement files of tox.ini's ``[testenv]``.

    pyparsing's tests need its ``diagrams`` extra, which only ``extras=diagrams``
    of its tox.ini names; boltons' deps are ``-rrequirements-test.txt``. Lines
    for some environments only (``py38: mock``), substitutions (``{[base]deps}``)
    and other options are left out.
    """
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(data.decode("utf-8"))
    except (UnicodeDecodeError, configparser.Error):
        return [], [], []
    if not parser.has_section("testenv"):
        return [], [], []
    raw_deps = parser.get("testenv", "deps", fallback="").splitlines()
    included = [
        found.group(2)
        for line in raw_deps
        if (found := _INCLUDE.match(line.strip())) and found.group(1) in ("-r", "--requirement")
    ]

    def lines(key: str) -> list[str]:
        raw = parser.get("testenv", key, fallback="")
        return [
            line.strip()
            for line in raw.replace(",", "\n" if key == "extras" else ",").splitlines()
            if line.strip()
            and not line.strip().startswith(("#", "-"))
            and "{" not in line
            and not _TOX_FACTOR.match(line.strip())
        ]

    return lines("deps"), lines("extras"), included


def _groups(table: dict[str, Any], name: str | None) -> list[str]:
    """The test groups of ``[dependency-groups]``, ``include-group`` followed (PEP 735)."""
    groups = {normalize(key): value for key, value in table.items() if isinstance(value, list)}
    out: list[str] = []
    seen: set[str] = set()
    pending = [normalize(group) for group in TEST_EXTRAS]
    while pending:
        group = pending.pop(0)
        if group in seen or group not in groups:
            continue
        seen.add(group)
        for item in groups[group]:
            if isinstance(item, dict) and isinstance(item.get("include-group"), str):
                pending.append(normalize(item["include-group"]))
            elif isinstance(item, str) and _self_extras(item, name) is None:
                out.append(item)
    return out


def _lock_pins(name: str, data: bytes) -> tuple[str, ...]:
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ()
    packages = table.get("package") or table.get("packages") or []
    pins = []
    for package in packages if isinstance(packages, list) else []:
        if not isinstance(package, dict):
            continue
        package_name, version = package.get("name"), package.get("version")
        if (
            isinstance(package_name, str)
            and isinstance(version, str)
            and _NAME.match(package_name)
            and re.fullmatch(r"[A-Za-z0-9.+!_-]+", version)
        ):
            pins.append(f"{package_name}=={version}")
    return tuple(sorted(set(pins))[:MAX_REQUIREMENTS])


REQUIREMENT_FILE_PLACES = (
    ("", "*requirements*.txt"),
    ("requirements", "*.txt"),
    ("tests", "requirements*.txt"),
    ("test", "requirements*.txt"),
)
"""Where a project keeps the requirement files its tests need: a folder and a pattern."""


_NOT_FOR_TESTS = re.compile(
    r"(^|[-_.])(docs?|lint(ing)?|typing|typecheck|mypy|build|release|publish|bench(marks?)?"
    r"|style|format(ting)?|pre-?commit)($|[-_.])",
    re.IGNORECASE,
)
"""Requirement files of other jobs: pinned apart, they may not install together with the
tests' (MarkupSafe's requirements/docs.txt and tests.txt, each pip-compiled)."""
_DEVELOPMENT = re.compile(r"(^|[-_.])dev(el(opment)?)?($|[-_.])", re.IGNORECASE)


def _requirement_files(root: Path) -> list[str]:
    """The requirement files the tests need: the runtime's, and the tests' own.

    A project's development file (``requirements-dev.txt``) stands in for the tests'
    when it names no file for them; files for docs, linting, typing or builds are left out.
    """
    found: list[str] = []
    for folder, pattern in REQUIREMENT_FILE_PLACES:
        place = root / folder
        if folder and (not place.is_dir() or place.is_symlink()):
            continue
        names = sorted(p.name for p in place.glob(pattern) if p.is_file())
        found += [f"{folder}/{name}" if folder else name for name in names]
    found = [f for f in found if not _NOT_FOR_TESTS.search(PurePosixPath(f).stem)]
    if any("test" in f.lower() for f in found):
        found = [f for f in found if not _DEVELOPMENT.search(PurePosixPath(f).stem)]
    return found[:MAX_INCLUDED_FILES]


def _contained(relative: PurePosixPath) -> str | None:
    """``relative`` with its ``..`` resolved, if it stays inside the root."""
    if relative.is_absolute():
        return None
    normal = posixpath.normpath(relative.as_posix())
    return None if normal == ".." or normal.startswith("../") else normal


class _Requirements:
    """Requirement files read and cleaned for the build container, includes followed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, bytes] = {}
        self.project_extras: tuple[str, ...] | None = None
        self.problems: list[str] = []

    def add(self, relative: str) -> None:
        if relative in self.files or len(self.files) >= MAX_INCLUDED_FILES:
            return
        data = _read(self.root, relative)
        if data is None:
            self.problems.append(f"{relative} cannot be read")
            return
        kept = []
        folder = PurePosixPath(relative).parent
        for line in data.decode("utf-8", errors="replace").splitlines():
            project = _PROJECT_LINE.match(line)
            if project:
                # The project itself: its dependencies, not the project (its source is the run's).
                extras = (project.group(1) or "").strip("[]")
                wanted = tuple(e.strip() for e in extras.split(",") if e.strip())
                self.project_extras = tuple(sorted({*(self.project_extras or ()), *wanted}))
                continue
            if line.lstrip().startswith(_DEFAULT_EXCLUDE):
                continue  # another local editable: nothing a sandbox can install
            include = _INCLUDE.match(line)
            if include:
                target = _contained(PurePosixPath(folder, include.group(2)))
                if target is not None:
                    self.add(target)
            kept.append(line)
        self.files[relative] = ("\n".join(kept) + "\n").encode("utf-8")


_VERSION_FILE_KEYS = (
    ("hatch", "build", "hooks", "vcs", "version-file"),
    ("setuptools_scm", "version_file"),
    ("setuptools_scm", "write_to"),
)
"""Where ``pyproject.toml`` names the module a build writes its version into (hatch-vcs,
setuptools-scm)."""


def build_written_files(root: Path) -> tuple[str, ...]:
    """The files a build writes into the source tree that its code imports: a version module.

    humanize's ``src/humanize/_version.py`` is written by hatch-vcs and ignored by git;
    a copy of the tree without it cannot import the package. Root-relative, normalised,
    inside the root; whether each exists is the caller's to see.
    """
    data = _read(root, "pyproject.toml")
    try:
        table = tomllib.loads(data.decode("utf-8")) if data is not None else {}
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ()
    found: list[str] = []
    for keys in _VERSION_FILE_KEYS:
        value: Any = table.get("tool")
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and value.endswith(".py"):
            relative = _contained(PurePosixPath(value))
            if relative is not None and relative not in found:
                found.append(relative)
    return tuple(found)


_METADATA_FIELD = re.compile(r"^(Name|Version):[ \t]*(\S+)[ \t]*$", re.MULTILINE)


def _package_info(data: bytes) -> tuple[str, str] | None:
    """The name and version an sdist's ``PKG-INFO`` gives (a dynamic version, built)."""
    head = data.decode("utf-8", errors="replace").split("\n\n", 1)[0]  # the headers
    fields = {match[1]: match[2] for match in _METADATA_FIELD.finditer(head)}
    if "Name" in fields and "Version" in fields:
        return fields["Name"], fields["Version"]
    return None


def src_layout(root: Path) -> bool:
    """Whether ``root`` keeps its packages in ``src/``."""
    src = root / "src"
    if not src.is_dir() or src.is_symlink():
        return False
    return any(child.is_dir() and (child / "__init__.py").is_file() for child in src.iterdir())


def read_declarations(root: Path) -> DeclaredDependencies:
    """The dependencies the workspace at ``root`` declares (nothing of it is run)."""
    problems: list[str] = []
    files: dict[str, bytes] = {}
    requirements: list[str] = []
    project_extras: tuple[str, ...] | None = None
    name: str | None = None
    pyproject = _read(root, "pyproject.toml")
    table: dict[str, Any] = {}
    if pyproject is not None:
        files["pyproject.toml"] = pyproject
        try:
            table = tomllib.loads(pyproject.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            problems.append(f"pyproject.toml cannot be read: {error}")
    project = table.get("project")
    project = project if isinstance(project, dict) else None
    version: str | None = None
    if project is not None:
        raw_name = project.get("name")
        name = raw_name if isinstance(raw_name, str) else None
        raw_version = project.get("version")
        version = raw_version if isinstance(raw_version, str) else None
    package_info = _read(root, "PKG-INFO")
    if version is None and package_info is not None:
        found = _package_info(package_info)
        if found is not None and (name is None or normalize(found[0]) == normalize(name)):
            name, version = found
            files["PKG-INFO"] = package_info
    dynamic = project is None or "dependencies" in (project.get("dynamic") or [])
    for legacy in ("setup.py", "setup.cfg"):
        data = _read(root, legacy)
        if data is not None:
            files[legacy] = data
    tox = _read(root, "tox.ini")
    tox_deps, tox_extras, tox_files = _tox_test_environment(tox) if tox else ([], [], [])
    if tox is not None:
        files["tox.ini"] = tox
    test_extras = list(dict.fromkeys([*TEST_EXTRAS, *tox_extras]))
    if project is not None and not dynamic:
        declared = project.get("dependencies") or []
        requirements += [r for r in declared if isinstance(r, str)]
        extras, _ = _expand_extras(project, test_extras, name)
        requirements += extras
    elif dynamic and ("setup.py" in files or "setup.cfg" in files or project is not None):
        # Only the build backend knows: resolved in the build container, with the test
        # extras (sympy's setup.py names hypothesis in "dev"; pip passes over those it lacks).
        project_extras = tuple(test_extras)
    groups = table.get("dependency-groups")
    if isinstance(groups, dict):
        requirements += _groups(groups, name)
    sources: tuple[str, ...] = ("pyproject.toml",) if requirements else ()
    if tox_deps:
        requirements += tox_deps
        sources += ("tox.ini",)
    read = _Requirements(root)
    # The files tox's test environment names are the tests' (wcwidth's tox.ini names
    # requirements-tests39.txt of its -tests36, -tests37 and -tests39, whose pins conflict).
    for relative in () if tox_files else _requirement_files(root):
        read.add(relative)
    for named in tox_files:
        target = _contained(PurePosixPath(named))
        if target is not None and _read(root, target) is not None:
            read.add(target)
        else:  # boltons' sdist leaves out the file its tox.ini names
            problems.append(f"tox.ini's deps name {named}, which is not in the workspace")
    files.update(read.files)
    problems += read.problems
    if read.project_extras is not None:
        project_extras = tuple(sorted({*(project_extras or ()), *read.project_extras}))
    lock: str | None = None
    pins: tuple[str, ...] = ()
    for candidate in LOCK_FILES:
        data = _read(root, candidate)
        if data is not None:
            files[candidate] = data
            lock, pins = candidate, _lock_pins(candidate, data)
            break
    kept = [r.strip() for r in requirements if _REQUIREMENT_START.match(r.strip())]
    dropped = len(requirements) - len(kept)
    if dropped:
        problems.append(f"{dropped} declared requirement(s) are not package names: left out")
    return DeclaredDependencies(
        requirements=tuple(dict.fromkeys(kept))[:MAX_REQUIREMENTS],
        requirement_files=tuple(read.files),
        files=tuple(sorted(files.items())),
        constraints=pins,
        lock=lock,
        project_extras=project_extras,
        project_name=name,
        project_version=version,
        requirement_sources=sources,
        src_layout=src_layout(root),
        problems=tuple(problems),
    )


__all__ = ["DeclaredDependencies", "build_written_files", "normalize", "read_declarations"]
