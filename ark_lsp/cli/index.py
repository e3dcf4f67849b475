"""``ark index``, ``ark symbols``, ``ark search`` and ``ark graph``: the index, read."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ark_lsp.cli.common import DATABASE, JOBS, PATHS, ROOT, Workspace, open_workspace, refresh
from ark_lsp.store.search_text import query_words

if TYPE_CHECKING:
    from ark_lsp.store import SymbolRecord


@click.command()
@PATHS
@JOBS
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--rebuild",
    is_flag=True,
    help="Index every file anew, keeping the rule pack and run history "
    "(a database that cannot be used is moved aside).",
)
@DATABASE
def index(
    paths: tuple[Path, ...],
    jobs: int | None,
    output_format: str,
    rebuild: bool,
    database: Path | None,
) -> None:
    """Build or refresh the index of the workspace holding PATH (default: here)."""
    name_it = "name the folder to index: `ark index PATH`"
    with open_workspace(paths, database, rebuild=rebuild, name_it=name_it) as workspace:
        figures = refresh(workspace, jobs, show_progress=output_format == "text")
        location = workspace.store.path
    skipped = [
        {"path": workspace.display_path(s.path), "reason": s.reason} for s in figures.skipped
    ]
    if output_format == "json":
        payload = {**figures.as_dict(), "skipped": skipped, "database": str(location)}
        click.echo(json.dumps(payload, indent=2))
        return
    _say_some(figures.problems)
    _say_some([f"skipped {s['path']}: {s['reason']}" for s in skipped])
    rows = [
        ("files scanned", f"{figures.files_scanned:,}"),
        ("indexed", f"{figures.files_indexed:,}"),
        ("unchanged", f"{figures.files_unchanged:,}"),
        ("skipped", f"{figures.files_skipped:,}"),
        ("errors", f"{figures.files_errors:,}"),
        ("removed", f"{figures.files_removed:,}"),
        ("lines", f"{figures.lines:,}"),
        ("average complexity", f"{figures.average_complexity:.2f}"),
        ("duration", f"{figures.duration_ms / 1000:.2f} s ({figures.jobs} jobs)"),
        ("database", os.path.relpath(location)),
    ]
    click.echo(f"Indexed {os.path.relpath(figures.root)}")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        click.echo(f"  {label:<{width}}  {value}")


def _say_some(lines: Sequence[str], most: int = 20) -> None:
    """The first ``most`` lines on stderr, and how many more there are."""
    for line in lines[:most]:
        click.echo(f"ark: {line}", err=True)
    if len(lines) > most:
        click.echo(f"ark: ... and {len(lines) - most} more", err=True)


def _symbol_json(workspace: Workspace, record: SymbolRecord) -> dict[str, Any]:
    return {
        "path": workspace.display_path(record.path),
        "name": record.name,
        "qualname": record.qualname,
        "kind": record.kind,
        "line": record.line,
        "end_line": record.end_line,
        "complexity": record.complexity,
        "rank": record.rank,
        "tier": record.tier,
    }


def _print_symbols(
    workspace: Workspace, records: Sequence[SymbolRecord], output_format: str
) -> None:
    if output_format == "json":
        click.echo(json.dumps([_symbol_json(workspace, r) for r in records], indent=2))
        return
    if not records:
        click.echo("no symbols found", err=True)
        return
    locations = [f"{workspace.display_path(r.path)}:{r.line}" for r in records]
    width = max(len(location) for location in locations)
    for record, location in zip(records, locations, strict=True):
        click.echo(
            f"{record.complexity:>4} {record.rank}  {location:<{width}}  "
            f"{record.qualname}  [{record.kind}, {record.tier}]"
        )


@click.command()
@PATHS
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--sort", type=click.Choice(["complexity", "name", "line"]), default="line", show_default=True
)
@click.option(
    "--min-complexity", type=click.IntRange(min=0), help="Only symbols at least this complex."
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many symbols.")
@JOBS
@DATABASE
def symbols(
    paths: tuple[Path, ...],
    output_format: str,
    sort: str,
    min_complexity: int | None,
    limit: int | None,
    jobs: int | None,
    database: Path | None,
) -> None:
    """List functions, methods and classes under PATH with their complexity."""
    from ark_lsp.workspace import relative_posix

    name_it = "name what to list: `ark symbols PATH`"
    with open_workspace(paths, database, name_it=name_it) as workspace:
        refresh(workspace, jobs, show_progress=output_format == "text")
        prefixes = [relative_posix(workspace.root, t) for t in workspace.targets] or None
        records = workspace.store.index.symbols(
            path_prefixes=prefixes,
            min_complexity=min_complexity,
            sort=sort,  # type: ignore[arg-type]
            limit=limit,
        )
        _print_symbols(workspace, records, output_format)


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@ROOT
@DATABASE
def search(
    query: tuple[str, ...],
    output_format: str,
    limit: int,
    root: Path | None,
    database: Path | None,
) -> None:
    """Find symbols by name, qualified name or docstring words, best first."""
    text = " ".join(query)
    if not query_words(text):
        raise click.UsageError(
            f"QUERY {text.strip()!r} has no letter or digit to search for",
            ctx=click.get_current_context(),
        )
    name_it = "name the folder to search with --root FOLDER"
    with open_workspace([root] if root else [], database, name_it=name_it) as workspace:
        refresh(workspace, None, show_progress=False)
        records = workspace.store.index.search(text, limit=limit)
        _print_symbols(workspace, records, output_format)


@click.command()
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "dot"]), default="text"
)
@ROOT
@DATABASE
def graph(output_format: str, root: Path | None, database: Path | None) -> None:
    """Print the workspace's module dependency graph (importer -> imported)."""
    name_it = "name the folder with --root FOLDER"
    with open_workspace([root] if root else [], database, name_it=name_it) as workspace:
        refresh(workspace, None, show_progress=False)
        edges = workspace.store.index.module_edges()
    if output_format == "json":
        click.echo(json.dumps([{"from": a, "to": b} for a, b in edges], indent=2))
    elif output_format == "dot":
        click.echo("digraph imports {")
        for importer, imported in edges:
            click.echo(f'  "{importer}" -> "{imported}";')
        click.echo("}")
    else:
        for importer, imported in edges:
            click.echo(f"{importer} -> {imported}")
