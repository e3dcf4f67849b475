"""The ``ark`` command line: a thin front end over the same engine as the server.

Exit codes: 0 success; 1 findings (``ark check`` found an error-severity
result); 2 usage error; 3 the database cannot be used (corrupt, locked, from
a newer ARK); 4 any other failure, reported in one line.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ark_lsp import __version__

if TYPE_CHECKING:
    from ark_lsp.config import Settings
    from ark_lsp.rules import Rule
    from ark_lsp.store import Store, SymbolRecord
    from ark_lsp.workspace import IndexFigures

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3
EXIT_FAILURE = 4

PLAIN_PROGRESS_FROM = 500
"""Without a terminal, progress lines are printed only for runs this large."""

_PATHS = click.argument(
    "paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATH]..."
)
_DATABASE = click.option(
    "--database",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="ARK_DATABASE",
    help="Index database to use [default: <workspace>/.ark/index.db; env ARK_DATABASE].",
)
_JOBS = click.option(
    "--jobs", "-j", type=click.IntRange(min=1), help="Worker processes [default: one per core]."
)


def _fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    click.echo(f"ark: error: {message}", err=True)
    sys.exit(code)


@dataclass
class _Workspace:
    root: Path
    settings: Settings
    store: Store
    targets: list[Path]

    def display_path(self, relative: str) -> str:
        """A workspace path as the user would type it from the current folder."""
        return os.path.relpath(self.root / relative)


@contextmanager
def _workspace(
    paths: Sequence[Path], database: Path | None, *, rebuild: bool = False
) -> Iterator[_Workspace]:
    """Open the workspace holding ``paths`` and its index; turn faults into one line."""
    from ark_lsp.config import database_path, load_settings
    from ark_lsp.store import Store as StoreClass
    from ark_lsp.store import StoreError, move_aside
    from ark_lsp.workspace import find_root

    targets = [p.resolve() for p in paths] or [Path.cwd()]
    root = find_root(targets[0])
    outside = [str(p) for p in targets if not p.is_relative_to(root)]
    if outside:
        _fail(f"{', '.join(outside)} is not inside the workspace {root}", EXIT_USAGE)
    loaded = load_settings(root)
    for problem in loaded.problems:
        click.echo(f"ark: warning: {problem}", err=True)
    settings = loaded.settings
    location = database.resolve() if database else database_path(root, settings)
    try:
        if rebuild and location.exists():
            moved = move_aside(location)
            click.echo(f"ark: moved the previous database to {moved}", err=True)
        with StoreClass.open(location, busy_timeout=settings.busy_timeout) as store:
            # The database's rule pack, as users edited it, is the one in force.
            settings = replace(settings, base_rules=store.rules())
            yield _Workspace(root, settings, store, [p for p in targets if p != root])
    except StoreError as error:
        _fail(str(error), EXIT_DATABASE)


def _refresh(workspace: _Workspace, jobs: int | None, *, show_progress: bool) -> IndexFigures:
    from ark_lsp.workspace import index_workspace

    with _progress_reporter(show_progress) as progress:
        return index_workspace(
            workspace.root,
            workspace.settings,
            workspace.store,
            targets=workspace.targets,
            jobs=jobs,
            progress=progress,
        )


@contextmanager
def _progress_reporter(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on a terminal, a few plain lines otherwise."""
    if not enabled:
        yield None
        return
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task("indexing", total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield update
        return

    reported = -1

    def print_quarters(done: int, total: int) -> None:
        nonlocal reported
        quarter = 4 * done // total if total else 4
        if total >= PLAIN_PROGRESS_FROM and quarter > reported:
            reported = quarter
            click.echo(f"ark: indexed {done}/{total} changed files", err=True)

    yield print_quarters


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ark")
def main() -> None:
    """ARK: index, check, generate and sandbox Python code."""


@main.command()
@_PATHS
@_JOBS
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--rebuild", is_flag=True, help="Move the current database aside and start anew.")
@_DATABASE
def index(
    paths: tuple[Path, ...],
    jobs: int | None,
    output_format: str,
    rebuild: bool,
    database: Path | None,
) -> None:
    """Build or refresh the index of the workspace holding PATH (default: here)."""
    with _workspace(paths, database, rebuild=rebuild) as workspace:
        figures = _refresh(workspace, jobs, show_progress=output_format == "text")
        location = workspace.store.path
    if output_format == "json":
        click.echo(json.dumps({**figures.as_dict(), "database": str(location)}, indent=2))
        return
    for problem in figures.problems[:20]:
        click.echo(f"ark: {problem}", err=True)
    if len(figures.problems) > 20:
        click.echo(f"ark: ... and {len(figures.problems) - 20} more", err=True)
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


def _symbol_json(workspace: _Workspace, record: SymbolRecord) -> dict[str, Any]:
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
    workspace: _Workspace, records: Sequence[SymbolRecord], output_format: str
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


def _rule_ids(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@main.command()
@_PATHS
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "sarif"]), default="text"
)
@click.option("--select", metavar="IDS", help="Only these rules (comma-separated ids or prefixes).")
@click.option("--ignore", metavar="IDS", help="Not these rules (comma-separated ids or prefixes).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when errors are found.")
@click.option("--fix", is_flag=True, help="Apply the safe fixes, then report what is left.")
@_JOBS
@_DATABASE
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
    with _workspace(paths, database) as workspace:
        figures = _refresh(workspace, jobs, show_progress=output_format == "text")
        prefixes = [relative_posix(workspace.root, t) for t in workspace.targets] or None
        if fix:
            records = workspace.store.violations(path_prefixes=prefixes)
            _fix_files(workspace, sorted({v.path for v in records}))
            figures = _refresh(workspace, jobs, show_progress=False)
        records = workspace.store.violations(path_prefixes=prefixes)
        files_checked = workspace.store.totals(prefixes).files
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


