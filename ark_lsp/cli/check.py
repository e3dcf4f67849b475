"""``ark check``: the security rules over a tree, for people, scripts and code scanning."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ark_lsp.cli.common import (
    DATABASE,
    EXIT_FINDINGS,
    EXIT_OK,
    JOBS,
    PATHS,
    Workspace,
    open_workspace,
    refresh,
)


def _rule_ids(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@click.command()
@PATHS
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "sarif"]), default="text"
)
@click.option("--select", metavar="IDS", help="Only these rules (comma-separated ids or prefixes).")
@click.option("--ignore", metavar="IDS", help="Not these rules (comma-separated ids or prefixes).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when errors are found.")
@click.option("--fix", is_flag=True, help="Apply the safe fixes, then report what is left.")
@JOBS
@DATABASE
def check(
    paths: tuple[Path, ...],
    output_format: str,
    select: str | None,
    ignore: str | None,
    exit_zero: bool,
    fix: bool,
    jobs: int | None,
    database: Path | None,
) -> None:
    """Check PATH (default: here) against the security rules.

    Exits 1 when an error-severity result is found or a file cannot be read.
    """
    from ark_lsp.reporting import CheckResult, as_json, as_sarif, as_text
    from ark_lsp.rules import SYNTAX_ERROR
    from ark_lsp.workspace import relative_posix

    selected, ignored = _rule_ids(select), _rule_ids(ignore)
    with open_workspace(paths, database) as workspace:
        figures = refresh(workspace, jobs, show_progress=output_format == "text")
        prefixes = [relative_posix(workspace.root, t) for t in workspace.targets] or None
        if fix:
            records = workspace.store.index.violations(path_prefixes=prefixes)
            _fix_files(workspace, sorted({v.path for v in records}))
            figures = refresh(workspace, jobs, show_progress=False)
        records = workspace.store.index.violations(path_prefixes=prefixes)
        files_checked = workspace.store.index.totals(prefixes).files
        rules = workspace.settings.ruleset.rules
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
        for v in records
        if v.rule == SYNTAX_ERROR
        or ((not selected or v.rule.startswith(selected)) and not v.rule.startswith(ignored))
    ]
    unreadable = set(figures.unreadable)
    for problem in figures.problems:
        if problem.partition(":")[0] in unreadable:
            click.echo(f"ark: error: {problem}", err=True)
    if output_format == "json":
        click.echo(as_json(results, files_checked))
    elif output_format == "sarif":
        click.echo(as_sarif(results, [r for r in rules if r.enabled]))
    else:
        click.echo(as_text(results, files_checked))
    failed = unreadable or any(r.severity == "error" for r in results)
    sys.exit(EXIT_FINDINGS if failed and not exit_zero else EXIT_OK)


def _fix_files(workspace: Workspace, relative_paths: Sequence[str]) -> None:
    """Apply the safe fixes to files, in place; say what was done on stderr."""
    from ark_lsp.analysis import fix_all

    fixed_files = fixes_made = 0
    for relative in relative_paths:
        path = workspace.root / relative
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # unreadable or not UTF-8: reported by the check itself
        new_text, applied = fix_all(text, relative, workspace.settings)
        if applied and new_text != text:
            path.write_bytes(new_text.encode("utf-8"))
            fixed_files += 1
            fixes_made += applied
    if fixes_made:
        click.echo(f"ark: fixed {fixes_made} problem(s) in {fixed_files} file(s)", err=True)
