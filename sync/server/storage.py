"""The change feed: applying pushed changes (validation, ownership, merge, conflicts), pull, digest, compaction.

Order (SYNC.md rule 1): every transaction that hands out positions first locks the one
``positions`` row (``SELECT … FOR UPDATE``; on SQLite the writer's ``BEGIN IMMEDIATE``), reads
the records it changes only after that, and writes the new ``last`` before it commits. So
positions are allocated in commit order: whatever a pull sees committed is a prefix of the
sequence, and a change committed after a pull always gets a position above that pull's cursor.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from json.encoder import encode_basestring as _json_str  # the C encoder of a JSON string

from sqlalchemy import Text, and_, cast, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from sync import journal, rules
from sync.clock import HybridClock, is_valid_hlc, wall_ms_of
from sync.merge import Conflict, FieldState, RecordState, apply_delete, apply_upsert, node_of
from sync.records import (
    COLLECTION_NAMES,
    COLLECTIONS,
    Collection,
    InvalidChange,
    get_collection,
    normalise_uuid,
    validate_fields,
)
from sync.server.models import Audit, ChangeLog, JournalHead, Position, Record, ServerMeta
from sync.server.problems import ProblemError, problem
from sync.server.timeutil import now_ms
from sync.wire import Change

CURSOR_PREFIX = "v1:"
_VISIBILITIES = frozenset({"regional", "internal"})


# --- cursors ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cursor:
    """What a cursor holds: a position, and the retention watermark when it was handed out.

    The watermark tells a cursor handed out during a full pull after a compaction (below the
    watermark, but nothing it could miss was compacted since) from one older than that
    compaction. Cursors without it (``v1:<position>``, as first built) are still read.
    """

    position: int
    watermark: int | None = None


def encode_cursor(position: int, watermark: int | None = None) -> str:
    text = f"{CURSOR_PREFIX}{position}" if watermark is None else f"{CURSOR_PREFIX}{position}:{watermark}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def read_cursor(cursor: str | None) -> Cursor:
    """The cursor a client sent (position 0 for none), or 400 invalid."""
    if cursor is None or cursor == "":
        return Cursor(0)
    try:
        if len(cursor) > 100:
            raise ValueError
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        if not text.startswith(CURSOR_PREFIX):
            raise ValueError
        parts = text[len(CURSOR_PREFIX):].split(":")
        if len(parts) > 2 or not all(part.isdigit() and len(part) <= 18 for part in parts):
            raise ValueError
        return Cursor(int(parts[0]), int(parts[1]) if len(parts) == 2 else None)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ProblemError(
            "invalid",
            "this cursor cannot be read; use the cursor of the last pull, or none to start over",
            status=400,
            field="cursor",
        ) from None


def decode_cursor(cursor: str | None) -> int:
    """The position a cursor stands for (0 for none), or 400 invalid."""
    return read_cursor(cursor).position


# --- the server's own clock ------------------------------------------------------------------

def server_node_id(session: Session) -> str:
    row = session.get(ServerMeta, "server_id")
    if row is None:  # an older database: make one now
        row = ServerMeta(key="server_id", value=str(uuid.uuid4()))
        session.add(row)
        session.flush()
    return row.value


_CLOCKS: dict[str, HybridClock] = {}


def server_clock(session: Session) -> HybridClock:
    """The server's clock (one per process, so its clocks only ever grow here)."""
    node = server_node_id(session)
    if node not in _CLOCKS:
        _CLOCKS[node] = HybridClock(node)
    return _CLOCKS[node]


# --- record state helpers --------------------------------------------------------------------

def state_of(row: Record | None) -> RecordState | None:
    if row is None:
        return None
    return RecordState(
        fields={name: FieldState(v["value"], v["clock"]) for name, v in row.fields.items()},
        deleted=row.deleted,
        deleted_clock=row.deleted_clock,
    )


def value_of(row: Record | None, name: str) -> Any:
    if row is None or row.deleted:
        return None
    held = row.fields.get(name)
    return held["value"] if held else None


def _fields_json(state: RecordState) -> dict[str, Any]:
    return {name: {"value": f.value, "clock": f.clock} for name, f in sorted(state.fields.items())}


