"""The outbox: local changes waiting for the server's answer, in creation order (SYNC.md's Change)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

PENDING = "pending"
REJECTED = "rejected"

COLUMNS = (
    "seq, change_id, collection, record_id, op, fields, clock, base, created_at, status, "
    "problem, rejected_at"
)
INSERT_SQL = (
    "INSERT INTO outbox (change_id, collection, record_id, op, fields, clock, base, "
    "created_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')"
)


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    change_id: str
    collection: str
    record_id: str
    op: str  # "upsert" | "delete"
    fields: Mapping[str, Any]
    clock: str
    base: Mapping[str, str | None]
    created_at: str
    status: str  # "pending" | "rejected"
    problem: Mapping[str, Any] | None = None
    rejected_at: str | None = None

    def to_change(self) -> dict[str, Any]:
        """The Change object to push (SYNC.md "Shapes")."""
        return {
            "change_id": self.change_id,
            "collection": self.collection,
            "record_id": self.record_id,
            "op": self.op,
            "fields": dict(self.fields),
            "clock": self.clock,
            "base": dict(self.base),
        }

    @classmethod
    def from_row(cls, row: tuple) -> OutboxEntry:
        seq, change_id, collection, record_id, op, fields, clock, base, created, status, problem, rejected = row
        return cls(
            seq,
            change_id,
            collection,
            record_id,
            op,
            loads(fields),
            clock,
            loads(base),
            created,
            status,
            loads(problem),
            rejected,
        )


# json.dumps with these arguments builds a new encoder at every call; one made once encodes the
# same text (compact, UTF-8 kept) without that cost on the bulk paths.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(value: Any) -> str:
    return _ENCODE(value)


def loads(stored: Any) -> Any:
    """A JSON column's value. SQLite gives a column declared JSON numeric affinity, so a bare
    JSON number comes back already converted (an int or a float), not as text."""
    if stored is None or isinstance(stored, (int, float)):
        return stored
    return json.loads(stored)
