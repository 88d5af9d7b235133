"""The Store: the encrypted local database's one entry point — records, outbox, pulled pages, meta, search.

Threading: every public method may be called from any thread (the window calls them from a
QThreadPool). One re-entrant lock serialises all access to the single SQLCipher connection
(see connection.py for why one connection); each call is one short transaction. Change
callbacks run after the commit, outside the lock.

Every edit writes its row and its outbox entry (SYNC.md's Change: fields set, new clock, base
clocks) in one transaction, together with the search documents it affects and the clock it
used, so clocks never go backwards across restarts.
"""

from __future__ import annotations

import builtins
import functools
import logging
import os
import re
import sys
import threading
import uuid
from collections.abc import Mapping as MappingABC
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import sqlcipher3.dbapi2 as sqlcipher

from desktop.store import meta
from desktop.store import search as search_mod
from desktop.store.connection import (
    SingleConnection,
    damage_error,
    is_damage,
    raw_connect,
    rekey_connection,
)
from desktop.store import search_index as index_mod
from desktop.store.filters import order_clause, where_clause
from desktop.store.errors import (
    AppendOnly,
    DatabaseCorrupt,
    InvalidInput,
    NotFound,
    RecordDeleted,
    StoreClosed,
    StoreError,
)
from desktop.i18n import language
from desktop.store.migrations import head_revision, make_config
from desktop.store.notify import OUTBOX, Callback, ChangeSet, Subscribers
from desktop.store.outbox import COLUMNS as OUTBOX_COLUMNS
from desktop.store.outbox import INSERT_SQL as OUTBOX_INSERT
from desktop.store.outbox import PENDING, REJECTED, OutboxEntry, Replayed, dumps, loads, replay
from desktop.store.quarantine import INSERT_SQL as QUARANTINE_INSERT
from desktop.store.quarantine import SELECT_SQL as QUARANTINE_SELECT
from desktop.store.quarantine import Quarantined, check_pulled
from desktop.store.quarantine import from_row as quarantined_from_row
from desktop.store.quarantine import latest_seqs as quarantined_seqs
from desktop.store.quarantine import row_for as quarantine_row
from desktop.store.phones import normalise_phone
from desktop.store.schema import column_name
from desktop.store.search import SearchHit
from desktop.store.search_words import Abbreviations, Vocabulary, load_abbreviations
from sync.clock import (
    MAX_SKEW_MS,
    MAX_WALL_MS,
    ClockError,
    Hlc,
    HybridClock,
    ceiling,
    format_time,
    is_valid_hlc,
    parse_time,
    with_node,
)
from sync.journal import COLLECTION as JOURNAL_COLLECTION
from sync.journal import Link as JournalLink
from sync.merge import incoming_wins
from sync.records import (
    APPEND_ONLY,
    COLLECTIONS,
    PHONE_CHANNEL_KINDS,
    Collection,
    FieldType,
    InvalidChange,
    validate_fields,
)

log = logging.getLogger(__name__)

# Meta keys (declared with their types in desktop/store/meta.py)
META_NODE_ID = meta.NODE_ID
META_HLC_LAST = meta.HLC_LAST
META_CURSOR = meta.SYNC_CURSOR
META_SERVER_OFFSET = meta.SERVER_OFFSET_MS
META_DEMO = meta.DEMO
META_CREATED_AT = meta.CREATED_AT
META_SEARCH_VERSION = meta.SEARCH_INDEX_VERSION
META_SEARCH_PENDING = "search_index_pending"  # documents wait for an index pass (see _finish)
META_OWN_ORGANISATION = "sync.organisation_id"  # written at enrolment (desktop/syncer/enroll.py)
# The organisation a vault that is not enrolled (a demo) ranks first: a setting the CLI reads
# (and the window will write); an organisation's name, short name or record id.
META_SEARCH_OWN_ORG = "search.own_organisation"

# A transaction that writes at least this many searchable records (a pulled page, a bulk
# import) leaves their documents to one index pass after the last such transaction: the next
# write that is not one, a search, or update_search_index(). Indexing page by page rewrote a
# function's document as each page brought its channels and merged the index every page.
DEFER_INDEX_RECORDS = 1000
# A pass over at least this share of the index rebuilds it whole (every table read once, in
# rowid order) instead of document by document.
FULL_REBUILD_FRACTION = 1 / 3
# reclaim_space gives unused pages back to the disk when there are at least this many bytes of
# them and they are at least this share of the file (moving pages costs about a second per 50
# MB; a few free pages are what the next writes reuse anyway).
RECLAIM_MIN_BYTES = 8 * 1024 * 1024
RECLAIM_MIN_FRACTION = 0.2

_ORDER_BY = ("position", "name", "title", "at", "started_at")  # first that exists
_SEARCH_IN_WIDEN = 5  # search_in asks search for this many times the hits it keeps …
_SEARCH_IN_MIN = 100  # … and at least this many
_CHUNK = 500
_PULL_CHUNK = 900  # ids per IN (...) list on the pull path (under SQLite's historic 999 limit)
# str(uuid.UUID(x)) for any x already in this form is x itself: pulled ids (the server sends
# canonical ones) skip the parse.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_ROW_SYSTEM = "owner_org, deleted, clocks, deleted_clock, server_seq"
# A stored clock further ahead of a plausible wall time than this is repaired at opening (an
# older version could adopt a far-future clock from a pull); nearer ones are set back at the
# next server answer instead (observe_server_time), when the real time is known.
CLOCK_REPAIR_LEAD_MS = 24 * 3600 * 1000


def _now_ms_iso() -> str:
    now = datetime.now(timezone.utc)
    return format_time(int(now.timestamp() * 1000))


def _uuid4_strings(count: int) -> builtins.list[str]:
    """``[str(uuid.uuid4()) for _ in range(count)]`` from one read of the OS's random source
    (random version-4 UUIDs in canonical form; about 4x faster for a bulk write's ids)."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes((b & 0x0F) | 0x40 for b in raw[6::16])  # version 4
    raw[8::16] = bytes((b & 0x3F) | 0x80 for b in raw[8::16])  # RFC 4122 variant
    h = raw.hex()
    return [
        f"{h[i:i + 8]}-{h[i + 8:i + 12]}-{h[i + 12:i + 16]}-{h[i + 16:i + 20]}-{h[i + 20:i + 32]}"
        for i in range(0, 32 * count, 32)
    ]


def _clocks_json(fields: Mapping[str, Any], clock: str) -> str:
    """``dumps({name: clock for name in fields})`` for a clock this device made and schema field
    names: neither needs escaping in JSON, so the text is joined directly."""
    if not fields:
        return "{}"
    return '{"' + f'":"{clock}","'.join(fields) + f'":"{clock}"}}'


DISCARD_RESTORED = "restored"  # outbox_discard: the record holds the server's state again
DISCARD_REMOVED = "removed"  # the server never had the record: it is gone here too
DISCARD_NEEDS_PULL = "needs_pull"  # no server state kept: a full download restores it


@dataclass(frozen=True)
class ContentCheck:
    """What Store.check_content found (see there)."""

    restored: builtins.list[tuple[str, str]]
    unknown: int


@functools.lru_cache(maxsize=4096)
def _null_base_json(names: tuple[str, ...]) -> str:
    """``dumps({name: None for name in names})``: the base of a change that creates a record."""
    return dumps(dict.fromkeys(names))


@dataclass(frozen=True)
class _Table:
    """SQL and per-field facts of one collection's table, computed once (hot paths use them)."""

    names: tuple[str, ...]  # field names in column order
    columns: str  # their quoted columns, comma-separated
    json_fields: frozenset[str]  # FieldType.ANY: stored as JSON text
    bool_fields: frozenset[str]
    index: dict[str, int]  # field name -> position in ``names``
    insert_pulled: str  # (record_id, owner_org, deleted, clocks, deleted_clock, server_seq, fields...)
    select_in: str  # record_id, system columns, fields ... WHERE record_id IN ({marks})


@functools.lru_cache(maxsize=None)
def _table(collection: str) -> _Table:
    coll = COLLECTIONS[collection]
    names = tuple(coll.fields)
    columns = ", ".join(f'"{column_name(n)}"' for n in names)
    marks = ", ".join("?" * (len(names) + 6))
    return _Table(
        names=names,
        columns=columns,
        json_fields=frozenset(n for n in names if coll.fields[n].type is FieldType.ANY),
        bool_fields=frozenset(n for n in names if coll.fields[n].type is FieldType.BOOL),
        index={n: i for i, n in enumerate(names)},
        insert_pulled=(
            f'INSERT INTO "{collection}" (record_id, owner_org, deleted, clocks, deleted_clock, '
            f"server_seq, {columns}) VALUES ({marks})"
        ),
        select_in=(
            f'SELECT record_id, {_ROW_SYSTEM}, {columns} FROM "{collection}" '
            "WHERE record_id IN ({marks})"
        ),
    )


def _revisions(db) -> set[str]:
    """The revisions the file says it is at (none for a new file)."""
    try:
        return {row[0] for row in db.execute("SELECT version_num FROM alembic_version")}
    except sqlcipher.OperationalError:  # no such table: nothing migrated yet
        return set()


def _is_database_error(exc: BaseException) -> bool:
    """A driver error, from sqlcipher3 or (during a migration) wrapped by SQLAlchemy."""
    if isinstance(exc, sqlcipher.DatabaseError):
        return True
    wrapped = sys.modules.get("sqlalchemy.exc")
    return wrapped is not None and isinstance(exc, wrapped.DatabaseError)


def _is_mapping(value: Any) -> bool:
    return type(value) is dict or isinstance(value, MappingABC)


@dataclass
class _Tx:
    """One write transaction in progress: the driver connection and what it touched."""

    db: Any  # the sqlcipher3 connection
    source: str
    changed: dict[str, set[str]] = field(default_factory=dict)  # collection -> record ids
    extra_docs: dict[str, set[str]] = field(default_factory=dict)  # documents to rebuild too
    notify_collections: set[str] = field(default_factory=set)
    rewritten_since_optimize: int | None = None  # set when the transaction touched the index
    pulled: bool = False  # a pulled page (apply_pulled; the index goes by record counts now)
    pulled_records: int = 0  # how many records it held
    deferred: _PendingIndex | None = None  # documents left to the next index pass
    index_pass: bool = False  # the transaction is an index pass (update_search_index)
    starts_index_pass: bool = True  # may run the pending index pass after it commits
    index_texts: list[str] | None = None  # words indexed, for the typo vocabulary

    # rows inserted by this transaction and not changed since (search.Fresh): their search
    # documents are built from these values instead of reading the rows back
    fresh: dict[str, dict[str, Sequence[Any]]] = field(default_factory=dict)

    def touch(self, collection: str, record_id: str) -> None:
        """An existing row changed (its fresh values, if any, are no longer the row)."""
        self.changed.setdefault(collection, set()).add(record_id)
        rows = self.fresh.get(collection)
        if rows:
            rows.pop(record_id, None)

    def inserted(self, collection: str, rows: dict[str, Sequence[Any]]) -> None:
        """New live rows: record_id -> field values in the collection's field order."""
        self.changed.setdefault(collection, set()).update(rows)
        self.fresh.setdefault(collection, {}).update(rows)

    def also_rebuild(self, collection: str, record_id: str | None) -> None:
        if record_id:
            self.extra_docs.setdefault(collection, set()).add(record_id)


