"""Start-up, settings, workspace folders, files changed on disk, and shutdown."""

from __future__ import annotations

import gc
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types

from ark_lsp.config import settings_from_mapping
from ark_lsp.project import Project
from ark_lsp.server.app import ArkServer
from ark_lsp.server.documents import path_of
from ark_lsp.server.folders import FolderState, editor_settings

logger = logging.getLogger(__name__)

WATCHED_FILES = ("**/*.py", "**/pyproject.toml", "**/.gitignore")
"""What ARK re-reads when it changes on disk: code, settings and ignore files."""

_SETTINGS_FILES = {"pyproject.toml", ".gitignore"}


def _client_sends_configuration(server: ArkServer) -> bool:
    workspace = server.client_capabilities.workspace
    return bool(workspace and workspace.configuration)


async def configure(server: ArkServer, folders: Sequence[FolderState], pushed: Any = None) -> None:
    """Give folders their settings: pyproject, then initializationOptions, then the editor's.

    ``pushed`` is what a ``didChangeConfiguration`` carried, used when the
    client cannot be asked (``workspace/configuration``).
    """
    sections: Sequence[Any] = [pushed] * len(folders)
    if _client_sends_configuration(server) and folders:
        try:
            sections = await server.workspace_configuration_async(
                types.ConfigurationParams(
                    items=[types.ConfigurationItem(scope_uri=f.uri, section="ark") for f in folders]
                )
            )
        except Exception as error:  # a client that fails here still gets a working server
            logger.warning("workspace/configuration failed: %s", error)
    for folder, section in zip(folders, sections, strict=False):
        folder.configure(
            server.initialization_options, editor_settings(section), server.editor_trust
        )
        note = folder.loaded.ignored_note(folder.root)
        _report_problems(server, [*folder.problems, *([note] if note else [])])
    loose = settings_from_mapping(server.initialization_options, where="initializationOptions")
    # Files outside every folder: the editor's settings only, and never a database.
    server.folders.loose.project = Project(server.folders.loose.root, loose)


def settings_applied(server: ArkServer) -> None:
    """New settings: what open documents show is analysed again, lenses redrawn."""
    server.documents.invalidate()
    server.publisher.republish_open()
    workspace = server.client_capabilities.workspace
    if workspace and workspace.code_lens and workspace.code_lens.refresh_support:
        server.workspace_code_lens_refresh(None)


def _report_problems(server: ArkServer, problems: Sequence[str]) -> None:
    fresh = [p for p in problems if p not in server.reported_problems]
    server.reported_problems.update(fresh)
    if fresh:
        server.warn("ARK settings: " + "; ".join(fresh))


async def _watch_files(server: ArkServer) -> None:
    workspace = server.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    if not (watched and watched.dynamic_registration):
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in WATCHED_FILES]
    )
    try:
        await server.client_register_capability_async(
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
            await configure(server, [folder])
            settings_applied(server)
            server.indexer.request(folder)
        else:
            server.indexer.request(folder, changed)


def register(server: ArkServer) -> None:
    """Wire the lifecycle and workspace notifications."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: ArkServer, params: types.InitializeParams) -> None:
        ls.bind_loop()
        ls.initialization_options = editor_settings(params.initialization_options)
        raw = params.initialization_options
        trusted = raw.get("workspaceTrusted") if isinstance(raw, dict) else None
        ls.editor_trust = trusted if isinstance(trusted, bool) else None
        folders = list(params.workspace_folders or [])
        root_uri = params.root_uri or (
            Path(params.root_path).as_uri() if params.root_path else None
        )
        if not folders and root_uri:
            folders = [types.WorkspaceFolder(uri=root_uri, name=root_uri.rsplit("/", 1)[-1])]
        for folder in folders:
            ls.folders.add(folder.uri)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: ArkServer, params: types.InitializedParams) -> None:
        await configure(ls, ls.folders.all())
        settings_applied(ls)
        for folder in ls.folders.all():
            ls.indexer.request(folder)
        ls.mark_configured()
        await _watch_files(ls)
        # What start-up loaded (protocol types, jedi, the settings) lives as long as
        # the server: keep the cyclic collector from walking it on every full pass.
        gc.freeze()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: ArkServer, params: types.DidChangeConfigurationParams
    ) -> None:
        # Requests arriving meanwhile wait for the new settings rather than use the old.
        ls.mark_configured(done=False)
        try:
            await configure(ls, ls.folders.all(), pushed=params.settings)
        finally:
            ls.mark_configured()
        settings_applied(ls)
        for folder in ls.folders.all():
            # Unchanged files are re-analysed only if the settings change what analysis yields.
            ls.indexer.request(folder)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_workspace_folders(
        ls: ArkServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        for removed in params.event.removed:
            ls.folders.remove(removed.uri)
        added = [new for f in params.event.added if (new := ls.folders.add(f.uri)) is not None]
        await configure(ls, added)
        for folder in added:
            ls.indexer.request(folder)
        ls.send_status()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched_files(
        ls: ArkServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        paths = [path for change in params.changes if (path := path_of(change.uri)) is not None]
        await files_changed(ls, paths)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: ArkServer, params: None) -> None:
        ls.stop_work()
