"""One set of setting names: the server's model, VS Code's package.json, Neovim's defaults.

The server's :class:`~ark_lsp.config.Settings` is the source of truth. The
editors must name the same keys (camelCase, each section's nested: ``sandbox.*``) and
declare the same defaults, checked by decoding their defaults with the
server's own decoder: a default the server would reject or read differently
fails here, not in a user's editor.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest
from harness import HEADLESS, REPO, any_neovim

from ark_lsp.config import Settings, schema_of, settings_from_mapping

PACKAGE_JSON = REPO / "editors" / "vscode" / "package.json"
SETTINGS_TS = REPO / "editors" / "vscode" / "src" / "settings.ts"
NEOVIM = REPO / "editors" / "neovim"

CLIENT_ONLY = {"interpreter", "trace.server"}
"""VS Code settings the extension itself consumes."""


def camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def server_keys() -> set[str]:
    return {".".join(map(camel, path)) for path in schema_of(Settings).paths()}


SECTIONS = {camel(name) for name in schema_of(Settings).sections}
"""The nested sections, whose settings editors name ``section.key``."""


def properties() -> dict[str, dict[str, Any]]:
    configuration = json.loads(PACKAGE_JSON.read_text())["contributes"]["configuration"]
    return {
        key.removeprefix("ark."): value
        for key, value in configuration["properties"].items()
        if key.startswith("ark.")
    }


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return tree


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if key in SECTIONS and not prefix:
            flat.update(flatten(value, f"{key}."))
        else:
            flat[prefix + key] = value
    return flat


def assert_decodes_to_the_server_defaults(defaults: dict[str, Any], where: str) -> None:
    loaded = settings_from_mapping(nest(defaults), where=where)
    assert loaded.problems == ()
    assert loaded.settings == Settings(), f"{where} defaults differ from the server's"


def neovim_defaults() -> dict[str, Any]:
    """``require('ark.config').defaults.settings``, as Neovim encodes it to the server."""
    binary = any_neovim("to read the plugin's defaults with")
    lua = "io.stdout:write(vim.fn.json_encode(require('ark.config').defaults.settings))"
    done = subprocess.run(
        [binary, *HEADLESS, "--cmd", f"set rtp^={NEOVIM}", "-c", f"lua {lua}", "-c", "qall!"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # An empty Lua table encodes as []; the server reads the mapping-valued ones as {}.
    decoded = json.loads(done.stdout)
    return flatten(decoded)


def test_vscode_contributes_exactly_the_servers_settings() -> None:
    assert set(properties()) - CLIENT_ONLY == server_keys()


def test_every_vscode_setting_has_a_scope_and_a_description() -> None:
    for key, schema in properties().items():
        assert schema.get("scope"), f"ark.{key} has no scope"
        assert schema.get("description") or schema.get("markdownDescription"), key


def test_vscode_defaults_are_the_servers_defaults() -> None:
    defaults = {key: schema["default"] for key, schema in properties().items()}
    server_side = {key: value for key, value in defaults.items() if key not in CLIENT_ONLY}
    assert_decodes_to_the_server_defaults(server_side, "package.json")


def ts_string_array(name: str) -> set[str]:
    match = re.search(rf"{name}: readonly string\[\] = \[(.*?)\];", SETTINGS_TS.read_text(), re.S)
    assert match, f"{name} not found in {SETTINGS_TS}"
    return set(re.findall(r"'([^']+)'", match.group(1)))


def test_the_extension_code_agrees_with_its_manifest() -> None:
    manifest = json.loads(PACKAGE_JSON.read_text())
    restricted = manifest["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"]
    restricted_names = {key.removeprefix("ark.") for key in restricted}
    assert ts_string_array("RESTRICTED_SETTINGS") == restricted_names
    assert ts_string_array("CLIENT_ONLY_SETTINGS") == CLIENT_ONLY


def test_vscode_restricts_exactly_the_servers_privileged_settings() -> None:
    from ark_lsp.config import PRIVILEGED_KEYS

    manifest = json.loads(PACKAGE_JSON.read_text())
    restricted = set(manifest["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"])
    privileged = {
        f"ark.{key}"
        for key in properties()
        if re.sub(r"([A-Z])", r"_\1", key).lower().split(".")[0] in PRIVILEGED_KEYS
    }
    assert restricted == privileged | {"ark.interpreter"}


@pytest.fixture(scope="module")
def neovim_settings() -> dict[str, Any]:
    return neovim_defaults()


def test_neovim_defaults_name_the_servers_settings(neovim_settings: dict[str, Any]) -> None:
    assert set(neovim_settings) == server_keys()


def test_neovim_defaults_are_the_servers_defaults(neovim_settings: dict[str, Any]) -> None:
    mappings = {"tiers", "perFileIgnores", "forbiddenImports", "severities"}
    decoded = {
        key: ({} if key in mappings and value == [] else value)
        for key, value in neovim_settings.items()
    }
    assert_decodes_to_the_server_defaults(decoded, "lua/ark/config.lua")
