"""Generating code from the editor: a function for an undefined call, tests for a function.

Code actions: "Generate function `name`" on a call of a name nothing
defines (a quick fix, its edit validated before it is offered; computed
lazily where the client resolves code actions), and "Generate tests for
`name`" on a function or method's ``def`` line (a command: it runs the
function in the sandbox, which takes seconds). The commands
``ark.generateFunction`` and ``ark.generateTests`` take ``[{"uri": ...,
"position": {"line": ..., "character": ...}}]``, run as jobs with
``$/progress`` reports, apply their edit with ``workspace/applyEdit`` and
answer with what they did. Every generation is recorded in the project's
``generated_code``. A code lens "untested" above each function no test ran,
by the latest quality gate report that measured it, runs ``ark.generateTests``.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path

from ark_lsp.config import LoadedSettings
from ark_lsp.models import Symbol, SymbolKind, Tier
from ark_lsp.project import Project
from ark_lsp.server.arguments import DocumentPosition
from ark_lsp.server.code_actions import wanted
from ark_lsp.server.convert import generation_edit, server_position, untested_lens
from ark_lsp.server.core import ArkServer, Feature
from ark_lsp.server.documents import Snapshot
from ark_lsp.server.folders import RESTRICTED
from ark_lsp.server.jobs import Job
from ark_lsp.workflows.gate_reports import untested_functions
from ark_lsp.workspace import find_root

if TYPE_CHECKING:
    from ark_lsp.generate import Generation
    from ark_lsp.workflows.characterize import CharacterizationResult

# The generators (templates, jinja2, the characterization pipeline, the sandbox) are
# imported where first used, so the server's start does not wait for them; the server
# imports them in the background once the first diagnostics are out (see ``deferred``).

logger = logging.getLogger(__name__)

GENERATE_FUNCTION = "ark.generateFunction"
GENERATE_TESTS = "ark.generateTests"
_DATA_KEY = "arkGenerateFunction"
_OFFERS_KEPT = 16


class CodeGeneration(Feature):
    """Offers and runs generation; the work runs as jobs."""

    kinds: Sequence[str] = (types.CodeActionKind.QuickFix, types.CodeActionKind.Refactor)
    deferred_imports = (
        "ark_lsp.workflows.generate",
        "ark_lsp.workflows.characterize",
        "ark_lsp.generate.characterize.targets",
    )

    def __init__(self, server: ArkServer) -> None:
        super().__init__(server)
        self._offers: OrderedDict[tuple[str, int | None, int, int], Generation | None] = (
            OrderedDict()
        )
        self._offers_lock = threading.Lock()
        """Stubs are made one at a time, so a code action and its resolve share one."""

    def register(self) -> None:
        """Offer generation as code actions and commands."""
        server = self.server
        server.code_actions.add(self)
        server.code_lenses.add(self)

        @server.command(GENERATE_FUNCTION)
        async def generate_function(ls: ArkServer, where: DocumentPosition) -> dict[str, Any]:
            return await self.generate_function(where)

        @server.command(GENERATE_TESTS)
        async def generate_tests_command(ls: ArkServer, where: DocumentPosition) -> dict[str, Any]:
            return await self.generate_tests(where)

    async def actions(
        self, snapshot: Snapshot, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        """The "Generate function" action on an undefined call, "Generate tests" on a ``def``."""
        actions: list[types.CodeAction] = []
        position = params.range.start
        if wanted(params, types.CodeActionKind.QuickFix):
            action = await self.function_action(snapshot, position)
            if action is not None:
                actions.append(action)
        if wanted(params, types.CodeActionKind.Refactor):
            action = self.tests_action(snapshot, position)
            if action is not None:
                actions.append(action)
        return actions

    def lenses(self, snapshot: Snapshot) -> list[types.CodeLens]:
        """An "untested" lens above each function the latest gate report found no test ran.

        Its command generates tests for the function. Only where the command
        can: a function or a method of a class at the module's top level,
        outside the test files.
        """
        folder = snapshot.folder
        if folder is None or snapshot.report.tier is Tier.TESTING or snapshot.path is None:
            return []
        store = folder.reader()
        if store is None:
            return []
        untested = {row.qualname for row in untested_functions(store, snapshot.relative)}
        return [
            untested_lens(snapshot.document, symbol, GENERATE_TESTS)
            for symbol in snapshot.report.symbols
            if symbol.qualname in untested and _testable(symbol)
        ]

    # --- where things are ---------------------------------------------------------------

    def _root(self, snapshot: Snapshot) -> Path | None:
        if snapshot.folder is not None:
            return snapshot.folder.root
        path = snapshot.path
        return find_root(path) if path is not None else None

    def _project(self, snapshot: Snapshot) -> Project | None:
        """The document's project; for a file outside every folder, one of its settings only."""
        if snapshot.folder is not None:
            return snapshot.folder.project
        root = self._root(snapshot)
        return Project(root, LoadedSettings(snapshot.settings)) if root is not None else None

    def _read_text(self, path: Path) -> str | None:
        uri = from_fs_path(str(path)) or path.as_uri()
        document = self.server.documents.text(uri)
        return document.source if document is not None else None

    def _record(self, snapshot: Snapshot, generation: Generation, outcome: Any = None) -> None:
        """Keep the generation in the folder's database; a failure is logged, not raised."""
        from ark_lsp.workflows.generate import record_generation

        if snapshot.folder is not None:
            record_generation(snapshot.folder.project, generation, outcome)

    # --- generate function --------------------------------------------------------------

    def _function(self, snapshot: Snapshot, line: int, column: int) -> Generation | None:
        """The stub for an undefined call at a position (in a job thread)."""
        with self._offers_lock:
            key = (snapshot.uri, snapshot.version, line, column)
            if key in self._offers:
                return self._offers[key]
            generation = self._stub(snapshot, line, column)
            self._offers[key] = generation
            while len(self._offers) > _OFFERS_KEPT:
                self._offers.popitem(last=False)
            return generation

    def _stub(self, snapshot: Snapshot, line: int, column: int) -> Generation | None:
        from ark_lsp.generate import TemplateError
        from ark_lsp.workflows.generate import stub_for_call

        project, path = self._project(snapshot), snapshot.path
        if project is None or path is None:
            return None
        try:
            return stub_for_call(
                project,
                snapshot.document.source,
                path,
                line,
                column,
                read_text=self._read_text,
            )
        except TemplateError as error:
            self.server.call_soon(self.server.warn, f"ARK cannot generate: {error}")
        except ValueError as error:  # a file outside the workspace, a class gone
            logger.info("no stub at %s:%s: %s", snapshot.uri, line, error)
        return None

    def _edit(self, snapshot: Snapshot, generation: Generation) -> types.WorkspaceEdit | None:
        root = self._root(snapshot)
        if root is None:
            return None
        target = root / generation.change.path
        uri = from_fs_path(str(target)) or target.as_uri()
        document = snapshot.document if uri == snapshot.uri else self.server.documents.text(uri)
        return generation_edit(
            uri, document, generation.change, self.server.client_support.creates_files
        )

    async def function_action(
        self, snapshot: Snapshot, position: types.Position
    ) -> types.CodeAction | None:
        """The "Generate function" action for the undefined call at ``position``, if any."""
        line, column = server_position(snapshot.document, position)
        generation = await self.server.jobs.run(self._function, snapshot, line, column)
        if generation is None:
            return None
        name = generation.target.rsplit(".", 1)[-1]
        kind = generation.kind if generation.kind in ("method", "class") else "function"
        title = f"Generate {kind} `{name}`"
        if not generation.offered:
            if not self.server.client_support.shows_disabled_code_actions:
                return None
            reason = f"the generated code has a violation: {generation.validation.summary}"
            return types.CodeAction(
                title=title,
                kind=types.CodeActionKind.QuickFix,
                disabled=types.CodeActionDisabled(reason=reason),
            )
        action = types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix)
        if self.server.client_support.resolves_code_action_edits:
            action.data = {
                _DATA_KEY: {
                    "uri": snapshot.uri,
                    "version": snapshot.version,
                    "line": line,
                    "column": column,
                }
            }
        else:
            action.edit = self._edit(snapshot, generation)
            await self.server.jobs.run(self._record, snapshot, generation)
        return action

    async def resolve(self, action: types.CodeAction) -> types.CodeAction | None:
        """Fill in the edit of a "Generate function" action, and record it; None if not one."""
        data = action.data.get(_DATA_KEY) if isinstance(action.data, Mapping) else None
        if not isinstance(data, Mapping):
            return None
        if action.edit is not None:
            return action
        snapshot = self.server.documents.latest(str(data.get("uri")))
        if snapshot is None or snapshot.version != data.get("version"):
            return action  # the text changed since: no edit rather than a wrong one
        generation = await self.server.jobs.run(
            self._function, snapshot, int(data["line"]), int(data["column"])
        )
        if generation is None or not generation.offered:
            return action
        action.edit = self._edit(snapshot, generation)
        await self.server.jobs.run(self._record, snapshot, generation)
        return action

    async def generate_function(self, where: DocumentPosition) -> dict[str, Any]:
        """The ``ark.generateFunction`` command."""
        snapshot = self.server.documents.latest(where.uri)
        if snapshot is None:
            raise ValueError(f"no document {where.uri}")
        line, column = server_position(snapshot.document, where.position)
        async with self.server.jobs.job("ARK: generating a function"):
            generation = await self.server.jobs.run(self._function, snapshot, line, column)
        if generation is None:
            reason = "no call of an undefined name there"
            self.server.inform(f"ARK: {reason}")
            return {"applied": False, "reason": reason}
        await self.server.jobs.run(self._record, snapshot, generation)
        if not generation.offered:
            reason = f"the generated code has a violation: {generation.validation.summary}"
            self.server.warn(f"ARK did not generate {generation.target}: {reason}")
            return {"applied": False, "reason": reason}
        edit = self._edit(snapshot, generation)
        applied = edit is not None and await self._apply(edit, f"Generate {generation.target}")
        message = (
            f"generated {generation.kind} {generation.target} "
            f"at {generation.change.path}:{generation.line}"
        )
        if applied:
            self.server.inform(f"ARK: {message}")
        return {
            "applied": applied,
            "kind": generation.kind,
            "name": generation.target,
            "uri": self._uri(snapshot, generation),
            "path": generation.change.path,
            "line": generation.line,
            "notes": list(generation.notes),
            "message": message,
        }

    def _uri(self, snapshot: Snapshot, generation: Generation) -> str | None:
        root = self._root(snapshot)
        if root is None:
            return None
        target = root / generation.change.path
        return from_fs_path(str(target)) or target.as_uri()

    async def _apply(self, edit: types.WorkspaceEdit, label: str) -> bool:
        result = await self.server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=label)
        )
        return bool(result.applied)

    # --- generate tests -----------------------------------------------------------------

    def tests_action(self, snapshot: Snapshot, position: types.Position) -> types.CodeAction | None:
        """The "Generate tests" action on the ``def`` line of a function or method."""
        if snapshot.report.tier is Tier.TESTING or snapshot.path is None:
            return None
        from ark_lsp.generate.characterize.targets import target_at

        line, _ = server_position(snapshot.document, position)
        target = target_at(snapshot.document.source, line)
        if target is None:
            return None
        title = f"Generate tests for `{target.qualname}`"
        argument = {
            "uri": snapshot.uri,
            "position": {"line": position.line, "character": position.character},
        }
        return types.CodeAction(
            title=title,
            kind=types.CodeActionKind.Refactor,
            command=types.Command(title=title, command=GENERATE_TESTS, arguments=[argument]),
        )

    def _tests(self, snapshot: Snapshot, line: int, job: Job) -> CharacterizationResult:
        """Generate, validate, run and record the tests (in a job thread)."""
        from ark_lsp.generate.characterize import NothingToTest
        from ark_lsp.workflows.characterize import characterize

        project, path = self._project(snapshot), snapshot.path
        if project is None or path is None:
            raise NothingToTest("the document is not a file of a workspace")
        relative = path.resolve().relative_to(project.root).as_posix()
        folder = snapshot.folder
        if folder is not None and folder.restricted:
            raise NothingToTest(RESTRICTED)
        # The server's own runner for the folder: its containers stay warm.
        runner = self.server.runners.runner(folder) if folder is not None else None
        return characterize(
            project,
            relative,
            line=line,
            runner=runner,
            read_text=self._read_text,
            cancel=job.is_cancelled,
            progress=lambda message: job.report(message),
        )

    async def generate_tests(self, where: DocumentPosition) -> dict[str, Any]:
        """The ``ark.generateTests`` command."""
        from ark_lsp.generate import TemplateError
        from ark_lsp.generate.characterize import NothingToTest
        from ark_lsp.generate.characterize.targets import target_at

        snapshot = self.server.documents.latest(where.uri)
        if snapshot is None:
            raise ValueError(f"no document {where.uri}")
        line, _ = server_position(snapshot.document, where.position)
        target = target_at(snapshot.document.source, line)
        if target is None:
            raise ValueError("no function or method is defined on that line")
        async with self.server.jobs.job(
            f"ARK: generating tests for {target.qualname}",
            cancellable=True,
            message=f"characterizing {target.qualname}",
        ) as job:
            try:
                result = await self.server.jobs.run(self._tests, snapshot, line, job)
                self.server.send_status()  # the run chose "auto"'s backend
            except NothingToTest as error:
                job.ending = str(error)
                self.server.inform(f"ARK: {error}")
                return {"applied": False, "reason": str(error)}
            except TemplateError as error:
                job.ending = "failed"
                self.server.warn(f"ARK cannot generate tests: {error}")
                return {"applied": False, "reason": str(error)}
            generation, outcome = result.generation, result.outcome
            if not generation.offered:
                reason = f"the generated tests have a violation: {generation.validation.summary}"
                job.ending = reason
                self.server.warn(f"ARK did not write the tests: {reason}")
                return {"applied": False, "reason": reason}
            applied = await self._write_tests(snapshot, generation)
            job.ending = outcome.summary
        self.server.inform(f"ARK: {outcome.summary}")
        return {
            "applied": applied,
            **outcome.as_dict(),
            "uri": self._uri(snapshot, generation),
            "message": outcome.summary,
        }

    async def _write_tests(self, snapshot: Snapshot, generation: Generation) -> bool:
        """Apply the test file's change through the editor, or on disk if it cannot create files."""
        project = self._project(snapshot)
        assert project is not None  # the tests were generated for it
        if generation.change.creates and not self.server.client_support.creates_files:
            project.write_text(project.root / generation.change.path, generation.change.new_text)
            return True
        edit = self._edit(snapshot, generation)
        return edit is not None and await self._apply(edit, f"Generate tests ({generation.target})")


def _testable(symbol: Symbol) -> bool:
    """Whether tests can be generated for it: a top-level function or top-level class's method."""
    if symbol.kind is SymbolKind.FUNCTION:
        return symbol.parent is None
    return (
        symbol.kind is SymbolKind.METHOD and symbol.parent is not None and "." not in symbol.parent
    )
