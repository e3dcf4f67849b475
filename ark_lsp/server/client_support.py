"""What the client can do, read once from its capabilities at ``initialize``.

LSP capabilities are deep trees of optional fields; each feature asking its
own question of the tree is how a check drifts between features. Here they
become flat booleans, as ruff's server resolves them, and features read those.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types
from pygls.capabilities import ServerCapabilitiesBuilder


@dataclass(frozen=True)
class ClientSupport:
    """The client's support for what ARK may use; all ``False`` until ``initialize``."""

    pull_diagnostics: bool = False
    """The client asks for diagnostics itself (``textDocument/diagnostic``): it gets pull only."""
    diagnostic_refresh: bool = False
    """The client re-pulls diagnostics when asked to (``workspace/diagnostic/refresh``)."""
    code_lens_refresh: bool = False
    """The client redraws code lenses when asked to (``workspace/codeLens/refresh``)."""
    work_done_progress: bool = False
    """The client shows ``$/progress`` the server starts (``window/workDoneProgress/create``)."""
    dynamic_watchers: bool = False
    """The client takes file watchers registered at run time (``didChangeWatchedFiles``)."""
    configuration: bool = False
    """The client answers ``workspace/configuration`` with each folder's settings."""
    creates_files: bool = False
    """A workspace edit may create a file (document changes with the ``create`` operation)."""
    resolves_code_action_edits: bool = False
    """The client asks ``codeAction/resolve`` for an action's edit when it is chosen."""
    shows_disabled_code_actions: bool = False
    """The client shows an action it cannot run, with the reason why."""
    markdown_hover: bool = False
    """The client renders a hover's markdown."""
    position_encoding: str = types.PositionEncodingKind.Utf16.value
    """The encoding positions are counted in, as negotiated at ``initialize``."""

    @classmethod
    def of(cls, capabilities: types.ClientCapabilities) -> ClientSupport:
        """Resolve a client's capabilities."""
        text_document = capabilities.text_document
        workspace = capabilities.workspace
        window = capabilities.window
        code_action = text_document.code_action if text_document else None
        resolve = code_action.resolve_support if code_action else None
        edits = workspace.workspace_edit if workspace else None
        watched = workspace.did_change_watched_files if workspace else None
        hover = text_document.hover if text_document else None
        encoding = ServerCapabilitiesBuilder.choose_position_encoding(capabilities)
        return cls(
            pull_diagnostics=bool(text_document and text_document.diagnostic),
            diagnostic_refresh=bool(
                workspace and workspace.diagnostics and workspace.diagnostics.refresh_support
            ),
            code_lens_refresh=bool(
                workspace and workspace.code_lens and workspace.code_lens.refresh_support
            ),
            work_done_progress=bool(window and window.work_done_progress),
            dynamic_watchers=bool(watched and watched.dynamic_registration),
            configuration=bool(workspace and workspace.configuration),
            creates_files=bool(
                edits
                and edits.document_changes
                and types.ResourceOperationKind.Create in (edits.resource_operations or ())
            ),
            resolves_code_action_edits=bool(resolve and "edit" in resolve.properties),
            shows_disabled_code_actions=bool(code_action and code_action.disabled_support),
            markdown_hover=bool(
                hover and hover.content_format and types.MarkupKind.Markdown in hover.content_format
            ),
            position_encoding=str(getattr(encoding, "value", encoding)),
        )
