"""The quality gate: judge a change by its new code, against its base, and keep the report.

``ark gate`` and the editor's ``ark.gate`` come here. What is judged:

- nothing named: the working tree's uncommitted changes (tracked and
  untracked files, not ignored ones) against HEAD, committed first into a
  commit no branch holds (the user's index and files are not touched);
- ``BASE..HEAD`` (either side may be left out for HEAD), or ``A...B`` for
  what B added since it left A (their merge base against B);
- a change set's id: its base and head (see :func:`change_commits`).

Both commits are checked out as disposable worktrees in the user's cache
(:mod:`ark_lsp.gate.checkouts`), removed afterwards however the run ends.
The gate's settings, and ARK's own (the rules and tiers the findings are
judged by), come from the base commit's ``pyproject.toml``: a change cannot
edit its own judge. Each check ``[tool.ark.gate] checks`` switches on runs
(:mod:`ark_lsp.gate.checks`), timed; the others are listed as not run,
"switched off". The verdict is "pass" only when every enabled check passed,
and the run is kept in ``code_quality_reports``.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ark_lsp.changes import SHORT_ID_LENGTH, BadRequest, ChangeError
from ark_lsp.config import GateSettings, PyprojectText, Settings
from ark_lsp.config.values import GATE_CHECKS
from ark_lsp.files import read_contained
from ark_lsp.gate.checkouts import checked_out, scratch_folder, snapshot_working_tree
from ark_lsp.gate.checks import run_check
from ark_lsp.gate.context import CheckContext
from ark_lsp.gate.diff import changed_files
from ark_lsp.gate.integrity import integrity_flags
from ark_lsp.gate.model import (
    ChangedFile,
    CheckResult,
    CheckStatus,
    GateInput,
    IntegrityFlag,
    not_run,
)
from ark_lsp.gate.report import SWITCHED_OFF, GateReport, Verdict, quality_rows
from ark_lsp.git import GitError, git, git_bytes
from ark_lsp.models import CancelCheck
from ark_lsp.project import Project
from ark_lsp.sandbox import SandboxRunner
from ark_lsp.sandbox.declarations import build_written_files
from ark_lsp.store import QualityRun, Store
from ark_lsp.store.connection import utc_now
from ark_lsp.workflows import changes

GateProgress = Callable[[str, int | None], None]
"""Told what the gate is doing, and how far it is in percent (None: as far as before)."""

WORKING_TREE = "the working tree"
"""The subject of a run on the uncommitted changes."""


class GateError(Exception):
    """The gate could not judge: not a git repository, an unknown commit... (one line)."""


class GateUsageError(GateError):
    """What was named is not something the gate can judge (a usage error)."""


class GateCancelled(GateError):
    """The caller asked the run to stop; nothing was recorded."""


@dataclass(frozen=True)
class GateTarget:
    """What a gate run judges, resolved to commits."""

    subject: str
    base: str
    head: str | None
    """None: the working tree."""
    change_id: str | None = None


def change_commits(project: Project, ident: str) -> tuple[str, str, str]:
    """The full id, base and head commits of the change set ``ident`` (an id, a prefix, a branch).

    The one seam to the change sets (:mod:`ark_lsp.workflows.changes`): its
    branch is made again if it was removed, so the head always holds
    exactly the recorded change.
    """
    try:
        checked_out = changes.checkout(project, ident)
    except BadRequest as error:
        raise GateUsageError(str(error)) from None
    except ChangeError as error:
        raise GateError(str(error)) from None
    return checked_out.change.id, checked_out.base, checked_out.head


# --- git -----------------------------------------------------------------------------------


def _repository(root: Path) -> tuple[Path, str]:
    """The top of the repository holding ``root``, and ``root``'s place in it (``a/b/`` or "")."""
    try:
        top = git(root, "rev-parse", "--show-toplevel").strip()
        prefix = git(root, "rev-parse", "--show-prefix").strip()
    except GitError as error:
        if "not a git repository" in str(error):
            raise GateError(f"{root} is not in a git repository") from None
        raise GateError(str(error)) from None
    return Path(top), prefix


def _commit(repo: Path, revision: str) -> str:
    """The full id of the commit ``revision`` names; :class:`GateError` when none."""
    found = _commit_or_none(repo, revision)
    if not found:
        if revision == "HEAD":
            raise GateError(f"{repo} has no commits yet: the gate judges changes to a commit")
        parent = _PARENT.fullmatch(revision)
        if parent and _commit_or_none(repo, parent[1]):
            # `HEAD~1` of a repository's first commit: say why, not "unknown".
            raise GateError(f"unknown commit {revision!r}: {parent[1]} has no parent that far back")
        raise GateError(f"unknown commit {revision!r}")
    return found


_PARENT = re.compile(r"(.+?)(?:[~^]\d*)+")
"""A revision that names an ancestor of another: ``HEAD~1``, ``main^^``."""


