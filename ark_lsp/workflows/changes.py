"""Change sets: propose one from any source, list, show, diff, drop, and check one out.

Every command here starts the same way (:func:`_session`): the git
repository the project is in, the project's store, the folder of the
repository's changes in the user's cache, locked, and a sweep that removes
what a killed command left behind (see :mod:`ark_lsp.changes.worktrees`).

Proposing follows one path for every source: make the patch against its
base in an index of ARK's own (:mod:`ark_lsp.changes.patches`), refuse a
dirty base where the patch may have been made on the working tree rather
than on HEAD, then journal, branch and worktree, commit, record. Nothing
is written for a change that is refused.

The rule for a dirty base: a patch whose base is HEAD because it was made
against the working tree (``--patch``, and ARK's own generators, which
read the files there) is refused when any file it touches differs from
HEAD in the index or the working tree, an untracked file where it creates
one included: HEAD is then not what it was made on. Other uncommitted
files do not matter, nor does anything uncommitted for ``--from-worktree``
(it is the change) or ``--range`` (commits only; the working tree is not
read).

The quality gate's seam is :func:`checkout`: a change's base commit and a
worktree holding the change, made again if it was cleaned away.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ark_lsp.changes import (
    BRANCH_PREFIX,
    SHORT_ID_LENGTH,
    AmbiguousChange,
    BadChangeId,
    BaseMissing,
    ChangeError,
    ChangeSet,
    DirtyBase,
    GitRepository,
    Provenance,
    SourceKind,
    UnknownChange,
    change_id,
    is_id_prefix,
    patches,
)
from ark_lsp.changes.worktrees import (
    ChangesFolder,
    branch_commit,
    materialized,
    remove,
    remove_worktree,
    sweep,
    worktrees,
)
from ark_lsp.git import GitError, git
from ark_lsp.project import Project
from ark_lsp.store import Store
from ark_lsp.store.connection import utc_now
from ark_lsp.trust import user_cache_folder


@dataclass(frozen=True)
class Proposal:
    """A change proposed: recorded and checked out on its branch."""

    change: ChangeSet
    worktree: Path
    created: bool = True
    """False when the very same change (same base, same patch) was recorded already."""


@dataclass(frozen=True)
class ChangeState:
    """A recorded change, with where it stands in the repository now."""

    change: ChangeSet
    worktree: Path | None
    """Its worktree, when it is checked out (:func:`checkout` makes one otherwise)."""
    base_exists: bool
    """False once history rewriting and gc took its base commit away."""


@dataclass(frozen=True)
class ChangeCheckout:
    """A change checked out for judging: the gate's seam (:func:`checkout`)."""

    change: ChangeSet
    base: str
    """The full name of the base commit."""
    head: str
    """The full name of the change's commit on its branch (its parent is ``base``)."""
    worktree: Path
    """A worktree holding exactly the change's commit, clean, outside the user's checkout."""


@dataclass(frozen=True)
class AsChange:
    """What ARK generates, asked for as a change set rather than written: by whom, and why."""

    proposed_by: str
    """Who or what asks: ``ark check --fix (alice)``."""
    reason: str | None = None
    """Why, when the asker says; else the generator's own words."""


@dataclass(frozen=True)
class Dropped:
    """A change forgotten, with whether its branch could go (a branch checked out stays)."""

    change: ChangeSet
    branch_removed: bool


@dataclass
class _Session:
    repo: GitRepository
    store: Store
    folder: ChangesFolder


@contextmanager
def _session(project: Project) -> Iterator[_Session]:
    """The repository, the store and the changes folder, locked and swept."""
    repo = GitRepository.containing(project.root)
    with project.open_store() as store:
        folder = ChangesFolder.of(user_cache_folder(), repo, store.path)
        with folder.locked():
            try:
                sweep(repo, folder, _recorded(store))
            except GitError as error:
                raise ChangeError(f"could not tidy the changes' worktrees: {error}") from None
            yield _Session(repo, store, folder)


def _recorded(store: Store) -> dict[str, ChangeSet]:
    return {change.branch: change for change in store.changes.all()}


# --- proposing ----------------------------------------------------------------------------


def propose_patch(
    project: Project, patch: bytes, provenance: Provenance, targets: Sequence[str] = ()
) -> Proposal:
    """A patch (``git diff`` or ``diff -u`` form, paths from the repository's top) on HEAD."""
    with _session(project) as session:
        head = session.repo.head()
        _refuse_dirty(session.repo, patches.patch_paths(session.repo, patch))
        prepared = patches.from_patch(session.repo, head.commit, patch)
        return _propose(session, prepared, provenance, targets, head.branch)


