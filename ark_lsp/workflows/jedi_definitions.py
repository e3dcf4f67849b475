"""jedi's answer to "where is this defined?", off the request path and within a budget.

jedi infers what the index cannot (a local variable's type, a call into a
library), but it costs 10 to 20 ms a question, 0.3 to 1.2 s to start and
some 40 MB. So it starts only when a first question needs it, in one
thread of its own, and a question waits at most :data:`JEDI_BUDGET_S` for
it, and only when jedi is idle and its latest answers came within that
budget: what comes later is kept for the next question about the same
place (the first one is answered without jedi while it starts). Only that
thread imports jedi, so that no request can block on jedi's import either.

jedi infers in a subprocess of the interpreter it introspects. When that
is the server's own (no virtual environment of the workspace's is active,
:func:`workspace_interpreter`), it infers in the server's process instead
(``jedi.InterpreterEnvironment``): the same answers, without a second
Python resident beside the server.
"""

from __future__ import annotations

import _imp
import functools
import gc
import logging
import os
import queue
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ark_lsp.workflows.background import Quiet, requests_first

if TYPE_CHECKING:
    import jedi

logger = logging.getLogger(__name__)

JEDI_BUDGET_S = 0.010
"""How long a question waits for jedi before it is answered without it."""

CACHED_ANSWERS = 512
"""Answers kept for a later question about the same place."""

MAX_PENDING = 4
"""Questions queued for jedi at most; past that a question is answered without asking it."""

RECENT_ANSWERS = 8
"""How many of jedi's latest answer times predict the next one's."""

_WARM_UP_SOURCE = "import os.path\n\nos.path.join('a', 'b')\n"


@functools.cache
def _import_jedi() -> bool:
    """Import jedi and what its first answer imports; False (said in the log once) if it fails.

    Done before the jedi thread takes the import lock (:meth:`JediDefinitions._imports_held`),
    never under it: an import under the lock of a module another thread is importing
    meanwhile (``pickle``, which parso imports, by a feature's deferred import) waits
    for that thread, which waits for the lock, and neither goes on.
    """
    try:
        import jedi  # the only import of jedi on the server's path: this thread's
        import jedi.inference.finder  # noqa: F401  (imported by jedi's first goto)
    except Exception:
        logger.warning("jedi did not start; hovers answer from the index", exc_info=True)
        return False
    return True


def workspace_interpreter() -> Path | None:
    """The environment jedi must introspect in a subprocess; None when it is the server's own.

    jedi, given no environment, takes the active virtual or conda
    environment (``VIRTUAL_ENV``, ``CONDA_PREFIX``), else the interpreter it
    runs in. Only an environment other than the server's needs jedi's
    subprocess: jedi cannot load its compiled modules into this process.
    """
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        active = os.environ.get(variable)
        if active and os.path.realpath(active) != os.path.realpath(sys.prefix):
            return Path(active)
    return None


@dataclass(frozen=True, slots=True)
class JediQuestion:
    """Where is the name at a place of a text defined? Lines 1-based, columns 0-based."""

    source: str
    path: Path | None
    root: Path | None
    """The workspace folder, for jedi's project (its sys.path); None outside every folder."""
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class JediPlace:
    """A function or class jedi found the name defined as."""

    module_path: Path | None
    line: int
    name: str


@dataclass(frozen=True, slots=True)
class _WarmUp:
    roots: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class _Ask:
    key: Hashable
    question: JediQuestion
    future: Future[tuple[JediPlace, ...]]
    waited: bool
    """Whether the request that asked waits for the answer (jedi was idle)."""


_Job = _WarmUp | _Ask


