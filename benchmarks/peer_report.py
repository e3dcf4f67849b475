"""The table of ``peer_latency.py``: each server's figures, and ARK's over each peer's."""

from __future__ import annotations

from typing import Any

from common import machine_line
from peer_servers import ARK
from peer_sessions import STOP_TIMEOUT_S

ROWS = (
    ("spawn to initialize answered, median", ("spawn_ms", "initialize_median"), "ms"),
    ("spawn to first diagnostics, median", ("spawn_ms", "median"), "ms"),
    ("shutdown to exit, median", ("spawn_ms", "exit_median"), "ms"),
    ("edit to diagnostics, p50", ("edit_ms", "p50"), "ms"),
    ("edit to diagnostics, p95", ("edit_ms", "p95"), "ms"),
    ("hover, p50", ("hover_ms", "p50"), "ms"),
    ("hover, p95", ("hover_ms", "p95"), "ms"),
    ("hover, the first", ("hover_ms", "first"), "ms"),
    ("resident memory, process tree", ("memory_mb", "rss"), "MB"),
)


def _value(result: dict[str, Any], path: tuple[str, str]) -> float | None:
    value = result[path[0]][path[1]]
    return None if value is None else float(value)


def ratios(servers_: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """ARK's figure over each peer's, per row: below 1, ARK is faster or smaller."""
    ark = servers_[ARK]
    table: dict[str, dict[str, float | None]] = {}
    for name, result in servers_.items():
        if name == ARK:
            continue
        table[name] = {}
        for label, path, _ in ROWS:
            mine, theirs = _value(ark, path), _value(result, path)
            # Three significant figures: a peer 200 times slower shows as 0.005, not 0.00.
            table[name][label] = (
                float(f"{mine / theirs:.3g}") if mine is not None and theirs else None
            )
    return table


def as_table(data: dict[str, Any]) -> str:
    m, r = data["machine"], data["results"]
    names = list(r["servers"])
    lines = [
        f"ARK against its peers: {data['file']} ({r['file_lines']:,} lines)",
        machine_line(m),
        f"  {data['date']}, load average {data['load_average']['start']} at the start,"
        f" {data['load_average']['end']} at the end",
        f"  {data['settings']['edits']} edits, {r['hovers']} hovers,"
        f" {data['settings']['spawns']} timed starts per server",
        "",
        "servers: " + ", ".join(f"{name} {r['servers'][name]['version']}" for name in names),
        "each peer's column: its figure (ARK's divided by it; below 1, ARK is faster or smaller)",
        "",
    ]
    width = max(len(label) for label, _, _ in ROWS) + 2
    cells = [["", *names]]
    for label, path, unit in ROWS:
        row = [label]
        ark = _value(r["servers"][ARK], path)
        for name in names:
            value = _value(r["servers"][name], path)
            if value is None:
                row.append("-")
            elif name == ARK:
                row.append(f"{value:.1f} {unit}")
            else:
                ratio = data["ratios"][name][label]
                shown = f"{ratio:.3g}x" if ratio is not None and ark is not None else "-"
                row.append(f"{value:.1f} {unit} ({shown})")
        cells.append(row)
    widths = [width] + [max(len(row[i]) for row in cells) + 2 for i in range(1, len(names) + 1)]
    for row in cells:
        lines.append(
            row[0].ljust(widths[0])
            + "".join(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))
        )
    answered = [f"{name} {r['servers'][name]['hover_ms']['answered']}" for name in names]
    lines += ["", f"hovers answered with content (of {r['hovers']}): {', '.join(answered)}"]
    for name in names:
        result = r["servers"][name]
        if not result["edit_ms"]["publishes_on_change"]:
            lines.append(f"note: {name} publishes no diagnostics on a change")
        if result["edit_ms"]["missed"]:
            lines.append(f"note: {name} published nothing for {result['edit_ms']['missed']} edits")
        if result["spawn_ms"]["killed"]:
            lines.append(
                f"note: {name} did not exit within {STOP_TIMEOUT_S:.0f} s of shutdown"
                f" {result['spawn_ms']['killed']} times, and was killed"
            )
        if result["hover_ms"]["timeouts"]:
            lines.append(f"note: {name}: {result['hover_ms']['timeouts']} hovers timed out")
    lines += [f"note: {note}" for note in data["notes"]]
    return "\n".join(lines).rstrip()
