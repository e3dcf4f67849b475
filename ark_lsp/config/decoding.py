"""Resolved settings from raw options: each value decoded by its annotated type, with cattrs.

One :class:`cattrs.Converter` knows every value type once: strict scalars
(TOML and JSON types, never coerced: ``"5"`` is not a number), enums by
their values, lists, tables of ``key = value`` and arrays of tables, and the
checks of :mod:`ark_lsp.config.values` annotations. Options are decoded one
by one rather than a section at once, so that a bad value costs only that
setting (reported, the lower layer's value kept) and the rest of the layer
still applies.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields, replace
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_args, get_origin

from ark_lsp.config.options import (
    RawOptions,
    nearest_key,
    normalise_key,
    schema_of,
    spelled_like,
)
from ark_lsp.config.values import Accepts, ArrayOfTables, InvalidValue, Table

if TYPE_CHECKING:
    from cattrs import Converter

Section = TypeVar("Section")
_Hook = Callable[[Any, Any], Any]


def resolve(options: RawOptions, base: Section) -> tuple[Section, tuple[str, ...]]:
    """``base`` (a section, :class:`~ark_lsp.config.Settings` as a rule) with ``options`` applied.

    Each value that does not fit its setting's type is a problem, and the
    setting keeps its value in ``base``.
    """
    if not options:
        return base, ()
    converter = settings_converter()
    schema = schema_of(type(base))
    changes: dict[tuple[str, ...], Any] = {}
    problems: list[str] = []
    for option in options:
        try:
            changes[option.path] = converter.structure(option.value, schema.type_of(option.path))
        except InvalidValue as error:
            problems.append(f"{option.key}: {error}; using the default")
    return _applied(base, changes), tuple(problems)


def _applied(section: Section, changes: Mapping[tuple[str, ...], Any]) -> Section:
    own = {path[0]: value for path, value in changes.items() if len(path) == 1}
    nested: dict[str, dict[tuple[str, ...], Any]] = {}
    for path, value in changes.items():
        if len(path) > 1:
            nested.setdefault(path[0], {})[path[1:]] = value
    for name, inner in nested.items():
        own[name] = _applied(getattr(section, name), inner)
    return replace(section, **own) if own else section  # type: ignore[type-var]


def decode_table(converter: Converter, raw: Mapping[str, Any], table: type[Section]) -> Section:
    """A whole table read as the dataclass ``table``, or :class:`InvalidValue` saying why not.

    Unlike a settings section, an entry of an array of tables (a rule) is
    one thing: a misspelt key in it would change what it does, so any
    problem refuses the entry.
    """
    schema = schema_of(table)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = normalise_key(key)
        if name not in schema.settings:
            nearest = nearest_key(name, schema)
            hint = f" (did you mean {spelled_like(nearest, key, kebab=True)}?)" if nearest else ""
            raise InvalidValue(f"unknown key {key!r}{hint}")
        try:
            values[name] = converter.structure(value, schema.settings[name])
        except InvalidValue as error:
            raise InvalidValue(f"{key}: {error}") from None
    for item in fields(table):  # type: ignore[arg-type]
        if item.name not in values and item.default is MISSING:
            raise InvalidValue(f"{item.name!r} is required")
    return table(**values)


@functools.cache
def settings_converter() -> Converter:
    """The converter that decodes every setting's value, by its annotated type."""
    import cattrs  # with attrs, tens of milliseconds: paid only when a layer says something

    converter = cattrs.Converter(detailed_validation=False)
    # Hooks by class go by the MRO: StrEnum comes before str in a Tier's, bool before int.
    converter.register_structure_hook(bool, _boolean)
    converter.register_structure_hook(int, _integer)
    converter.register_structure_hook(float, _number)
    converter.register_structure_hook(str, _string)
    converter.register_structure_hook(enum.Enum, _enum_member)
    converter.register_structure_hook(enum.StrEnum, _enum_member)
    converter.register_structure_hook_factory(_is_list, lambda hint: _list(converter, hint))
    converter.register_structure_hook_factory(
        _annotated_with(Accepts), lambda hint: _accepting(converter, hint)
    )
    converter.register_structure_hook_factory(
        _annotated_with(Table), lambda hint: _table(converter, hint)
    )
    converter.register_structure_hook_factory(
        _annotated_with(ArrayOfTables), lambda hint: _array_of_tables(converter, hint)
    )
    return converter