def _own_visibility(fields: Mapping[str, Any]) -> str:
    """A record's own ``visibility`` field (stored form), regional when unset."""
    held = fields.get("visibility")
    return held["value"] if held and held.get("value") else "regional"


def _parent_key(collection: str, record_id: str) -> str:
    return f"{collection}/{record_id}"


def place(row: Record, load) -> bool:
    """Set who reads ``row`` (its visibility folded with its parent's, sync.rules) and where its
    parent is; ``load(collection, record_id)`` finds the parent. Returns whether the readers
    changed. A tombstone keeps what it had: it is sent to everyone without fields anyway."""
    if row.deleted:
        return False
    before = row.visible_to
    parent_ref = rules.visibility_parent(row.collection, row.value)
    parent = load(*parent_ref) if parent_ref is not None else None
    row.parent_key = _parent_key(*parent_ref) if parent_ref is not None else None
    row.visible_to = rules.visible_to(
        row.owner_org, _own_visibility(row.fields), parent.visible_to if parent is not None else None
    )
    row.visibility = "internal" if row.visible_to is not None else "regional"
    return row.visible_to != before


def record_out(row: Record, organisation_id: str) -> dict[str, Any]:
    """A record as one device may see it: one it may not read (another organisation's internal
    record, or a child of one) is a tombstone.

    The rule as a dict; ``pull`` applies the same rule while building its answer as text
    (tests/server/test_server_fast_paths.py holds the two to each other).
    """
    hidden = not row.readable_by(organisation_id)
    out = {
        "collection": row.collection,
        "record_id": row.record_id,
        "owner_org": row.owner_org,
        "visibility": row.visibility,
        "deleted": bool(row.deleted or hidden),
        "fields": {} if (row.deleted or hidden) else row.fields,
        "seq": row.seq,
    }
    if row.journal is not None:  # sent to every device, hidden or not: the chain runs through
        out["journal"] = json.loads(row.journal)
    return out


# --- allocation of positions -----------------------------------------------------------------

class Feed:
    """Positions for one write transaction; holds the positions row lock until commit."""

    def __init__(self, session: Session) -> None:
        self.session = session
        row = session.execute(
            select(Position.last, Position.watermark).where(Position.id == 1).with_for_update()
        ).one()
        self.last = int(row.last)
        self.watermark = int(row.watermark)
        self._start = self.last

    def allocate(self) -> int:
        self.last += 1
        return self.last

    def close(self) -> None:
        if self.last != self._start:
            self.session.execute(update(Position).where(Position.id == 1).values(last=self.last))


# --- who writes ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Writer:
    device_id: str | None  # None: the server itself
    organisation_id: str
    regional_admin: bool  # a regional_admin device of a regional administrator organisation

    @property
    def actor(self) -> rules.Actor:
        # The rules tell roles apart only by "regional administrator or not" when writing.
        role = "regional_admin" if self.regional_admin else "member"
        return rules.Actor(self.organisation_id, role, self.regional_admin)


class Rejected(Exception):
    """A change refused: the problem token, its detail, the field at fault, and for ``forbidden``
    the rules' reason code (sync.rules.Reason), sent as the problem's ``reason`` member."""

    def __init__(self, token: str, detail: str, field: str | None = None, reason: str | None = None) -> None:
        super().__init__(detail)
        self.token, self.detail, self.field, self.reason = token, detail, field, reason


def _forbid(decision: rules.Decision) -> Rejected:
    return Rejected("forbidden", decision.detail, decision.field, decision.reason.value if decision.reason else None)


@dataclass(frozen=True)
class Applied:
    """The first outcome of a change id (what a resend of it answers as ``duplicate``)."""

    status: str
    seq: int


