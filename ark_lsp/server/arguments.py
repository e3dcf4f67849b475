"""The shapes of ``workspace/executeCommand`` arguments, structured by pygls from annotations.

A command handler annotates each argument with one of these types and
pygls structures it with the server's converter, so every command accepts
the same shapes with the same tolerance, and anything else is answered
with -32602 (see :meth:`ArkProtocol.lsp_workspace__execute_command`):

- a document URI: a string (``DocumentUri``);
- a place in a document: ``{"uri": ..., "position": {"line": ..., "character": ...}}``
  (:class:`DocumentPosition`, the position in the client's encoding).

An argument typed ``X | None`` with the default ``None`` may be left out.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

import attrs
import cattrs
from lsprotocol import types

DocumentUri = str
"""A document or folder URI, as a plain string argument."""


@attrs.frozen
class DocumentPosition:
    """A place in a document: where the cursor was when the command was called."""

    uri: str
    position: types.Position


DocumentTarget = DocumentUri | DocumentPosition
"""A whole document (its URI) or a place in one."""

_SHAPES: dict[object, str] = {
    DocumentUri: "a document URI",
    DocumentPosition: '{"uri": ..., "position": {"line": ..., "character": ...}}',
}


def register_argument_hooks(converter: cattrs.Converter) -> None:
    """Teach a converter the argument shapes that need more than attrs gives."""

    def structure_target(value: object, _: object) -> DocumentUri | DocumentPosition:
        if isinstance(value, str):
            return value
        return converter.structure(value, DocumentPosition)

    converter.register_structure_hook_func(lambda kind: kind == DocumentTarget, structure_target)


def _describe(kind: object) -> str:
    if kind in _SHAPES:
        return _SHAPES[kind]
    members = typing.get_args(kind)
    if members:
        shown = [_describe(member) for member in members if member is not type(None)]
        optional = type(None) in members
        return ("optionally " if optional else "") + " or ".join(shown)
    return getattr(kind, "__name__", str(kind))


def argument_parameters(handler: Callable[..., Any]) -> list[inspect.Parameter]:
    """A command handler's argument parameters: its own, without the server it is given."""
    function = getattr(handler, "func", handler)
    parameters = list(inspect.signature(function).parameters.values())
    return parameters[1:] if parameters and parameters[0].name == "ls" else parameters


def expected_arguments(handler: Callable[..., Any]) -> str:
    """What a command takes, in words, for the message that refuses other arguments."""
    function = getattr(handler, "func", handler)
    hints = typing.get_type_hints(function)
    shown = [_describe(hints.get(p.name, Any)) for p in argument_parameters(handler)]
    return "[" + ", ".join(shown) + "]" if shown else "no arguments"


def with_defaults(handler: Callable[..., Any], arguments: list[Any]) -> list[Any]:
    """The arguments, with ``None`` for each trailing one left out that defaults to ``None``.

    pygls 2.1.1 structures one value per parameter and has no notion of a
    default; a client that leaves an optional argument out sends fewer.
    """
    parameters = argument_parameters(handler)
    filled = list(arguments)
    for parameter in parameters[len(filled) :]:
        if parameter.default is not None or parameter.kind is parameter.VAR_POSITIONAL:
            break
        filled.append(None)
    return filled
