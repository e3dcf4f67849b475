"""One workspace as both front ends see it: root, settings in force, store, files, sandbox.

A :class:`Project` is built from a workspace root plus the user's own layers
(the CLI's ``--database``, the editor's settings and its word on workspace
trust) by :meth:`Project.load`, which

- layers the settings (:func:`ark_lsp.config.load_settings`: the user's
  ``config.toml``, ``[tool.ark]`` as far as the workspace is trusted, then
  the user's layers) and keeps how they came to be (:attr:`Project.loaded`:
  the trust decision, the privileged keys ignored, the problems);
- finds the index database (the user's override, else
  :func:`ark_lsp.config.database_location`, which falls back to the user's
  cache when the workspace's ``.ark`` is not its own, the folder is in no
  workspace, or the workspace cannot be written);
- puts the database's rule pack in force, once, here: as it stands when
  ARK left it so for this user, else the built-in rules
  (:func:`ark_lsp.trust.rules_in_force`).

Everything else the use cases need of the workspace goes through it: a
connection to its store (:meth:`Project.open_store`, the one place outside
:mod:`ark_lsp.store` that opens one), its files read and written only inside
the root and bounded (:mod:`ark_lsp.files`), a sandbox runner that records
every run in the store, and the templates in force (the workspace's
overrides only when it is trusted). Nothing here imports pygls, lsprotocol
or click.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ark_lsp.config import (
    DatabaseLocation,
    LoadedSettings,
    PyprojectText,
    Settings,
    database_location,
    load_settings,
    without_unknown_rule_ids,
)
from ark_lsp.files import read_contained, write_contained
from ark_lsp.rules import DEFAULT_RULES
from ark_lsp.store import DatabaseCorrupt, DatabaseTooNew, Store, StoreError, move_aside
from ark_lsp.trust import TrustStore, rules_in_force

if TYPE_CHECKING:
    from ark_lsp.generate import Templates
    from ark_lsp.rules import Rule
    from ark_lsp.sandbox import Limits, RunRequest, RunResult, SandboxRunner


Layers = Sequence[tuple[str, Mapping[str, Any]]]
"""The user's own settings layers, lowest first, as ``(where, table)`` pairs."""


