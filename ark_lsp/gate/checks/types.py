"""The types check: no new mypy errors in the modules a change touched.

mypy runs twice, on the base tree and on the head tree, each given only the
touched modules (it follows their imports for types, and its errors are
kept for the touched files alone). An error is identified by its fingerprint
(error code, enclosing function or class, the text of its line), so an
error the base already had is not new wherever it moved.

mypy runs in a subprocess (:mod:`~ark_lsp.gate.tool_runs`) rather than
through ``mypy.api.run``: a crash or a hang cannot take ARK with it, a
timeout can stop it, its memory (hundreds of megabytes on a large project)
goes back when it exits, and ARK's own imports cannot be shadowed. A recheck
stays fast through mypy's incremental cache, one per repository and side
(base, head) in ARK's user cache folder, kept in SQLite (``--sqlite-cache``):
only the modules whose text changed are analysed again, and the two runs go
side by side. What mypy found on the base is also kept, per commit (with
the files, the configuration and mypy's version), so judging a change
again, or another change on the same commit with the same touched modules,
runs mypy on the head alone. mypy is given the trees and its own standard-library stubs,
never an environment's ``site-packages`` (``--no-site-packages``): the gate
does not run in the project's environment, and ARK's is no stand-in for it.
Third-party imports are ``Any`` in base and head alike, so the verdict does
not depend on what happens to be installed next to ARK (and a recheck loads
a third of the modules).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import importlib.metadata
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ark_lsp.gate.checks.tool_config import mypy_config
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
    ToolOutput,
    compared,
    on_both_sides,
    run_tool,
    tool_line,
    tool_place,
)
from ark_lsp.gate.tree_files import python_files_for_tools, read_text
from ark_lsp.git import GitError, git
from ark_lsp.models import CancelCheck
from ark_lsp.trust import user_cache_folder

NAME = "types"


@dataclass(frozen=True)
class _Side:
    """One of the two mypy runs: the tree, the files it is given, its cache."""

    tree: Path
    files: tuple[str, ...]
    cache: Path


def check_types(
    gate_input: GateInput,
    *,
    python: str = sys.executable,
    cache_dir: Path | None = None,
    timeout: float = TOOL_TIMEOUT,
) -> CheckResult:
    """Judge a change by the type errors it adds to the modules it touched.

    ``python`` is the interpreter whose mypy runs; ``cache_dir`` holds
    mypy's caches (default: ARK's user cache, per repository); ``timeout``
    bounds each of the two runs. A missing, crashing or hanging mypy makes
    the check "not run", with the reason.
    """
    started = time.perf_counter()
    base_files, head_files = python_files_for_tools(gate_input)
    if not base_files and not head_files:
        return CheckResult(NAME, CheckStatus.PASSED, f"{NAME}: no Python module touched")
    cache = cache_dir or default_cache_dir(gate_input.head_dir)
    base = _Side(gate_input.base_dir, base_files, cache / "base")
    head = _Side(gate_input.head_dir, head_files, cache / "head")
    config = mypy_config(gate_input.base_dir)
    remembered = _BaseErrors(cache, base, python, config)
    try:
        kept = remembered.read()
        if kept is None:
            (base_errors, base_blocked), (head_errors, _) = on_both_sides(
                lambda: _errors(base, python, config, timeout),
                lambda: _errors(head, python, config, timeout),
            )
            remembered.write(base_errors, base_blocked)
        else:
            # The base was judged before: a recheck is one mypy run, the head's.
            base_errors, base_blocked = kept
            head_errors, _ = _errors(head, python, config, timeout)
    except ToolNotRun as problem:
        return not_run(NAME, str(problem))
    if base_blocked:
        # The base does not parse, so it has no baseline: judge the changed lines alone.
        head_errors = [e for e in head_errors if e.line in gate_input.changed_lines(e.path)]
    new = new_findings(base_errors, head_errors)
    return compared(
        NAME,
        head.files,
        (base_errors, head_errors, new),
        started,
        counted="errors",
        summaries=("{count} new type error{s}", "no new type errors"),
    )


def default_cache_dir(tree: Path) -> Path:
    """ARK's mypy caches for the repository ``tree`` is a checkout of (in the user cache)."""
    try:
        identity = git(tree, "rev-parse", "--path-format=absolute", "--git-common-dir").strip()
    except GitError:
        identity = str(tree.resolve())
    key = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return user_cache_folder() / "gate" / "mypy" / key


