"""``ark run``, ``ark test``, ``ark history`` and ``ark sandbox``: code and tests in a sandbox.

Exit codes, as for every ``ark`` command (see :mod:`ark_lsp.cli`):

- 0: the run passed (exit code 0; every test passed);
- 1: the code failed: a non-zero exit, a failing test, a limit reached
  (timeout, memory, processes) or a cancelled run;
- 2: usage error;
- 3: the database cannot be used;
- 4: the sandbox could not run the code at all (no engine answers for
  ``--backend docker``, the image is missing, the engine vanished mid-run)
  or the image could not be built.

Every run, whatever its outcome, is recorded in ``sandbox_executions``.
The run's own stdout and stderr go to stdout and stderr; ARK's summary line
goes to stderr, so ``ark run f.py > out.txt`` keeps only the program's output.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ark_lsp.cli.common import (
    DATABASE,
    EXIT_FAILURE,
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    ROOT,
    Workspace,
    cancel_on_interrupt,
    fail,
    open_workspace,
)

if TYPE_CHECKING:
    from ark_lsp.sandbox import RunResult
    from ark_lsp.workflows.run import SandboxOptions


def _size(value: str | None) -> int | None:
    from ark_lsp.config import parse_size

    if value is None:
        return None
    try:
        return parse_size(value)
    except TypeError as error:
        raise click.BadParameter(str(error)) from None


def sandbox_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``ark run`` and ``ark test`` share."""
    for option in reversed(
        (
            click.option(
                "--backend",
                type=click.Choice(["docker", "local", "auto"]),
                help="Where to run [default: [tool.ark.sandbox] backend, else auto].",
            ),
            click.option(
                "--timeout",
                type=click.FloatRange(min=0, min_open=True),
                help="Wall-clock seconds [default: [tool.ark.sandbox] timeout for ark run, "
                "suite-timeout for ark test].",
            ),
            click.option(
                "--memory",
                help='Memory limit, e.g. "256m" or "1g" [default: [tool.ark.sandbox] memory '
                "for ark run, suite-memory for ark test].",
            ),
            click.option("--cpus", type=click.FloatRange(min=0, min_open=True), help="CPU quota."),
            click.option(
                "--network/--no-network",
                default=None,
                help="Let the code reach the network [default: off].",
            ),
            click.option(
                "--weak-isolation",
                is_flag=True,
                default=None,
                help="Let the local backend run without bubblewrap (util-linux unshare only: "
                "the host's files stay in reach) instead of refusing.",
            ),
            click.option(
                "--format",
                "output_format",
                type=click.Choice(["text", "json"]),
                default="text",
                show_default=True,
            ),
            DATABASE,
        )
    ):
        command = option(command)
    return command


def _options(options: dict[str, Any]) -> SandboxOptions:
    """What the command line asked of the sandbox, over the workspace's settings."""
    from ark_lsp.workflows.run import SandboxOptions

    return SandboxOptions(
        backend=options.get("backend"),
        timeout=options.get("timeout"),
        memory=_size(options.get("memory")),
        cpus=options.get("cpus"),
        network=options.get("network"),
        weak_isolation=bool(options.get("weak_isolation")),
    )


def _progress(line: str) -> None:
    click.echo(f"ark: {line}", err=True)


def _relative(workspace: Workspace, path: Path) -> str:
    return workspace.project.relative(path)


def _megabytes(value: int | None) -> str:
    return "?" if value is None else f"{value / (1024 * 1024):.1f} MiB"


def _summary(result: RunResult, *, suite: bool = False) -> str:
    """ARK's line about a run (``suite``: of a test suite, within the ``suite-timeout``)."""
    from ark_lsp.sandbox import how_to_raise

    where = result.backend + (f", {result.image}" if result.image else "")
    parts = [f"{result.outcome.value} in {result.duration_ms:.0f} ms ({where})"]
    if result.exit_code is not None:
        parts.append(f"exit {result.exit_code}")
    how = how_to_raise(result.killed_by, suite=suite, options=True)
    if how is not None:
        parts.append(f"killed by {result.killed_by.value} ({how})")
    parts.append(f"peak {_megabytes(result.peak_memory_bytes)}")
    if result.cpu_time_ms is not None:
        parts.append(f"cpu {result.cpu_time_ms:.0f} ms")
    if result.execution_id is not None:
        parts.append(f"run #{result.execution_id}")
    return "; ".join(parts)


def _exit_code(result: RunResult, interrupted: threading.Event | None = None) -> int:
    if interrupted is not None and interrupted.is_set() and result.outcome.value == "cancelled":
        return EXIT_INTERRUPTED
    if result.outcome.value == "passed":
        return EXIT_OK
    return EXIT_FAILURE if result.outcome.value == "error" else EXIT_FINDINGS


def _report_notes(result: RunResult) -> None:
    for note in result.notes:
        click.echo(f"ark: note: {note}", err=True)


