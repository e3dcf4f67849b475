"""``ark generate``: functions, classes, modules and tests, from the workspace's templates.

Every generated text is checked by the analysis engine first: one with a
violation is not written (exit 1, the message says why). Every generation,
written or refused, is recorded in the index database's ``generated_code``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ark_lsp.cli.changes import change_failures
from ark_lsp.cli.common import (
    DATABASE,
    EXIT_FAILURE,
    EXIT_FINDINGS,
    EXIT_USAGE,
    Workspace,
    fail,
    open_workspace,
)

if TYPE_CHECKING:
    from ark_lsp.generate import Generation
    from ark_lsp.workflows.changes import AsChange
    from ark_lsp.workflows.generate import GeneratedStub

FORMAT = click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text"
)
IN_FILE = click.option(
    "--in",
    "in_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to add it to (created if missing) [default: print it].",
)
AS_CHANGE = click.option(
    "--as-change",
    is_flag=True,
    help="Propose it as a change set (see ark change) instead of writing the file.",
)
PARAMS = click.option(
    "--params", help='Parameters as in a def, e.g. "text: str, width: int = 70, *, sep=None".'
)


@click.group()
def generate() -> None:
    """Generate functions, classes, modules and tests from templates."""


def _existing(path: Path) -> Path:
    """The nearest existing folder or file at or above ``path``: where its workspace is found.

    Where the user named it, not where a link leads: a workspace's link must
    not carry ARK's writes into another folder.
    """
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _emit(workspace: Workspace, stub: GeneratedStub, output_format: str) -> None:
    """Say what happened to a generation: written, proposed, printed or refused."""
    from ark_lsp.cli.changes import change_json, emit_proposal

    generation, written = stub.generation, stub.written
    if output_format == "json":
        payload = _as_json(workspace, generation, written)
        if stub.proposal is not None:
            payload["change"] = change_json(stub.proposal.change, stub.proposal.worktree)
        click.echo(json.dumps(payload, indent=2))
    elif not generation.offered:
        pass
    elif stub.proposal is not None:
        emit_proposal(stub.proposal, "text")
    elif written:
        shown = workspace.display_path(generation.change.path)
        action = "Created" if generation.change.creates else "Added"
        click.echo(f"{action} {generation.kind} {generation.target} in {shown}:{generation.line}")
    else:
        click.echo(generation.text, nl=False)
    for note in generation.notes:
        click.echo(f"ark: note: {note}", err=True)
    if not generation.offered:
        fail(
            f"the generated {generation.kind} was not written: {generation.validation.summary}",
            EXIT_FINDINGS,
        )


def _as_json(workspace: Workspace, generation: Generation, written: bool) -> dict[str, Any]:
    return {
        "kind": generation.kind,
        "target": generation.target,
        "path": workspace.display_path(generation.change.path),
        "line": generation.line,
        "template": generation.template,
        "written": written,
        "validation": generation.validation.as_dict(),
        "notes": list(generation.notes),
        "text": generation.text,
    }


def _as_change(as_change: bool, command: str) -> AsChange | None:
    """What --as-change asks for: the command proposing, on the user's behalf."""
    from ark_lsp.cli.changes import proposer
    from ark_lsp.workflows.changes import AsChange

    return AsChange(f"ark generate {command} ({proposer()})") if as_change else None


def _signature(params: str | None, returns: str | None) -> Any:
    from ark_lsp.generate import signature_from_text
    from ark_lsp.models import Signature

    if params is None and returns is None:
        return Signature()
    try:
        return signature_from_text(params or "", returns)
    except ValueError as error:
        fail(str(error), EXIT_USAGE)


