"""Code lenses over functions more complex than the configured threshold."""

from __future__ import annotations

from lsprotocol import types

from ark_lsp.models import SymbolKind
from ark_lsp.server.convert import complexity_lens
from ark_lsp.server.core import Feature
from ark_lsp.server.documents import Snapshot


def complexity_lenses(snapshot: Snapshot) -> list[types.CodeLens]:
    """A "complexity 23 (D)" lens above each function over the threshold."""
    threshold = snapshot.settings.code_lens_threshold
    return [
        complexity_lens(snapshot.document, symbol)
        for symbol in snapshot.report.symbols
        if symbol.kind is not SymbolKind.CLASS and symbol.complexity > threshold
    ]


class ComplexityLenses(Feature):
    """Code lenses over functions more complex than the threshold."""

    def settings_changed(self) -> None:
        """The threshold may have changed: the client redraws the lenses where it can."""
        self.server.code_lenses.refresh()

    def register(self) -> None:
        """Offer the lenses."""
        self.server.code_lenses.add(self)

    def lenses(self, snapshot: Snapshot) -> list[types.CodeLens]:
        """The complexity lenses of a document."""
        return complexity_lenses(snapshot)
