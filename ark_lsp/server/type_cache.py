"""lsprotocol's types imported with attrs' generated methods compiled once, not on every start.

``lsprotocol.types`` defines some 570 attrs classes; attrs writes each one's
``__init__``, ``__repr__``, ``__eq__``, ... as Python source and compiles it
when the class is made, which is about half of what importing the module
costs, on every start of the server, before it can read ``initialize``.
The source attrs writes depends only on the classes and on the versions of
attrs, lsprotocol and Python, so the compiled code objects are kept in
ARK's user cache (a ``marshal`` file, as Python keeps bytecode in ``.pyc``
files) keyed by those versions and, for each class, by the exact source and
file name attrs gives: a start finds its code there instead of compiling it.
Anything unexpected (another attrs, a cache that cannot be read or written)
falls back to attrs' own compiling, so the types are always exactly what
attrs makes.
"""

from __future__ import annotations
import __future__

import builtins
import contextlib
import logging
import marshal
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

logger = logging.getLogger(__name__)

COMPILED_MODULE = "attr._make"
"""The attrs module that compiles what it writes with the builtin ``compile``."""


def import_lsprotocol_types() -> ModuleType:
    """``lsprotocol.types``, its classes' methods compiled from the cache where it has them."""
    if "lsprotocol.types" in sys.modules:
        return sys.modules["lsprotocol.types"]
    attrs_make: ModuleType | None
    try:
        import attr._make as attrs_make
    except ImportError:  # another attrs: nothing to cache
        attrs_make = None
    if attrs_make is None or not hasattr(attrs_make, "_compile_and_eval"):
        import lsprotocol.types

        return lsprotocol.types
    path = cache_path(attrs_make)
    cached = read_cache(path)
    with compiling_from(attrs_make, cached) as compiled:
        import lsprotocol.types
    if compiled:  # what was not in the cache yet: keep it all for the next start
        write_cache(path, {**cached, **compiled})
    return lsprotocol.types


def cache_path(attrs_make: ModuleType) -> Path:
    """The cache for the installed attrs, lsprotocol and Python.

    Named after the sizes and times of the two modules, as a ``.pyc`` is
    checked against its source (reading the packages' versions would cost
    more than it saves): another install starts another file. Each entry is
    keyed by the source it was compiled from anyway.
    """
    from ark_lsp.trust import user_cache_folder

    stamps = []
    for origin in (attrs_make.__file__, _lsprotocol_types_file()):
        try:
            stat = os.stat(origin or "")
            stamps.append(f"{stat.st_size:x}{stat.st_mtime_ns:x}")
        except OSError:
            stamps.append("0")
    name = f"{'-'.join(stamps)}-{sys.implementation.cache_tag}.marshal"
    return user_cache_folder() / "lsprotocol" / name


def _lsprotocol_types_file() -> str | None:
    import importlib.util

    spec = importlib.util.find_spec("lsprotocol.types")
    return spec.origin if spec is not None else None


def read_cache(path: Path) -> dict[str, CodeType]:
    """The cached code by key; empty when there is none or it cannot be read."""
    try:
        loaded = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {k: v for k, v in loaded.items() if isinstance(k, str) and isinstance(v, CodeType)}


def write_cache(path: Path, code: dict[str, CodeType]) -> None:
    """Keep ``code`` at ``path`` (written whole, then renamed); a failure only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".lsprotocol-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(marshal.dumps(code))
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except (OSError, ValueError) as error:
        logger.info("lsprotocol's compiled methods not cached: %s", error)


@contextlib.contextmanager
def compiling_from(
    module: ModuleType, cached: dict[str, CodeType]
) -> Iterator[dict[str, CodeType]]:
    """While in the block, ``module``'s ``compile`` takes code from ``cached`` when it has it.

    Yields what had to be compiled, by key. The compile flags are the ones
    the builtin would inherit from ``module`` (its ``__future__`` imports).
    """
    flags = sum(
        feature.compiler_flag
        for feature in vars(module).values()
        if isinstance(feature, __future__._Feature)
    )
    compiled: dict[str, CodeType] = {}
    real: Callable[..., Any] = builtins.compile

    def compile_cached(source: Any, filename: Any, mode: str, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or mode != "exec" or not isinstance(source, str):
            return real(source, filename, mode, *args, **kwargs)
        key = f"{filename}\0{source}"
        code = cached.get(key)
        if code is None:
            code = compiled[key] = real(source, filename, mode, flags, True)
        return code

    had_own = "compile" in vars(module)
    if had_own:  # attrs changed how it compiles: leave it be
        yield compiled
        return
    module.compile = compile_cached  # type: ignore[attr-defined]
    try:
        yield compiled
    finally:
        with contextlib.suppress(AttributeError):
            del module.compile