@dataclass(frozen=True, eq=False)
class Project:
    """One workspace: its root, the settings in force, and the way to its store and files.

    Built by :meth:`load`. Made directly, it holds settings without the
    database's rule pack (for a folder the editor did not open, or to find
    where the database is without opening it).
    """

    root: Path
    """The workspace root, resolved."""
    loaded: LoadedSettings = field(default_factory=lambda: LoadedSettings(Settings()))
    """How the settings came to be: the layers, the trust decision, the problems."""
    rule_pack: tuple[Rule, ...] | None = None
    """The database's rule pack in force; ``None`` leaves the settings' own."""
    database_override: Path | None = None
    """Where the user said the index is (``--database``); else it is found from the settings."""
    trust_store: TrustStore | None = None
    """The user's trust records (default: the user's own file)."""
    rule_pack_problem: str | None = None
    """Why the database's rule pack is not in force as it stands, if it is not."""
    database_problem: str | None = None
    """Why the database could not be opened to read its rule pack, if it could not."""
    moved_aside: Path | None = None
    """Where :meth:`load` moved the previous database when asked for a fresh one."""
    layers: Layers = ()
    """The user's own settings layers :meth:`load` applied over the workspace's."""
    editor_trust: bool | None = None
    """The editor's word on the folder's trust that :meth:`load` was given."""

    @classmethod
    def load(
        cls,
        root: Path,
        *,
        database: Path | None = None,
        layers: Layers = (),
        editor_trust: bool | None = None,
        trust_store: TrustStore | None = None,
        fresh_database: bool = False,
    ) -> Project:
        """The workspace at ``root`` with its settings layered and its database's rule pack.

        ``database`` is the user's choice of index (absolute); ``layers`` the
        user's own settings, applied last; ``editor_trust`` the editor's word
        on the folder (VS Code's workspace trust). ``fresh_database`` starts
        the index anew (see :meth:`_start_afresh`): the rule pack and the
        run history stay, unless the file cannot be used, when it is moved
        aside. A database that cannot be used is not an error here: the
        project says why in :attr:`database_problem`, and opening its store
        raises.
        """
        loaded = load_settings(root, layers=layers, editor_trust=editor_trust, store=trust_store)
        project = cls(
            root,
            loaded,
            database_override=database,
            trust_store=trust_store,
            layers=layers,
            editor_trust=editor_trust,
        )
        moved = None
        try:
            if fresh_database and project.database.exists():
                moved = project._start_afresh()
            with project.open_store() as store:
                rules, problem = rules_in_force(store.rules.load(), store.path, trust_store)
        except StoreError as error:
            return dataclasses.replace(
                project,
                loaded=_rule_ids_checked(loaded, DEFAULT_RULES),
                database_problem=str(error),
                moved_aside=moved,
            )
        return dataclasses.replace(
            project,
            loaded=_rule_ids_checked(loaded, rules),
            rule_pack=rules,
            rule_pack_problem=problem,
            moved_aside=moved,
        )

    def judged_by(self, pyproject: PyprojectText) -> Project:
        """The project with another version of its ``pyproject.toml`` in force (a commit's).

        The user's layers, trust and rule pack stay; the workspace's own
        settings are read from ``pyproject`` instead of the root's file, its
        privileged ones applying only as far as the user trusted them. The
        index database stays where it is.
        """
        loaded = load_settings(
            self.root,
            layers=self.layers,
            editor_trust=self.editor_trust,
            store=self.trust_store,
            pyproject=pyproject,
        )
        return dataclasses.replace(
            self,
            loaded=_rule_ids_checked(loaded, self.rule_pack or DEFAULT_RULES),
            database_override=self.database,
        )

    def _start_afresh(self) -> Path | None:
        """Forget the code index, keeping the rules and history; where the file went, if moved.

        Only a file that cannot be used as it is (damaged, or written by a
        newer ARK) is moved aside (:func:`ark_lsp.store.move_aside`), named
        for what is wrong with it; a locked one is left to its holder.
        """
        try:
            with self.open_store() as store:
                store.index.clear()
        except DatabaseCorrupt:
            return move_aside(self.database, "corrupt")
        except DatabaseTooNew as error:
            return move_aside(self.database, f"schema-{error.found}")
        return None

    # --- settings -----------------------------------------------------------------------

    @functools.cached_property
    def settings(self) -> Settings:
        """The settings in force, with the database's rule pack (the same object every time)."""
        if self.rule_pack is None:
            return self.loaded.settings
        return dataclasses.replace(self.loaded.settings, base_rules=self.rule_pack)

    @property
    def problems(self) -> tuple[str, ...]:
        """Everything wrong with the settings and the rule pack, one line each."""
        extra = [self.rule_pack_problem] if self.rule_pack_problem else []
        if self.database_problem:
            extra.append(f"index database: {self.database_problem}")
        return (*self.loaded.problems, *extra)

    @property
    def trusted(self) -> bool:
        """Whether the workspace's privileged settings apply."""
        return self.loaded.trust.trusted

    @property
    def vouched_for(self) -> bool:
        """Whether the user trusts the workspace in so many words (``ark trust``, the editor).

        Installing its declared dependencies runs their build code (in a
        container): ARK does that on its own only for such a workspace.
        """
        return self.loaded.trust.vouched

    @property
    def restricted(self) -> bool:
        """The editor keeps this folder in restricted mode: ARK runs none of its code."""
        return self.loaded.trust.restricted

    # --- the store ----------------------------------------------------------------------

    @functools.cached_property
    def _location(self) -> DatabaseLocation:
        return database_location(self.root, self.loaded.settings)

    @property
    def database(self) -> Path:
        """Where the workspace's index lives."""
        return self.database_override or self._location.path

    @property
    def database_in_cache(self) -> bool:
        """Whether the index is kept in the user's cache rather than the workspace's ``.ark``."""
        return self.database_cached_because is not None

    @property
    def database_cached_because(self) -> str | None:
        """Why the index is in the user's cache (see :func:`ark_lsp.config.database_location`)."""
        return None if self.database_override is not None else self._location.cached_because

    def open_store(self, *, busy_timeout: float | None = None) -> Store:
        """A new connection to the workspace's store (one per thread); close it, or use ``with``.

        ``busy_timeout`` defaults to the ``busy-timeout`` setting. Raises
        :class:`~ark_lsp.store.StoreError` when the database cannot be used.
        """
        timeout = self.settings.busy_timeout if busy_timeout is None else busy_timeout
        return Store.open(self.database, busy_timeout=timeout)

    # --- files --------------------------------------------------------------------------

    def relative(self, path: Path) -> str:
        """A path inside the workspace as the index names it (links in it resolved)."""
        return path.resolve().relative_to(self.root).as_posix()

    def read_bytes(self, path: Path) -> bytes:
        """A regular file inside the root, links resolved, up to ``max-file-size``.

        Raises :class:`~ark_lsp.files.ReadRefused` (an :class:`OSError`) for
        anything else; see :func:`ark_lsp.files.read_contained`.
        """
        return read_contained(path, [self.root], self.settings.max_file_size)

    def read_text(self, path: Path) -> str | None:
        """A file's UTF-8 text, read as :meth:`read_bytes` allows; None if it cannot be."""
        try:
            return self.read_bytes(path).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def write_text(self, path: Path, text: str) -> Path:
        """Replace a file whole, only where it leads inside the root; returns the path written.

        Raises :class:`~ark_lsp.files.WriteRefused` (an :class:`OSError`)
        otherwise; see :func:`ark_lsp.files.write_contained`.
        """
        return write_contained(path, text, self.root)

    # --- generation and the sandbox -----------------------------------------------------

    def templates(self) -> Templates:
        """The templates in force: the workspace's ``.ark/templates/`` only when it is trusted.

        The line length its configuration sets is kept to either way.
        """
        from ark_lsp.generate import Templates

        return Templates(self.root if self.loaded.workspace_templates else None, project=self.root)

    def sandbox_runner(
        self,
        *,
        backend: str | None = None,
        limits: Limits | None = None,
        suite_timeout: float | None = None,
        suite_memory: int | None = None,
        weak_isolation: bool = False,
        warm: bool = False,
        progress: Callable[[str], None] | None = None,
        root: Path | None = None,
    ) -> SandboxRunner:
        """A runner for the workspace's code that records every run in its store.

        ``root`` runs another checkout of the project instead (a commit's, in
        a worktree of its own), with the workspace's own environment (its
        ``.venv``, when local runs use it). ``backend``, ``limits``, ``suite_timeout`` and
        ``suite_memory`` (the limits of runs of a test suite) override ``[tool.ark.sandbox]``;
        ``weak_isolation`` is the user's own choice of weaker local isolation.
        ``warm`` keeps the settings' pool of containers for many runs (the
        server's); without it a run starts no container it does not use. The
        store is opened for each record only, so the runner serves any thread.
        A workspace the user trusts (:attr:`vouched_for`) has its environment built by its
        first docker run (its
        declared dependencies, see :mod:`ark_lsp.sandbox.environment`),
        telling ``progress``; any other's runs use the base image until the
        user builds it (``ark sandbox env build``).
        """
        from ark_lsp.sandbox import SandboxRunner

        settings = self.settings
        if weak_isolation:
            sandbox = dataclasses.replace(settings.sandbox, weak_isolation=True)
            settings = dataclasses.replace(settings, sandbox=sandbox)
        return SandboxRunner(
            root or self.root,
            settings,
            backend=backend,
            limits=limits,
            suite_timeout=suite_timeout,
            suite_memory=suite_memory,
            pool_size=None if warm else 0,
            recorder=self.record_run,
            may_build=self.vouched_for,
            progress=progress,
            workspace=self.root,
        )

    def record_run(self, request: RunRequest, result: RunResult) -> RunResult:
        """Keep a sandbox run in the store; a failure to is logged and the run still returned."""
        from ark_lsp.sandbox import record_run

        try:
            with self.open_store() as store:
                return record_run(store, request, result)
        except StoreError as error:  # the run happened; failing to record it must not hide it
            # Imported here: the commands that run no sandbox (ark index) need no logging.
            import logging

            logging.getLogger(__name__).warning("could not record a sandbox run: %s", error)
            return result


def _rule_ids_checked(loaded: LoadedSettings, pack: Sequence[Rule]) -> LoadedSettings:
    """The settings with ids that name no rule of the pack or the settings' own left out, said."""
    known = {rule.id for rule in (*pack, *loaded.settings.rules)}
    return without_unknown_rule_ids(loaded, known)


__all__ = ["Layers", "Project"]
