"""``ark check``: the security rules over a tree, for people, scripts and code scanning."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ark_lsp.cli.common import (
    DATABASE,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    JOBS,
    PATHS,
    fail,
    open_workspace,
    progress_reporter,
)

if TYPE_CHECKING:
    from ark_lsp.workflows.changes import AsChange


def _rule_ids(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


# The change sets' machinery is imported only for --as-change: a plain check
# (a pre-commit hook's, on a few files) is mostly start-up.
def _as_change() -> AsChange:
    from ark_lsp.cli.changes import proposer
    from ark_lsp.workflows.changes import AsChange

    return AsChange(f"ark check --fix ({proposer()})")


def _change_failures(as_change: bool) -> AbstractContextManager[None]:
    if not as_change:
        return nullcontext()
    from ark_lsp.cli.changes import change_failures

    return change_failures()


@click.command()
@PATHS
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "sarif"]), default="text"
)
@click.option("--select", metavar="IDS", help="Only these rules (comma-separated ids or prefixes).")
@click.option("--ignore", metavar="IDS", help="Not these rules (comma-separated ids or prefixes).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when errors are found.")
@click.option("--fix", is_flag=True, help="Apply the safe fixes, then report what is left.")
@click.option(
    "--as-change",
    is_flag=True,
    help="With --fix: propose the fixes as a change set (see ark change); no file is written.",
)
@JOBS
@DATABASE
def check(
    paths: tuple[Path, ...],
    output_format: str,
    select: str | None,
    ignore: str | None,
    exit_zero: bool,
    fix: bool,
    as_change: bool,
    jobs: int | None,
    database: Path | None,
) -> None:
    """Check PATH (default: here) against the security rules.

    Exits 1 when an error-severity result is found, or a file cannot be read
    or is too large to read (ARK090; ignore the rule to accept it).
    """
    from ark_lsp.reporting import CheckResult, SkippedPath, as_json, as_sarif, as_text
    from ark_lsp.workflows.check import UnknownRuleId
    from ark_lsp.workflows.check import check as check_paths

    if as_change and not fix:
        fail("--as-change proposes the fixes of --fix: give both", EXIT_USAGE)
    asked = _as_change() if as_change else None
    name_it = "name what to check: `ark check PATH`"
    with (
        open_workspace(paths, database, name_it=name_it) as workspace,
        progress_reporter(output_format == "text") as progress,
        _change_failures(as_change),
    ):
        try:
            report = check_paths(
                workspace.project,
                workspace.store,
                targets=workspace.targets,
                select=_rule_ids(select),
                ignore=_rule_ids(ignore),
                fix=fix,
                as_change=asked,
                jobs=jobs,
                progress=progress,
            )
        except UnknownRuleId as error:
            fail(f"--{error.option}: {error}", EXIT_USAGE)
    workspace.warn_once(report.warnings)
    if report.proposal is not None:
        from ark_lsp.cli.changes import emit_proposal

        emit_proposal(report.proposal, "text", err=True)
    elif as_change:
        click.echo("ark: no safe fixes to propose", err=True)
    elif report.fixed is not None and report.fixed.fixes:
        fixed = report.fixed
        click.echo(f"ark: fixed {fixed.fixes} problem(s) in {fixed.files} file(s)", err=True)
    results = [
        CheckResult(
            path=workspace.display_path(v.path),
            line=v.line,
            column=v.column + 1,
            end_line=v.end_line,
            end_column=v.end_column + 1,
            rule=v.rule,
            severity=v.severity,
            message=v.message,
        )
        for v in report.findings
    ]
    skipped = [
        SkippedPath(workspace.display_path(s.path), s.reason) for s in report.figures.skipped
    ]
    for problem in report.unreadable:
        click.echo(f"ark: error: {problem}", err=True)
    for file in skipped:
        click.echo(f"ark: note: skipped {file.path}: {file.reason}", err=True)
    if output_format == "json":
        click.echo(as_json(results, report.files_checked, skipped))
    elif output_format == "sarif":
        click.echo(as_sarif(results, list(report.rules), skipped))
    else:
        click.echo(as_text(results, report.files_checked))
    sys.exit(EXIT_FINDINGS if report.failed and not exit_zero else EXIT_OK)
