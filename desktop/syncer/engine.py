"""The sync engine: push the outbox, pull pages, check the digest, keep the status the window shows.

One :class:`SyncEngine` per open store. :meth:`SyncEngine.sync_now` is blocking and safe from any
worker thread; a lock makes sure two syncs never run at once. Status changes are announced to
plain callbacks (the window wraps them in Qt signals); there is no Qt here.

The rules every client keeps (SYNC.md) and where they live:
- an outbox entry leaves only on the server's answer for it: ``_push`` acknowledges applied,
  duplicate and conflict answers, keeps rejected ones with the server's problem;
- a pulled page and its cursor are applied in one transaction: ``Store.apply_pulled``;
- local edits not yet pushed stay visible over older incoming values: ``Store.apply_pulled``
  (``sync.merge.incoming_wins``);
- the clock follows every server answer: ``_on_server_time`` (offset and HLC receive rule) and
  ``Store.apply_pulled`` (every pulled clock);
- ``410 resync-required``: the cursor is reset and everything downloaded again, the outbox
  untouched; records the server no longer has are swept afterwards (``_sweep_absent``);
- after a full pull the per-collection digest is compared with the local one, and what differs
  is repaired by a full re-download with the same sweep; records with no change in flight whose
  content differs from the server's last state under the same seq are restored from it
  (``Store.check_content``: the digest hashes only ``record_id:seq``). Both digests leave out
  tombstones at or below the server's compaction watermark when the server names it, and the
  organisation's own tombstones there are dropped (``Store.purge_compacted``): a compaction on
  the server does not make every device download everything again.

What a hostile or broken server cannot do: a malformed pulled record is kept aside
(``Store.apply_pulled`` → quarantine) while the cursor moves on; ``has_more`` with a cursor that
does not move ends the sync (:class:`PullStuck`); an answer over the client's size cap is fetched
again in smaller pages, and fails clearly if one record alone is too large; a far-future clock is
stored but not adopted by the local clock.

Refused changes: a change refused for ``clock-skew`` is re-stamped once the answer has corrected
the clock offset and sent again; one whose clock names another node (made before enrolment) is
re-stamped in this device's name before it is sent. Every other refused change stays listed
(:meth:`SyncEngine.rejected`) until a person retries it (:meth:`retry`) or discards it
(:meth:`discard`: the record returns exactly to the server's last state).

Status. The last failure is kept with its time in the store (also "offline"), and a sync that
was interrupted (the process killed) is noticed by the next one to open the vault, so a status
never reads "up to date" after a failed or partial sync.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Iterator, Mapping

from desktop.store.phones import format_phone
from desktop.store.store import DISCARD_NEEDS_PULL
from desktop.syncer.client import (
    PULL_LIMIT_MAX,
    PUSH_MAX_BYTES,
    PUSH_MAX_CHANGES,
    SyncClient,
    encode_json,
    problem_token,
)
from desktop.syncer.errors import (
    AlreadyRunning,
    NotEnrolled,
    Offline,
    ProtocolError,
    PullStuck,
    ResponseTooLarge,
    ResyncRequired,
    RetryLater,
    SyncError,
    Unauthorized,
)
from desktop.syncer.messages import problem_text, syncer_message, when_text
from sync.clock import MAX_SKEW_MS, ceiling, format_time
from sync.records import COLLECTION_NAMES, COLLECTIONS, PHONE_CHANNEL_KINDS

log = logging.getLogger(__name__)

# Meta keys (all inside the encrypted store; nothing about the enrollment is in a plain file)
META_SERVER_URL = "sync.server_url"
META_DEVICE_ID = "sync.device_id"
META_TOKEN = "sync.token"
META_ORGANISATION_ID = "sync.organisation_id"
META_ORGANISATION_NAME = "sync.organisation_name"
META_ROLE = "sync.role"
META_CA_PEM = "sync.ca_pem"
META_CA_NAME = "sync.ca_name"
META_LAST_SUCCESS = "sync.last_success"
META_LAST_ERROR = "sync.last_error"
META_UNAUTHORIZED = "sync.unauthorized"
META_FULL_PULL = "sync.full_pull_pending"  # a resync or repair is under way (survives a crash)
META_LAST_DIGEST = "sync.last_digest_ms"
META_SYNC_STARTED = "sync.started"  # set while a sync runs: still set at opening = interrupted
META_DIRECTORY = "sync.directory"  # device_id -> {"organisation_id", "name", "revoked"}
META_DIRECTORY_AT = "sync.directory_ms"
META_CURSOR = "sync_cursor"  # the store's key (desktop.store.store.META_CURSOR)

STATE_NOT_ENROLLED = "not_enrolled"
STATE_OFFLINE = "offline"
STATE_SYNCING = "syncing"
STATE_IDLE = "idle"
STATE_ERROR = "error"
STATE_UNAUTHORIZED = "unauthorized"

PUSH_ENVELOPE_BYTES = 64  # {"changes":[...]} and slack
DIGEST_ROUNDS = 3  # how often to catch up when the server moves while we compare
DIRECTORY_INTERVAL_MS = 24 * 3600 * 1000  # the device directory is fetched again after this
# Records a pulled page asks for, unless the engine is given a pull_limit: a download from
# scratch asks for the protocol's most (fewer round trips and transactions: each commit rewrites
# the pages of the tables' random-UUID indexes), catching up asks for fewer (each page holds the
# store's lock while it is applied, and the window waits for it). The window's engine asks for
# the smaller pages always (desktop/app.py).
PULL_LIMIT_FROM_SCRATCH = PULL_LIMIT_MAX
PULL_LIMIT_CATCHING_UP = 2000


@dataclass(frozen=True)
class SyncStatus:
    """What the window shows about synchronisation (immutable; a new one on every change)."""

    state: str  # not_enrolled | offline | syncing | idle | error | unauthorized
    outbox_count: int = 0
    rejected_count: int = 0
    conflicts_count: int = 0
    quarantined_count: int = 0  # pulled records kept aside because they broke the schema
    last_success: str | None = None  # ISO 8601 UTC of the last complete sync
    last_error: str | None = None  # a sentence for a person
    last_error_at: str | None = None  # ISO 8601 UTC of that failure
    progress: tuple[int, int | None] | None = None  # (records pulled, total if known) while pulling
    server_url: str | None = None
    device_id: str | None = None
    organisation: str | None = None


@dataclass(frozen=True)
class RejectedChange:
    """A change the server refused, for a person: what, which record, why (in their language)."""

    change_id: str
    collection: str
    record_id: str
    reason: str  # the problem in words (messages.problem_text); the server's detail is logged
    problem: Mapping[str, Any] | None
    title: str = ""  # the record's name as this device shows it
    rejected_at: str | None = None
    op: str = "upsert"


@dataclass
class SyncReport:
    """What one sync did."""

    pushed: int = 0  # changes the server answered for (applied, duplicate or conflict)
    duplicates: int = 0
    conflicts: int = 0  # pushed changes that made a conflict record
    rejected: list[RejectedChange] = field(default_factory=list)
    pulled: int = 0
    pages: int = 0
    resynced: bool = False
    repaired: list[str] = field(default_factory=list)  # collections whose digest differed
    removed_absent: int = 0  # local copies of records the server no longer holds (deleted, compacted)
    kept_absent: int = 0  # local records newer than anything the server holds: kept, marked unsynced
    digest_ok: bool | None = None  # None: not checked this time
    restamped: int = 0  # changes given a new clock (clock skew, or made before enrolment)
    quarantined: int = 0  # pulled records kept aside in this sync
    restored: int = 0  # records whose content differed from the server's state: restored


class SyncEngine:
    """Synchronises one store with its server. Thread-safe; one sync at a time."""

    def __init__(
        self,
        store: Any,
        *,
        client_factory: Callable[..., SyncClient] = SyncClient,
        pull_limit: int | None = None,
        push_max_changes: int = PUSH_MAX_CHANGES,
        push_max_bytes: int = PUSH_MAX_BYTES,
        digest_interval: float = 6 * 3600.0,
        timeout: tuple[float, float] = (5.0, 30.0),
        now_ms: Callable[[], int] | None = None,
    ) -> None:
        self.store = store
        self.client_factory = client_factory
        self.pull_limit = pull_limit
        self.push_max_changes = min(push_max_changes, PUSH_MAX_CHANGES)
        self.push_max_bytes = min(push_max_bytes, PUSH_MAX_BYTES)
        self.digest_interval = digest_interval
        self.timeout = timeout
        self._now_ms = now_ms or (lambda: time.time_ns() // 1_000_000)
        self._sync_lock = threading.Lock()
        self._status_lock = threading.Lock()
        self._callbacks: list[Callable[[SyncStatus], None]] = []
        self._client: SyncClient | None = None
        self._fetcher: ThreadPoolExecutor | None = None
        # The digest the check will compare, asked for while the last pulled page is applied
        # and indexed (see _pull_pages); taken by _compare_digest, dropped when a sync ends.
        self._digest_ahead: Future | None = None
        self._client_key: tuple | None = None
        self._started: str | None = None  # when the running sync first changed something here
        self._status = self._initial_status()

    # --- status ---------------------------------------------------------------------------

    def status(self) -> SyncStatus:
        """The current status, with fresh counts from the store."""
        with self._status_lock:
            current = self._status
        return replace(current, **self._counts())

    def subscribe(self, callback: Callable[[SyncStatus], None]) -> Callable[[], None]:
        """Call ``callback(status)`` on every status change (from the syncing thread)."""
        with self._status_lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._status_lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return unsubscribe

    def _counts(self) -> dict[str, int]:
        return {
            "outbox_count": self.store.outbox_count(),
            "rejected_count": len(self.store.outbox_rejected()),
            "conflicts_count": len(self.open_conflicts()),
            "quarantined_count": self.store.quarantine_count(),
        }

    def open_conflicts(self) -> list[dict]:
        """Unresolved conflict records this device holds, oldest first."""
        return [
            c for c in self.store.list("conflicts")
            if not c["fields"].get("resolved")
        ]

    def _initial_status(self) -> SyncStatus:
        meta = self.store.get_meta
        failure = _failure_of(meta(META_LAST_ERROR))
        started = meta(META_SYNC_STARTED)
        if started:  # a sync began and never ended: the process was killed or closed mid-way
            failure = (STATE_ERROR, syncer_message("syncer.interrupted", when=_local(started)), started)
        if not meta(META_DEVICE_ID):
            state = STATE_NOT_ENROLLED
        elif meta(META_UNAUTHORIZED):
            state = STATE_UNAUTHORIZED
        elif failure is not None:
            state = failure[0]
        else:
            state = STATE_IDLE
        return SyncStatus(
            state=state,
            last_success=meta(META_LAST_SUCCESS),
            last_error=failure[1] if failure else None,
            last_error_at=failure[2] if failure else None,
            server_url=meta(META_SERVER_URL),
            device_id=meta(META_DEVICE_ID),
            organisation=meta(META_ORGANISATION_NAME),
        )

    def _set_status(self, **changes: Any) -> None:
        with self._status_lock:
            self._status = replace(self._status, **changes)
            callbacks = list(self._callbacks)
        if not callbacks:
            return
        snapshot = self.status()
        for callback in callbacks:
            try:
                callback(snapshot)
            except Exception:  # a broken listener must not break syncing
                log.exception("sync status listener %r failed", callback)

    # --- the client -----------------------------------------------------------------------

    def _get_client(self) -> SyncClient:
        meta = self.store.get_meta
        url, token = meta(META_SERVER_URL), meta(META_TOKEN)
        if not url or not token or not meta(META_DEVICE_ID):
            raise NotEnrolled()
        key = (url, token, meta(META_CA_PEM))
        if self._client is None or self._client_key != key:
            if self._client is not None:
                self._client.close()
            self._client = self.client_factory(
                url, token=token, ca_pem=meta(META_CA_PEM), ca_file=meta(META_CA_NAME),
                timeout=self.timeout, on_server_time=self._on_server_time,
            )
            self._client_key = key
        return self._client

    def close(self) -> None:
        if self._fetcher is not None:
            self._fetcher.shutdown(wait=True)
            self._fetcher = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def _on_server_time(self, server_time: str, round_trip_ms: int) -> None:
        """HLC receive rule and wall-clock offset, on every answer that carries server_time."""
        self.store.observe_server_time(server_time, round_trip_ms=round_trip_ms)

    def probe(self) -> bool:
        """Is the server reachable (GET /v1/health)? For the scheduler while offline."""
        try:
            self._get_client().health()
        except (Offline, RetryLater):
            self._set_status(state=STATE_OFFLINE)
            return False
        except SyncError:
            return True  # reachable, but something else is wrong: let a sync say what
        return True

    # --- one sync -------------------------------------------------------------------------

    def sync_now(self, *, wait: bool = True) -> SyncReport:
        """Push, pull, check. Blocks; raises a SyncError subclass when the sync failed.

        ``wait=False``: if a sync is already running, raise AlreadyRunning instead of waiting
        for it (a waiting caller runs its own sync after the first ends).
        """
        if not self._sync_lock.acquire(blocking=wait):
            raise AlreadyRunning()
        try:
            return self._sync_locked()
        finally:
            self._sync_lock.release()

    @property
    def running(self) -> bool:
        return self._sync_lock.locked()

    def _sync_locked(self) -> SyncReport:
        report = SyncReport()
        try:
            client = self._get_client()
        except NotEnrolled as error:
            self._set_status(state=STATE_NOT_ENROLLED, last_error=str(error))
            raise
        self._set_status(state=STATE_SYNCING, progress=None)
        try:
            self._started = None
            with _collector_paused():
                self._push(client, report)
                self._pull(client, report)
                self._check_digest(client, report)
                if self.store.outbox_count():
                    self._push(client, report)  # edits made while we pulled
                self._refresh_directory(client)
            if report.pushed:
                # The pushed entries' pages are free now: a big push (a bulk import's) gives
                # them back to the disk (the store decides whether it is worth it).
                self.store.reclaim_space()
        except Unauthorized as error:
            self.store.set_meta(META_UNAUTHORIZED, True)
            self._fail(STATE_UNAUTHORIZED, error)
            raise
        except (Offline, RetryLater) as error:
            self._fail(STATE_OFFLINE if isinstance(error, Offline) else STATE_ERROR, error)
            raise
        except SyncError as error:
            self._fail(STATE_ERROR, error)
            raise
        except Exception as error:
            log.exception("sync failed")
            self._fail(STATE_ERROR, SyncError(detail=repr(error)))
            raise
        finally:
            self._drop_digest_ahead()
        finished = format_time(self._now_ms())
        with self.store.batch(source="sync"):  # one transaction
            self.store.set_meta(META_LAST_SUCCESS, finished)
            self.store.set_meta(META_LAST_ERROR, None)
            self.store.set_meta(META_UNAUTHORIZED, None)
            self.store.set_meta(META_SYNC_STARTED, None)
        self._set_status(
            state=STATE_IDLE, last_success=finished, last_error=None, last_error_at=None,
            progress=None,
        )
        return report

    def _fail(self, state: str, error: SyncError) -> None:
        """Say what failed, and keep it with its time (also "offline": a status read later, in
        another process, must not say "up to date" after a failed or partial sync)."""
        message = str(error)
        at = format_time(self._now_ms())
        # What kind of failure, not the server's words (they may quote a value someone typed).
        log.warning("sync failed: %s %s (HTTP %s)", type(error).__name__, error.key, error.http_status)
        try:
            with self.store.batch(source="sync"):
                self.store.set_meta(META_LAST_ERROR, {
                    "state": state, "key": error.key, "at": at,
                    "args": {k: str(v) for k, v in error.kwargs.items()},
                })
                self.store.set_meta(META_SYNC_STARTED, None)
        except Exception:  # the store may be closing under us; the status still says it
            log.exception("could not record the sync error")
        self._set_status(state=state, last_error=message, last_error_at=at, progress=None)

    # --- push -----------------------------------------------------------------------------

    def _push(self, client: SyncClient, report: SyncReport) -> None:
        report.restamped += self._prepare_outbox()
        skew_handled = False
        while True:
            entries = self.store.outbox_pending(self.push_max_changes)
            if not entries:
                return
            changes, body = self._batch([e.to_change() for e in entries])
            answer = client.push(changes, body=body)
            sent = {e.change_id: e for e in entries[: len(changes)]}
            acknowledged: list[str] = []
            seqs: dict[str, int | None] = {}
            skewed: list[str] = []
            repull = False
            for result in answer.results:
                entry = sent[result.change_id]
                if result.status == "rejected":
                    problem = dict(result.problem or {"type": "/problems/invalid", "title": "rejected"})
                    log.info("change rejected: %s (field %s)", problem_token(problem), problem.get("field"))
                    self.store.outbox_reject(result.change_id, problem)
                    if problem_token(problem) == "clock-skew" and not skew_handled:
                        skewed.append(result.change_id)
                        continue
                    report.rejected.append(self._rejected_change(entry, problem))
                    continue
                acknowledged.append(result.change_id)
                seqs[result.change_id] = result.seq
                if result.status == "duplicate":
                    report.duplicates += 1
                    # Applied before under the clock it had then: the row's clock is not the
                    # server's. A full download puts the server's clocks back.
                    repull = repull or entry.original_clock is not None
                elif result.status == "conflict":
                    report.conflicts += 1
            with self.store.batch(source="sync"):  # the answer and what follows from it: one commit
                self._mark_started()
                if acknowledged:
                    self.store.outbox_acknowledge(acknowledged, seqs)
                if repull:
                    log.info("a re-stamped change had been applied before: downloading everything again")
                    self.store.set_meta(META_FULL_PULL, True)
            report.pushed += len(acknowledged)
            if skewed:
                # The answer's server_time has corrected the clock's offset (and set back a clock
                # that had run ahead). Every unsent change whose clock the server would still
                # refuse gets a new one, in the order they were made, and is sent again, once.
                skew_handled = True
                report.restamped += self.store.outbox_restamp(
                    list(dict.fromkeys(skewed + self._ahead_of_server())), fresh=True
                )
            self._set_status()  # counts changed

    def _prepare_outbox(self) -> int:
        """Before pushing: changes made under another node id (before enrolment) take this
        device's; changes refused earlier for clock skew get a fresh clock and go again."""
        restamped = 0
        foreign = self.store.outbox_foreign_node()
        if foreign:
            restamped += self.store.outbox_restamp(foreign, fresh=False, resend=False)
        skewed = [
            e.change_id for e in self.store.outbox_rejected()
            if problem_token(e.problem) == "clock-skew"
        ]
        if skewed:
            restamped += self.store.outbox_restamp(skewed, fresh=True)
        return restamped

    def _ahead_of_server(self) -> list[str]:
        """Pending changes whose clock is beyond what the server accepts now."""
        bound = ceiling(self.store.clock.physical_ms() + MAX_SKEW_MS)
        return [e.change_id for e in self.store.outbox_pending(10**9) if e.clock > bound]

    def _batch(self, changes: list[dict]) -> tuple[list[dict], bytes]:
        """As many leading changes as fit 1,000 changes and 4 MiB, and their encoded body."""
        parts: list[bytes] = []
        size = PUSH_ENVELOPE_BYTES
        for change in changes[: self.push_max_changes]:
            encoded = encode_json(change)
            if parts and size + len(encoded) + 1 > self.push_max_bytes:
                break
            parts.append(encoded)
            size += len(encoded) + 1
        body = b'{"changes":[' + b",".join(parts) + b"]}"
        return changes[: len(parts)], body

    # --- pull -----------------------------------------------------------------------------

    def _mark_started(self) -> None:
        """Note, with this sync's first local change, that a sync is under way (cleared when it
        ends): still there at the next opening, it says the sync was interrupted. Not a write
        of its own before the push: the first one joins the push answer's transaction."""
        if self._started is None:
            self._started = format_time(self._now_ms())
            self.store.set_meta(META_SYNC_STARTED, self._started)

    def _pull(self, client: SyncClient, report: SyncReport) -> None:
        self._mark_started()
        full = bool(self.store.get_meta(META_FULL_PULL))
        if full:
            self.store.set_meta(META_CURSOR, None)
        try:
            self._pull_pages(client, report, sweep=full)
        except ResyncRequired:
            # The server no longer keeps what our cursor points after: download everything
            # again. The outbox is not touched; pending edits stay visible over pulled values.
            log.info("server asked for a full resync")
            report.resynced = True
            self.store.set_meta(META_FULL_PULL, True)
            self.store.set_meta(META_CURSOR, None)
            self._pull_pages(client, report, sweep=True)

    def _pull_pages(self, client: SyncClient, report: SyncReport, *, sweep: bool) -> None:
        cursor = self.store.get_meta(META_CURSOR)
        total = self._expected_total(client) if cursor is None else None
        seen: dict[str, set[str]] | None = {} if sweep else None
        max_seq = 0
        done = 0
        quarantined = self.store.quarantine_count()
        limit = self.pull_limit or (PULL_LIMIT_FROM_SCRATCH if cursor is None else PULL_LIMIT_CATCHING_UP)
        pending = self._prefetch(client, cursor, limit)
        while True:
            page, limit = pending.result()
            if page.has_more and (not page.records or page.cursor in (None, cursor)):
                # More to come, but from where we are: asking again would loop for ever.
                raise PullStuck(server=client.server_url, detail=f"cursor {cursor!r} did not move")
            # While this page is applied, the next one is fetched (one request in flight at a
            # time; the pages are still applied strictly in order, each with its cursor).
            pending = self._prefetch(client, page.cursor, limit) if page.has_more else None
            if pending is None and self._digest_due(report):
                # The last page: while it is applied and the search index built (seconds after
                # a download from scratch), the server computes the digest the check compares.
                # It describes the server after this page was read, as one asked for after the
                # apply would (a server that moves meanwhile is caught up with by the check).
                self._drop_digest_ahead()
                self._digest_ahead = self._fetcher.submit(client.digest, leave_out_compacted=True)
            try:
                self.store.apply_pulled(page.records, page.cursor)  # page and cursor: one transaction
            except BaseException:
                if pending is not None:
                    pending.cancel()
                    _wait_quietly(pending)
                raise
            report.pages += 1
            done += len(page.records)
            report.pulled += len(page.records)
            if seen is not None:
                for record in page.records:
                    if isinstance(record, dict):
                        seen.setdefault(str(record.get("collection")), set()).add(str(record.get("record_id")))
                        seq = record.get("seq")
                        if type(seq) is int:
                            max_seq = max(max_seq, seq)
            if page.has_more or done:
                self._set_status(progress=(done, total))
            cursor = page.cursor
            if not page.has_more:
                break
        report.quarantined += max(0, self.store.quarantine_count() - quarantined)
        if seen is not None:
            self._sweep_absent(seen, max_seq, report)
            self.store.set_meta(META_FULL_PULL, None)

    def _prefetch(self, client: SyncClient, cursor: str | None, limit: int) -> Future:
        if self._fetcher is None:
            self._fetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="samverka-pull")
        return self._fetcher.submit(self._fetch_page, client, cursor, limit)

    @staticmethod
    def _fetch_page(client: SyncClient, cursor: str | None, limit: int) -> tuple[Any, int]:
        """One page; an answer over the client's size cap is asked for again in pages half as
        long (and the rest of this sync keeps the smaller size), down to a single record."""
        while True:
            try:
                return client.pull(cursor, limit), limit
            except ResponseTooLarge:
                if limit <= 1:
                    raise
                limit = max(1, limit // 2)
                log.warning("a pulled page was too large; asking for %d records at a time", limit)

    def _expected_total(self, client: SyncClient) -> int | None:
        """For a download from scratch: how many records to expect (for the progress bar)."""
        try:
            collections = client.digest()["collections"]
        except (Offline, RetryLater):
            raise
        except SyncError:
            return None
        return sum(int(c.get("count") or 0) for c in collections.values())

    def _sweep_absent(self, seen: Mapping[str, set[str]], max_seq: int, report: SyncReport) -> None:
        """After a complete download from scratch: local copies of records the server did not send.

        A record whose last known position is at or below the highest position just received
        was deleted on the server and its tombstone compacted away: it becomes a local
        tombstone. One whose position is higher than anything the server now holds (a server
        restored from an older backup) is kept, marked as not known to the server, and counted.
        Neither touches the outbox.
        """
        gone: list[dict] = []
        for collection in COLLECTION_NAMES:
            present = seen.get(collection, set())
            for record_id, seq in self.store.server_seqs(collection):
                if record_id in present:
                    continue
                row = self.store.get(collection, record_id)
                if row is None:
                    continue
                if seq <= max_seq:
                    gone.append({
                        "collection": collection, "record_id": record_id,
                        "owner_org": row.get("owner_org"), "visibility": "regional",
                        "deleted": True, "fields": {}, "seq": None,
                    })
                    report.removed_absent += 1
                else:
                    clocks = self.store.clocks(collection, record_id)
                    gone.append({
                        "collection": collection, "record_id": record_id,
                        "owner_org": row.get("owner_org"), "deleted": bool(row["deleted"]),
                        "fields": {
                            name: {"value": value, "clock": clocks[name]}
                            for name, value in row["fields"].items() if name in clocks
                        },
                        "seq": None,
                    })
                    report.kept_absent += 1
        if gone:
            log.warning(
                "after a full download: %d local records gone from the server, %d kept",
                report.removed_absent, report.kept_absent,
            )
            self.store.apply_pulled(gone, self.store.get_meta(META_CURSOR))

    # --- digest ---------------------------------------------------------------------------

    def _digest_due(self, report: SyncReport) -> bool:
        if report.resynced or report.repaired:
            return True
        last = self.store.get_meta(META_LAST_DIGEST)
        return last is None or self._now_ms() - int(last) >= self.digest_interval * 1000

    def _check_digest(self, client: SyncClient, report: SyncReport) -> None:
        """Compare the server's per-collection digest with ours; repair by a full download."""
        if not self._digest_due(report):
            return
        try:
            differing = self._compare_digest(client, report)
        except ProtocolError as error:
            # A server without a usable digest: the data synced fine; say so in the log only.
            log.warning("digest check skipped: %r", error)
            return
        content = self.store.check_content()
        report.restored += len(content.restored)
        if differing or content.unknown:
            # content.unknown: refused changes kept from an older version, without the server's
            # state of their records; a full download brings it (once: it is kept afterwards).
            log.warning("digest differs for %s: downloading everything again", differing)
            report.repaired = differing
            self.store.set_meta(META_FULL_PULL, True)
            self.store.set_meta(META_CURSOR, None)
            self._pull_pages(client, report, sweep=True)
            differing = self._compare_digest(client, report)
            if differing:
                log.error("digest still differs after a full download: %s", differing)
        report.digest_ok = not differing
        self.store.set_meta(META_LAST_DIGEST, self._now_ms())

    def _drop_digest_ahead(self) -> None:
        ahead, self._digest_ahead = self._digest_ahead, None
        if ahead is not None:
            ahead.cancel()
            _wait_quietly(ahead)

    def _server_digest(self, client: SyncClient) -> dict[str, Any]:
        """The server's digest for the check: the one asked for ahead, else asked for now."""
        ahead, self._digest_ahead = self._digest_ahead, None
        if ahead is not None:
            return ahead.result()
        return client.digest(leave_out_compacted=True)

    def _compare_digest(self, client: SyncClient, report: SyncReport) -> list[str]:
        try:
            return self._compare_digest_rounds(client, report)
        finally:
            # A digest asked for ahead by a pull whose records did not need it: no request
            # may be left running on the client when the sync goes on (one at a time).
            self._drop_digest_ahead()

    def _compare_digest_rounds(self, client: SyncClient, report: SyncReport) -> list[str]:
        for _ in range(DIGEST_ROUNDS):
            theirs = self._server_digest(client)
            cursor = theirs.get("cursor")
            if cursor is not None and str(cursor) != str(self.store.get_meta(META_CURSOR)):
                # The digest was taken at another position than our cursor: catch up. If there
                # was nothing to catch up on (the last positions went to records no longer
                # there), both sides describe the same state and can be compared.
                before = report.pulled
                self._pull(client, report)
                if report.pulled != before:
                    continue
            collections = theirs["collections"]
            # A server that names its compaction watermark left out what it may have compacted
            # (and what this device receives as tombstones at or below it); so does this side,
            # and this organisation's own tombstones there go here too. Without the member (an
            # older server) the whole digest is compared, as before.
            through = theirs.get("compacted_through")
            own = self.store.get_meta(META_ORGANISATION_ID)
            if through is not None and isinstance(own, str) and own:
                self.store.purge_compacted(through, own)
            ours = local_digest(self.store, collections, compacted_through=through)
            names = sorted(set(collections) | {n for n, d in ours.items() if d["count"]})
            return [
                name for name in names
                if _digest_of(collections.get(name)) != _digest_of(ours.get(name))
            ]
        return []  # the server keeps moving; compare another time

    # --- the device directory ---------------------------------------------------------------

    def _refresh_directory(self, client: SyncClient) -> None:
        """Fetch the device directory when it is a day old, or when an open conflict names a
        device it has not looked for yet. Never fails a sync."""
        now = self._now_ms()
        last = self.store.get_meta(META_DIRECTORY_AT)
        known = self.store.get_meta(META_DIRECTORY) or {}
        named = {
            c["fields"].get(k) for c in self.open_conflicts() for k in ("kept_device", "other_device")
        } - {None, ""}
        fresh = isinstance(last, int) and now - last < DIRECTORY_INTERVAL_MS
        if fresh and named <= set(known):
            return
        try:
            devices = client.devices()
        except SyncError as error:  # an older server without the directory, or a hiccup
            log.info("device directory not fetched: %s (HTTP %s)", error.key, error.http_status)
            self.store.set_meta(META_DIRECTORY_AT, now)
            return
        directory: dict[str, Any] = dict.fromkeys(named)  # looked for, not there: not again today
        directory.update({
            d["device_id"]: {k: d[k] for k in ("organisation_id", "name", "revoked")} for d in devices
        })
        with self.store.batch(source="sync"):
            self.store.set_meta(META_DIRECTORY, directory)
            self.store.set_meta(META_DIRECTORY_AT, now)

    def device_label(self, device_id: str | None) -> str:
        """A device as a person knows it: "Laptop TiB, SOS Alarm" (from the directory)."""
        return device_label(self.store, device_id)

    # --- rejected changes -------------------------------------------------------------------

    def rejected(self) -> list[RejectedChange]:
        """Every change the server refused, oldest first, with the reason in words."""
        return [self._rejected_change(e, e.problem) for e in self.store.outbox_rejected()]

    def _rejected_change(self, entry: Any, problem: Mapping[str, Any] | None) -> RejectedChange:
        return RejectedChange(
            entry.change_id, entry.collection, entry.record_id, problem_text(problem), problem,
            title=record_title(self.store, entry.collection, entry.record_id),
            rejected_at=getattr(entry, "rejected_at", None), op=entry.op,
        )

    def _rejected_entry(self, reference: str) -> Any:
        entry = self.store.outbox_entry(reference)
        if entry is None or entry.status != "rejected":
            raise SyncError("syncer.rejected_not_found", id=str(reference).strip()[:40])
        return entry

    def retry(self, reference: str) -> RejectedChange:
        """Send a refused change again at the next sync (its id or the beginning of it)."""
        with self._sync_lock:
            entry = self._rejected_entry(reference)
            self.store.outbox_retry(entry.change_id)
        self._set_status()
        return self._rejected_change(entry, entry.problem)

    def discard(self, reference: str) -> tuple[RejectedChange, str]:
        """Drop a refused change; its record returns to the server's last state.

        Returns the change and how (``Store.outbox_discard``'s outcome). When the device kept no
        server state for the record (a change from an older version), the next sync downloads
        everything again, which restores it exactly.
        """
        with self._sync_lock:
            entry = self._rejected_entry(reference)
            change = self._rejected_change(entry, entry.problem)
            with self.store.batch(source="sync"):  # a crash between the two would lose the repair
                outcome = self.store.outbox_discard(entry.change_id)
                if outcome == DISCARD_NEEDS_PULL:
                    self.store.set_meta(META_FULL_PULL, True)
        self._set_status()
        return change, outcome


def record_title(store: Any, collection: str, record_id: str) -> str:
    """A record's name as a person knows it (its name, title, value, text or reason)."""
    record = store.get(collection, record_id) if collection in COLLECTIONS else None
    if record is None:
        return "?"
    fields = record["fields"]
    if collection == "channels" and fields.get("kind") in PHONE_CHANNEL_KINDS and fields.get("value"):
        return format_phone(fields["value"])
    for key in ("name", "title", "value", "text", "reason"):
        if fields.get(key):
            return str(fields[key])[:80]
    return record["record_id"]


def device_label(store: Any, device_id: str | None) -> str:
    """"Laptop TiB, SOS Alarm" for a device in the directory; this device and the server are
    named as such; an unknown id is shown short."""
    if not device_id:
        return "?"
    if device_id == store.get_meta(META_DEVICE_ID):
        return syncer_message("syncer.this_device")
    entry = (store.get_meta(META_DIRECTORY) or {}).get(device_id)
    if not isinstance(entry, dict):
        return syncer_message("syncer.unknown_device", id=str(device_id)[:8])
    organisation = None
    org_id = entry.get("organisation_id")
    if org_id:
        try:
            record = store.get("organisations", org_id)
        except Exception:  # a malformed id from the server: show the name alone
            record = None
        organisation = record["fields"].get("name") if record else None
    name = str(entry.get("name") or "?")
    return f"{name}, {organisation}" if organisation else name


def _failure_of(stored: Any) -> tuple[str, str, str | None] | None:
    """(state, sentence, when) of a kept failure; older versions kept only the sentence."""
    if not stored:
        return None
    if isinstance(stored, str):
        return (STATE_ERROR, stored, None)
    if not isinstance(stored, dict):
        return None
    args = stored.get("args") if isinstance(stored.get("args"), dict) else {}
    state = stored.get("state") if stored.get("state") in (
        STATE_OFFLINE, STATE_ERROR, STATE_UNAUTHORIZED) else STATE_ERROR
    return (state, syncer_message(str(stored.get("key") or "syncer.error"), **args), stored.get("at"))


def _local(iso: str) -> str:
    return when_text(iso)


EMPTY_HASH = hashlib.sha256(b"").hexdigest()


_collector_lock = threading.Lock()
_collector_pauses = 0  # syncs running with the collector paused (one engine per store)
_collector_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a sync runs.

    A pulled page of 5,000 records decodes into some 35,000 dicts and is applied through as
    many row tuples, and the digest and a big push make as many objects again; the collector's
    passes over them (none of them garbage: reference counting frees a page once it is applied)
    took about a sixth of an initial sync's client time. It runs again when the last sync
    running ends (and collects whatever cycles were left meanwhile); when it was off already,
    it stays off.
    """
    global _collector_pauses, _collector_was_enabled
    with _collector_lock:
        if _collector_pauses == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _collector_pauses += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_pauses -= 1
            if _collector_pauses == 0 and _collector_was_enabled:
                gc.enable()


def _wait_quietly(future: Future) -> None:
    """Let an abandoned prefetch finish (its page is dropped; the cursor was not advanced)."""
    try:
        future.result(timeout=120)
    except BaseException:  # its error no longer matters: the sync already failed
        pass


def _digest_of(entry: Mapping[str, Any] | None) -> tuple[int, str]:
    if not entry:
        return (0, EMPTY_HASH)
    return (int(entry.get("count") or 0), str(entry.get("hash") or EMPTY_HASH))


def collection_digest(rows: Iterable[tuple[str, int]]) -> dict[str, Any]:
    """SYNC.md's digest of one collection: SHA-256 of "<record_id>:<seq>\\n" sorted by record_id."""
    ordered = sorted(rows)
    digest = hashlib.sha256()
    for record_id, seq in ordered:
        digest.update(f"{record_id}:{seq}\n".encode())
    return {"count": len(ordered), "hash": digest.hexdigest()}


def local_digest(
    store: Any, server_names: Iterable[str] = (), *, compacted_through: int | None = None
) -> dict[str, dict[str, Any]]:
    """The digest of what this device holds from the server (rows with a server position).

    A record kept aside (quarantined) counts at the seq it was received with: the device has
    seen that state, it only did not apply it, and downloading it again would change nothing.
    That holds for a collection this version does not know either (``server_names``: those the
    server's digest names), whose records are all kept aside: without it, a newer server's
    collection would make every digest check download everything again.

    ``compacted_through`` (the server's compaction watermark, when its digest names one): the
    records whose server state is a tombstone at or below it are left out, as the server's
    digest leaves them out.
    """
    digests = {}
    for name in COLLECTION_NAMES:
        seqs = dict(store.server_seqs(name, compacted_through=compacted_through))
        seqs.update(store.quarantined_seqs(name, compacted_through=compacted_through))
        digests[name] = collection_digest(seqs.items())
    for name in server_names:
        if name not in digests and isinstance(name, str):
            digests[name] = collection_digest(
                store.quarantined_seqs(name, compacted_through=compacted_through).items()
            )
    return digests