def _fix_files(workspace: _Workspace, relative_paths: Sequence[str]) -> None:
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


@main.command()
@_PATHS
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--sort", type=click.Choice(["complexity", "name", "line"]), default="line", show_default=True
)
@click.option(
    "--min-complexity", type=click.IntRange(min=0), help="Only symbols at least this complex."
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many symbols.")
@_JOBS
@_DATABASE
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

    with _workspace(paths, database) as workspace:
        _refresh(workspace, jobs, show_progress=output_format == "text")
        prefixes = [relative_posix(workspace.root, t) for t in workspace.targets] or None
        records = workspace.store.symbols(
            path_prefixes=prefixes,
            min_complexity=min_complexity,
            sort=sort,  # type: ignore[arg-type]
            limit=limit,
        )
        _print_symbols(workspace, records, output_format)


@main.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Workspace to search [default: the one holding the current folder].",
)
@_DATABASE
def search(
    query: tuple[str, ...],
    output_format: str,
    limit: int,
    root: Path | None,
    database: Path | None,
) -> None:
    """Find symbols by name, qualified name or docstring words, best first."""
    with _workspace([root] if root else [], database) as workspace:
        _refresh(workspace, None, show_progress=False)
        records = workspace.store.search(" ".join(query), limit=limit)
        _print_symbols(workspace, records, output_format)


@main.command()
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "dot"]), default="text"
)
@click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Workspace to describe [default: the one holding the current folder].",
)
@_DATABASE
def graph(output_format: str, root: Path | None, database: Path | None) -> None:
    """Print the workspace's module dependency graph (importer -> imported)."""
    with _workspace([root] if root else [], database) as workspace:
        _refresh(workspace, None, show_progress=False)
        edges = workspace.store.module_edges()
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


@main.command()
@click.option("--stdio", is_flag=True, help="Talk over stdin/stdout (the default).")
@click.option("--tcp", "address", metavar="HOST:PORT", help="Listen on a TCP socket instead.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), help="Log here.")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
)
def serve(stdio: bool, address: str | None, log_file: Path | None, log_level: str) -> None:
    """Run the language server (stdio by default)."""
    import logging

    host, _, port = (address or "").rpartition(":")
    if address and not (host and port.isdigit()):
        _fail(f"--tcp takes HOST:PORT, got {address!r}", EXIT_USAGE)
    # Never log to stdout: in stdio mode it carries the protocol.
    logging.basicConfig(
        filename=log_file,
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from ark_lsp.server import create_server

    server = create_server()
    if address:
        server.start_tcp(host, int(port))
    else:
        server.start_io()


@main.group()
def rules() -> None:
    """List, explain, switch and add the rules of the workspace's rule pack."""


def _rules_database(root: Path | None, database: Path | None) -> AbstractContextManager[_Workspace]:
    return _workspace([root] if root else [], database)


_ROOT = click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Workspace [default: the one holding the current folder].",
)