class _BaseErrors:
    """What mypy found on the base, kept per commit: a recheck runs mypy on the head alone.

    The base is a checkout of a commit, so mypy's word on it depends only on
    that commit, the files asked about, the configuration (the base's own)
    and the mypy and Python that judge: those make the key. Only mypy of
    ARK's own interpreter is remembered (another's version is not known
    without running it). A record that cannot be read is no record.
    """

    def __init__(self, cache: Path, side: _Side, python: str, config: str) -> None:
        self.path: Path | None = None
        if not side.files or os.path.realpath(python) != os.path.realpath(sys.executable):
            return
        try:
            commit = git(side.tree, "rev-parse", "HEAD").strip()
            version = importlib.metadata.version("mypy")
        except (GitError, importlib.metadata.PackageNotFoundError):
            return
        identity = json.dumps([commit, side.files, config, version, sys.version])
        key = hashlib.sha256(identity.encode()).hexdigest()[:32]
        self.path = cache / "base-errors" / f"{key}.json"

    def read(self) -> tuple[list[Finding], bool] | None:
        """The base's errors and whether a syntax error stopped mypy there, if kept."""
        if self.path is None:
            return None
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            errors = [Finding(**fields) for fields in raw["errors"]]
            blocked = raw["blocked"]
        except (OSError, ValueError, TypeError, KeyError):
            return None
        if not isinstance(blocked, bool) or not all(e.check == NAME for e in errors):
            return None
        return errors, blocked

    def write(self, errors: Sequence[Finding], blocked: bool) -> None:
        """Keep the base's errors for the next run on the same commit (a cache: may fail)."""
        if self.path is None:
            return
        record = {"errors": [dataclasses.asdict(e) for e in errors], "blocked": blocked}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(f".{os.getpid()}.part")
            partial.write_text(json.dumps(record), encoding="utf-8")
            partial.replace(self.path)
        except OSError:
            pass


def _errors(side: _Side, python: str, config: str, timeout: float) -> tuple[list[Finding], bool]:
    """The errors mypy finds in one side's touched files, and whether a syntax error stopped it."""
    return mypy_errors(
        side.tree, side.files, python=python, config=config, cache=side.cache, timeout=timeout
    )


def mypy_errors(
    tree: Path,
    files: Sequence[str],
    *,
    python: str,
    config: str,
    cache: Path,
    timeout: float,
    background: bool = False,
    cancel: CancelCheck | None = None,
    identify: bool = True,
) -> tuple[list[Finding], bool]:
    """The errors mypy finds in ``files`` of ``tree``, and whether a syntax error stopped it.

    ``config`` is the text of ARK's mypy configuration (:func:`mypy_config`),
    ``cache`` mypy's incremental cache for this tree. Errors mypy reports of
    the modules it followed are left out: only ``files`` answer. Raises
    :class:`ToolNotRun` when mypy could not judge. The gate's check runs this
    on the base and the head; the editor on the file the user saved, without
    ``identify``: each finding's enclosing name and fingerprint cost a parse
    of its file, which only comparing base and head needs.
    """
    if not files:
        return [], False
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ark-mypy-") as folder:
        config_file = Path(folder) / "mypy.ini"
        config_file.write_text(config, encoding="utf-8")
        output = run_tool(
            python,
            "mypy",
            [
                "--config-file", str(config_file),
                "--cache-dir", str(cache),
                "--sqlite-cache",
                "--no-site-packages",
                "--output", "json",
                "--no-error-summary",
                "--no-pretty",
                "--hide-error-context",
                "--no-color-output",
            ],
            files,
            tree=tree,
            environment={},
            timeout=timeout,
            background=background,
            cancel=cancel,
        )  # fmt: skip
    records, blocked = _records(output)
    touched = set(files)
    sources = TreeSources(tree) if identify else None
    unseen = functools.cache(functools.partial(_unseen_decorator_lines, tree))
    findings = []
    for record in records:
        path = _relative(tree, str(record.get("file", "")))
        if path not in touched:
            continue  # a module mypy followed: not the change's to answer for
        line = tool_line(record.get("line"))
        code = str(record.get("code") or "misc")
        message = str(record.get("message", ""))
        if code == "untyped-decorator" and line in unseen(path):
            continue
        symbol, identity = sources.locate(path, line, code, message) if sources else ("", "")
        column, end_line, end_column = tool_place(
            record.get("column"), record.get("end_line"), record.get("end_column")
        )
        at = line if line > 0 else None
        findings.append(
            Finding(
                NAME, path, at, code, message, identity, symbol=symbol,
                column=column, end_line=end_line, end_column=end_column,
            )
        )  # fmt: skip
    return findings, blocked