@dataclass
class PushContext:
    """One push: its writer, its positions, and what it has read (the ``sync.rules.Facts`` the
    write rules ask, answered from caches that live as long as the push)."""

    session: Session
    writer: Writer
    feed: Feed
    clock: HybridClock
    now: int
    skew_ms: int
    actor: rules.Actor = field(init=False)
    # forum id -> organisations sitting in it; dropped for a forum when its mandates or its
    # convenor change, and entirely when a function is deleted.
    _forum_orgs: dict[str, frozenset[str]] = field(default_factory=dict)
    # Not deleted mandates: forum id -> {mandate id: function id}, read once per push (when a
    # journal entry first asks) and kept up to date with the mandates this push changes.
    _forum_mandates: dict[str, dict[str, str]] | None = None
    # Records read or made in this push (made ones are flushed only at the end).
    _records: dict[tuple[str, str], Record | None] = field(default_factory=dict)
    # Change ids already applied: looked up once for the whole push, then kept up to date.
    applied: dict[str, Applied] = field(default_factory=dict)
    # Rows of the changes and audit tables, inserted in one go at the end of the push.
    change_rows: list[dict[str, Any]] = field(default_factory=list)
    audit_rows: list[dict[str, Any]] = field(default_factory=list)
    # activation id -> the head of its journal chain (read once, kept as this push links entries)
    journal_heads: dict[str, JournalHead] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.actor = self.writer.actor

    # reading records -------------------------------------------------------------------------
    def load(self, collection: str, record_id: str | None) -> Record | None:
        if record_id is None:
            return None
        key = (collection, record_id)
        if key not in self._records:
            self._records[key] = self.session.get(Record, key)
        return self._records[key]

    record = load  # sync.rules.Facts

    def remember(self, row: Record) -> None:
        self._records[(row.collection, row.record_id)] = row

    def prefetch(self, keys: Iterable[tuple[str, str]]) -> list[Record]:
        """Load many records at once (a query per 500 keys), absent ones as None.

        Runs while the positions lock is held, so no other writer can add or remove a record
        before this push commits: "not there" stays true for the rest of the push.
        """
        wanted = sorted({key for key in keys if key not in self._records})
        found: list[Record] = []
        for start in range(0, len(wanted), 500):
            by_collection: dict[str, list[str]] = {}
            for collection, record_id in wanted[start : start + 500]:
                by_collection.setdefault(collection, []).append(record_id)
            found.extend(self.session.scalars(select(Record).where(or_(*(
                and_(Record.collection == collection, Record.record_id.in_(ids))
                for collection, ids in by_collection.items()
            )))))
        for key in wanted:
            self._records[key] = None
        for row in found:
            self._records[(row.collection, row.record_id)] = row
        return found

    def can_see(self, row: Record | None) -> bool:
        return row is not None and not row.deleted and row.readable_by(self.writer.organisation_id)

    # forums ----------------------------------------------------------------------------------
    def _mandates(self) -> dict[str, dict[str, str]]:
        if self._forum_mandates is None:
            self.session.flush()  # mandates changed earlier in this push count
            index: dict[str, dict[str, str]] = {}
            for record_id, fields in self.session.execute(
                select(Record.record_id, Record.fields).where(
                    Record.collection == "mandates", Record.deleted.is_(False)
                )
            ):
                forum_id = (fields.get("forum_id") or {}).get("value")
                function_id = (fields.get("function_id") or {}).get("value")
                if forum_id and function_id:
                    index.setdefault(forum_id, {})[record_id] = function_id
            self._forum_mandates = index
        return self._forum_mandates

    def forum_organisations(self, forum_id: str) -> frozenset[str]:
        """Organisations with a function holding a mandate in the forum (plus its convenor's)."""
        if forum_id not in self._forum_orgs:
            function_ids = set(self._mandates().get(forum_id, {}).values())
            convenor = value_of(self.load("forums", forum_id), "convenor_function_id")
            if convenor:
                function_ids.add(convenor)
            self.prefetch(("functions", function_id) for function_id in function_ids)
            orgs = set()
            for function_id in function_ids:
                function = self.load("functions", function_id)
                if function is not None and not function.deleted:
                    orgs.add(function.owner_org)
            self._forum_orgs[forum_id] = frozenset(orgs)
        return self._forum_orgs[forum_id]

    def changed(self, row: Record, old_forum: str | None, was_deleted: bool) -> None:
        """Keep the forum caches true after ``row`` changed (``old_forum``: a mandate's forum before)."""
        if row.collection == "mandates":
            self._forum_orgs.pop(old_forum, None)
            self._forum_orgs.pop(row.value("forum_id"), None)
            if self._forum_mandates is not None:
                self._forum_mandates.get(old_forum, {}).pop(row.record_id, None)
                if not row.deleted and row.value("forum_id") and row.value("function_id"):
                    self._forum_mandates.setdefault(row.value("forum_id"), {})[row.record_id] = row.value("function_id")
        elif row.collection == "forums":
            self._forum_orgs.pop(row.record_id, None)
        elif row.collection == "functions" and row.deleted and not was_deleted:
            self._forum_orgs.clear()


