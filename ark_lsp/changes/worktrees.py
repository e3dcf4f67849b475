"""Changes made real: a branch ``ark/<short id>-<slug>`` checked out in a disposable worktree.

The worktrees live in the user's cache, in a folder of each repository
(and index) of their own (:class:`ChangesFolder`), never in the user's
checkout; the user's working tree, index and stash are never touched.
A change is materialized by ``git worktree add`` at its base, ``git apply
--index`` of its patch in that worktree and a commit there with ARK's
own identity (no user configuration needed; hooks never run), dated
when the change was recorded, so making it again gives the same commit.

Crash safety rests on three things:

- one lock per folder (:meth:`ChangesFolder.locked`), held by every
  command that makes, removes or sweeps, and inherited by the git it
  runs, so what the sweep finds unfinished belongs to processes that are
  all gone (the kernel releases the lock of a killed process once the git
  it left running ends too);
- a journal entry written (and synced) before a worktree or branch is
  made, removed once the change's record is committed;
- a sweep (:func:`sweep`) at the start of every change command that
  removes what a journal entry names, every worktree in the folder and
  every branch of this index's changes that no recorded change owns, then
  lets git prune its worktree records.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ark_lsp.changes.errors import ChangeError, ChangesBusy
from ark_lsp.changes.model import BRANCH_PREFIX, ChangeSet
from ark_lsp.changes.repository import GitRepository
from ark_lsp.git import GitError, git, handing_down

ARK_NAME = "ARK"
ARK_EMAIL = "ark@localhost"
"""The identity of every commit ARK makes for a change."""

LOCK_WAIT = 60.0
"""Seconds a command waits for another ARK working on the same changes."""

_JOURNAL = "journal"
_LOCK = ".lock"


@dataclass(frozen=True)
class ChangesFolder:
    """Where the worktrees of one repository's changes, recorded in one index, live."""

    path: Path
    owner: str
    """This index's mark on its changes' commits (the ``Ark-Index`` trailer)."""

    @classmethod
    def of(cls, cache: Path, repo: GitRepository, index: Path) -> ChangesFolder:
        """The folder under ``cache`` of ``repo``'s changes recorded in the index at ``index``."""
        key = f"{repo.common_dir}\n{index.resolve()}".encode()
        owner = hashlib.sha256(key).hexdigest()[:16]
        return cls(cache / "changes" / f"{repo.top.name or 'repo'}-{owner}", owner)

    def worktree(self, change: ChangeSet) -> Path:
        """Where ``change`` is checked out."""
        return self.path / change.short_id

    @contextmanager
    def locked(self, wait: float = LOCK_WAIT) -> Iterator[None]:
        """Hold this folder's lock (waiting up to ``wait`` seconds for another ARK)."""
        try:
            self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle = open(self.path / _LOCK, "a")  # noqa: SIM115 - held across the yield
        except OSError as error:
            raise ChangeError(f"cannot use {self.path}: {error.strerror or error}") from None
        with handle:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise ChangesBusy(
                            f"another ARK has been working on the changes of {self.path.name} "
                            f"for over {wait:.0f} s; try again"
                        ) from None
                    time.sleep(0.05)
            try:
                with handing_down(handle.fileno()):
                    yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # --- the journal --------------------------------------------------------------------

    def _journal(self) -> Path:
        return self.path / _JOURNAL

    def begin(self, change: ChangeSet) -> None:
        """Note, durably, that ``change``'s branch and worktree are about to be made."""
        folder = self._journal()
        folder.mkdir(parents=True, exist_ok=True)
        entry = {"id": change.id, "branch": change.branch, "worktree": str(self.worktree(change))}
        temporary = folder / f".{change.id}.tmp"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(entry, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, folder / f"{change.id}.json")
        _sync_folder(folder)

    def end(self, change_id: str) -> None:
        """Forget the journal entry of ``change_id``: it is recorded, or all of it is gone."""
        with suppress(FileNotFoundError):
            (self._journal() / f"{change_id}.json").unlink()
        with suppress(OSError):
            _sync_folder(self._journal())

    def unfinished(self) -> list[tuple[str, str, Path]]:
        """``(id, branch, worktree)`` of every change whose making did not end."""
        entries = []
        for file in sorted(self._journal().glob("*.json")) if self._journal().is_dir() else []:
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
                entries.append((str(data["id"]), str(data["branch"]), Path(data["worktree"])))
            except (OSError, ValueError, KeyError, TypeError):
                file.unlink(missing_ok=True)  # half-written before its rename: nothing was made
        for stray in self._journal().glob(".*.tmp") if self._journal().is_dir() else []:
            stray.unlink(missing_ok=True)
        return entries


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- making and removing -------------------------------------------------------------------


