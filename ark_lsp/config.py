"""One settings model, layered from the user's settings and the workspace's ``[tool.ark]``.

Keys may be written in kebab-case (``max-file-size``, as pyproject files
usually are), snake_case or camelCase (as editors send them); all three
normalise to the field names below. An invalid value never stops the tool:
it is reported in :attr:`LoadedSettings.problems` and the default applies.

The layers, lowest first: the defaults; the user's ``config.toml``
(:func:`ark_lsp.trust.user_config_file`); the workspace's ``[tool.ark]``;
what the editor sends. A workspace is a repository somebody else may have
written, so only its safe settings apply at once; its privileged ones
(:data:`PRIVILEGED_KEYS`, and template overrides) wait until the user
trusts it (see :mod:`ark_lsp.trust`). The user's own layers are always
trusted.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import stat
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path, PurePosixPath
from typing import Any

import pathspec
import re2
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

from ark_lsp.files import read_contained
from ark_lsp.models import Severity, Tier
from ark_lsp.rules import DEFAULT_FORBIDDEN_IMPORTS, DEFAULT_RULES, Rule, RuleSet, user_rule
from ark_lsp.trust import TrustStore, user_cache_folder, user_config_file

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

STATE_DIR = ".ark"
"""The workspace folder ARK owns: its index, and the workspace's template overrides."""

WORKSPACE_TEMPLATES = Path(STATE_DIR) / "templates"
"""Where, relative to the workspace root, a workspace keeps its own templates."""

PRIVILEGED_KEYS = frozenset({"database", "jobs", "sandbox"})
"""Settings a workspace may set only once its user trusts it.

Each decides where ARK writes, what runs on the machine and with which
limits (``sandbox`` is the whole ``[tool.ark.sandbox]`` table): a
repository that could set them could turn ARK against its user.
"""


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

    weak_isolation: bool = False
    """Let the local backend run code where bubblewrap cannot isolate it (util-linux
    ``unshare`` only: the host's files stay in reach) instead of refusing. A privileged
    setting: only the user may choose it, never a repository."""


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
class PrivilegedRequest:
    """What a workspace's own files ask for that only its user may grant."""

    settings: tuple[tuple[str, str], ...] = ()
    """``(dotted key, value as JSON)`` pairs, e.g. ``("sandbox.backend", '"local"')``."""
    templates: tuple[tuple[str, str], ...] = ()
    """``(workspace-relative path, sha256)`` of each file in ``.ark/templates/``."""

    def __bool__(self) -> bool:
        return bool(self.settings or self.templates)

    @property
    def keys(self) -> tuple[str, ...]:
        """What is asked for, as the user would look it up: ``sandbox.backend``, a template."""
        return tuple(key for key, _ in self.settings) + tuple(path for path, _ in self.templates)

    @property
    def fingerprint(self) -> str:
        """Changes whenever any privileged value or template changes."""
        text = json.dumps([self.settings, self.templates])
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class TrustDecision:
    """Whether a workspace's privileged settings apply, and why."""

    trusted: bool
    reason: str
    restricted: bool = False
    """The editor keeps the folder in a restricted mode: nothing of it runs at all."""


@dataclass(frozen=True)
class LoadedSettings:
    """Settings plus what was wrong with their source, for the user to see."""

    settings: Settings
    problems: tuple[str, ...] = ()
    source: Path | None = None
    request: PrivilegedRequest = field(default_factory=PrivilegedRequest)
    """The privileged settings the workspace asks for, applied or not."""
    trust: TrustDecision = TrustDecision(trusted=True, reason="no workspace settings")
    ignored: tuple[str, ...] = ()
    """Privileged keys of the workspace left out because it is not trusted."""

    @property
    def workspace_templates(self) -> bool:
        """Whether the workspace's ``.ark/templates/`` overrides are in force."""
        return self.trust.trusted and bool(self.request.templates)

    def ignored_note(self, root: Path) -> str | None:
        """One line saying what was ignored and how to trust the workspace, if anything was."""
        if not self.ignored:
            return None
        how = (
            "trust the folder in VS Code"
            if self.trust.restricted
            else f"review them, then run `ark trust {root}`"
        )
        return (
            f"{root} is not trusted ({self.trust.reason}): ignored its privileged settings "
            f"{', '.join(self.ignored)}; {how}"
        )


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
    "weak_isolation": _as_bool,
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