# --- the rules of ownership (sync.rules; SYNC.md rule 6, "Ownership through references") -----

def _check_references(ctx: PushContext, collection: Collection, fields: Mapping[str, Any]) -> None:
    for spec in collection.ref_fields():
        target_id = fields.get(spec.name)
        if target_id is None:
            continue
        if not ctx.can_see(ctx.load(spec.ref, target_id)):
            raise Rejected(
                "invalid",
                f"{spec.name} names no {spec.ref} record you can see ({target_id})",
                spec.name,
            )


def _authorise(ctx: PushContext, collection: Collection, op: rules.Op, current: Record | None,
               fields: Mapping[str, Any]) -> None:
    decision = rules.decide(ctx.actor, collection, op, current, fields, ctx)
    if not decision:
        raise _forbid(decision)


def _refuse_outright(collection: Collection, op: rules.Op) -> None:
    refusal = rules.refused_outright(collection, op)
    if refusal is not None:
        raise _forbid(refusal)


def spread_readers(session: Session, feed: Feed, load, parent: Record) -> None:
    """After ``parent``'s readers changed: its children (and theirs) follow, each at a new
    position, so that every device pulls them again (as tombstones, or back in full).
    ``load(collection, record_id)`` reads a record as the caller knows it."""
    session.flush()  # children made earlier in this transaction are found by the query too
    for child in session.scalars(
        select(Record).where(
            Record.parent_key == _parent_key(parent.collection, parent.record_id),
            Record.deleted.is_(False),
        )
    ):
        if rules.visibility_parent(child.collection, child.value) != (parent.collection, parent.record_id):
            continue
        if place(child, load):
            child.seq = feed.allocate()
            spread_readers(session, feed, load, child)


# --- applying one change ---------------------------------------------------------------------

def _base_of(change: Change) -> dict[str, str | None]:
    base: dict[str, str | None] = {}
    if not isinstance(change.base, Mapping):
        raise Rejected("invalid", "base must be an object", "base")
    for name, clock in change.base.items():
        if clock is not None and not is_valid_hlc(clock):
            raise Rejected("invalid", f"the base clock of {name} is not a clock", str(name)[:80])
        base[name] = clock
    return base


def _apply(ctx: PushContext, change: Change) -> tuple[str, int, list[Conflict]]:
    """Validate, authorise and apply one change; returns (status, seq, conflicts) or raises Rejected."""
    try:
        collection = get_collection(change.collection)
        record_id = normalise_uuid(change.record_id, "record_id")
        if change.op not in ("upsert", "delete"):
            raise InvalidChange('op must be "upsert" or "delete"', field="op")
        if not is_valid_hlc(change.clock):
            raise InvalidChange(
                "clock is not a clock (<13-digit ms>-<5-digit counter>-<node id>)", field="clock"
            )
    except InvalidChange as exc:
        raise Rejected(exc.problem, exc.detail, exc.field) from None
    ahead = wall_ms_of(change.clock) - ctx.now
    if ahead > ctx.skew_ms:
        raise Rejected(
            "clock-skew",
            f"clock is {ahead / 1000:.1f} s ahead of the server; at most "
            f"{ctx.skew_ms // 1000} s is accepted — set the device's clock or use the offset "
            "to server_time",
            "clock",
        )
    if ctx.writer.device_id is not None and node_of(change.clock) != ctx.writer.device_id:
        raise Rejected(
            "invalid",
            f"clock names node {node_of(change.clock)!r}, not this device ({ctx.writer.device_id}): "
            "a device makes its clocks with its own device id; stamp the change again with it "
            "(changes made before enrolment need that once)",
            "clock",
        )
    base = _base_of(change)
    current = ctx.load(collection.name, record_id)
    op: rules.Op = "delete" if change.op == "delete" else ("create" if current is None else "update")
    _refuse_outright(collection, op)

    if op == "delete":
        if current is None:
            raise Rejected("not-found", f"there is no {collection.name} record {record_id} to delete", "record_id")
        _authorise(ctx, collection, op, current, {})
        result = apply_delete(state_of(current), change.clock, base)
    else:
        try:
            fields = validate_fields(collection, change.fields, creating=current is None)
        except InvalidChange as exc:
            raise Rejected(exc.problem, exc.detail, exc.field) from None
        _check_references(ctx, collection, fields)
        _authorise(ctx, collection, op, current, fields)
        result = apply_upsert(state_of(current), fields, change.clock, base)

    seq = ctx.feed.allocate()
    state = result.state
    if current is None:
        current = Record(
            collection=collection.name,
            record_id=record_id,
            owner_org=ctx.writer.organisation_id,
            visibility="regional",
        )
        ctx.session.add(current)
        ctx.remember(current)
    was_deleted = bool(current.deleted)
    old_forum = current.value("forum_id") if collection.name == "mandates" else None
    current.fields = _fields_json(state)
    current.deleted = state.deleted
    current.deleted_clock = state.deleted_clock
    if state.deleted and not was_deleted:
        current.deleted_at = ctx.now
    current.seq = seq
    if place(current, ctx.load) and op == "update":
        spread_readers(ctx.session, ctx.feed, ctx.load, current)
    if op == "create" and collection.name == journal.COLLECTION:
        link_journal_entry(ctx.session, ctx.journal_heads, current)
    ctx.clock.receive(change.clock)
    for conflict in result.conflicts:
        _make_conflict_record(ctx, current, conflict)
    ctx.changed(current, old_forum, was_deleted)
    return ("conflict" if result.conflicts else "applied"), seq, list(result.conflicts)