def _commit_or_none(repo: Path, revision: str) -> str | None:
    """The full id of the commit ``revision`` names, if it names one."""
    found = git(
        repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}",
        check=False,
    ).strip()  # fmt: skip
    return found or None


def resolve_target(project: Project, repo: Path, target: str | None) -> GateTarget:
    """The commits of what the user named (see the module's description)."""
    if target is None or target == "":
        return GateTarget(WORKING_TREE, _commit(repo, "HEAD"), None)
    for separator in ("...", ".."):
        if separator in target:
            left, _, right = target.partition(separator)
            head = _commit(repo, right or "HEAD")
            base = _commit(repo, left or "HEAD")
            if separator == "...":
                try:
                    base = git(repo, "merge-base", base, head).strip()
                except GitError:
                    raise GateError(f"{left} and {right} have no common ancestor") from None
            return GateTarget(target, base, head)
    change_id, base, head = change_commits(project, target)
    # Named by its short id however the user named it (a prefix, its branch): one name.
    return GateTarget(change_id[:SHORT_ID_LENGTH], base, head, change_id=change_id)


def _pyproject_at(repo: Path, commit: str, prefix: str, max_size: int) -> PyprojectText:
    """The project's ``pyproject.toml`` as ``commit`` has it, read from git, bounded."""
    path = f"{prefix}pyproject.toml"
    where = f"{commit[:12]}:{path}"
    listing = git(repo, "ls-tree", "-l", commit, "--", path).strip()
    meta, _, _ = listing.partition("\t")
    fields = meta.split()
    # Only a regular file: a link in a commit says nothing of the settings.
    if len(fields) != 4 or fields[0] not in ("100644", "100755") or fields[1] != "blob":
        return PyprojectText(where, None)
    if not fields[3].isdigit() or int(fields[3]) > max_size:
        return PyprojectText(where, None)
    return PyprojectText(where, git_bytes(repo, "cat-file", "blob", fields[2]))


def _under(prefix: str, files: tuple[ChangedFile, ...]) -> tuple[ChangedFile, ...]:
    """The changed files inside the project (``prefix`` of the repository), relative to it."""
    if not prefix:
        return files
    inside = []
    for changed in files:
        if not changed.path.startswith(prefix):
            continue
        old = changed.old_path
        inside.append(
            replace(
                changed,
                path=changed.path.removeprefix(prefix),
                old_path=old.removeprefix(prefix) if old and old.startswith(prefix) else None,
            )
        )
    return tuple(inside)


# --- the run -------------------------------------------------------------------------------


class _Runners:
    """The sandbox runners the checks asked for, one per checkout, closed when the run ends."""

    def __init__(self, project: Project) -> None:
        self._project = project
        self._made: dict[Path, SandboxRunner] = {}

    def __call__(self, checkout: Path) -> SandboxRunner:
        if checkout not in self._made:
            self._made[checkout] = self._project.sandbox_runner(root=checkout)
        return self._made[checkout]

    def close(self) -> None:
        for runner in self._made.values():
            runner.close()
        self._made.clear()


@contextlib.contextmanager
def _opened(project: Project, store: Store | None) -> Iterator[Store]:
    if store is not None:
        yield store
        return
    with project.open_store() as opened:
        yield opened


def _context(
    judged: Project, runners: _Runners, cancel: CancelCheck, progress: GateProgress
) -> CheckContext:
    if judged.restricted:
        return CheckContext(
            settings=judged.settings,
            sandbox_refused="the editor keeps the folder in restricted mode",
            cancel=cancel,
            progress=lambda message: progress(message, None),
        )
    return CheckContext(
        settings=judged.settings,
        sandbox=runners,
        sandbox_refused="",
        cancel=cancel,
        progress=lambda message: progress(message, None),
    )


