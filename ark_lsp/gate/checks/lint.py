"""The lint check: no new pylint messages at or above the gate's severity, in changed files.

pylint lints the changed Python files only, once as they were in the base
and once as they are in the head, with ARK's configuration (the base's safe
options carried over: :mod:`~ark_lsp.gate.checks.tool_config`). A message is
identified by its fingerprint (symbol, enclosing function or class, the
text of its line), so a message the base already had is not new wherever it
moved. Messages below ``[tool.ark.gate] lint_severity`` are not counted.
"""

from __future__ import annotations

import functools
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ark_lsp.gate.checks.tool_config import pylint_config
from ark_lsp.gate.fingerprints import TreeSources, new_findings
from ark_lsp.gate.model import (
    CheckResult,
    CheckStatus,
    Finding,
    GateInput,
    not_run,
)
from ark_lsp.gate.tool_runs import (
    TOOL_TIMEOUT,
    ToolNotRun,
    compared,
    on_both_sides,
    run_tool,
    tool_line,
    tool_place,
)
from ark_lsp.gate.tree_files import python_files_for_tools
from ark_lsp.models import CancelCheck
from ark_lsp.sandbox.declarations import src_layout

NAME = "lint"

SEVERITIES = ("info", "convention", "refactor", "warning", "error", "fatal")
"""pylint's message categories, least severe first."""

_USAGE_ERROR = 32
"""pylint's exit status bit for a command line or configuration it could not use."""


def check_lint(
    gate_input: GateInput,
    *,
    python: str = sys.executable,
    timeout: float = TOOL_TIMEOUT,
) -> CheckResult:
    """Judge a change by the pylint messages it adds to the files it changed.

    ``python`` is the interpreter whose pylint runs; ``timeout`` bounds each
    of the two runs. A missing pylint, one that crashes or reports a fatal
    message, or one that hangs makes the check "not run", with the reason.
    """
    started = time.perf_counter()
    base_files, head_files = python_files_for_tools(gate_input)
    if not head_files and not base_files:
        return CheckResult(NAME, CheckStatus.PASSED, f"{NAME}: no Python file changed")
    threshold = SEVERITIES.index(gate_input.settings.lint_severity)
    config = pylint_config(gate_input.base_dir)
    try:
        run = functools.partial(
            pylint_messages, python=python, config=config, threshold=threshold, timeout=timeout
        )
        base, head = on_both_sides(
            lambda: run(gate_input.base_dir, base_files),
            lambda: run(gate_input.head_dir, head_files),
        )
    except ToolNotRun as problem:
        return not_run(NAME, str(problem))
    new = new_findings(base, head)
    severity = gate_input.settings.lint_severity
    return compared(
        NAME,
        head_files,
        (base, head, new),
        started,
        counted="messages",
        summaries=(
            f"{{count}} new pylint message{{s}} at {severity} or above",
            f"no new pylint messages at {severity} or above",
        ),
    )


def pylint_messages(
    tree: Path,
    files: Sequence[str],
    *,
    python: str,
    config: str,
    threshold: int,
    timeout: float,
    background: bool = False,
    cancel: CancelCheck | None = None,
    identify: bool = True,
) -> list[Finding]:
    """The pylint messages at or above the threshold in ``files`` of ``tree``.

    ``config`` is the text of ARK's pylint configuration (:func:`pylint_config`),
    ``threshold`` an index into :data:`SEVERITIES`. Raises :class:`ToolNotRun`
    when pylint could not judge. The gate's check runs this on the base and
    the head; the editor on the file the user saved, without ``identify``
    (see :func:`~ark_lsp.gate.checks.types.mypy_errors`).
    """
    if not files:
        return []
    with tempfile.TemporaryDirectory(prefix="ark-pylint-") as folder:
        rcfile = Path(folder) / "pylintrc"
        rcfile.write_text(config, encoding="utf-8")
        output = run_tool(
            python,
            "pylint",
            ["--rcfile", str(rcfile), "--output-format", "json2"],
            files,
            tree=tree,
            environment={"PYLINTHOME": folder},
            timeout=timeout,
            background=background,
            cancel=cancel,
            # The project's own package as the tree has it, not a copy installed beside
            # ARK (click's, attrs'), whose signatures may differ: astroid reads it as text.
            searched_first=[tree / "src" if src_layout(tree) else tree],
        )
    try:
        report = json.loads(output.stdout)
        messages: list[dict[str, Any]] = report["messages"]
    except (ValueError, KeyError, TypeError):
        reason = output.stderr_tail() or "no report"
        raise ToolNotRun(f"pylint failed (exit status {output.returncode}): {reason}") from None
    fatal = next((m for m in messages if m.get("type") == "fatal"), None)
    if fatal is not None:
        raise ToolNotRun(
            f"pylint: {fatal.get('symbol')} in {fatal.get('path')}: {fatal.get('message')}"
        )
    if output.returncode & _USAGE_ERROR:
        raise ToolNotRun(f"pylint could not start: {output.stderr_tail() or 'usage error'}")
    sources = TreeSources(tree) if identify else None
    findings = []
    for message in messages:
        category = str(message.get("type", ""))
        if category not in SEVERITIES or SEVERITIES.index(category) < threshold:
            continue
        path = Path(str(message.get("path", ""))).as_posix()
        line = tool_line(message.get("line"))
        symbol_name = str(message.get("symbol", ""))
        text = f"{message.get('message', '')} ({message.get('messageId', '')})"
        symbol, identity = (
            sources.locate(path, line, symbol_name, str(message.get("message")))
            if sources
            else ("", "")
        )
        column, end_line, end_column = tool_place(
            message.get("column"), message.get("endLine"), message.get("endColumn")
        )
        at = line if line > 0 else None
        findings.append(
            Finding(
                NAME, path, at, symbol_name, text, identity, severity=category, symbol=symbol,
                column=column, end_line=end_line, end_column=end_column,
            )
        )  # fmt: skip
    return findings
