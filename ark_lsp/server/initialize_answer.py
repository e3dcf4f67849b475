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
hooks write them; so are the options the builder makes itself
(:data:`ANSWERED_AS_JSON`), most of them defaults thrown away. The
``ServerCapabilities`` itself is made from the same values (and so are
those options) the first time :attr:`ArkProtocol.server_capabilities` is
read (nothing in ARK reads it). This re-runs pygls's code on other names, so it is used only
with the pygls and lsprotocol it was checked with
(:data:`~ark_lsp.server.lazy_protocol.PINNED`); with any other, pygls answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from functools import partial
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


ANSWERED_AS_JSON = frozenset(
    {
        "TextDocumentSyncOptions",
        "CompletionOptions",
        "SignatureHelpOptions",
        "InlayHintOptions",
        "DocumentLinkOptions",
        "ExecuteCommandOptions",
        "WorkspaceSymbolOptions",
        "FileOperationOptions",
        "WorkspaceOptions",
        "WorkspaceFoldersServerCapabilities",
    }
)
"""The option classes the builder makes itself (for ARK, as defaults of features it has not),
each of whose fields defaults to ``None``: answered as JSON like the capabilities. Made, they
were 12 of lsprotocol's classes (``WorkspaceOptions`` makes two more), most thrown away."""


class AnsweredObject(dict[str, Any]):
    """What the builder set on an object of lsprotocol's, by JSON name; ``None`` is left out."""

    def __init__(self, kind: str, **fields: Any) -> None:
        super().__init__()
        self.__dict__["kind"] = kind
        self.__dict__["fields"] = {}
        for name, value in fields.items():
            setattr(self, name, value)

    kind: str
    """The name of the lsprotocol class it stands for."""

    fields: dict[str, Any]
    """The same, by field name: ``kind(**fields)`` is what pygls would have made."""

    def __setattr__(self, name: str, value: Any) -> None:
        self.fields[name] = value
        if value is None:
            self.pop(camel_case(name), None)
        else:
            self[camel_case(name)] = value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.fields.get(name)  # every field the stand-ins have defaults to None

    def made(self) -> Any:
        """The lsprotocol object it stands for, made now, with what it holds made too."""
        fields = {
            name: value.made() if isinstance(value, AnsweredObject) else value
            for name, value in self.fields.items()
        }
        return getattr(types, self.kind)(**fields)

    def as_json(self) -> dict[str, Any]:
        """A plain dict, the objects it holds each a plain dict too (the converter's input)."""
        return {
            name: value.as_json() if isinstance(value, AnsweredObject) else value
            for name, value in self.items()
        }


class AnsweredCapabilities(AnsweredObject):
    """What the builder set on the server's capabilities (a ``ServerCapabilities``)."""

    def __init__(self) -> None:
        super().__init__("ServerCapabilities")


class _AnsweringTypes:
    """``lsprotocol.types``, but for the two classes of the answer."""

    def __init__(self, converter: cattrs.Converter) -> None:
        self._converter = converter

    def ServerCapabilities(self) -> AnsweredCapabilities:
        return AnsweredCapabilities()

    def InitializeResult(
        self, capabilities: AnsweredCapabilities, server_info: Any = None
    ) -> dict[str, Any]:
        answer = {"capabilities": self._converter.unstructure(capabilities.as_json())}
        if server_info is not None:
            answer["serverInfo"] = self._converter.unstructure(server_info)
        return answer

    def __getattr__(self, name: str) -> Any:
        if name in ANSWERED_AS_JSON:
            return partial(AnsweredObject, name)
        return getattr(types, name)


class _DumpedWhenLogged:
    """``json`` for pygls's ``lsp_initialize``, whose one use of it is a debug line's argument.

    ``json.dumps`` there ran whatever the log level; this one writes the same
    text only if the line is written.
    """

    def __init__(self, value: Any, **options: Any) -> None:
        self._value = value
        self._options = options

    @classmethod
    def dumps(cls, value: Any, **options: Any) -> _DumpedWhenLogged:
        return cls(value, **options)

    def __str__(self) -> str:
        return json.dumps(self._value, **self._options)


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
    names = {
        **vars(language_server),
        "types": answering,
        "ServerCapabilitiesBuilder": builder,
        "json": _DumpedWhenLogged,
    }
    made = FunctionType(initialize.__code__, names, initialize.__name__, initialize.__defaults__)
    return made
