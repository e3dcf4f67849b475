"""What one layer of settings said: each key named as the model names it, values as written.

A layer (the user's ``config.toml``, a workspace's ``[tool.ark]``, what an
editor sends) writes keys in kebab-case (``max-file-size``, as pyproject
files do), snake_case or camelCase (``maxFileSize``, as editors send them).
Reading a layer names each key by its field and keeps its value untouched:
:class:`RawOptions`, which the trust rules filter and
:mod:`ark_lsp.config.decoding` turns into resolved settings. A key no
section declares is reported, with the nearest valid key when there is one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, get_type_hints

from ark_lsp.config.sections import Settings


@dataclass(frozen=True)
class Schema:
    """The settings and nested sections a section class declares, by field name."""

    section: type[Any]
    settings: Mapping[str, Any]
    """Field name -> annotated type, for each setting."""
    sections: Mapping[str, Schema]
    """Field name -> schema, for each nested section (``sandbox``)."""

    def paths(self) -> Iterator[tuple[str, ...]]:
        """Each setting's path of field names, nested sections' too: ``("sandbox", "pids")``."""
        for name in self.settings:
            yield (name,)
        for name, section in self.sections.items():
            for path in section.paths():
                yield (name, *path)

    def type_of(self, path: tuple[str, ...]) -> Any:
        """The annotated type of the setting at ``path``."""
        schema = self
        for name in path[:-1]:
            schema = schema.sections[name]
        return schema.settings[path[-1]]


_SCHEMAS: dict[type[Any], Schema] = {}


def schema_of(section: type[Any]) -> Schema:
    """The schema of a section dataclass: a field holding a dataclass is a nested section."""
    known = _SCHEMAS.get(section)
    if known is not None:
        return known
    hints = get_type_hints(section, include_extras=True)
    settings: dict[str, Any] = {}
    sections: dict[str, Schema] = {}
    for item in fields(section):
        if not item.metadata.get("setting", True):
            continue
        hint = hints[item.name]
        if isinstance(hint, type) and is_dataclass(hint):
            sections[item.name] = schema_of(hint)
        else:
            settings[item.name] = hint
    _SCHEMAS[section] = Schema(section, settings, sections)
    return _SCHEMAS[section]


def normalise_key(key: str) -> str:
    """A key as its field is named: ``max-file-size`` and ``maxFileSize`` are ``max_file_size``."""
    key = str(key).replace("-", "_")
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m.group(1).lower(), key)


def nearest_key(name: str, schema: Schema) -> str | None:
    """The valid key closest to a normalised unknown ``name``, as a dotted field path."""
    own = [*schema.settings, *schema.sections]
    squashed = name.replace("_", "").lower()
    for candidate in own:
        if candidate.replace("_", "") == squashed:
            return candidate
    import difflib  # only for a key that is wrong, not at every start

    close = difflib.get_close_matches(name, own, n=1, cutoff=0.6)
    if close:
        return close[0]
    for section_name, section in schema.sections.items():  # a key written one table too high
        for candidate in (*section.settings, *section.sections):
            if candidate.replace("_", "") == squashed:
                return f"{section_name}.{candidate}"
    return None


def spelled_like(path: str, written: str, kebab: bool) -> str:
    """A dotted field path spelled as the user spells keys: ``pool-size`` or ``poolSize``.

    ``written`` is one of the user's own keys; when it shows no style,
    ``kebab`` (pyproject files) decides.
    """
    if "-" in written:
        style = "kebab"
    elif any(letter.isupper() for letter in written):
        style = "camel"
    elif "_" in written:
        style = "snake"
    else:
        style = "kebab" if kebab else "camel"

    def spell(name: str) -> str:
        if style == "kebab":
            return name.replace("_", "-")
        if style == "camel":
            head, *rest = name.split("_")
            return head + "".join(word.capitalize() for word in rest)
        return name

    return ".".join(spell(name) for name in path.split("."))


def unknown_key(where: str, key: str, schema: Schema, kebab: bool) -> str:
    """The problem of an unknown ``key`` written at ``where``, naming the nearest valid key."""
    nearest = nearest_key(normalise_key(key), schema)
    hint = f" (did you mean {spelled_like(nearest, key, kebab)}?)" if nearest else ""
    return f"{where}.{key}: unknown setting, ignored{hint}"


@dataclass(frozen=True)
class RawOption:
    """One setting as a layer wrote it."""

    path: tuple[str, ...]
    """The field names leading to it: ``("sandbox", "pool_size")``."""
    key: str
    """Where it was written and its key as written: ``tool.ark.sandbox.poolSize``."""
    value: Any
    """The value as written, not yet checked."""

    @property
    def name(self) -> str:
        """The setting's dotted name, as trust records name it: ``sandbox.pool_size``."""
        return ".".join(self.path)


@dataclass(frozen=True)
class RawOptions:
    """What one layer said: its settings named by field, values as written, in its order."""

    where: str
    """Where the layer comes from: ``tool.ark``, a ``config.toml``, ``initializationOptions``."""
    options: tuple[RawOption, ...] = ()
    problems: tuple[str, ...] = ()
    """Keys no section declares, and sections that are not tables: each ignored."""

    def __iter__(self) -> Iterator[RawOption]:
        return iter(self.options)

    def __bool__(self) -> bool:
        return bool(self.options)

    def keeping(self, keep: Callable[[RawOption], bool]) -> RawOptions:
        """The same layer with only the options ``keep`` accepts."""
        return RawOptions(
            self.where, tuple(option for option in self.options if keep(option)), self.problems
        )


def read_options(
    raw: Mapping[str, Any], where: str = "tool.ark", section: type[Any] = Settings
) -> RawOptions:
    """Name the keys of one layer's table of ``section`` (:class:`Settings` by default).

    ``where`` prefixes every key in messages, as the user would find it.
    """
    kebab = where.startswith("tool.") or where.endswith(".toml")
    options: list[RawOption] = []
    problems: list[str] = []

    def read(table: Mapping[str, Any], schema: Schema, path: tuple[str, ...], at: str) -> None:
        for key, value in table.items():
            name = normalise_key(key)
            if name in schema.sections:
                if isinstance(value, Mapping):
                    read(value, schema.sections[name], (*path, name), f"{at}.{key}")
                else:
                    problems.append(f"{at}.{key}: expected a table; using the defaults")
            elif name in schema.settings:
                options.append(RawOption((*path, name), f"{at}.{key}", value))
            else:
                problems.append(unknown_key(at, key, schema, kebab))

    read(raw, schema_of(section), (), where)
    return RawOptions(where, tuple(options), tuple(problems))
