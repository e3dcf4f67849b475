"""Checking: the security rules' findings for paths of a project, with the safe fixes applied.

``ark check`` reports them as text, JSON or SARIF; the server publishes the
index's findings for files the editor has not opened. Both read them here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ark_lsp.analysis import fix_all
from ark_lsp.project import Project
from ark_lsp.rules import SYNTAX_ERROR, UNCHECKED_FILE, Rule, unknown_rule_id
from ark_lsp.store import Store, ViolationRecord
from ark_lsp.workflows.index import IndexProgress, refresh_index
from ark_lsp.workspace import IndexFigures, relative_posix

if TYPE_CHECKING:
    # The change sets' machinery (git, worktrees, the gate's model) is imported only
    # when fixes are proposed as a change: a plain check does not pay for it.
    from ark_lsp.workflows.changes import AsChange, Proposal


class UnknownRuleId(ValueError):
    """A rule id to select or ignore names no rule: checking with it would check something else."""

    def __init__(self, option: str, problem: str) -> None:
        super().__init__(problem)
        self.option = option
        """``select`` or ``ignore``."""


@dataclass(frozen=True)
class FixedFiles:
    """What ``--fix`` changed."""

    files: int
    fixes: int


@dataclass(frozen=True)
class CheckReport:
    """The findings under the paths checked, and what the index runs met on the way."""

    findings: tuple[ViolationRecord, ...]
    """In file order; workspace-relative paths, lines 1-based, columns 0-based."""
    files_checked: int
    rules: tuple[Rule, ...]
    """The rules in force and enabled (what SARIF lists as the tool's rules)."""
    figures: IndexFigures
    """The last index run's figures."""
    warnings: tuple[str, ...] = ()
    """What the index runs left out (bad ignore patterns), each once."""
    fixed: FixedFiles | None = None
    """What ``fix`` changed (or, as a change, would change); None when it was not asked for."""
    proposal: Proposal | None = None
    """The change set the fixes became, when they were asked for as one and there were some."""

    @property
    def unreadable(self) -> tuple[str, ...]:
        """One line for each file that could not be read: a failure of the check."""
        paths = set(self.figures.unreadable)
        return tuple(p for p in self.figures.problems if p.partition(":")[0] in paths)

    @property
    def failed(self) -> bool:
        """Whether a finding is an error, or a file could not be read or was not checked.

        A file too large to read (ARK090) fails the check whatever the rule's
        severity: a file nothing was checked in has not passed. Ignoring the
        rule for it (``--ignore``, ``ignore``, ``per-file-ignores``) accepts it.
        """
        return bool(self.unreadable) or any(
            f.severity == "error" or f.rule == UNCHECKED_FILE for f in self.findings
        )


def findings(
    store: Store,
    *,
    path_prefixes: Sequence[str] | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
) -> list[ViolationRecord]:
    """The index's findings under ``path_prefixes`` (everywhere by default).

    ``select`` and ``ignore`` are rule ids or their prefixes; a syntax error
    is always a finding, since nothing else in its file was checked, and so
    is a file too large to read (ARK090) unless it is ignored.
    """
    selected, ignored = tuple(select), tuple(ignore)
    return [
        record
        for record in store.index.violations(path_prefixes=path_prefixes)
        if record.rule == SYNTAX_ERROR
        or (
            (not selected or record.rule.startswith(selected) or record.rule == UNCHECKED_FILE)
            and not record.rule.startswith(ignored)
        )
    ]


def check(
    project: Project,
    store: Store,
    *,
    targets: Sequence[Path] = (),
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fix: bool = False,
    as_change: AsChange | None = None,
    jobs: int | None = None,
    progress: IndexProgress | None = None,
) -> CheckReport:
    """Refresh the index under ``targets`` (the whole project by default) and read its findings.

    With ``fix``, the safe fixes are applied to the files with findings
    first (each file replaced whole, only inside the root) and the index
    refreshed again; with ``as_change`` too, they are proposed as one
    change set instead (see :mod:`ark_lsp.workflows.changes`) and the
    working tree is left as it is, findings and all (a refused change
    raises :class:`~ark_lsp.changes.ChangeError`). ``progress`` follows the
    first index run. Raises
    :class:`UnknownRuleId`, before any work, for an id in ``select`` or
    ``ignore`` that no rule has or starts with.
    """
    known = {rule.id for rule in project.settings.ruleset.rules}
    for option, ids in (("select", select), ("ignore", ignore)):
        for rule_id in ids:
            problem = unknown_rule_id(rule_id, known)
            if problem is not None:
                raise UnknownRuleId(option, problem)
    figures = refresh_index(project, store=store, targets=targets, jobs=jobs, progress=progress)
    warnings = dict.fromkeys(figures.warnings)
    prefixes = [relative_posix(project.root, t) for t in targets] or None
    fixed: FixedFiles | None = None
    proposal: Proposal | None = None
    if fix:
        paths = sorted({v.path for v in store.index.violations(path_prefixes=prefixes)})
        if as_change is not None:
            edits, fixed = fixed_texts(project, paths)
            proposal = _propose_fixes(project, edits, fixed, as_change) if edits else None
        else:
            fixed = fix_files(project, paths)
            figures = refresh_index(project, store=store, targets=targets, jobs=jobs)
            warnings.update(dict.fromkeys(figures.warnings))
    return CheckReport(
        findings=tuple(findings(store, path_prefixes=prefixes, select=select, ignore=ignore)),
        files_checked=store.index.totals(prefixes).files,
        rules=tuple(rule for rule in project.settings.ruleset.rules if rule.enabled),
        figures=figures,
        warnings=tuple(warnings),
        fixed=fixed,
        proposal=proposal,
    )


def fixed_texts(
    project: Project, relative_paths: Sequence[str]
) -> tuple[dict[str, str], FixedFiles]:
    """The safe fixes of files of the project, as their new texts (none written)."""
    fixes = _fixes(project, relative_paths)
    texts = {relative: text for relative, (text, _) in fixes.items()}
    return texts, FixedFiles(files=len(fixes), fixes=sum(n for _, n in fixes.values()))


def fix_files(project: Project, relative_paths: Sequence[str]) -> FixedFiles:
    """Apply the safe fixes to files of the project, each replaced whole, only inside the root."""
    fixed_files = fixes_made = 0
    for relative, (new_text, applied) in _fixes(project, relative_paths).items():
        try:
            project.write_text(project.root / relative, new_text)
        except OSError:
            continue  # a file that cannot be written keeps its findings, which are reported
        fixed_files += 1
        fixes_made += applied
    return FixedFiles(files=fixed_files, fixes=fixes_made)


def _fixes(project: Project, relative_paths: Sequence[str]) -> dict[str, tuple[str, int]]:
    """Each file's text with its safe fixes applied, and how many; files with none left out."""
    fixed: dict[str, tuple[str, int]] = {}
    for relative in relative_paths:
        text = project.read_text(project.root / relative)
        if text is None:
            continue  # unreadable or not UTF-8: reported by the check itself
        new_text, applied = fix_all(text, relative, project.settings)
        if applied and new_text != text:
            fixed[relative] = (new_text, applied)
    return fixed


def _propose_fixes(
    project: Project, edits: dict[str, str], fixed: FixedFiles, asked: AsChange
) -> Proposal:
    """The fixes as one change set on HEAD."""
    from ark_lsp.changes import SourceKind
    from ark_lsp.workflows.changes import propose_generated

    where = ", ".join(sorted(edits)[:3]) + (" and more" if len(edits) > 3 else "")
    reason = (
        f"Apply ARK's safe fixes ({fixed.fixes} in {fixed.files} "
        f"file{'s' * (fixed.files != 1)}: {where})"
    )
    return propose_generated(
        project, edits, asked, SourceKind.FIX, reason=reason, detail=", ".join(sorted(edits))
    )


__all__ = [
    "CheckReport",
    "FixedFiles",
    "UnknownRuleId",
    "check",
    "findings",
    "fix_files",
    "fixed_texts",
]
