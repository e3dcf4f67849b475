"""Work in a thread of the server's own process that must not slow the requests down.

A thread busy in pure Python (jedi's inference, analysing a library file)
holds the interpreter's lock for up to the switch interval (5 ms by default)
each time a request's thread wants it back, and a hover wants it back many
times. While such work runs the interval is shortened, so that a request
waits a fraction of a millisecond per hand-over instead; it is restored as
soon as no such work runs.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BACKGROUND_SWITCH_INTERVAL_S = 0.0005
"""The interpreter's switch interval while background work runs."""

_lock = threading.Lock()
_working = 0
_saved = sys.getswitchinterval()


@contextmanager
def requests_first() -> Iterator[None]:
    """Run the block with a short switch interval, restored when no such block runs."""
    global _working, _saved
    with _lock:
        if _working == 0:
            _saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_saved, BACKGROUND_SWITCH_INTERVAL_S))
        _working += 1
    try:
        yield
    finally:
        with _lock:
            _working -= 1
            if _working == 0:
                sys.setswitchinterval(_saved)
