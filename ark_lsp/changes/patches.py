"""Making a change's patch from each source, checked against its base, never in the user's tree.

Every source ends the same way: the change is applied to its base commit
in an index of ARK's own (a scratch ``GIT_INDEX_FILE``, so the user's
index and working tree are never read into or written), the tree that
gives is written, and the patch stored is the one git writes between the
base and that tree, with every option that shapes it fixed
(:func:`canonical_diff`). So the same edit on the same base is the same
change, byte for byte, however it was proposed, and its id does not move
with the user's diff settings or the length of abbreviated hashes.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ark_lsp.changes.errors import (
    BadRange,
    BinaryPatch,
    EmptyPatch,
    PatchDoesNotApply,
)
from ark_lsp.changes.repository import GitRepository
from ark_lsp.gate.diff import parse_diff
from ark_lsp.git import GitError, git, git_bytes, stage_working_tree

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
"""git's name of the tree with nothing in it."""

_APPLY = (
    "-c", "apply.ignoreWhitespace=no",
    "-c", "apply.whitespace=nowarn",
    "apply", "--whitespace=nowarn",
)  # fmt: skip
"""``git apply`` as the patch says, whatever the repository's settings about whitespace."""


@dataclass(frozen=True)
class PreparedPatch:
    """A change checked against its base: the patch as stored, and the tree it gives."""

    base: str
    """The full name of the base commit."""
    patch: bytes
    """The canonical patch (:func:`canonical_diff`)."""
    tree: str
    """The tree the patch makes of the base's."""

    @property
    def paths(self) -> tuple[str, ...]:
        """Top-relative paths of the files the patch touches."""
        return tuple(f.path for f in parse_diff(self.patch.decode("utf-8", "replace")))


def canonical_diff(repo: GitRepository, base: str, tree: str) -> bytes:
    """The patch from ``base`` to ``tree``, as git writes it with every shaping option fixed.

    Plumbing (``diff-tree``) with full object names, no rename detection,
    three lines of context, myers with the indent heuristic, ``a/`` and
    ``b/`` prefixes, no order file, no external or text-conversion driver.
    """
    return git_bytes(
        repo.top,
        "-c", "diff.suppressBlankEmpty=false",
        "diff-tree", "-p", "-r", "--no-color", "--no-ext-diff", "--no-textconv",
        "--no-renames", "--full-index", "--src-prefix=a/", "--dst-prefix=b/",
        "--diff-algorithm=myers", "--indent-heuristic", "-U3", "--inter-hunk-context=0",
        "-O/dev/null", base, tree, "--",
    )  # fmt: skip


def patch_paths(repo: GitRepository, patch: bytes) -> list[str]:
    """The paths a patch names, read by git; refuses an empty or binary one.

    Raises :class:`EmptyPatch` when it holds no change of a file,
    :class:`BinaryPatch` when a file's change is binary,
    :class:`PatchDoesNotApply` when git cannot read it as a patch.
    """
    if not patch.strip():
        raise EmptyPatch("the patch is empty")
    try:
        listed = git(repo.top, *_APPLY, "--numstat", "-z", input=patch)
    except GitError as error:
        if "No valid patches" in str(error):
            raise EmptyPatch("the patch holds no change of a file") from None
        raise PatchDoesNotApply("HEAD", str(error)) from None
    paths: list[str] = []
    binary: list[str] = []
    fields = listed.split("\0")
    index = 0
    while index < len(fields):
        entry = fields[index]
        index += 1
        if not entry:
            continue
        added, _, rest = entry.partition("\t")
        _, _, path = rest.partition("\t")
        if path:
            named = [path]
        else:  # a rename: the old and the new path follow, each on its own
            named = fields[index : index + 2]
            index += 2
        paths.extend(named)
        if added == "-":
            binary.extend(named[-1:])
    if binary:
        raise BinaryPatch(binary)
    if not paths:
        raise EmptyPatch("the patch holds no change of a file")
    return paths


