"""mypy and pylint on a saved file: what the editor shows as ``ark-types`` and ``ark-lint``.

The quality gate judges a change by the type errors and lint messages it
adds; the editor shows the same tools' findings in the file being written,
each time it is saved, so they meet the gate's verdict before the gate
does. The runs are the gate's own (:mod:`ark_lsp.gate.checks.types` and
``lint``), with its safety: a process of their own with a timeout and a
heap cap, ``python -I`` behind the import guard so that none of the
workspace's code is imported, and a configuration ARK writes from the
workspace's safe options (no mypy plugins, no pylint ``init-hook`` or
``load-plugins``). They run over the workspace as it is on disk, the saved
file alone judged, on CPU time the editor's own work does not want.

They still read the workspace's code, and run without the user asking each
time, so they run only in a workspace the user has vouched for (``ark
trust``, ``:ArkTrust``, VS Code's workspace trust), and only while
``types-and-lint-on-save`` is on. pylint's messages below the gate's
``lint-severity`` are left out, as the gate leaves them out; a syntax error
is left to ARK's own ARK000. The tools are those of the interpreter ARK runs
in (the VS Code extension leaves them out of its bundle): where it lacks
one, that tool is skipped.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ark_lsp.models import CancelCheck

if TYPE_CHECKING:
    from ark_lsp.gate.model import Finding
    from ark_lsp.project import Project

TYPES = "types"
LINT = "lint"
SAVE_TOOLS = (TYPES, LINT)
"""The tools run on a saved file, by the name of the gate check that runs them too."""

SAVE_CHECK_IMPORTS = (
    "ark_lsp.gate.checks.lint",
    "ark_lsp.gate.checks.tool_config",
    "ark_lsp.gate.checks.types",
    "ark_lsp.gate.tool_runs",
    "ark_lsp.gate.tree_files",
)
"""The gate's modules the checks import on the first save (the server starts without them)."""

SAVE_TOOL_TIMEOUT = 120.0
"""Seconds one tool run on a saved file may take (mypy's first run on a project is the slow one)."""


SWITCHED_OFF = "types-and-lint-on-save is off"
NOT_VOUCHED = (
    "the workspace is not trusted: ARK runs mypy and pylint on saved files only in a "
    "workspace you trust (ark trust, :ArkTrust, or VS Code's workspace trust)"
)

_SYNTAX_ERRORS = frozenset({"syntax", "syntax-error"})
"""mypy's and pylint's codes for a file that does not parse: ARK000 already says so."""


@dataclass(frozen=True)
class SaveCheck:
    """What one tool found in a saved file, or why it has nothing to say."""

    tool: str
    """``types`` (mypy) or ``lint`` (pylint)."""
    path: str
    """The file, relative to the workspace root."""
    findings: tuple[Finding, ...] = ()
    skipped: str | None = None
    """Why the tool was not run: switched off, an untrusted workspace, no Python file, or the
    tool is not installed for the interpreter (nothing to tell the user on every save)."""
    failed: str | None = None
    """Why the tool could not judge: it crashed, timed out or was cancelled."""


def check_saved_file(
    project: Project,
    relative: str,
    tool: str,
    *,
    python: str = sys.executable,
    cache_dir: Path | None = None,
    cancel: CancelCheck | None = None,
) -> SaveCheck:
    """Run ``tool`` (one of :data:`SAVE_TOOLS`) on the saved file ``relative`` of ``project``.

    ``python`` is the interpreter whose tool runs (ARK's own, as for the
    gate); ``cache_dir`` holds mypy's caches (default: ARK's user cache, per
    repository, beside the gate's); ``cancel`` stops a run (the tool is killed).
    """
    # The gate's tool runners, imported on the first save: the server starts without them.
    from ark_lsp.gate.checks.lint import SEVERITIES, pylint_messages
    from ark_lsp.gate.checks.tool_config import mypy_config, pylint_config
    from ark_lsp.gate.checks.types import default_cache_dir, mypy_errors
    from ark_lsp.gate.tool_runs import ToolMissing, ToolNotRun

    skipped = _refusal(project, relative)
    if skipped:
        return SaveCheck(tool, relative, skipped=skipped)
    root = project.root
    try:
        if tool == TYPES:
            cache = (cache_dir or default_cache_dir(root)) / "editor"
            found, _ = mypy_errors(
                root,
                (relative,),
                python=python,
                config=mypy_config(root),
                cache=cache,
                timeout=SAVE_TOOL_TIMEOUT,
                background=True,
                cancel=cancel,
                identify=False,
            )
        elif tool == LINT:
            found = pylint_messages(
                root,
                (relative,),
                python=python,
                config=pylint_config(root),
                threshold=SEVERITIES.index(project.settings.gate.lint_severity),
                timeout=SAVE_TOOL_TIMEOUT,
                background=True,
                cancel=cancel,
                identify=False,
            )
        else:
            raise ValueError(f"no tool {tool!r} runs on save: {', '.join(SAVE_TOOLS)}")
    except ToolMissing as missing:
        return SaveCheck(tool, relative, skipped=str(missing))
    except ToolNotRun as problem:
        return SaveCheck(tool, relative, failed=str(problem))
    kept = tuple(f for f in found if f.path == relative and f.code not in _SYNTAX_ERRORS)
    return SaveCheck(tool, relative, findings=kept)


def _refusal(project: Project, relative: str) -> str | None:
    """Why no tool runs on this file of this project; None when they may."""
    if not project.settings.types_and_lint_on_save:
        return SWITCHED_OFF
    if not project.vouched_for:
        return NOT_VOUCHED
    if not relative.endswith((".py", ".pyi")):
        return "not a Python file"
    from ark_lsp.gate.tree_files import tool_may_read

    if not tool_may_read(project.root, relative):
        # A link (it may lead out of the workspace), a FIFO, a file gone since it was saved.
        return "not a regular file of the workspace"
    try:
        size = (project.root / relative).stat().st_size
    except OSError:
        return "not a regular file of the workspace"
    if size > project.settings.max_file_size:
        return f"larger than max-file-size ({project.settings.max_file_size:,} bytes)"
    return None


__all__ = [
    "LINT",
    "NOT_VOUCHED",
    "SAVE_CHECK_IMPORTS",
    "SAVE_TOOLS",
    "SWITCHED_OFF",
    "TYPES",
    "SaveCheck",
    "check_saved_file",
]
