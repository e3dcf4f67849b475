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
    from ark_lsp.config import LoadedSettings, Settings
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
    templates_root: Path | None = None
    """The root whose ``.ark/templates/`` overrides apply: only a trusted workspace's."""
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
    from ark_lsp.store import Store as StoreClass
    from ark_lsp.store import StoreError, move_aside
    from ark_lsp.workspace import find_root

    # The workspace is found where the user named the path (see find_root): a link
    # out of the workspace is then outside it, and refused.
    root = find_root(paths[0] if paths else Path.cwd())
    targets = [p.resolve() for p in paths] or [Path.cwd()]
    outside = [str(p) for p in targets if not p.is_relative_to(root)]
    if outside:
        fail(f"{', '.join(outside)} is not inside the workspace {root}", EXIT_USAGE)
    loaded = workspace_settings(root)
    settings = loaded.settings
    location = database.resolve() if database else database_path_of(root, settings)
    try:
        if rebuild and location.exists():
            moved = move_aside(location)
            click.echo(f"ark: moved the previous database to {moved}", err=True)
        with StoreClass.open(location, busy_timeout=settings.busy_timeout) as store:
            settings = with_rule_pack(settings, store)
            yield Workspace(
                root,
                settings,
                store,
                [p for p in targets if p != root],
                templates_root=root if loaded.workspace_templates else None,
            )
    except StoreError as error:
        fail(str(error), EXIT_DATABASE)


def workspace_settings(root: Path) -> LoadedSettings:
    """The settings in force at ``root``, each problem and ignored key said on stderr."""
    from ark_lsp.config import load_settings

    loaded = load_settings(root)
    for problem in loaded.problems:
        click.echo(f"ark: warning: {problem}", err=True)
    note = loaded.ignored_note(root)
    if note:
        click.echo(f"ark: warning: {note}", err=True)
    return loaded


def database_path_of(root: Path, settings: Settings) -> Path:
    """Where the workspace's index lives, saying so when it is not in the workspace."""
    from ark_lsp.config import STATE_DIR, cached_database_path, database_path

    location = database_path(root, settings)
    if location == cached_database_path(root):
        click.echo(
            f"ark: note: {root / STATE_DIR} is not a folder of the workspace's own; "
            f"the index is kept in {location}",
            err=True,
        )
    return location


def with_rule_pack(settings: Settings, store: Store) -> Settings:
    """``settings`` with the database's rule pack in force, when the user made it."""
    from ark_lsp.trust import rules_in_force

    rules, problem = rules_in_force(store.rules.load(), store.path)
    if problem:
        click.echo(f"ark: warning: {problem}", err=True)
    return replace(settings, base_rules=rules)


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