@contextmanager
def scratch_index(repo: GitRepository, start: str | None) -> Iterator[dict[str, str]]:
    """An index of ARK's own, holding the tree ``start`` (None: a copy of the user's index).

    Yields the environment that points git at it; it is deleted afterwards.
    """
    with tempfile.TemporaryDirectory(prefix="ark-index-") as folder:
        index = Path(folder) / "index"
        env = {"GIT_INDEX_FILE": str(index)}
        if start is None:
            users = Path(
                repo.git("rev-parse", "--path-format=absolute", "--git-path", "index").strip()
            )
            if users.is_file():
                # With its time: git trusts an entry's stat data only when the entry is
                # older than the index file, and a fresh time would hide racy edits.
                shutil.copy2(users, index)
            else:
                git(repo.top, "read-tree", "HEAD", env=env)
        else:
            git(repo.top, "read-tree", start, env=env)
        yield env


def _prepared(repo: GitRepository, base: str, tree: str) -> PreparedPatch:
    """The canonical patch from ``base`` to ``tree``: refused if empty or binary."""
    patch = canonical_diff(repo, base, tree)
    if not patch.strip():
        raise EmptyPatch("the change changes nothing")
    binary = [f.path for f in parse_diff(patch.decode("utf-8", "replace")) if f.binary]
    if binary:
        raise BinaryPatch(binary)
    return PreparedPatch(base, patch, tree)


def from_patch(repo: GitRepository, base: str, patch: bytes) -> PreparedPatch:
    """A patch (``git diff`` or ``diff -u`` with ``a/`` and ``b/``) on ``base``, as it applies."""
    patch_paths(repo, patch)
    with scratch_index(repo, base) as env:
        try:
            git(repo.top, *_APPLY, "--cached", input=patch, env=env)
        except GitError as error:
            raise PatchDoesNotApply(base, str(error)) from None
        tree = git(repo.top, "write-tree", env=env).strip()
    return _prepared(repo, base, tree)


def from_worktree(repo: GitRepository, base: str) -> PreparedPatch:
    """The working tree's changes against ``base`` (HEAD): staged, unstaged and untracked.

    Untracked files count unless git ignores them, or they lie in a
    virtual environment, build output or cache. The user's index is
    copied, never written: ``git add`` runs on the copy.
    """
    with scratch_index(repo, None) as env:
        stage_working_tree(repo.top, env=env)
        tree = git(repo.top, "write-tree", env=env).strip()
    return _prepared(repo, base, tree)


def from_range(repo: GitRepository, text: str) -> PreparedPatch:
    """What the commits of ``A..B`` change: the patch from A to B, on A."""
    start, dots, end = text.partition("..")
    if not dots or not start or not end or end.startswith("."):
        raise BadRange(f"{text!r} is not a range of two commits: give A..B")
    commits = []
    for revision in (start, end):
        commit = repo.commit(revision)
        if commit is None:
            raise BadRange(f"{revision!r} names no commit of the repository")
        commits.append(commit)
    base, head = commits
    return _prepared(repo, base, repo.git("rev-parse", f"{head}^{{tree}}").strip())


def from_edits(repo: GitRepository, base: str, edits: Mapping[str, bytes | None]) -> PreparedPatch:
    """Files given whole (top-relative path -> new bytes; None deletes it), on ``base``.

    Each file keeps its mode; a new one is a plain file. The bytes are
    stored as ``git add`` would store them at that path.
    """
    if not edits:
        raise EmptyPatch("there are no edits")
    modes = _modes(repo, base, edits)
    entries = []
    for path, data in edits.items():
        if data is None:
            entries.append(f"0 {'0' * 40}\t{path}\0")
            continue
        blob = git(repo.top, "hash-object", "-w", "--stdin", f"--path={path}", input=data)
        entries.append(f"{modes.get(path, '100644')} {blob.strip()}\t{path}\0")
    with scratch_index(repo, base) as env:
        git(
            repo.top, "update-index", "-z", "--index-info", input="".join(entries).encode(), env=env
        )
        tree = git(repo.top, "write-tree", env=env).strip()
    return _prepared(repo, base, tree)


def _modes(repo: GitRepository, base: str, paths: Mapping[str, object]) -> dict[str, str]:
    """The mode of each of ``paths`` in ``base`` (absent for a file the base lacks)."""
    listed = repo.git("ls-tree", "-r", "-z", "--full-tree", base)
    modes = {}
    for entry in listed.split("\0"):
        meta, _, path = entry.partition("\t")
        if path in paths:
            modes[path] = meta.split(" ", 1)[0]
    return modes


__all__ = [
    "EMPTY_TREE",
    "PreparedPatch",
    "canonical_diff",
    "from_edits",
    "from_patch",
    "from_range",
    "from_worktree",
    "patch_paths",
    "scratch_index",
]