def _read_toml(
    path: Path, within: Path | None = None
) -> tuple[Mapping[str, Any] | None, str | None]:
    """A TOML file's tables, or why it cannot be read; ``(None, None)`` when it is absent.

    ``within``: a folder the file must be a regular file inside (a workspace's).
    """
    try:
        if within is None:
            raw = path.read_bytes()
        else:
            # A repository's pyproject.toml may be a FIFO, a device or a link out of it;
            # capped at the default size, its own setting being what is read here.
            raw = read_contained(path, [within], Settings.max_file_size)
        return tomllib.loads(raw.decode("utf-8")), None
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return None, f"{path}: cannot read ({error}); using defaults"


def _workspace_section(pyproject: Path, problems: list[str]) -> Mapping[str, Any]:
    data, problem = _read_toml(pyproject, within=pyproject.parent)
    if problem:
        problems.append(problem)
    section = (data or {}).get("tool", {}).get("ark", {})
    if not isinstance(section, Mapping):
        problems.append(f"{pyproject}: [tool.ark] must be a table; using defaults")
        return {}
    return section


_TEMPLATE_LISTING_CAP = 200
_TEMPLATE_HASH_CAP = 1024 * 1024


def _template_files(root: Path) -> tuple[tuple[str, str], ...]:
    """Each entry under ``.ark/templates/`` with a digest of what it holds.

    Bounded, and following no link: a link is listed by where it points (a
    folder linked elsewhere is not walked), a special file by its kind, a
    file too large to be a template by its size.
    """
    folder = root / WORKSPACE_TEMPLATES
    found: list[tuple[str, str]] = []
    for path in (folder.parent, folder):
        if path.is_symlink():
            return ((path.relative_to(root).as_posix(), "link:" + os.readlink(path)),)
    if not folder.is_dir():
        return ()
    for parent, folders, files in os.walk(folder):
        for name in sorted(folders + files):
            path = Path(parent) / name
            try:
                info = path.lstat()
                if stat.S_ISLNK(info.st_mode):
                    digest = "link:" + os.readlink(path)
                elif stat.S_ISDIR(info.st_mode):
                    continue
                elif not stat.S_ISREG(info.st_mode):
                    digest = f"special:{stat.S_IFMT(info.st_mode):o}"
                elif info.st_size > _TEMPLATE_HASH_CAP:
                    digest = f"size:{info.st_size}"
                else:
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                continue
            found.append((path.relative_to(root).as_posix(), digest))
            if len(found) >= _TEMPLATE_LISTING_CAP:
                return tuple(sorted(found))
    return tuple(sorted(found))


def privileged_request(root: Path, section: Mapping[str, Any]) -> PrivilegedRequest:
    """The privileged settings a ``[tool.ark]`` table and the workspace's templates ask for."""
    pairs: list[tuple[str, str]] = []
    for key, value in section.items():
        name = _normalise_key(key)
        if name not in PRIVILEGED_KEYS:
            continue
        if name == "sandbox" and isinstance(value, Mapping):
            pairs += [
                (f"sandbox.{_normalise_key(k)}", json.dumps(v, default=str, sort_keys=True))
                for k, v in value.items()
            ]
        else:
            pairs.append((name, json.dumps(value, default=str, sort_keys=True)))
    return PrivilegedRequest(settings=tuple(sorted(pairs)), templates=_template_files(root))


def decide_trust(
    root: Path,
    request: PrivilegedRequest,
    *,
    editor_trust: bool | None = None,
    store: TrustStore | None = None,
) -> TrustDecision:
    """Whether ``root``'s privileged settings apply: the editor's word, else ``ark trust``'s."""
    if editor_trust is False:
        return TrustDecision(False, "VS Code keeps it in restricted mode", restricted=True)
    if editor_trust:
        return TrustDecision(True, "the editor trusts the folder")
    if not request:
        return TrustDecision(True, "it asks for nothing privileged")
    record = (store or TrustStore()).find(root)
    if record is None:
        return TrustDecision(False, "never trusted")
    if record.fingerprint != request.fingerprint:
        return TrustDecision(
            False, f"its privileged settings changed since you trusted it on {record.trusted_at}"
        )
    return TrustDecision(True, f"trusted with `ark trust` on {record.trusted_at}")


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _repository_database(root: Path, value: Any, problems: list[str]) -> bool:
    """Whether a workspace may put its index where ``value`` says: inside its own ``.ark/``."""
    if not isinstance(value, str):
        return True  # the decoder reports the type
    location = root / Path(value)  # an absolute value replaces root
    state = root / STATE_DIR
    if value.startswith("~") or not (_inside(state, root) and _inside(location, state)):
        problems.append(
            f"tool.ark.database: {value!r} is outside the workspace's {STATE_DIR}/ folder; "
            "a workspace keeps its index there (set another place in your own settings)"
        )
        return False
    return True


