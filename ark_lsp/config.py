"""One settings model, read from ``[tool.ark]`` of a workspace's pyproject.toml.

Keys may be written in kebab-case (``max-file-size``, as pyproject files
usually are), snake_case or camelCase (as editors send them); all three
normalise to the field names below. An invalid value never stops the tool:
it is reported in :attr:`LoadedSettings.problems` and the default applies.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path, PurePosixPath
from typing import Any

import pathspec
import re2
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

from ark_lsp.models import Severity, Tier
from ark_lsp.rules import DEFAULT_FORBIDDEN_IMPORTS, DEFAULT_RULES, Rule, RuleSet, user_rule

GENERATED_DIR = "ark_generated"
"""Folder, relative to the workspace root, where ARK writes generated code."""

DEFAULT_EXCLUDES: tuple[str, ...] = (  # folders only: discovery relies on it
    ".git/",
    ".hg/",
    ".svn/",
    ".venv/",
    "venv/",
    ".tox/",
    ".nox/",
    "node_modules/",
    "build/",
    "dist/",
    "__pycache__/",
    ".ark/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".pytest_cache/",
    "*.egg-info/",
)

DEFAULT_TIER_PATTERNS: tuple[tuple[str, Tier], ...] = (
    ("tests/", Tier.TESTING),
    ("test/", Tier.TESTING),
    ("test_*.py", Tier.TESTING),
    ("*_test.py", Tier.TESTING),
    ("conftest.py", Tier.TESTING),
    (f"/{GENERATED_DIR}/", Tier.SANDBOX),
)
"""Applied after the workspace's own ``[tool.ark.tiers]``; first match wins."""

DATABASE_ENV = "ARK_DATABASE"
"""Environment variable that overrides where the index database lives."""


SANDBOX_BACKENDS = ("auto", "docker", "local")


@dataclass(frozen=True)
class SandboxSettings:
    """Where and within what limits ARK runs code (``[tool.ark.sandbox]``)."""

    backend: str = "auto"
    """``docker``, ``local``, or ``auto``: docker when an engine answers, else local."""

    image: str | None = None
    """Docker image; ``None`` means the slim Python image of the host's minor version."""

    timeout: float = 10.0
    """Wall-clock seconds before a run is killed."""

    memory: int = 256 * 1024 * 1024
    """Memory limit in bytes (``"256m"``-style strings accepted)."""

    cpus: float = 1.0
    """CPU quota, in cores."""

    pids: int = 64
    """Most processes (and threads) a run may have at once."""

    network: bool = False
    """Let runs reach the network."""

    pool_size: int = 2
    """Docker containers kept started and ready for the next run."""

    mount_workspace: bool = False
    """Mount the workspace read-only into docker runs instead of copying files in."""


