"""``ark change``: propose a change set from any source, list, show, diff and drop them.

A change is recorded in the index database and committed on a branch
``ark/<short id>-<slug>`` in a worktree of its own in the user's cache;
the user's checkout is never touched. Errors are one line each; exit 2
for what cannot be asked (not a git repository, an unknown or ambiguous
id, a range that is not one), 5 for a change refused (detached HEAD, dirty
base, empty or binary patch, a patch that does not apply, a base commit
that is gone), 3 for the database, 4 for anything else.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from ark_lsp.cli.common import (
    DATABASE,
    EXIT_DATABASE,
    EXIT_FAILURE,
    EXIT_REFUSED,
    EXIT_USAGE,
    ROOT,
    Workspace,
    fail,
    open_workspace,
)

if TYPE_CHECKING:
    from ark_lsp.changes import ChangeSet
    from ark_lsp.workflows.changes import Proposal

FORMAT = click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text"
)
ID = click.argument("ident", metavar="ID")


@contextmanager
def change_failures() -> Iterator[None]:
    """Say why a change could not be proposed or used, on one line, with its exit code."""
    from ark_lsp.changes import BadRequest, ChangeError, ChangeRefused
    from ark_lsp.git import GitError
    from ark_lsp.store import StoreError

    try:
        yield
    except BadRequest as error:
        fail(str(error), EXIT_USAGE)
    except ChangeRefused as error:
        fail(str(error), EXIT_REFUSED)
    except StoreError as error:
        fail(str(error), EXIT_DATABASE)
    except ChangeError as error:
        fail(str(error), EXIT_FAILURE)
    except GitError as error:
        fail(f"git: {error}", EXIT_FAILURE)


@contextmanager
def _workspace(root: Path | None, database: Path | None) -> Iterator[Workspace]:
    with open_workspace([root] if root else [], database) as workspace, change_failures():
        yield workspace


def proposer() -> str:
    """Who proposes a change from the command line: the user's login."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "user"


@click.group("change")
def change() -> None:
    """Change sets: a patch on a base commit, with who proposed it and why."""


@change.command("propose")
@click.option(
    "--patch",
    "patch_file",
    type=click.File("rb"),
    metavar="FILE|-",
    help="A patch (git diff or diff -u, paths from the repository's top) on HEAD; - for stdin.",
)
@click.option(
    "--from-worktree", is_flag=True, help="The working tree's uncommitted changes, on HEAD."
)
@click.option("--range", "commits", metavar="A..B", help="What the commits A..B change, on A.")
@click.option("--reason", required=True, help="Why: its first line names the change.")
@click.option(
    "--target", "targets", multiple=True, metavar="SYMBOL", help="A symbol the change changes."
)
@click.option("--by", "proposed_by", help="Who proposes it [default: your login].")
@FORMAT
@ROOT
@DATABASE
def propose(
    patch_file: IO[bytes] | None,
    from_worktree: bool,
    commits: str | None,
    reason: str,
    targets: tuple[str, ...],
    proposed_by: str | None,
    output_format: str,
    root: Path | None,
    database: Path | None,
) -> None:
    """Record a change set and commit it on its own branch, in a worktree of its own.

    Give exactly one source: --patch FILE (or - for stdin), --from-worktree
    or --range A..B. The working tree, index and stash are left as they are.
    """
    from ark_lsp.changes import Provenance, SourceKind
    from ark_lsp.workflows import changes

    sources = [patch_file is not None, from_worktree, commits is not None]
    if sum(sources) != 1:
        fail("give one of --patch FILE, --from-worktree or --range A..B", EXIT_USAGE)
    if not reason.strip():
        fail("--reason must say why", EXIT_USAGE)
    by = proposed_by or proposer()
    with _workspace(root, database) as workspace:
        if patch_file is not None:
            name = str(getattr(patch_file, "name", "-"))
            provenance = Provenance(
                reason, by, SourceKind.PATCH, "stdin" if name in ("-", "<stdin>") else name
            )
            proposal = changes.propose_patch(
                workspace.project, patch_file.read(), provenance, targets
            )
        elif from_worktree:
            provenance = Provenance(reason, by, SourceKind.WORKTREE)
            proposal = changes.propose_worktree(workspace.project, provenance, targets)
        else:
            provenance = Provenance(reason, by, SourceKind.RANGE, str(commits))
            proposal = changes.propose_range(workspace.project, str(commits), provenance, targets)
    emit_proposal(proposal, output_format)


def emit_proposal(proposal: Proposal, output_format: str, *, err: bool = False) -> None:
    """Say what was proposed: the change, its branch, its worktree."""
    change = proposal.change
    if output_format == "json":
        payload = {"change": change_json(change, proposal.worktree), "created": proposal.created}
        click.echo(json.dumps(payload, indent=2), err=err)
        return
    added, removed = change.line_counts()
    files = len(change.files)
    size = f"{files} file{'s' * (files != 1)}, +{added} -{removed}"
    if proposal.created:
        click.echo(f"Proposed change {change.short_id} on branch {change.branch} ({size})", err=err)
    else:
        click.echo(
            f"Change {change.short_id} was proposed already, on branch {change.branch} ({size})",
            err=err,
        )
    click.echo(f"worktree: {proposal.worktree}", err=err)


