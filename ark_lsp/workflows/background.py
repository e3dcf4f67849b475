"""Work in a thread of the server's own process that must not slow the requests down.

A thread busy in pure Python (jedi's inference, analysing a library file)
holds the interpreter's lock for up to the switch interval (5 ms by default)
each time a request's thread wants it back, and a hover wants it back many
times. While such work runs the interval is shortened, so that a request
waits a fraction of a millisecond per hand-over instead; it is restored as
soon as no such work runs.

A call into C holds the lock for all of its length whatever the interval
(``ast.parse`` of ``typing.py``: some 20 ms), so such work also waits,
before each piece, until requests and typing pause (:class:`Quiet`): begun
as a request ends, it would hold back that request's own answer.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

BACKGROUND_SWITCH_INTERVAL_S = 0.0005
"""The interpreter's switch interval while background work runs."""

QUIET_S = 0.05
"""How long no request came before background work goes on.

In a burst of requests (hovers swept across a file) such work would slow
each of them down for answers only later requests read."""

LONGEST_QUIET_WAIT_S = 30.0
"""How long background work waits at most for requests and typing to pause.

Bounded, so that endless typing or requests that keep coming (each a little
sooner than the thread wakes on a loaded machine) do not keep it from ever
being done."""

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


class Quiet:
    """When requests and the user's typing pause; safe to use from any thread."""

    def __init__(self, typing_pause: Callable[[], float] | None = None) -> None:
        """``typing_pause`` tells when (``time.monotonic``) the user's typing will have paused."""
        self._typing_pause = typing_pause
        self._last_request = 0.0

    def request_began(self) -> None:
        """Say that a request began: background work waits until requests pause."""
        self._last_request = time.monotonic()

    def wait(self) -> None:
        """Return once no request came for :data:`QUIET_S` and typing paused (within a bound)."""
        give_up_at = time.monotonic() + LONGEST_QUIET_WAIT_S
        while (now := time.monotonic()) < give_up_at:
            quiet_at = self._last_request + QUIET_S
            if self._typing_pause is not None:
                quiet_at = max(quiet_at, self._typing_pause())
            if now >= quiet_at:
                return
            time.sleep(min(quiet_at, give_up_at) - now)
