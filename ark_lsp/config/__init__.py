"""ARK's settings: typed sections, read from every layer by name, decoded by type.

- :mod:`~ark_lsp.config.sections`: the model, one frozen dataclass per
  section (``[tool.ark]`` is :class:`Settings`, ``[tool.ark.sandbox]``
  :class:`SandboxSettings`), and what it derives (tiers, the rules in force).
- :mod:`~ark_lsp.config.values`: what each setting accepts, as annotated types.
- :mod:`~ark_lsp.config.options`: a layer's raw options, keys named by field
  (kebab-case, snake_case, camelCase), unknown keys reported with the nearest.
- :mod:`~ark_lsp.config.decoding`: raw options to resolved settings, with cattrs.
- :mod:`~ark_lsp.config.privileged`: what a workspace may set only when trusted.
- :mod:`~ark_lsp.config.loading`: the layers, user's, workspace's, editor's.
- :mod:`~ark_lsp.config.paths` and :mod:`~ark_lsp.config.patterns`: where ARK
  keeps its things, and gitignore-style patterns matched in linear time
  (imported from there where patterns are compiled: pathspec and RE2 are not
  needed to start).
- :mod:`~ark_lsp.config.database_location`: where the index lives.
- :mod:`~ark_lsp.config.rule_ids`: rule ids the settings name, held against
  the rules there are once the database's rule pack is known.

The analysis imports :mod:`~ark_lsp.config.sections` alone, which reads no
file: the package as a whole reads settings files and the user's trust.
"""

from ark_lsp.config.database_location import (
    DATABASE_ENV,
    DatabaseLocation,
    cached_database_path,
    database_location,
    database_path,
)
from ark_lsp.config.loading import (
    LoadedSettings,
    PyprojectText,
    load_settings,
    settings_from_mapping,
)
from ark_lsp.config.options import RawOption, RawOptions, Schema, read_options, schema_of
from ark_lsp.config.paths import GENERATED_DIR, STATE_DIR, WORKSPACE_TEMPLATES
from ark_lsp.config.privileged import (
    PRIVILEGED_KEYS,
    USER_ONLY_KEYS,
    PrivilegedRequest,
    TrustDecision,
    decide_trust,
    privileged_request,
)
from ark_lsp.config.rule_ids import without_unknown_rule_ids
from ark_lsp.config.sections import (
    DEFAULT_EXCLUDES,
    DEFAULT_TIER_PATTERNS,
    GateSettings,
    SandboxSettings,
    Settings,
)
from ark_lsp.config.values import InvalidValue, parse_size

__all__ = [
    "DATABASE_ENV",
    "DEFAULT_EXCLUDES",
    "DEFAULT_TIER_PATTERNS",
    "GENERATED_DIR",
    "PRIVILEGED_KEYS",
    "STATE_DIR",
    "USER_ONLY_KEYS",
    "WORKSPACE_TEMPLATES",
    "DatabaseLocation",
    "GateSettings",
    "InvalidValue",
    "LoadedSettings",
    "PrivilegedRequest",
    "PyprojectText",
    "RawOption",
    "RawOptions",
    "SandboxSettings",
    "Schema",
    "Settings",
    "TrustDecision",
    "cached_database_path",
    "database_location",
    "database_path",
    "decide_trust",
    "load_settings",
    "parse_size",
    "privileged_request",
    "read_options",
    "schema_of",
    "settings_from_mapping",
    "without_unknown_rule_ids",
]