def change_json(
    change: ChangeSet, worktree: Path | None, *, base_exists: bool = True
) -> dict[str, Any]:
    """A change as ``--format json`` shows it (the README documents the keys)."""
    added, removed = change.line_counts()
    return {
        "id": change.id,
        "short_id": change.short_id,
        "branch": change.branch,
        "base": change.base,
        "base_exists": base_exists,
        "onto": change.onto,
        "reason": change.provenance.reason,
        "proposed_by": change.provenance.proposed_by,
        "source": change.provenance.source.value,
        "source_detail": change.provenance.detail,
        "targets": list(change.targets),
        "created_at": change.created_at,
        "files": [
            {"path": f.path, "status": f.status, "added": f.added, "removed": f.removed}
            for f in change.file_stats()
        ],
        "added": added,
        "removed": removed,
        "worktree": None if worktree is None else str(worktree),
    }


@change.command("list")
@FORMAT
@ROOT
@DATABASE
def list_command(output_format: str, root: Path | None, database: Path | None) -> None:
    """The change sets recorded, oldest first."""
    from ark_lsp.workflows.changes import list_changes

    with _workspace(root, database) as workspace:
        states = list_changes(workspace.project)
    if output_format == "json":
        listed = [change_json(s.change, s.worktree, base_exists=s.base_exists) for s in states]
        click.echo(json.dumps({"changes": listed}, indent=2))
        return
    if not states:
        click.echo("ark: no change sets recorded", err=True)
    for state in states:
        change = state.change
        added, removed = change.line_counts()
        files = len(change.files)
        where = "" if state.worktree else "  (not checked out)"
        if not state.base_exists:
            where = "  (base missing)"
        click.echo(
            f"{change.short_id}  {change.created_at[:16].replace('T', ' ')}  "
            f"{change.provenance.source.value:<8} {files:>3} file{'s' * (files != 1):<1} "
            f"+{added:<4} -{removed:<4} {change.subject}{where}"
        )


@change.command("show")
@ID
@FORMAT
@ROOT
@DATABASE
def show(ident: str, output_format: str, root: Path | None, database: Path | None) -> None:
    """One change set: its base, branch, provenance, files and worktree."""
    from ark_lsp.workflows.changes import show_change

    with _workspace(root, database) as workspace:
        state = show_change(workspace.project, ident)
    change = state.change
    if output_format == "json":
        payload = change_json(change, state.worktree)
        payload["patch"] = change.patch.decode("utf-8", "replace")
        click.echo(json.dumps(payload, indent=2))
        return
    provenance = change.provenance
    source = provenance.source.value + (f": {provenance.detail}" if provenance.detail else "")
    lines = [
        ("change", change.id),
        ("branch", change.branch),
        ("base", f"{change.base} (on {change.onto})" if change.onto else change.base),
        ("proposed", f"by {provenance.proposed_by} at {change.created_at} ({source})"),
        ("targets", ", ".join(change.targets) or "-"),
        ("worktree", str(state.worktree) if state.worktree else "not checked out"),
    ]
    for key, value in lines:
        click.echo(f"{key:<9} {value}")
    click.echo(f"{'reason':<9} " + provenance.reason.strip().replace("\n", "\n" + " " * 10))
    for stat in change.file_stats():
        click.echo(f"{'':<9} {stat.status:<8} {stat.path} (+{stat.added} -{stat.removed})")


@change.command("diff")
@ID
@FORMAT
@ROOT
@DATABASE
def diff(ident: str, output_format: str, root: Path | None, database: Path | None) -> None:
    """The change set's patch, as it is stored (git's own form), on stdout."""
    from ark_lsp.workflows.changes import show_change

    with _workspace(root, database) as workspace:
        change = show_change(workspace.project, ident).change
    if output_format == "json":
        payload = {"id": change.id, "base": change.base, "patch": change.patch.decode("utf-8")}
        click.echo(json.dumps(payload, indent=2))
        return
    sys.stdout.buffer.write(change.patch)
    sys.stdout.buffer.flush()


@change.command("drop")
@ID
@FORMAT
@ROOT
@DATABASE
def drop(ident: str, output_format: str, root: Path | None, database: Path | None) -> None:
    """Forget a change set: its record, its worktree and its branch."""
    from ark_lsp.workflows.changes import drop_change

    with _workspace(root, database) as workspace:
        dropped = drop_change(workspace.project, ident)
    change = dropped.change
    if not dropped.branch_removed:
        click.echo(
            f"ark: warning: the branch {change.branch} is checked out, so it was kept", err=True
        )
    if output_format == "json":
        payload = {
            "dropped": change_json(change, None),
            "branch_removed": dropped.branch_removed,
        }
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(f"Dropped change {change.short_id} ({change.branch})")