def _judge(
    gate_input: GateInput, context: CheckContext, progress: GateProgress
) -> tuple[CheckResult, ...]:
    results = []
    enabled = gate_input.settings.checks
    for number, name in enumerate(GATE_CHECKS):
        if context.cancel():
            raise GateCancelled("the gate run was cancelled")
        if name not in enabled:
            results.append(not_run(name, SWITCHED_OFF))
            continue
        progress(f"checking {name}", 100 * number // len(GATE_CHECKS))
        results.append(run_check(name, gate_input, context))
    if context.cancel():  # the last check may have stopped half-way: nothing it says counts
        raise GateCancelled("the gate run was cancelled")
    return tuple(results)


def _judge_checkouts(
    project: Project,
    judged: Project,
    repo: Path,
    scratch: Path,
    commits: tuple[str, str],
    prefix: str,
    files: tuple[ChangedFile, ...],
    cancelled: CancelCheck,
    told: GateProgress,
) -> tuple[tuple[CheckResult, ...], Mapping[str, object] | None, tuple[IntegrityFlag, ...]]:
    """The checks, the tests chosen and the integrity flags of ``commits`` (base, head).

    Both are checked out for the checks; ``judged`` is the project as the base's
    settings make it.
    """
    runners = _Runners(judged)
    try:
        with checked_out(repo, scratch, *commits) as trees:
            gate_input = GateInput(
                trees.base / prefix, trees.head / prefix, files, judged.settings.gate
            )
            _add_build_written(project.root, (gate_input.base_dir, gate_input.head_dir))
            context = _context(judged, runners, cancelled, told)
            checks = _judge(gate_input, context, told)
            return checks, context.test_selection(), integrity_flags(gate_input)
    except GitError as error:
        raise GateError(f"cannot check the change out: {error}") from None
    finally:
        runners.close()


def _nothing_changed(settings: GateSettings) -> tuple[CheckResult, ...]:
    """The checks of a change that holds no file: nothing new to find, cover or break.

    As diff-cover and a "clean as you code" gate pass a change without new
    code, without running the suite: both sides are the same commit's files.
    """
    return tuple(
        CheckResult(name, CheckStatus.PASSED, f"{name}: nothing changed")
        if name in settings.checks
        else not_run(name, SWITCHED_OFF)
        for name in GATE_CHECKS
    )


VERSION_FILE_CAP = 64 * 1024
"""Bytes of a build-written version module copied into a checkout; a larger one is not one."""


def _add_build_written(root: Path, trees: Iterable[Path]) -> None:
    """Put the version module a build wrote into each checkout that lacks it.

    hatch-vcs and setuptools-scm write it into the working tree, and git ignores
    it, so no commit holds it: without it the package cannot be imported, and
    humanize's tests could not run on the base or on the change.
    """
    for relative in build_written_files(root):
        try:
            data = read_contained(root / relative, [root], VERSION_FILE_CAP)
        except OSError:  # ReadRefused too: a link leading out, a file too large
            continue
        for tree in trees:
            target = tree / relative
            if target.parent.is_dir() and not target.exists() and not target.is_symlink():
                target.write_bytes(data)


def run_gate(
    project: Project,
    target: str | None = None,
    *,
    store: Store | None = None,
    cancel: CancelCheck | None = None,
    progress: GateProgress | None = None,
) -> GateReport:
    """Judge ``target`` (see the module's description) and keep the report in the store.

    ``store`` is an open connection of the project's; without one the run
    opens its own, before any work, so a database that cannot be used fails
    at once. Raises :class:`GateUsageError` for a target the gate cannot
    judge, :class:`GateError` when git cannot give what it needs,
    :class:`GateCancelled` once ``cancel`` says so, and
    :class:`~ark_lsp.store.StoreError` for the database.
    """
    cancelled: CancelCheck = cancel or (lambda: False)
    told: GateProgress = progress or (lambda message, percent: None)
    repo, prefix = _repository(project.root)
    target_commits = resolve_target(project, repo, target)
    run_id = uuid.uuid4().hex[:12]
    started_at, started = utc_now(), time.perf_counter()
    with _opened(project, store) as opened, scratch_folder(repo, run_id) as scratch:
        told("reading the change", 0)
        try:
            head = target_commits.head or snapshot_working_tree(repo, scratch)
            files = _under(prefix, changed_files(repo, target_commits.base, head))
            pyproject = _pyproject_at(repo, target_commits.base, prefix, Settings().max_file_size)
        except GitError as error:
            raise GateError(str(error)) from None
        judged = project.judged_by(pyproject)
        if files:
            commits = (target_commits.base, head)
            checks, selection, flags = _judge_checkouts(
                project, judged, repo, scratch, commits, prefix, files, cancelled, told
            )
        else:
            checks, selection, flags = _nothing_changed(judged.settings.gate), None, ()
        report = GateReport(
            run_id=run_id,
            subject=target_commits.subject,
            base=target_commits.base,
            head=head,
            files=files,
            checks=checks,
            enabled=frozenset(judged.settings.gate.checks),
            settings=judged.settings.gate,
            change_id=target_commits.change_id,
            working_tree=target_commits.head is None,
            problems=judged.loaded.problems,
            integrity=flags,
            test_selection=selection,
            started_at=started_at,
            duration_ms=(time.perf_counter() - started) * 1000,
        )
        opened.quality.record(quality_rows(report))
    told(report.summary(), 100)
    return report


def gate_history(store: Store, *, limit: int = 20, subject: str | None = None) -> list[QualityRun]:
    """The latest gate runs kept in the store, newest first (of one subject, if named).

    A change set may be named as ``ark gate`` takes it: its id, a prefix, its branch.
    """
    if subject is not None and ".." not in subject and subject != WORKING_TREE:
        try:
            change = changes.find(store, subject)
        except ChangeError:
            pass  # not a change set's name: runs of that subject, if any
        else:
            return store.quality.runs(limit=limit, change_id=change.id)
    return store.quality.runs(limit=limit, subject=subject)


__all__ = [
    "WORKING_TREE",
    "GateCancelled",
    "GateError",
    "GateProgress",
    "GateReport",
    "GateTarget",
    "GateUsageError",
    "Verdict",
    "change_commits",
    "gate_history",
    "resolve_target",
    "run_gate",
]
