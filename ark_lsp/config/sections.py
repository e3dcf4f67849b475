"""The settings, one typed section per feature: ``[tool.ark]`` and its nested tables.

:class:`Settings` is ``[tool.ark]``, the core every feature reads (files,
tiers, rules, thresholds, the database). A feature with settings of its own
gets a section: a frozen dataclass, every field defaulted and annotated
with a type from :mod:`ark_lsp.config.values` (which says what it accepts),
held by a field of :class:`Settings` named after its table.
``[tool.ark.sandbox]`` is :class:`SandboxSettings`; the coming stages add
theirs the same way, e.g. ``[tool.ark.quality]`` is a ``QualitySettings``
dataclass and the one line ``quality: QualitySettings = QualitySettings()``
below. Decoding, the names accepted (kebab-case, snake_case, camelCase) and
the warnings for unknown keys follow from the classes alone; a table no
section declares is reported like an unknown key.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import TYPE_CHECKING

from ark_lsp.config.paths import GENERATED_DIR
from ark_lsp.config.values import (
    GATE_CHECKS,
    Count,
    ForbiddenImports,
    Fraction,
    GateCheck,
    LintSeverity,
    PerFileIgnores,
    PositiveInt,
    PositiveNumber,
    RuleIdPrefixes,
    SandboxBackend,
    SeverityOverrides,
    Size,
    TestSelection,
    TierPatterns,
    UserRules,
)
from ark_lsp.models import Tier
from ark_lsp.rules import DEFAULT_FORBIDDEN_IMPORTS, DEFAULT_RULES, Rule, RuleSet

if TYPE_CHECKING:
    from ark_lsp.config.patterns import PatternSpec

NOT_A_SETTING: Mapping[str, bool] = MappingProxyType({"setting": False})
"""Field metadata of what a section holds but no user sets (the database's rule pack)."""

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


@dataclass(frozen=True)
class SandboxSettings:
    """Where and within what limits ARK runs code (``[tool.ark.sandbox]``)."""

    backend: SandboxBackend = "auto"
    """``docker``, ``local``, or ``auto``: docker when an engine answers, else local."""

    image: str | None = None
    """Docker image; ``None`` means the slim Python image of the host's minor version."""

    timeout: PositiveNumber = 10.0
    """Wall-clock seconds before a run of code is killed (``ark run``, a function, the
    characterization tests' runs)."""

    suite_timeout: PositiveNumber = 600.0
    """Wall-clock seconds before a run of a test suite is killed (``ark test``, the gate's
    runs of the tests): a project's whole suite needs far longer than one run of code."""

    memory: Size = 256 * 1024 * 1024
    """Memory limit in bytes of a run of code (``"256m"``-style strings accepted)."""

    suite_memory: Size = 1024 * 1024 * 1024
    """Memory limit in bytes of a run of a test suite (``ark test``, the gate's runs of the
    tests): a project's suite, under coverage.py too, holds far more than one run of code."""

    cpus: PositiveNumber = 1.0
    """CPU quota, in cores."""

    pids: PositiveInt = 64
    """Most processes (and threads) a run may have at once."""

    network: bool = False
    """Let runs reach the network."""

    pool_size: Count = 2
    """Docker containers kept started and ready for the next run."""

    mount_workspace: bool = False
    """Mount the workspace read-only into docker runs instead of copying files in."""

    python: str | None = None
    """The interpreter local runs use, e.g. ``.venv/bin/python``; default: ``VIRTUAL_ENV``,
    then the workspace's ``.venv`` or ``venv``, else ARK's own."""

    weak_isolation: bool = False
    """Let the local backend run code where bubblewrap cannot isolate it (util-linux
    ``unshare`` only: the host's files stay in reach) instead of refusing. A privileged
    setting: only the user may choose it, never a repository."""


@dataclass(frozen=True)
class GateSettings:
    """What the quality gate checks on new code, and how strictly (``[tool.ark.gate]``).

    The gate reads this section from the base commit of the change it judges,
    never from the change itself: a change cannot loosen its own judge.
    """

    checks: tuple[GateCheck, ...] = GATE_CHECKS
    """The checks that run; the others are reported as not run, "switched off"."""

    coverage: Fraction = 0.8
    """Least share of the changed lines (and of their branches) the tests must run."""

    mutation_score: Fraction = 0.6
    """Least share of the mutants of changed lines the tests must kill."""

    complexity_slack: Count = 0
    """How much a touched function's cyclomatic complexity may grow."""

    lint_severity: LintSeverity = "warning"
    """New pylint messages of this category or worse fail the gate."""

    mutant_timeout: PositiveNumber = 30.0
    """Least wall-clock seconds one mutant's test run may take; a mutant that hangs is killed.

    Each mutant's timeout is ``max(mutant_timeout, 5 * clean + 2)`` seconds,
    ``clean`` being the time its tests took unmutated in the gate's run of
    the change's suite, so that a slow test or a loaded machine does not
    pass for a hang.
    """

    max_mutants: PositiveInt = 60
    """Most mutants made per change, spread over its changed functions."""

    test_selection: TestSelection = "affected"
    """``affected``: run on the change only the tests that ran its code on the base (the
    whole suite when that cannot be trusted); ``all``: always the whole suite."""


@dataclass(frozen=True)
class Settings:
    """ARK's settings, every field defaulted: ``[tool.ark]`` and, as fields, its sections."""

    exclude: tuple[str, ...] = ()
    """Extra gitignore-style patterns to leave out of the index."""

    respect_gitignore: bool = True
    """Leave out what ``.gitignore`` files exclude."""

    tiers: TierPatterns = ()
    """Ordered ``(glob, tier)`` pairs, tried before the defaults; first match wins."""

    database: str | None = None
    """Path of the index database; relative paths are taken from the workspace root."""

    jobs: PositiveInt | None = None
    """Processes used to analyse files; ``None`` means one per core."""

    max_file_size: PositiveInt = 10_000_000
    """Files larger than this many bytes are skipped by the indexer."""

    busy_timeout: PositiveNumber = 5.0
    """Seconds to wait for a database another process holds locked."""

    select: RuleIdPrefixes = ()
    """Check only rules whose id starts with one of these (all when empty)."""

    ignore: RuleIdPrefixes = ()
    """Never check rules whose id starts with one of these."""

    per_file_ignores: PerFileIgnores = ()
    """``(glob, rule ids)`` pairs: rules not checked in the matching files."""

    forbidden_imports: ForbiddenImports = ()
    """Per-tier modules whose import raises ARK010, replacing that tier's defaults."""

    rules: UserRules = ()
    """Rules of the workspace's own, checked with the built-in ones."""

    severities: SeverityOverrides = ()
    """``(rule id, severity)`` pairs overriding the rule pack's severities."""

    code_lens_threshold: PositiveInt = 10
    """Functions more complex than this get a code lens in the editor."""

    workspace_diagnostics: bool = False
    """Keep publishing a file's diagnostics after the editor closes it."""

    types_and_lint_on_save: bool = True
    """Run mypy and pylint on a file the editor saves, as the gate's ``types`` and ``lint``
    checks run them, and show what they find (sources ``ark-types`` and ``ark-lint``); only
    in a workspace the user trusts."""

    sandbox: SandboxSettings = SandboxSettings()
    """How code and tests are run (``[tool.ark.sandbox]``)."""

    gate: GateSettings = GateSettings()
    """What the quality gate checks on new code (``[tool.ark.gate]``)."""

    base_rules: tuple[Rule, ...] = field(default=DEFAULT_RULES, metadata=NOT_A_SETTING)
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
            # The parser and the compiler check (ARK000) are the running Python's: a file
            # another version analysed may parse, or be refused, differently here.
            sys.implementation.cache_tag,
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
    ) -> tuple[tuple[PatternSpec, tuple[str, ...]], ...]:
        if not self.per_file_ignores:
            return ()  # pathspec and RE2 are imported only to match a pattern
        from ark_lsp.config.patterns import compile_patterns

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


