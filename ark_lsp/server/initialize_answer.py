"""The answer to ``initialize``, as pygls writes it, without lsprotocol's ``ServerCapabilities``.

pygls answers ``initialize`` with an ``InitializeResult`` holding a
``ServerCapabilities``: making that class (its fields name the options of
every capability LSP has) makes some 45 of lsprotocol's classes, about a
tenth of what the server's start does before its first diagnostics, for the
dozen fields ARK's answer has. Here pygls's own ``lsp_initialize`` and
``ServerCapabilitiesBuilder`` run unchanged, on a namespace where
``ServerCapabilities()`` is a dict that keeps what the builder sets and
``InitializeResult`` the JSON object it would unstructure to, each
field under its camelCase name and omitted when ``None``, as lsprotocol's
hooks write them. The ``ServerCapabilities`` itself is made from the same
values the first time :attr:`ArkProtocol.server_capabilities` is read (nothing in
ARK reads it). This re-runs pygls's code on other names, so it is used only
with the pygls and lsprotocol it was checked with
(:data:`~ark_lsp.server.lazy_protocol.PINNED`); with any other, pygls answers.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from types import FunctionType
from typing import TYPE_CHECKING, Any

import cattrs
from lsprotocol import types
from pygls import capabilities
from pygls.capabilities import ServerCapabilitiesBuilder
from pygls.protocol import language_server
from pygls.protocol.language_server import LanguageServerProtocol

if TYPE_CHECKING:  # not at run time: it would make InitializeParams, and what it names
    Initialize = Callable[
        [LanguageServerProtocol, types.InitializeParams], Generator[Any, Any, Any]
    ]


def camel_case(name: str) -> str:
    """A field's name in JSON, as lsprotocol's hooks write it."""
    name = name[:-1] if name.endswith("_") else name
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


class AnsweredCapabilities(dict[str, Any]):
    """What the builder set on the server's capabilities, by JSON name; ``None`` is left out."""

    def __init__(self) -> None:
        super().__init__()
        self.__dict__["fields"] = {}

    fields: dict[str, Any]
    """The same, by field name: ``ServerCapabilities(**fields)`` is what pygls would answer."""

    def __setattr__(self, name: str, value: Any) -> None:
        self.fields[name] = value
        if value is None:
            self.pop(camel_case(name), None)
        else:
            self[camel_case(name)] = value


class _AnsweringTypes:
    """``lsprotocol.types``, but for the two classes of the answer."""

    def __init__(self, converter: cattrs.Converter) -> None:
        self._converter = converter

    def ServerCapabilities(self) -> AnsweredCapabilities:
        return AnsweredCapabilities()

    def InitializeResult(
        self, capabilities: AnsweredCapabilities, server_info: Any = None
    ) -> dict[str, Any]:
        answer = {"capabilities": self._converter.unstructure(dict(capabilities))}
        if server_info is not None:
            answer["serverInfo"] = self._converter.unstructure(server_info)
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(types, name)


def answering_as_json(converter: cattrs.Converter) -> Initialize:
    """Pygls's ``lsp_initialize``, answering with JSON (see the module's docstring)."""
    answering = _AnsweringTypes(converter)
    builder_names = {**vars(capabilities), "types": answering}
    methods = {
        name: FunctionType(f.__code__, builder_names, name, f.__defaults__, f.__closure__)
        for name, f in vars(ServerCapabilitiesBuilder).items()
        if isinstance(f, FunctionType)
    }
    builder = type("AnsweringCapabilitiesBuilder", (ServerCapabilitiesBuilder,), methods)
    initialize = LanguageServerProtocol.lsp_initialize
    names = {**vars(language_server), "types": answering, "ServerCapabilitiesBuilder": builder}
    made = FunctionType(initialize.__code__, names, initialize.__name__, initialize.__defaults__)
    return made