@dataclass(frozen=True)
class Settings:
    """ARK's settings, every field defaulted."""

    exclude: tuple[str, ...] = ()
    """Extra gitignore-style patterns to leave out of the index."""

    respect_gitignore: bool = True
    """Leave out what ``.gitignore`` files exclude."""

    tiers: tuple[tuple[str, Tier], ...] = ()
    """Ordered ``(glob, tier)`` pairs, tried before the defaults; first match wins."""

    database: str | None = None
    """Path of the index database; relative paths are taken from the workspace root."""

    jobs: int | None = None
    """Processes used to analyse files; ``None`` means one per core."""

    max_file_size: int = 10_000_000
    """Files larger than this many bytes are skipped by the indexer."""

    busy_timeout: float = 5.0
    """Seconds to wait for a database another process holds locked."""

    select: tuple[str, ...] = ()
    """Check only rules whose id starts with one of these (all when empty)."""

    ignore: tuple[str, ...] = ()
    """Never check rules whose id starts with one of these."""

    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """``(glob, rule ids)`` pairs: rules not checked in the matching files."""

    forbidden_imports: tuple[tuple[Tier, tuple[str, ...]], ...] = ()
    """Per-tier modules whose import raises ARK010, replacing that tier's defaults."""

    rules: tuple[Rule, ...] = ()
    """Rules of the workspace's own, checked with the built-in ones."""

    severities: tuple[tuple[str, Severity], ...] = ()
    """``(rule id, severity)`` pairs overriding the rule pack's severities."""

    code_lens_threshold: int = 10
    """Functions more complex than this get a code lens in the editor."""

    workspace_diagnostics: bool = False
    """Keep publishing a file's diagnostics after the editor closes it."""

    sandbox: SandboxSettings = SandboxSettings()
    """How code and tests are run."""

    base_rules: tuple[Rule, ...] = DEFAULT_RULES
    """The rule pack the others apply to: the database's copy when there is one."""

    def tier_for(self, relative_path: str) -> Tier:
        """Return the trust tier of a workspace-relative POSIX path."""
        return _tier_matcher(self.tiers)(relative_path)

    @functools.cached_property
    def ruleset(self) -> RuleSet:
        """The rules in force everywhere in the workspace."""
        forbidden = dict(DEFAULT_FORBIDDEN_IMPORTS)
        forbidden.update(self.forbidden_imports)
        severity_of = dict(self.severities)
        rules = tuple(
            replace(rule, severity=severity_of[rule.id]) if rule.id in severity_of else rule
            for rule in self.base_rules + self.rules
        )
        return RuleSet(rules=rules, forbidden_imports=forbidden).only(self.select, self.ignore)

    @functools.cached_property
    def analysis_key(self) -> str:
        """A fingerprint of everything that changes what analysing a file yields."""
        from ark_lsp import __version__

        decisive = (
            __version__,
            self.tiers,
            self.select,
            self.ignore,
            self.per_file_ignores,
            self.forbidden_imports,
            self.rules,
            self.severities,
            self.base_rules,
        )
        return hashlib.sha256(repr(decisive).encode()).hexdigest()[:16]

    @functools.cached_property
    def _compiled_per_file_ignores(
        self,
    ) -> tuple[tuple[pathspec.GitIgnoreSpec, tuple[str, ...]], ...]:
        return tuple((compile_patterns([pattern]), ids) for pattern, ids in self.per_file_ignores)

    def ruleset_for(self, relative_path: str) -> RuleSet:
        """The rules in force in one file, its per-file ignores applied."""
        ignored = [
            rule_id
            for spec, rule_ids in self._compiled_per_file_ignores
            if spec.match_file(relative_path)
            for rule_id in rule_ids
        ]
        return self.ruleset.only(ignore=ignored) if ignored else self.ruleset


@dataclass(frozen=True)
class LoadedSettings:
    """Settings plus what was wrong with their source, for the user to see."""

    settings: Settings
    problems: tuple[str, ...] = ()
    source: Path | None = None


def _normalise_key(key: str) -> str:
    key = key.replace("-", "_")
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m.group(1).lower(), key)


def _as_str_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise TypeError("expected a list of strings")
    if not all(isinstance(item, str) for item in value):
        raise TypeError("expected a list of strings")
    return tuple(value)


def _as_tiers(value: Any) -> tuple[tuple[str, Tier], ...]:
    if not isinstance(value, Mapping):
        raise TypeError('expected a table of glob = "tier"')
    pairs: list[tuple[str, Tier]] = []
    for pattern, tier in value.items():
        try:
            pairs.append((str(pattern), Tier(tier)))
        except ValueError:
            choices = ", ".join(t.value for t in Tier)
            raise TypeError(f"{pattern!r}: tier must be one of {choices}, got {tier!r}") from None
    return tuple(pairs)