def link_journal_entry(session: Session, heads: dict[str, JournalHead], row: Record) -> None:
    """Give a new log entry its link in its activation's hash chain (sync.journal).

    Runs while the positions lock is held, so entries are linked in the order they get their
    positions, and no other writer moves the head meanwhile. ``heads`` caches the heads read or
    made in this transaction (a head made here is not in the database until the flush)."""
    entry = journal.Entry.from_stored(row.record_id, row.owner_org, row.fields)
    activation_id = entry.activation_id
    if not activation_id:
        return
    head = heads.get(activation_id)
    if head is None:
        head = session.get(JournalHead, activation_id)
        if head is None:
            head = JournalHead(activation_id=activation_id, last_index=0, chain=journal.genesis(activation_id))
            session.add(head)
        heads[activation_id] = head
    previous = journal.Link(activation_id, head.last_index, "", head.chain) if head.last_index else None
    made = journal.next_link(previous, activation_id, entry)
    row.journal = made.as_json()
    head.last_index, head.chain = made.index, made.chain


def _make_conflict_record(ctx: PushContext, record: Record, conflict: Conflict) -> Record:
    clock = ctx.clock.now()
    values = {
        "collection": record.collection,
        "record_id": record.record_id,
        "field": conflict.field,
        "kept_value": conflict.kept_value,
        "kept_clock": conflict.kept_clock,
        "kept_device": conflict.kept_device,
        "other_value": conflict.other_value,
        "other_clock": conflict.other_clock,
        "other_device": conflict.other_device,
        "resolved": False,
    }
    # No visibility of its own: a conflict follows its record's current visibility (place()).
    row = Record(
        collection="conflicts",
        record_id=str(uuid.uuid4()),
        owner_org=record.owner_org,
        deleted=False,
        fields={name: {"value": value, "clock": clock} for name, value in values.items()},
        seq=ctx.feed.allocate(),
    )
    place(row, lambda collection, record_id: record)
    ctx.session.add(row)
    ctx.remember(row)
    return row


