"""Files that untrusted input named: read and written only inside given folders, bounded.

A repository, or a client speaking for one, can name any path: a FIFO that
never answers, ``/dev/zero`` that never ends, ``/etc/shadow``, a symbolic
link to any of them. :func:`read_contained` reads only what is safe to read:
the path with every link resolved must lie inside one of the folders given,
the file is opened without blocking (a FIFO opens at once, and is then
refused as not a regular file), and no more than ``max_size`` bytes are read.
Everything else raises :class:`ReadRefused`, an :class:`OSError`, so code
that already copes with an unreadable file copes with a refused one.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
"""Opening never waits for a FIFO's writer, takes a terminal, or follows a last-moment link."""


class ReadRefused(OSError):
    """ARK will not read this file; the message says why, for the user."""


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data``, in hex; without hashlib's import of OpenSSL where it can.

    The start's first diagnostics hash before anything else imports hashlib.
    """
    try:  # hashlib's own SHA-256 (Python 3.11)
        from _sha256 import sha256  # type: ignore[import-not-found, unused-ignore]
    except ImportError:  # pragma: no cover - renamed in Python 3.12
        from hashlib import sha256
    return str(sha256(data).hexdigest())


def within(path: Path, folders: Iterable[Path]) -> bool:
    """Whether ``path`` (already resolved) lies inside one of ``folders`` (resolved too)."""
    return any(path.is_relative_to(folder) for folder in folders)


def read_contained(path: Path, folders: Iterable[Path], max_size: int) -> bytes:
    """The bytes of a regular file inside ``folders``, at most ``max_size`` of them.

    Raises :class:`ReadRefused` for a file outside the folders (links
    resolved), one that is not a regular file, or one larger than
    ``max_size``; :class:`OSError` when it cannot be read at all.
    """
    folders = [folder.resolve() for folder in folders]
    try:
        resolved = path.resolve()
        if not within(resolved, folders):
            raise ReadRefused("not inside the workspace folders")
        descriptor = os.open(resolved, _OPEN_FLAGS)
    except ValueError:  # a NUL byte in the name: no file has it
        raise ReadRefused("not a valid file name") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise ReadRefused("not a regular file")
        # What was opened, not what the name meant a moment ago: a folder on the
        # way may have been swapped for a link between resolving and opening.
        opened = Path(f"/proc/self/fd/{descriptor}")
        if opened.is_symlink() and not within(Path(os.readlink(opened)), folders):
            raise ReadRefused("not inside the workspace folders")
        if status.st_size > max_size:
            raise ReadRefused(f"larger than max_file_size ({max_size:,} bytes)")
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            data = handle.read(max_size + 1)
    finally:
        os.close(descriptor)
    if len(data) > max_size:  # it grew while being read
        raise ReadRefused(f"larger than max_file_size ({max_size:,} bytes)")
    return data


class WriteRefused(OSError):
    """ARK will not write this file; the message says why, for the user."""


def write_contained(path: Path, text: str, root: Path) -> Path:
    """Write ``text`` to ``path``, which must stay inside ``root`` with every link resolved.

    A repository decides what its paths are: a ``tests`` folder or a test
    file may be a link to ``~/.bashrc``. The file written is where the path
    really leads, and only if that is inside ``root`` and is a regular file
    or nothing yet. It is replaced whole (a temporary file renamed over
    it), keeping its mode, so a reader never sees half of it. Returns the
    path written.
    """
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise WriteRefused(f"{path}: leads outside the workspace ({resolved}); not written")
    try:
        mode: int | None = stat.S_IMODE(_regular(resolved).st_mode)
    except FileNotFoundError:
        mode = None
    import tempfile  # only to write: the server's start reads only

    resolved.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=resolved.parent, prefix=f".{resolved.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(temporary, mode)
        os.replace(temporary, resolved)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return resolved


def _regular(path: Path) -> os.stat_result:
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        raise WriteRefused(f"{path}: not a regular file; not written")
    return info
