"""The code attrs, cattrs, typing and dataclasses write at run time, compiled once, not every start.

``lsprotocol.types`` defines some 570 attrs classes; attrs writes each one's
``__init__``, ``__repr__``, ``__eq__``, ... as Python source and compiles it
when the class is made, and ``typing`` compiles every quoted annotation:
about half of what importing the module costs, on every start of the
server, before it can read ``initialize``. ARK's own dataclasses (the
settings, the models) are written and compiled the same way by
``dataclasses``, and cattrs does it for the (un)structuring function of
each type the first time a message carries it, the largest
(``InitializeParams``, the client's capabilities) on the way to the first
diagnostics. What they write depends only on the classes and on the
versions of the packages and of Python, so the compiled code objects are
kept in ARK's user cache (a ``marshal`` file, as Python keeps bytecode in
``.pyc`` files), each keyed by the exact source and file name it was
compiled from, and a start finds its code there instead of compiling it.
Anything unexpected (another attrs, a cache that cannot be read or
written) falls back to compiling, so the code is always exactly what the
source says.
"""

from __future__ import annotations
import __future__

import builtins
import contextlib
import dataclasses
import logging
import marshal
import os
import re
import sys
import threading
import time
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

logger = logging.getLogger(__name__)

COMPILED_MODULE = "attr._make"
"""The attrs module that compiles what it writes with the builtin ``compile``."""


class CompiledCode:
    """Code objects by the source and file name they were compiled from, kept in a file.

    :meth:`compiling_in` makes a module's ``compile`` (the builtin, looked up
    in the module's globals first) take its code from here.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cached: dict[str, CodeType | bytes] = read_cache(path)
        self.compiled: dict[str, CodeType] = {}
        """What was compiled since the cache was read: kept by :meth:`save`."""
        self.used: set[str] = set()
        """What this process took from the cache."""
        self.volatile: set[str] = set()
        """What was compiled here but would never be found by another process: not kept."""
        self._sources_by_file: dict[tuple[str, str], str] | None = None
        self._lock = threading.Lock()

    def _varies_per_process(self, mode: str, filename: str, source: str) -> bool:
        """Whether the cache has this file's code with other numbers only: never found again.

        attrs writes the process's string-hash of a class's name into the
        ``__hash__`` of a frozen class: each start's source differs, so keeping
        it would only grow the file, and rewrite it on every start.
        """
        if self._sources_by_file is None:
            self._sources_by_file = {}
            for key in self.cached:
                kept_mode, kept_file, kept_source = key.split("\0", 2)
                self._sources_by_file[kept_mode, kept_file] = kept_source
        kept = self._sources_by_file.get((mode, filename))
        return kept is not None and _DIGITS.sub("", kept) == _DIGITS.sub("", source)

    def compiler(self, module: ModuleType) -> Callable[..., Any]:
        """A ``compile`` for ``module``, with the flags the builtin would inherit from it."""
        flags = sum(
            feature.compiler_flag
            for feature in vars(module).values()
            if isinstance(feature, __future__._Feature)
        )
        real: Callable[..., Any] = builtins.compile

        def compile_cached(source: Any, filename: Any, mode: str, *args: Any, **kw: Any) -> Any:
            if args or kw or not isinstance(source, str) or not isinstance(filename, str):
                return real(source, filename, mode, *args, **kw)
            key = f"{mode}\0{filename}\0{source}"
            code = self.cached.get(key)
            if type(code) is bytes:  # read from the file, not needed until now
                try:
                    code = marshal.loads(code)
                except (EOFError, ValueError, TypeError):
                    code = None
                if type(code) is not CodeType:
                    code = None
            if code is None:
                code = real(source, filename, mode, flags, True)
                with self._lock:
                    varies = self._varies_per_process(mode, filename, source)
                    self.cached[key] = code
                    if varies:
                        self.volatile.add(key)
                    else:
                        self.compiled[key] = code
            else:
                with self._lock:
                    self.cached[key] = code
                    self.used.add(key)
            return code

        return compile_cached

    def install(self, module: ModuleType) -> bool:
        """Make ``module``'s ``compile`` use the cache; False if it has a ``compile`` of its own."""
        if "compile" in vars(module):
            return False
        module.compile = self.compiler(module)  # type: ignore[attr-defined]
        return True

    @contextlib.contextmanager
    def executing_in(self, module: ModuleType) -> Iterator[None]:
        """While in the block, ``module``'s ``exec`` of source text compiles it with the cache."""
        if "exec" in vars(module):
            yield
            return
        compile_cached = self.compiler(module)

        def exec_cached(source: Any, *args: Any, **kw: Any) -> Any:
            if isinstance(source, str) and not kw:
                source = compile_cached(source, "<string>", "exec")
            return builtins.exec(source, *args, **kw)

        module.exec = exec_cached  # type: ignore[attr-defined]
        try:
            yield
        finally:
            with contextlib.suppress(AttributeError):
                del module.exec

    @contextlib.contextmanager
    def compiling_in(self, *modules: ModuleType) -> Iterator[None]:
        """While in the block, the modules' ``compile`` use the cache."""
        installed = [m for m in modules if self.install(m)]
        try:
            yield
        finally:
            for module in installed:
                with contextlib.suppress(AttributeError):
                    del module.compile

    def save(self) -> None:
        """Keep what was compiled since the cache was read (nothing to do if nothing was).

        The file keeps what earlier processes compiled too, unless it grew past
        :data:`MOST_KEPT` entries: then only what this one used or compiled.
        """
        with self._lock:
            if not self.compiled:
                return
            if len(self.cached) > MOST_KEPT:
                self.cached = {k: self.cached[k] for k in self.used | set(self.compiled)}
            code, self.compiled = dict(self.cached), {}
            for key in self.volatile:
                code.pop(key, None)
        write_cache(
            self.path, {k: marshal.dumps(v) if type(v) is CodeType else v for k, v in code.items()}
        )