def push(
    session: Session,
    writer: Writer,
    changes: Iterable[Change],
    *,
    skew_ms: int = 60_000,
) -> list[dict[str, Any]]:
    """Apply a push in one transaction (the caller commits); one result per change, in order."""
    clock = server_clock(session)  # a constant row: read before taking the lock
    feed = Feed(session)
    ctx = PushContext(
        session=session, writer=writer, feed=feed, clock=clock, now=now_ms(), skew_ms=skew_ms,
    )
    changes = list(changes)
    ids = set()
    for change in changes:
        try:
            ids.add(normalise_uuid(change.change_id, "change_id"))
        except InvalidChange:
            pass
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        for change_id, status, seq in session.execute(
            select(ChangeLog.change_id, ChangeLog.status, ChangeLog.seq).where(ChangeLog.change_id.in_(chunk))
        ):
            ctx.applied[change_id] = Applied(status, seq)
    _prefetch_records(ctx, changes)
    # No autoflush: what a push makes is written in one flush at the end (batched inserts and
    # updates) instead of row by row before every read. Reads go through ctx.load, which knows
    # the records made in this push; forum_organisations flushes before its query.
    with session.no_autoflush:
        results = [_push_one(ctx, change) for change in changes]
    feed.close()
    session.flush()
    if ctx.change_rows:
        session.execute(insert(ChangeLog.__table__), ctx.change_rows)
    if ctx.audit_rows:
        session.execute(insert(Audit.__table__), ctx.audit_rows)
    return results


def _ref_keys(collection: Collection, fields: object) -> Iterator[tuple[str, str]]:
    if not isinstance(fields, Mapping):
        return
    for spec in collection.ref_fields():
        try:
            yield spec.ref, normalise_uuid(fields.get(spec.name), spec.name)
        except InvalidChange:
            pass


def _prefetch_records(ctx: PushContext, changes: list[Change]) -> None:
    """Load, in a few queries, the records a push names and the records they refer to.

    Only an optimisation: ctx.load still fetches anything missed, one by one.
    """
    keys: list[tuple[str, str]] = []
    for change in changes:
        collection = COLLECTIONS.get(change.collection) if isinstance(change.collection, str) else None
        if collection is None:
            continue
        try:
            keys.append((collection.name, normalise_uuid(change.record_id, "record_id")))
        except InvalidChange:
            continue
        keys.extend(_ref_keys(collection, change.fields))
    found = ctx.prefetch(keys)
    # One level further: what the existing records refer to (a channel's current function,
    # an activation's forum), which ownership checks read.
    more: list[tuple[str, str]] = []
    for row in found:
        if not row.deleted:
            spec = COLLECTIONS.get(row.collection)
            if spec is not None:
                more.extend(_ref_keys(spec, {k: v.get("value") for k, v in row.fields.items()}))
    if more:
        ctx.prefetch(more)


def _push_one(ctx: PushContext, change: Change) -> dict[str, Any]:
    writer = ctx.writer
    try:
        change_id = normalise_uuid(change.change_id, "change_id")
    except InvalidChange as exc:
        return _rejected(ctx, change, Rejected("invalid", exc.detail, exc.field))
    earlier = ctx.applied.get(change_id)
    if earlier is not None:
        return {
            "change_id": change.change_id,
            "status": "duplicate",
            "seq": earlier.seq,
            "first_status": earlier.status,
        }
    try:
        status, seq, _conflicts = _apply(ctx, change)
    except Rejected as rejection:
        return _rejected(ctx, change, rejection)
    ctx.change_rows.append(dict(
        change_id=change_id, status=status, seq=seq, collection=change.collection,
        record_id=normalise_uuid(change.record_id, "record_id"), device_id=writer.device_id,
        at=ctx.now,
    ))
    ctx.applied[change_id] = Applied(status, seq)
    _audit(ctx, change, status)
    return {"change_id": change.change_id, "status": status, "seq": seq}


def _rejected(ctx: PushContext, change: Change, rejection: Rejected) -> dict[str, Any]:
    _audit(ctx, change, f"rejected:{rejection.token}")
    return {
        "change_id": change.change_id,
        "status": "rejected",
        "problem": problem(
            rejection.token, rejection.detail, change_id=change.change_id, field=rejection.field,
            reason=rejection.reason,
        ),
    }


def _printable(text: object, limit: int) -> str:
    """Client text made safe to store in the audit table (PostgreSQL refuses NUL)."""
    return str(text)[:limit].replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _audit(ctx: PushContext, change: Change, status: str) -> None:
    ctx.audit_rows.append(dict(
        at=ctx.now,
        device_id=ctx.writer.device_id,
        organisation_id=ctx.writer.organisation_id,
        change_id=_printable(change.change_id, 200),
        collection=_printable(change.collection, 40),
        record_id=_printable(change.record_id, 200),
        op=_printable(change.op, 40),
        status=status[:40],
    ))