@dataclass
class _PendingIndex:
    """Records whose search documents wait for the next index pass."""

    everything: bool = False  # rebuild the whole index (after a crash mid-run, a new version)
    changed: dict[str, set[str]] = field(default_factory=dict)  # collection -> record ids
    extra: dict[str, set[str]] = field(default_factory=dict)  # documents to rebuild too

    def __bool__(self) -> bool:
        return self.everything or any(self.changed.values()) or any(self.extra.values())

    @property
    def records(self) -> int:
        return sum(len(ids) for ids in self.changed.values()) + sum(len(ids) for ids in self.extra.values())

    def add(self, other: _PendingIndex) -> None:
        self.everything = self.everything or other.everything
        for mine, theirs in ((self.changed, other.changed), (self.extra, other.extra)):
            for collection, ids in theirs.items():
                mine.setdefault(collection, set()).update(ids)


@dataclass(frozen=True)
class IndexStatus:
    """Where the search index is: ``ready``; ``pending`` (a sync or bulk import wrote records
    whose documents wait for the index pass: a search runs the pass first); ``indexing`` (the
    pass is running: ``done`` of ``total`` documents)."""

    state: str
    pending: int = 0  # records waiting (the whole index counts as its records)
    done: int = 0
    total: int = 0


class Store:
    """The local database. Make one with ``Store.open(path, key)``; close it with ``close()``."""

    def __init__(self, path: Path, engine, clock_wall: Callable[[], int] | None) -> None:
        self.path = path
        self._engine = engine
        self._lock = threading.RLock()
        self._local = threading.local()
        self._subscribers = Subscribers()
        self._closed = False
        self._clock_wall = clock_wall
        self._clock: HybridClock | None = None
        self._rewritten_since_optimize = 0  # search documents written since the index was merged
        self._key = b""  # the key new connections are made with; rekey() changes it
        self._index_pending = _PendingIndex()
        self._index_status = IndexStatus("ready")
        self._index_subscribers = Subscribers()
        self._vocabulary: Vocabulary | None = None  # the index's words, loaded on first need
        self._abbreviations: Abbreviations | None = None

    # ------------------------------------------------------------------ opening and closing

    @classmethod
    def open(
        cls,
        database_path: Path | str,
        key: bytes,
        *,
        create: bool = True,
        clock_wall: Callable[[], int] | None = None,
    ) -> Store:
        """Open (or, with ``create``, create) the database at ``database_path`` with the vault's
        raw 32-byte key.

        Applies pending migrations in one transaction. Raises WrongKey when the key does not
        open the file, DatabaseCorrupt when the file is not a Samverka database or is damaged,
        DatabaseMissing when it is not there and ``create`` is False; in each case the folder
        is left exactly as it was. ``clock_wall`` (ms since the epoch) replaces the wall clock
        of the HLC, for tests.
        """
        path = Path(database_path).expanduser().resolve()
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        store: Store | None = None
        # Each (re)connect asks the store for its key of the moment: rekey() changes it.
        engine = SingleConnection(path, lambda: store._key, create=create)
        store = cls(path, engine, clock_wall)
        store._key = bytes(key)
        try:
            store._prepare()
        except BaseException:
            engine.dispose()
            raise
        return store

    def _prepare(self) -> None:
        with self._lock:
            conn = self._engine.connect()  # keys and verifies (WrongKey / DatabaseCorrupt)
            try:
                db = conn.connection.driver_connection
                self._refuse_foreign_database(db)
                try:
                    self._migrate(db)
                    conn.info["begin_sql"] = "BEGIN IMMEDIATE"
                    with conn.begin():
                        self._init_meta(db)
                        version = f"{index_mod.SEARCH_DOC_VERSION}/{language()}"
                        if self._meta(db, META_SEARCH_VERSION) != version:
                            # What goes into a document changed: the whole index is rebuilt by
                            # the first search or write (unlocking stays quick).
                            self._put_meta(db, META_SEARCH_VERSION, version)
                            self._put_meta(db, META_SEARCH_PENDING, True)
                        if self._meta(db, META_SEARCH_PENDING):
                            # Documents waited when the store last closed: which ones is not
                            # kept, so the next pass rebuilds them all.
                            self._index_pending = _PendingIndex(everything=True)
                            self._index_status = IndexStatus("pending", self._searchable_count(db))
                except Exception as exc:
                    if _is_database_error(exc) and is_damage(exc):
                        raise damage_error(self.path, exc) from None
                    raise
            finally:
                conn.close()

    def _migrate(self, db) -> None:
        """Bring the file to the newest revision. When it is there already (every unlock but the
        first after an update) this is one query, and neither Alembic nor SQLAlchemy is
        imported; otherwise Alembic runs the due revisions in one transaction of their own,
        on a second connection, before the store's own first transaction."""
        head = head_revision()
        if head is not None and _revisions(db) == {head}:
            return
        from alembic import command

        from desktop.store.connection import create_store_engine

        engine = create_store_engine(self.path, lambda: self._key, create=False)
        try:
            with engine.connect() as conn:
                conn.info["begin_sql"] = "BEGIN IMMEDIATE"
                with conn.begin():
                    command.upgrade(make_config(conn), "head")
        finally:
            engine.dispose()

    def _refuse_foreign_database(self, db) -> None:
        """An encrypted database that opens with this key but is not ours is left alone."""
        try:
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if names and "alembic_version" not in names:
                raise DatabaseCorrupt(
                    "store.foreign_database", path=self.path, reason="no alembic_version table"
                )
            # A file cut short is caught by SQLite itself on the first read above (the header's
            # page count exceeds the file). A full check reads and decrypts every page (~1.5 s
            # at 100k records), so it is not run at every unlock: see check_integrity().
        except sqlcipher.DatabaseError as exc:
            raise DatabaseCorrupt(path=self.path, reason=str(exc)) from None

    def _init_meta(self, db) -> None:
        node = self._meta(db, META_NODE_ID)
        if node is None:
            node = str(uuid.uuid4())
            self._put_meta(db, META_NODE_ID, node)
            self._put_meta(db, META_CREATED_AT, _now_ms_iso())
        offset = self._meta(db, META_SERVER_OFFSET)
        kwargs: dict[str, Any] = {
            "offset_ms": offset if type(offset) is int and abs(offset) <= MAX_WALL_MS else 0,
        }
        if self._clock_wall is not None:
            kwargs["wall"] = self._clock_wall
        clock = HybridClock(node, **kwargs)
        # Read untyped: a value of the wrong type is exactly what must be repaired here.
        stored = self._meta(db, META_HLC_LAST.name)
        last = self._usable_clock(db, clock, stored)
        if last is None and stored is not None:
            # Never the data: only the clock is set again (to the wall time, or just above this
            # device's unsent changes). Logged without the value.
            last = self._repaired_clock(db, clock)
            log.warning("the stored clock was unusable and has been set to the current time")
            self._put_meta(db, META_HLC_LAST, last)
        self._clock = HybridClock(node, last=last, **kwargs)

    def _usable_clock(self, db, clock: HybridClock, stored: Any) -> str | None:
        """The stored clock, or None when it cannot go on: unreadable (e.g. 14 digits from an
        older version), or more than a day ahead of the wall time while that wall time is
        plausible (not before this vault was made: a dead clock battery is not a reason)."""
        if stored is None:
            return None
        try:
            last = Hlc.parse(stored)
            text = str(last)
        except ClockError:
            return None
        physical = clock.physical_ms()
        if last.wall_ms > physical + CLOCK_REPAIR_LEAD_MS:
            created = self._meta(db, META_CREATED_AT)
            try:
                plausible = created is None or physical >= parse_time(created)
            except ValueError:
                plausible = True
            if plausible:
                return None
        return text

    @staticmethod
    def _repaired_clock(db, clock: HybridClock) -> str:
        """The corrected wall time, or this device's greatest acceptable unsent clock if later."""
        bound = ceiling(clock.physical_ms() + MAX_SKEW_MS)
        own = db.execute(
            "SELECT max(clock) FROM outbox WHERE clock <= ? AND substr(clock, 21) = ?",
            (bound, clock.node),
        ).fetchone()[0]
        now = Hlc(max(0, min(clock.physical_ms(), MAX_WALL_MS)), 0, clock.node)
        if own and is_valid_hlc(own) and Hlc.parse(own) > now:
            return own
        return str(now)

    def close(self) -> None:
        """Close the database (checkpoints the WAL). Further calls raise StoreClosed."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _read(self) -> Iterator[Any]:
        with self._lock:
            if self._closed:
                raise StoreClosed()
            tx = getattr(self._local, "tx", None)
            if tx is not None:
                yield tx.db
                return
            conn = self._engine.connect()
            try:
                yield conn.connection.driver_connection
            except sqlcipher.DatabaseError as exc:
                if is_damage(exc):  # a damaged page: said as such, not as a driver error
                    raise damage_error(self.path, exc) from None
                raise
            finally:
                conn.close()

    @contextmanager
    def _write(self, source: str = "local") -> Iterator[_Tx]:
        outer = getattr(self._local, "tx", None)
        if outer is not None:  # inside batch(): one transaction for everything
            yield outer
            return
        changes: ChangeSet | None = None
        with self._lock:
            if self._closed:
                raise StoreClosed()
            conn = self._engine.connect()
            try:
                conn.info["begin_sql"] = "BEGIN IMMEDIATE"
                trans = conn.begin()
                tx = _Tx(conn.connection.driver_connection, source)
                self._local.tx = tx
                clock_before = self._clock.last
                try:
                    yield tx
                    self._finish(tx, clock_before)
                    trans.commit()
                    self._committed(tx)
                except BaseException:
                    trans.rollback()
                    raise
                finally:
                    self._local.tx = None
            finally:
                conn.close()
            record_ids = frozenset(rid for ids in tx.changed.values() for rid in ids)
            collections = frozenset(tx.changed) | frozenset(tx.notify_collections)
            if collections:
                changes = ChangeSet(collections, record_ids, tx.source)  # type: ignore[arg-type]
        if changes is not None:
            self._subscribers.notify(changes)
        if tx.starts_index_pass and tx.deferred is None and not tx.index_pass and self._index_pending:
            self.update_search_index()  # the run of bulk transactions has ended

    def _finish(self, tx: _Tx, clock_before: str) -> None:
        """Before commit: search documents in step (or left to the index pass), and the clock
        persisted with the edit."""
        searched = {c: ids for c, ids in tx.changed.items() if c in index_mod.SEARCHED_COLLECTIONS}
        if searched or tx.extra_docs:
            records = sum(len(ids) for ids in searched.values())
            if records >= DEFER_INDEX_RECORDS and not tx.index_pass:
                tx.deferred = _PendingIndex(
                    changed={c: set(ids) for c, ids in searched.items()},
                    extra={c: set(ids) for c, ids in tx.extra_docs.items()},
                )
                if not self._index_pending:
                    self._put_meta(tx.db, META_SEARCH_PENDING, True)
            else:
                self._index_in_step(tx, searched)
        if self._clock.last != clock_before:
            self._put_meta(tx.db, META_HLC_LAST, self._clock.last)

    def _index_in_step(self, tx: _Tx, searched: Mapping[str, set[str]]) -> None:
        """An edit's documents, rebuilt in its own transaction; the index merged when due."""
        docs = index_mod.dependent_docs(tx.db, searched, tx.fresh)
        for collection, ids in tx.extra_docs.items():
            docs.setdefault(collection, set()).update(ids)
        wanted = sum(len(ids) for ids in docs.values())
        tx.index_texts = [] if self._vocabulary is not None else None
        with index_mod.bulk_indexing(tx.db, wanted >= index_mod.OPTIMIZE_MIN_DOCS):
            now = index_mod.rebuild_docs(tx.db, docs, tx.fresh, tx.index_texts)
        rewritten = self._rewritten_since_optimize + now
        tx.rewritten_since_optimize = rewritten
        if index_mod.optimize_due(tx.db, now, rewritten):
            index_mod.optimize(tx.db)
            tx.rewritten_since_optimize = 0

    def _committed(self, tx: _Tx) -> None:
        """After commit: the store's own view of the index follows what the transaction did."""
        if tx.rewritten_since_optimize is not None:
            self._rewritten_since_optimize = tx.rewritten_since_optimize
        if tx.index_texts and self._vocabulary is not None:
            self._vocabulary.add(tx.index_texts)
        if tx.deferred is not None:
            self._index_pending.add(tx.deferred)
            self._set_index_status(IndexStatus("pending", self._index_pending.records))

    @contextmanager
    def batch(self, source: str = "local") -> Iterator[None]:
        """Group several edits into one transaction and one notification::

            with store.batch():
                fid = store.create("functions", {...})
                store.create("channels", {"function_id": fid, ...})

        Other threads wait until the batch ends; if anything in it fails, nothing is kept.
        """
        with self._write(source):
            yield

    # ------------------------------------------------------------------ meta and clock

    @staticmethod
    def _meta(db, key: meta.MetaKey | str, default: Any = None) -> Any:
        name = key.name if isinstance(key, meta.MetaKey) else key
        row = db.execute("SELECT value FROM meta WHERE key = ?", (name,)).fetchone()
        value = None if row is None or row[0] is None else loads(row[0])
        if isinstance(key, meta.MetaKey):
            return key.read(value, default)
        return default if value is None else value

    @staticmethod
    def _put_meta(db, key: meta.MetaKey | str, value: Any) -> None:
        if isinstance(key, meta.MetaKey):
            key.check(value)
            key = key.name
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, None if value is None else dumps(value)),
        )

    def get_meta(self, key: meta.MetaKey | str, default: Any = None) -> Any:
        """A value from the meta table, or ``default``: of the declared type for a MetaKey
        (desktop/store/meta.py), any JSON value for a plain string key."""
        with self._read() as db:
            return self._meta(db, key, default)

    def set_meta(self, key: meta.MetaKey | str, value: Any) -> None:
        """Store a JSON-serialisable value under ``key`` (None clears it); a MetaKey refuses a
        value of another type (TypeError)."""
        with self._write() as tx:
            self._put_meta(tx.db, key, value)

    @property
    def node_id(self) -> str:
        return self._clock.node

    @property
    def clock(self) -> HybridClock:
        """The HLC (read-only use: ``clock.last``); edits and pulls advance it through the store."""
        return self._clock

    def set_node_id(self, device_id: str) -> None:
        """After enrolment: make clocks with the device id, never going back from the last clock.

        Unsent and rejected changes made under the old node id (before enrolment, or as a
        device that was revoked) are re-stamped to the new one, as the server wants every
        clock of a change to name its sender; a change rejected for its clock is sent again.
        """
        with self._write() as tx:
            last = Hlc.parse(self._clock.last)
            clock = HybridClock(
                device_id,
                wall=self._clock._wall,
                offset_ms=self._clock.offset_ms,
                last=str(Hlc(last.wall_ms, last.counter, device_id)),
            )
            self._clock = clock
            self._put_meta(tx.db, META_NODE_ID, device_id)
            self._put_meta(tx.db, META_HLC_LAST, clock.last)
            self._restamp(tx, self._foreign_node_entries(tx.db), fresh=False, resend=False)

    def observe_server_time(self, server_time: str, *, round_trip_ms: int = 0) -> None:
        """Follow a response's ``server_time``: the offset to the server's clock (kept when it
        moved by more than 250 ms) and the HLC receive rule.

        A clock that has run more than the allowed skew ahead of the server's time (a far-future
        clock adopted by an older version) is set back to it: every clock made from it would be
        refused. A ``server_time`` that cannot be a time is ignored.
        """
        try:
            server_ms = parse_time(server_time) + round_trip_ms // 2
        except (TypeError, ValueError, OverflowError):
            return
        if not 0 <= server_ms <= MAX_WALL_MS - MAX_SKEW_MS:
            log.warning("the server's time is out of range; ignored")
            return
        clock = self._clock
        offset = server_ms - (clock.physical_ms() - clock.offset_ms)
        if abs(offset - clock.offset_ms) <= 250 and clock.lead_ms() <= MAX_SKEW_MS:
            clock.receive(str(Hlc(server_ms, 0, clock.node)))  # kept with the next write
            return
        with self._write(source="sync") as tx:
            tx.starts_index_pass = False  # clock bookkeeping in the middle of a run of pages
            clock.observe_server_time(server_time, round_trip_ms=round_trip_ms)
            self._put_meta(tx.db, META_SERVER_OFFSET, clock.offset_ms)
            if clock.lead_ms() > MAX_SKEW_MS:
                clock.rewind()
                log.warning("the local clock ran ahead of the server's time and was set back")

    # ------------------------------------------------------------------ validation helpers

    @staticmethod
    def _collection(name: Any) -> Collection:
        if not isinstance(name, str) or name not in COLLECTIONS:
            raise InvalidInput("invalid.unknown_collection", field="collection", value=str(name)[:80])
        return COLLECTIONS[name]

    @staticmethod
    def _invalid(coll: Collection, exc: InvalidChange, fields: Mapping[str, Any]) -> InvalidInput:
        """The store's InvalidInput (Swedish message naming the field) for a schema error."""
        name = exc.field or "fields"
        spec = coll.fields.get(name)
        value = fields.get(name) if isinstance(fields, Mapping) else None
        common = {"field": name, "collection": coll.name, "detail": exc.detail}
        if name == "fields" and spec is None:
            return InvalidInput("invalid.fields", **common)
        if spec is None:
            return InvalidInput("invalid.unknown_field", **common)
        if value is None or (spec.required and isinstance(value, str) and not value.strip()):
            return InvalidInput("invalid.required", **common)
        kind = spec.type
        if kind in (FieldType.NAME, FieldType.TEXT, FieldType.POSITION):
            if not isinstance(value, str):
                return InvalidInput("invalid.text", **common)
            if spec.max_length is not None and len(value) > spec.max_length:
                return InvalidInput(
                    "invalid.too_long", length=len(value), max=spec.max_length, **common
                )
            return InvalidInput("invalid.position", **common)
        simple = {
            FieldType.INT: "invalid.int",
            FieldType.BOOL: "invalid.bool",
            FieldType.REF: "invalid.uuid",
            FieldType.UUID: "invalid.uuid",
            FieldType.DATE: "invalid.date",
            FieldType.TIME: "invalid.time",
        }
        if kind is FieldType.ENUM:
            return InvalidInput(
                "invalid.choice", value=str(value)[:80], choices=", ".join(spec.choices), **common
            )
        return InvalidInput(simple.get(kind, "invalid.value"), **common)

    def _validate(self, coll: Collection, fields: Any, *, creating: bool) -> dict[str, Any]:
        try:
            return validate_fields(coll, fields, creating=creating)
        except InvalidChange as exc:
            raise self._invalid(coll, exc, fields) from None

    @staticmethod
    def _normalise_channel(fields: dict[str, Any], current: Mapping[str, Any] | None) -> None:
        """Phone-type channels hold E.164; the value is checked whenever kind or value changes."""
        if "kind" not in fields and "value" not in fields:
            return
        kind = fields.get("kind", current.get("kind") if current else None)
        value = fields.get("value", current.get("value") if current else None)
        if kind not in PHONE_CHANNEL_KINDS or value is None:
            return
        e164 = normalise_phone(value)
        if e164 is None:
            raise InvalidInput(
                "invalid.phone", field="value", collection="channels", value=str(value)[:80]
            )
        if current is None or "value" in fields or e164 != current.get("value"):
            fields["value"] = e164

    @staticmethod
    def _record_id(value: Any) -> str:
        if type(value) is str and len(value) == 36 and _CANONICAL_UUID.match(value):
            return value
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            raise InvalidInput("invalid.record_id", field="record_id", value=str(value)[:80]) from None

    def _check_refs(
        self, db, coll: Collection, rows: Sequence[Mapping[str, Any]], batch_ids: set[str]
    ) -> None:
        """Every reference names an existing, live record (or one created in the same call)."""
        for spec in coll.ref_fields():
            values = {row[spec.name] for row in rows if row.get(spec.name) is not None}
            if spec.ref == coll.name:
                values -= batch_ids
            if not values:
                continue
            found: set[str] = set()
            ordered = list(values)
            for start in range(0, len(ordered), _CHUNK):
                chunk = ordered[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                found.update(
                    r[0]
                    for r in db.execute(
                        f'SELECT record_id FROM "{spec.ref}" '
                        f"WHERE deleted = 0 AND record_id IN ({marks})",
                        chunk,
                    )
                )
            missing = values - found
            if missing:
                raise InvalidInput(
                    "invalid.reference",
                    field=spec.name,
                    collection=coll.name,
                    target=spec.ref,
                    value=sorted(missing)[0],
                )

    # ------------------------------------------------------------------ rows

    @staticmethod
    def _to_db(coll: Collection, name: str, value: Any) -> Any:
        if value is not None and coll.fields[name].type is FieldType.ANY:
            return dumps(value)
        return value

    @staticmethod
    def _from_db(coll: Collection, name: str, value: Any) -> Any:
        if value is None:
            return None
        kind = coll.fields[name].type
        if kind is FieldType.BOOL:
            return bool(value)
        if kind is FieldType.ANY:
            return loads(value)
        return value

    def _load(self, db, coll: Collection, record_id: str) -> dict[str, Any] | None:
        """The raw row: {"fields": {...}, "clocks": {...}, "deleted", "owner_org", ...}."""
        table = _table(coll.name)
        row = db.execute(
            f"SELECT {_ROW_SYSTEM}, {table.columns} FROM \"{coll.name}\" WHERE record_id = ?",
            (record_id,),
        ).fetchone()
        return None if row is None else self._row(table, row)

    def _load_many(self, db, coll: Collection, record_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """``_load`` for many records at once: record_id -> raw row, for those that exist."""
        table = _table(coll.name)
        out: dict[str, dict[str, Any]] = {}
        ids = list(dict.fromkeys(record_ids))
        for start in range(0, len(ids), _PULL_CHUNK):
            chunk = ids[start : start + _PULL_CHUNK]
            sql = table.select_in.format(marks=",".join("?" * len(chunk)))
            for row in db.execute(sql, chunk):
                out[row[0]] = self._row(table, row[1:])
        return out

    @staticmethod
    def _row(table: _Table, row: Sequence[Any]) -> dict[str, Any]:
        """A raw row (system columns, then the fields) as ``_load`` returns it."""
        values = dict(zip(table.names, row[5:]))
        for name in table.bool_fields:
            if values[name] is not None:
                values[name] = bool(values[name])
        for name in table.json_fields:
            if values[name] is not None:
                values[name] = loads(values[name])
        return {
            "owner_org": row[0],
            "deleted": bool(row[1]),
            "clocks": loads(row[2]) if row[2] else {},
            "deleted_clock": row[3],
            "server_seq": row[4],
            "fields": values,
        }

    @staticmethod
    def _public(coll: Collection, record_id: str, row: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "collection": coll.name,
            "record_id": record_id,
            "owner_org": row["owner_org"],
            "deleted": row["deleted"],
            "fields": dict(row["fields"]),
        }

    def _insert_rows(
        self, db, coll: Collection, rows: list[tuple[str, dict, str]]
    ) -> dict[str, tuple]:
        """rows: (record_id, fields, clock) of new records, in one executemany. Returns each
        record's field values as inserted (for _Tx.inserted)."""
        table = _table(coll.name)
        names = table.names
        json_fields = table.json_fields
        params = []
        for rid, fields, clock in rows:
            if json_fields and not json_fields.isdisjoint(fields):
                fields = {
                    n: dumps(v) if n in json_fields and v is not None else v
                    for n, v in fields.items()
                }
            get = fields.get
            params.append((rid, _clocks_json(fields, clock), 0, *[get(n) for n in names]))
        fresh = {p[0]: p[3:] for p in params}
        marks = ", ".join("?" * (len(names) + 3))
        try:
            db.executemany(
                f'INSERT INTO "{coll.name}" (record_id, clocks, deleted, {table.columns}) '
                f"VALUES ({marks})",
                params,
            )
        except sqlcipher.IntegrityError:
            ids = [r[0] for r in rows]
            taken = next(
                (rid for rid in ids if db.execute(
                    f'SELECT 1 FROM "{coll.name}" WHERE record_id = ?', (rid,)
                ).fetchone()),
                ids[0],
            )
            raise StoreError("store.duplicate_id", record_id=taken) from None
        return fresh

    @staticmethod
    def _outbox_rows(
        collection: str, entries: list[tuple[str, str, dict, str, dict]]
    ) -> list[tuple]:
        """entries: (record_id, op, fields, clock, base)."""
        created = _now_ms_iso()
        return [
            (str(uuid.uuid4()), collection, rid, op, dumps(fields), clock, dumps(base), created)
            for rid, op, fields, clock, base in entries
        ]

    @staticmethod
    def _created_outbox_rows(collection: str, rows: list[tuple[str, dict, str]]) -> list[tuple]:
        """The outbox rows of records just created: (record_id, fields, clock) each, every field
        set with a base of null (what ``_outbox_rows`` makes for op "upsert", built faster)."""
        created = _now_ms_iso()
        return [
            (change_id, collection, rid, "upsert", dumps(fields), clock,
             _null_base_json(tuple(fields)), created)
            for change_id, (rid, fields, clock) in zip(_uuid4_strings(len(rows)), rows)
        ]

    # ------------------------------------------------------------------ write API

    def create(
        self, collection: str, fields: Mapping[str, Any], *, record_id: str | None = None
    ) -> str:
        """Create a record; returns its record_id (a new UUID unless one is given)."""
        return self.bulk_create(
            collection, [fields], record_ids=None if record_id is None else [record_id]
        )[0]

    def bulk_create(
        self,
        collection: str,
        items: Sequence[Mapping[str, Any]],
        *,
        record_ids: Sequence[str] | None = None,
    ) -> list[str]:
        """Create many records of one collection in one transaction (rows, outbox, search).

        References may name records created earlier in the same call. All or nothing: one
        invalid item raises InvalidInput and nothing is written.
        """
        coll = self._collection(collection)
        if collection == "conflicts":
            raise StoreError("store.server_only", collection=collection)
        if record_ids is not None and len(record_ids) != len(items):
            raise ValueError("record_ids must have one id per item")
        normalised: list[dict[str, Any]] = []
        for item in items:
            fields = self._validate(coll, item, creating=True)
            if collection == "channels":
                self._normalise_channel(fields, None)
            normalised.append(fields)
        ids = (
            [self._record_id(r) for r in record_ids]
            if record_ids is not None
            else _uuid4_strings(len(items))
        )
        if not ids:
            return []
        with self._write() as tx:
            self._check_refs(tx.db, coll, normalised, set(ids))
            now = self._clock.now
            rows = [(rid, fields, now()) for rid, fields in zip(ids, normalised)]
            inserted = self._insert_rows(tx.db, coll, rows)
            tx.db.executemany(OUTBOX_INSERT, self._created_outbox_rows(collection, rows))
            tx.inserted(collection, inserted)
        return ids

    def update(self, collection: str, record_id: str, fields: Mapping[str, Any]) -> bool:
        """Change some fields of a record. Fields whose value does not change are left out of
        the change (so saving an untouched form never overwrites someone else's concurrent
        edit). Returns False when nothing changed (no outbox entry then)."""
        coll = self._collection(collection)
        if collection in APPEND_ONLY:
            raise AppendOnly(collection=collection)
        changes = self._validate(coll, fields, creating=False)
        record_id = self._record_id(record_id)
        with self._write() as tx:
            row = self._load(tx.db, coll, record_id)
            if row is None:
                raise NotFound(collection=collection, record_id=record_id)
            if row["deleted"]:
                raise RecordDeleted(collection=collection, record_id=record_id)
            current = row["fields"]
            if collection == "channels":
                self._normalise_channel(changes, current)
            changes = {n: v for n, v in changes.items() if current.get(n) != v}
            if not changes:
                return False
            self._check_refs(tx.db, coll, [changes], set())
            self._keep_server_state(tx.db, coll, record_id, row)
            clock = self._clock.now()
            clocks = dict(row["clocks"])
            base = {name: clocks.get(name) for name in changes}
            clocks.update({name: clock for name in changes})
            sets = ", ".join(f'"{column_name(n)}" = ?' for n in changes)
            tx.db.execute(
                f'UPDATE "{coll.name}" SET {sets}, clocks = ? WHERE record_id = ?',
                (*(self._to_db(coll, n, v) for n, v in changes.items()), dumps(clocks), record_id),
            )
            tx.db.executemany(
                OUTBOX_INSERT,
                self._outbox_rows(collection, [(record_id, "upsert", changes, clock, base)]),
            )
            tx.touch(collection, record_id)
            if collection == "channels" and "function_id" in changes:
                tx.also_rebuild("functions", current.get("function_id"))
        return True

    def delete(self, collection: str, record_id: str) -> bool:
        """Make a record a tombstone. Returns False when it already was one.

        The local row keeps its values (hidden everywhere) until the server's tombstone
        arrives, so a delete the server rejects can still be shown and undone.
        """
        coll = self._collection(collection)
        if collection in APPEND_ONLY:
            raise AppendOnly(collection=collection)
        record_id = self._record_id(record_id)
        with self._write() as tx:
            row = self._load(tx.db, coll, record_id)
            if row is None:
                raise NotFound(collection=collection, record_id=record_id)
            if row["deleted"]:
                return False
            self._keep_server_state(tx.db, coll, record_id, row)
            clock = self._clock.now()
            base = {name: row["clocks"].get(name) for name in coll.fields}
            tx.db.execute(
                f'UPDATE "{coll.name}" SET deleted = 1, deleted_clock = ? WHERE record_id = ?',
                (clock, record_id),
            )
            tx.db.executemany(
                OUTBOX_INSERT,
                self._outbox_rows(collection, [(record_id, "delete", {}, clock, base)]),
            )
            tx.touch(collection, record_id)
        return True

    # ------------------------------------------------------------------ read API

    def get(self, collection: str, record_id: str) -> dict[str, Any] | None:
        """``{"collection", "record_id", "owner_org", "deleted", "fields": {every field}}`` or None.

        Tombstones are returned (``deleted: True``); phone numbers are E.164 (show them with
        ``format_phone``).
        """
        coll = self._collection(collection)
        try:
            record_id = str(uuid.UUID(str(record_id)))
        except ValueError:
            return None
        with self._read() as db:
            row = self._load(db, coll, record_id)
        return None if row is None else self._public(coll, record_id, row)

    def list(
        self,
        collection: str,
        *,
        include_deleted: bool = False,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
        **where: Any,
    ) -> builtins.list[dict[str, Any]]:
        """Records matching the filters, shaped as ``get`` returns them; live records only unless
        asked. A filter is a field's value (None matches an empty field), ``In(values)`` or
        ``Range(low, high)`` (desktop/store/filters.py), e.g. ``store.list("channels",
        function_id=fid)``. Sorted by ``order_by`` (text case folded; default the collection's
        natural order: position, name, title or time), optionally one slice."""
        coll = self._collection(collection)
        table = _table(coll.name)
        window, params = self._window(coll, where, include_deleted, order_by, descending, limit, offset)
        sql = f'SELECT record_id, {_ROW_SYSTEM}, {table.columns} FROM "{coll.name}"{window}'
        with self._read() as db:
            return [self._public(coll, row[0], self._row(table, row[1:])) for row in db.execute(sql, params)]

    def count(self, collection: str, *, include_deleted: bool = False, **where: Any) -> int:
        """How many records match the filters (the length of ``ids`` without reading them)."""
        coll = self._collection(collection)
        clause, params = where_clause(coll, where, self._to_db, include_deleted=include_deleted)
        with self._read() as db:
            return db.execute(f'SELECT count(*) FROM "{coll.name}"{clause}', params).fetchone()[0]

    def server_seqs(
        self, collection: str, *, compacted_through: int | None = None
    ) -> builtins.list[tuple[str, int]]:
        """(record_id, seq) of every row, tombstones included, that came from the server.

        ``compacted_through`` (the server's compaction watermark) leaves out records whose
        server state (kept aside while a change is in flight, else the row) is a tombstone at
        or below it: the server may have compacted them away."""
        coll = self._collection(collection)
        with self._read() as db:
            if compacted_through is None:
                return db.execute(
                    f'SELECT record_id, server_seq FROM "{coll.name}" WHERE server_seq IS NOT NULL'
                ).fetchall()
            return db.execute(
                f'SELECT t.record_id, t.server_seq FROM "{coll.name}" t '
                "LEFT JOIN server_state s ON s.record_id = t.record_id "
                "WHERE t.server_seq IS NOT NULL "
                "AND NOT (t.server_seq <= ? AND COALESCE(s.deleted, t.deleted) = 1)",
                (compacted_through,),
            ).fetchall()

    def purge_compacted(self, through: int, owner_org: str) -> int:
        """Drop local copies of ``owner_org``'s server tombstones at or below the server's
        compaction watermark ``through`` (the server may no longer hold them); returns how many.

        Only the device's own organisation's tombstones go: another organisation's tombstone
        may be a record hidden from this device (its internal record, which the server keeps
        and sends again in every full pull), and nothing here tells the two apart. Only rows
        with nothing in the outbox and no kept server state go: a record with a change in
        flight keeps its row until the server has answered. A tombstone has no search document
        and nothing shows it, so nobody is told."""
        removed = 0
        with self._write(source="sync") as tx:
            for name in COLLECTIONS:
                removed += tx.db.execute(
                    f'DELETE FROM "{name}" WHERE deleted = 1 AND server_seq IS NOT NULL '
                    "AND server_seq <= ? AND owner_org = ? "
                    "AND record_id NOT IN (SELECT record_id FROM outbox) "
                    "AND record_id NOT IN (SELECT record_id FROM server_state)",
                    (through, owner_org),
                ).rowcount
        if removed:
            log.info("%d local tombstones at or below the server's compaction watermark dropped", removed)
        return removed

    def clocks(self, collection: str, record_id: str) -> dict[str, str]:
        """Each field's clock as this device holds it (what a change's ``base`` is made of)."""
        coll = self._collection(collection)
        with self._read() as db:
            row = self._load(db, coll, self._record_id(record_id))
        return dict(row["clocks"]) if row else {}

    def search(
        self, text: str, limit: int = search_mod.DEFAULT_LIMIT, *, own_org: str | None = None
    ) -> builtins.list[SearchHit]:
        """Ranked search over organisations, functions, channels, forums and routines.

        Every word is a prefix and all must match, in any order ("tib sos"); case and
        diacritics fold both ways (sodertorn finds Södertörn, the exact spelling ranks first);
        a word the index has nothing for is corrected for one or two typos ("polsi"); an
        abbreviation matches its expansion and back; three or more digits find every channel
        whose number holds them. ``own_org`` (an organisation's record id; by default the
        organisation this device is enrolled for; "" for none) ranks that organisation's hits
        first among equals. Deleted records never appear. Empty or punctuation-only text
        gives [].

        When a sync or bulk import left documents to index, the search runs that pass first
        (``index_status()`` says so beforehand).
        """
        if self._index_pending:
            self.update_search_index()
        with self._read() as db:
            if own_org is None:
                own_org = self._meta(db, META_OWN_ORGANISATION)
            return search_mod.run(
                db, text, limit, own_org=own_org if isinstance(own_org, str) else None,
                abbreviations=self._search_abbreviations(), vocabulary=lambda: self._search_vocabulary(db),
            )

    def _search_abbreviations(self) -> Abbreviations:
        if self._abbreviations is None:
            self._abbreviations = load_abbreviations(self.path.parent)
        return self._abbreviations

    def _search_vocabulary(self, db) -> Vocabulary:
        """The index's words (called under the lock), read on first need after the last pass."""
        if self._vocabulary is None:
            self._vocabulary = Vocabulary.load(db)
        return self._vocabulary

    # ------------------------------------------------------------------ the search index

    def index_status(self) -> IndexStatus:
        """Ready, pending (documents wait for the index pass) or indexing (done of total)."""
        return self._index_status

    def subscribe_index(self, callback: Callable[[IndexStatus], None]) -> Callable[[], None]:
        """Call ``callback(IndexStatus)`` when the index's state changes and as a pass
        progresses (on the thread that runs the pass: re-emit it as a queued Qt signal).
        Returns a function that unsubscribes."""
        return self._index_subscribers.subscribe(callback)  # type: ignore[arg-type]

    def _set_index_status(self, status: IndexStatus) -> None:
        self._index_status = status
        self._index_subscribers.notify(status)  # type: ignore[arg-type]

    def update_search_index(self) -> int:
        """Index now what a sync or bulk import left pending: one pass, one transaction, the
        index merged once. Returns how many documents it wrote (0 when nothing waited). The
        store runs it by itself after the last bulk transaction of a run and before a search."""
        with self._lock:
            pending = self._index_pending
            if not pending or getattr(self._local, "tx", None) is not None:
                return 0  # nothing waits, or inside batch(): its end runs the pass
            total = pending.records
            self._set_index_status(IndexStatus("indexing", total, 0, total))
            try:
                with self._write(source="sync") as tx:
                    tx.index_pass = True
                    written = self._index_pass(tx, pending)
            except BaseException:
                self._set_index_status(IndexStatus("pending", pending.records))
                raise
            self._index_pending = _PendingIndex()
            self._vocabulary = None  # many new words: read them again when a typo needs them
        self._set_index_status(IndexStatus("ready"))
        return written

    def _index_pass(self, tx: _Tx, pending: _PendingIndex) -> int:
        db = tx.db

        def progress(done: int, total: int) -> None:
            self._set_index_status(IndexStatus("indexing", pending.records, done, total))

        if pending.everything or pending.records >= FULL_REBUILD_FRACTION * index_mod.document_count(db):
            written = index_mod.build_all(db, progress)
            tx.rewritten_since_optimize = 0
        else:
            docs = index_mod.dependent_docs(db, pending.changed)
            for collection, ids in pending.extra.items():
                docs.setdefault(collection, set()).update(ids)
            wanted = sum(len(ids) for ids in docs.values())
            progress(0, wanted)
            with index_mod.bulk_indexing(db, wanted >= index_mod.OPTIMIZE_MIN_DOCS):
                written = index_mod.rebuild_docs(db, docs)
            rewritten = self._rewritten_since_optimize + written
            tx.rewritten_since_optimize = rewritten
            if index_mod.optimize_due(db, written, rewritten):
                index_mod.optimize(db)
                tx.rewritten_since_optimize = 0
            progress(wanted, wanted)
        self._put_meta(db, META_SEARCH_PENDING, None)
        return written

    @staticmethod
    def _searchable_count(db) -> int:
        return sum(
            db.execute(f'SELECT count(*) FROM "{name}" WHERE deleted = 0').fetchone()[0]
            for name in index_mod.SEARCHED_COLLECTIONS
        )

    def check_integrity(self) -> builtins.list[str]:
        """Read every page (SQLCipher checks each page's HMAC, SQLite each b-tree); [] if sound.

        SQLite's own lines, in English ("HMAC verification failed for page 21", "database disk
        image is malformed"), for the log and for `samverka check` to summarise. For a "check
        the database" action or a support case; takes about a second per 100k records."""
        with self._read() as db:
            problems: builtins.list[str] = []
            for pragma in ("cipher_integrity_check", "quick_check"):
                try:
                    problems += [str(r[0]) for r in db.execute(f"PRAGMA {pragma}") if r[0] != "ok"]
                except sqlcipher.DatabaseError as exc:
                    problems.append(f"{pragma}: {exc}")
                if problems:
                    # After a page fails its HMAC, SQLCipher fails every later read on this
                    # connection: quick_check would then list every b-tree as broken.
                    break
        return problems

    def rekey(self, new_key: bytes) -> None:
        """Re-encrypt the whole database under ``new_key`` (the vault's change of key).

        One transaction: if this fails or the process dies before it commits, every page still
        has the old key; after the commit every page has the new one. The new key is then
        proven on a second connection before this returns, so the caller may forget the old
        one. Rewrites every page once (see tests/perf/bench_rekey.py for the time it takes).
        """
        with self._lock:
            if self._closed:
                raise StoreClosed()
            conn = self._engine.connect()
            try:
                rekey_connection(conn.connection.driver_connection, new_key)
            finally:
                conn.close()
            self._key = bytes(new_key)
            raw_connect(self.path, self._key, create=False).close()

    def optimize(self) -> None:
        """Maintenance for idle moments: merge the search index, refresh the planner's stats."""
        with self._write() as tx:
            index_mod.optimize(tx.db)
            tx.db.execute("PRAGMA optimize")
            tx.rewritten_since_optimize = 0

    def reclaim_space(self) -> int:
        """Give unused pages back to the disk when they are a good part of the file; returns
        the bytes the file shrank by (0 when there was too little to bother).

        SQLite keeps the pages of deleted rows for reuse, so a pushed outbox of 100k created
        records (some 60 MB) stayed in the file for good. A file made by this version frees
        them by moving the pages after them down (``incremental_vacuum``, one transaction); an
        older file is rewritten once (``VACUUM``, in memory: temp_store), which also makes it
        one that frees them incrementally from then on. Both keep every row as it was; the
        WAL is then checkpointed so that the file itself shrinks. The engine calls this after
        a push; it holds the store's lock for about a second per 50 MB moved.
        """
        with self._lock:
            if self._closed:
                raise StoreClosed()
            if getattr(self._local, "tx", None) is not None:
                return 0  # inside batch(): pages cannot be moved in someone's transaction
            conn = self._engine.connect()
            try:
                db = conn.connection.driver_connection
                page_size = int(db.execute("PRAGMA page_size").fetchone()[0])  # text in SQLCipher
                free = int(db.execute("PRAGMA freelist_count").fetchone()[0])
                pages = int(db.execute("PRAGMA page_count").fetchone()[0])
                if free * page_size < RECLAIM_MIN_BYTES or free < RECLAIM_MIN_FRACTION * pages:
                    return 0
                if int(db.execute("PRAGMA auto_vacuum").fetchone()[0]) == 0:  # NONE: an older file
                    db.execute("PRAGMA auto_vacuum = INCREMENTAL")
                    db.execute("VACUUM")
                else:
                    conn.info["begin_sql"] = "BEGIN IMMEDIATE"
                    with conn.begin():
                        db.execute("PRAGMA incremental_vacuum").fetchall()
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                after = int(db.execute("PRAGMA page_count").fetchone()[0])
            except sqlcipher.DatabaseError as exc:
                if is_damage(exc):
                    raise damage_error(self.path, exc) from None
                # E.g. the disk is full (VACUUM needs room for the WAL): nothing changed, and
                # the pages are still reused by the next writes.
                log.warning("unused pages not given back to the disk: %s", exc)
                return 0
            finally:
                conn.close()
        log.info("reclaimed %d unused pages of %d", pages - after, pages)
        return (pages - after) * page_size

    # ------------------------------------------------------------------ outbox API

    def outbox_pending(self, limit: int = 1000) -> builtins.list[OutboxEntry]:
        """Pending changes in the order they were made (the syncer pushes them in this order)."""
        with self._read() as db:
            rows = db.execute(
                f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE status = ? ORDER BY seq LIMIT ?",
                (PENDING, int(limit)),
            ).fetchall()
        return [OutboxEntry.from_row(r) for r in rows]

    def outbox_count(self) -> int:
        """How many changes wait to be pushed (rejected ones not counted)."""
        with self._read() as db:
            return db.execute("SELECT count(*) FROM outbox WHERE status = ?", (PENDING,)).fetchone()[0]

    def outbox_acknowledge(
        self, change_ids: Sequence[str], seqs: Mapping[str, int | None] | None = None
    ) -> int:
        """The server answered for these changes (applied, duplicate, conflict): drop them.

        ``seqs`` (change_id -> the seq the server gave) marks a record this device created as
        held by the server (``server_seq``) until its first pull. A record left without
        entries forgets its kept server state: the next pull brings the server's."""
        ids = [str(c) for c in change_ids]
        removed = 0
        with self._write(source="sync") as tx:
            touched: dict[str, str] = {}  # record_id -> collection
            created: dict[str, dict[str, int]] = {}  # collection -> record_id -> greatest seq
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for change_id, collection, record_id in tx.db.execute(
                    f"SELECT change_id, collection, record_id FROM outbox WHERE change_id IN ({marks})",
                    chunk,
                ):
                    touched[record_id] = collection
                    seq = (seqs or {}).get(change_id)
                    if type(seq) is int and collection in COLLECTIONS:
                        held = created.setdefault(collection, {})
                        held[record_id] = max(seq, held.get(record_id, 0))
                removed += tx.db.execute(
                    f"DELETE FROM outbox WHERE change_id IN ({marks})", chunk
                ).rowcount
            for collection, held in created.items():
                tx.db.executemany(
                    f'UPDATE "{collection}" SET server_seq = ? '
                    "WHERE record_id = ? AND server_seq IS NULL",
                    [(seq, record_id) for record_id, seq in held.items()],
                )
            if touched and self._has_server_states(tx.db):
                remaining = self._entries_of(tx.db, builtins.list(touched))
                self._drop_server_states(tx.db, [r for r in touched if r not in remaining])
            if removed:
                tx.notify_collections.add(OUTBOX)
        return removed

    def outbox_reject(self, change_id: str, problem: Mapping[str, Any]) -> None:
        """The server refused this change: keep it, with the server's problem, for the user."""
        with self._write(source="sync") as tx:
            updated = tx.db.execute(
                "UPDATE outbox SET status = ?, problem = ?, rejected_at = ? WHERE change_id = ?",
                (REJECTED, dumps(dict(problem)), _now_ms_iso(), str(change_id)),
            ).rowcount
            if not updated:
                raise NotFound(collection=OUTBOX, record_id=str(change_id))
            tx.notify_collections.add(OUTBOX)

    def outbox_rejected(self) -> builtins.list[OutboxEntry]:
        with self._read() as db:
            rows = db.execute(
                f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE status = ? ORDER BY seq", (REJECTED,)
            ).fetchall()
        return [OutboxEntry.from_row(r) for r in rows]

    def outbox_entry(self, reference: str) -> OutboxEntry | None:
        """One outbox entry by its change id, or by a beginning of it that only it has (at
        least 4 characters); None when there is no such entry or the beginning is shared."""
        reference = str(reference).strip().lower()
        if len(reference) < 4 or not re.fullmatch(r"[0-9a-f-]+", reference):
            return None
        with self._read() as db:
            rows = db.execute(
                f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE change_id LIKE ? ORDER BY seq LIMIT 2",
                (reference + "%",),
            ).fetchall()
        exact = [r for r in rows if r[1] == reference]
        if exact or len(rows) == 1:
            return OutboxEntry.from_row((exact or rows)[0])
        return None

    def outbox_foreign_node(self) -> builtins.list[str]:
        """Change ids of entries whose clock names another node than this device (made before
        enrolment, or before a re-enrolment): the server refuses those (invalid, clock)."""
        with self._read() as db:
            return [e.change_id for e in self._foreign_node_entries(db)]

    def outbox_restamp(self, change_ids: Sequence[str], *, fresh: bool, resend: bool = True) -> int:
        """Give these entries new clocks: ``fresh`` ones from the (corrected) clock, in the
        order the changes were made, or else the same clocks in this device's name. The
        record's row and later entries' ``base`` follow; ``resend`` makes rejected ones pending
        again. Returns how many were re-stamped."""
        ids = [str(c) for c in change_ids]
        with self._write(source="sync") as tx:
            entries = self._entries_by_id(tx.db, ids)
            return self._restamp(tx, entries, fresh=fresh, resend=resend)

    def outbox_retry(self, change_id: str) -> OutboxEntry:
        """A rejected change goes back to pending, to be sent at the next synchronisation (its
        values are still what the record shows, unless the server has newer ones)."""
        with self._write(source="sync") as tx:
            entry = self._rejected_entry(tx.db, change_id)
            tx.db.execute(
                "UPDATE outbox SET status = ?, problem = NULL, rejected_at = NULL "
                "WHERE change_id = ?",
                (PENDING, entry.change_id),
            )
            tx.notify_collections.add(OUTBOX)
        return entry

    def outbox_discard(self, change_id: str) -> str:
        """Drop a rejected change and return its record to the server's last state.

        Returns ``DISCARD_RESTORED`` (the record now holds the server's state plus the changes
        still in the outbox: exact, no network needed), ``DISCARD_REMOVED`` (the server never
        had the record: it goes, with its other unsent changes), or ``DISCARD_NEEDS_PULL``
        (no server state kept for it, a change from an older version: the caller downloads
        everything again, which restores it).
        """
        with self._write(source="sync") as tx:
            db = tx.db
            entry = self._rejected_entry(db, change_id)
            coll = COLLECTIONS.get(entry.collection)
            row = self._load(db, coll, entry.record_id) if coll else None
            state = self._server_state(db, entry.record_id)
            tx.notify_collections.add(OUTBOX)
            if coll is None or row is None:
                db.execute("DELETE FROM outbox WHERE change_id = ?", (entry.change_id,))
                return DISCARD_REMOVED
            if state is None and row["server_seq"] is None:
                # Made here and never accepted by the server: nobody else has it.
                db.execute("DELETE FROM outbox WHERE record_id = ?", (entry.record_id,))
                db.execute(f'DELETE FROM "{coll.name}" WHERE record_id = ?', (entry.record_id,))
                tx.touch(coll.name, entry.record_id)
                if coll.name == "channels":
                    tx.also_rebuild("functions", row["fields"].get("function_id"))
                return DISCARD_REMOVED
            db.execute("DELETE FROM outbox WHERE change_id = ?", (entry.change_id,))
            if state is None:
                return DISCARD_NEEDS_PULL
            others = self._entries_of(db, [entry.record_id]).get(entry.record_id, [])
            self._write_row(tx, coll, entry.record_id, row, self._replay(state, others), state)
            if not others:
                self._drop_server_states(db, [entry.record_id])
            return DISCARD_RESTORED

    def check_content(self) -> ContentCheck:
        """Records whose content differs from the server's last state under the same seq.

        A record with no change in the outbox must hold exactly the server state kept for it;
        one that does not is restored to it (``restored``). Records with rejected changes hold
        values the server refused on purpose: they are reported as rejected changes until a
        person retries or discards them. ``unknown`` counts records with rejected changes but
        no kept server state (from an older version): a full download restores that knowledge.
        """
        restored: builtins.list[tuple[str, str]] = []
        with self._write(source="sync") as tx:
            db = tx.db
            states = db.execute(
                "SELECT record_id, collection, seq, owner_org, deleted, deleted_clock, fields "
                "FROM server_state"
            ).fetchall()
            entries = self._entries_of(db, [s[0] for s in states])
            settled: builtins.list[str] = []
            for state in states:
                record_id, collection = state[0], state[1]
                coll = COLLECTIONS.get(collection)
                row = self._load(db, coll, record_id) if coll else None
                if row is not None and record_id in entries:
                    continue
                settled.append(record_id)
                if row is None:
                    continue
                expected = self._replay(state, [])
                if not self._row_matches(coll, row, expected):
                    self._write_row(tx, coll, record_id, row, expected, state)
                    restored.append((collection, record_id))
            self._drop_server_states(db, settled)
            unknown = 0
            for collection, record_id in db.execute(
                "SELECT DISTINCT collection, record_id FROM outbox WHERE status = ? "
                "AND record_id NOT IN (SELECT record_id FROM server_state)",
                (REJECTED,),
            ).fetchall():
                coll = COLLECTIONS.get(collection)
                row = self._load(db, coll, record_id) if coll else None
                unknown += row is not None and row["server_seq"] is not None
        if restored:
            log.warning("%d records differed from the server's state and were restored", len(restored))
        return ContentCheck(restored, unknown)

    def quarantined(self) -> builtins.list[Quarantined]:
        """Pulled records kept aside because they break the schema (never applied)."""
        with self._read() as db:
            return [quarantined_from_row(r) for r in db.execute(QUARANTINE_SELECT)]

    def quarantine_count(self) -> int:
        with self._read() as db:
            return db.execute("SELECT count(*) FROM quarantine").fetchone()[0]

    def quarantined_seqs(self, collection: str, *, compacted_through: int | None = None) -> dict[str, int]:
        """record_id -> seq of quarantined records of a collection (the digest counts them as
        held: the server's state was received, only not applied). ``compacted_through``: as in
        ``server_seqs``, tombstones at or below it are left out."""
        with self._read() as db:
            return dict(quarantined_seqs(db, collection, compacted_through))

    # --- outbox internals

    @staticmethod
    def _entries_by_id(db, change_ids: Sequence[str]) -> builtins.list[OutboxEntry]:
        out: builtins.list[OutboxEntry] = []
        for start in range(0, len(change_ids), _CHUNK):
            chunk = builtins.list(change_ids[start : start + _CHUNK])
            marks = ",".join("?" * len(chunk))
            out += [
                OutboxEntry.from_row(r)
                for r in db.execute(
                    f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE change_id IN ({marks})", chunk
                )
            ]
        return sorted(out, key=lambda e: e.seq)

    @staticmethod
    def _entries_of(db, record_ids: Sequence[str]) -> dict[str, builtins.list[OutboxEntry]]:
        """record_id -> its outbox entries (pending and rejected), in the order made."""
        out: dict[str, builtins.list[OutboxEntry]] = {}
        ids = builtins.list(dict.fromkeys(record_ids))
        for start in range(0, len(ids), _PULL_CHUNK):
            chunk = ids[start : start + _PULL_CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in db.execute(
                f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE record_id IN ({marks}) ORDER BY seq",
                chunk,
            ):
                entry = OutboxEntry.from_row(row)
                out.setdefault(entry.record_id, []).append(entry)
        return out

    def _foreign_node_entries(self, db) -> builtins.list[OutboxEntry]:
        # The node id starts after "<13 digits>-<5 digits>-", at character 21.
        return [
            OutboxEntry.from_row(r)
            for r in db.execute(
                f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE substr(clock, 21) <> ? ORDER BY seq",
                (self._clock.node,),
            )
        ]

    @staticmethod
    def _rejected_entry(db, change_id: str) -> OutboxEntry:
        row = db.execute(
            f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE change_id = ?", (str(change_id),)
        ).fetchone()
        if row is None or row[9] != REJECTED:
            raise NotFound(collection=OUTBOX, record_id=str(change_id))
        return OutboxEntry.from_row(row)

    def _restamp(
        self, tx: _Tx, entries: builtins.list[OutboxEntry], *, fresh: bool, resend: bool = True
    ) -> int:
        """See outbox_restamp. A change rejected for its clock is always sent again."""
        if not entries:
            return 0
        db = tx.db
        node = self._clock.node
        renamed: dict[str, dict[str, str]] = {}  # record_id -> old clock -> new clock
        updates = []
        for entry in entries:
            new = self._clock.now() if fresh else with_node(entry.clock, node)
            renamed.setdefault(entry.record_id, {})[entry.clock] = new
            problem = entry.problem or {}
            about_clock = str(problem.get("type", "")).endswith("/clock-skew") or (
                problem.get("field") == "clock"
            )
            again = entry.status == REJECTED and (resend or about_clock)
            updates.append((new, entry.original_clock or entry.clock, int(again), entry.change_id))
        db.executemany(
            "UPDATE outbox SET clock = ?, original_clock = ?, "
            "status = CASE WHEN ?3 THEN 'pending' ELSE status END, "
            "problem = CASE WHEN ?3 THEN NULL ELSE problem END, "
            "rejected_at = CASE WHEN ?3 THEN NULL ELSE rejected_at END "
            "WHERE change_id = ?4",
            updates,
        )
        # Later entries of the same records name the old clocks in their base.
        bases = []
        for record_id, entries_of_record in self._entries_of(db, builtins.list(renamed)).items():
            names = renamed[record_id]
            for entry in entries_of_record:
                base = {k: names.get(v, v) if isinstance(v, str) else v for k, v in entry.base.items()}
                if base != dict(entry.base):
                    bases.append((dumps(base), entry.change_id))
        db.executemany("UPDATE outbox SET base = ? WHERE change_id = ?", bases)
        # The rows hold the clocks of the values they show.
        by_collection: dict[str, builtins.list[str]] = {}
        for entry in entries:
            by_collection.setdefault(entry.collection, []).append(entry.record_id)
        for collection, record_ids in by_collection.items():
            coll = COLLECTIONS.get(collection)
            if coll is None:
                continue
            rows = []
            for record_id, row in self._load_many(db, coll, record_ids).items():
                names = renamed[record_id]
                clocks = {k: names.get(v, v) for k, v in row["clocks"].items()}
                deleted_clock = names.get(row["deleted_clock"], row["deleted_clock"])
                if clocks != row["clocks"] or deleted_clock != row["deleted_clock"]:
                    rows.append((dumps(clocks), deleted_clock, record_id))
            db.executemany(
                f'UPDATE "{collection}" SET clocks = ?, deleted_clock = ? WHERE record_id = ?', rows
            )
        tx.notify_collections.add(OUTBOX)
        return len(entries)

    # --- the server's last state of records with changes in flight (outbox.py)

    @staticmethod
    def _has_server_states(db) -> bool:
        return db.execute("SELECT 1 FROM server_state LIMIT 1").fetchone() is not None

    @staticmethod
    def _server_state(db, record_id: str) -> tuple | None:
        return db.execute(
            "SELECT record_id, collection, seq, owner_org, deleted, deleted_clock, fields "
            "FROM server_state WHERE record_id = ?",
            (record_id,),
        ).fetchone()

    @staticmethod
    def _drop_server_states(db, record_ids: Sequence[str]) -> None:
        for start in range(0, len(record_ids), _PULL_CHUNK):
            chunk = builtins.list(record_ids[start : start + _PULL_CHUNK])
            db.execute(
                f"DELETE FROM server_state WHERE record_id IN ({','.join('?' * len(chunk))})", chunk
            )

    def _keep_server_state(self, db, coll: Collection, record_id: str, row: Mapping[str, Any]) -> None:
        """Before the first local edit of a record with nothing in the outbox: its row is the
        server's state (or what this device created and the server accepted); keep it."""
        if self._server_state(db, record_id) is not None:
            return
        if db.execute("SELECT 1 FROM outbox WHERE record_id = ? LIMIT 1", (record_id,)).fetchone():
            return
        fields = {
            name: {"value": row["fields"].get(name), "clock": clock}
            for name, clock in row["clocks"].items()
            if name in coll.fields
        }
        db.execute(
            "INSERT INTO server_state (record_id, collection, seq, owner_org, deleted, "
            "deleted_clock, fields) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (record_id, coll.name, row["server_seq"], row["owner_org"], int(row["deleted"]),
             row["deleted_clock"], dumps(fields)),
        )

    def _put_server_state(
        self, db, coll: Collection, record_id: str, record: Mapping[str, Any],
        incoming: Mapping[str, Any],
    ) -> None:
        """A pulled state of a record with changes in flight is the server state to keep."""
        deleted = bool(record.get("deleted"))
        fields = {} if deleted else {
            name: {"value": state.get("value"), "clock": state.get("clock")}
            for name, state in incoming.items()
            if name in coll.fields and _is_mapping(state)
        }
        db.execute(
            "INSERT OR REPLACE INTO server_state (record_id, collection, seq, owner_org, deleted, "
            "deleted_clock, fields) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (record_id, coll.name, record.get("seq"), record.get("owner_org"), int(deleted),
             self._deleted_clock(record, incoming) if deleted else None, dumps(fields)),
        )

    @staticmethod
    def _replay(state: tuple, entries: builtins.list[OutboxEntry]) -> Replayed:
        return replay(loads(state[6]) or {}, bool(state[4]), state[5], entries)

    @staticmethod
    def _row_matches(coll: Collection, row: Mapping[str, Any], expected: Replayed) -> bool:
        if bool(row["deleted"]) != expected.deleted:
            return False
        if expected.deleted and not expected.values:
            return True  # a server tombstone: nothing else to compare
        values = {n: v for n, v in row["fields"].items() if v is not None}
        wanted = {n: v for n, v in expected.values.items() if v is not None and n in coll.fields}
        return values == wanted and dict(row["clocks"]) == expected.clocks

    def _write_row(
        self, tx: _Tx, coll: Collection, record_id: str, row: Mapping[str, Any],
        replayed: Replayed, state: tuple | None = None,
    ) -> None:
        """Rewrite a record's row as ``replayed`` (with the kept server state's seq and owner)."""
        names = _table(coll.name).names
        sets = ", ".join(f'"{column_name(n)}" = ?' for n in names)
        seq, owner = (state[2], state[3]) if state is not None else (row["server_seq"], row["owner_org"])
        tx.db.execute(
            f'UPDATE "{coll.name}" SET deleted = ?, deleted_clock = ?, clocks = ?, server_seq = ?, '
            f"owner_org = ?, {sets} WHERE record_id = ?",
            (
                int(replayed.deleted), replayed.deleted_clock, dumps(replayed.clocks), seq, owner,
                *(self._to_db(coll, n, replayed.values.get(n)) for n in names),
                record_id,
            ),
        )
        tx.touch(coll.name, record_id)
        if coll.name == "channels":
            tx.also_rebuild("functions", row["fields"].get("function_id"))
            tx.also_rebuild("functions", replayed.values.get("function_id"))

    # ------------------------------------------------------------------ pull side

    def apply_pulled(self, records: Sequence[Mapping[str, Any]], cursor: str | None) -> None:
        """Apply one pulled page (SYNC.md RecordState shapes) and save ``cursor``, atomically.

        Each record is first checked against sync.records (quarantine.py): one that breaks the
        schema is kept aside, never applied, and the page goes on. Per field: a value with a
        local edit in the outbox (pending or rejected) stays unless the incoming clock is newer
        (sync.merge.incoming_wins); other fields take the server's value and clock, and a field
        the server's (whole) state lacks is cleared. A server tombstone always wins. Incoming
        clocks are received into the HLC, up to the allowed skew ahead of this device's time.
        A record with changes in the outbox keeps the pulled state as its server state.

        A page is applied in bulk: one query finds which of its records exist already, the new
        ones are inserted with one executemany per collection, and only existing ones are merged
        field by field (with their pending local edits, also found in one query). The HLC
        receives the page's greatest clock once (receiving each clock in turn ends the same).
        """
        nested = getattr(self._local, "tx", None) is not None  # inside batch(): its rules apply
        with self._write(source="sync") as tx:
            if not nested:
                tx.pulled = True
                tx.pulled_records = len(records)
            self._apply_page(tx, records)
            self._put_meta(tx.db, META_CURSOR, cursor)

    def _apply_page(self, tx: _Tx, records: Sequence[Mapping[str, Any]]) -> None:
        db = tx.db
        page: builtins.list[tuple[Collection, str, Mapping[str, Any]]] = []
        ids_by_collection: dict[str, builtins.list[str]] = {}
        set_aside: builtins.list[tuple] = []
        for record in records:
            problem = check_pulled(record)
            if problem is not None:
                set_aside.append(quarantine_row(record, problem, _now_ms_iso()))
                continue
            coll = COLLECTIONS[record["collection"]]
            record_id = self._record_id(record["record_id"])
            page.append((coll, record_id, record))
            ids_by_collection.setdefault(coll.name, []).append(record_id)
        self._quarantine(db, set_aside, ids_by_collection)
        # Which records exist already: one query per collection and 900 ids.
        existing = {
            name: self._load_many(db, COLLECTIONS[name], ids)
            for name, ids in ids_by_collection.items()
        }
        # New records (first time in this page): rows built here, one executemany each. The
        # rest (existing, or repeated in the page) are merged one by one, in page order.
        seen_clocks: builtins.list[str] = []
        new_rows: dict[str, builtins.list[tuple]] = {}
        merged: builtins.list[tuple[Collection, str, Mapping[str, Any], Mapping[str, Any]]] = []
        added: set[tuple[str, str]] = set()
        for coll, record_id, record in page:
            incoming = record.get("fields") or {}
            key = (coll.name, record_id)
            if record_id in existing[coll.name] or key in added:
                for state in incoming.values():
                    if type(state) is dict or isinstance(state, MappingABC):
                        clock = state.get("clock")
                        if isinstance(clock, str):
                            seen_clocks.append(clock)
                merged.append((coll, record_id, record, incoming))
            else:
                added.add(key)
                new_rows.setdefault(coll.name, []).append(
                    self._new_pulled_row(coll, record_id, record, incoming, seen_clocks)
                )
            deleted_clock = record.get("deleted_clock")
            if isinstance(deleted_clock, str):
                seen_clocks.append(deleted_clock)
        self._receive_greatest(seen_clocks)
        for name, rows in new_rows.items():
            db.executemany(_table(name).insert_pulled, rows)
            tx.inserted(name, {row[0]: row[6:] for row in rows if not row[2]})
        if merged:
            pending = self._pending_many(db, {(c.name, rid) for c, rid, _, _ in merged})
            shadows = self._has_server_states(db)
            settled: builtins.list[str] = []
            for coll, record_id, record, incoming in merged:
                row = existing[coll.name].pop(record_id, None)  # a repeat reads the row again
                if row is None:
                    row = self._load(db, coll, record_id)
                in_flight = pending.get((coll.name, record_id))
                self._merge_pulled(
                    tx, coll, record_id, record, incoming, row, in_flight or (set(), False),
                )
                if in_flight is not None:
                    self._put_server_state(db, coll, record_id, record, incoming)
                elif shadows:
                    settled.append(record_id)
            self._drop_server_states(db, settled)
        for name, ids in ids_by_collection.items():
            tx.changed.setdefault(name, set()).update(ids)
        self._keep_journal_links(db, page)  # activated mode: see the block at the end

    def _receive_greatest(self, clocks: builtins.list[str]) -> None:
        """HLC receive of the greatest valid clock: wire order is clock order, and receiving
        each clock in turn leaves the HLC exactly where receiving the greatest one does.

        Clocks more than the allowed skew ahead of this device's corrected wall time are not
        adopted (SYNC.md "Clocks name their sender"): their records are stored as they came,
        and the local clock is not dragged into the future by one far-ahead peer."""
        if not clocks:
            return
        bound = ceiling(self._clock.physical_ms() + MAX_SKEW_MS)
        greatest = max(clocks)
        if greatest > bound:
            ahead = sum(1 for c in clocks if c > bound and is_valid_hlc(c))
            if ahead:
                log.warning("%d pulled clocks are more than %d s ahead; not adopted",
                            ahead, MAX_SKEW_MS // 1000)
            greatest = max((c for c in clocks if c <= bound), default=None)
            if greatest is None:
                return
        if not is_valid_hlc(greatest):  # junk sorting above the real clocks: only valid ones count
            greatest = max((c for c in clocks if c <= bound and is_valid_hlc(c)), default=None)
            if greatest is None:
                return
        self._clock.receive(greatest, max_ahead_ms=MAX_SKEW_MS)

    @staticmethod
    def _deleted_clock(record: Mapping[str, Any], incoming: Mapping[str, Any]) -> str | None:
        return record.get("deleted_clock") or max(
            (
                c
                for c in (s.get("clock") for s in incoming.values() if _is_mapping(s))
                if is_valid_hlc(c)
            ),
            default=None,
        )

    def _new_pulled_row(
        self,
        coll: Collection,
        record_id: str,
        record: Mapping[str, Any],
        incoming: Mapping[str, Any],
        seen_clocks: builtins.list[str],
    ) -> tuple:
        """The INSERT parameters (``_Table.insert_pulled``) of a record this device lacks; its
        field clocks (known fields or not) are added to ``seen_clocks``."""
        table = _table(coll.name)
        index = table.index
        json_fields = table.json_fields
        deleted = bool(record.get("deleted"))
        values: builtins.list[Any] = [None] * len(table.names)
        clocks: builtins.list[str] = []  # '"name":"clock"' of the known fields
        for field_name, state in incoming.items():
            if not (type(state) is dict or isinstance(state, MappingABC)):
                continue  # junk
            clock = state.get("clock")
            if isinstance(clock, str):
                seen_clocks.append(clock)
            position = index.get(field_name)
            if position is None or deleted:
                continue  # a field this version does not know (a newer server), or a tombstone
            value = state.get("value")
            if value is not None and field_name in json_fields:
                value = dumps(value)
            values[position] = value
            if clock is not None:
                # check_pulled let this record through: a known field's clock is in wire form
                # and its name a schema name, so neither needs escaping (dumps' text, joined).
                clocks.append(f'"{field_name}":"{clock}"')
        if deleted:
            return (
                record_id, record.get("owner_org"), 1, "{}", self._deleted_clock(record, incoming),
                record.get("seq"), *values,
            )
        return (
            record_id, record.get("owner_org"), 0, "{" + ",".join(clocks) + "}", None,
            record.get("seq"), *values,
        )

    def _pending_many(
        self, db, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[set[str], bool]]:
        """(collection, record_id) -> (fields with local edits in the outbox, a delete there?).

        Rejected changes count as well as pending ones: a refused value stays visible over an
        older incoming one until a person retries or discards it (outbox.replay's rule), and a
        record is in the answer exactly when it has outbox entries."""
        out: dict[tuple[str, str], tuple[set[str], bool]] = {}
        ids = list({record_id for _, record_id in keys})
        for start in range(0, len(ids), _PULL_CHUNK):
            chunk = ids[start : start + _PULL_CHUNK]
            marks = ",".join("?" * len(chunk))
            for collection, record_id, op, payload in db.execute(
                "SELECT collection, record_id, op, fields FROM outbox "
                f"WHERE status IN (?, ?) AND record_id IN ({marks})",
                (PENDING, REJECTED, *chunk),
            ):
                key = (collection, record_id)
                if key not in keys:
                    continue
                fields, pending_delete = out.get(key, (set(), False))
                fields.update(loads(payload))
                out[key] = (fields, pending_delete or op == "delete")
        return out

    def _quarantine(
        self, db, set_aside: builtins.list[tuple], applied: Mapping[str, builtins.list[str]]
    ) -> None:
        """Keep malformed pulled records aside; drop what was kept of records now applied."""
        if set_aside:
            db.executemany(QUARANTINE_INSERT, set_aside)
            log.warning("%d pulled records break the schema: kept aside, not applied", len(set_aside))
        if db.execute("SELECT 1 FROM quarantine LIMIT 1").fetchone() is None:
            return
        ids = [rid for rids in applied.values() for rid in rids]
        for start in range(0, len(ids), _PULL_CHUNK):
            chunk = ids[start : start + _PULL_CHUNK]
            db.execute(
                f"DELETE FROM quarantine WHERE record_id IN ({','.join('?' * len(chunk))})", chunk
            )

    def _merge_pulled(
        self,
        tx: _Tx,
        coll: Collection,
        record_id: str,
        record: Mapping[str, Any],
        incoming: Mapping[str, Any],
        row: dict[str, Any] | None,
        pending_state: tuple[set[str], bool],
    ) -> None:
        """One pulled record onto the row this device holds (None: it has none)."""
        tx.touch(coll.name, record_id)
        owner_org = record.get("owner_org")
        seq = record.get("seq")
        names = _table(coll.name).names
        if record.get("deleted"):
            deleted_clock = self._deleted_clock(record, incoming)
            if row is None:
                self._insert_pulled(tx.db, coll, record_id, {}, {}, True, deleted_clock, owner_org, seq)
            else:
                nulls = ", ".join(f'"{column_name(n)}" = NULL' for n in names)
                tx.db.execute(
                    f'UPDATE "{coll.name}" SET deleted = 1, deleted_clock = ?, clocks = ?, '
                    f"owner_org = ?, server_seq = ?, {nulls} WHERE record_id = ?",
                    (deleted_clock, dumps({}), owner_org, seq, record_id),
                )
            if coll.name == "channels" and row is not None:
                tx.also_rebuild("functions", row["fields"].get("function_id"))
            return
        pending, pending_delete = pending_state if row is not None else (set(), False)
        clocks = dict(row["clocks"]) if row is not None else {}
        values: dict[str, Any] = {}
        for field_name, state in incoming.items():
            if field_name not in coll.fields or not _is_mapping(state):
                continue  # a field this version does not know (a newer server), or junk
            clock = state.get("clock")
            local = clocks.get(field_name) if field_name in pending else None
            if incoming_wins(local, clock):
                values[field_name] = state.get("value")
                if clock is not None:
                    clocks[field_name] = clock
        if row is not None:
            # The state is whole (every field ever set is in it): a value here for a field the
            # server never had, and no change of it in the outbox, is not the server's.
            for name in names:
                if name not in incoming and name not in pending and (
                    name in clocks or row["fields"].get(name) is not None
                ):
                    values[name] = None
                    clocks.pop(name, None)
        if row is None:
            self._insert_pulled(tx.db, coll, record_id, values, clocks, False, None, owner_org, seq)
        else:
            deleted = row["deleted"] and pending_delete
            sets = "".join(f', "{column_name(n)}" = ?' for n in values)
            tx.db.execute(
                f'UPDATE "{coll.name}" SET deleted = ?, clocks = ?, owner_org = ?, server_seq = ?'
                f"{sets} WHERE record_id = ?",
                (
                    int(deleted),
                    dumps(clocks),
                    owner_org,
                    seq,
                    *(self._to_db(coll, n, v) for n, v in values.items()),
                    record_id,
                ),
            )
            if coll.name == "channels" and "function_id" in values:
                tx.also_rebuild("functions", row["fields"].get("function_id"))

    def _insert_pulled(
        self, db, coll, record_id, values, clocks, deleted, deleted_clock, owner_org, seq
    ) -> None:
        names = _table(coll.name).names
        db.execute(
            _table(coll.name).insert_pulled,
            (
                record_id,
                owner_org,
                int(deleted),
                dumps(clocks),
                deleted_clock,
                seq,
                *(self._to_db(coll, n, values.get(n)) for n in names),
            ),
        )

    # ------------------------------------------------------------------ notifications

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call ``callback(ChangeSet)`` after every commit; returns a function that unsubscribes."""
        return self._subscribers.subscribe(callback)

    # ------------------------------------------------------------------ window reads: ids first, rows on demand
    # (Anki's find_cards + browser_row_for_id.) A list of 100k records in the window is a list of
    # ids, fetched once off the GUI thread; the view then asks for the rows it paints, a page at
    # a time (get_many). list, ids and count take the same filters, order and slice.

    def _window(
        self, coll: Collection, where: Mapping[str, Any], include_deleted: bool,
        order_by: str | None, descending: bool, limit: int | None, offset: int,
    ) -> tuple[str, builtins.list[Any]]:
        """WHERE, ORDER BY and LIMIT of list and ids, and their parameters."""
        sql, params = where_clause(coll, where, self._to_db, include_deleted=include_deleted)
        sql += order_clause(coll, order_by, _ORDER_BY, descending=descending)
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            params += [-1 if limit is None else int(limit), int(offset)]
        return sql, params

    def ids(
        self,
        collection: str,
        *,
        include_deleted: bool = False,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
        **where: Any,
    ) -> builtins.list[str]:
        """The ids of what ``list`` would return, in its order (``list``'s arguments)."""
        coll = self._collection(collection)
        window, params = self._window(coll, where, include_deleted, order_by, descending, limit, offset)
        sql = f'SELECT record_id FROM "{coll.name}"{window}'
        with self._read() as db:
            return [row[0] for row in db.execute(sql, params)]

    def get_many(self, collection: str, record_ids: Sequence[str]) -> builtins.list[dict[str, Any]]:
        """The live records among ``record_ids``, shaped as ``get`` returns them, in the order
        given (ids that are unknown, malformed or deleted are left out)."""
        coll = self._collection(collection)
        wanted: builtins.list[str] = []
        for record_id in record_ids:
            try:
                wanted.append(self._record_id(record_id))
            except InvalidInput:
                continue
        with self._read() as db:
            rows = self._load_many(db, coll, wanted)
        return [
            self._public(coll, rid, rows[rid])
            for rid in dict.fromkeys(wanted)
            if rid in rows and not rows[rid]["deleted"]
        ]

    def search_in(
        self, text: str, collections: Sequence[str], limit: int = search_mod.DEFAULT_LIMIT
    ) -> builtins.list[SearchHit]:
        """``search`` narrowed to some collections (a picker of functions, say): the best
        ``limit`` hits among them, in search's order.

        A thin filter over ``search``: it asks for more hits than wanted and keeps those of the
        collections, so a kind that ranks low under many others may find fewer than ``limit``.
        (Narrowing inside the search's own candidate query belongs to search.py.)
        """
        wanted = frozenset(self._collection(c).name for c in collections)
        hits = self.search(text, limit=max(limit * _SEARCH_IN_WIDEN, _SEARCH_IN_MIN))
        return [hit for hit in hits if hit.collection in wanted][:limit]

    # ------------------------------------------------------------------ activated mode: the journal's chain
    # (desktop/activation owns the domain; sync/journal.py the chain.) A pulled log entry carries
    # its link in its activation's hash chain as the server-made member ``journal``; it is kept
    # in ``journal_links`` with the page, and read back with the entries to check the chain.

    @staticmethod
    def _keep_journal_links(db, page: builtins.list[tuple[Collection, str, Mapping[str, Any]]]) -> None:
        rows = []
        for coll, record_id, record in page:
            if coll.name != JOURNAL_COLLECTION or "journal" not in record:
                continue
            made = JournalLink.from_member(record.get("journal"))
            if made is None:  # never what this server sends: the entry shows as not sequenced
                log.warning("a pulled journal entry has a malformed chain link; ignored")
                continue
            rows.append((record_id, made.activation_id, made.index, made.entry_hash, made.chain))
        if rows:
            db.executemany(
                "INSERT OR REPLACE INTO journal_links (record_id, activation_id, idx, entry_hash, chain) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def journal_records(self, activation_id: str) -> builtins.list[dict[str, Any]]:
        """The log entries of one activation as the chain needs them, in one read: each live
        entry as ``get`` shapes it plus ``clock`` (its ``text`` field's clock), ``server_seq``
        and ``link`` (a sync.journal.Link, or None when not sequenced yet); and for each entry
        of the activation hidden from this organisation (its row a fieldless tombstone) one
        with ``deleted: True``, empty ``fields`` and its link; an entry whose row is gone
        altogether is left out (the chain then shows the gap). Unordered."""
        activation_id = self._record_id(activation_id)
        coll = COLLECTIONS[JOURNAL_COLLECTION]
        table = _table(coll.name)
        with self._read() as db:
            links = {
                row[0]: JournalLink(activation_id, row[1], row[2], row[3])
                for row in db.execute(
                    "SELECT record_id, idx, entry_hash, chain FROM journal_links WHERE activation_id = ?",
                    (activation_id,),
                )
            }
            out: builtins.list[dict[str, Any]] = []
            for row in db.execute(
                f'SELECT record_id, {_ROW_SYSTEM}, {table.columns} FROM "{coll.name}" '
                "WHERE activation_id = ? AND deleted = 0",
                (activation_id,),
            ):
                raw = self._row(table, row[1:])
                record = self._public(coll, row[0], raw)
                record.update(clock=raw["clocks"].get("text"), server_seq=raw["server_seq"],
                              link=links.pop(row[0], None))
                out.append(record)
            for record_id, made in links.items():  # sequenced, but not readable here
                hidden = db.execute(
                    f'SELECT owner_org, server_seq FROM "{coll.name}" WHERE record_id = ? AND deleted = 1',
                    (record_id,),
                ).fetchone()
                if hidden is None:  # no row at all: the entry is missing here, and the chain says so
                    continue
                out.append({
                    "collection": coll.name, "record_id": record_id, "owner_org": hidden[0],
                    "deleted": True, "fields": {}, "clock": None, "server_seq": hidden[1], "link": made,
                })
        return out

