"""Generating stubs: a function, method, class or module, from a name or from a call site.

``ark generate function|class|module`` asks by name; the editor's quick fix
asks for what a call of an undefined name needs. Every generation is
checked by the analysis engine (a refused one is never written) and
recorded in the project's ``generated_code``, written or not.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ark_lsp.changes import SourceKind
from ark_lsp.generate import (
    ClassSpec,
    FunctionSpec,
    Generation,
    ModuleSpec,
    ReadText,
    function_for_call,
    module_file,
    named_class,
    named_function,
    named_module,
    record,
)
from ark_lsp.project import Project
from ark_lsp.store import Store, StoreError
from ark_lsp.workflows.changes import AsChange, Proposal, propose_generated

logger = logging.getLogger(__name__)

PREVIEW_FILE = "__ark_preview__.py"
"""What a stub printed rather than written is rendered into: a new file of the workspace."""


@dataclass(frozen=True)
class GeneratedStub:
    """A generation, and whether it was written to its file (or proposed as a change)."""

    generation: Generation
    written: bool
    proposal: Proposal | None = None
    """The change set it became, when it was asked for as one (and not refused)."""


def record_generation(
    project: Project,
    generation: Generation,
    test_outcome: Mapping[str, object] | None = None,
    *,
    store: Store | None = None,
) -> None:
    """Keep a generation, offered or refused, in the project's ``generated_code``.

    With ``store`` (an open connection of the project's) a database fault
    raises; without, the record opens its own and a fault is only logged:
    the generation itself is still good.
    """
    if store is not None:
        record(store, generation, test_outcome)
        return
    try:
        with project.open_store() as opened:
            record(opened, generation, test_outcome)
    except StoreError as error:
        logger.warning("generation not recorded: %s", error)


def _finish(
    project: Project,
    generation: Generation,
    write: bool,
    store: Store | None,
    as_change: AsChange | None = None,
) -> GeneratedStub:
    """Record the generation, then write it (or propose it) when the analysis let it through."""
    record_generation(project, generation, store=store)
    if not (write and generation.offered):
        return GeneratedStub(generation, False)
    if as_change is not None:
        return GeneratedStub(generation, False, propose_generation(project, generation, as_change))
    project.write_text(project.root / generation.change.path, generation.change.new_text)
    return GeneratedStub(generation, True)


def propose_generation(
    project: Project,
    generation: Generation,
    as_change: AsChange,
    *,
    targets: tuple[str, ...] = (),
) -> Proposal:
    """A generated text, as a change set of its file instead of written there."""
    kind = SourceKind.TESTS if generation.kind == "tests" else SourceKind.STUB
    what = "tests of" if kind is SourceKind.TESTS else f"the {generation.kind}"
    return propose_generated(
        project,
        {generation.change.path: generation.change.new_text},
        as_change,
        kind,
        reason=f"Add {what} {generation.target}",
        detail=generation.change.path,
        targets=targets or (generation.target,),
    )


def _destination(project: Project, into: Path | None) -> Path:
    # Printed only: rendered as if into a new file of the workspace, in its style.
    return into.absolute() if into is not None else project.root / PREVIEW_FILE


def generate_function(
    project: Project,
    spec: FunctionSpec,
    into: Path | None = None,
    *,
    use_calls: bool = True,
    store: Store | None = None,
    as_change: AsChange | None = None,
) -> GeneratedStub:
    """A function (``Class.method``: a method) added to ``into``, created if missing.

    Without ``into`` it is rendered as for a new file and not written. With
    ``use_calls`` and no parameters in ``spec``, a call of the name in the
    file gives the stub its parameters and place. Raises
    :class:`~ark_lsp.generate.TemplateError` for a broken template,
    :class:`ValueError` for a class the file lacks, :class:`OSError` when
    the file cannot be written inside the workspace. With ``as_change`` the
    stub is proposed as a change set instead of written
    (:func:`propose_generation`).
    """
    generation = named_function(
        spec,
        _destination(project, into),
        root=project.root,
        settings=project.settings,
        templates=project.templates(),
        use_calls=use_calls,
    )
    return _finish(project, generation, into is not None, store, as_change)


def generate_class(
    project: Project,
    spec: ClassSpec,
    into: Path | None = None,
    *,
    store: Store | None = None,
    as_change: AsChange | None = None,
) -> GeneratedStub:
    """A class added at the end of ``into``, created if missing; without it, not written."""
    generation = named_class(
        spec,
        _destination(project, into),
        root=project.root,
        settings=project.settings,
        templates=project.templates(),
    )
    return _finish(project, generation, into is not None, store, as_change)


def generate_module(
    project: Project,
    spec: ModuleSpec,
    path: Path | None = None,
    *,
    store: Store | None = None,
    as_change: AsChange | None = None,
) -> GeneratedStub:
    """A new module at ``path`` (default: where ``spec.name`` lives under the root), written.

    Raises :class:`FileExistsError` (its ``filename`` the path) rather than
    overwrite a file.
    """
    path = path.resolve() if path is not None else module_file(project.root, spec.name)
    if path.exists():
        raise FileExistsError(errno.EEXIST, "already exists", str(path))
    generation = named_module(
        spec, path, root=project.root, settings=project.settings, templates=project.templates()
    )
    return _finish(project, generation, True, store, as_change)


def stub_for_call(
    project: Project,
    text: str,
    path: Path,
    line: int,
    column: int,
    *,
    read_text: ReadText | None = None,
) -> Generation | None:
    """The stub an undefined call at ``line``:``column`` of ``path`` (holding ``text``) needs.

    None when there is no call of an undefined name there. A method of a
    class defined in another file goes into that file, read with
    ``read_text`` (default: the project's own bounded read). The caller
    records it (:func:`record_generation`) once it offers it.
    """
    return function_for_call(
        text,
        path,
        line,
        column,
        root=project.root,
        settings=project.settings,
        templates=project.templates(),
        read_text=read_text or project.read_text,
    )


__all__ = [
    "PREVIEW_FILE",
    "GeneratedStub",
    "generate_class",
    "generate_function",
    "generate_module",
    "propose_generation",
    "record_generation",
    "stub_for_call",
]
