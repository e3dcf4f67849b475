"""Driving git: argument lists (never a shell), the repository's own configuration left out.

Change sets, worktrees and the gate all ask git; they ask it here. A
repository is untrusted input, so its configuration must not run anything
of its own on ARK's behalf: external diff and text-conversion drivers,
hooks, the file-system monitor, commit signing and content filters
(``filter.<name>.clean``/``smudge``/``process``, which ``.gitattributes``
names) are switched off for every call (``diff.external`` is emptied, which
``git diff`` itself takes for a command that fails: a porcelain diff passes
``--no-ext-diff --no-textconv``, which also keeps the drivers ``diff=NAME``
attributes select from running; plumbing runs none). Where git is in the caller's
environment (``GIT_DIR``, ``GIT_INDEX_FILE``... as a hook sets them), it is
ignored: a call works on the repository it names, with its own index.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from ark_lsp.config.sections import DEFAULT_EXCLUDES

GIT_TIMEOUT = 120.0
"""Seconds any one git call may take."""

_SAFE_OPTIONS = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "diff.external=",
    "-c", "core.pager=cat",
    "-c", "core.quotePath=false",
    "-c", "protocol.file.allow=user",
    "-c", "commit.gpgSign=false",
    "-c", "submodule.recurse=false",
    "-c", "gc.auto=0",
    "-c", "maintenance.auto=false",
)  # fmt: skip
"""Configuration that keeps a repository's settings from running programs of its own."""

_LOCATION_VARIABLES = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
        "GIT_EXTERNAL_DIFF",
        "GIT_CONFIG_COUNT",
    }
)
"""What a caller's environment (a hook running ARK) would otherwise point git at."""

_FILTER_SETTINGS = ("clean", "smudge", "process")

_handed_down: ContextVar[tuple[int, ...]] = ContextVar("ark_git_handed_down", default=())


@contextmanager
def handing_down(descriptor: int) -> Iterator[None]:
    """Let every git started in the block inherit ``descriptor``.

    For a lock git's work must hold: ARK killed while git runs leaves git
    running, and a lock only ARK held would let the next ARK in before that
    git is done. A child inheriting the descriptor holds the lock until it
    ends too.
    """
    token = _handed_down.set((*_handed_down.get(), descriptor))
    try:
        yield
    finally:
        _handed_down.reset(token)


class GitError(Exception):
    """A git command failed; the message is git's own reason, on one line."""


class UnsafeRepository(GitError):
    """git refuses a repository another user owns (``safe.directory``).

    ARK says so, and leaves trusting it to the user, as git does.
    """


def git(
    repo: Path,
    *args: str,
    input: bytes | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run ``git args`` in ``repo`` and return its standard output as text.

    ``env`` adds variables of the call's own (``GIT_INDEX_FILE`` for an
    index of its own, the author of a commit).
    """
    return git_bytes(repo, *args, input=input, check=check, env=env).decode("utf-8", "replace")


UNTRACKED_LEFT_OUT = tuple(
    f":(exclude,glob)**/{folder}**" for folder in DEFAULT_EXCLUDES if folder != ".git/"
)
"""Pathspecs of the folders no change is made of: a virtual environment, build output, caches."""


def stage_working_tree(repo: Path, *options: str, env: Mapping[str, str]) -> None:
    """Stage the working tree as it is into the index ``env`` names (``GIT_INDEX_FILE``).

    Every change to a tracked file, and each untracked file git does not
    ignore, but for those inside ARK's default excludes: an unpacked sdist
    has no ``.gitignore``, and the ``.venv`` made in it is no part of a
    change. ``options`` go before ``add`` (``-c`` settings).
    """
    git(repo, *options, "add", "--all", "--", ".", *UNTRACKED_LEFT_OUT, env=env)
    git(repo, *options, "add", "--update", "--", ".", env=env)


def git_bytes(
    repo: Path,
    *args: str,
    input: bytes | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> bytes:
    """Run ``git args`` in ``repo`` and return its standard output as bytes."""
    base = _environment(env)
    done = _run(repo, args, input, {**base, **_filters_switched_off(repo, base)})
    if check and done.returncode != 0:
        unsafe = _DUBIOUS.search(done.stderr.decode("utf-8", "replace"))
        if unsafe:
            where = unsafe.group("where")
            raise UnsafeRepository(
                f"git refuses the repository at {where}: another user owns it "
                f"(`git config --global --add safe.directory {where}` trusts it)"
            )
        raise GitError(_one_line(done.stderr) or f"git {' '.join(args[:2])} failed")
    return done.stdout


def _environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if k not in _LOCATION_VARIABLES}
    return {
        **inherited,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "LC_ALL": "C",
        **(extra or {}),
    }


def _run(
    repo: Path, args: tuple[str, ...], input: bytes | None, env: Mapping[str, str]
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *_SAFE_OPTIONS, *args],
            cwd=repo,
            input=input,
            capture_output=True,
            env=env,
            timeout=GIT_TIMEOUT,
            check=False,
            pass_fds=_handed_down.get(),
        )
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except NotADirectoryError:
        raise GitError(f"{repo} is not a folder") from None
    except subprocess.TimeoutExpired:
        raise GitError(
            f"git {args[0] if args else ''} took longer than {GIT_TIMEOUT:.0f} s"
        ) from None


def _filters_switched_off(repo: Path, env: Mapping[str, str]) -> dict[str, str]:
    """Configuration (as ``GIT_CONFIG_*`` variables) that empties every filter driver defined.

    A driver's name comes from ``.gitattributes`` and its command from any
    configuration file; git runs nothing for a driver whose commands are
    empty, and ``required=false`` keeps it from failing for want of one.
    The variables carry names verbatim, whatever characters they hold.
    """
    names = _filter_names(repo, env)
    settings = [
        (f"filter.{name}.{key}", value)
        for name in names
        for key, value in (*((s, "") for s in _FILTER_SETTINGS), ("required", "false"))
    ]
    variables = {"GIT_CONFIG_COUNT": str(len(settings))}
    for number, (key, value) in enumerate(settings):
        variables[f"GIT_CONFIG_KEY_{number}"] = key
        variables[f"GIT_CONFIG_VALUE_{number}"] = value
    return variables if settings else {}


def _filter_names(repo: Path, env: Mapping[str, str]) -> list[str]:
    """The filter drivers any configuration file in force for ``repo`` defines."""
    done = _run(repo, ("config", "--null", "--name-only", "--get-regexp", r"^filter\."), None, env)
    names = dict.fromkeys(
        key.removeprefix("filter.").rpartition(".")[0]
        for key in done.stdout.decode("utf-8", "surrogateescape").split("\0")
        if key.startswith("filter.")
    )
    return [name for name in names if name]


_DUBIOUS = re.compile(r"detected dubious ownership in repository at '(?P<where>[^'\n]*)'")


def _one_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    meaningful = [line for line in lines if line and not line.startswith("hint:")]
    return meaningful[-1].removeprefix("fatal: ").removeprefix("error: ") if meaningful else ""
