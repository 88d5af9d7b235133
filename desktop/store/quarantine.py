"""Pulled records checked against sync.records before they are stored; malformed ones kept aside.

The client does not trust what it pulls: a record whose collection, id, seq, visibility, clocks
or field values break the schema (types, limits, the shape of references) is never applied.
It is written to the ``quarantine`` table instead, in the same transaction as the page and its
cursor, so the sync moves on and nothing else is held up. A later valid state of the same record
replaces it (the quarantined rows of that record are dropped when it is applied).

Fields this version does not know are not an error (a newer server may add optional fields,
SYNC.md "Collections"); they are ignored, as before.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from sync.clock import is_valid_hlc, match_hlc
from sync.records import (
    COLLECTIONS,
    INT_MAX,
    INT_MIN,
    VISIBILITY,
    FieldType,
    InvalidChange,
    validate_value,
)

RECORD_TEXT_MAX = 64 * 1024  # a quarantined record's JSON text is kept up to this size

INSERT_SQL = (
    "INSERT INTO quarantine (collection, record_id, seq, field, reason, record, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class Quarantined:
    """A pulled record kept aside: where it was, what was wrong (English, for support)."""

    id: int
    collection: str | None
    record_id: str | None
    seq: int | None
    field: str | None
    reason: str
    received_at: str


# What the server sends: a canonical UUID passes this without being parsed (the hot path).
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_ID_TYPES = (FieldType.REF, FieldType.UUID)

# How _check accepts the commonest values without calling validate_value (a pulled page of
# 5,000 records holds some 30,000 values). Each shortcut accepts only values validate_value
# returns unchanged; anything else goes through validate_value, which says what is wrong.
_SLOW, _TEXT, _INT, _BOOL, _CHOICE, _ID = range(6)


@lru_cache(maxsize=None)
def _shortcuts(collection: str) -> dict[str, tuple[int, int, bool, frozenset[str]]]:
    """field name -> (shortcut, max length, required, choices) of a collection's fields."""
    out = {}
    for name, spec in COLLECTIONS[collection].fields.items():
        kind = spec.type
        if kind in (FieldType.NAME, FieldType.TEXT):
            shortcut = _TEXT
        elif kind is FieldType.INT:
            shortcut = _INT
        elif kind is FieldType.BOOL:
            shortcut = _BOOL
        elif kind is FieldType.ENUM:
            shortcut = _CHOICE
        elif kind in _ID_TYPES:
            shortcut = _ID
        else:
            shortcut = _SLOW
        out[name] = (shortcut, spec.max_length or 0, spec.required, frozenset(spec.choices))
    return out


def _uuid(value: Any, name: str) -> None:
    if type(value) is str and _CANONICAL_UUID.match(value):
        return
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidChange(f"{name} must be a UUID", field=name)
    try:
        uuid.UUID(value)
    except ValueError:
        raise InvalidChange(f"{name} must be a UUID", field=name) from None


def _is_mapping(value: Any) -> bool:
    return type(value) is dict or isinstance(value, MappingABC)


def check_pulled(record: Any) -> InvalidChange | None:
    """Why a pulled RecordState cannot be stored, or None when it can.

    ``seq`` may be null only for the states the engine makes itself (``_sweep_absent``).
    """
    try:
        _check(record)
    except InvalidChange as problem:
        return problem
    return None


