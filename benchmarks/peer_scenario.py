"""The scenario every server meets, the servers taking turns: starts, edits, hovers, memory.

The edits and hover points are ``editor_latency.py``'s (shared, not
copied); every edit and every hover goes to each server in turn, so a change
of load on the machine meets all of them alike.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import progress_to_stderr
from editor_latency import edit_point, hover_points, one_line_edit, percentile
from lsprotocol import types
from peer_servers import ARK, Server
from peer_sessions import (
    FIRST_PUBLISH_TIMEOUT_S,
    Session,
    open_document,
    start,
    stop,
    tree_memory_mb,
)

EDIT_TIMEOUT_S = 30.0
HOVER_TIMEOUT_S = 60.0
INDEX_TIMEOUT_S = 900.0
EDIT_PAUSE_S = 0.06
SETTLE_S = 2.0

progress = progress_to_stderr("peer_latency")


async def time_spawns(
    chosen: Sequence[Server], root: Path, uri: str, text: str, spawns: int
) -> dict[str, dict[str, list[float]]]:
    """Milliseconds from spawn to ``initialize``'s answer and to the first diagnostics.

    ``spawns`` starts per server, the servers' starts interleaved; the two
    lists of a server are of the same starts.

    One untimed start per server comes first: ARK's indexes the workspace
    (and waits until it is done), every server's fills the page cache and
    compiles its bytecode.
    """
    samples: dict[str, dict[str, list[float]]] = {
        server.name: {"initialize": [], "diagnostics": [], "exit": []} for server in chosen
    }
    for round_ in range(spawns + 1):
        if round_:
            progress(f"timed starts, round {round_} of {spawns}")
        for server in chosen:
            session = await start(server, root)
            open_document(session, uri, text)
            at = await session.publish_after(uri, 0, None, FIRST_PUBLISH_TIMEOUT_S)
            if round_ == 0:
                progress(f"{server.name}: started once untimed")
                if server.name == ARK:
                    await session.until_index_ready(INDEX_TIMEOUT_S)
            elif at is None:
                progress(
                    f"{server.name}: no diagnostics {FIRST_PUBLISH_TIMEOUT_S:.0f} s after a start"
                )
            elif session.initialized_at is not None:
                samples[server.name]["initialize"].append(
                    (session.initialized_at - session.started) * 1000
                )
                samples[server.name]["diagnostics"].append((at - session.started) * 1000)
            exited = await stop(session)
            if round_ and exited is not None:
                samples[server.name]["exit"].append(exited)
    return samples


@dataclass
class Edits:
    """What one server did with the edits."""

    latencies_ms: list[float] = field(default_factory=list)
    publishes_on_change: bool = True
    missed: int = 0


async def time_edits(
    sessions: Sequence[Session], uri: str, text: str, edits: int
) -> dict[str, Edits]:
    """Milliseconds from each edit to its diagnostics, the servers taking turns."""
    middle, indent = edit_point(text)
    results = {session.server.name: Edits() for session in sessions}
    for version in range(2, edits + 2):
        change, _ = one_line_edit(middle, indent, version)
        for session in sessions:
            result = results[session.server.name]
            seen = session.seen(uri)
            began = time.perf_counter()
            session.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[change],
                )
            )
            if result.publishes_on_change:
                at = await session.publish_after(uri, seen, version, EDIT_TIMEOUT_S)
                if at is not None:
                    result.latencies_ms.append((at - began) * 1000)
                elif version == 2:
                    result.publishes_on_change = False
                    progress(f"{session.server.name}: no diagnostics published for an edit")
                else:
                    result.missed += 1
            # A user pauses between keystrokes; back-to-back edits would be coalesced.
            await asyncio.sleep(EDIT_PAUSE_S)
    return results


def edited_text(text: str, edits: int) -> str:
    """The document after ``edits`` edits, as every server holds it."""
    if edits == 0:
        return text
    middle, indent = edit_point(text)
    lines = text.splitlines(keepends=True)
    _, line = one_line_edit(middle, indent, edits + 1)
    lines[middle:middle] = [line]
    return "".join(lines)


def hover_positions(text: str, count: int) -> list[types.Position]:
    """``count`` positions, definitions and call sites alternating, spread over the file."""
    definitions, calls = hover_points(text)

    def spread(points: list[types.Position], wanted: int) -> list[types.Position]:
        if wanted >= len(points):
            return points
        return [points[round(i * (len(points) - 1) / max(wanted - 1, 1))] for i in range(wanted)]

    definitions = sorted(definitions, key=lambda p: (p.line, p.character))
    calls = sorted(calls, key=lambda p: (p.line, p.character))
    picked_definitions = spread(definitions, (count + 1) // 2)
    picked_calls = spread(calls, count - len(picked_definitions))
    mixed = []
    for index in range(max(len(picked_definitions), len(picked_calls))):
        mixed += picked_definitions[index : index + 1] + picked_calls[index : index + 1]
    return mixed[:count]


async def time_hovers(
    sessions: Sequence[Session], uri: str, positions: Sequence[types.Position]
) -> dict[str, dict[str, Any]]:
    """Milliseconds per hover, each position asked of every server in turn."""
    results: dict[str, dict[str, Any]] = {
        session.server.name: {"samples": [], "answered": 0, "timeouts": 0} for session in sessions
    }
    for position in positions:
        for session in sessions:
            result = results[session.server.name]
            began = time.perf_counter()
            try:
                answer = await asyncio.wait_for(
                    session.client.text_document_hover_async(
                        types.HoverParams(
                            text_document=types.TextDocumentIdentifier(uri=uri), position=position
                        )
                    ),
                    HOVER_TIMEOUT_S,
                )
            except TimeoutError:
                result["timeouts"] += 1
                continue
            result["samples"].append((time.perf_counter() - began) * 1000)
            result["answered"] += answer is not None
    return results


def _median(samples: Sequence[float]) -> float | None:
    return round(statistics.median(samples), 1) if samples else None


def summary(samples: Sequence[float]) -> dict[str, Any]:
    if not samples:
        return {"p50": None, "p95": None, "count": 0}
    return {
        "p50": round(percentile(samples, 0.50), 2),
        "p95": round(percentile(samples, 0.95), 2),
        "count": len(samples),
    }


async def measure(
    chosen: Sequence[Server], root: Path, file: Path, edits: int, hovers: int, spawns: int
) -> dict[str, Any]:
    text = file.read_text()
    uri = file.as_uri()
    progress(f"spawn to first diagnostics: {spawns} starts of each server, interleaved")
    spawn_ms = await time_spawns(chosen, root, uri, text, spawns)

    progress("starting every server for the edits and hovers")
    sessions = []
    for server in chosen:
        session = await start(server, root)
        open_document(session, uri, text)
        await session.publish_after(uri, 0, None, FIRST_PUBLISH_TIMEOUT_S)
        sessions.append(session)
    await asyncio.sleep(SETTLE_S)  # a user reads the file before typing
    try:
        progress(f"{edits} edits of a {text.count(chr(10)):,}-line file, servers taking turns")
        edit_results = await time_edits(sessions, uri, text, edits)
        memory = {session.server.name: tree_memory_mb(session.pid) for session in sessions}
        positions = hover_positions(edited_text(text, edits), hovers)
        progress(f"{len(positions)} hovers, definitions and call sites alternating")
        hover_results = await time_hovers(sessions, uri, positions)
    finally:
        for session in sessions:
            await stop(session)

    results = {}
    for server in chosen:
        edited, hovered = edit_results[server.name], hover_results[server.name]
        results[server.name] = {
            "version": server.version,
            "spawn_ms": {
                "median": _median(spawn_ms[server.name]["diagnostics"]),
                "initialize_median": _median(spawn_ms[server.name]["initialize"]),
                "exit_median": _median(spawn_ms[server.name]["exit"]),
                "killed": spawns - len(spawn_ms[server.name]["exit"]),
                "samples": [round(sample, 1) for sample in spawn_ms[server.name]["diagnostics"]],
            },
            "edit_ms": {
                **summary(edited.latencies_ms),
                "publishes_on_change": edited.publishes_on_change,
                "missed": edited.missed,
            },
            "hover_ms": {
                **summary(hovered["samples"]),
                "first": round(hovered["samples"][0], 1) if hovered["samples"] else None,
                "answered": hovered["answered"],
                "timeouts": hovered["timeouts"],
            },
            "memory_mb": memory[server.name],
        }
    return {"file_lines": text.count("\n"), "hovers": len(positions), "servers": results}
