"""Change sets: every change proposed, in ``change_sets``, never edited once recorded."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ark_lsp.store.connection import write_transaction
from ark_lsp.store.repository import Repository, guarded

if TYPE_CHECKING:  # the change model (and the diff parser it needs), read only when asked
    from ark_lsp.changes.model import ChangeSet

_COLUMNS = "id, base, patch, reason, proposed_by, source, source_detail, targets, onto, created_at"


class ChangeSetRepository(Repository):
    """The recorded change sets (``store.changes``).

    A row is written once and never updated (a trigger refuses any update):
    a change that differs by a byte is another change with another id.
    """

    @guarded
    def record(self, change: ChangeSet) -> bool:
        """Record ``change``; False when a change with its id is recorded already."""
        with write_transaction(self._db):
            cursor = self._db.conn.execute(
                f"INSERT INTO change_sets ({_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (
                    change.id,
                    change.base,
                    change.patch,
                    change.provenance.reason,
                    change.provenance.proposed_by,
                    change.provenance.source.value,
                    change.provenance.detail,
                    json.dumps(list(change.targets)),
                    change.onto,
                    change.created_at,
                ),
            )
        return cursor.rowcount == 1

    @guarded
    def get(self, change_id: str) -> ChangeSet | None:
        """The change with exactly this id, if recorded."""
        row = self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM change_sets WHERE id = ?", (change_id,)
        ).fetchone()
        return _change(row) if row else None

    @guarded
    def starting_with(self, prefix: str) -> list[ChangeSet]:
        """The changes whose id starts with ``prefix`` (lower-case hex), oldest first."""
        cursor = self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM change_sets WHERE substr(id, 1, ?) = ? "
            "ORDER BY created_at, id",
            (len(prefix), prefix),
        )
        return [_change(row) for row in cursor]

    @guarded
    def all(self) -> list[ChangeSet]:
        """Every recorded change, oldest first."""
        cursor = self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM change_sets ORDER BY created_at, id"
        )
        return [_change(row) for row in cursor]

    @guarded
    def delete(self, change_id: str) -> bool:
        """Forget a change; whether it was recorded."""
        with write_transaction(self._db):
            cursor = self._db.conn.execute("DELETE FROM change_sets WHERE id = ?", (change_id,))
        return cursor.rowcount == 1


def _change(row: tuple[object, ...]) -> ChangeSet:
    from ark_lsp.changes.model import ChangeSet, Provenance, SourceKind

    (change_id, base, patch, reason, by, source, detail, targets, onto, created) = row
    return ChangeSet(
        id=str(change_id),
        base=str(base),
        patch=bytes(patch) if isinstance(patch, bytes | bytearray | memoryview) else b"",
        provenance=Provenance(str(reason), str(by), SourceKind(str(source)), str(detail or "")),
        targets=tuple(str(t) for t in json.loads(str(targets or "[]"))),
        onto=str(onto or ""),
        created_at=str(created),
    )