def propose_worktree(
    project: Project, provenance: Provenance, targets: Sequence[str] = ()
) -> Proposal:
    """The working tree's uncommitted changes (untracked, not ignored, files too) on HEAD.

    The user's working tree, index and stash are left exactly as they were.
    """
    with _session(project) as session:
        head = session.repo.head()
        prepared = patches.from_worktree(session.repo, head.commit)
        return _propose(session, prepared, provenance, targets, head.branch)


def propose_range(
    project: Project, commits: str, provenance: Provenance, targets: Sequence[str] = ()
) -> Proposal:
    """What the commits ``A..B`` change, as one change on A."""
    with _session(project) as session:
        head = session.repo.head()
        prepared = patches.from_range(session.repo, commits)
        return _propose(session, prepared, provenance, targets, head.branch)


def propose_edits(
    project: Project,
    edits: Mapping[str, str | None],
    provenance: Provenance,
    targets: Sequence[str] = (),
) -> Proposal:
    """Files of the project given whole (workspace-relative path -> new text; None deletes).

    What ARK's generators write (fixes, tests, stubs) comes here instead of
    the working tree when the user asks for a change. The edits are on HEAD,
    and must be of files without uncommitted changes (see the module's rule).
    """
    with _session(project) as session:
        head = session.repo.head()
        relative = {
            _top_relative(project, session.repo, path): None if text is None else text.encode()
            for path, text in edits.items()
        }
        _refuse_dirty(session.repo, list(relative))
        prepared = patches.from_edits(session.repo, head.commit, relative)
        return _propose(session, prepared, provenance, targets, head.branch)


def propose_generated(
    project: Project,
    edits: Mapping[str, str | None],
    asked: AsChange,
    source: SourceKind,
    *,
    reason: str,
    detail: str = "",
    targets: Sequence[str] = (),
) -> Proposal:
    """What one of ARK's generators made (fixes, tests, stubs), as a change set.

    ``reason`` is the generator's own, used when ``asked`` gives none.
    """
    provenance = Provenance(asked.reason or reason, asked.proposed_by, source, detail)
    return propose_edits(project, edits, provenance, targets)


def _top_relative(project: Project, repo: GitRepository, path: str) -> str:
    """A workspace-relative path as the repository's top names it."""
    absolute = Path(os.path.normpath(project.root / path))
    try:
        return PurePosixPath(absolute.relative_to(repo.top.resolve())).as_posix()
    except ValueError:
        raise ChangeError(f"{path} is not inside the repository {repo.top}") from None


def _refuse_dirty(repo: GitRepository, paths: Sequence[str]) -> None:
    dirty = repo.uncommitted(paths)
    if dirty:
        raise DirtyBase(dirty)


def _propose(
    session: _Session,
    prepared: patches.PreparedPatch,
    provenance: Provenance,
    targets: Sequence[str],
    onto: str,
) -> Proposal:
    """Record the prepared change and make its branch and worktree (or find it made)."""
    identity = change_id(prepared.base, prepared.patch)
    existing = session.store.changes.get(identity)
    if existing is not None:
        return Proposal(existing, _ensure(session, existing), created=False)
    change = ChangeSet(
        id=identity,
        base=prepared.base,
        patch=prepared.patch,
        provenance=provenance,
        targets=tuple(dict.fromkeys(t for t in targets if t)),
        onto=onto,
        created_at=utc_now(),
    )
    with materialized(session.repo, session.folder, change, prepared.tree) as worktree:
        session.store.changes.record(change)
    return Proposal(change, worktree)


# --- finding, listing, dropping -----------------------------------------------------------


def find(store: Store, ident: str) -> ChangeSet:
    """The recorded change ``ident`` names: its id, a prefix of 4+ hex digits, or its branch.

    Raises :class:`UnknownChange`, :class:`AmbiguousChange` or :class:`BadChangeId`.
    """
    text = ident.strip().lower()
    if text.startswith(BRANCH_PREFIX):
        text = text.removeprefix(BRANCH_PREFIX)[:SHORT_ID_LENGTH]
    if not is_id_prefix(text):
        raise BadChangeId(ident)
    found = store.changes.starting_with(text)
    if not found:
        raise UnknownChange(ident)
    if len(found) > 1:
        raise AmbiguousChange(ident, [change.id for change in found])
    return found[0]


def list_changes(project: Project) -> list[ChangeState]:
    """Every recorded change, oldest first, with its worktree and whether its base is there."""
    with _session(project) as session:
        changes = session.store.changes.all()
        missing = session.repo.missing_commits({c.base for c in changes})
        checked_out = _checked_out(session)
        return [ChangeState(c, checked_out.get(c.branch), c.base not in missing) for c in changes]


