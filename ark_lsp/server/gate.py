"""``ark.gate``: the quality gate on a folder's uncommitted changes, from the editor.

The gate runs as a cancellable job with ``$/progress``, judging the
working tree against HEAD as ``ark gate`` does (worktrees in the user's
cache, the base commit's settings, the report kept in the store). The
verdict is shown with ``window/showMessage``, what it found new becomes
diagnostics of their own source (``ark-gate``), replacing the last run's,
and the report is the command's answer, in ``ark gate --format json``'s shape;
clients redraw their code lenses, which read the reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path

from ark_lsp.server.arguments import DocumentUri
from ark_lsp.server.convert import gate_diagnostic
from ark_lsp.server.core import ArkServer, Feature
from ark_lsp.server.diagnostic_sources import GATE_SOURCE
from ark_lsp.server.folders import RESTRICTED, FolderState

if TYPE_CHECKING:
    from ark_lsp.gate.report import GateReport

GATE = "ark.gate"


def gate_diagnostics(
    server: ArkServer, folder: FolderState, report: GateReport
) -> dict[str, list[types.Diagnostic]]:
    """What the gate found new, as diagnostics by document."""
    found: dict[str, list[types.Diagnostic]] = {}
    for finding in report.findings:
        uri = from_fs_path(str(folder.root / finding.path)) or ""
        document = server.documents.text(uri)
        if document is None:
            continue  # gone, or not a file the server may read
        found.setdefault(uri, []).append(gate_diagnostic(document, finding))
    return found


class QualityGate(Feature):
    """``ark.gate``."""

    deferred_imports = ("ark_lsp.workflows.gate",)

    def register(self) -> None:
        """Register the command."""
        server = self.server

        @server.command(GATE)
        async def gate(ls: ArkServer, folder: DocumentUri | None = None) -> dict[str, Any]:
            """Judge the folder's uncommitted changes (the first folder's, without one)."""
            from ark_lsp.workflows.gate import GateCancelled, GateError, run_gate

            await ls.wait_configured()
            state = ls.folders.locate(folder)[0] if folder else None
            state = state or next(iter(ls.folders.all()), None)
            if state is None:
                raise ValueError("no workspace folder to run the gate in")
            if state.restricted:
                raise ValueError(RESTRICTED)
            project = state.project
            async with ls.jobs.job("ARK: quality gate", cancellable=True) as job:
                try:
                    report = await ls.jobs.run(
                        lambda: run_gate(project, cancel=job.is_cancelled, progress=job.report)
                    )
                except GateCancelled as error:
                    job.ending = str(error)
                    raise ValueError(str(error)) from None
                except GateError as error:
                    job.ending = "the gate could not run"
                    raise ValueError(str(error)) from None
                job.ending = report.summary()
            ls.diagnostics.replace(GATE_SOURCE, gate_diagnostics(ls, state, report))
            ls.code_lenses.refresh()  # the "untested" lenses read the report just kept
            found = len(report.findings)
            new = f" ({found} new finding{'s' * (found != 1)})" if found else ""
            ls.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Info if report.passed else types.MessageType.Warning,
                    message=f"ARK {report.summary()}{new}",
                )
            )
            return report.as_dict()