def _unseen_decorator_lines(tree: Path, relative: str) -> frozenset[int]:
    """The lines of the file's decorators that come from a package mypy is not shown here.

    mypy sees no ``site-packages``: a third-party decorator (``@pytest.mark.parametrize``,
    ``@given(...)``) is ``Any`` to it, and under ``disallow_untyped_decorators``
    (``strict``) every function it decorates is reported, whatever its own hints.
    """
    try:
        module = ast.parse(read_text(tree, relative) or "")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()
    lines: set[int] = set()
    for node in ast.walk(module):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for decorator in node.decorator_list:
            root = decorator.func if isinstance(decorator, ast.Call) else decorator
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and _third_party(tree, _imported_from(module, root.id)):
                lines.update(
                    range(decorator.lineno, (decorator.end_lineno or decorator.lineno) + 1)
                )
    return frozenset(lines)


def _third_party(tree: Path, source: str | None) -> bool:
    """Whether the module an import names is neither the standard library's nor the tree's."""
    top = (source or "").partition(".")[0]
    if not top or top in sys.stdlib_module_names:
        return False
    return not any(
        (tree / folder / top).is_dir() or (tree / folder / f"{top}.py").is_file()
        for folder in (".", "src")
    )


def _imported_from(module: ast.Module, name: str) -> str | None:
    """The module a module-level import binds ``name`` from (``""``: a relative one)."""
    for statement in module.body:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if (alias.asname or alias.name.partition(".")[0]) == name:
                    return alias.name
        elif isinstance(statement, ast.ImportFrom):
            for alias in statement.names:
                if (alias.asname or alias.name) == name:
                    return "" if statement.level else statement.module or ""
    return None


def _records(output: ToolOutput) -> tuple[list[dict[str, Any]], bool]:
    """What mypy reported, and whether a syntax error stopped it; else :class:`ToolNotRun`.

    Exit status 0 is no error, 1 errors found, 2 a blocking error: a syntax
    error is the change's to answer for, anything else (a crash, a duplicate
    module, a bad option) means mypy could not judge.
    """
    records = []
    for line in output.stdout.splitlines():
        try:
            record = json.loads(line) if line.startswith("{") else None
        except ValueError:
            record = None
        if isinstance(record, dict) and record.get("severity") == "error":
            records.append(record)
    # mypy reports a crash of its own on standard error (and, in some versions, as a record);
    # the records' other messages quote the project's code, so they are not searched.
    internal = any(str(r.get("message", "")).startswith("INTERNAL ERROR") for r in records)
    if internal or "INTERNAL ERROR" in output.stderr:
        raise ToolNotRun(f"mypy crashed: {output.stderr_tail() or 'INTERNAL ERROR'}")
    if output.returncode == 0 or (output.returncode == 1 and records):
        return records, False
    if output.returncode == 2 and records:
        stopper = next((r for r in records if r.get("code") != "syntax"), None)
        if stopper is None:
            return records, True
        raise ToolNotRun(f"mypy stopped: {stopper.get('message', '')}".strip())
    reason = output.stderr_tail() or output.stdout.strip()[-300:] or "no output"
    raise ToolNotRun(f"mypy failed (exit status {output.returncode}): {reason}")


def _relative(tree: Path, name: str) -> str:
    path = os.path.normpath(name)
    if os.path.isabs(path):
        path = os.path.relpath(path, tree.resolve())
    return Path(path).as_posix()
