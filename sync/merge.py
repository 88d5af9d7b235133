"""Per-field merge and conflict detection (SYNC.md rules 3 and 4) as pure functions.

The server runs every accepted change through ``apply_upsert`` or ``apply_delete``; the
client uses ``incoming_wins`` when a pulled value meets a local edit not yet pushed. No I/O,
no clocks of its own: the same inputs always give the same outputs, which is what lets the
property tests replay any interleaving of changes.

Reading of the rules where SYNC.md leaves room (written down in docs/PROTOCOL.md too):
- A field whose change carries the server's current clock as its ``base`` wins: the writer saw
  the value it replaces. Otherwise the edits were concurrent and the higher clock wins; clocks
  compare as strings, so equal wall time and counter fall back to the node id.
- A concurrent overwrite makes a conflict only when the two values differ: two devices that
  typed the same number lost nothing, and a conflict there would be noise for a person.
- A tombstone always stands. An upsert of a tombstone, and a delete that did not see the latest
  clock of a field, keep the edited value in a conflict so a person can restore it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True, slots=True)
class FieldState:
    value: Any
    clock: str


@dataclass(frozen=True)
class RecordState:
    """What the server holds of one record: each field's value and clock, or a tombstone."""

    fields: Mapping[str, FieldState] = field(default_factory=dict)
    deleted: bool = False
    deleted_clock: str | None = None


@dataclass(frozen=True, slots=True)
class Conflict:
    """One value that lost a concurrent overwrite, to be kept as a `conflicts` record."""

    field: str
    kept_value: Any
    kept_clock: str | None
    other_value: Any
    other_clock: str

    @property
    def kept_device(self) -> str | None:
        return node_of(self.kept_clock) if self.kept_clock else None

    @property
    def other_device(self) -> str:
        return node_of(self.other_clock)


@dataclass(frozen=True)
class MergeResult:
    state: RecordState
    conflicts: tuple[Conflict, ...]


class RecordNotFound(LookupError):
    """A delete of a record that does not exist."""


def node_of(clock: str) -> str:
    """The node id part of a wire-form clock (the device that made it)."""
    return clock.split("-", 2)[2]


def apply_upsert(
    current: RecordState | None,
    fields: Mapping[str, Any],
    clock: str,
    base: Mapping[str, str | None],
) -> MergeResult:
    """Merge one upsert into the record's current state (None: the record is new)."""
    if current is not None and current.deleted:
        lost = tuple(
            Conflict(name, None, current.deleted_clock, value, clock)
            for name, value in fields.items()
            if value is not None
        )
        return MergeResult(current, lost)

    merged = dict(current.fields) if current is not None else {}
    conflicts: list[Conflict] = []
    for name, value in fields.items():
        held = merged.get(name)
        held_clock = held.clock if held is not None else None
        if held_clock == base.get(name):
            merged[name] = FieldState(value, clock)
            continue
        if held is None:
            # The writer believed the field had a value the server never saw; nothing is lost.
            merged[name] = FieldState(value, clock)
            continue
        if held_clock == clock:
            continue  # the same edit again: nothing new
        if clock > held_clock:
            merged[name] = FieldState(value, clock)
            if held.value != value:
                conflicts.append(Conflict(name, value, clock, held.value, held.clock))
        elif held.value != value:
            conflicts.append(Conflict(name, held.value, held.clock, value, clock))
    return MergeResult(RecordState(merged), tuple(conflicts))


def apply_delete(
    current: RecordState | None, clock: str, base: Mapping[str, str | None]
) -> MergeResult:
    """Turn the record into a tombstone; values the deleting device had not seen become conflicts."""
    if current is None:
        raise RecordNotFound
    if current.deleted:
        return MergeResult(current, ())
    unseen = tuple(
        Conflict(name, None, clock, held.value, held.clock)
        for name, held in sorted(current.fields.items())
        if base.get(name) != held.clock and held.value is not None
    )
    return MergeResult(RecordState({}, deleted=True, deleted_clock=clock), unseen)


def incoming_wins(local_clock: str | None, incoming_clock: str | None) -> bool:
    """On pull: does a pulled value replace a local one not yet pushed?

    A local edit stays visible over an older incoming value; the server has the last word when
    the edit is pushed, by the same rule as above.
    """
    if local_clock is None:
        return True
    if incoming_clock is None:
        return False
    return incoming_clock > local_clock
