"""Rule ids the settings name, held against the rules there are.

``select``, ``ignore``, ``per-file-ignores`` and ``severities`` name rules by
id or id prefix. A typo there selects nothing, ignores nothing or changes
nothing, silently: ``select = ["ARK999"]`` would check no rule at all. Which
ids exist is known only once the database's rule pack is (a workspace's own
rules live there and in ``[[tool.ark.rules]]``), so the check runs when a
:class:`~ark_lsp.project.Project` is loaded. Each id that names no rule is
a problem of the settings, said where it was written with the nearest id
there is, and is left out; settings never stop the tool.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator
from typing import Any

from ark_lsp.config.loading import LoadedSettings
from ark_lsp.config.options import RawOption
from ark_lsp.config.sections import Settings
from ark_lsp.rules import names_a_rule, unknown_rule_id


def _written_ids(option: RawOption) -> Iterator[str]:
    """The rule ids an option names, as written; nothing of a value of the wrong shape."""
    value: Any = option.value
    if option.path in {("select",), ("ignore",)} and isinstance(value, list | tuple):
        yield from (item for item in value if isinstance(item, str))
    elif option.path == ("per_file_ignores",) and isinstance(value, dict):
        for ids in value.values():
            if isinstance(ids, list | tuple):
                yield from (item for item in ids if isinstance(item, str))
    elif option.path == ("severities",) and isinstance(value, dict):
        yield from (key.upper() for key in value if isinstance(key, str))


def without_unknown_rule_ids(loaded: LoadedSettings, known: Collection[str]) -> LoadedSettings:
    """``loaded`` with the rule ids that name none of ``known`` left out, each a problem."""
    settings = loaded.settings
    named = {
        ("select",): settings.select,
        ("ignore",): settings.ignore,
        ("per_file_ignores",): tuple(i for _, ids in settings.per_file_ignores for i in ids),
        ("severities",): tuple(rule_id for rule_id, _ in settings.severities),
    }
    problems: list[str] = []
    for path, ids in named.items():
        for rule_id in dict.fromkeys(ids):
            problem = unknown_rule_id(rule_id, known, exact=path == ("severities",))
            if problem is not None:
                problems.append(f"{_where(loaded, path, rule_id)}: {problem}; ignored")
    if not problems:
        return loaded
    return dataclasses.replace(
        loaded, settings=_known_only(settings, known), problems=(*loaded.problems, *problems)
    )


def _where(loaded: LoadedSettings, path: tuple[str, ...], rule_id: str) -> str:
    """The key of the last layer that wrote ``rule_id`` at ``path``, as the user would find it."""
    for layer in reversed(loaded.layers):
        for option in layer:
            if option.path == path and rule_id in _written_ids(option):
                return option.key
    return path[0].replace("_", "-")


def _known_only(settings: Settings, known: Collection[str]) -> Settings:
    def kept(ids: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(rule_id for rule_id in ids if names_a_rule(rule_id, known))

    per_file = tuple((glob, kept(ids)) for glob, ids in settings.per_file_ignores)
    return dataclasses.replace(
        settings,
        select=kept(settings.select),
        ignore=kept(settings.ignore),
        per_file_ignores=tuple((glob, ids) for glob, ids in per_file if ids),
        severities=tuple(
            (rule_id, severity) for rule_id, severity in settings.severities if rule_id in known
        ),
    )


__all__ = ["without_unknown_rule_ids"]
