"""Quick fixes and fix-all from the fixes the engine put on each diagnostic."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from ark_lsp.analysis import fix_all
from ark_lsp.server.app import ArkServer
from ark_lsp.server.convert import edits_from_payload
from ark_lsp.server.diagnostics import workspace_relative

FIX_ALL = "source.fixAll.ark"


def _wanted(params: types.CodeActionParams, kind: str) -> bool:
    only = params.context.only
    return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)


def quick_fixes(params: types.CodeActionParams) -> list[types.CodeAction]:
    """The engine's fix, then a suppression comment, for each of ARK's diagnostics."""
    actions = []
    for diagnostic in params.context.diagnostics:
        if diagnostic.source != "ark" or not isinstance(diagnostic.data, dict):
            continue
        for key in ("fix", "suppress"):
            payload: dict[str, Any] | None = diagnostic.data.get(key)
            if payload is None:
                continue
            edit = types.WorkspaceEdit(
                changes={params.text_document.uri: edits_from_payload(payload)}
            )
            actions.append(
                types.CodeAction(
                    title=payload["title"],
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    is_preferred=key == "fix" and bool(payload["safe"]),
                    edit=edit,
                )
            )
    return actions


def fix_all_action(server: ArkServer, uri: str) -> types.CodeAction | None:
    """Every safe fix in the document at once, if there is any."""
    document = server.workspace.get_text_document(uri)
    fixed, applied = fix_all(document.source, workspace_relative(server, uri), server.settings)
    if not applied:
        return None
    lines = document.lines
    whole = types.Range(
        start=types.Position(line=0, character=0),
        end=types.Position(line=len(lines), character=0),
    )
    return types.CodeAction(
        title=f"Fix all safely fixable ARK problems ({applied})",
        kind=FIX_ALL,
        edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=whole, new_text=fixed)]}),
    )


def register(server: ArkServer) -> None:
    """Offer code actions for ARK's own diagnostics."""

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
    )
    def code_action(ls: ArkServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        actions = quick_fixes(params) if _wanted(params, types.CodeActionKind.QuickFix) else []
        if _wanted(params, FIX_ALL):
            everything = fix_all_action(ls, params.text_document.uri)
            if everything is not None:
                actions.append(everything)
        return actions