class JediDefinitions:
    """One jedi thread, its answers cached; safe to call from any thread."""

    def __init__(
        self,
        budget_s: float = JEDI_BUDGET_S,
        *,
        in_process: bool | None = None,
        typing_pause: Callable[[], float] | None = None,
        quiet: Quiet | None = None,
    ) -> None:
        """Answer within ``budget_s``; infer in this process if ``in_process``.

        By default jedi infers in this process when the workspace has no
        environment of its own (:func:`workspace_interpreter`).
        ``typing_pause`` tells when (``time.monotonic``) the user's typing
        will have paused: jedi's background work waits for it too, and for
        requests to pause (``quiet``, shared with other background work).
        """
        self.budget_s = budget_s
        self.quiet = quiet or Quiet(typing_pause)
        self.in_process = workspace_interpreter() is None if in_process is None else in_process
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._answers: OrderedDict[Hashable, tuple[JediPlace, ...]] = OrderedDict()
        self._pending: dict[Hashable, Future[tuple[JediPlace, ...]]] = {}
        self._thread: threading.Thread | None = None
        self._busy = True
        """Whether the thread is at work (it starts out to import jedi, which is work)."""
        self._recent: deque[float] = deque(maxlen=RECENT_ANSWERS)
        """How long jedi's latest answers took, in seconds."""
        self._projects: dict[Path, jedi.Project] = {}  # touched by the jedi thread only
        self._environment: jedi.api.environment.InterpreterEnvironment | None = None
        """The in-process environment, once made (jedi thread only)."""

    @property
    def started(self) -> bool:
        """Whether jedi's thread was started (by the first question it was asked)."""
        with self._lock:
            return self._thread is not None

    def request_began(self) -> None:
        """Say that a request began: jedi's background work waits until requests pause."""
        self.quiet.request_began()

    def definitions(
        self, key: Hashable, question: JediQuestion, *, budget_s: float | None = None
    ) -> tuple[JediPlace, ...] | None:
        """The answer jedi gave within the budget, or earlier; None if it has none yet.

        ``key`` names the place (document, version, position): a later call
        with the same key gets the answer that came after the budget.
        ``budget_s`` is what is left of the caller's own budget (a hover's,
        after the index had its turn), when less than :attr:`budget_s`.
        """
        wait = self.budget_s if budget_s is None else max(0.0, min(self.budget_s, budget_s))
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
            # Busy with another question (or starting), or slower than the budget of late:
            # this one would not be answered in time, so it is queued and not waited for.
            in_time = not self._recent or _median_of(self._recent) <= self.budget_s
            idle = not self._busy and not self._pending and in_time
            future = self._pending.get(key)
            asked = None
            if future is None:
                if len(self._pending) >= MAX_PENDING:
                    return None
                future = Future()
                self._pending[key] = future
                # Not waited for (no budget left): background work, after requests pause.
                asked = _Ask(key, question, future, waited=idle and wait > 0)
        # The first question jedi is asked starts it (warmed, then answering): the
        # session's first hovers need none of it, and on two cores its start delays them.
        self._start(() if question.root is None else (question.root,))
        if asked is not None:
            self._jobs.put(asked)
        if not idle or wait <= 0:
            return None
        try:
            return future.result(timeout=wait)
        except FutureTimeout:
            return None

    def close(self) -> None:
        """Let the thread end after the job it is doing (it is a daemon: exit never waits)."""
        self._jobs.put(None)

    def _start(self, roots: Sequence[Path]) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._serve, name="ark-jedi", daemon=True)
            self._jobs.put(_WarmUp(tuple(roots)))  # first in the queue: before any question
            self._thread.start()

    def _serve(self) -> None:
        while True:
            with self._lock:
                self._busy = False
            job = self._jobs.get()
            with self._lock:
                self._busy = True
            if job is None:
                return
            if isinstance(job, _WarmUp):
                self.quiet.wait()
                if _import_jedi():
                    with requests_first(), self._imports_held():
                        self._warm(job.roots)
                continue
            if not job.waited:
                self.quiet.wait()
            key, question, future = job.key, job.question, job.future
            began = time.perf_counter()
            try:
                answer: tuple[JediPlace, ...] = ()
                if _import_jedi():
                    with requests_first(), self._imports_held():
                        answer = self._goto(question)
            except Exception:  # jedi's inference fails on some half-typed code: no answer
                logger.debug("jedi could not resolve %s", question.path, exc_info=True)
                answer = ()
            with self._lock:
                self._recent.append(time.perf_counter() - began)
                self._answers[key] = answer
                while len(self._answers) > CACHED_ANSWERS:
                    self._answers.popitem(last=False)
                self._pending.pop(key, None)
            future.set_result(answer)

    @contextmanager
    def _imports_held(self) -> Iterator[None]:
        """Hold the interpreter's import lock while jedi works in this process.

        To find a module jedi swaps ``sys.path`` for its project's (the
        workspace first) and back: an import in another thread meanwhile
        would search the workspace, and could load a file of it into the
        server. Imports of modules not yet loaded wait instead; loaded ones,
        all a request needs by then, do not take the lock.
        """
        if not self.in_process:
            yield
            return
        _imp.acquire_lock()
        try:
            yield
        finally:
            _imp.release_lock()

    def _warm(self, roots: Sequence[Path]) -> None:
        try:
            import jedi  # imported by _import_jedi

            for root in roots:
                self._project(root)
            project = self._project(roots[0]) if roots else None
            script = jedi.Script(_WARM_UP_SOURCE, project=project, environment=self._in_process())
            script.goto(3, 9, follow_imports=True)
            # What jedi loaded lives as long as the server, like what start-up loaded: keep
            # the cyclic collector from walking it on every full pass (as start-up does).
            gc.freeze()
        except Exception:
            logger.warning("jedi did not start; hovers answer from the index", exc_info=True)

    def _goto(self, question: JediQuestion) -> tuple[JediPlace, ...]:
        import jedi

        project = self._project(question.root) if question.root is not None else None
        script = jedi.Script(
            question.source, path=question.path, project=project, environment=self._in_process()
        )
        return tuple(
            JediPlace(found.module_path, found.line, found.name)
            for found in script.goto(question.line, question.column, follow_imports=True)
            if found.type in ("function", "class") and found.line is not None
        )

    def _in_process(self) -> jedi.api.environment.InterpreterEnvironment | None:
        """The in-process environment when jedi is to infer here; None: its subprocess."""
        if self.in_process and self._environment is None:
            from jedi.api.environment import InterpreterEnvironment

            self._environment = InterpreterEnvironment()
        return self._environment

    def _project(self, root: Path) -> jedi.Project:
        import jedi

        if root not in self._projects:
            self._projects[root] = jedi.Project(path=root)
        return self._projects[root]


def _median_of(seconds: deque[float]) -> float:
    """The median; ``statistics`` is imported here, from the second question on, not at start."""
    import statistics

    return statistics.median(seconds)
