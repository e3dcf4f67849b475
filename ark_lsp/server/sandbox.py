"""Running a file, a function or the tests in the sandbox, from the editor.

The runs are jobs (cancellable ``$/progress``); the outcome is shown with
``window/showMessage`` and returned to the caller, and each failing test
becomes a diagnostic at the test (source ``ark-sandbox``).
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path

from ark_lsp.models import SymbolKind
from ark_lsp.server.arguments import DocumentPosition, DocumentTarget, DocumentUri
from ark_lsp.server.convert import server_position, test_failure_diagnostic
from ark_lsp.server.core import ArkServer, Feature
from ark_lsp.server.diagnostic_sources import TEST_FAILURE_SOURCE
from ark_lsp.server.documents import Snapshot, path_of
from ark_lsp.server.folders import RESTRICTED, FolderState

if TYPE_CHECKING:
    from ark_lsp.sandbox import PytestRun, RunResult

logger = logging.getLogger(__name__)

RUN = "ark.runInSandbox"
RUN_TESTS = "ark.runTestsInSandbox"


def function_at(snapshot: Snapshot, position: types.Position) -> str | None:
    """The qualified name of the innermost function or method around a position."""
    line, _ = server_position(snapshot.document, position)
    around = [
        s
        for s in snapshot.report.symbols
        if s.kind is not SymbolKind.CLASS and s.span.line <= line <= s.span.end_line
    ]
    return max(around, key=lambda s: s.span.line).qualname if around else None


def describe_run(what: str, result: RunResult, counts: str = "", *, suite: bool = False) -> str:
    """One line for the user: what ran, where, how it ended, and what its copy left out.

    A run a limit stopped says which setting raises it (``suite``: the run
    was a test suite's, which has its own time limit).
    """
    from ark_lsp.sandbox.limit_settings import how_to_raise

    where = result.backend + (f", {result.image}" if result.image else "")
    ending = result.outcome.value
    if result.error:
        ending += f": {result.error}"
    elif result.killed_by.value != "none":
        how = how_to_raise(result.killed_by, suite=suite, editor=True)
        ending += f" (stopped by the {result.killed_by.value} limit" + (f": {how})" if how else ")")
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
    from ark_lsp.sandbox import CaseOutcome

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
        found.setdefault(uri, []).append(test_failure_diagnostic(document, case))
    return found


class SandboxCommands(Feature):
    """``ark.runInSandbox`` and ``ark.runTestsInSandbox``, on the folders' warm runners."""

    deferred_imports = ("ark_lsp.workflows.run", "ark_lsp.workflows.tests")

    def register(self) -> None:
        """Register the sandbox commands."""
        server = self.server

        @server.command(RUN)
        async def run_in_sandbox(ls: ArkServer, target: DocumentTarget) -> dict[str, Any]:
            """Run the document as a script, or the function at the position."""
            from ark_lsp.workflows.run import run_code  # the sandbox, on its first run

            await ls.wait_configured()
            if isinstance(target, DocumentPosition):
                uri, position = target.uri, target.position
            else:
                uri, position = target, None
            folder, relative = ls.folders.locate(uri)
            if folder is None or path_of(uri) is None:
                raise ValueError(f"{uri} is not in a workspace folder ARK knows")
            if folder.restricted:
                raise ValueError(RESTRICTED)
            snapshot = ls.documents.latest(uri) if position is not None else None
            function = function_at(snapshot, position) if snapshot and position else None
            project, runner = folder.project, ls.runners.runner(folder)
            what = f"{relative}::{function}" if function else relative
            async with ls.jobs.job(f"ARK: running {what}", cancellable=True) as job:
                result = await ls.jobs.run(
                    lambda: run_code(
                        project, relative, function=function, runner=runner, cancel=job.is_cancelled
                    )
                )
            ls.send_status()  # the first run chooses "auto"'s backend
            ls.window_show_message(
                types.ShowMessageParams(
                    type=_message_type(result), message=describe_run(what, result)
                )
            )
            return {"target": what, **result.as_dict()}

        @server.command(RUN_TESTS)
        async def run_tests_in_sandbox(
            ls: ArkServer, document: DocumentUri | None = None
        ) -> dict[str, Any]:
            """Run the document's tests (or all tests without a document) with pytest."""
            from ark_lsp.workflows.tests import run_tests

            await ls.wait_configured()
            folder, relative = ls.folders.locate(document) if document else (None, "")
            folder = folder or next(iter(ls.folders.all()), None)
            if folder is None:
                raise ValueError("no workspace folder to run tests in")
            if folder.restricted:
                raise ValueError(RESTRICTED)
            project, runner = folder.project, ls.runners.runner(folder)
            targets = [relative] if document and relative else []
            async with ls.jobs.job("ARK: running tests", cancellable=True) as job:
                run: PytestRun = await ls.jobs.run(
                    lambda: run_tests(project, targets, runner=runner, cancel=job.is_cancelled)
                )
            ls.send_status()
            ls.diagnostics.replace(TEST_FAILURE_SOURCE, failure_diagnostics(ls, folder, run))
            counts = run.counts
            summary = (
                ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n) or "no tests"
            )
            ls.window_show_message(
                types.ShowMessageParams(
                    type=_message_type(run.result),
                    message=describe_run(
                        " ".join(targets) or "tests", run.result, summary, suite=True
                    ),
                )
            )
            return run.as_dict()
