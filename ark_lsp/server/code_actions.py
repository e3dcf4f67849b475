"""``textDocument/codeAction`` and ``codeAction/resolve``, asked of every feature with actions.

LSP has one handler per method; features offer actions through a
:class:`CodeActionProvider` added here, and the kinds the server
advertises are those of its providers. One provider's fault costs the
others nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from lsprotocol import types

if TYPE_CHECKING:
    from ark_lsp.server.core import ArkServer
    from ark_lsp.server.documents import Snapshot

logger = logging.getLogger(__name__)


def wanted(params: types.CodeActionParams, kind: str) -> bool:
    """Whether the client asks for actions of ``kind`` (``only`` names it or a parent kind)."""
    only = params.context.only
    return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)


class CodeActionProvider(Protocol):
    """A feature's code actions."""

    @property
    def kinds(self) -> Sequence[str]:
        """The kinds of action it offers, advertised at ``initialize``."""
        ...

    async def actions(
        self, snapshot: Snapshot, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        """Its actions for the range of a document."""
        ...

    async def resolve(self, action: types.CodeAction) -> types.CodeAction | None:
        """The action with its edit filled in, or None when the action is not its own."""
        ...


class CodeActions:
    """The providers of code actions, asked in the order they were added."""

    def __init__(self, server: ArkServer) -> None:
        self._server = server
        self._providers: list[CodeActionProvider] = []
        # pygls reads the options when it answers ``initialize``: the kinds are filled in
        # as providers are added, which is before then.
        self._kinds: list[str] = []
        self._options = types.CodeActionOptions(
            code_action_kinds=self._kinds, resolve_provider=True
        )

    def add(self, provider: CodeActionProvider) -> None:
        """Ask ``provider`` for actions from now on."""
        self._providers.append(provider)
        self._kinds.extend(kind for kind in provider.kinds if kind not in self._kinds)

    def register(self) -> None:
        """Answer the two requests."""
        server = self._server

        @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, self._options)
        async def code_action(
            ls: ArkServer, params: types.CodeActionParams
        ) -> list[types.CodeAction]:
            snapshot = ls.documents.latest(params.text_document.uri)
            if snapshot is None:
                return []
            actions: list[types.CodeAction] = []
            for provider in self._providers:
                try:
                    actions += await provider.actions(snapshot, params)
                except Exception:  # one feature's fault must not cost the others their actions
                    logger.exception("code action provider %r failed", provider)
            return actions

        @server.feature(types.CODE_ACTION_RESOLVE)
        async def resolve(ls: ArkServer, action: types.CodeAction) -> types.CodeAction:
            for provider in self._providers:
                try:
                    resolved = await provider.resolve(action)
                except Exception:
                    logger.exception("code action provider %r failed to resolve", provider)
                    continue
                if resolved is not None:
                    return resolved
            return action