def _check(record: Any) -> None:
    if not _is_mapping(record):
        raise InvalidChange("a record must be an object")
    name = record.get("collection")
    coll = COLLECTIONS.get(name) if isinstance(name, str) else None
    if coll is None:
        raise InvalidChange(f"unknown collection {str(name)[:80]!r}", field="collection")
    _uuid(record.get("record_id"), "record_id")
    seq = record.get("seq")
    if seq is not None and (type(seq) is not int or seq < 0 or seq > 2**63 - 1):
        raise InvalidChange("seq must be a whole number", field="seq")
    owner = record.get("owner_org")
    if owner is not None:
        _uuid(owner, "owner_org")
    visibility = record.get("visibility")
    if visibility is not None and visibility not in VISIBILITY:
        raise InvalidChange("visibility must be regional or internal", field="visibility")
    deleted = record.get("deleted", False)
    if type(deleted) is not bool:
        raise InvalidChange("deleted must be true or false", field="deleted")
    deleted_clock = record.get("deleted_clock")
    if deleted_clock is not None and not is_valid_hlc(deleted_clock):
        raise InvalidChange("deleted_clock must be a clock", field="deleted_clock")
    fields = record.get("fields")
    if fields is None:
        fields = {}
    if not _is_mapping(fields):
        raise InvalidChange("fields must be an object", field="fields")
    if deleted:
        return  # a tombstone's fields are not stored
    known = coll.fields
    shortcuts = _shortcuts(coll.name)
    valid_clock = None  # the fields of one change share its clock: check each clock once
    for field_name, state in fields.items():
        shortcut = shortcuts.get(field_name)
        if shortcut is None:
            continue  # a field of a newer version: ignored
        if type(state) is not dict and not _is_mapping(state):
            raise InvalidChange(f"{field_name} must be a value with its clock", field=field_name)
        clock = state.get("clock")
        if clock is None or clock != valid_clock:
            if not (type(clock) is str and match_hlc(clock)) and not is_valid_hlc(clock):
                raise InvalidChange(f"{field_name} has no valid clock", field=field_name)
            valid_clock = clock
        value = state.get("value")
        if value is None:
            continue
        kind, max_length, required, choices = shortcut
        value_type = type(value)
        if kind == _TEXT:
            if value_type is str and len(value) <= max_length and (not required or value.strip()):
                continue
        elif kind == _ID:
            if value_type is str and _CANONICAL_UUID.match(value):
                continue
        elif kind == _INT:
            if value_type is int and INT_MIN <= value <= INT_MAX:
                continue
        elif kind == _BOOL:
            if value_type is bool:
                continue
        elif kind == _CHOICE:
            if value_type is str and value in choices:
                continue
        validate_value(known[field_name], value)


def record_text(record: Any) -> str | None:
    """The record as JSON text for the quarantine table, or None when it is too large."""
    try:
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        return None
    return text if len(text) <= RECORD_TEXT_MAX else None


def row_for(record: Any, problem: InvalidChange, received_at: str) -> tuple:
    """The INSERT parameters (``INSERT_SQL``) of one quarantined record."""
    get = record.get if _is_mapping(record) else (lambda _key: None)
    collection, record_id, seq = get("collection"), get("record_id"), get("seq")
    return (
        collection[:80] if isinstance(collection, str) else None,
        record_id[:64] if isinstance(record_id, str) else None,
        seq if type(seq) is int and 0 <= seq <= 2**63 - 1 else None,
        problem.field[:80] if problem.field else None,
        problem.detail[:500],
        record_text(record),
        received_at,
    )


def from_row(row: tuple) -> Quarantined:
    return Quarantined(*row)


SELECT_SQL = (
    "SELECT id, collection, record_id, seq, field, reason, received_at FROM quarantine ORDER BY id"
)


def latest_seqs(db, collection: str, compacted_through: int | None = None) -> Mapping[str, int]:
    """record_id -> the highest quarantined seq of this collection's records; with
    ``compacted_through``, records whose latest quarantined state is a tombstone at or below it
    are left out (the server may have compacted them away)."""
    latest: dict[str, tuple[int, bool]] = {}
    for record_id, seq, deleted in db.execute(
        "SELECT record_id, seq, json_extract(record, '$.deleted') FROM quarantine "
        "WHERE collection = ? AND seq IS NOT NULL AND record_id IS NOT NULL",
        (collection,),
    ):
        if record_id not in latest or seq > latest[record_id][0]:
            latest[record_id] = (seq, deleted == 1)
    return {
        record_id: seq
        for record_id, (seq, deleted) in latest.items()
        if compacted_through is None or not (deleted and seq <= compacted_through)
    }
