"""What every ``ark`` command shares: exit codes, options, opening the workspace."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from ark_lsp.config import Settings
    from ark_lsp.store import Store
    from ark_lsp.workspace import IndexFigures

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3
EXIT_FAILURE = 4

PLAIN_PROGRESS_FROM = 500
"""Without a terminal, progress lines are printed only for runs this large."""

PATHS = click.argument(
    "paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATH]..."
)
DATABASE = click.option(
    "--database",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="ARK_DATABASE",
    help="Index database to use [default: <workspace>/.ark/index.db; env ARK_DATABASE].",
)
JOBS = click.option(
    "--jobs", "-j", type=click.IntRange(min=1), help="Worker processes [default: one per core]."
)


ROOT = click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Workspace [default: the one holding the current folder].",
)


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    click.echo(f"ark: error: {message}", err=True)
    sys.exit(code)


@dataclass
class Workspace:
    root: Path
    settings: Settings
    store: Store
    targets: list[Path]
    warned: set[str] = field(default_factory=set)
    """Warnings already printed: a second refresh in one command does not repeat them."""

    def display_path(self, relative: str) -> str:
        """A workspace path as the user would type it from the current folder."""
        return os.path.relpath(self.root / relative)


@contextmanager
def open_workspace(
    paths: Sequence[Path], database: Path | None, *, rebuild: bool = False
) -> Iterator[Workspace]:
    """Open the workspace holding ``paths`` and its index; turn faults into one line."""
    from ark_lsp.config import database_path, load_settings
    from ark_lsp.store import Store as StoreClass
    from ark_lsp.store import StoreError, move_aside
    from ark_lsp.workspace import find_root

    targets = [p.resolve() for p in paths] or [Path.cwd()]
    root = find_root(targets[0])
    outside = [str(p) for p in targets if not p.is_relative_to(root)]
    if outside:
        fail(f"{', '.join(outside)} is not inside the workspace {root}", EXIT_USAGE)
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
            yield Workspace(root, settings, store, [p for p in targets if p != root])
    except StoreError as error:
        fail(str(error), EXIT_DATABASE)


def refresh(workspace: Workspace, jobs: int | None, *, show_progress: bool) -> IndexFigures:
    from ark_lsp.workspace import index_workspace

    with progress_reporter(show_progress) as progress:
        figures = index_workspace(
            workspace.root,
            workspace.settings,
            workspace.store,
            targets=workspace.targets,
            jobs=jobs,
            progress=progress,
        )
    for warning in figures.warnings:
        if warning not in workspace.warned:
            workspace.warned.add(warning)
            click.echo(f"ark: warning: {warning}", err=True)
    return figures


@contextmanager
def progress_reporter(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
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
