"""Real changes for the gate's tests: a git repository, two commits, each checked out apart.

A test writes the base's files, commits, writes the head's, commits, and gets
a :class:`~ark_lsp.gate.model.GateInput` whose base and head are `git worktree`
checkouts outside the repository, and whose changed files git itself reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ark_lsp.config import GateSettings
from ark_lsp.gate.diff import changed_files
from ark_lsp.gate.model import GateInput
from ark_lsp.git import git

Files = Mapping[str, str | None]
"""Path -> text; ``None`` deletes the file."""


class ChangeRepository:
    """A repository in which a test makes one change, base then head."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.repo = root / "repo"
        self.repo.mkdir(parents=True)
        git(self.repo, "init", "-q")

    def commit(self, files: Files, message: str = "change") -> str:
        """Write (or delete) files and commit them; the new commit's id."""
        for name, text in files.items():
            path = self.repo / name
            if text is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
        git(self.repo, "add", "-A")
        git(self.repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)
        return git(self.repo, "rev-parse", "HEAD").strip()

    def gate_input(self, base: str, head: str, settings: GateSettings | None = None) -> GateInput:
        """Base and head checked out in worktrees of their own, and what changed between them."""
        trees = []
        for side, commit in (("base", base), ("head", head)):
            tree = self.root / f"{side}-{commit[:8]}"
            if not tree.exists():
                git(self.repo, "worktree", "add", "-q", "--detach", str(tree), commit)
            trees.append(tree)
        return GateInput(
            trees[0],
            trees[1],
            changed_files(self.repo, base, head),
            settings or GateSettings(),
        )

    def change(self, base: Files, head: Files, settings: GateSettings | None = None) -> GateInput:
        """Commit ``base``, then ``head`` on top of it, and the change between the two."""
        first = self.commit(base, "base")
        second = self.commit(head, "head")
        return self.gate_input(first, second, settings)
