"""Building run requests from a workspace: a file, one function of it, or tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ark_lsp.config import Settings
from ark_lsp.sandbox.models import Limits, RunRequest
from ark_lsp.sandbox.pytest_results import JUNIT_REPORT, PYTEST_ARGS

MAX_COPY_BYTES = 32 * 1024 * 1024
"""Most bytes of workspace files copied into one sandbox (the docker work tmpfs is 64 MiB)."""

FUNCTION_DRIVER = """\
import importlib, importlib.util, json, sys
path, module_name, qualname, arguments = sys.argv[1:5]
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
"""Imports the target's module as the workspace would (so relative imports work) and calls it."""


class WorkspaceTooLarge(ValueError):
    """The workspace's files exceed what one sandbox takes."""


def workspace_files(
    root: Path, settings: Settings, max_bytes: int = MAX_COPY_BYTES
) -> dict[str, bytes]:
    """Every file of the workspace that indexing would not exclude, by relative POSIX path."""
    from ark_lsp.workspace import discover

    files: dict[str, bytes] = {}
    total = 0
    for relative in discover(root, settings, include=lambda _: True):
        path = root / relative
        try:
            if not path.is_file():
                continue  # sockets, fifos, dangling links
            data = path.read_bytes()
        except OSError:
            continue  # vanished or unreadable: the run will say so if it needed it
        total += len(data)
        if total > max_bytes:
            raise WorkspaceTooLarge(
                f"the workspace holds more than {max_bytes // (1024 * 1024)} MiB of files to copy "
                "into the sandbox; exclude what runs do not need ([tool.ark] exclude)"
            )
        files[relative] = data
    return files


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
