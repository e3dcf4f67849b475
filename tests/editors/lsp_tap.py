"""Stand in for a Python interpreter, and record what an editor says to ARK.

Usage: ``lsp_tap.py LOG PYTHON ARGS...``. With ``ARGS`` = ``[-P] -m ark_lsp ...``
it runs the real server as a child, copies every LSP message between the
editor and the server unchanged, and appends each to ``LOG`` as one JSON
line (``{"from": "client"|"server", "message": ...}``), after a first line
holding the arguments it was started with and its ``PYTHONPATH``. Any other
``ARGS`` (the editors' ``-c "import ark_lsp"`` probe) run ``PYTHON`` directly.

Tests point an editor's interpreter setting at a shell script that runs this,
so they can assert what reached the server: the settings in ``initialize``,
``workspace/executeCommand`` arguments, ``didChangeConfiguration``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import BinaryIO


def read_message(stream: BinaryIO) -> bytes | None:
    """One LSP frame's body, or ``None`` at end of stream."""
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length is None:
        return None
    return stream.read(length)


def pump(
    source: BinaryIO, sink: BinaryIO, origin: str, log: BinaryIO, lock: threading.Lock
) -> None:
    while (body := read_message(source)) is not None:
        # Log before passing on: whatever the other side has seen is in the log.
        record = {"from": origin, "message": json.loads(body)}
        with lock:
            log.write(json.dumps(record).encode() + b"\n")
            log.flush()
        sink.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        sink.flush()
    sink.close()


def main() -> int:
    log_path, python, *args = sys.argv[1:]
    after_options = args[1:] if args[:1] == ["-P"] else args
    if after_options[:2] != ["-m", "ark_lsp"]:
        os.execv(python, [python, *args])
    lock = threading.Lock()
    with open(log_path, "ab") as log:
        start = {"argv": args, "pythonpath": os.environ.get("PYTHONPATH")}
        log.write(json.dumps(start).encode() + b"\n")
        log.flush()
        server = subprocess.Popen([python, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert server.stdin is not None and server.stdout is not None
        to_server = threading.Thread(
            target=pump, args=(sys.stdin.buffer, server.stdin, "client", log, lock), daemon=True
        )
        to_server.start()
        pump(server.stdout, sys.stdout.buffer, "server", log, lock)
        return server.wait()


if __name__ == "__main__":
    code = main()
    # The client-side thread may still block in a read of stdin; a normal
    # interpreter shutdown would then abort on stdin's lock.
    os._exit(code)
