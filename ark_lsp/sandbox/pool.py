"""A warm pool of started sandbox containers, each used once and replaced in the background."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ark_lsp.sandbox.containers import Box, engine_errors


class WarmPool:
    """Keeps ``size`` containers started, their agents waiting, so a run pays no container start.

    A container taken from the pool is never given back: the caller disposes
    of it after its one run, and the pool starts a replacement on a
    background thread. :meth:`close` waits for those threads and removes
    every container the pool still holds.
    """

    def __init__(self, start_box: Callable[[], Box], size: int) -> None:
        """Start filling the pool in the background."""
        self._start_box = start_box
        self.size = size
        self._ready: deque[Box] = deque()
        self._starting = 0
        self._lock = threading.Lock()
        self._closed = False
        self._starters = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ark-pool-start")
        # Removals have their own thread: close() must finish them, not cancel them.
        self._removers = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ark-pool-remove")
        self.last_error: str | None = None
        """Why the last container could not be started, if it could not."""
        self._fill()

    @property
    def ready(self) -> int:
        """Containers started and waiting."""
        with self._lock:
            return len(self._ready)

    def _fill(self) -> None:
        with self._lock:
            if self._closed:
                return
            wanted = self.size - len(self._ready) - self._starting
            self._starting += max(wanted, 0)
        for _ in range(wanted):
            self._starters.submit(self._add_one)

    def _add_one(self) -> None:
        try:
            box = self._start_box()
        except engine_errors() as error:
            self.last_error = " ".join(str(error).split()) or type(error).__name__
            with self._lock:
                self._starting -= 1
            return
        with self._lock:
            self._starting -= 1
            keep = not self._closed
            if keep:
                self._ready.append(box)
                self.last_error = None
        if not keep:
            box.dispose()

    def take(self) -> Box | None:
        """A ready container, or ``None`` if none is ready; a replacement starts either way."""
        with self._lock:
            box = self._ready.popleft() if self._ready else None
        self._fill()
        return box

    def dispose(self, box: Box) -> None:
        """Remove a used container off the caller's thread (at once after :meth:`close`)."""
        try:
            self._removers.submit(box.dispose)
        except RuntimeError:  # closed: no thread to hand it to
            box.dispose()

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the pool is full; False if it is not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready >= self.size:
                return True
            time.sleep(0.02)
        return self.ready >= self.size

    def close(self) -> None:
        """Stop refilling, finish background work and remove every container still held."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._starters.shutdown(wait=True, cancel_futures=True)
        self._removers.shutdown(wait=True)
        with self._lock:
            left, self._ready = list(self._ready), deque()
        for box in left:
            box.dispose()