def _boolean(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue("expected true or false")
    return value


def _integer(value: Any, _: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue("expected an integer")
    return value


def _number(value: Any, _: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue("expected a number")
    return float(value)


def _string(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise InvalidValue("expected a string")
    return value


def _either(choices: list[str]) -> str:
    """``a, b or c``."""
    return choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"


def _is_enum(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, enum.Enum)


def _enum_member(value: Any, family: type[enum.Enum]) -> enum.Enum:
    members = {str(member.value): member for member in family}
    if isinstance(value, str) and value in members:
        return members[value]
    raise InvalidValue(f"{value!r} is not {_either(list(members))}")


def _is_list(hint: Any) -> bool:
    arguments = get_args(hint)
    return get_origin(hint) is tuple and len(arguments) == 2 and arguments[1] is Ellipsis


def _base(hint: Any) -> Any:
    return get_args(hint)[0] if get_origin(hint) is Annotated else hint


def _list(converter: Converter, hint: Any) -> _Hook:
    element = get_args(hint)[0]
    base = _base(element)
    if _annotated_with(Accepts)(element):
        # What each item must be, in the words its own message uses: not just "strings".
        expected = f"expected a list, each {_note(element, Accepts).words}"
    elif base is str:
        expected = "expected a list of strings"
    elif _is_enum(base):
        expected = f"expected a list, each one of {', '.join(str(m.value) for m in base)}"
    else:
        expected = "expected a list"

    def structure(value: Any, _: Any) -> tuple[Any, ...]:
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise InvalidValue(expected)
        items = []
        for item in value:
            try:
                items.append(converter.structure(item, element))
            except InvalidValue as error:
                raise InvalidValue(f"{item!r}: {error}") from None
        return tuple(items)

    return structure


def _annotated_with(kind: type[Any]) -> Callable[[Any], bool]:
    def predicate(hint: Any) -> bool:
        return get_origin(hint) is Annotated and any(
            isinstance(note, kind) for note in hint.__metadata__
        )

    return predicate


def _note(hint: Any, kind: type[Section]) -> Section:
    return next(note for note in hint.__metadata__ if isinstance(note, kind))


def _accepting(converter: Converter, hint: Any) -> _Hook:
    base, accepts = _base(hint), _note(hint, Accepts)

    def structure(value: Any, _: Any) -> Any:
        try:
            decoded = accepts.read(value) if accepts.read else converter.structure(value, base)
            if accepts.check is None or accepts.check(decoded):
                return decoded
        except (TypeError, ValueError):  # InvalidValue, or parse_size's TypeError
            pass
        raise InvalidValue(f"expected {accepts.words}")

    return structure


def _table(converter: Converter, hint: Any) -> _Hook:
    table = _note(hint, Table)
    key_type, value_type = get_args(get_args(_base(hint))[0])

    def structure(value: Any, _: Any) -> tuple[tuple[Any, Any], ...]:
        if not isinstance(value, Mapping):
            raise InvalidValue(f"expected a table of {table.shape}")
        pairs = []
        for key, item in value.items():
            decoded_key = converter.structure(key, key_type)  # its message names the key
            try:
                pairs.append((decoded_key, converter.structure(item, value_type)))
            except InvalidValue as error:
                raise InvalidValue(f"{key!r}: {error}") from None
        return tuple(pairs)

    return structure


def _array_of_tables(converter: Converter, hint: Any) -> _Hook:
    array = _note(hint, ArrayOfTables)

    def structure(value: Any, _: Any) -> tuple[Any, ...]:
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise InvalidValue(f"expected {array.shape}")
        built = []
        for number, entry in enumerate(value, 1):
            try:
                if not isinstance(entry, Mapping):
                    raise InvalidValue("expected a table")
                built.append(decode_table(converter, entry, array.table).build())
            except InvalidValue as error:
                raise InvalidValue(f"{array.where} {number}: {error}") from None
        return tuple(built)

    return structure