@generate.command("function")
@click.argument("name")
@IN_FILE
@PARAMS
@click.option("--returns", help="Return annotation, e.g. 'list[str]'.")
@click.option("--async", "is_async", is_flag=True, help="An async def.")
@AS_CHANGE
@FORMAT
@DATABASE
def generate_function(
    name: str,
    in_file: Path | None,
    params: str | None,
    returns: str | None,
    is_async: bool,
    as_change: bool,
    output_format: str,
    database: Path | None,
) -> None:
    """A function stub NAME (Class.method for a method of a class in the file).

    Without --params, a call of NAME in the file gives the stub its
    parameters, their types and its place, as the editor's code action does.
    """
    from ark_lsp.generate import FunctionSpec, TemplateError
    from ark_lsp.workflows.generate import generate_function as generate_stub

    if not all(part.isidentifier() for part in name.split(".")) or name.count(".") > 1:
        fail(f"{name!r} is not a function name (or Class.method)", EXIT_USAGE)
    if "." in name and in_file is None:
        fail("a method needs --in FILE, the file defining its class", EXIT_USAGE)
    if as_change and in_file is None:
        fail("--as-change needs --in FILE, the file the change adds it to", EXIT_USAGE)
    spec = FunctionSpec(
        name=name,
        signature=_signature(params, returns),
        is_async=is_async,
        annotated_by_user=params is not None or returns is not None,
    )
    anchor = _existing(in_file or Path.cwd())
    with open_workspace([anchor], database) as workspace, change_failures():
        try:
            stub = generate_stub(
                workspace.project,
                spec,
                in_file,
                use_calls=params is None,
                store=workspace.store,
                as_change=_as_change(as_change, "function"),
            )
        except TemplateError as error:
            fail(str(error))
        except ValueError as error:
            fail(str(error), EXIT_USAGE)
        except OSError as error:
            fail(str(error))
        _emit(workspace, stub, output_format)


@generate.command("class")
@click.argument("name")
@IN_FILE
@PARAMS
@click.option("--bases", help='Base classes, e.g. "Base, Mixin".')
@AS_CHANGE
@FORMAT
@DATABASE
def generate_class(
    name: str,
    in_file: Path | None,
    params: str | None,
    bases: str | None,
    as_change: bool,
    output_format: str,
    database: Path | None,
) -> None:
    """A class NAME; --params become its __init__'s parameters and attributes."""
    from ark_lsp.generate import ClassSpec, TemplateError
    from ark_lsp.workflows.generate import generate_class as generate_stub

    if not name.isidentifier():
        fail(f"{name!r} is not a class name", EXIT_USAGE)
    if as_change and in_file is None:
        fail("--as-change needs --in FILE, the file the change adds it to", EXIT_USAGE)
    base_names = tuple(b.strip() for b in (bases or "").split(",") if b.strip())
    spec = ClassSpec(
        name=name,
        bases=base_names,
        signature=_signature(params, None),
        annotated_by_user=params is not None,
    )
    anchor = _existing(in_file or Path.cwd())
    with open_workspace([anchor], database) as workspace, change_failures():
        try:
            stub = generate_stub(
                workspace.project,
                spec,
                in_file,
                store=workspace.store,
                as_change=_as_change(as_change, "class"),
            )
        except (TemplateError, OSError) as error:
            fail(str(error))
        _emit(workspace, stub, output_format)


@generate.command("module")
@click.argument("name")
@click.option(
    "--in",
    "in_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to create [default: NAME's file under the workspace root, e.g. pkg/mod.py].",
)
@click.option("--functions", help="Comma-separated names of functions to stub, e.g. 'load,save'.")
@AS_CHANGE
@FORMAT
@DATABASE
def generate_module(
    name: str,
    in_file: Path | None,
    functions: str | None,
    as_change: bool,
    output_format: str,
    database: Path | None,
) -> None:
    """Create a new module NAME (dotted, from the workspace root), or the file --in FILE.

    Unlike a function or a class, a module is always written: to NAME's
    file (pkg.mod is pkg/mod.py) or to --in FILE, never over a file that
    exists.
    """
    from ark_lsp.generate import FunctionSpec, ModuleSpec, TemplateError
    from ark_lsp.workflows.generate import generate_module as generate_stub

    if not all(part.isidentifier() for part in name.split(".")):
        fail(f"{name!r} is not a module name", EXIT_USAGE)
    names = [f.strip() for f in (functions or "").split(",") if f.strip()]
    bad = [f for f in names if not f.isidentifier()]
    if bad:
        fail(f"not function names: {', '.join(bad)}", EXIT_USAGE)
    spec = ModuleSpec(name=name, functions=tuple(FunctionSpec(f) for f in names))
    anchor = _existing(in_file or Path.cwd())
    with open_workspace([anchor], database) as workspace, change_failures():
        try:
            stub = generate_stub(
                workspace.project,
                spec,
                in_file,
                store=workspace.store,
                as_change=_as_change(as_change, "module"),
            )
        except FileExistsError as error:
            fail(f"{os.path.relpath(error.filename)} already exists", EXIT_USAGE)
        except (TemplateError, OSError) as error:
            fail(str(error))
        _emit(workspace, stub, output_format)