@rules.command("list")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@_ROOT
@_DATABASE
def rules_list(output_format: str, root: Path | None, database: Path | None) -> None:
    """Every rule with its state, severity and pattern."""
    with _rules_database(root, database) as workspace:
        stored = workspace.store.rules()
    if output_format == "json":
        click.echo(json.dumps([_rule_json(rule) for rule in stored], indent=2))
        return
    for rule in stored:
        state = "on " if rule.enabled else "off"
        click.echo(
            f"{rule.id:<7} {state} {rule.severity.value:<8} {rule.kind.value:<10} "
            f"{rule.pattern:<22} {rule.name}"
        )


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "description": rule.description,
        "severity": rule.severity.value,
        "kind": rule.kind.value,
        "pattern": rule.pattern,
        "keyword": rule.keyword,
        "message": rule.message,
        "tiers": [tier.value for tier in rule.tiers],
        "enabled": rule.enabled,
        "fix": rule.fix,
        "builtin": rule.builtin,
    }


@rules.command("show")
@click.argument("rule_id")
@_ROOT
@_DATABASE
def rules_show(rule_id: str, root: Path | None, database: Path | None) -> None:
    """Explain one rule: what it matches, why it matters, how to fix it."""
    from ark_lsp.rules import DOCS_URL

    with _rules_database(root, database) as workspace:
        matching = [rule for rule in workspace.store.rules() if rule.id == rule_id.upper()]
    if not matching:
        _fail(f"no rule {rule_id}; `ark rules list` shows them", EXIT_USAGE)
    first = matching[0]
    click.echo(f"{first.id}: {first.description}")
    click.echo(f"  severity: {first.severity.value}")
    for rule in matching:
        state = "enabled" if rule.enabled else "disabled"
        detail = f" (keyword {rule.keyword})" if rule.keyword else ""
        click.echo(f"  {rule.kind.value} {rule.pattern}{detail}: {rule.message} [{state}]")
    for fix in dict.fromkeys(rule.fix for rule in matching if rule.fix):
        click.echo(f"  fix: {fix}")
    click.echo(f"  docs: {DOCS_URL.format(rule=first.id)}")


def _switch(rule_id: str, enabled: bool, root: Path | None, database: Path | None) -> None:
    with _rules_database(root, database) as workspace:
        changed = workspace.store.set_rule_enabled(rule_id.upper(), enabled)
    if not changed:
        _fail(f"no rule {rule_id}; `ark rules list` shows them", EXIT_USAGE)
    click.echo(f"{rule_id.upper()} {'enabled' if enabled else 'disabled'}")


@rules.command("enable")
@click.argument("rule_id")
@_ROOT
@_DATABASE
def rules_enable(rule_id: str, root: Path | None, database: Path | None) -> None:
    """Switch a rule on."""
    _switch(rule_id, True, root, database)


@rules.command("disable")
@click.argument("rule_id")
@_ROOT
@_DATABASE
def rules_disable(rule_id: str, root: Path | None, database: Path | None) -> None:
    """Switch a rule off."""
    _switch(rule_id, False, root, database)


@rules.command("add")
@click.argument("rule_id")
@click.option("--kind", type=click.Choice(["call", "call-kwarg", "import"]), required=True)
@click.option("--pattern", required=True, help="Qualified callee (pkg.* for a prefix) or module.")
@click.option("--message", required=True, help="What the diagnostic says.")
@click.option("--keyword", help="For call-kwarg: the keyword whose true value is flagged.")
@click.option(
    "--severity",
    type=click.Choice(["error", "warning", "info"]),
    default="error",
    show_default=True,
)
@click.option("--name", help="A short name [default: the id in lower case].")
@click.option("--fix", "fix_text", help="What to do about it.")
@_ROOT
@_DATABASE
def rules_add(
    rule_id: str,
    kind: str,
    pattern: str,
    message: str,
    keyword: str | None,
    severity: str,
    name: str | None,
    fix_text: str | None,
    root: Path | None,
    database: Path | None,
) -> None:
    """Add a rule of the workspace's own; no code change needed."""
    from ark_lsp.rules import user_rule

    raw = {
        "id": rule_id.upper(),
        "kind": kind,
        "pattern": pattern,
        "message": message,
        "keyword": keyword,
        "severity": severity,
        "name": name,
        "fix": fix_text,
    }
    try:
        rule = user_rule({key: value for key, value in raw.items() if value is not None})
    except ValueError as error:
        _fail(str(error), EXIT_USAGE)
    with _rules_database(root, database) as workspace:
        workspace.store.add_rule(rule)
    click.echo(f"added {rule.id} ({rule.name})")


def serve_main() -> None:
    """Entry point of the ``ark-lsp`` script."""
    main(["serve", *sys.argv[1:]])


if __name__ == "__main__":
    main()
