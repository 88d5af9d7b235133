"""The outbox: local changes waiting for the server's answer, in creation order (SYNC.md's Change).

An entry is ``pending`` until the server answers for it; it leaves on applied, duplicate or
conflict, and stays ``rejected`` (with the server's problem) until a person retries or discards
it. A change refused for its clock is re-stamped: a new clock (or the same one in the name of
this device's id after enrolment), the record's row and later entries' ``base`` following it.

Server state. For every record with entries here, the store keeps the server's last known state
of it (table ``server_state``: taken from the row when the first local edit begins, replaced by
every pull of the record, dropped when no entry is left). Discarding an entry rebuilds the row
from that state and the entries still there (:func:`replay`), so the record returns exactly to
what the server holds plus the changes still on their way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

PENDING = "pending"
REJECTED = "rejected"

COLUMNS = (
    "seq, change_id, collection, record_id, op, fields, clock, base, created_at, status, "
    "problem, rejected_at, original_clock"
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
    original_clock: str | None = None  # set once the change has been re-stamped

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
        (seq, change_id, collection, record_id, op, fields, clock, base, created, status, problem,
         rejected, original) = row
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
            original,
        )


@dataclass
class Replayed:
    """A record's row as the server state plus the entries still in the outbox make it."""

    values: dict[str, Any]  # field -> value (fields absent here are empty)
    clocks: dict[str, str]  # field -> clock
    deleted: bool
    deleted_clock: str | None


def replay(
    server_fields: Mapping[str, Mapping[str, Any]],
    server_deleted: bool,
    server_deleted_clock: str | None,
    entries: list[OutboxEntry],
) -> Replayed:
    """The row the store would hold after pulling the server state with ``entries`` pending.

    The same rule as a pull (sync.merge.incoming_wins): an entry's value shows over the server's
    unless the server's clock for that field is newer; a server tombstone always stands; a
    local delete hides the record (its values are kept until the server's tombstone comes).
    """
    values = {name: state.get("value") for name, state in server_fields.items()}
    clocks = {
        name: state["clock"] for name, state in server_fields.items() if state.get("clock")
    }
    deleted, deleted_clock = server_deleted, server_deleted_clock
    if server_deleted:
        return Replayed({}, {}, True, deleted_clock)
    for entry in entries:
        if entry.op == "delete":
            deleted, deleted_clock = True, entry.clock
            continue
        for name, value in entry.fields.items():
            held = clocks.get(name)
            if held is None or entry.clock > held:
                values[name] = value
                clocks[name] = entry.clock
    return Replayed(values, clocks, deleted, deleted_clock)


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
