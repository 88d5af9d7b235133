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
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from json.encoder import encode_basestring as _json_str  # the C encoder of a JSON string

from sqlalchemy import Text, and_, cast, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from sync.clock import HybridClock, is_valid_hlc, wall_ms_of
from sync.merge import Conflict, FieldState, RecordState, apply_delete, apply_upsert
from sync.records import (
    COLLECTION_NAMES,
    COLLECTIONS,
    Collection,
    InvalidChange,
    WriteRule,
    get_collection,
    normalise_uuid,
    validate_fields,
)
from sync.server.models import Audit, ChangeLog, Position, Record, ServerMeta
from sync.server.problems import ProblemError, problem
from sync.server.timeutil import now_ms
from sync.wire import Change

CURSOR_PREFIX = "v1:"
CONFLICT_RESOLVABLE = frozenset({"resolved", "resolution_note", "visibility"})
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


def _visibility(state: RecordState) -> str:
    held = state.fields.get("visibility")
    return held.value if held is not None and held.value else "regional"


def record_out(row: Record, organisation_id: str) -> dict[str, Any]:
    """A record as one device may see it: another organisation's internal record is a tombstone.

    The rule as a dict; ``pull`` applies the same rule while building its answer as text
    (tests/server/test_server_fast_paths.py holds the two to each other).
    """
    hidden = row.visibility == "internal" and row.owner_org != organisation_id
    return {
        "collection": row.collection,
        "record_id": row.record_id,
        "owner_org": row.owner_org,
        "visibility": row.visibility,
        "deleted": bool(row.deleted or hidden),
        "fields": {} if (row.deleted or hidden) else row.fields,
        "seq": row.seq,
    }


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


