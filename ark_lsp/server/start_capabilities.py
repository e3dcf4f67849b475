"""The client's capabilities at ``initialize``: only what the start reads is structured then.

A real editor's capabilities are a tree of some 80 lsprotocol classes
(VS Code's, Neovim's); structuring them all makes each class and a cattrs
function for it: 50-100 ms of the start, before ``initialize`` can be
answered, for a tree the start reads a dozen fields of (:data:`READ_AT_START`:
:meth:`ClientSupport.of <ark_lsp.server.client_support.ClientSupport.of>` and
pygls's ``lsp_initialize`` and ``ServerCapabilitiesBuilder``). So
``initialize`` is structured with the capabilities cut down to those
subtrees, and the whole tree the first time anything reads
``client_capabilities`` after ``initialize`` (nothing in ARK or pygls does).

An ``initialize`` whose params do not fit must still be refused as it was,
which only structuring the whole tree tells. So the cut is taken only for
capabilities structured whole before without error (:class:`SeenValid`: a
digest of each, kept in ARK's user cache): an editor's first start structures
its capabilities whole, and every later start with the same ones cuts them.
It relies on what pygls reads, so only with the pygls and lsprotocol it was
checked with (:data:`~ark_lsp.server.lazy_protocol.PINNED`).
"""

from __future__ import annotations

import json
import logging
import marshal
import sys
import threading
import typing
from _blake2 import blake2b  # hashlib's own, without hashlib's import of OpenSSL
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import cattrs
from lsprotocol import types

from ark_lsp import __version__
from ark_lsp.server.generated_code import cache_folder, file_stamp, write_cache
from ark_lsp.server.lazy_protocol import PINNED, pinned_versions

logger = logging.getLogger(__name__)

ReadAtStart = Mapping[str, "ReadAtStart | None"]
"""Fields of a capabilities class: ``None`` to structure one whole, or the fields to read below."""

READ_AT_START: ReadAtStart = {
    # pygls: the encoding, the sync options, notebooks, prepareRename, file operations;
    # ClientSupport.of: the rest.
    "general": {"position_encodings": None},
    "notebook_document": None,
    # Where a class's fields name other classes (enums, options) only the fields read are
    # structured: the rest would make those classes.
    "text_document": {
        "synchronization": None,
        "rename": {"prepare_support": None},
        "diagnostic": None,
        "code_action": {"resolve_support": None, "disabled_support": None},
        "hover": {"content_format": None},
    },
    "workspace": {
        "file_operations": None,
        "diagnostics": None,
        "code_lens": None,
        "did_change_watched_files": None,
        "configuration": None,
        "workspace_edit": {"document_changes": None, "resource_operations": None},
    },
    "window": {"work_done_progress": None},
}
"""What the start reads of :class:`~lsprotocol.types.ClientCapabilities`, by attribute."""

KEPT_DIGESTS = 64
"""How many capabilities :class:`SeenValid` remembers: a few editors, each a few versions."""


def structure_read_at_start(
    converter: cattrs.Converter, capabilities: Mapping[str, Any]
) -> types.ClientCapabilities:
    """``capabilities`` structured as the converter does, but only the :data:`READ_AT_START`.

    The classes on the way down are made with just those fields; the fields
    themselves are structured by the converter, each with its declared type.
    Only the classes on those paths are made, not every class a capabilities
    class names (resolving its annotations would make them all).
    """
    built: types.ClientCapabilities = _structure_fields(
        converter, capabilities, types.ClientCapabilities, READ_AT_START
    )
    return built


def _structure_fields(
    converter: cattrs.Converter, raw: Mapping[str, Any], kind: type, read: ReadAtStart
) -> Any:
    if not isinstance(raw, Mapping):
        raise TypeError(f"expected an object for {kind.__name__}, got {type(raw).__name__}")
    fields = attrs.fields_dict(kind)
    values = {}
    for name, below in read.items():
        key = _json_name(name)
        if key not in raw:
            continue
        declared = _declared_type(kind, fields[name].type)
        if below is None:
            values[name] = converter.structure(raw[key], declared)
        elif raw[key] is not None:
            values[name] = _structure_fields(converter, raw[key], _class_in(declared), below)
    return kind(**values)


def _json_name(name: str) -> str:
    """An attribute's name in the message, as lsprotocol's converter renames it."""
    first, *rest = name.removesuffix("_").split("_")
    return first + "".join(part.title() for part in rest)


def _declared_type(kind: type, annotation: Any) -> Any:
    """A field's annotation with its quoted names resolved, as lsprotocol resolves them."""
    holder = type(kind.__name__, (), {"__annotations__": {"field": annotation}})
    return typing.get_type_hints(holder, {}, types.ALL_TYPES_MAP)["field"]


def _class_in(declared: Any) -> type:
    """The class of an ``Optional[SomeClass]`` field."""
    present = [arg for arg in typing.get_args(declared) if arg is not type(None)]
    if len(present) != 1 or not attrs.has(present[0]):
        raise TypeError(f"{declared} is not an optional class")
    found: type = present[0]
    return found


DECIDING_MODULES = ("cattrs.converters", "ark_lsp.server.protocol")
"""The modules whose code decides what structuring accepts: cattrs's, ARK's strict converter's."""


def _deciding_files() -> list[str]:
    """The sizes and times of :data:`DECIDING_MODULES`' files, as a ``.pyc`` is checked.

    ARK's version is not bumped between builds, and cattrs is not pinned: a
    change to either starts a new record, so capabilities are structured
    whole again before any is cut.
    """
    return [
        file_stamp(getattr(sys.modules.get(name), "__file__", None)) for name in DECIDING_MODULES
    ]


class SeenValid:
    """Digests of capabilities that were structured whole without error, kept in a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def in_user_cache(cls) -> SeenValid | None:
        """The user's record, or ``None`` when the cut may not be used (other versions)."""
        if not pinned_versions():
            return None
        return cls(cache_folder() / "valid-client-capabilities")

    @staticmethod
    def digest(capabilities: dict[str, Any]) -> str:
        """What identifies these capabilities, for this ARK, lsprotocol, pygls and cattrs."""
        text = json.dumps([__version__, PINNED, _deciding_files(), capabilities], sort_keys=True)
        return blake2b(text.encode(), digest_size=16).hexdigest()

    def _read(self) -> list[str]:
        try:
            kept = marshal.loads(self.path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return []
        if not isinstance(kept, list):
            return []
        return [digest for digest in kept if isinstance(digest, str)]

    def __contains__(self, digest: str) -> bool:
        return digest in self._read()

    def add(self, digest: str) -> None:
        """Remember ``digest``, forgetting the oldest beyond :data:`KEPT_DIGESTS`."""
        with self._lock:
            kept = [d for d in self._read() if d != digest]
            write_cache(self.path, [*kept, digest][-KEPT_DIGESTS:])
