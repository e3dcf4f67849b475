"""What changes in the workspace outside the documents: settings, folders, files on disk."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types

from ark_lsp.server.core import ArkServer, Feature
from ark_lsp.server.documents import path_of

logger = logging.getLogger(__name__)

WATCHED_FILES = ("**/*.py", "**/pyproject.toml", "**/.gitignore")
"""What ARK re-reads when it changes on disk: code, settings and ignore files."""

_SETTINGS_FILES = {"pyproject.toml", ".gitignore"}


async def files_changed(server: ArkServer, paths: Sequence[Path]) -> None:
    """Bring the index up to date with files changed outside the editor."""
    by_folder: dict[Path, list[Path]] = {}
    for path in paths:
        folder, _ = server.folders.locate(path.as_uri())
        if folder is not None:
            by_folder.setdefault(folder.root, []).append(path)
    for root, changed in by_folder.items():
        folder = server.folders.get(root)
        if folder is None:
            continue
        if any(path.name in _SETTINGS_FILES for path in changed):
            await server.configure([folder])
            server.settings_applied()
            server.index.request(folder)
        else:
            server.index.request(folder, changed)


class WorkspaceChanges(Feature):
    """Settings the editor pushes, folders added and removed, files changed on disk."""

    async def initialized(self) -> None:
        """Ask the client to watch what ARK re-reads, where it takes watchers at run time."""
        if not self.server.client_support.dynamic_watchers:
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in WATCHED_FILES]
        )
        try:
            await self.server.client_register_capability_async(
                types.RegistrationParams(
                    registrations=[
                        types.Registration(
                            id="ark-watched-files",
                            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=options,
                        )
                    ]
                )
            )
        except Exception as error:
            logger.warning("could not register file watchers: %s", error)

    def register(self) -> None:
        """Wire the workspace notifications."""
        server = self.server

        @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
        async def did_change_configuration(
            ls: ArkServer, params: types.DidChangeConfigurationParams
        ) -> None:
            # Requests arriving meanwhile wait for the new settings rather than use the old.
            ls.mark_configured(done=False)
            try:
                await ls.configure(ls.folders.all(), pushed=params.settings)
            finally:
                ls.mark_configured()
            ls.settings_applied()
            for folder in ls.folders.all():
                # Unchanged files are re-analysed only if the settings change what analysis yields.
                ls.index.request(folder)

        @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
        async def did_change_workspace_folders(
            ls: ArkServer, params: types.DidChangeWorkspaceFoldersParams
        ) -> None:
            for removed in params.event.removed:
                ls.folders.remove(removed.uri)
            added = [new for f in params.event.added if (new := ls.folders.add(f.uri)) is not None]
            await ls.configure(added)
            for folder in added:
                ls.index.request(folder)
            ls.send_status()

        @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
        async def did_change_watched_files(
            ls: ArkServer, params: types.DidChangeWatchedFilesParams
        ) -> None:
            paths = [path for change in params.changes if (path := path_of(change.uri)) is not None]
            await files_changed(ls, paths)