USER_ONLY_SANDBOX_KEYS = frozenset({"weak_isolation"})
"""Sandbox settings no workspace may set, trusted or not: only the user's own layers."""


def _without_user_only(section: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    """``section`` without what only the user may decide, each key left out said."""
    kept = dict(section)
    for key, value in section.items():
        if _normalise_key(key) != "sandbox" or not isinstance(value, Mapping):
            continue
        sandbox = {}
        for name, setting in value.items():
            if _normalise_key(name) in USER_ONLY_SANDBOX_KEYS:
                problems.append(
                    f"tool.ark.sandbox.{name}: only your own settings choose weaker isolation "
                    "(your config.toml, the editor's settings, --weak-isolation); ignored"
                )
            else:
                sandbox[name] = setting
        kept[key] = sandbox
    return kept


def load_settings(
    root: Path,
    *,
    layers: Sequence[tuple[str, Mapping[str, Any]]] = (),
    editor_trust: bool | None = None,
    store: TrustStore | None = None,
) -> LoadedSettings:
    """The settings in force in the workspace at ``root``, layer over layer.

    ``layers`` are the user's own (initialization options, editor settings),
    applied last, as ``(where, table)`` pairs. ``editor_trust`` is the
    editor's word on the folder (VS Code's workspace trust), when it has one.
    """
    problems: list[str] = []
    settings = Settings()
    user_file = user_config_file()
    user_data, problem = _read_toml(user_file)
    if problem:
        problems.append(problem)
    if user_data:
        loaded = settings_from_mapping(user_data, base=settings, where=str(user_file))
        settings, problems = loaded.settings, problems + list(loaded.problems)

    pyproject = root / "pyproject.toml"
    section = _workspace_section(pyproject, problems)
    request = privileged_request(root, section)
    trust = decide_trust(root, request, editor_trust=editor_trust, store=store)
    applied = {
        key: value
        for key, value in section.items()
        if _normalise_key(key) not in PRIVILEGED_KEYS
        or (
            trust.trusted
            and (_normalise_key(key) != "database" or _repository_database(root, value, problems))
        )
    }
    applied = _without_user_only(applied, problems)
    loaded = settings_from_mapping(applied, base=settings)
    settings, problems = loaded.settings, problems + list(loaded.problems)
    for where, raw in layers:
        if raw:
            loaded = settings_from_mapping(raw, base=settings, where=where)
            settings, problems = loaded.settings, problems + list(loaded.problems)
    return LoadedSettings(
        settings=settings,
        problems=tuple(problems),
        source=pyproject if pyproject.exists() else None,
        request=request,
        trust=trust,
        ignored=() if trust.trusted else request.keys,
    )


def database_path(root: Path, settings: Settings) -> Path:
    """Where the index of the workspace at ``root`` lives.

    ``ARK_DATABASE`` or the ``database`` setting when given (a workspace can
    only set it inside its own ``.ark/``, see :func:`load_settings`); else
    ``.ark/index.db``, unless the workspace's ``.ark`` is not a real folder
    of its own (a link out of it, say), when the index goes to the user's
    cache instead, so that opening a folder never writes outside it.
    """
    configured = os.environ.get(DATABASE_ENV) or settings.database
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else root / path
    state = root / STATE_DIR
    if state.is_symlink() or not _inside(state, root):
        return cached_database_path(root)
    return state / "index.db"


def cached_database_path(root: Path) -> Path:
    """The index of ``root`` in the user's cache, for workspaces ARK may not write in."""
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return user_cache_folder() / "indexes" / f"{root.name or 'root'}-{key}" / "index.db"


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
    "PRIVILEGED_KEYS",
    "STATE_DIR",
    "WORKSPACE_TEMPLATES",
    "InvalidPattern",
    "LoadedSettings",
    "PatternSpec",
    "PrivilegedRequest",
    "SandboxSettings",
    "Settings",
    "TrustDecision",
    "cached_database_path",
    "compile_patterns",
    "database_path",
    "decide_trust",
    "load_settings",
    "parse_size",
    "privileged_request",
    "settings_from_mapping",
]
