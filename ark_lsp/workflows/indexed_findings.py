"""The index's findings of a text, when they are exactly what analysing that text would give.

A warm workspace's index already holds the findings of every file: a file
opened with the very bytes the index analysed, under the same rules,
settings, ARK and Python (``Settings.analysis_key``, which names both versions),
gets them without a second analysis. Anything less certain gets None, and
the caller analyses the text.
"""

from __future__ import annotations

from ark_lsp.config import Settings
from ark_lsp.files import sha256_hex
from ark_lsp.store import Store, StoreError, ViolationRecord


def indexed_findings(
    store: Store, settings: Settings, path: str, text: str
) -> tuple[ViolationRecord, ...] | None:
    """The stored findings of ``path`` if the index analysed exactly ``text`` under ``settings``.

    The index hashed the file's bytes as read; the text qualifies only if
    its UTF-8 bytes are those very bytes (a text whose line endings or
    encoding the editor changed does not) and they were decoded as UTF-8
    (a file with a BOM or another coding line is decoded otherwise, so its
    positions may differ).
    """
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no file has these bytes
        return None
    try:
        analysed = store.index.analysed_file(path)
    except StoreError:
        return None
    if (
        analysed is None
        or analysed.analysis_key != settings.analysis_key
        or analysed.encoding != "utf-8"
        or analysed.sha256 != sha256_hex(data)
    ):
        return None
    return analysed.violations
