"""Generating tests: characterize a module's functions in the sandbox and write what they did.

``ark generate tests PATH[::NAME]`` and the editor's "Generate tests"
action come here: sample inputs from the call sites the index knows, the
functions run in the project's sandbox, the test file rendered, validated,
recorded in ``generated_code`` with its outcome, written (by the CLI; the
editor applies the change itself) and run to count how many pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ark_lsp.changes.errors import ChangeError
from ark_lsp.changes.repository import GitRepository
from ark_lsp.generate import Generation, ReadText
from ark_lsp.generate.characterize import (
    CharacterizationContext,
    WrittenTests,
    generate_tests,
    testfile,
)
from ark_lsp.generate.characterize.pipeline import CallSites, TestsUsing
from ark_lsp.git import GitError, git_bytes
from ark_lsp.models import CancelCheck, Tier
from ark_lsp.project import Project
from ark_lsp.sandbox import WorkspaceRunner
from ark_lsp.store import Store, StoreError
from ark_lsp.workflows.changes import AsChange, Proposal
from ark_lsp.workflows.generate import propose_generation, record_generation

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
"""Told, in a few words, what the generation is doing now."""


@dataclass(frozen=True)
class CharacterizationResult:
    """The test file's change, how its tests fared, and whether it was written."""

    generation: Generation
    outcome: WrittenTests
    written: bool = False
    proposal: Proposal | None = None
    """The change set the test file became, when it was asked for as one."""


def characterize(
    project: Project,
    relative: str,
    *,
    name: str | None = None,
    line: int | None = None,
    store: Store | None = None,
    runner: WorkspaceRunner | None = None,
    read_text: ReadText | None = None,
    write: bool = False,
    as_change: AsChange | None = None,
    run_tests: bool = True,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> CharacterizationResult:
    """Write (or extend) the test file of ``relative`` with tests of what its code does today.

    The targets are the function or method ``name``, the one defined at
    ``line``, or every public one of the file. ``store`` is an open
    connection of the project's for the call sites and the record (a fault
    then raises); without one, the workflow opens its own and goes on
    without call sites or record when it cannot. ``runner`` is the sandbox
    to use (default: the project's, made and closed for this call);
    ``read_text`` how files are read (default: the project's bounded read).
    ``write`` writes the file when the analysis let it through; with
    ``as_change`` too, the file is proposed as a change set instead
    (:func:`~ark_lsp.workflows.generate.propose_generation`), on HEAD: the
    test files are then looked for and read as HEAD has them.

    Raises :class:`~ark_lsp.generate.characterize.NothingToTest` when there
    is nothing new to test, :class:`~ark_lsp.generate.TemplateError` for a
    broken template, :class:`OSError` when the file cannot be written inside
    the workspace.
    """
    read = read_text or project.read_text
    with _index_lookups(project, store, read) as (call_sites, tests_using):
        owned_runner = project.sandbox_runner(progress=progress) if runner is None else None
        context = CharacterizationContext(
            root=project.root,
            settings=project.settings,
            templates=project.templates(),
            runner=runner or owned_runner,
            call_sites=call_sites,
            tests_using=tests_using,
            read_text=read,
            cancel=cancel,
            progress=progress,
            run_tests=run_tests,
            base=_head_files(project) if write and as_change is not None else None,
        )
        try:
            result = generate_tests(context, relative, name=name, line=line)
        finally:
            if owned_runner is not None:
                owned_runner.close()
    record_generation(project, result.generation, result.outcome.as_dict(), store=store)
    generation = result.generation
    writable = write and generation.offered and result.outcome.collectable
    if writable and as_change is not None:
        targets = tuple(f"{relative}::{name}" for name in result.outcome.targets)
        proposal = propose_generation(project, generation, as_change, targets=targets)
        return CharacterizationResult(generation, result.outcome, False, proposal)
    if writable:
        project.write_text(project.root / generation.change.path, generation.change.new_text)
    return CharacterizationResult(generation, result.outcome, writable)


def _head_files(project: Project) -> testfile.Snapshot | None:
    """The workspace's files at HEAD, a change set's base; None when there is no HEAD to read.

    ``--as-change`` with an untracked ``tests/test_ast.py`` said it already
    tested the module, though the change, made on HEAD, had no such file.
    """
    try:
        repo = GitRepository.containing(project.root)
        commit = repo.head().commit
        inside = project.root.resolve().relative_to(repo.top.resolve()).as_posix()
        listed = git_bytes(repo.top, "ls-tree", "-r", "-l", "-z", "--full-tree", commit)
    except (ChangeError, GitError, OSError, ValueError):
        return None  # proposing the change says why it cannot be made
    prefix = "" if inside == "." else f"{inside}/"
    blobs: dict[str, tuple[str, int]] = {}
    for entry in listed.decode("utf-8", "surrogateescape").split("\0"):
        meta, _, path = entry.partition("\t")
        fields = meta.split()
        # Files only: not links (120000), nor submodules.
        file = len(fields) == 4 and fields[1] == "blob" and fields[0] != "120000"
        if file and path.startswith(prefix) and fields[3].isdigit():
            blobs[path.removeprefix(prefix)] = (fields[2], int(fields[3]))

    def read(relative: str) -> str | None:
        blob = blobs.get(relative)
        if blob is None or blob[1] > testfile.TEST_FILE_SIZE_CAP:
            return None
        try:
            return git_bytes(repo.top, "cat-file", "blob", blob[0]).decode("utf-8")
        except (GitError, OSError, UnicodeDecodeError):
            return None

    return testfile.Snapshot(frozenset(blobs), read)


@contextmanager
def _index_lookups(
    project: Project, store: Store | None, read: ReadText
) -> Iterator[tuple[CallSites, TestsUsing]]:
    """What generation asks the index while it is open.

    The texts of the files calling a name (for examples), and the test files that may use it.
    """
    if store is not None:
        yield _calling(project, store, read), _tests_using(store)
        return
    try:
        opened = project.open_store()
    except StoreError as error:
        logger.warning("no call sites for test inputs: %s", error)
        yield (lambda function: []), (lambda module, function: [])
        return
    with opened:
        yield _calling(project, opened, read), _tests_using(opened)


def _calling(project: Project, store: Store, read: ReadText) -> CallSites:
    def call_sites(function: str) -> list[str]:
        texts = [read(project.root / caller) for caller in store.index.files_calling(function)]
        return [text for text in texts if text]

    return call_sites


def _tests_using(store: Store) -> TestsUsing:
    def tests_using(module: str, function: str) -> list[str]:
        calling = store.index.files_calling(function, limit=5, tier=Tier.TESTING)
        importing = store.index.files_importing(testfile.enclosing(module), Tier.TESTING)
        return list(dict.fromkeys([*calling, *importing]))

    return tests_using


__all__ = ["CharacterizationResult", "Progress", "characterize"]
