"""The settings model: what pyproject files and editors send, and what goes wrong in them."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from operator import attrgetter
from pathlib import Path
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

import pytest

from ark_lsp.analysis import analyze
from ark_lsp.config import (
    DEFAULT_TIER_PATTERNS,
    SandboxSettings,
    Settings,
    load_settings,
    parse_size,
    read_options,
    schema_of,
    settings_from_mapping,
)
from ark_lsp.config.decoding import resolve
from ark_lsp.config.patterns import compile_patterns
from ark_lsp.config.values import Accepts, ArrayOfTables, Table
from ark_lsp.models import Severity, Tier
from ark_lsp.rules import user_rule


def test_editor_camel_case_and_pyproject_kebab_case_mean_the_same_settings() -> None:
    from_editor = settings_from_mapping(
        {"codeLensThreshold": 15, "workspaceDiagnostics": True, "sandbox": {"poolSize": 3}}
    )
    from_pyproject = settings_from_mapping(
        {"code-lens-threshold": 15, "workspace-diagnostics": True, "sandbox": {"pool-size": 3}}
    )
    assert from_editor.problems == from_pyproject.problems == ()
    assert from_editor.settings == from_pyproject.settings
    assert from_editor.settings.code_lens_threshold == 15
    assert from_editor.settings.sandbox.pool_size == 3


def test_a_severity_override_changes_what_the_diagnostic_says() -> None:
    settings = settings_from_mapping({"severities": {"ark001": "warning"}}).settings
    (violation,) = analyze("eval(x)\n", "m.py", settings).violations
    assert (violation.rule, violation.severity) == ("ARK001", Severity.WARNING)
    assert settings.analysis_key != Settings().analysis_key


def test_files_another_python_analysed_are_analysed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    here = Settings().analysis_key
    monkeypatch.setattr(sys.implementation, "cache_tag", "cpython-399")
    assert Settings().analysis_key != here


def test_sandbox_settings_are_decoded_and_merged_over_the_base() -> None:
    base = settings_from_mapping({"sandbox": {"backend": "local", "timeout": 3}}).settings
    loaded = settings_from_mapping(
        {"sandbox": {"memory": "512m", "network": True, "suite-timeout": 1200}}, base=base
    )
    assert loaded.problems == ()
    assert loaded.settings.sandbox == SandboxSettings(
        backend="local", timeout=3.0, suite_timeout=1200.0, memory=512 * 1024**2, network=True
    )
    assert SandboxSettings().suite_timeout == 600.0


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"sandbox": {"backend": "vm"}}, "tool.ark.sandbox.backend: expected one of auto, docker"),
        ({"sandbox": {"memory": "lots"}}, "tool.ark.sandbox.memory: expected a size"),
        ({"sandbox": {"cpu": 2}}, "tool.ark.sandbox.cpu: unknown setting"),
        ({"sandbox": "docker"}, "tool.ark.sandbox: expected a table"),
        ({"severities": {"ARK001": "fatal"}}, "'ARK001': 'fatal' is not error, warning or info"),
        ({"codeLensThreshold": 0}, "tool.ark.codeLensThreshold: expected a positive integer"),
    ],
)
def test_a_bad_value_is_reported_and_the_default_kept(raw: dict[str, object], problem: str) -> None:
    loaded = settings_from_mapping(raw)
    assert len(loaded.problems) == 1
    assert problem in loaded.problems[0]
    assert loaded.settings == Settings()


@pytest.mark.parametrize(
    ("text", "size"),
    [(1024, 1024), ("256m", 256 * 1024**2), ("1g", 1024**3), ("64MiB", 64 * 1024**2), ("2k", 2048)],
)
def test_sizes_read_like_docker_flags(text: object, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "0", "-1m", "12x", True, 1.5])
def test_nonsense_sizes_are_refused(text: object) -> None:
    with pytest.raises(TypeError):
        parse_size(text)


# -- Every section, every spelling ----------------------------------------------------------

SAMPLES: dict[str, tuple[object, object]] = {
    # setting path -> (value as written, value the settings then hold)
    "exclude": (["legacy/"], ("legacy/",)),
    "respect_gitignore": (False, False),
    "tiers": ({"src/kernel/**": "core"}, (("src/kernel/**", Tier.CORE),)),
    "database": (".ark/other.db", ".ark/other.db"),
    "jobs": (3, 3),
    "max_file_size": (1000, 1000),
    "busy_timeout": (2, 2.0),
    "select": (["ARK0"], ("ARK0",)),
    "ignore": (["ARK020"], ("ARK020",)),
    "per_file_ignores": ({"tests/**": ["ARK001"]}, (("tests/**", ("ARK001",)),)),
    "forbidden_imports": ({"trusted": ["pickle"]}, ((Tier.TRUSTED, ("pickle",)),)),
    "rules": (
        [{"id": "CO001", "kind": "call", "pattern": "pickle.loads", "message": "no"}],
        (user_rule({"id": "CO001", "kind": "call", "pattern": "pickle.loads", "message": "no"}),),
    ),
    "severities": ({"ark020": "info"}, (("ARK020", Severity.INFO),)),
    "code_lens_threshold": (12, 12),
    "workspace_diagnostics": (True, True),
    "types_and_lint_on_save": (False, False),
    "sandbox.backend": ("local", "local"),
    "sandbox.image": ("python:3.12-slim", "python:3.12-slim"),
    "sandbox.python": (".venv/bin/python", ".venv/bin/python"),
    "sandbox.timeout": (3, 3.0),
    "sandbox.suite_timeout": (900, 900.0),
    "sandbox.memory": ("512m", 512 * 1024**2),
    "sandbox.suite_memory": ("2g", 2 * 1024**3),
    "sandbox.cpus": (0.5, 0.5),
    "sandbox.pids": (16, 16),
    "sandbox.network": (True, True),
    "sandbox.pool_size": (0, 0),
    "sandbox.mount_workspace": (True, True),
    "sandbox.weak_isolation": (True, True),
    "gate.checks": (["findings", "tests"], ("findings", "tests")),
    "gate.coverage": (0.9, 0.9),
    "gate.mutation_score": (0, 0.0),
    "gate.complexity_slack": (2, 2),
    "gate.lint_severity": ("error", "error"),
    "gate.mutant_timeout": (5, 5.0),
    "gate.max_mutants": (10, 10),
    "gate.test_selection": ("all", "all"),
}

SPELLINGS: dict[str, Callable[[str], str]] = {
    "kebab": lambda name: name.replace("_", "-"),
    "snake": lambda name: name,
    "camel": lambda name: re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name),
}


def test_every_setting_has_a_sample() -> None:
    assert set(SAMPLES) == {".".join(path) for path in schema_of(Settings).paths()}


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("name", SAMPLES)
def test_every_setting_of_every_section_reads_in_every_spelling(name: str, spelling: str) -> None:
    written, held = SAMPLES[name]
    *sections, leaf = [SPELLINGS[spelling](part) for part in name.split(".")]
    raw: dict[str, object] = {leaf: written}
    for section in reversed(sections):
        raw = {section: raw}

    loaded = settings_from_mapping(raw)

    assert loaded.problems == ()
    value: object = loaded.settings
    for part in name.split("."):
        value = getattr(value, part)
    assert value == held
    assert value != attrgetter(name)(Settings())


@dataclass(frozen=True)
class QualitySettings:
    max_complexity: int = 10


@dataclass(frozen=True)
class Root:
    jobs: int | None = None
    quality: QualitySettings = QualitySettings()


def test_a_section_is_one_dataclass_and_one_field() -> None:
    options = read_options(
        {"quality": {"maxComplexity": 5, "max-complexety": 1}, "qualty": {}}, section=Root
    )
    resolved, problems = resolve(options, Root())

    assert resolved == Root(quality=QualitySettings(max_complexity=5))
    assert problems == ()
    assert options.problems == (
        "tool.ark.quality.max-complexety: unknown setting, ignored (did you mean max-complexity?)",
        "tool.ark.qualty: unknown setting, ignored (did you mean quality?)",
    )


# -- Unknown keys ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "where", "problem"),
    [
        (
            {"sandbox": {"netwrok": True}},
            "tool.ark",
            "tool.ark.sandbox.netwrok: unknown setting, ignored (did you mean network?)",
        ),
        (
            {"max-file-sise": 1},
            "tool.ark",
            "tool.ark.max-file-sise: unknown setting, ignored (did you mean max-file-size?)",
        ),
        (
            {"codeLensTreshold": 3},
            "initializationOptions",
            "initializationOptions.codeLensTreshold: unknown setting, ignored "
            "(did you mean codeLensThreshold?)",
        ),
        (
            {"poolsize": 3},
            "ark (editor settings)",
            "ark (editor settings).poolsize: unknown setting, ignored "
            "(did you mean sandbox.poolSize?)",
        ),
        (
            {"backend": "local"},
            "tool.ark",
            "tool.ark.backend: unknown setting, ignored (did you mean sandbox.backend?)",
        ),
        ({"quality": {"x": 1}}, "tool.ark", "tool.ark.quality: unknown setting, ignored"),
        ({"zzz": 1}, "tool.ark", "tool.ark.zzz: unknown setting, ignored"),
        (
            {"base_rules": []},  # the database's rule pack, not a setting
            "tool.ark",
            "tool.ark.base_rules: unknown setting, ignored (did you mean rules?)",
        ),
    ],
)
def test_an_unknown_key_is_ignored_naming_the_nearest_valid_key(
    raw: dict[str, object], where: str, problem: str
) -> None:
    loaded = settings_from_mapping(raw, where=where)
    assert loaded.problems == (problem,)
    assert loaded.settings == Settings()


# -- Invalid values -------------------------------------------------------------------------

INTERNAL_NAMES = re.compile(r"\b(RuleKind|Severity|Tier|Rule|int|float|str|bool|NoneType|tuple)\b")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"exclude": "build/"}, "tool.ark.exclude: expected a list of strings"),
        ({"exclude": ["a/", 1]}, "tool.ark.exclude: 1: expected a string"),
        ({"respect-gitignore": "yes"}, "tool.ark.respect-gitignore: expected true or false"),
        ({"tiers": ["core"]}, 'tool.ark.tiers: expected a table of glob = "tier"'),
        (
            {"tiers": {"src/": "kernel"}},
            "tool.ark.tiers: 'src/': 'kernel' is not core, trusted, sandbox or testing",
        ),
        ({"database": 1}, "tool.ark.database: expected a string"),
        ({"jobs": "4"}, "tool.ark.jobs: expected a positive integer"),
        ({"max-file-size": 1.5}, "tool.ark.max-file-size: expected a positive integer"),
        ({"busy-timeout": 0}, "tool.ark.busy-timeout: expected a positive number"),
        (
            {"select": ["ark001"]},
            "tool.ark.select: 'ark001': expected a rule id or id prefix such as ARK001 or ARK0",
        ),
        (
            {"per-file-ignores": {"tests/": "ARK001"}},
            "tool.ark.per-file-ignores: 'tests/': expected a list, each a rule id or id prefix",
        ),
        (
            {"forbidden-imports": {"kernel": ["os"]}},
            "tool.ark.forbidden-imports: 'kernel' is not core, trusted, sandbox or testing",
        ),
        ({"rules": {"id": "X1"}}, "tool.ark.rules: expected an array of tables"),
        ({"rules": ["X1"]}, "tool.ark.rules: rule 1: expected a table"),
        (
            {"rules": [{"id": "X1", "kind": "calls", "pattern": "a"}]},
            "tool.ark.rules: rule 1: kind: expected one of call, call-kwarg, import",
        ),
        (
            {"rules": [{"id": "X1", "kind": "call"}]},
            "tool.ark.rules: rule 1: 'pattern' is required",
        ),
        (
            {"rules": [{"id": "X1", "kind": "call", "pattern": "a", "mesage": "m"}]},
            "tool.ark.rules: rule 1: unknown key 'mesage' (did you mean message?)",
        ),
        (
            {"rules": [{"id": "X1", "kind": "call", "pattern": "a", "severity": "high"}]},
            "tool.ark.rules: rule 1: severity: 'high' is not error, warning or info",
        ),
        (
            {"rules": [{"id": "X1", "kind": "call", "pattern": "a", "tiers": ["kernel"]}]},
            "tool.ark.rules: rule 1: tiers: 'kernel': 'kernel' is not core, trusted, sandbox",
        ),
        (
            {"rules": [{"id": "X1", "kind": "call-kwarg", "pattern": "a"}]},
            "tool.ark.rules: rule 1: a call-kwarg rule needs a keyword",
        ),
        ({"severities": {"ARK001": 2}}, "tool.ark.severities: 'ARK001': 2 is not error, warning"),
        (
            {"code-lens-threshold": True},
            "tool.ark.code-lens-threshold: expected a positive integer",
        ),
        ({"sandbox": {"image": 3}}, "tool.ark.sandbox.image: expected a string"),
        ({"sandbox": {"pids": 0}}, "tool.ark.sandbox.pids: expected a positive integer"),
        ({"sandbox": {"pool-size": -1}}, "tool.ark.sandbox.pool-size: expected 0 or a positive"),
        ({"sandbox": {"cpus": "2"}}, "tool.ark.sandbox.cpus: expected a positive number"),
        ({"sandbox": {"network": 1}}, "tool.ark.sandbox.network: expected true or false"),
    ],
)
def test_an_invalid_value_names_its_key_and_what_is_accepted(
    raw: dict[str, object], problem: str
) -> None:
    loaded = settings_from_mapping(raw)
    (said,) = loaded.problems
    assert said.startswith(problem)
    assert said.endswith("; using the default")
    assert not INTERNAL_NAMES.search(said.removeprefix(problem[: problem.index(":")]))
    assert loaded.settings == Settings()


WRONG_TYPES: dict[str, object] = {
    "a table": {"x": 1},
    "an array of tables": [{"x": 1}],
    "a string": "x",
    "a number": 3,
    "a fraction": 2.5,
    "a boolean": True,
}
"""A value of each type TOML and JSON have; each setting takes at most two of them."""

INTERNAL_WORDS = re.compile(
    r"\b(RuleKind|RuleTable|Severity|Tier|Rule|Accepts|Annotated|NoneType|int|float|str|bool|"
    r"dict|tuple|typing|cattrs|class)\b|<|Traceback"
)


def _accepted(hint: object) -> list[list[str]]:
    """What a setting's type says it accepts: its messages use all the words of one entry.

    A table or a list also names what its keys and items accept, for a bad one.
    """
    if get_origin(hint) is UnionType or get_origin(hint) is Union:  # X | None
        (hint,) = [arg for arg in get_args(hint) if arg is not type(None)]
    if get_origin(hint) is Annotated:
        inner = get_args(hint)[0]
        for note in hint.__metadata__:  # type: ignore[attr-defined]
            if isinstance(note, Accepts):
                return [[note.words]]
            if isinstance(note, Table):
                key, value = get_args(get_args(inner)[0])
                return [[note.shape], *_accepted(key), *_accepted(value)]
            if isinstance(note, ArrayOfTables):
                return [[note.shape], [f"{note.where} 1: unknown key 'x'"]]
        hint = inner
    if get_origin(hint) is tuple and get_args(hint)[1:] == (Ellipsis,):
        return _accepted(get_args(hint)[0])
    if isinstance(hint, type) and issubclass(hint, Enum):
        return [[str(member.value) for member in hint]]
    return []


@pytest.mark.parametrize("spelling", ["kebab", "camel"])
@pytest.mark.parametrize("name", SAMPLES)
def test_every_setting_given_a_wrong_type_names_its_key_and_what_it_accepts(
    name: str, spelling: str
) -> None:
    *sections, leaf = [SPELLINGS[spelling](part) for part in name.split(".")]
    key = ".".join(["tool.ark", *sections, leaf])
    accepted = _accepted(schema_of(Settings).type_of(tuple(name.split("."))))
    refused = 0
    for value in WRONG_TYPES.values():
        raw: dict[str, object] = {leaf: value}
        for section in reversed(sections):
            raw = {section: raw}
        problems = settings_from_mapping(raw).problems
        if not problems:
            continue  # the one type the setting takes
        refused += 1
        (said,) = problems
        assert said.startswith(f"{key}: ") and said.endswith("; using the default")
        assert re.search(r"expected |is not |unknown key ", said), said
        assert not INTERNAL_WORDS.search(said.removeprefix(key)), said
        assert not accepted or any(all(w in said for w in words) for words in accepted), said
    assert refused >= len(WRONG_TYPES) - 2


@pytest.mark.parametrize(
    ("raw", "where", "problem"),
    [
        (
            {"maxFileSise": 1},
            "initializationOptions",
            "initializationOptions.maxFileSise: unknown setting, ignored "
            "(did you mean maxFileSize?)",
        ),
        (
            {"sandbx": {}},
            "tool.ark",
            "tool.ark.sandbx: unknown setting, ignored (did you mean sandbox?)",
        ),
        (
            {"sandbox": {"pool-sise": 1}},
            "tool.ark",
            "tool.ark.sandbox.pool-sise: unknown setting, ignored (did you mean pool-size?)",
        ),
        (
            {"gate": {"mutationScor": 1}},
            "initializationOptions",
            "initializationOptions.gate.mutationScor: unknown setting, ignored "
            "(did you mean mutationScore?)",
        ),
        (
            {"gate": {"lint-severty": "error"}},
            "tool.ark",
            "tool.ark.gate.lint-severty: unknown setting, ignored (did you mean lint-severity?)",
        ),
        (
            {"rules": [{"id": "X1", "kind": "call", "pattern": "a", "descripton": "d"}]},
            "tool.ark",
            "tool.ark.rules: rule 1: unknown key 'descripton' (did you mean description?); "
            "using the default",
        ),
    ],
)
def test_a_typo_in_any_section_gets_did_you_mean_in_the_users_spelling(
    raw: dict[str, object], where: str, problem: str
) -> None:
    assert settings_from_mapping(raw, where=where).problems == (problem,)


def test_a_bad_value_keeps_the_lower_layers_value_and_the_rest_of_its_layer() -> None:
    base = settings_from_mapping({"jobs": 2, "sandbox": {"pids": 8}}).settings
    loaded = settings_from_mapping({"jobs": 0, "sandbox": {"pids": 0, "cpus": 2}}, base=base)
    assert len(loaded.problems) == 2
    assert (loaded.settings.jobs, loaded.settings.sandbox.pids) == (2, 8)
    assert loaded.settings.sandbox.cpus == 2.0


# -- Raw options and resolved settings ------------------------------------------------------


def test_raw_options_name_each_key_and_keep_its_value_as_written() -> None:
    options = read_options({"sandbox": {"pool-size": "3", "cpu": 1}, "jobs": 2})
    assert [(option.name, option.key, option.value) for option in options] == [
        ("sandbox.pool_size", "tool.ark.sandbox.pool-size", "3"),
        ("jobs", "tool.ark.jobs", 2),
    ]
    assert options.problems == (
        "tool.ark.sandbox.cpu: unknown setting, ignored (did you mean cpus?)",
    )
    settings, problems = resolve(options, Settings())
    assert problems == (
        "tool.ark.sandbox.pool-size: expected 0 or a positive integer; using the default",
    )
    assert (settings.jobs, settings.sandbox.pool_size) == (2, 2)


def test_loaded_settings_keep_what_each_layer_said(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.ark]\ncode-lens-threshold = 4\n\n[tool.ark.sandbox]\nnetwork = true\n"
    )
    loaded = load_settings(tmp_path, layers=[("initializationOptions", {"codeLensThreshold": 6})])

    workspace, editor = loaded.layers
    assert [option.name for option in workspace] == ["code_lens_threshold", "sandbox.network"]
    assert [option.name for option in editor] == ["code_lens_threshold"]
    assert loaded.settings.code_lens_threshold == 6
    assert loaded.settings.sandbox.network is False  # untrusted: asked for, not applied
    assert loaded.ignored == ("sandbox.network",)


def test_an_untrusted_workspace_still_hears_about_its_misspelt_keys(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ark.sandbox]\nnetwrok = true\n")
    loaded = load_settings(tmp_path)
    assert loaded.problems == (
        "tool.ark.sandbox.netwrok: unknown setting, ignored (did you mean network?)",
    )
    assert loaded.ignored == ()  # a key ARK does not know asks for nothing


WORDED_TIERS = (
    ("pkg/kernel/", Tier.CORE),
    ("/plugins/*/", Tier.SANDBOX),
    ("**/vendor/**", Tier.SANDBOX),
    ("*.gen.py", Tier.SANDBOX),
    ("Mo?ule_b.py", Tier.CORE),
    ("legacy.py  ", Tier.CORE),
)
"""Patterns whose every match holds a literal word of theirs."""
UNWORDED_TIERS = (
    ("Mo?ule_[a-c].py", Tier.CORE),
    ("!pkg/kernel/boot.py", Tier.TRUSTED),
    ("scripts/tool\\ x.py", Tier.CORE),
    ("*", Tier.TESTING),
)
"""Patterns always matched: brackets, a negation, an escape, wildcards alone."""
PATHS = (
    "mod.py",
    "django/db/models/fields/__init__.py",
    "tests/test_x.py",
    "pkg/tests/helpers.py",
    "test/a.py",
    "src/test_b.py",
    "src/b_test.py",
    "conftest.py",
    "pkg/conftest.py",
    "attest.py",
    "contest/x.py",
    "latest/tests.py",
    "Tests/a.py",
    ".ark-generated/a.py",
    "src/.ark-generated/a.py",
    "pkg/kernel/boot.py",
    "pkg/kernel/sub/x.py",
    "plugins/a/b.py",
    "x/plugins/a/b.py",
    "a/vendor/b/c.py",
    "vendor.py",
    "x.gen.py",
    "Module_b.py",
    "Module_d.py",
    "scripts/tool x.py",
    "legacy.py",
)


@pytest.mark.parametrize(
    "user_tiers",
    [(), WORDED_TIERS, WORDED_TIERS + UNWORDED_TIERS],
    ids=["defaults", "worded", "unworded"],
)
def test_tiers_are_the_first_matching_patterns_when_words_rule_some_out(
    user_tiers: tuple[tuple[str, Tier], ...],
) -> None:
    # The settings compile a pattern only for a path holding its literal words; matching
    # every pattern, in order, must give the same tier for every path.
    settings = Settings(tiers=user_tiers)
    ordered = [
        (compile_patterns([pattern]), tier)
        for pattern, tier in (*user_tiers, *DEFAULT_TIER_PATTERNS)
    ]

    for path in PATHS:
        expected = next((tier for spec, tier in ordered if spec.match_file(path)), Tier.TRUSTED)
        assert settings.tier_for(path) is expected, path