_DIGITS = re.compile(r"-?\d+")

MOST_KEPT = 5_000
"""Entries the cache file may hold: a start of the server uses about 1,200, its features 600."""

_compiled: CompiledCode | None = None


@contextlib.contextmanager
def compiled_once(*, lazy_protocol: bool = False, save: bool = True) -> Iterator[None]:
    """While in the block, attrs, typing and dataclasses take their code from the cache.

    ``lsprotocol.types`` is imported first; with ``lazy_protocol`` (the
    server's start, see :mod:`ark_lsp.server.lazy_protocol`) each of its
    classes is made when first used. cattrs keeps compiling from the
    cache for the process's life: its functions are made as messages first
    need them; so do attrs and typing, for the classes made later, when the
    module is lazy. What was compiled anew is kept when the block ends,
    unless ``save`` is False (:func:`save_compiled` keeps it later).
    """
    global _compiled
    try:
        import attr._make as attrs_make
        import cattrs.gen as cattrs_gen
    except ImportError:  # another attrs or cattrs: nothing to cache
        yield
        return
    if _compiled is None:
        _compiled = CompiledCode(cache_path(attrs_make, cattrs_gen))
        _compiled.install(cattrs_gen)
        if lazy_protocol:
            from ark_lsp.server import lazy_protocol as lazy

            if lazy.install() is not None:  # its classes are made later: keep the cache on
                _compiled.install(attrs_make)
                _compiled.install(typing)
    with _compiled.compiling_in(attrs_make, typing), _compiled.executing_in(dataclasses):
        import lsprotocol.types  # noqa: F401  (made here, with the cache)

        yield
    if save:
        _compiled.save()


def save_compiled() -> None:
    """Keep what was compiled since the start (cattrs' functions for the messages seen)."""
    if _compiled is not None:
        _compiled.save()


def cache_path(attrs_make: ModuleType, cattrs_gen: ModuleType) -> Path:
    """The cache for the installed attrs, cattrs, lsprotocol and Python.

    Named after the sizes and times of the modules that write the code, as a ``.pyc`` is
    checked against its source (reading the packages' versions would cost
    more than it saves): another install starts another file. Each entry is
    keyed by the source it was compiled from anyway.
    """
    origins = (attrs_make.__file__, cattrs_gen.__file__, _lsprotocol_types_file())
    stamps = [file_stamp(origin) for origin in origins]
    name = f"{'-'.join(stamps)}-{sys.implementation.cache_tag}.marshal"
    return cache_folder() / name


def file_stamp(path: str | None) -> str:
    """A file's size and modification time, as a ``.pyc`` is checked against its source."""
    try:
        stat = os.stat(path or "")
    except OSError:
        return "0"
    return f"{stat.st_size:x}{stat.st_mtime_ns:x}"


def cache_folder() -> Path:
    """Where the compiled code is kept: ``lsprotocol`` in ARK's user cache."""
    # Not by way of ark_lsp.trust: it would make the rules' and models' dataclasses
    # before the cache is read.
    from ark_lsp.user_folders import user_cache_folder

    return user_cache_folder() / "lsprotocol"


def _lsprotocol_types_file() -> str | None:
    import importlib.util

    spec = importlib.util.find_spec("lsprotocol.types")
    return spec.origin if spec is not None else None


def read_cache(path: Path) -> dict[str, CodeType | bytes]:
    """The cached code by key; empty when there is none or it cannot be read.

    Each code object is kept marshalled on its own, and read only when
    used: a start uses fewer than half of them, and making a code object
    is most of what reading the file costs.
    """
    try:
        loaded = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {
        k: v for k, v in loaded.items() if isinstance(k, str) and isinstance(v, CodeType | bytes)
    }


STALE_AFTER_S = 14 * 24 * 3600
"""A cache file not written for this long goes when another install starts its own."""


def write_cache(path: Path, code: Any) -> None:
    """Keep ``code``, marshalled, at ``path`` (see :func:`write_file`)."""
    write_file(path, marshal.dumps(code))


def write_file(path: Path, data: bytes) -> None:
    """Keep ``data`` at ``path`` in ARK's user cache (written whole, then renamed).

    A failure only costs speed. The first write of a new file (another
    install of ARK or of the packages it compiles for, another Python)
    removes the folder's files not written for :data:`STALE_AFTER_S`: each
    install's cache is a few megabytes, and an old one is never read again.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _remove_stale(path.parent)
        # Named by this process and thread rather than by tempfile, which a start would
        # otherwise import (an editor's first start records its capabilities at initialize).
        # No live writer shares the name, so one left by a writer that died is overwritten;
        # a symbolic link planted under it is refused, not followed.
        temporary = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        handle = os.open(temporary, flags, 0o600)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except (OSError, ValueError) as error:
        logger.info("%s not kept: %s", path.name, error)


def _remove_stale(folder: Path) -> None:
    """Remove the files of ``folder`` not written for :data:`STALE_AFTER_S`.

    An install in use whose file goes with them only writes it again, once.
    """
    # os.scandir rather than Path.glob: a start may come here, and glob imports fnmatch.
    stale_before = time.time() - STALE_AFTER_S
    with os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < stale_before:
                    os.unlink(entry.path)
