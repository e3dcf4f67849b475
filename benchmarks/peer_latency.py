"""ARK's language server against its peers: one editor scenario, one driver, one run.

Every server is started over stdio by the same pygls client with VS Code's
client capabilities (diagnostics pushed, UTF-16 positions), on the same
workspace (django's sdist), the same file (django's
``db/models/fields/__init__.py``, 2,890 lines) and the same edits and hovers
as ``editor_latency.py`` (its scenario code is shared, not copied):

- **spawn to first diagnostics**: from starting the process, through
  ``initialize``, ``initialized`` and ``didOpen``, to the first
  ``publishDiagnostics`` for the file; median of ``--spawns`` starts, each
  server's rounds interleaved with the others', after one untimed start per
  server (ARK's builds its index of the workspace, so the timed starts are
  on a warm workspace, as a user's restart is).
- **edit to diagnostics**: a one-line edit near the middle of the file
  (a line added after a one-line assignment, then retyped), timed until the
  server publishes diagnostics for it; p50 and p95. A server that publishes
  nothing for the first edit is reported as not publishing on change.
- **hover**: definitions and call sites alternating, spread over the file,
  the first hover of the session included; p50 and p95.
- **memory**: the resident set of the server's whole process tree (the
  server and every process it started) after the edits.

The servers run side by side: every edit and every hover goes to each in
turn, so a change of load on the machine meets all of them alike. Every row
gives ARK's figure divided by each peer's: below 1, ARK is faster (or
smaller).

Every server gets its defaults: no settings (``workspace/configuration`` is
answered with nothing) but for ruff's, told to ignore settings files, since
the ones above the corpus are this repository's and exclude it. The client
offers no pull diagnostics, so every server pushes them. The Python servers
run with bytecode caching on (``index_speed.py``'s environment), and the
first, untimed start of each compiles what it imports.

The table also gives the time from spawn to ``initialize``'s answer and from
``shutdown`` to the process's end.

The peers are installed at pinned versions into ``benchmarks/.cache/peers/``
(a venv from PyPI, pyright from npm), never into ARK's environment; the
first run installs them, later runs reuse them.

The code: ``peer_servers.py`` installs the peers and says how to start
each server, ``peer_sessions.py`` drives one started server,
``peer_scenario.py`` runs the scenario on all of them in turn,
``peer_report.py`` prints the table; this script reads the command line.

Run: ``.venv/bin/python benchmarks/peer_latency.py [--edits 50] [--hovers 50]
[--spawns 5] [--quick] [--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from common import load_average, machine, now, print_report
from corpus import CorpusError, django_source
from editor_latency import EDITED_FILE
from peer_report import ROWS, as_table, ratios
from peer_scenario import measure
from peer_servers import PEER_NAMES, QUICK_PEERS, PeerInstallError, servers
from peer_sessions import ServerError

__all__ = ["ROWS", "as_table", "main"]
"""The table's rows and printer, as the benchmark's test reads them from here."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="peer_latency")
    parser.add_argument("--edits", type=int, default=50, help="edits to time")
    parser.add_argument("--hovers", type=int, default=50, help="hovers to time")
    parser.add_argument("--spawns", type=int, default=5, help="timed starts per server")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="ARK and ruff's server only, 5 edits, 6 hovers, 1 timed start",
    )
    parser.add_argument("--corpus", type=Path, help="workspace instead of django's sdist")
    parser.add_argument(
        "--file", help=f"the edited file, relative to the workspace (default {EDITED_FILE})"
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    args = parser.parse_args(argv)
    if args.quick:
        args.edits, args.hovers, args.spawns = min(args.edits, 5), min(args.hovers, 6), 1
    try:
        root = (args.corpus or django_source()).resolve()
    except CorpusError as error:
        print(f"peer_latency: {error}", file=sys.stderr)
        return 1
    file = root / (args.file or EDITED_FILE)
    if not file.is_file():
        print(f"peer_latency: no file {file}", file=sys.stderr)
        return 1
    started_load = load_average()
    when = now()
    with tempfile.TemporaryDirectory(prefix="ark-peer-bench-") as scratch:
        try:
            chosen, notes = servers(
                root, Path(scratch) / "index.db", QUICK_PEERS if args.quick else PEER_NAMES
            )
        except PeerInstallError as error:
            print(f"peer_latency: {error}", file=sys.stderr)
            return 1
        try:
            results = asyncio.run(measure(chosen, root, file, args.edits, args.hovers, args.spawns))
        except ServerError as error:
            print(f"peer_latency: {error}", file=sys.stderr)
            return 1
    data = {
        "date": when,
        "corpus": str(root),
        "file": str(file.relative_to(root)),
        "machine": machine(),
        "load_average": {"start": started_load, "end": load_average()},
        "settings": {"edits": args.edits, "hovers": args.hovers, "spawns": args.spawns},
        "results": results,
        "ratios": ratios(results["servers"]),
        "notes": notes,
    }
    print_report(data, args.json, as_table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
