"""Running a file, a function or the tests in the sandbox, from the editor.

The runs go to a worker thread with cancellable ``$/progress``; the outcome
is shown with ``window/showMessage`` and returned to the caller, and each
failing test becomes a diagnostic at the test.
"""

from __future__ import annotations

import asyncio
import logging
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import from_fs_path

from ark_lsp.models import Span, SymbolKind
from ark_lsp.project import Project
from ark_lsp.sandbox import CaseOutcome, PytestRun, RunResult, SandboxRunner
from ark_lsp.server.app import ArkServer
from ark_lsp.server.convert import lsp_range, server_position
from ark_lsp.server.documents import Snapshot, path_of
from ark_lsp.server.folders import RESTRICTED, FolderState
from ark_lsp.server.progress import WorkDone
from ark_lsp.workflows.run import run_code
from ark_lsp.workflows.tests import run_tests

logger = logging.getLogger(__name__)

RUN = "ark.runInSandbox"
RUN_TESTS = "ark.runTestsInSandbox"
TEST_FAILURE_SOURCE = "ark-sandbox"


class SandboxCommands:
    """One runner per folder, kept for the server's life so the docker pool stays warm."""

    def __init__(self, server: ArkServer) -> None:
        self._server = server
        self._runners: dict[Path, tuple[Project, SandboxRunner]] = {}
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ark-sandbox")
        self.test_failures: dict[str, list[types.Diagnostic]] = {}
        """Failing tests of the last test run, by document URI."""

    def runner(self, folder: FolderState) -> SandboxRunner:
        """The folder's runner, replaced when its sandbox settings or its database changed."""
        project = folder.project
        kept = self._runners.get(folder.root)
        if kept is not None:
            made_for, runner = kept
            if (made_for.settings.sandbox, made_for.database) == (
                project.settings.sandbox,
                project.database,
            ):
                return runner
            self._pool.submit(runner.close)
        runner = project.sandbox_runner(warm=True)
        self._runners[folder.root] = (project, runner)
        return runner

    def backend_of(self, folder: FolderState) -> str:
        """The backend the folder's runs use: the configured one until a run has chosen."""
        kept = self._runners.get(folder.root)
        chosen = kept[1].chosen if kept is not None else None
        return chosen or folder.settings.sandbox.backend

    def close(self) -> None:
        """Remove every warm container; called at shutdown."""
        for _, runner in self._runners.values():
            runner.close()
        self._runners.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def in_worker(self, title: str, work: Callable[[WorkDone], Any]) -> Any:
        """Run ``work`` off the server's thread, with cancellable progress."""
        progress = WorkDone(self._server, title, cancellable=True)
        await progress.begin()
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, work, progress)
        finally:
            progress.end()
            self._server.send_status()  # the first run chooses "auto"'s backend


def _target(server: ArkServer, arguments: tuple[Any, ...]) -> tuple[str, types.Position | None]:
    """The URI and optional position a command was called with; the client's error if neither."""
    if not arguments:
        raise JsonRpcInvalidParams("expected a document URI or {uri, position}")
    first = arguments[0]
    if isinstance(first, str):
        return first, None
    uri = getattr(first, "uri", None) or (first.get("uri") if isinstance(first, dict) else None)
    raw = getattr(first, "position", None) or (
        first.get("position") if isinstance(first, dict) else None
    )
    if not isinstance(uri, str):
        raise JsonRpcInvalidParams("expected a document URI or {uri, position}")
    if raw is None:
        return uri, None
    line = getattr(raw, "line", None) if not isinstance(raw, dict) else raw.get("line")
    character = (
        getattr(raw, "character", None) if not isinstance(raw, dict) else raw.get("character")
    )
    try:
        return uri, types.Position(line=int(line or 0), character=int(character or 0))
    except (TypeError, ValueError):
        raise JsonRpcInvalidParams("position needs integer line and character") from None


def function_at(snapshot: Snapshot, position: types.Position) -> str | None:
    """The qualified name of the innermost function or method around a position."""
    line, _ = server_position(snapshot.document, position)
    around = [
        s
        for s in snapshot.report.symbols
        if s.kind is not SymbolKind.CLASS and s.span.line <= line <= s.span.end_line
    ]
    return max(around, key=lambda s: s.span.line).qualname if around else None


def describe_run(what: str, result: RunResult, counts: str = "") -> str:
    """One line for the user: what ran, where, how it ended, and what its copy left out."""
    where = result.backend + (f", {result.image}" if result.image else "")
    ending = result.outcome.value
    if result.error:
        ending += f": {result.error}"
    elif result.killed_by.value != "none":
        ending += f" (stopped by the {result.killed_by.value} limit)"
    elif result.exit_code:
        ending += f" (exit code {result.exit_code})"
    counts = f" ({counts})" if counts else ""
    notes = "".join(f"; {note}" for note in result.notes)
    return f"ARK sandbox ({where}): {what} {ending} in {result.duration_ms:.0f} ms{counts}{notes}"