@generate.command("tests")
@click.argument("target", metavar="PATH[::NAME]")
@click.option("--no-run", is_flag=True, help="Write the tests without running them afterwards.")
@AS_CHANGE
@FORMAT
@DATABASE
def generate_tests_command(
    target: str, no_run: bool, as_change: bool, output_format: str, database: Path | None
) -> None:
    """Tests for the functions of PATH (or only NAME, Class or Class.method), from observed runs.

    Each function is run on sample inputs in the sandbox; what it returned
    or raised becomes a pytest.mark.parametrize table in the module's test
    file (created, or extended without repeating tests it has). The new
    tests are then run in the sandbox and counted. Without a sandbox the
    tests are skipped skeletons with TODOs.
    """
    from ark_lsp.cli.changes import change_json, emit_proposal
    from ark_lsp.cli.common import refresh
    from ark_lsp.generate import TemplateError
    from ark_lsp.generate.characterize import NothingToTest
    from ark_lsp.workflows.characterize import characterize

    raw_path, _, name = target.partition("::")
    path = Path(raw_path)
    if not path.is_file():
        fail(f"{raw_path} is not a file", EXIT_USAGE)
    with open_workspace([path], database) as workspace, change_failures():
        # Call sites (examples) and the tests calling a function come from the whole index.
        refresh(workspace, None, show_progress=False, whole=True)
        try:
            result = characterize(
                workspace.project,
                workspace.project.relative(path),
                name=name or None,
                store=workspace.store,
                write=True,
                as_change=_as_change(as_change, "tests"),
                run_tests=not no_run,
                progress=lambda message: click.echo(f"ark: {message}", err=True),
            )
        except NothingToTest as error:
            if not error.nothing_new:
                fail(str(error), EXIT_USAGE)
            if output_format == "json":  # a consumer reads an answer, not an empty stdout
                click.echo(json.dumps({"written": 0, "nothing_new": str(error)}, indent=2))
            click.echo(f"ark: nothing new to test: {error}", err=True)
            return
        except (TemplateError, OSError) as error:
            fail(str(error))
    generation, outcome, written = result.generation, result.outcome, result.written
    if output_format == "json":
        payload = {
            **_as_json(workspace, generation, written),
            "tests": {**outcome.as_dict(), "path": workspace.display_path(outcome.path)},
        }
        if result.proposal is not None:
            payload["change"] = change_json(result.proposal.change, result.proposal.worktree)
        click.echo(json.dumps(payload, indent=2))
    elif result.proposal is not None:
        emit_proposal(result.proposal, "text")
        shown = dataclasses.replace(outcome, path=workspace.display_path(outcome.path))
        click.echo(f"ark: the change {shown.told('writes')}", err=True)
    elif written:
        shown = dataclasses.replace(outcome, path=workspace.display_path(outcome.path))
        click.echo(shown.summary[:1].upper() + shown.summary[1:])
    for skipped in outcome.already_tested:
        click.echo(f"ark: note: already tested, left alone: {skipped}", err=True)
    for note in generation.notes:
        if note != outcome.problem:  # said once, as the error below
            click.echo(f"ark: note: {note}", err=True)
    if not generation.offered:
        fail(
            f"the generated tests were not written: {generation.validation.summary}", EXIT_FINDINGS
        )
    if outcome.problem is not None:
        # Skeletons, or tests that could not run, are not what was asked for: say why, and fail.
        fail(outcome.problem, EXIT_FAILURE)
