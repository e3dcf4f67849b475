"""What a generation produces: the change to a file, and what was checked about it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ark_lsp.generate.validation import Validation
from ark_lsp.models import Span, TextEdit


@dataclass(frozen=True)
class FileChange:
    """One file's change: edits of its current text, and the text they make."""

    path: str
    """Workspace-relative POSIX path."""
    old_text: str | None
    """The file's text before the change; ``None`` when the change creates it."""
    new_text: str
    edits: tuple[TextEdit, ...]
    """Edits of ``old_text``; for a new file, one insertion of the whole text at 1:0."""

    @property
    def creates(self) -> bool:
        """Whether the file does not exist yet."""
        return self.old_text is None

    @classmethod
    def new_file(cls, path: str, text: str) -> FileChange:
        """A change that creates ``path`` holding ``text``."""
        return cls(path, None, text, (TextEdit(Span(1, 0, 1, 0), text),))


@dataclass(frozen=True)
class Generation:
    """A generated function, class, module or test file, ready to be offered or refused."""

    kind: str
    """``function``, ``method``, ``class``, ``module`` or ``tests``."""
    target: str
    """What was generated: a qualified name, or ``path::name`` for tests."""
    template: str
    text: str
    """The generated code itself (the block inserted, or the whole new file)."""
    change: FileChange
    validation: Validation
    line: int = 1
    """Where the generated code starts in the changed file (1-based)."""
    notes: tuple[str, ...] = field(default=())
    """What the user should know: types not inferred, tests skipped, the sandbox missing."""

    @property
    def offered(self) -> bool:
        """Whether the analysis engine let the text through."""
        return self.validation.ok


__all__ = ["FileChange", "Generation"]
