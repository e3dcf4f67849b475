"""The workspace folders the editor opened: each one's engine project and the state of its index."""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pygls.uris import from_fs_path, to_fs_path

from ark_lsp.config import LoadedSettings, Settings
from ark_lsp.project import Project
from ark_lsp.store import Store, StoreError
from ark_lsp.workspace import IndexFigures

logger = logging.getLogger(__name__)

CLIENT_ONLY_SETTINGS = frozenset({"interpreter", "trace", "serverArgs", "workspaceTrusted"})
"""Keys editors keep in the ``ark`` section for themselves; the server ignores them.

(``workspaceTrusted`` is VS Code's workspace trust, which the server reads on its own.)
"""

RESTRICTED = (
    "this folder is in VS Code's restricted mode: ARK runs none of its code "
    "until you trust the folder"
)


class IndexState(enum.StrEnum):
    """Where a folder's index stands, as the status bar shows it."""

    WAITING = "waiting"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


def editor_settings(raw: Any) -> dict[str, Any]:
    """An editor's ``ark`` section made fit for the settings model.

    Editors send ``null`` for a setting left unset and keep keys of their
    own in the same section; neither is a problem to report. Some wrap the
    section as ``{"ark": {...}}``.
    """
    if not isinstance(raw, Mapping):
        return {}
    if set(raw) == {"ark"} and isinstance(raw["ark"], Mapping):
        raw = raw["ark"]
    cleaned: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None or key in CLIENT_ONLY_SETTINGS:
            continue
        cleaned[key] = (
            editor_settings(value) if isinstance(value, Mapping) and key != "tiers" else value
        )
    return cleaned


def editor_trust(initialization_options: Any) -> bool | None:
    """The editor's word on the workspace's trust (VS Code's), if its options carry one."""
    trusted = (
        initialization_options.get("workspaceTrusted")
        if isinstance(initialization_options, Mapping)
        else None
    )
    return trusted if isinstance(trusted, bool) else None


def start_folder_uris(
    workspace_folders: Sequence[str], root_uri: str | None, root_path: str | None
) -> list[str]:
    """The folders a start opens: the workspace folders, else the (deprecated) root."""
    if workspace_folders:
        return list(workspace_folders)
    root = root_uri or (Path(root_path).as_uri() if root_path else None)
    return [root] if root else []


@dataclass
class FolderState:
    """A workspace folder the editor opened: its engine project and the state of its index."""

    root: Path
    project: Project = field(init=False)
    """The workspace as the engine sees it; settings without the database's until configured."""
    state: IndexState = IndexState.WAITING
    detail: str = ""
    figures: IndexFigures | None = None
    _reader: Store | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.project = Project(self.root)

    @property
    def uri(self) -> str:
        """The folder's URI."""
        return from_fs_path(str(self.root)) or self.root.as_uri()

    @property
    def settings(self) -> Settings:
        """The settings in force in the folder."""
        return self.project.settings

    @property
    def loaded(self) -> LoadedSettings:
        """How the settings came to be: what the workspace asked for, and whether it is trusted."""
        return self.project.loaded

    @property
    def problems(self) -> tuple[str, ...]:
        """What is wrong with the folder's settings and its rule pack."""
        return self.project.problems

    @property
    def restricted(self) -> bool:
        """The editor keeps this folder in restricted mode: ARK runs none of its code."""
        return self.project.restricted

    def relative(self, path: Path) -> str:
        """A path inside the folder as the index names it."""
        return path.relative_to(self.root).as_posix()

    def configure(
        self,
        initialization_options: Mapping[str, Any],
        client_section: Mapping[str, Any],
        editor_trust: bool | None = None,
    ) -> None:
        """Layer the settings: the user's, ``[tool.ark]`` as trusted, then what the editor sends."""
        self.close_reader()
        self.project = Project.load(
            self.root,
            layers=(
                ("initializationOptions", initialization_options),
                ("ark (editor settings)", client_section),
            ),
            editor_trust=editor_trust,
        )

    def reader(self) -> Store | None:
        """A connection for queries from the server's own thread; None if unusable."""
        if self._reader is None:
            try:
                self._reader = self.project.open_store(busy_timeout=0.2)
            except StoreError as error:
                logger.warning("index of %s unavailable: %s", self.root, error)
                return None
        return self._reader

    def close_reader(self) -> None:
        """Let go of the query connection (settings may point at another database)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None


class Folders:
    """The workspace folders the editor opened, each a :class:`FolderState`."""

    def __init__(self) -> None:
        self._by_root: dict[Path, FolderState] = {}
        self.loose = FolderState(root=Path.cwd())
        """Settings for files outside every folder; never indexed."""

    def all(self) -> list[FolderState]:
        """Every folder, outermost first."""
        return sorted(self._by_root.values(), key=lambda p: len(p.root.parts))

    def get(self, root: Path) -> FolderState | None:
        """A folder, if it is still open."""
        return self._by_root.get(root)

    def add(self, uri: str) -> FolderState | None:
        """Start tracking a folder; None when the URI is not a local folder."""
        path = to_fs_path(uri)
        if path is None:
            return None
        root = Path(path).resolve()
        if root not in self._by_root:
            self._by_root[root] = FolderState(root=root)
        return self._by_root[root]

    def remove(self, uri: str) -> FolderState | None:
        """Stop tracking a folder; return it so its work can be wound down."""
        path = to_fs_path(uri)
        folder = self._by_root.pop(Path(path).resolve(), None) if path else None
        if folder is not None:
            folder.close_reader()
        return folder

    def locate(self, uri: str) -> tuple[FolderState | None, str]:
        """The folder holding a document, and the document's path as it would index it.

        The deepest folder wins, so a nested project's settings apply inside it.
        """
        fs_path = to_fs_path(uri)
        if fs_path is None:
            return None, uri.rsplit("/", 1)[-1]
        path = Path(fs_path)
        resolved = path.resolve() if path.is_absolute() else path
        for root in sorted(self._by_root, key=lambda r: len(r.parts), reverse=True):
            if resolved.is_relative_to(root):
                return self._by_root[root], resolved.relative_to(root).as_posix()
        return None, path.name

    def settings_for(self, uri: str) -> tuple[Settings, str]:
        """The settings in force for a document, and its indexed path."""
        folder, relative = self.locate(uri)
        return (folder or self.loose).settings, relative

    def close(self) -> None:
        """Close every connection the server holds."""
        for folder in self.all():
            folder.close_reader()


def configure_folders(
    folders: Sequence[FolderState],
    initialization_options: Mapping[str, Any],
    sections: Sequence[Any],
    trust: bool | None,
) -> list[list[str]]:
    """Give folders the editor's settings (its answer per folder); each one's problems."""
    problems = []
    for folder, section in zip(folders, sections, strict=False):
        folder.configure(initialization_options, editor_settings(section), trust)
        note = folder.loaded.ignored_note(folder.root)
        problems.append([*folder.problems, *([note] if note else [])])
    return problems
