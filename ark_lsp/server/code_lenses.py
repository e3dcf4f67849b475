"""``textDocument/codeLens``, asked of every feature with lenses.

LSP has one handler per method; features offer lenses through a
:class:`CodeLensProvider` added here (complexity, untested functions, ...),
listed in the order they were added. One provider's fault costs the others
nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from lsprotocol import types

if TYPE_CHECKING:
    from ark_lsp.server.core import ArkServer
    from ark_lsp.server.documents import Snapshot

logger = logging.getLogger(__name__)


class CodeLensProvider(Protocol):
    """A feature's code lenses."""

    def lenses(self, snapshot: Snapshot) -> list[types.CodeLens]:
        """Its lenses of a document."""
        ...


class CodeLenses:
    """The providers of code lenses, asked in the order they were added."""

    def __init__(self, server: ArkServer) -> None:
        self._server = server
        self._providers: list[CodeLensProvider] = []
        self._held = True
        """Until the start's first diagnostics are out (see ``release``)."""
        self._refresh_held = False

    def add(self, provider: CodeLensProvider) -> None:
        """Ask ``provider`` for lenses from now on."""
        self._providers.append(provider)

    def refresh(self) -> None:
        """What the lenses show may have changed: the client redraws them where it can."""
        if not self._server.client_support.code_lens_refresh:
            return
        if self._held:
            self._refresh_held = True
            return
        self._server.workspace_code_lens_refresh(None)

    def release(self) -> None:
        """The start's first diagnostics are out: a refresh asked for until then is sent now.

        The start's settings ask for one; sent at once, the request would go
        out before the opened documents' first diagnostics.
        """
        self._held = False
        if self._refresh_held:
            self._refresh_held = False
            self.refresh()

    def register(self) -> None:
        """Answer the request."""

        @self._server.feature(
            types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False)
        )
        def code_lens(ls: ArkServer, params: types.CodeLensParams) -> list[types.CodeLens]:
            snapshot = ls.documents.latest(params.text_document.uri)
            if snapshot is None:
                return []
            lenses: list[types.CodeLens] = []
            for provider in self._providers:
                try:
                    lenses += provider.lenses(snapshot)
                except Exception:  # one feature's fault must not cost the others their lenses
                    logger.exception("code lens provider %r failed", provider)
            return lenses