def commit_message(change: ChangeSet, owner: str) -> str:
    """The commit's message: the reason, then trailers naming the change and its provenance."""
    reason = change.provenance.reason.strip() or "Change"
    by = " ".join(change.provenance.proposed_by.split())
    return (
        f"{reason}\n\n"
        f"Ark-Change: {change.id}\n"
        f"Ark-Source: {change.provenance.source.value}\n"
        f"Ark-Proposed-By: {by}\n"
        f"Ark-Index: {owner}\n"
    )


def _identity(created_at: str) -> dict[str, str]:
    """ARK as author and committer, dated when the change was recorded.

    So a commit made again from the record is the very same commit.
    """
    when = _git_date(created_at)
    return {
        "GIT_AUTHOR_NAME": ARK_NAME,
        "GIT_AUTHOR_EMAIL": ARK_EMAIL,
        "GIT_COMMITTER_NAME": ARK_NAME,
        "GIT_COMMITTER_EMAIL": ARK_EMAIL,
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
    }


def _git_date(created_at: str) -> str:
    try:
        moment = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return "@0 +0000"
    return f"@{int(moment.timestamp())} +0000"


@contextmanager
def materialized(
    repo: GitRepository, folder: ChangesFolder, change: ChangeSet, tree: str
) -> Iterator[Path]:
    """Make ``change``'s branch and worktree; yield the worktree while the caller records it.

    Call with the folder locked. When the block ends normally the journal
    entry goes (the change is recorded); when anything fails, here or in
    the block, the branch and worktree are removed again. ``tree`` is the
    tree the patch must give: a worktree that gives another is a failure.
    """
    path = folder.worktree(change)
    folder.begin(change)
    try:
        _make(repo, folder, change, tree, path)
        yield path
    except BaseException:
        remove(repo, change.branch, path)
        folder.end(change.id)
        raise
    folder.end(change.id)


def _make(
    repo: GitRepository, folder: ChangesFolder, change: ChangeSet, tree: str, path: Path
) -> None:
    try:
        git(repo.top, "worktree", "add", "--quiet", "-b", change.branch, str(path), change.base)
        git(path, "-c", "apply.ignoreWhitespace=no", "apply", "--index", "--whitespace=nowarn",
            input=change.patch)  # fmt: skip
        message = commit_message(change, folder.owner).encode()
        git(path, "commit", "--quiet", "--no-verify", "--cleanup=verbatim", "-F", "-",
            input=message, env=_identity(change.created_at))  # fmt: skip
        made = git(path, "rev-parse", "HEAD^{tree}").strip()
    except GitError as error:
        raise ChangeError(f"could not make the branch {change.branch}: {error}") from None
    if made != tree:
        raise ChangeError(
            f"the worktree of {change.short_id} does not hold what its patch gives "
            f"(tree {made[:12]}, not {tree[:12]}): the repository's attributes change its files"
        )


def remove(repo: GitRepository, branch: str, path: Path) -> bool:
    """Remove a change's worktree and branch, whatever state they are in; whether the branch went.

    A branch still checked out somewhere (the user switched to it) is kept.
    """
    remove_worktree(repo, path)
    git(repo.top, "worktree", "prune", check=False)
    return remove_branch(repo, branch)


def remove_worktree(repo: GitRepository, path: Path) -> None:
    """Remove the worktree at ``path``: registered or not, locked or not, there or not."""
    git(repo.top, "worktree", "remove", "--force", "--force", str(path), check=False)
    if path.exists() or path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)


