"""Driving git: argument lists (never a shell), the repository's own configuration left out.

Change sets, worktrees and the gate all ask git; they ask it here. A
repository is untrusted input, so its configuration must not run anything
of its own on ARK's behalf: external diff and text-conversion drivers,
hooks and filters are switched off for every call.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

GIT_TIMEOUT = 120.0
"""Seconds any one git call may take."""

_SAFE_OPTIONS = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "diff.external=",
    "-c", "core.pager=cat",
    "-c", "core.quotePath=false",
    "-c", "protocol.file.allow=user",
)  # fmt: skip
"""Configuration that keeps a repository's settings from running programs of its own."""


class GitError(Exception):
    """A git command failed; the message is git's own reason, on one line."""


def git(
    repo: Path,
    *args: str,
    input: bytes | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run ``git args`` in ``repo`` and return its standard output as text."""
    return git_bytes(repo, *args, input=input, check=check, env=env).decode("utf-8", "replace")


def git_bytes(
    repo: Path,
    *args: str,
    input: bytes | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> bytes:
    """Run ``git args`` in ``repo`` and return its standard output as bytes.

    ``env`` adds to the environment: ``GIT_INDEX_FILE`` to stage into an
    index of ARK's own instead of the user's, an author for a commit.
    """
    environment = {
        **os.environ,
        **(env or {}),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "LC_ALL": "C",
    }
    try:
        done = subprocess.run(
            ["git", *_SAFE_OPTIONS, *args],
            cwd=repo,
            input=input,
            capture_output=True,
            env=environment,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitError(
            f"git {args[0] if args else ''} took longer than {GIT_TIMEOUT:.0f} s"
        ) from None
    if check and done.returncode != 0:
        raise GitError(_one_line(done.stderr) or f"git {' '.join(args[:2])} failed")
    return done.stdout


def _one_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    meaningful = [line for line in lines if line and not line.startswith("hint:")]
    return meaningful[-1].removeprefix("fatal: ").removeprefix("error: ") if meaningful else ""
