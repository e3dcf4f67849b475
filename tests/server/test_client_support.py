"""Client capabilities resolved once into flat booleans."""

from __future__ import annotations

from lsprotocol import types
from pytest_lsp import client_capabilities

from ark_lsp.server.client_support import ClientSupport


def test_nothing_is_assumed_of_a_client_that_says_nothing() -> None:
    support = ClientSupport.of(types.ClientCapabilities())
    assert support == ClientSupport()
    assert not any(v for k, v in vars(support).items() if k != "position_encoding")
    assert support.position_encoding == "utf-16"


def test_vs_code_takes_pushes_and_resolves_code_actions() -> None:
    support = ClientSupport.of(client_capabilities("visual-studio-code"))
    assert not support.pull_diagnostics
    assert support.work_done_progress
    assert support.dynamic_watchers
    assert support.configuration
    assert support.creates_files
    assert support.resolves_code_action_edits
    assert support.markdown_hover
    assert support.code_lens_refresh
    assert support.position_encoding == "utf-16"


def test_neovim_pulls_and_speaks_utf8() -> None:
    support = ClientSupport.of(client_capabilities("neovim"))
    assert support.pull_diagnostics
    assert support.position_encoding == "utf-8"
