"""What every ``ark`` command shares: exit codes, options, opening the workspace."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from ark_lsp.config import Settings
    from ark_lsp.project import Project
    from ark_lsp.store import Store
    from ark_lsp.workspace import IndexFigures

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3
EXIT_FAILURE = 4
EXIT_REFUSED = 5
"""A change set was refused: the repository's state or the change itself rules it out."""
EXIT_INTERRUPTED = 130
"""Ctrl-C, as shells report a process that SIGINT ended (128 + 2)."""

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


@contextmanager
def cancel_on_interrupt() -> Iterator[threading.Event]:
    """An event that Ctrl-C sets, so long work stops cleanly, is recorded, and says so.

    The first SIGINT only asks the work to stop (the sandbox kills the run
    and returns a cancelled result); a second one interrupts ARK at once.
    """
    cancel = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return

    def interrupted(signum: int, frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        click.echo("ark: interrupted: stopping the run (Ctrl-C again to quit at once)", err=True)

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    click.echo(f"ark: error: {message}", err=True)
    sys.exit(code)


@dataclass
class Workspace:
    """The project a command works in, with its store open for the command."""

    project: Project
    store: Store
    targets: list[Path]
    """The paths the user named, resolved; empty for the whole workspace."""
    warned: set[str] = field(default_factory=set)
    """Warnings already printed: a second refresh in one command does not repeat them."""

    @property
    def root(self) -> Path:
        """The workspace root."""
        return self.project.root

    @property
    def settings(self) -> Settings:
        """The settings in force, the database's rule pack applied."""
        return self.project.settings

    def display_path(self, relative: str) -> str:
        """A workspace path as the user would type it from the current folder."""
        return os.path.relpath(self.root / relative)

    def warn_once(self, warnings: Iterable[str]) -> None:
        """Say each warning on stderr, unless this command said it already."""
        for warning in warnings:
            if warning not in self.warned:
                self.warned.add(warning)
                click.echo(f"ark: warning: {warning}", err=True)


@contextmanager
def open_workspace(
    paths: Sequence[Path],
    database: Path | None,
    *,
    rebuild: bool = False,
    name_it: str | None = None,
) -> Iterator[Workspace]:
    """Open the workspace holding ``paths`` and its index; turn faults into one line.

    A folder in no workspace (no marker at or above it: ``/tmp``, a home
    folder) is worked on only as far as the user named it: given no path, a
    command that would index all of it fails instead, telling the user how
    to ``name_it``; given paths, it works on them alone, and says so.
    """
    from ark_lsp.config.paths import ROOT_MARKERS
    from ark_lsp.project import Project
    from ark_lsp.store import StoreError
    from ark_lsp.workspace import find_workspace

    # The workspace is found where the user named the path (see find_root): a link
    # out of the workspace is then outside it, and refused.
    root, marked = find_workspace(paths[0] if paths else Path.cwd())
    markers = f"no {', '.join(ROOT_MARKERS[:-1])} or {ROOT_MARKERS[-1]} here or above"
    if not marked and not paths and name_it is not None:
        fail(f"{root} is in no workspace ({markers}); {name_it}", EXIT_USAGE)
    targets = [p.resolve() for p in paths] or [Path.cwd()]
    outside = [str(p) for p in targets if not p.is_relative_to(root)]
    if outside:
        fail(f"{', '.join(outside)} is not inside the workspace {root}", EXIT_USAGE)
    project = Project.load(
        root, database=database.resolve() if database else None, fresh_database=rebuild
    )
    if not marked:
        named = ", ".join(os.path.relpath(p) for p in targets)
        where = f"; the index is kept in {project.database}" if project.database_in_cache else ""
        click.echo(
            f"ark: note: {root} is in no workspace ({markers}): working on {named} only{where}",
            err=True,
        )
    say_settings(project, where_the_index_is=marked)
    if project.moved_aside is not None:
        click.echo(f"ark: moved the previous database to {project.moved_aside}", err=True)
    if project.database_problem:
        fail(project.database_problem, EXIT_DATABASE)
    if project.rule_pack_problem:
        click.echo(f"ark: warning: {project.rule_pack_problem}", err=True)
    try:
        with project.open_store() as store:
            yield Workspace(project, store, [p for p in targets if p != root])
    except StoreError as error:
        fail(str(error), EXIT_DATABASE)


def say_settings(project: Project, *, where_the_index_is: bool = True) -> None:
    """Each problem of the settings and each ignored key on stderr, and where the index is."""
    for problem in project.loaded.problems:
        click.echo(f"ark: warning: {problem}", err=True)
    note = project.loaded.ignored_note(project.root)
    if note:
        click.echo(f"ark: warning: {note}", err=True)
    because = project.database_cached_because
    if because is not None and where_the_index_is:
        click.echo(f"ark: note: {because}; the index is kept in {project.database}", err=True)


def refresh(
    workspace: Workspace, jobs: int | None, *, show_progress: bool, whole: bool = False
) -> IndexFigures:
    """Bring the workspace's index up to date under the paths named; say what it left out.

    With ``whole``, all of the workspace: what the paths named are looked up against.
    """
    from ark_lsp.workflows.index import refresh_index

    with progress_reporter(show_progress) as progress:
        figures = refresh_index(
            workspace.project,
            store=workspace.store,
            targets=() if whole else workspace.targets,
            jobs=jobs,
            progress=progress,
        )
    workspace.warn_once(figures.warnings)
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