# --- records the server makes itself ---------------------------------------------------------

def server_upsert(
    session: Session,
    feed: Feed,
    clock: HybridClock,
    collection: str,
    record_id: str,
    fields: Mapping[str, Any],
    owner_org: str,
) -> Record:
    """Create a record as the server (organisations, the demo region), validated like any change."""
    spec = COLLECTIONS[collection]
    current = session.get(Record, (collection, record_id))
    values = validate_fields(spec, fields, creating=current is None)
    stamp = clock.now()
    held = current.fields if current is not None else {}
    base = {name: held[name]["clock"] if name in held else None for name in values}
    result = apply_upsert(state_of(current), values, stamp, base)
    seq = feed.allocate()
    existed = current is not None
    if current is None:
        current = Record(collection=collection, record_id=record_id, owner_org=owner_org, visibility="regional")
        session.add(current)
    current.fields = _fields_json(result.state)
    current.deleted = False
    current.seq = seq

    def load(parent_collection: str, parent_id: str) -> Record | None:
        return session.get(Record, (parent_collection, parent_id))

    if place(current, load) and existed:
        spread_readers(session, feed, load, current)
    if not existed and collection == journal.COLLECTION:
        session.flush()  # heads made earlier in this transaction are found by the lookup
        link_journal_entry(session, {}, current)
    at = now_ms()
    change_id = str(uuid.uuid4())
    session.add(
        ChangeLog(change_id=change_id, status="applied", seq=seq, collection=collection,
                  record_id=record_id, device_id=None, at=at)
    )
    session.add(
        Audit(at=at, device_id=None, organisation_id=owner_org, change_id=change_id,
              collection=collection, record_id=record_id, op="upsert", status="applied")
    )
    session.flush()
    return current


# --- pull, digest, compaction ----------------------------------------------------------------

@dataclass(frozen=True)
class PulledPage:
    """One page of a pull: ``records`` is the JSON array text, ready to be sent as it is."""

    records: str
    count: int
    cursor: str
    has_more: bool

    def body(self, server_time: str) -> bytes:
        """The whole answer (PullResponse), as UTF-8 JSON bytes."""
        return (
            f'{{"records":{self.records},"cursor":{_json_str(self.cursor)},'
            f'"has_more":{"true" if self.has_more else "false"},'
            f'"server_time":{_json_str(server_time)}}}'
        ).encode("utf-8")


def _pull_query(cursor: int, limit: int):
    # The columns a pull sends, with ``fields`` as the JSON text stored (CAST: on PostgreSQL the
    # driver would otherwise decode the json column).
    return (
        select(
            Record.collection, Record.record_id, Record.owner_org, Record.visibility,
            Record.deleted, cast(Record.fields, Text), Record.seq, Record.visible_to, Record.journal,
        )
        .where(Record.seq > cursor)
        .order_by(Record.seq)
        .limit(limit + 1)
    )


