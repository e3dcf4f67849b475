"""What a change touched: its files and the head lines it added or rewrote, read from git."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ark_lsp.gate.model import ChangedFile, FileStatus
from ark_lsp.git import git

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")
_HEADER = re.compile(r"^diff --git a/(?P<old>.+?) b/(?P<new>.+)$")


def changed_files(repo: Path, base: str, head: str) -> tuple[ChangedFile, ...]:
    """The files between two commits of ``repo``, with the head lines each change wrote."""
    text = git(
        repo, "diff", "--no-color", "--no-ext-diff", "--no-textconv", "-U0", "-M",
        base, head, "--",
    )  # fmt: skip
    return parse_diff(text)


@dataclass
class _Entry:
    """A file of the diff, as its header lines are read."""

    path: str
    status: FileStatus = FileStatus.MODIFIED
    old_path: str | None = None
    binary: bool = False
    lines: set[int] = field(default_factory=set)

    def frozen(self) -> ChangedFile:
        return ChangedFile(
            self.path, self.status, frozenset(self.lines), self.old_path, self.binary
        )


def parse_diff(text: str) -> tuple[ChangedFile, ...]:
    """Files and changed head lines of a ``git diff -U0`` text (rename detection on)."""
    entries: list[_Entry] = []
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            entries.append(_Entry(header["new"]))
            continue
        if not entries:
            continue
        entry = entries[-1]
        if line.startswith("new file mode"):
            entry.status = FileStatus.ADDED
        elif line.startswith("deleted file mode"):
            entry.status = FileStatus.DELETED
        elif line.startswith("rename from "):
            entry.status = FileStatus.RENAMED
            entry.old_path = line.removeprefix("rename from ")
        elif line.startswith("rename to "):
            entry.path = line.removeprefix("rename to ")
        elif line.startswith("Binary files ") or line == "GIT binary patch":
            entry.binary = True
        elif hunk := _HUNK.match(line):
            start = int(hunk["start"])
            count = 1 if hunk["count"] is None else int(hunk["count"])
            entry.lines.update(range(start, start + count))
    return tuple(entry.frozen() for entry in entries)
