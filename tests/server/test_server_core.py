"""The server core: built from one list of features, importing none of them, containing faults."""

from __future__ import annotations

import ast
import logging
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

import ark_lsp.server
from ark_lsp.server import ArkServer, Feature, create_server
from ark_lsp.server.app import FEATURES

SERVER_PACKAGE = Path(ark_lsp.server.__file__).parent


def _imports_of(module: str) -> set[str]:
    """The ``ark_lsp.server`` modules a server module imports, at run time or for typing."""
    path = SERVER_PACKAGE / f"{module.rsplit('.', 1)[-1]}.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {n for n in names if (SERVER_PACKAGE / f"{n.rsplit('.', 1)[-1]}.py").exists()}
    return {n for n in found if n.startswith("ark_lsp.server.")}


def test_the_core_reaches_no_feature_module() -> None:
    feature_modules = {feature.__module__ for feature in FEATURES}
    reached, todo = set(), ["ark_lsp.server.core"]
    while todo:
        module = todo.pop()
        for imported in _imports_of(module) - reached:
            reached.add(imported)
            todo.append(imported)
    assert not reached & feature_modules, sorted(reached & feature_modules)
    assert "ark_lsp.server.app" not in reached


def test_features_reach_each_other_only_through_the_core() -> None:
    feature_modules = {feature.__module__ for feature in FEATURES}
    for module in feature_modules:
        assert not _imports_of(module) & (feature_modules - {module}), module


def test_create_server_registers_every_feature_once() -> None:
    server = create_server()
    assert [type(f) for f in server.features] == list(FEATURES)
    commands = set(server.protocol.fm.commands)
    assert {
        "ark.reindex",
        "ark.trust",
        "ark.runInSandbox",
        "ark.runTestsInSandbox",
        "ark.generateFunction",
        "ark.generateTests",
        "ark.gate",
    } <= commands
    registered = set(server.protocol.fm.features)
    assert {types.TEXT_DOCUMENT_CODE_ACTION, types.CODE_ACTION_RESOLVE} <= registered


def test_a_new_feature_is_one_class_added_to_the_registry() -> None:
    class Echo(Feature):
        def register(self) -> None:
            @self.server.command("ark.echo")
            async def echo(ls: ArkServer, text: str) -> str:
                return text

    server = ArkServer()
    server.features.add(Echo(server))
    assert "ark.echo" in server.protocol.fm.commands


@pytest.mark.asyncio
async def test_a_failing_feature_hook_costs_the_others_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    heard: list[str] = []

    class Broken(Feature):
        async def initialized(self) -> None:
            raise RuntimeError("broken start")

        def settings_changed(self) -> None:
            raise RuntimeError("broken settings")

        def stop(self) -> None:
            raise RuntimeError("broken stop")

    class Listening(Feature):
        async def initialized(self) -> None:
            heard.append("initialized")

        def settings_changed(self) -> None:
            heard.append("settings")

        def stop(self) -> None:
            heard.append("stop")

    server = ArkServer()
    for feature in (Broken, Listening):
        server.features.add(feature(server))
    with caplog.at_level(logging.ERROR):
        await server.features.initialized()
        server.features.settings_changed()
        server.features.stop()
    assert heard == ["initialized", "settings", "stop"]
    assert sum("Broken" in record.getMessage() for record in caplog.records) == 3


def test_code_action_kinds_are_those_of_the_providers() -> None:
    server = create_server()
    options: Any = server.protocol.fm.feature_options[types.TEXT_DOCUMENT_CODE_ACTION]
    assert set(options.code_action_kinds) == {
        types.CodeActionKind.QuickFix,
        types.CodeActionKind.Refactor,
        "source.fixAll.ark",
    }
    assert options.resolve_provider is True


def test_every_features_options_are_of_the_type_pygls_checks() -> None:
    # ArkServer.feature keeps options without pygls's check (it makes lsprotocol classes at
    # start): the check runs here instead, on what create_server() registers.
    from pygls.lsp import get_method_options_type, is_instance

    server = create_server()
    options = server.protocol.fm.feature_options
    assert {types.TEXT_DOCUMENT_CODE_ACTION, types.TEXT_DOCUMENT_CODE_LENS} <= set(options)
    for method, option in options.items():
        expected = get_method_options_type(method)
        assert expected is not None and isinstance(option, expected), method
        assert is_instance(server.protocol._converter, option, expected), method


def test_a_handler_registers_with_its_options_as_with_pygls() -> None:
    server = ArkServer()

    @server.feature(types.TEXT_DOCUMENT_HOVER, types.HoverOptions(work_done_progress=True))
    def hover(ls: ArkServer, params: types.HoverParams) -> None:
        return None

    manager = server.protocol.fm
    assert manager.features[types.TEXT_DOCUMENT_HOVER].func is hover
    assert manager.feature_options[types.TEXT_DOCUMENT_HOVER] == types.HoverOptions(True)
