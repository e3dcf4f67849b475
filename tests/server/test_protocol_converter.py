"""ARK's converter reads every message as pygls's own does, its capability hooks made on demand.

lsprotocol keys a hook on each of 65 unions of its capabilities, and its
required hooks on unions of the selectors' filters; writing the keys makes
some 90 of its classes. ARK's converter registers each of those hooks only
when cattrs first looks its union up: the hooks found, and what they make of
a message, must be lsprotocol's.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from lsprotocol import types
from pygls.protocol import default_converter
from support.fresh_python import printed_by

from ark_lsp.server.protocol import strict_converter

CLIENTS = sorted(
    entry.name
    for entry in resources.files("pytest_lsp.clients").iterdir()
    if entry.name.endswith(".json")
)
"""Every real editor's capabilities pytest-lsp ships."""


def test_every_union_lsprotocol_keys_a_hook_on_finds_the_same_hook() -> None:
    plain = default_converter()
    ark = strict_converter()
    assert len(plain._union_struct_registry) > 65
    for union, hook in plain._union_struct_registry.items():
        found = ark.get_structure_hook(union)
        assert found.__code__ is hook.__code__, union
        if found.__closure__ is not None:  # lsprotocol's own hooks read its real classes
            assert found.__globals__["lsp_types"] is types


def test_the_required_hooks_on_other_keys_than_unions_are_lsprotocols() -> None:
    plain = default_converter()
    ark = strict_converter()
    for kind in (type(None), types.LSPObject):
        assert ark.get_structure_hook(kind).__code__ is plain.get_structure_hook(kind).__code__


@pytest.mark.parametrize("client", CLIENTS)
def test_an_editors_capabilities_are_read_alike(client: str) -> None:
    text = resources.files("pytest_lsp.clients").joinpath(client).read_text()
    raw: dict[str, Any] = json.loads(text)["capabilities"]
    plain = default_converter().structure(raw, types.ClientCapabilities)
    assert strict_converter().structure(raw, types.ClientCapabilities) == plain


def test_a_servers_capabilities_are_read_alike() -> None:
    raw = {
        "textDocumentSync": {"openClose": True, "change": 2, "save": {"includeText": False}},
        "hoverProvider": True,
        "declarationProvider": {"id": "d", "documentSelector": [{"language": "python"}]},
        "codeActionProvider": {"codeActionKinds": ["quickfix", "source.fixAll.ark"]},
        "workspaceSymbolProvider": {"resolveProvider": False},
        "notebookDocumentSync": {"notebookSelector": [{"notebook": "jupyter-notebook"}]},
        "semanticTokensProvider": {
            "legend": {"tokenTypes": ["class"], "tokenModifiers": []},
            "full": {"delta": True},
        },
    }
    plain = default_converter().structure(raw, types.ServerCapabilities)
    assert strict_converter().structure(raw, types.ServerCapabilities) == plain


MADE_BY_THE_CONVERTER = """
import ark_lsp.cli.launch as launch
launch.starting_the_server = True
from ark_lsp.server import create_server, lazy_protocol
before = set(lazy_protocol.installed.made)
create_server()
print(" ".join(sorted(set(lazy_protocol.installed.made) - before)))
"""


def test_a_new_server_makes_no_capability_class_it_does_not_read() -> None:
    made = printed_by(MADE_BY_THE_CONVERTER).split()
    assert made  # the options of ARK's own features
    unread_classes = (
        "DeclarationRegistrationOptions",
        "InlineCompletionOptions",
        "SemanticTokens",
        # The document and notebook selectors' filters, keys of the required hooks' unions.
        "TextDocumentFilter",
        "NotebookDocumentFilter",
    )
    for unread in unread_classes:
        assert not any(name.startswith(unread) for name in made), made
