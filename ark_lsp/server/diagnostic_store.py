"""Every source's diagnostics of every document, shown to the client as one list.

A source is what found the problem: the analysis (``ark``), the last
sandbox test run (``ark-sandbox``), and whatever comes next (a type checker,
a linter). Each keeps its own diagnostics of each document here; the
client sees their union, pushed with ``textDocument/publishDiagnostics``
or, for a client that pulls, answered to ``textDocument/diagnostic`` (such
a client is only asked to pull again, never pushed to, so no editor shows
a problem twice). A push never shows an older version of a document over
a newer one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from ark_lsp.server.core import ArkServer


@dataclass(frozen=True)
class _Found:
    """One source's diagnostics of a document, and the version of the text they are of."""

    diagnostics: tuple[types.Diagnostic, ...]
    version: int | None


class DiagnosticStore:
    """Diagnostics kept per ``(source, uri)``; publishes or answers their union."""

    def __init__(self, server: ArkServer) -> None:
        self._server = server
        self._found: dict[str, dict[str, _Found]] = {}
        """By URI, then by source."""
        self._published_version: dict[str, int] = {}

    def of(self, uri: str) -> list[types.Diagnostic]:
        """Every source's diagnostics of a document, sources in name order."""
        by_source = self._found.get(uri, {})
        return [d for source in sorted(by_source) for d in by_source[source].diagnostics]

    def answer(
        self, uri: str, source: str, diagnostics: Sequence[types.Diagnostic]
    ) -> list[types.Diagnostic]:
        """A pull's answer: ``source``'s fresh diagnostics with what the other sources keep."""
        by_source = {**self._found.get(uri, {}), source: _Found(tuple(diagnostics), None)}
        return [d for name in sorted(by_source) for d in by_source[name].diagnostics]

    def holds(
        self, source: str, uri: str, diagnostics: Sequence[types.Diagnostic], version: int | None
    ) -> bool:
        """Whether ``source`` keeps (and so shows) exactly these diagnostics of ``version``."""
        kept = self._found.get(uri, {}).get(source)
        return (
            kept is not None and kept.version == version and kept.diagnostics == tuple(diagnostics)
        )

    def sources_of(self, uri: str) -> set[str]:
        """The sources that keep diagnostics of a document."""
        return set(self._found.get(uri, {}))

    def put(
        self,
        source: str,
        uri: str,
        diagnostics: Sequence[types.Diagnostic],
        version: int | None = None,
    ) -> None:
        """Keep a source's diagnostics of a document (of its text at ``version``), and show them.

        Diagnostics of an older version than the source already has are dropped.
        """
        if not self._keep(source, uri, diagnostics, version):
            return
        if self._server.client_support.pull_diagnostics:
            self.refresh_pulls()
        else:
            self._publish(uri)

    def replace(self, source: str, by_uri: Mapping[str, Sequence[types.Diagnostic]]) -> None:
        """Every diagnostic of a source at once: documents it no longer names are cleared."""
        before = {uri for uri, by_source in self._found.items() if source in by_source}
        changed = [
            uri
            for uri in sorted(before | set(by_uri))
            if self._keep(source, uri, by_uri.get(uri, ()), None)
        ]
        if self._server.client_support.pull_diagnostics:
            if changed:
                self.refresh_pulls()
            return
        for uri in changed:
            self._publish(uri)

    def discard(self, source: str, uri: str) -> None:
        """Forget a source's diagnostics of a document without showing anything."""
        by_source = self._found.get(uri)
        if by_source is not None:
            by_source.pop(source, None)
            if not by_source:
                del self._found[uri]

    def closed(self, uri: str, *, still_shown: bool) -> None:
        """The editor closed the document: clear what it shows unless ``still_shown``.

        A closed document has no version: what is kept of it is of no version
        now, and whatever is published next for it is new.
        """
        self._published_version.pop(uri, None)
        by_source = self._found.get(uri, {})
        for source, found in by_source.items():
            by_source[source] = _Found(found.diagnostics, None)
        if still_shown or self._server.client_support.pull_diagnostics:
            return
        self._server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    def refresh_pulls(self) -> None:
        """Ask a pulling client to pull again (where it can be asked)."""
        if self._server.client_support.diagnostic_refresh:
            self._server.workspace_diagnostic_refresh(None)

    def _keep(
        self,
        source: str,
        uri: str,
        diagnostics: Sequence[types.Diagnostic],
        version: int | None,
    ) -> bool:
        by_source = self._found.setdefault(uri, {})
        kept = by_source.get(source)
        if kept is not None and (version or 0) < (kept.version or 0):
            return False
        if diagnostics or version is not None:
            by_source[source] = _Found(tuple(diagnostics), version)
        else:
            by_source.pop(source, None)
        if not by_source:
            del self._found[uri]
        return True

    def _publish(self, uri: str) -> None:
        """Push the document's union, at the newest version any source has seen."""
        versions = [f.version for f in self._found.get(uri, {}).values() if f.version is not None]
        version = max(versions) if versions else None
        if (version or 0) < self._published_version.get(uri, -1):
            return
        self._published_version[uri] = version or 0
        self._server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=self.of(uri))
        )
