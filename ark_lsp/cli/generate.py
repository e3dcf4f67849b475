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

from ark_lsp.cli.common import (
    DATABASE,
    EXIT_FINDINGS,
    EXIT_USAGE,
    Workspace,
    fail,
    open_workspace,
)

if TYPE_CHECKING:
    from ark_lsp.generate import Generation

FORMAT = click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text"
)
IN_FILE = click.option(
    "--in",
    "in_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to add it to (created if missing) [default: print it].",
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


def _write(path: Path, text: str, root: Path) -> None:
    """Write a generated file, only inside the workspace; a refusal is the command's failure."""
    from ark_lsp.files import write_contained

    try:
        write_contained(path, text, root)
    except OSError as error:
        fail(str(error))


def _emit(workspace: Workspace, generation: Generation, output_format: str, write: bool) -> None:
    """Record, refuse or write a generation, and say what happened."""
    from ark_lsp.generate import record

    record(workspace.store, generation)
    target = workspace.root / generation.change.path
    written = write and generation.offered
    if written:
        _write(target, generation.change.new_text, workspace.root)
    if output_format == "json":
        click.echo(json.dumps(_as_json(workspace, generation, written), indent=2))
    elif not generation.offered:
        pass
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


def _signature(params: str | None, returns: str | None) -> Any:
    from ark_lsp.generate import signature_from_text
    from ark_lsp.models import Signature

    if params is None and returns is None:
        return Signature()
    try:
        return signature_from_text(params or "", returns)
    except ValueError as error:
        fail(str(error), EXIT_USAGE)


def _templates(workspace: Workspace) -> Any:
    from ark_lsp.generate import Templates

    return Templates(workspace.templates_root)


def _destination(workspace: Workspace, in_file: Path | None) -> tuple[Path, bool]:
    """The file to render into, and whether to write it (no ``--in``: print only)."""
    if in_file is not None:
        return in_file.absolute(), True
    # Printed only: rendered as if into a new file of the workspace, in its style.
    return workspace.root / "__ark_preview__.py", False


@generate.command("function")
@click.argument("name")
@IN_FILE
@PARAMS
@click.option("--returns", help="Return annotation, e.g. 'list[str]'.")
@click.option("--async", "is_async", is_flag=True, help="An async def.")
@FORMAT
@DATABASE
def generate_function(
    name: str,
    in_file: Path | None,
    params: str | None,
    returns: str | None,
    is_async: bool,
    output_format: str,
    database: Path | None,
) -> None:
    """A function stub NAME (Class.method for a method of a class in the file).

    Without --params, a call of NAME in the file gives the stub its
    parameters, their types and its place, as the editor's code action does.
    """
    from ark_lsp.generate import FunctionSpec, TemplateError, named_function

    if not all(part.isidentifier() for part in name.split(".")) or name.count(".") > 1:
        fail(f"{name!r} is not a function name (or Class.method)", EXIT_USAGE)
    if "." in name and in_file is None:
        fail("a method needs --in FILE, the file defining its class", EXIT_USAGE)
    spec = FunctionSpec(
        name=name,
        signature=_signature(params, returns),
        is_async=is_async,
        annotated_by_user=params is not None or returns is not None,
    )
    anchor = _existing(in_file or Path.cwd())
    with open_workspace([anchor], database) as workspace:
        path, write = _destination(workspace, in_file)
        try:
            generation = named_function(
                spec,
                path,
                root=workspace.root,
                settings=workspace.settings,
                templates=_templates(workspace),
                use_calls=params is None,
            )
        except TemplateError as error:
            fail(str(error))
        except ValueError as error:
            fail(str(error), EXIT_USAGE)
        _emit(workspace, generation, output_format, write)


@generate.command("class")
@click.argument("name")
@IN_FILE
@PARAMS
@click.option("--bases", help='Base classes, e.g. "Base, Mixin".')
@FORMAT
@DATABASE
def generate_class(
    name: str,
    in_file: Path | None,
    params: str | None,
    bases: str | None,
    output_format: str,
    database: Path | None,
) -> None:
    """A class NAME; --params become its __init__'s parameters and attributes."""
    from ark_lsp.generate import ClassSpec, TemplateError, named_class

    if not name.isidentifier():
        fail(f"{name!r} is not a class name", EXIT_USAGE)
    base_names = tuple(b.strip() for b in (bases or "").split(",") if b.strip())
    spec = ClassSpec(
        name=name,
        bases=base_names,
        signature=_signature(params, None),
        annotated_by_user=params is not None,
    )
    anchor = _existing(in_file or Path.cwd())
    with open_workspace([anchor], database) as workspace:
        path, write = _destination(workspace, in_file)
        try:
            generation = named_class(
                spec,
                path,
                root=workspace.root,
                settings=workspace.settings,
                templates=_templates(workspace),
            )
        except TemplateError as error:
            fail(str(error))
        _emit(workspace, generation, output_format, write)


@generate.command("module")
@click.argument("name")
@IN_FILE
@click.option("--functions", help="Comma-separated names of functions to stub, e.g. 'load,save'.")
@FORMAT
@DATABASE
def generate_module(
    name: str,
    in_file: Path | None,
    functions: str | None,
    output_format: str,
    database: Path | None,
) -> None:
    """A new module NAME (dotted, from the workspace root) or the file --in FILE."""
    from ark_lsp.generate import (
        FunctionSpec,
        ModuleSpec,
        TemplateError,
        module_file,
        named_module,
    )

    if not all(part.isidentifier() for part in name.split(".")):
        fail(f"{name!r} is not a module name", EXIT_USAGE)
    names = [f.strip() for f in (functions or "").split(",") if f.strip()]
    bad = [f for f in names if not f.isidentifier()]
    if bad:
        fail(f"not function names: {', '.join(bad)}", EXIT_USAGE)
    spec = ModuleSpec(name=name, functions=tuple(FunctionSpec(f) for f in names))
    anchor = _existing(in_file or Path.cwd())
    with open_workspace([anchor], database) as workspace:
        path = in_file.resolve() if in_file else module_file(workspace.root, name)
        if path.exists():
            fail(f"{os.path.relpath(path)} already exists", EXIT_USAGE)
        try:
            generation = named_module(
                spec,
                path,
                root=workspace.root,
                settings=workspace.settings,
                templates=_templates(workspace),
            )
        except TemplateError as error:
            fail(str(error))
        _emit(workspace, generation, output_format, write=True)


@generate.command("tests")
@click.argument("target", metavar="PATH[::NAME]")
@click.option("--no-run", is_flag=True, help="Write the tests without running them afterwards.")
@FORMAT
@DATABASE
def generate_tests_command(
    target: str, no_run: bool, output_format: str, database: Path | None
) -> None:
    """Tests for the functions of PATH (or only NAME, Class or Class.method), from observed runs.

    Each function is run on sample inputs in the sandbox; what it returned
    or raised becomes a pytest.mark.parametrize table in the module's test
    file (created, or extended without repeating tests it has). The new
    tests are then run in the sandbox and counted. Without a sandbox the
    tests are skipped skeletons with TODOs.
    """
    from ark_lsp.cli.common import refresh
    from ark_lsp.generate import TemplateError, record
    from ark_lsp.generate.characterize import (
        CharacterizationContext,
        NothingToTest,
        generate_tests,
    )
    from ark_lsp.sandbox import recording_runner

    raw_path, _, name = target.partition("::")
    path = Path(raw_path)
    if not path.is_file():
        fail(f"{raw_path} is not a file", EXIT_USAGE)
    with open_workspace([path], database) as workspace:
        refresh(workspace, None, show_progress=False)  # call sites come from a current index
        store = workspace.store

        def call_sites(function: str) -> list[str]:
            texts = []
            for relative in store.index.files_calling(function):
                try:
                    texts.append((workspace.root / relative).read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError):
                    continue
            return texts

        runner = recording_runner(workspace.root, workspace.settings)
        relative = path.resolve().relative_to(workspace.root).as_posix()
        context = CharacterizationContext(
            root=workspace.root,
            settings=workspace.settings,
            templates=_templates(workspace),
            runner=runner,
            call_sites=call_sites,
            progress=lambda message: click.echo(f"ark: {message}", err=True),
            run_tests=not no_run,
        )
        try:
            result = generate_tests(context, relative, name=name or None)
        except NothingToTest as error:
            if error.already_tested:
                click.echo(f"ark: nothing new to test: {error}", err=True)
                return
            fail(str(error), EXIT_USAGE)
        except TemplateError as error:
            fail(str(error))
        finally:
            runner.close()
        generation, outcome = result.generation, result.outcome
        record(store, generation, outcome.as_dict())
        written = generation.offered
        if written:
            destination = workspace.root / generation.change.path
            _write(destination, generation.change.new_text, workspace.root)
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    **_as_json(workspace, generation, written),
                    "tests": {**outcome.as_dict(), "path": workspace.display_path(outcome.path)},
                },
                indent=2,
            )
        )
    elif written:
        shown = dataclasses.replace(outcome, path=workspace.display_path(outcome.path))
        click.echo(shown.summary[:1].upper() + shown.summary[1:])
    for skipped in outcome.already_tested:
        click.echo(f"ark: note: already tested, left alone: {skipped}", err=True)
    for note in generation.notes:
        click.echo(f"ark: note: {note}", err=True)
    if not generation.offered:
        fail(
            f"the generated tests were not written: {generation.validation.summary}", EXIT_FINDINGS
        )
