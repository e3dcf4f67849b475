"""``ark gate``: judge a change by its new code against its base, for people, scripts and CI.

Exit codes: 0 the change passed, 1 it failed (a check failed, or an enabled
check could not run), 2 usage (a change id while change sets are not
available, a bad option), 3 the database cannot be used, 4 anything else
(not a git repository, an unknown commit), 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ark_lsp.cli.common import (
    DATABASE,
    EXIT_FAILURE,
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    ROOT,
    cancel_on_interrupt,
    fail,
    open_workspace,
)

if TYPE_CHECKING:
    from ark_lsp.store import QualityRun


@click.command("gate")
@click.argument("target", required=False, metavar="[CHANGE | BASE..HEAD]")
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "sarif"]), default="text"
)
@click.option(
    "--history",
    is_flag=True,
    help="List the latest gate runs kept in the database (of TARGET, if named) instead.",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="With --history."
)
@ROOT
@DATABASE
def gate(
    target: str | None,
    output_format: str,
    history: bool,
    limit: int,
    root: Path | None,
    database: Path | None,
) -> None:
    """Judge a change by its new code only, against its base, and keep the report.

    With no argument, the working tree's uncommitted changes (untracked files
    included, ignored ones not) against HEAD; or a range BASE..HEAD (either
    side defaults to HEAD; A...B judges B against its merge base with A).
    The checks and thresholds come from [tool.ark.gate] of the BASE commit,
    never from the change. Exits 0 when every enabled check passed, 1 when
    one failed or could not run.
    """
    from ark_lsp.gate.formats import as_json, as_sarif, as_text
    from ark_lsp.workflows.gate import (
        GateCancelled,
        GateError,
        GateUsageError,
        gate_history,
        run_gate,
    )

    if history and output_format == "sarif":
        fail("--history lists runs as text or json, not sarif", EXIT_USAGE)
    with open_workspace([root] if root else [], database) as workspace:
        if history:
            _show_history(gate_history(workspace.store, limit=limit, subject=target), output_format)
            return
        show_progress = output_format == "text" and sys.stderr.isatty()

        def progress(message: str, percent: int | None) -> None:
            if show_progress:
                click.echo(f"ark: gate: {message}", err=True)

        with cancel_on_interrupt() as cancel:
            try:
                report = run_gate(
                    workspace.project,
                    target,
                    store=workspace.store,
                    cancel=cancel.is_set,
                    progress=progress,
                )
            except GateUsageError as error:
                fail(str(error), EXIT_USAGE)
            except GateCancelled as error:
                fail(str(error), EXIT_INTERRUPTED)
            except GateError as error:
                fail(str(error), EXIT_FAILURE)
        rules = [rule for rule in workspace.settings.ruleset.rules if rule.enabled]
    for problem in report.problems:
        click.echo(f"ark: warning: {problem}", err=True)

    def shown(relative: str) -> str:
        return os.path.relpath(workspace.root / relative)

    if output_format == "json":
        click.echo(as_json(report, shown))
    elif output_format == "sarif":
        click.echo(as_sarif(report, rules, shown))
    else:
        click.echo(as_text(report, shown))
    sys.exit(EXIT_OK if report.passed else EXIT_FINDINGS)


def _show_history(runs: Sequence[QualityRun], output_format: str) -> None:
    if output_format == "json":
        listed = [
            {
                "run_id": found.run.gate_run,
                "created_at": found.run.created_at,
                "subject": found.run.subject,
                "change_id": found.run.change_id,
                "base": found.run.base_commit,
                "head": found.run.head_commit,
                "verdict": found.run.status,
                "summary": found.run.summary,
                "duration_ms": found.run.duration_ms,
                "checks": [
                    {
                        "name": check.check_name,
                        "status": check.status,
                        "summary": check.summary,
                        "reason": check.reason,
                    }
                    for check in found.checks
                ],
            }
            for found in runs
        ]
        click.echo(json.dumps(listed, indent=2))
        return
    for found in runs:
        run = found.run
        click.echo(
            f"{run.gate_run}  {run.created_at}  {run.status:<4}  {run.subject}  "
            f"({run.base_commit[:12]}..{run.head_commit[:12]}): {run.summary}"
        )
