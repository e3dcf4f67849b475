"""Diagnostics kept per (source, uri): the client sees their union, newest text only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types

from ark_lsp.server.client_support import ClientSupport
from ark_lsp.server.diagnostic_store import DiagnosticStore

URI = "file:///work/app.py"


@dataclass
class RecordingServer:
    """What the store asks of the server, recorded."""

    client_support: ClientSupport = field(default_factory=ClientSupport)
    published: list[types.PublishDiagnosticsParams] = field(default_factory=list)
    refreshes: int = 0

    def text_document_publish_diagnostics(self, params: types.PublishDiagnosticsParams) -> None:
        self.published.append(params)

    def workspace_diagnostic_refresh(self, params: None) -> None:
        self.refreshes += 1


def found(code: str, source: str) -> types.Diagnostic:
    start = types.Position(line=0, character=0)
    return types.Diagnostic(
        range=types.Range(start=start, end=start), message=code, code=code, source=source
    )


def store_of(server: RecordingServer) -> DiagnosticStore:
    return DiagnosticStore(server)  # type: ignore[arg-type]


def shown(server: RecordingServer) -> list[tuple[int | None, list[Any]]]:
    return [(p.version, [d.code for d in p.diagnostics]) for p in server.published]


def test_a_push_shows_every_sources_diagnostics_at_the_newest_version() -> None:
    server = RecordingServer()
    store = store_of(server)
    store.put("ark", URI, [found("ARK001", "ark")], version=2)
    store.put("ark-sandbox", URI, [found("test-failure", "ark-sandbox")])
    store.put("ark-lint", URI, [found("W0612", "ark-lint")])
    assert shown(server) == [
        (2, ["ARK001"]),
        (2, ["ARK001", "test-failure"]),
        (2, ["ARK001", "W0612", "test-failure"]),
    ]


def test_an_older_version_is_never_shown_over_a_newer() -> None:
    server = RecordingServer()
    store = store_of(server)
    store.put("ark", URI, [], version=5)
    store.put("ark", URI, [found("ARK001", "ark")], version=4)
    assert shown(server) == [(5, [])]
    assert store.of(URI) == []


def test_replacing_a_source_clears_the_documents_it_no_longer_names() -> None:
    server = RecordingServer()
    store = store_of(server)
    other = "file:///work/other.py"
    store.replace("ark-sandbox", {URI: [found("test-failure", "ark-sandbox")]})
    store.replace("ark-sandbox", {other: [found("test-failure", "ark-sandbox")]})
    assert [(p.uri, len(p.diagnostics)) for p in server.published] == [
        (URI, 1),
        (URI, 0),
        (other, 1),
    ]


def test_a_pulling_client_is_asked_to_pull_again_and_never_pushed_to() -> None:
    server = RecordingServer(ClientSupport(pull_diagnostics=True, diagnostic_refresh=True))
    store = store_of(server)
    store.replace("ark-sandbox", {URI: [found("test-failure", "ark-sandbox")]})
    store.closed(URI, still_shown=False)
    assert server.published == []
    assert server.refreshes == 1
    answer = store.answer(URI, "ark", [found("ARK002", "ark")])
    assert [d.code for d in answer] == ["ARK002", "test-failure"]


def test_closing_clears_what_is_shown_unless_it_stays_shown() -> None:
    server = RecordingServer()
    store = store_of(server)
    store.put("ark", URI, [found("ARK001", "ark")], version=3)
    store.closed(URI, still_shown=True)
    assert shown(server) == [(3, ["ARK001"])]
    store.closed(URI, still_shown=False)
    assert shown(server)[-1] == (None, [])
    # A closed document has no version: what comes next for it is shown.
    store.put("ark", URI, [found("ARK004", "ark")])
    assert shown(server)[-1] == (None, ["ARK004"])