def remove_branch(repo: GitRepository, branch: str) -> bool:
    """Delete one of ARK's ``ark/`` branches; whether it is gone (one checked out stays)."""
    if not branch.startswith(BRANCH_PREFIX):
        return False
    if branch_commit(repo, branch) is None:
        return True
    git(repo.top, "branch", "-D", branch, check=False)
    return branch_commit(repo, branch) is None


@dataclass(frozen=True)
class Registered:
    """A worktree git knows of."""

    path: Path
    branch: str | None
    """Its branch's short name; None when detached."""
    head: str | None


def worktrees(repo: GitRepository) -> list[Registered]:
    """Every worktree of the repository, as ``git worktree list`` has them."""
    listed = git(repo.top, "worktree", "list", "--porcelain", "-z")
    found: list[Registered] = []
    fields: dict[str, str] = {}
    for field in [*listed.split("\0"), ""]:
        if field:
            key, _, value = field.partition(" ")
            fields[key] = value
            continue
        if "worktree" in fields:
            branch = fields.get("branch")
            found.append(
                Registered(
                    Path(fields["worktree"]),
                    branch.removeprefix("refs/heads/") if branch else None,
                    fields.get("HEAD"),
                )
            )
        fields = {}
    return found


def branch_commit(repo: GitRepository, branch: str) -> str | None:
    """The commit ``branch`` is at; None when there is no such branch."""
    found = git(
        repo.top, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False
    ).strip()
    return found or None


def sweep(
    repo: GitRepository, folder: ChangesFolder, recorded: Mapping[str, ChangeSet]
) -> list[str]:
    """Remove what no recorded change owns; return what was removed, for a note.

    ``recorded`` maps each recorded change's branch to the change. Call
    with the folder locked. Removed: what an unfinished journal entry names
    (a recorded change's worktree is made again when asked for), worktrees in the folder
    that are not a recorded change's own, folders there git does not know,
    branches whose commit carries this index's mark and no recorded change
    has; then git prunes the records of worktrees that are gone.
    """
    removed: list[str] = []
    for change_id, branch, path in folder.unfinished():
        # Even a change recorded just before the crash: its worktree may be half made,
        # and a recorded change's worktree is made again whenever it is asked for.
        remove(repo, branch, path)
        removed.append(branch)
        folder.end(change_id)
    owned = {folder.worktree(change).resolve(): branch for branch, change in recorded.items()}
    inside = folder.path.resolve()
    known = set()
    for tree in worktrees(repo):
        place = tree.path.resolve() if tree.path.exists() else tree.path
        if not place.is_relative_to(inside):
            continue
        known.add(place)
        if owned.get(place) is not None and owned[place] == tree.branch:
            continue
        branch = tree.branch if tree.branch and tree.branch not in recorded else ""
        remove(repo, branch, tree.path)
        removed.append(branch or str(tree.path))
    if folder.path.is_dir():
        for entry in folder.path.iterdir():
            if entry.name in (_JOURNAL, _LOCK) or entry.resolve() in known:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(str(entry))
    removed.extend(_sweep_branches(repo, folder, recorded))
    git(repo.top, "worktree", "prune", check=False)
    return removed


def _sweep_branches(
    repo: GitRepository, folder: ChangesFolder, recorded: Mapping[str, ChangeSet]
) -> list[str]:
    listed = git(
        repo.top, "for-each-ref", f"refs/heads/{BRANCH_PREFIX}",
        "--format=%(refname:strip=2)%00%(trailers:key=Ark-Index,valueonly,separator=%x2C)",
    )  # fmt: skip
    removed = []
    for line in listed.splitlines():
        branch, _, owner = line.partition("\0")
        mine = owner.strip() == folder.owner and branch not in recorded
        if mine and remove_branch(repo, branch):
            removed.append(branch)
    return removed


__all__ = [
    "ARK_EMAIL",
    "ARK_NAME",
    "ChangesFolder",
    "Registered",
    "branch_commit",
    "commit_message",
    "materialized",
    "remove",
    "remove_branch",
    "remove_worktree",
    "sweep",
    "worktrees",
]