class Rejected(Exception):
    def __init__(self, token: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.token, self.detail, self.field = token, detail, field


def _forbid(detail: str, field: str | None = None) -> Rejected:
    return Rejected("forbidden", detail, field)


@dataclass(frozen=True)
class Applied:
    """The first outcome of a change id (what a resend of it answers as ``duplicate``)."""

    status: str
    seq: int


@dataclass
class PushContext:
    session: Session
    writer: Writer
    feed: Feed
    clock: HybridClock
    now: int
    skew_ms: int
    _forum_orgs: dict[str, frozenset[str]] = field(default_factory=dict)
    # Records read or made in this push (made ones are flushed only at the end).
    _records: dict[tuple[str, str], Record | None] = field(default_factory=dict)
    # Change ids already applied: looked up once for the whole push, then kept up to date.
    applied: dict[str, Applied] = field(default_factory=dict)
    # Rows of the changes and audit tables, inserted in one go at the end of the push.
    change_rows: list[dict[str, Any]] = field(default_factory=list)
    audit_rows: list[dict[str, Any]] = field(default_factory=list)

    # reading records -------------------------------------------------------------------------
    def load(self, collection: str, record_id: str | None) -> Record | None:
        if record_id is None:
            return None
        key = (collection, record_id)
        if key not in self._records:
            self._records[key] = self.session.get(Record, key)
        return self._records[key]

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
        return (
            row is not None
            and not row.deleted
            and (row.visibility != "internal" or row.owner_org == self.writer.organisation_id)
        )

    def forum_organisations(self, forum_id: str) -> frozenset[str]:
        """Organisations with a function holding a mandate in the forum (plus its convenor's)."""
        if forum_id not in self._forum_orgs:
            self.session.flush()  # mandates made earlier in this push count
            function_ids: set[str] = set()
            for mandate in self.session.scalars(
                select(Record).where(Record.collection == "mandates", Record.deleted.is_(False))
            ):
                if value_of(mandate, "forum_id") == forum_id and value_of(mandate, "function_id"):
                    function_ids.add(value_of(mandate, "function_id"))
            convenor = value_of(self.load("forums", forum_id), "convenor_function_id")
            if convenor:
                function_ids.add(convenor)
            orgs = set()
            for function_id in function_ids:
                function = self.load("functions", function_id)
                if function is not None and not function.deleted:
                    orgs.add(function.owner_org)
            self._forum_orgs[forum_id] = frozenset(orgs)
        return self._forum_orgs[forum_id]


# --- the rules of ownership (SYNC.md rule 6, "Ownership through references") -----------------

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


def _may_write_routine(ctx: PushContext, routine: Record) -> bool:
    if value_of(routine, "forum_id"):
        return ctx.writer.regional_admin
    return routine.owner_org == ctx.writer.organisation_id


def _may_write_parent(ctx: PushContext, parent_collection: str, parent: Record) -> bool:
    if parent_collection == "routines":
        return _may_write_routine(ctx, parent)
    return parent.owner_org == ctx.writer.organisation_id


def _authorise(
    ctx: PushContext,
    collection: Collection,
    op: str,
    current: Record | None,
    fields: Mapping[str, Any],
) -> None:
    writer = ctx.writer
    org = writer.organisation_id
    rule = collection.write_rule
    exists = current is not None
    if exists and current.visibility == "internal" and current.owner_org != org:
        raise _forbid(f"this {collection.name} record is internal to another organisation")

    if rule is WriteRule.OWN_ORGANISATION:
        if not exists:
            raise _forbid("organisations are created by the server administrator")
        if op == "delete":
            raise _forbid("organisations are removed by the server administrator")
        if current.record_id != org:
            raise _forbid("only the organisation itself may change its record")
        return

    if rule is WriteRule.OWNER and collection.owner_ref is None:  # functions
        if exists and current.owner_org != org:
            raise _forbid(f"this {collection.name} record belongs to another organisation")
        if op == "upsert" and "organisation_id" in fields and fields["organisation_id"] != org:
            raise _forbid("a function's organisation_id must be your own organisation", "organisation_id")
        return

    if rule is WriteRule.OWNER:  # channels, routine steps: the owner of the parent decides
        ref_name = collection.owner_ref
        parent_collection = collection.fields[ref_name].ref
        if exists:
            parent = ctx.load(parent_collection, value_of(current, ref_name))
            if parent is not None and not parent.deleted:
                if not _may_write_parent(ctx, parent_collection, parent):
                    raise _forbid(
                        f"the {parent_collection} record of this {collection.name} record "
                        "belongs to another organisation",
                        ref_name,
                    )
            elif current.owner_org != org:
                raise _forbid(f"this {collection.name} record belongs to another organisation")
        if op == "upsert" and fields.get(ref_name) is not None:
            parent = ctx.load(parent_collection, fields[ref_name])
            if parent is None or not _may_write_parent(ctx, parent_collection, parent):
                raise _forbid(
                    f"{ref_name} must name a {parent_collection} record your organisation may write",
                    ref_name,
                )
        return

    if rule is WriteRule.REGIONAL_ADMIN:
        if not writer.regional_admin:
            raise _forbid(f"{collection.name} are written by the regional administrator")
        return

    if rule is WriteRule.ROUTINE:
        current_forum = value_of(current, "forum_id")
        new_forum = fields["forum_id"] if "forum_id" in fields else current_forum
        if (current_forum or (op == "upsert" and new_forum)) and not writer.regional_admin:
            raise _forbid("forum routines are written by the regional administrator", "forum_id")
        if exists and not current_forum and current.owner_org != org:
            raise _forbid("this routine belongs to another organisation")
        if op == "upsert" and not new_forum:
            owner_org = fields.get("organisation_id", value_of(current, "organisation_id"))
            if "organisation_id" in fields and owner_org is not None and owner_org != org:
                raise _forbid("a routine's organisation_id must be your own organisation", "organisation_id")
        return

    if rule is WriteRule.ACTIVATION:
        if writer.regional_admin:
            return
        forum_ids = []
        if exists:
            forum_ids.append(value_of(current, "forum_id"))
        if op == "upsert" and "forum_id" in fields:
            forum_ids.append(fields["forum_id"])
        for forum_id in forum_ids:
            convenor = value_of(ctx.load("forums", forum_id), "convenor_function_id")
            function = ctx.load("functions", convenor)
            if function is None or function.deleted or function.owner_org != org:
                raise _forbid(
                    "activations are written by the regional administrator "
                    "or the organisation of the forum's convenor",
                    "forum_id",
                )
        return

    if rule is WriteRule.FORUM_MEMBER:  # append-only: only creation reaches here
        if writer.regional_admin:
            return
        activation = ctx.load("activations", fields.get("activation_id"))
        forum_id = value_of(activation, "forum_id")
        if not forum_id or org not in ctx.forum_organisations(forum_id):
            raise _forbid(
                f"{collection.name} of this activation are written by organisations "
                "with a function holding a mandate in its forum",
                "activation_id",
            )
        return

    if rule is WriteRule.SERVER:  # conflicts
        if not exists:
            raise _forbid("conflict records are made by the server")
        if op == "delete":
            raise _forbid("conflict records are resolved (resolved: true), not deleted")
        if current.owner_org != org:
            raise _forbid("only the owner of the record in conflict may resolve it")
        for name in fields:
            if name not in CONFLICT_RESOLVABLE:
                raise _forbid(f"{name} of a conflict record is set by the server", name)
        return

    raise AssertionError(f"unhandled write rule {rule}")


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
    base = _base_of(change)
    current = ctx.load(collection.name, record_id)

    if change.op == "delete":
        if collection.append_only:
            raise _forbid(f"{collection.name} is append-only: entries are never deleted")
        if current is None:
            raise Rejected("not-found", f"there is no {collection.name} record {record_id} to delete", "record_id")
        _authorise(ctx, collection, "delete", current, {})
        result = apply_delete(state_of(current), change.clock, base)
        fields: dict[str, Any] = {}
    else:
        if collection.append_only and current is not None:
            raise _forbid(f"{collection.name} is append-only: an entry cannot be changed; add a new one")
        if collection.write_rule is WriteRule.SERVER and current is None:
            raise _forbid("conflict records are made by the server")
        try:
            fields = validate_fields(collection, change.fields, creating=current is None)
        except InvalidChange as exc:
            raise Rejected(exc.problem, exc.detail, exc.field) from None
        _check_references(ctx, collection, fields)
        _authorise(ctx, collection, "upsert", current, fields)
        result = apply_upsert(state_of(current), fields, change.clock, base)

    seq = ctx.feed.allocate()
    state = result.state
    if current is None:
        current = Record(
            collection=collection.name,
            record_id=record_id,
            owner_org=ctx.writer.organisation_id,
        )
        ctx.session.add(current)
        ctx.remember(current)
    was_deleted = bool(current.deleted)
    current.fields = _fields_json(state)
    current.deleted = state.deleted
    current.deleted_clock = state.deleted_clock
    if state.deleted and not was_deleted:
        current.deleted_at = ctx.now
    current.visibility = _visibility(state) if not state.deleted else (current.visibility or "regional")
    current.seq = seq
    ctx.clock.receive(change.clock)
    for conflict in result.conflicts:
        _make_conflict_record(ctx, current, conflict)
    if collection.name in ("mandates", "functions", "forums"):
        ctx._forum_orgs.clear()
    return ("conflict" if result.conflicts else "applied"), seq, list(result.conflicts)


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
        "visibility": record.visibility,
    }
    row = Record(
        collection="conflicts",
        record_id=str(uuid.uuid4()),
        owner_org=record.owner_org,
        visibility=record.visibility,
        deleted=False,
        fields={name: {"value": value, "clock": clock} for name, value in values.items()},
        seq=ctx.feed.allocate(),
    )
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
            rejection.token, rejection.detail, change_id=change.change_id, field=rejection.field
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
    if current is None:
        current = Record(collection=collection, record_id=record_id, owner_org=owner_org)
        session.add(current)
    current.fields = _fields_json(result.state)
    current.deleted = False
    current.visibility = _visibility(result.state)
    current.seq = seq
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
            Record.deleted, cast(Record.fields, Text), Record.seq,
        )
        .where(Record.seq > cursor)
        .order_by(Record.seq)
        .limit(limit + 1)
    )


