"""Running a static tool (mypy, pylint) over a tree without running any of the tree's code.

Both tools can be made to execute a repository's code: mypy loads the
plugins its configuration names, pylint runs ``init-hook``, loads
``load-plugins`` and may import C extensions, and either, started from the
repository's folder, finds the repository's configuration by itself. The
gate runs them so that none of that can happen:

- in a process of its own, so that a crash, a hang or a leak stays there,
  with a timeout (and the caller's cancel) that kills its whole process
  group, a cap on its heap, and, for the editor's runs in the background,
  only the CPU time nothing else wants;
- with ``python -I`` (no ``PYTHON*`` variables, no user site, no current
  folder on ``sys.path``) and :mod:`~ark_lsp.gate.import_guard` in front,
  which keeps every module of the tree out of the import system (and puts
  back the ``PYTHONPATH`` folders ARK itself was found in);
- with a configuration file ARK writes (the callers pass it), so the tree's
  own ``pyproject.toml``, ``setup.cfg``, ``mypy.ini`` or ``.pylintrc`` are
  never read, and a small environment of ARK's making;
- with file arguments that cannot read as options (``./--init-hook=...py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from ark_lsp.gate import import_guard
from ark_lsp.gate.model import CheckResult, CheckStatus, Finding
from ark_lsp.models import CancelCheck

TOOL_TIMEOUT = 300.0
"""Seconds one run of a tool may take (mypy's first run on a large project is the slow one)."""

TOOL_MEMORY = 4 << 30
"""Bytes of heap one run of a tool may take (mypy on django's largest import cycle: 0.2 GiB)."""

_CANCEL_POLL = 0.1
"""Seconds between two looks at the caller's cancel while a tool runs."""

_GUARD_SOURCE = Path(import_guard.__file__).read_text(encoding="utf-8")


_T = TypeVar("_T")


class ToolNotRun(Exception):
    """A tool could not judge: not installed, crashed, timed out; the message says why."""


class ToolMissing(ToolNotRun):
    """The tool is not there to run: its interpreter cannot start, or lacks its module."""


@dataclass(frozen=True)
class ToolOutput:
    """What a tool run printed, and how it ended."""

    returncode: int
    stdout: str
    stderr: str

    def stderr_tail(self, lines: int = 1) -> str:
        """The last meaningful lines the tool wrote to its standard error, on one line."""
        meaningful = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        return " ".join(meaningful[-lines:])


def run_tool(
    python: str,
    module: str,
    arguments: Sequence[str],
    files: Sequence[str],
    *,
    tree: Path,
    environment: Mapping[str, str],
    timeout: float,
    memory: int = TOOL_MEMORY,
    background: bool = False,
    cancel: CancelCheck | None = None,
    searched_first: Sequence[Path] = (),
) -> ToolOutput:
    """Run ``python -m module arguments files`` in ``tree``, the tree's code out of reach.

    ``files`` are relative to ``tree``; ``searched_first`` are folders of
    the tree put first on the tool's ``sys.path``, where a tool that reads
    modules as text (astroid) finds the tree's own packages before an
    installed copy of them; Python's imports still skip them. The tool's heap is capped at
    ``memory`` bytes; ``background`` runs it only on CPU time nothing
    else wants (Linux's ``SCHED_IDLE``). Raises :class:`ToolNotRun` when
    the interpreter cannot start or the module is not installed (both
    :class:`ToolMissing`), the run takes longer than ``timeout`` seconds, or
    ``cancel`` says to stop (the tool is killed then).
    """
    where = {
        "hide": [str(tree)],
        "first": [str(folder) for folder in searched_first],
        "path": _inherited_path() if python == sys.executable else [],
        "memory": memory,
        "background": background,
    }
    command = [
        python, "-I", "-c", _GUARD_SOURCE, json.dumps(where), module,
        *arguments, *(f"./{name}" for name in files),
    ]  # fmt: skip
    try:
        process = subprocess.Popen(
            command,
            cwd=tree,
            env=_environment(environment),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as error:
        raise ToolMissing(f"cannot start {python}: {error.strerror or error}") from None
    stdout, stderr = _wait(process, module, timeout, cancel)
    output = ToolOutput(
        process.returncode,
        stdout.decode("utf-8", "replace"),
        stderr.decode("utf-8", "replace"),
    )
    if output.returncode == import_guard.NOT_INSTALLED:
        raise ToolMissing(output.stderr_tail() or f"{module} is not installed")
    return output


def _wait(
    process: subprocess.Popen[bytes], module: str, timeout: float, cancel: CancelCheck | None
) -> tuple[bytes, bytes]:
    """What the tool wrote once it ended; it is killed past ``timeout`` or once cancelled."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            return process.communicate(timeout=min(left, _CANCEL_POLL) if cancel else left)
        except subprocess.TimeoutExpired:
            if cancel is not None and cancel():
                _kill_group(process)
                raise ToolNotRun(f"{module} was stopped: its run was cancelled") from None
            if time.monotonic() >= deadline:
                _kill_group(process)
                raise ToolNotRun(f"{module} took longer than {timeout:g} s") from None


def tool_place(
    column: object, end_line: object, end_column: object
) -> tuple[int | None, int | None, int | None]:
    """A tool's 0-based start column and end (mypy's, pylint's) as a finding's 1-based ones.

    ``(column, end line, end column)``, each None where the tool gave none;
    no end without a start, and no end without both its parts.
    """
    if not isinstance(column, int) or column < 0:
        return None, None, None
    if isinstance(end_line, int) and isinstance(end_column, int) and end_column >= 0:
        return column + 1, end_line, end_column + 1
    return column + 1, None, None


def on_both_sides(base: Callable[[], _T], head: Callable[[], _T]) -> tuple[_T, _T]:
    """Run the base's and the head's tool runs side by side; the first failure is raised.

    The two share nothing (their trees, caches and configuration files are
    apart), and a recheck is mostly the interpreter starting: side by side,
    it costs one start instead of two.
    """
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ark-gate-tool") as pool:
        before, after = pool.submit(base), pool.submit(head)
        return before.result(), after.result()


def _inherited_path() -> list[str]:
    """The ``PYTHONPATH`` folders this process imports from, for a tool of the same interpreter.

    ``python -I`` leaves ``PYTHONPATH`` out; where ARK itself was found
    through it (the VS Code extension's bundle), so were its tools.
    """
    folders = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    return [os.path.abspath(folder) for folder in folders if folder]


def _environment(extra: Mapping[str, str]) -> dict[str, str]:
    """A small environment of ARK's making: none of the caller's tool or Python variables."""
    kept = {name: os.environ[name] for name in ("PATH", "HOME", "TMPDIR") if name in os.environ}
    return {
        "PATH": os.defpath,
        **kept,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        **extra,
    }


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended on its own meanwhile
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def compared(
    name: str,
    files: Sequence[str],
    findings: tuple[Sequence[Finding], Sequence[Finding], Sequence[Finding]],
    started: float,
    *,
    counted: str,
    summaries: tuple[str, str],
) -> CheckResult:
    """A tool check's result from its findings on the base, on the head, and the new ones.

    ``counted`` names what the tool reports (``errors``, ``messages``) in the
    figures; ``summaries`` are the words with new findings (``{count}`` and
    ``{s}`` filled in) and without.
    """
    base, head, new = findings
    per_file = {
        path: MappingProxyType({
            counted: float(sum(f.path == path for f in head)),
            "new": float(sum(f.path == path for f in new)),
        })
        for path in files
    }  # fmt: skip
    measures = {f"{counted}_before": len(base), f"{counted}_after": len(head), "new": len(new)}
    if new:
        status = CheckStatus.FAILED
        summary = summaries[0].format(count=len(new), s="s" if len(new) > 1 else "")
    else:
        status, summary = CheckStatus.PASSED, summaries[1]
    return CheckResult(
        name,
        status,
        f"{name}: {summary}",
        findings=tuple(new),
        measures=MappingProxyType({k: float(v) for k, v in measures.items()}),
        files=MappingProxyType(per_file),
        duration_ms=(time.perf_counter() - started) * 1000,
    )


def tool_line(value: object) -> int:
    """A tool's line number; 0 (the whole file) when it gave none."""
    return value if isinstance(value, int) else 0