def _report_text(result: RunResult, *, suite: bool = False) -> None:
    from ark_lsp.sandbox.models import OUTPUT_CAP

    if result.stdout:
        click.echo(result.stdout, nl=False)
    if result.stderr:
        click.echo(result.stderr, nl=False, err=True)
    for stream, truncated in (
        ("stdout", result.stdout_truncated),
        ("stderr", result.stderr_truncated),
    ):
        if truncated:
            click.echo(
                f"ark: {stream} was cut at {OUTPUT_CAP} bytes; the rest was dropped", err=True
            )
    if result.backend == "local" and not result.isolation.startswith("none"):
        click.echo(f"ark: note: {result.isolation}", err=True)
    _report_notes(result)
    if result.error:
        label = "error" if result.outcome.value == "error" else "note"
        click.echo(f"ark: {label}: {result.error}", err=True)
    click.echo(f"ark: {_summary(result, suite=suite)}", err=True)


@click.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
@click.option("--function", "qualname", help="Call this function of FILE instead of running it.")
@sandbox_options
def run(file: Path, arguments: tuple[str, ...], qualname: str | None, **options: Any) -> None:
    """Run FILE in a sandbox, the workspace copied in: ark run FILE [-- ARGS]...

    With --function NAME, import FILE's module and call NAME (ARGS are
    passed as strings); its return value's repr is printed.
    """
    from ark_lsp.workflows.run import run_code

    with (
        open_workspace([file], options.pop("database")) as workspace,
        cancel_on_interrupt() as cancel,
    ):
        relative = _relative(workspace, file)
        result = run_code(
            workspace.project,
            relative,
            function=qualname,
            arguments=arguments,
            options=_options(options),
            cancel=cancel.is_set,
            progress=_progress,
        )
    if options["output_format"] == "json":
        click.echo(json.dumps({"target": relative, **result.as_dict()}, indent=2))
    else:
        _report_text(result)
    raise SystemExit(_exit_code(result, cancel))


@click.command("test")
@click.argument(
    "paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATH]..."
)
@sandbox_options
def test(paths: tuple[Path, ...], **options: Any) -> None:
    """Run pytest on PATHs (default: the workspace) in a sandbox; per-test results."""
    from ark_lsp.workflows.tests import run_tests

    with (
        open_workspace(list(paths), options.pop("database")) as workspace,
        cancel_on_interrupt() as cancel,
    ):
        targets = [_relative(workspace, path) for path in workspace.targets]
        test_run = run_tests(
            workspace.project,
            targets,
            options=_options(options),
            cancel=cancel.is_set,
            progress=_progress,
        )
        display = workspace.display_path
    result = test_run.result
    if options["output_format"] == "json":
        click.echo(json.dumps(test_run.as_dict(), indent=2))
        raise SystemExit(_exit_code(result, cancel))
    for case in test_run.cases:
        if case.outcome.value in ("failed", "error"):
            line = case.failure_line or case.line
            where = display(case.path) if case.path else ""  # no path: the report's was not kept
            if where and line:
                where += f":{line}"
            words = (case.outcome.value.upper(), where, case.nodeid)
            click.echo(" ".join(word for word in words if word) + f": {case.message}")
    counts = test_run.counts
    if result.outcome.value == "error" or not test_run.cases:
        _report_text(result, suite=True)
    else:
        if result.backend == "local":
            click.echo(f"ark: note: {result.isolation}", err=True)
        _report_notes(result)
        labels = {"passed": "passed", "failed": "failed", "error": "errors", "skipped": "skipped"}
        shown = [f"{counts[key]} {label}" for key, label in labels.items()]
        # As pytest says them, when there are any: an xfail is neither a pass nor a skip.
        shown += [f"{counts[key]} {key}" for key in ("xfailed", "xpassed") if counts[key]]
        click.echo(", ".join(shown))
        if result.error:  # pytest failed a run whose tests passed: what it said of why
            click.echo(f"ark: {result.error}", err=True)
        click.echo(f"ark: {_summary(result, suite=True)}", err=True)
    raise SystemExit(_exit_code(result, cancel))


@click.command("history")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--target", help="Only runs of this workspace-relative path.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@ROOT
@DATABASE
def history(
    limit: int, target: str | None, output_format: str, root: Path | None, database: Path | None
) -> None:
    """Recent sandbox runs, newest first, and why each that did not pass did not."""
    from dataclasses import asdict

    with open_workspace([root] if root else [], database) as workspace:
        records = workspace.store.runs.history(limit=limit, target_path=target)
    if output_format == "json":
        click.echo(json.dumps([asdict(record) for record in records], indent=2))
        return
    for record in records:
        name = record.target_path + (f"::{record.target_name}" if record.target_name else "")
        killed = _killed_by(record.killed_by, suite=record.kind == "test")
        duration = "?" if record.duration_ms is None else f"{record.duration_ms:.0f} ms"
        why = f"  ({record.reason})" if record.reason else ""
        click.echo(
            f"#{record.id:<5} {record.started_at}  {record.backend:<6} {record.kind:<8} "
            f"{record.outcome:<9} {duration:>8}{killed}  {name}{why}"
        )