def show_change(project: Project, ident: str) -> ChangeState:
    """One recorded change; :class:`BaseMissing` when its base commit is gone."""
    with _session(project) as session:
        change = find(session.store, ident)
        if not session.repo.has_commit(change.base):
            raise BaseMissing(change.short_id, change.base)
        return ChangeState(change, _checked_out(session).get(change.branch), True)


def drop_change(project: Project, ident: str) -> Dropped:
    """Forget a change: its record, then its worktree and branch (a gone base is no obstacle)."""
    with _session(project) as session:
        change = find(session.store, ident)
        # The record first: if ARK dies after it, the next sweep removes the rest.
        session.store.changes.delete(change.id)
        gone = remove(session.repo, change.branch, session.folder.worktree(change))
        return Dropped(change, gone)


def sweep_changes(project: Project) -> None:
    """Only the sweep every change command starts with: nothing stale is left."""
    with _session(project):
        pass


def _checked_out(session: _Session) -> dict[str, Path]:
    """The worktree of each change branch checked out in the changes folder."""
    inside = session.folder.path.resolve()
    return {
        tree.branch: tree.path
        for tree in worktrees(session.repo)
        if tree.branch and tree.path.exists() and tree.path.resolve().is_relative_to(inside)
    }


# --- checking out: the gate's seam --------------------------------------------------------


def checkout(project: Project, ident: str) -> ChangeCheckout:
    """A change's base commit and a clean worktree of it, for the gate to judge.

    ``ident`` is a change id, a prefix of one (4+ hex digits) or its branch.
    The worktree (in the user's cache, never the user's checkout) is the
    one :func:`propose_patch` and its siblings made; made again when it was
    removed (the cache cleared, the branch deleted), and reset when its
    files or its branch were changed, so it always holds exactly the
    recorded change. Raises :class:`~ark_lsp.changes.UnknownChange` or
    :class:`~ark_lsp.changes.AmbiguousChange`, :class:`BaseMissing` when
    the base is gone, :class:`~ark_lsp.changes.ChangeError` otherwise.
    """
    with _session(project) as session:
        change = find(session.store, ident)
        worktree = _ensure(session, change)
        head = branch_commit(session.repo, change.branch)
        if head is None:  # pragma: no cover - _ensure just made it
            raise ChangeError(f"the branch {change.branch} is missing")
        return ChangeCheckout(change, change.base, head, worktree)


def _ensure(session: _Session, change: ChangeSet) -> Path:
    """The change's worktree, clean and holding exactly its commit; made again if need be."""
    repo, folder = session.repo, session.folder
    path = folder.worktree(change)
    if not repo.has_commit(change.base):
        raise BaseMissing(change.short_id, change.base)
    head = branch_commit(repo, change.branch)
    if head is not None and _holds(repo, change, head):
        registered = {t.path.resolve(): t.branch for t in worktrees(repo) if t.path.exists()}
        if path.exists() and registered.get(path.resolve()) == change.branch:
            _make_clean(path)
            return path
        remove_worktree(repo, path)
        git(repo.top, "worktree", "prune", check=False)
        try:
            git(repo.top, "worktree", "add", "--quiet", str(path), change.branch)
        except GitError as error:
            raise ChangeError(f"could not check out {change.branch}: {error}") from None
        return path
    # The branch is gone, or no longer holds the change: make both again from the record.
    remove(repo, change.branch, path)
    tree = patches.from_patch(repo, change.base, change.patch).tree
    with materialized(repo, folder, change, tree) as made:
        return made


def _holds(repo: GitRepository, change: ChangeSet, head: str) -> bool:
    """Whether the commit ``head`` is the change: on its base, with exactly its patch."""
    parent = git(repo.top, "rev-parse", "--verify", "--quiet", f"{head}^", check=False).strip()
    if parent != change.base:
        return False
    tree = git(repo.top, "rev-parse", f"{head}^{{tree}}").strip()
    return patches.canonical_diff(repo, change.base, tree) == change.patch


def _make_clean(path: Path) -> None:
    """Put back what was changed in a worktree (files edited, added, ignored ones too)."""
    status = git(path, "status", "--porcelain", "--ignored", "--untracked-files=all")
    if status.strip():
        git(path, "reset", "--hard", "--quiet")
        git(path, "clean", "-ffdxq")


__all__ = [
    "AsChange",
    "ChangeCheckout",
    "ChangeState",
    "Dropped",
    "Proposal",
    "checkout",
    "drop_change",
    "find",
    "list_changes",
    "propose_edits",
    "propose_generated",
    "propose_patch",
    "propose_range",
    "propose_worktree",
    "show_change",
    "sweep_changes",
]