def _message_type(result: RunResult) -> types.MessageType:
    return types.MessageType.Info if result.outcome.value == "passed" else types.MessageType.Warning


def regular_file_in(root: Path, relative: str) -> Path | None:
    """``root / relative`` when it is a regular file inside ``root``, links resolved; else None.

    The path comes from a report written inside the sandbox: it is data,
    and may name ``/dev/zero``, ``../../etc/passwd`` or a FIFO.
    """
    if not relative or "\0" in relative:
        return None
    candidate = root / relative
    try:
        real = candidate.resolve(strict=True)
        status = real.stat()
    except (OSError, RuntimeError):  # missing, unreadable, or a loop of links
        return None
    if not real.is_relative_to(root.resolve()) or not stat.S_ISREG(status.st_mode):
        return None
    return candidate


def failure_diagnostics(
    server: ArkServer, folder: FolderState, run: PytestRun
) -> dict[str, list[types.Diagnostic]]:
    """Each failing or erroring test as a diagnostic at the line that failed."""
    found: dict[str, list[types.Diagnostic]] = {}
    for case in run.cases:
        if case.outcome not in (CaseOutcome.FAILED, CaseOutcome.ERROR) or case.line is None:
            continue
        path = regular_file_in(folder.root, case.path)
        if path is None:
            continue  # a report naming a host file or a FIFO: nothing there is opened
        uri = from_fs_path(str(path)) or ""
        document = server.documents.text(uri)
        if document is None:
            continue
        line = case.failure_line or case.line
        text = document.lines[line - 1] if line <= len(document.lines) else ""
        span = Span(line, len(text) - len(text.lstrip()), line, len(text.rstrip("\r\n")))
        found.setdefault(uri, []).append(
            types.Diagnostic(
                range=lsp_range(document, span),
                message=f"{case.name} {case.outcome.value}: {case.message}".strip(),
                severity=types.DiagnosticSeverity.Error,
                code="test-failure",
                source=TEST_FAILURE_SOURCE,
            )
        )
    return found


def register(server: ArkServer) -> None:
    """Register the sandbox commands."""
    commands = SandboxCommands(server)
    server.sandbox = commands

    @server.command(RUN)
    async def run_in_sandbox(ls: ArkServer, *arguments: Any) -> dict[str, Any]:
        """Run the document as a script, or the function under the cursor."""
        await ls.wait_configured()
        uri, position = _target(ls, arguments)
        folder, relative = ls.folders.locate(uri)
        if folder is None or path_of(uri) is None:
            raise ValueError(f"{uri} is not in a workspace folder ARK knows")
        if folder.restricted:
            raise ValueError(RESTRICTED)
        snapshot = ls.documents.latest(uri) if position is not None else None
        function = function_at(snapshot, position) if snapshot and position else None
        project, runner = folder.project, commands.runner(folder)
        what = f"{relative}::{function}" if function else relative

        def work(progress: WorkDone) -> RunResult:
            return run_code(
                project,
                relative,
                function=function,
                runner=runner,
                cancel=progress.cancelled.is_set,
            )

        result: RunResult = await commands.in_worker(f"ARK: running {what}", work)
        ls.window_show_message(
            types.ShowMessageParams(type=_message_type(result), message=describe_run(what, result))
        )
        return {"target": what, **result.as_dict()}

    @server.command(RUN_TESTS)
    async def run_tests_in_sandbox(ls: ArkServer, *arguments: Any) -> dict[str, Any]:
        """Run the document's tests (or all tests without a document) with pytest."""
        await ls.wait_configured()
        uri, _ = _target(ls, arguments) if arguments else (None, None)
        folder, relative = ls.folders.locate(uri) if uri else (None, "")
        folder = folder or next(iter(ls.folders.all()), None)
        if folder is None:
            raise ValueError("no workspace folder to run tests in")
        if folder.restricted:
            raise ValueError(RESTRICTED)
        project, runner = folder.project, commands.runner(folder)
        targets = [relative] if uri and relative else []
        run: PytestRun = await commands.in_worker(
            "ARK: running tests",
            lambda progress: run_tests(
                project, targets, runner=runner, cancel=progress.cancelled.is_set
            ),
        )
        previous = set(commands.test_failures)
        commands.test_failures = failure_diagnostics(ls, folder, run)
        for failed_uri in previous | set(commands.test_failures):
            ls.publisher.publish_extra(failed_uri)
        counts = run.counts
        summary = ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n) or "no tests"
        ls.window_show_message(
            types.ShowMessageParams(
                type=_message_type(run.result),
                message=describe_run(" ".join(targets) or "tests", run.result, summary),
            )
        )
        return run.as_dict()