@functools.lru_cache(maxsize=32)
def _tier_matcher(user_tiers: tuple[tuple[str, Tier], ...]) -> Callable[[str], Tier]:
    patterns = (*user_tiers, *DEFAULT_TIER_PATTERNS)
    words = [_required_word(pattern) for pattern, _ in patterns]

    @functools.cache
    def ordered() -> list[tuple[PatternSpec, Tier]]:
        # Compiled (pathspec and RE2 imported) for the first path that may match one.
        from ark_lsp.config.patterns import compile_patterns

        return [(compile_patterns([pattern]), tier) for pattern, tier in patterns]

    @functools.lru_cache(maxsize=65536)
    def tier_for(relative_path: str) -> Tier:
        posix = str(PurePosixPath(relative_path))
        if all(word is not None and word not in posix for word in words):
            return Tier.TRUSTED  # no pattern can match: the path lacks a word each must match
        for spec, tier in ordered():
            if spec.match_file(posix):
                return tier
        return Tier.TRUSTED

    return tier_for


_WILDCARDS = re.compile(r"[*?/\s]+")


def _required_word(pattern: str) -> str | None:
    """Literal text every path a gitignore-style pattern matches contains; None if not known.

    Outside ``*``, ``?`` and ``/`` a pattern's characters match themselves,
    so each run of them appears in whatever the pattern matches (``tests/``:
    ``tests``). A bracket, an escape or a negation is not read here (None):
    such a pattern is always compiled and matched, as is one of wildcards alone.
    """
    if any(special in pattern for special in "[]\\!"):
        return None
    return max(_WILDCARDS.split(pattern), key=len) or None
