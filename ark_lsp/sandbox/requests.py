"""Building run requests from a workspace: a file, one function of it, or tests."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ark_lsp.config import Settings
from ark_lsp.sandbox.models import Limits, RunRequest
from ark_lsp.sandbox.pytest_results import JUNIT_REPORT, PYTEST_ARGS

MAX_COPY_BYTES = 32 * 1024 * 1024
"""Most bytes of workspace files copied into one sandbox (the docker work tmpfs is 64 MiB)."""

FUNCTION_DRIVER = """\
import importlib, importlib.util, json, sys
path, module_name, qualname, arguments = sys.argv[1:5]
sys.argv = [path]
sys.path.insert(0, "")
try:
    module = importlib.import_module(module_name)
except ImportError:
    spec = importlib.util.spec_from_file_location("__ark_target__", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
target = module
for part in qualname.split("."):
    target = getattr(target, part)
print(repr(target(*json.loads(arguments))))
"""
"""Imports the target's module as the workspace would (so relative imports work) and calls it.

The module sees ``sys.argv == [FILE]``: it is imported, not run as a script, and the
arguments go to the function, not to the command line.
"""


class WorkspaceTooLarge(ValueError):
    """The workspace's files exceed what one sandbox takes."""


@dataclass(frozen=True)
class WorkspaceCopy:
    """The files a sandbox gets of a workspace, and what was left out and why."""

    files: dict[str, bytes]
    """Workspace-relative POSIX paths and their bytes."""
    notes: tuple[str, ...] = ()
    """One line per kind of thing left out (links leading out, special files), for the user."""


SHOWN_NAMES = 5
"""Paths a note or an error names before it says how many more there are."""


def _named(paths: list[str]) -> str:
    shown = ", ".join(paths[:SHOWN_NAMES])
    more = len(paths) - SHOWN_NAMES
    return shown + (f" and {more} more" if more > 0 else "")


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def _too_large(sizes: list[tuple[str, int]], max_bytes: int) -> WorkspaceTooLarge:
    largest = sorted(sizes, key=lambda item: item[1], reverse=True)[:SHOWN_NAMES]
    total = sum(size for _, size in sizes)
    return WorkspaceTooLarge(
        f"the workspace holds {_mib(total)} of files to copy into the sandbox, more than "
        f"{max_bytes // (1024 * 1024)} MiB; the largest: "
        + ", ".join(f"{path} ({_mib(size)})" for path, size in largest)
        + "; exclude what runs do not need ([tool.ark] exclude)"
    )


def _read_regular(path: str, limit: int) -> bytes | None:
    """At most ``limit`` bytes of a regular file; None for anything else, never blocking.

    ``O_NONBLOCK`` keeps a FIFO swapped in since the walk from blocking the
    open, and ``O_NOFOLLOW`` keeps a link swapped in from being followed.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(path, flags)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        return handle.read(limit)


def copy_workspace(
    root: Path, settings: Settings, max_bytes: int = MAX_COPY_BYTES
) -> WorkspaceCopy:
    """Every file of the workspace that indexing would not exclude, read for a sandbox.

    Nothing outside the workspace gets in: every path is resolved, and a
    link whose target lies outside the root (a secret file,
    ``/proc/self/environ``, a folder leading out) is left out with a note; a
    link that stays inside is copied as its target's bytes. FIFOs, sockets
    and devices are left out without being opened. More than ``max_bytes``
    in all raises :class:`WorkspaceTooLarge`, naming the largest files. The
    version module a build writes (hatch-vcs, setuptools-scm), which git
    ignores, is copied too: the package cannot be imported without it.
    """
    from ark_lsp.sandbox.declarations import build_written_files
    from ark_lsp.workspace import discover, inside

    top = os.path.realpath(root)
    outside: list[str] = []
    special: list[str] = []
    folders: list[str] = []
    planned: list[tuple[str, str, int]] = []
    for relative in discover(Path(top), settings, include=lambda _: True):
        path = os.path.join(top, relative)
        real = os.path.realpath(path)
        if not inside(top, real):
            outside.append(relative)
            continue
        try:
            status = os.stat(real)
        except OSError:
            continue  # dangling, vanished or unreadable: the run will say so if it needs it
        if stat.S_ISDIR(status.st_mode):
            folders.append(relative)
        elif not stat.S_ISREG(status.st_mode):
            special.append(relative)
        else:
            planned.append((relative, real, status.st_size))
    # A version module the build wrote is ignored by git, yet the package imports it.
    listed = {relative for relative, _, _ in planned}
    for relative in build_written_files(Path(top)):
        real = os.path.realpath(os.path.join(top, relative))
        if relative not in listed and inside(top, real) and os.path.isfile(real):
            planned.append((relative, real, os.stat(real).st_size))
    sizes = [(relative, size) for relative, _, size in planned]
    if sum(size for _, size in sizes) > max_bytes:
        raise _too_large(sizes, max_bytes)
    files: dict[str, bytes] = {}
    total = 0
    for relative, real, _ in planned:
        try:
            data = _read_regular(real, max_bytes - total + 1)
        except OSError:
            continue
        if data is None:
            special.append(relative)
            continue
        total += len(data)
        if total > max_bytes:  # the files grew since they were measured
            raise _too_large(sizes, max_bytes)
        files[relative] = data
    notes = []
    if outside:
        notes.append(
            f"left out of the sandbox copy: {len(outside)} link(s) pointing outside the "
            f"workspace: {_named(outside)}"
        )
    if folders:
        notes.append(
            f"left out of the sandbox copy: {len(folders)} link(s) to folders: {_named(folders)}"
        )
    if special:
        notes.append(
            f"left out of the sandbox copy: {len(special)} special file(s) "
            f"(FIFO, socket or device): {_named(special)}"
        )
    return WorkspaceCopy(files, tuple(notes))


def workspace_files(
    root: Path, settings: Settings, max_bytes: int = MAX_COPY_BYTES
) -> dict[str, bytes]:
    """The files of :func:`copy_workspace`, without its notes."""
    return copy_workspace(root, settings, max_bytes).files


def _module_name(relative: str) -> str:
    name = relative.removesuffix(".py").replace("/", ".")
    return name.removesuffix(".__init__")


def file_request(
    relative: str,
    files: dict[str, bytes],
    limits: Limits,
    arguments: Sequence[str] = (),
) -> RunRequest:
    """Run a workspace file as a script, from the workspace root, as ``python3 FILE ARGS``."""
    return RunRequest(
        command=("python3", relative, *arguments),
        files=files,
        limits=limits,
        target_path=relative,
        kind="run",
    )


def function_request(
    relative: str,
    qualname: str,
    files: dict[str, bytes],
    limits: Limits,
    arguments: Sequence[object] = (),
) -> RunRequest:
    """Import the file's module and call one module-level function (or ``Class.staticmethod``).

    The return value's ``repr`` is printed on stdout; ``arguments`` must be
    JSON-serialisable.
    """
    return RunRequest(
        command=(
            "python3",
            "-c",
            FUNCTION_DRIVER,
            relative,
            _module_name(relative),
            qualname,
            json.dumps(list(arguments)),
        ),
        files=files,
        limits=limits,
        target_path=relative,
        target_name=qualname,
        kind="function",
    )


def pytest_request(
    targets: Sequence[str],
    files: dict[str, bytes],
    limits: Limits,
    extra_arguments: Sequence[str] = (),
    report: str = JUNIT_REPORT,
) -> RunRequest:
    """Run pytest on workspace-relative ``targets`` (all when empty), keeping its JUnit report."""
    return RunRequest(
        command=(
            "python3",
            "-m",
            "pytest",
            *targets,
            *PYTEST_ARGS,
            f"--junitxml={report}",
            *extra_arguments,
        ),
        files=files,
        limits=limits,
        target_path=" ".join(targets) or ".",
        kind="test",
        collect=(report,),
    )
