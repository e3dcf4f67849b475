"""Keeping the cyclic garbage collector out of an analysis.

Parsing allocates tens of thousands of tree nodes, each of which counts
towards CPython's next collection; with a large heap alive (an index's
reports, a language server's state) the collections an analysis triggers
cost more than the analysis itself, and a full one lands on a keystroke now
and then. An analysis makes no reference cycles (a test holds it to that):
everything it allocates is freed by reference counting as it returns, so
the collector has nothing to find in it and is paused while it runs, as
mypy pauses it while it parses.

The pause is process-wide, so it is counted: the collector resumes when the
last analysis running in any thread ends, and only if it ran before the first
began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_running = 0
_resume = False


@contextmanager
def collection_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector paused."""
    global _running, _resume
    with _lock:
        if not _running:
            _resume = gc.isenabled()
            gc.disable()
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if not _running and _resume:
                gc.enable()