def pull(session: Session, organisation_id: str, cursor: Cursor | int, limit: int) -> PulledPage:
    """Records with seq above ``cursor``, in seq order, as one device may see them.

    Built as JSON text without decoding the stored ``fields``: the records table holds them as
    JSON text (written through the JSON column type, see db.json_text), spliced in as it is.
    A record the device's organisation may not read (``visible_to``: another organisation's
    internal record, or a child of one), and every tombstone, is sent with ``"fields": {}`` and
    ``"deleted": true`` (see ``record_out``, the same rule on a loaded row). A log entry also
    carries its link in the journal's hash chain (``journal``, sync.journal), hidden or not.
    """
    if isinstance(cursor, int):
        cursor = Cursor(cursor)
    position = cursor.position
    # On the connection: plain rows, without the ORM's result machinery.
    rows = session.connection().execute(_pull_query(position, limit)).all()
    # Read after the records: a compaction that committed meanwhile is then always noticed.
    last, watermark = session.execute(
        select(Position.last, Position.watermark).where(Position.id == 1)
    ).one()
    if position > last:
        raise ProblemError(
            "resync-required",
            "this cursor is newer than anything this server holds (restored from a backup?); "
            "pull everything again from no cursor, keeping unsent changes",
        )
    # Below the watermark, tombstones the holder may never have received were compacted —
    # unless the cursor was handed out under this very watermark: then it comes from a full
    # pull made after the compaction, whose holder never had those records.
    if 0 < position < watermark and cursor.watermark != watermark:
        raise ProblemError(
            "resync-required",
            "this cursor is older than the deleted records the server has compacted; "
            "pull everything again from no cursor, keeping unsent changes",
        )
    has_more = len(rows) > limit
    if has_more:
        del rows[limit:]
    enc = _json_str
    parts = []
    append = parts.append
    for collection, record_id, owner_org, visibility, deleted, fields, seq, visible_to, chain in rows:
        if visibility not in _VISIBILITIES:  # never stored by this server; refuse to send it
            raise ValueError(f"record {collection}/{record_id} has visibility {visibility!r}")
        hidden = deleted or (visible_to is not None and visible_to != organisation_id)
        append(
            f'{{"collection":{enc(collection)},"record_id":{enc(record_id)},'
            f'"owner_org":{enc(owner_org)},"visibility":"{visibility}",'
            f'"deleted":{"true" if hidden else "false"},'
            f'"fields":{"{}" if hidden else (fields or "{}")},"seq":{int(seq)}'
            + (f',"journal":{chain}}}' if chain is not None else "}")
        )
    next_position = int(rows[-1][6]) if rows else position
    return PulledPage(
        records="[" + ",".join(parts) + "]",
        count=len(rows),
        cursor=encode_cursor(next_position, int(watermark)),
        has_more=has_more,
    )


def digest(session: Session, leave_out_compacted_for: str | None = None) -> dict[str, Any]:
    """Per collection: count and SHA-256 over sorted "<record_id>:<seq>\\n" of a full pull.

    A full pull returns every record to every device (another organisation's internal records
    as tombstones, with the same seq), so the digest is the same for every device.

    ``leave_out_compacted_for`` (an organisation id; a client that asked for it): the digest
    leaves out every record a full pull gives that organisation as a tombstone at or below the
    compaction watermark, and names the watermark (``compacted_through``). A device past the
    watermark may still hold tombstones the server has compacted away; both sides leave those
    positions out, so a compaction does not make every device download everything again.
    """
    through: int | None = None
    # On the connection: plain rows, without the ORM's result machinery (100k rows and more).
    rows = session.connection().execute(
        select(Record.collection, Record.record_id, Record.seq, Record.deleted, Record.visible_to)
    ).all()
    # Read after the records (as pull does): a compaction that committed meanwhile is noticed,
    # and what it removed is at or below the watermark read here.
    last, watermark = session.execute(
        select(Position.last, Position.watermark).where(Position.id == 1)
    ).one()
    if leave_out_compacted_for is not None:
        through = int(watermark)
    lines: dict[str, list[str]] = {name: [] for name in COLLECTION_NAMES}
    for collection, record_id, seq, deleted, visible_to in rows:
        if through is not None and seq <= through and (
            deleted or (visible_to is not None and visible_to != leave_out_compacted_for)
        ):
            continue
        lines.setdefault(collection, []).append(f"{record_id}:{seq}\n")
    out = {}
    for name, entries in lines.items():
        entries.sort()
        out[name] = {
            "count": len(entries),
            "hash": hashlib.sha256("".join(entries).encode()).hexdigest(),
        }
    answer: dict[str, Any] = {"collections": out, "cursor": encode_cursor(last, watermark)}
    if through is not None:
        answer["compacted_through"] = through
    return answer


def compact(session: Session, older_than_ms: int) -> tuple[int, int]:
    """Drop tombstones deleted before ``older_than_ms``; returns (removed, new watermark)."""
    feed = Feed(session)
    rows = session.execute(
        select(Record.collection, Record.record_id, Record.seq).where(
            Record.deleted.is_(True), Record.deleted_at < older_than_ms
        )
    ).all()
    watermark = feed.watermark
    if rows:
        watermark = max(watermark, max(r.seq for r in rows))
        for r in rows:
            session.execute(
                delete(Record).where(Record.collection == r.collection, Record.record_id == r.record_id)
            )
        session.execute(update(Position).where(Position.id == 1).values(watermark=watermark))
    return len(rows), watermark
