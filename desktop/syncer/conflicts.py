"""Conflict records for people: listing the unresolved ones and resolving one with ordinary changes.

A conflict record (made by the server, SYNC.md rule 3) holds the value a record kept and the one
that was overwritten or refused. Resolving it is an ordinary edit that syncs like any other: the
record's field gets the chosen value (nothing to change when the kept value stays) and the
conflict record gets ``resolved = true`` and an optional note, in one local transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.syncer.messages import field_label, syncer_message, when_text
from desktop.syncer import engine as E
from desktop.syncer.errors import SyncError
from sync.clock import format_time, is_valid_hlc, wall_ms_of
from sync.merge import node_of
from sync.records import COLLECTIONS, FieldType

KEEP_KEPT = "kept"
KEEP_OTHER = "other"


@dataclass(frozen=True)
class ConflictView:
    """What a person reads of one conflict (devices by name and organisation)."""

    id: str
    collection: str
    record_id: str
    record_title: str
    field: str
    kept_value: Any
    kept_device: str | None
    kept_when: str | None
    other_value: Any
    other_device: str | None
    other_when: str | None
    record_deleted: bool
    field_label: str = ""  # the field as a person reads it ("kortnamn")


def _when(clock: Any) -> str | None:
    return when_text(format_time(wall_ms_of(clock))) if is_valid_hlc(clock) else None


def describe(store: Any, conflict: dict) -> ConflictView:
    """A conflict as a person reads it: the record's name, the field's label, and each value's
    device by name and organisation (from the device directory), not by id."""
    fields = conflict["fields"]
    collection = fields.get("collection") or "?"
    record_id = fields.get("record_id") or "?"
    record = store.get(collection, record_id) if collection in COLLECTIONS else None

    def device(explicit: Any, clock: Any) -> str | None:
        device_id = explicit or (node_of(clock) if is_valid_hlc(clock) else None)
        return E.device_label(store, device_id) if device_id else None

    return ConflictView(
        id=conflict["record_id"],
        collection=collection,
        record_id=record_id,
        record_title=E.record_title(store, collection, record_id) if record else "?",
        field=fields.get("field") or "?",
        kept_value=fields.get("kept_value"),
        kept_device=device(fields.get("kept_device"), fields.get("kept_clock")),
        kept_when=_when(fields.get("kept_clock")),
        other_value=fields.get("other_value"),
        other_device=device(fields.get("other_device"), fields.get("other_clock")),
        other_when=_when(fields.get("other_clock")),
        record_deleted=record is None or bool(record["deleted"]),
        field_label=field_label(fields.get("field") or "?"),
    )


def open_conflicts(store: Any) -> list[ConflictView]:
    """Unresolved conflict records this device holds."""
    return [
        describe(store, c) for c in store.list("conflicts") if not c["fields"].get("resolved")
    ]


def find_conflict(store: Any, reference: str) -> dict:
    """A conflict by its id or a unique prefix of it (at least 4 characters)."""
    reference = reference.strip().lower()
    record = None
    if len(reference) == 36:
        record = store.get("conflicts", reference)
    if record is None and len(reference) >= 4:
        matches = [
            c for c in store.list("conflicts", include_deleted=True)
            if c["record_id"].startswith(reference)
        ]
        if len(matches) == 1:
            record = matches[0]
    if record is None or record["deleted"]:
        raise SyncError("syncer.conflict_not_found", id=reference)
    return record


def parse_value(collection: str, field: str, text: str) -> Any:
    """A value typed by a person, as the field's type wants it."""
    spec = COLLECTIONS[collection].fields.get(field)
    if spec is None:
        raise SyncError("syncer.bad_value", field=field_label(field), reason=syncer_message("syncer.reason.unknown_field"))
    if spec.type is FieldType.INT:
        try:
            return int(text)
        except ValueError:
            raise SyncError("syncer.bad_value", field=field_label(field), reason=syncer_message("syncer.reason.int")) from None
    if spec.type is FieldType.BOOL:
        lowered = text.strip().lower()
        if lowered in ("true", "ja", "yes", "1"):
            return True
        if lowered in ("false", "nej", "no", "0"):
            return False
        raise SyncError("syncer.bad_value", field=field_label(field), reason=syncer_message("syncer.reason.bool"))
    return text


def resolve(store: Any, reference: str, keep: str, note: str | None = None) -> tuple[dict, Any]:
    """Resolve one conflict; returns (the conflict record, the value the field now holds).

    ``keep``: ``kept`` (the value the record holds stays), ``other`` (the overwritten value comes
    back) or any other text (that value, typed for the field).
    """
    conflict = find_conflict(store, reference)
    fields = conflict["fields"]
    if fields.get("resolved"):
        raise SyncError("syncer.conflict_already_resolved", id=conflict["record_id"])
    collection, record_id, field = fields.get("collection"), fields.get("record_id"), fields.get("field")
    if keep == KEEP_KEPT:
        value, change = fields.get("kept_value"), False
    elif keep == KEEP_OTHER:
        value, change = fields.get("other_value"), True
    else:
        value, change = parse_value(collection, field, keep), True
    record = store.get(collection, record_id) if collection in COLLECTIONS else None
    if change and (record is None or record["deleted"]):
        raise SyncError("syncer.conflict_record_gone")
    if record is not None and not record["deleted"] and not change:
        value = record["fields"].get(field)
    update = {"resolved": True}
    if note:
        update["resolution_note"] = note
    with store.batch():
        if change:
            store.update(collection, record_id, {field: value})
        store.update("conflicts", conflict["record_id"], update)
    return conflict, value