def _killed_by(limit: str | None, *, suite: bool) -> str:
    """`` killed by LIMIT (raise ...)`` for a run a limit ended, else nothing.

    The setting, not ``ark run``'s option: the run may have been the editor's
    or the gate's. A test run is a suite's (``suite``), with its own time limit.
    """
    from ark_lsp.sandbox import how_to_raise
    from ark_lsp.sandbox.models import KilledBy

    if limit in (None, "none"):
        return ""
    known = limit in {member.value for member in KilledBy}
    how = how_to_raise(KilledBy(limit), suite=suite) if known else None
    return f" killed by {limit}" + (f" ({how})" if how else "")


@click.group("sandbox")
def sandbox() -> None:
    """The sandbox's engine, image and backend."""


@sandbox.command("status")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@ROOT
def status(output_format: str, root: Path | None) -> None:
    """Which engine, image, pool and backend runs use, and why."""
    from ark_lsp.sandbox.status import sandbox_status

    report = sandbox_status(root or Path.cwd())
    if output_format == "json":
        click.echo(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        if value is not None:  # not known here: no engine, so no image to speak of
            click.echo(f"{key.replace('_', ' ')}: {_as_text(value)}")


def _as_text(value: object) -> str:
    """A status value as a person reads it: ``yes``, ``none``, a list's items."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    return str(value)


@sandbox.group("image")
def image() -> None:
    """The docker image runs use."""


@image.command("build")
@click.option(
    "--if-missing",
    is_flag=True,
    help="Do nothing when the image is already there (and not outdated).",
)
@click.option(
    "--suite", default="bookworm", show_default=True, help="Debian release to build from."
)
@click.option(
    "--mirror", help="Debian mirror [default: env ARK_DEBIAN_MIRROR, else deb.debian.org]."
)
@click.option("--tag", help="Image tag [default: ark-sandbox:pythonX.Y of the built Python].")
def image_build(if_missing: bool, suite: str, mirror: str | None, tag: str | None) -> None:
    """Build the sandbox image offline from Debian packages (debootstrap + docker import)."""
    from ark_lsp.sandbox.docker_engine import connect
    from ark_lsp.sandbox.image import ImageBuildError, ark_image, build_image, outdated

    engine = connect(timeout=600)
    if not engine.answers:
        fail(engine.error or "no Docker engine answers", EXIT_FAILURE)
    wanted = tag or ark_image()
    if if_missing:
        from docker.errors import ImageNotFound

        try:
            engine.client.images.get(wanted)
        except ImageNotFound:
            pass
        else:
            stale = outdated(engine.client, wanted)
            if stale is None:
                click.echo(f"{wanted} is already there")
                return
            click.echo(f"ark: {stale}: building it again", err=True)
    try:
        built = build_image(
            engine.client,
            suite=suite,
            mirror=mirror,
            tag=tag,
            log=lambda line: click.echo(f"ark: {line}", err=True),
        )
    except ImageBuildError as error:
        fail(str(error), EXIT_FAILURE)
    if tag is None and built != wanted:
        click.echo(f"ark: warning: built {built}, but this Python looks for {wanted}", err=True)
    click.echo(f"built {built}")


@sandbox.group("env")
def env() -> None:
    """The environment runs get: the workspace's declared dependencies."""


@env.command("build")
@click.option("--verbose", "-v", is_flag=True, help="Show pip's output as it installs.")
@click.option("--rebuild", is_flag=True, help="Build again even when the layer exists.")
@ROOT
def env_build(verbose: bool, rebuild: bool, root: Path | None) -> None:
    """Install the workspace's declared dependencies into a docker layer its runs start from.

    pip runs in a container with network, made from the sandbox image, never
    on the host; runs then start from the layer with no network. The layer
    is kept until the declarations (pyproject.toml, requirements*.txt, the
    lock file) change. This builds it even for a workspace you have not
    trusted, and tries again after a failed build.
    """
    from ark_lsp.workflows.environment import EnvironmentUnavailable, build_environment

    with open_workspace([root] if root else [], None) as workspace:
        project = workspace.project
    try:
        built = build_environment(
            project,
            rebuild=rebuild,
            progress=lambda line: click.echo(f"ark: {line}", err=True),
            log=(lambda line: click.echo(line, err=True)) if verbose else None,
        )
    except EnvironmentUnavailable as error:
        fail(str(error), EXIT_FAILURE)
    if built.problem is not None:
        fail(built.problem, EXIT_FAILURE)
    click.echo(f"{built.kind}: {built.image} ({built.reason})")