def pull(session: Session, organisation_id: str, cursor: Cursor | int, limit: int) -> PulledPage:
    """Records with seq above ``cursor``, in seq order, as one device may see them.

    Built as JSON text without decoding the stored ``fields``: the records table holds them as
    JSON text (written through the JSON column type, see db.json_text), spliced in as it is.
    Another organisation's internal record, and every tombstone, is sent with ``"fields": {}``
    and ``"deleted": true`` (see ``record_out``, the same rule on a loaded row).
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
    for collection, record_id, owner_org, visibility, deleted, fields, seq in rows:
        if visibility not in _VISIBILITIES:  # never stored by this server; refuse to send it
            raise ValueError(f"record {collection}/{record_id} has visibility {visibility!r}")
        hidden = deleted or (visibility == "internal" and owner_org != organisation_id)
        append(
            f'{{"collection":{enc(collection)},"record_id":{enc(record_id)},'
            f'"owner_org":{enc(owner_org)},"visibility":"{visibility}",'
            f'"deleted":{"true" if hidden else "false"},'
            f'"fields":{"{}" if hidden else (fields or "{}")},"seq":{int(seq)}}}'
        )
    next_position = int(rows[-1][6]) if rows else position
    return PulledPage(
        records="[" + ",".join(parts) + "]",
        count=len(rows),
        cursor=encode_cursor(next_position, int(watermark)),
        has_more=has_more,
    )


def digest(session: Session) -> dict[str, Any]:
    """Per collection: count and SHA-256 over sorted "<record_id>:<seq>\\n" of a full pull.

    A full pull returns every record to every device (another organisation's internal records
    as tombstones, with the same seq), so the digest is the same for every device.
    """
    lines: dict[str, list[str]] = {name: [] for name in COLLECTION_NAMES}
    for collection, record_id, seq in session.execute(
        select(Record.collection, Record.record_id, Record.seq)
    ):
        lines.setdefault(collection, []).append(f"{record_id}:{seq}\n")
    last, watermark = session.execute(
        select(Position.last, Position.watermark).where(Position.id == 1)
    ).one()
    out = {}
    for name, entries in lines.items():
        entries.sort()
        out[name] = {
            "count": len(entries),
            "hash": hashlib.sha256("".join(entries).encode()).hexdigest(),
        }
    return {"collections": out, "cursor": encode_cursor(last, watermark)}


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