def _as_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def _as_optional_str(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _as_positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TypeError("expected a positive integer")
    return value


def _as_optional_positive_int(value: Any) -> int | None:
    return None if value is None else _as_positive_int(value)


def _as_positive_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise TypeError("expected a positive number")
    return float(value)


def _as_rule_ids(value: Any) -> tuple[str, ...]:
    ids = _as_str_tuple(value)
    if not all(re.fullmatch(r"[A-Z]+[0-9]*", rule_id) for rule_id in ids):
        raise TypeError("expected rule ids or id prefixes such as ARK001 or ARK0")
    return ids


def _as_per_file_ignores(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, Mapping):
        raise TypeError('expected a table of glob = ["ARK001", ...]')
    return tuple((str(pattern), _as_rule_ids(ids)) for pattern, ids in value.items())


def _as_forbidden_imports(value: Any) -> tuple[tuple[Tier, tuple[str, ...]], ...]:
    if not isinstance(value, Mapping):
        raise TypeError('expected a table of tier = ["module", ...]')
    pairs = []
    for tier, modules in value.items():
        try:
            pairs.append((Tier(tier), _as_str_tuple(modules)))
        except ValueError:
            raise TypeError(f"{tier!r} is not a tier") from None
    return tuple(pairs)


def _as_user_rules(value: Any) -> tuple[Rule, ...]:
    if not isinstance(value, list):
        raise TypeError("expected an array of tables ([[tool.ark.rules]])")
    rules = []
    for number, raw in enumerate(value, 1):
        if not isinstance(raw, Mapping):
            raise TypeError(f"rule {number}: expected a table")
        try:
            rules.append(user_rule(raw))
        except ValueError as error:
            raise TypeError(f"rule {number}: {error}") from None
    return tuple(rules)


def _as_severities(value: Any) -> tuple[tuple[str, Severity], ...]:
    if not isinstance(value, Mapping):
        raise TypeError('expected a table of rule id = "error" | "warning" | "info"')
    pairs = []
    for rule_id, severity in value.items():
        try:
            pairs.append((str(rule_id).upper(), Severity(severity)))
        except ValueError:
            raise TypeError(f"{rule_id!r}: {severity!r} is not error, warning or info") from None
    return tuple(pairs)


_SIZE_SUFFIXES = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(value: Any) -> int:
    """Bytes from an int or a ``"512m"``-style string (k, m, g; optional ``b``/``ib``)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*", value.lower())
        if match and float(match.group(1)) > 0:
            return int(float(match.group(1)) * _SIZE_SUFFIXES[match.group(2)])
    raise TypeError('expected a size such as 268435456, "256m" or "1g"')


def _as_backend(value: Any) -> str:
    if value not in SANDBOX_BACKENDS:
        raise TypeError(f"expected one of {', '.join(SANDBOX_BACKENDS)}")
    return str(value)


_SANDBOX_DECODERS: dict[str, Callable[[Any], Any]] = {
    "backend": _as_backend,
    "image": _as_optional_str,
    "timeout": _as_positive_number,
    "memory": parse_size,
    "cpus": _as_positive_number,
    "pids": _as_positive_int,
    "network": _as_bool,
    "pool_size": lambda value: 0 if value == 0 else _as_positive_int(value),
    "mount_workspace": _as_bool,
}
assert set(_SANDBOX_DECODERS) == {f.name for f in fields(SandboxSettings)}


def _decode(
    raw: Mapping[str, Any],
    decoders: Mapping[str, Callable[[Any], Any]],
    where: str,
    problems: list[str],
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        name = _normalise_key(key)
        decoder = decoders.get(name)
        if decoder is None:
            problems.append(f"{where}.{key}: unknown setting, ignored")
            continue
        try:
            changes[name] = decoder(value)
        except TypeError as error:
            problems.append(f"{where}.{key}: {error}; using the default")
    return changes


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "exclude": _as_str_tuple,
    "respect_gitignore": _as_bool,
    "tiers": _as_tiers,
    "database": _as_optional_str,
    "jobs": _as_optional_positive_int,
    "max_file_size": _as_positive_int,
    "busy_timeout": _as_positive_number,
    "select": _as_rule_ids,
    "ignore": _as_rule_ids,
    "per_file_ignores": _as_per_file_ignores,
    "forbidden_imports": _as_forbidden_imports,
    "rules": _as_user_rules,
    "severities": _as_severities,
    "code_lens_threshold": _as_positive_int,
    "workspace_diagnostics": _as_bool,
}
_INTERNAL = {"base_rules", "sandbox"}
assert set(_DECODERS) | _INTERNAL == {f.name for f in fields(Settings)}, (
    "every setting needs a decoder"
)


def settings_from_mapping(
    raw: Mapping[str, Any], *, base: Settings | None = None, where: str = "tool.ark"
) -> LoadedSettings:
    """Apply ``raw`` over ``base``; bad or unknown keys become problems, not errors."""
    problems: list[str] = []
    base = base or Settings()
    sandbox_raw = raw.get("sandbox")
    changes = _decode({k: v for k, v in raw.items() if k != "sandbox"}, _DECODERS, where, problems)
    if sandbox_raw is not None:
        if isinstance(sandbox_raw, Mapping):
            sandbox_changes = _decode(sandbox_raw, _SANDBOX_DECODERS, f"{where}.sandbox", problems)
            changes["sandbox"] = replace(base.sandbox, **sandbox_changes)
        else:
            problems.append(f"{where}.sandbox: expected a table; using the defaults")
    settings = replace(base, **changes)
    return LoadedSettings(settings=settings, problems=tuple(problems))


def load_settings(root: Path) -> LoadedSettings:
    """Read ``[tool.ark]`` from ``root/pyproject.toml``; defaults when absent."""
    pyproject = root / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return LoadedSettings(settings=Settings())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return LoadedSettings(
            settings=Settings(),
            problems=(f"{pyproject}: cannot read ({error}); using defaults",),
            source=pyproject,
        )
    section = data.get("tool", {}).get("ark", {})
    if not isinstance(section, Mapping):
        return LoadedSettings(
            settings=Settings(),
            problems=(f"{pyproject}: [tool.ark] must be a table; using defaults",),
            source=pyproject,
        )
    loaded = settings_from_mapping(section)
    return replace(loaded, source=pyproject)


def database_path(root: Path, settings: Settings) -> Path:
    """Where the index of the workspace at ``root`` lives."""
    configured = os.environ.get(DATABASE_ENV) or settings.database
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else root / path
    return root / ".ark" / "index.db"


MAX_PATTERN_LENGTH = 4096
"""Longest pattern compiled: no path a walk meets is longer (Linux's PATH_MAX)."""

InvalidPattern = Callable[[int, str, str], None]
"""Told ``(position, pattern, reason)`` of a pattern left out; positions count from 1."""

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is reported once, by the caller


class PatternSpec(pathspec.GitIgnoreSpec):
    """Compiled gitignore-style patterns that pickle as their text.

    RE2's automata do not pickle, and settings holding compiled patterns
    travel to the indexing workers: a spec is compiled again on arrival.
    """

    source: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[Callable[[Iterable[str]], PatternSpec], tuple[tuple[str, ...]]]:
        return compile_patterns, (self.source,)


def compile_patterns(
    patterns: Iterable[str], on_invalid: InvalidPattern | None = None
) -> PatternSpec:
    r"""Compile gitignore-style patterns once, for matching in time linear in the path.

    pathspec translates each pattern to a regular expression and decides,
    as git does, which matching pattern wins; the expressions are matched
    by RE2 (pathspec's ``re2`` backend), which never backtracks. Python's
    ``re`` would: ``a*a*a*a*a*a*a*a*a*a*a*a*a*b`` against a long name of
    ``a`` is hours of work holding the GIL, and patterns come from the
    repository (``.gitignore``, ``exclude``, tiers, per-file ignores).

    A pattern that cannot be used (a lone ``\``, ``[z-a]``, one longer than
    :data:`MAX_PATTERN_LENGTH`) is left out, as git leaves out what it cannot
    parse, and ``on_invalid`` is told; the other patterns still apply.
    """
    source = tuple(patterns)
    usable: list[GitIgnoreSpecPattern] = []
    for position, line in enumerate(source, 1):
        try:
            usable.extend(_linear_pattern(line))
        except ValueError as error:
            if on_invalid is not None:
                on_invalid(position, line, str(error))
    try:
        # One automaton for every pattern: one RE2 call per path, whatever their number.
        spec = PatternSpec(usable, backend="re2")
    except re2.error:
        # More than one automaton holds (thousands of patterns): pathspec's simple
        # backend tries each pattern's own RE2 expression in turn, slower but linear.
        spec = PatternSpec(usable, backend="simple")
    spec.source = source
    return spec


def _linear_pattern(line: str) -> list[GitIgnoreSpecPattern]:
    """``line`` as pathspec reads it, its expression compiled by RE2; ValueError says why not.

    No pattern (an empty list) for a blank line or a comment.
    """
    if len(line) > MAX_PATTERN_LENGTH:
        raise ValueError(f"longer than {MAX_PATTERN_LENGTH:,} characters")
    try:
        regex, include = GitIgnoreSpecPattern.pattern_to_regex(line)
    except ValueError:  # pathspec's GitIgnorePatternError: it names the pattern itself
        raise ValueError("not a valid gitignore pattern") from None
    if regex is None or include is None:
        return []
    try:
        compiled = re2.compile(regex, _RE2_OPTIONS)
    except re2.error as error:
        detail = error.args[0] if error.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", errors="replace")
        raise ValueError(f"not a valid gitignore pattern: {detail}") from None
    return [GitIgnoreSpecPattern(compiled, include)]


@functools.lru_cache(maxsize=32)
def _tier_matcher(user_tiers: tuple[tuple[str, Tier], ...]) -> Callable[[str], Tier]:
    ordered = [(compile_patterns([pattern]), tier) for pattern, tier in user_tiers]
    ordered += [(compile_patterns([pattern]), tier) for pattern, tier in DEFAULT_TIER_PATTERNS]

    @functools.lru_cache(maxsize=65536)
    def tier_for(relative_path: str) -> Tier:
        posix = str(PurePosixPath(relative_path))
        for spec, tier in ordered:
            if spec.match_file(posix):
                return tier
        return Tier.TRUSTED

    return tier_for


__all__ = [
    "DATABASE_ENV",
    "DEFAULT_EXCLUDES",
    "DEFAULT_TIER_PATTERNS",
    "GENERATED_DIR",
    "MAX_PATTERN_LENGTH",
    "InvalidPattern",
    "LoadedSettings",
    "PatternSpec",
    "SandboxSettings",
    "Settings",
    "compile_patterns",
    "database_path",
    "load_settings",
    "parse_size",
    "settings_from_mapping",
]
