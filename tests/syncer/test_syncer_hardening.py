"""Issue 7, the client's side: a far-future clock, a malformed record, a stuck or bloated server,
a refused edit, a revoked device — none bricks the vault, leaks, loops or leaves it stuck."""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
import uuid

import pytest
from fastapi import FastAPI
from syncer_helpers import ServerThread, preload_records, put_raw_record, server_record, snapshot

from desktop.store import Store
from desktop.store.store import DISCARD_NEEDS_PULL, DISCARD_REMOVED, DISCARD_RESTORED
from desktop.syncer import engine as E
from desktop.syncer.client import SyncClient
from desktop.syncer.engine import SyncEngine
from desktop.syncer.enroll import enroll
from desktop.syncer.errors import PullStuck, ResponseTooLarge, SyncError
from sync.clock import MAX_WALL_MS, ClockError, Hlc, HybridClock, format_time, wall_ms_of
from sync.records import COLLECTIONS, InvalidChange, validate_value

FAR = "9999999999999-99999-far-peer"  # the largest clock the wire form can hold


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def peer_clock(ahead_ms: int = 0) -> str:
    return str(Hlc(now_ms() + ahead_ms, 0, "peer"))


# --- 1: clocks ---------------------------------------------------------------------------------


def test_a_clock_is_never_made_past_the_thirteen_digits_of_the_wire_form():
    clock = HybridClock("n", wall=lambda: MAX_WALL_MS, last=f"{MAX_WALL_MS}-99998-n")
    assert clock.now() == f"{MAX_WALL_MS}-99999-n"
    with pytest.raises(ClockError):
        clock.now()  # the next one would need a fourteenth digit
    assert clock.last == f"{MAX_WALL_MS}-99999-n"  # and nothing was made
    with pytest.raises(ClockError):
        str(Hlc(MAX_WALL_MS + 1, 0, "n"))
    late = HybridClock("n", wall=lambda: MAX_WALL_MS + 5_000)  # a system clock set past 2286
    assert len(late.now().split("-")[0]) == 13


def test_a_far_future_clock_is_not_adopted_and_a_wild_server_time_is_ignored():
    clock = HybridClock("n")
    assert clock.receive(FAR, max_ahead_ms=60_000) is False
    assert clock.lead_ms() < 1_000
    assert clock.receive(peer_clock(30_000), max_ahead_ms=60_000) is True  # within the skew
    assert clock.observe_server_time("9999-12-31T23:59:59.999Z") is False
    assert clock.observe_server_time("1960-01-01T00:00:00.000Z") is False
    assert abs(clock.physical_ms() - now_ms()) < 1_000


def test_one_far_future_clock_from_a_peer_does_not_brick_the_vault(server, device_factory, make_function):
    device = device_factory(server, "sos")
    org = server.org_ids["sos"]
    _, cid = make_function(device.store, org, "TiB")
    device.sync()
    ahead = str(uuid.uuid4())
    put_raw_record(server.sessions, "functions", ahead, {
        "organisation_id": {"value": org, "clock": FAR}, "name": {"value": "Framtida", "clock": FAR},
    }, org)
    device.sync()
    assert device.store.get("functions", ahead)["fields"]["name"] == "Framtida"  # stored as it came
    assert device.store.clocks("functions", ahead)["name"] == FAR
    assert device.store.clock.lead_ms() < 60_000  # the local clock was not dragged along
    device.store.update("channels", cid, {"note": "skrivet efteråt"})
    assert device.sync().rejected == []  # a clock the server accepts
    device.engine.close()
    device.store.close()
    with Store.open(device.path, device.key) as reopened:
        assert reopened.get("channels", cid)["fields"]["note"] == "skrivet efteråt"
        reopened.update("channels", cid, {"note": "och efter omstart"})
        assert len(reopened.outbox_pending()[-1].clock.split("-")[0]) == 13


@pytest.mark.parametrize("stored", [
    "10000000000000-00000-{node}",  # what an older version saved after adopting a far clock
    "9999999999999-99999-{node}",  # one more clock and it would overflow
    str(Hlc(now_ms() + 7 * 86_400_000, 0, "x")),  # a week ahead of a plausible wall clock
    "not a clock",
    12345,
])
def test_a_vault_whose_stored_clock_is_unusable_opens_and_keeps_its_data(tmp_path, stored, caplog):
    path, key = tmp_path / "samverka.db", os.urandom(32)
    with Store.open(path, key) as store:
        org = store.create("organisations", {"name": "Kvar som förut"})
        node = store.node_id
        unsent = store.outbox_pending()[0].clock
        store.set_meta("hlc_last", stored.format(node=node) if isinstance(stored, str) else stored)
    caplog.set_level(logging.WARNING)
    with Store.open(path, key) as store:
        assert store.get("organisations", org)["fields"]["name"] == "Kvar som förut"
        assert store.outbox_count() == 1
        assert abs(wall_ms_of(store.clock.last) - now_ms()) < 60_000
        assert store.clock.last >= unsent  # never below this device's own unsent changes
        store.update("organisations", org, {"name": "Ändrad"})
        made = store.outbox_pending()[-1].clock
        assert made > unsent and len(made.split("-")[0]) == 13
    assert "clock" in caplog.text
    assert node not in caplog.text and "99999" not in caplog.text  # said without content
    with Store.open(path, key) as store:  # and the repair was kept
        assert store.clock.last >= made


def test_a_clock_ahead_of_a_wall_clock_that_is_plainly_wrong_is_kept(tmp_path):
    path, key = tmp_path / "samverka.db", os.urandom(32)
    with Store.open(path, key) as store:
        org = store.create("organisations", {"name": "A"})
        last = store.clock.last
    dead_battery = lambda: 946_684_800_000  # noqa: E731  2000-01-01, before the vault was made
    with Store.open(path, key, clock_wall=dead_battery) as store:
        assert store.clock.last == last  # not "repaired" back to the year 2000
        store.update("organisations", org, {"name": "B"})
        assert store.outbox_pending()[-1].clock > last


# --- 8: clock skew, and changes made before enrolment ---------------------------------------------


def test_changes_made_before_enrolment_on_a_fast_clock_reach_the_server(tmp_path, server):
    fast = lambda: now_ms() + 15 * 60_000  # noqa: E731
    store = Store.open(tmp_path / "samverka.db", os.urandom(32), clock_wall=fast)
    try:
        routine = store.create("routines", {"title": "Larmrutin"})  # a standalone vault's edits
        store.update("routines", routine, {"body": "Ring TiB först."})
        before = store.node_id
        enroll(store, server.url, server.code("sos"))
        device = store.get_meta(E.META_DEVICE_ID)
        pending = store.outbox_pending()
        assert [e.clock.endswith(device) for e in pending] == [True, True]  # in the device's name
        assert all(e.original_clock.endswith(before) for e in pending)
        assert pending[1].base["body"] is None and store.clocks("routines", routine)["body"] == pending[1].clock
        engine = SyncEngine(store, digest_interval=0)
        report = engine.sync_now()
        assert report.rejected == [] and report.pushed == 2 and report.restamped >= 2
        held = server_record(server.sessions, "routines", routine)
        assert held["body"][0] == "Ring TiB först."
        assert {clock.split("-", 2)[2] for _, clock in held.values()} == {device}
        assert abs(wall_ms_of(held["title"][1]) - now_ms()) < 60_000
        engine.close()
    finally:
        store.close()


def test_a_change_refused_for_clock_skew_is_restamped_and_sent(server, device_factory, make_function):
    device = device_factory(server, "sos")
    _, cid = make_function(device.store, server.org_ids["sos"], "TiB")
    device.sync()
    # The local clock has run an hour ahead (a far clock an older version adopted, say).
    device.store.clock.receive(str(Hlc(now_ms() + 3_600_000, 0, "x")))
    device.store.update("channels", cid, {"note": "klockan gick fel"})
    skewed = device.store.outbox_pending()[0].clock
    report = device.sync()
    assert report.rejected == [] and report.pushed == 1 and report.restamped == 1
    assert device.store.clock.lead_ms() < 60_000  # set back once the server's time was known
    held = server_record(server.sessions, "channels", cid)["note"]
    assert held[0] == "klockan gick fel" and held[1] < skewed
    assert device.store.clocks("channels", cid)["note"] == held[1]
    assert device.engine.rejected() == []


def test_a_change_kept_as_rejected_for_clock_skew_is_sent_at_the_next_sync(server, device_factory, make_function):
    device = device_factory(server, "sos")
    _, cid = make_function(device.store, server.org_ids["sos"], "TiB")
    device.sync()
    device.store.update("channels", cid, {"label": "växel"})
    [entry] = device.store.outbox_pending()
    device.store.outbox_reject(entry.change_id, {  # as an older version left it
        "type": "/problems/clock-skew", "title": "Clock ahead", "status": 422, "field": "clock",
        "detail": "clock is 900 s ahead",
    })
    assert device.sync().rejected == [] and device.engine.rejected() == []
    assert server_record(server.sessions, "channels", cid)["label"][0] == "växel"


# --- 7: what the client pulls -------------------------------------------------------------------


def test_a_malformed_pulled_record_is_kept_aside_and_the_sync_moves_on(server, device_factory, make_function):
    device = device_factory(server, "sos")
    org = server.org_ids["sos"]
    c = peer_clock()

    def fields(**values):
        return {name: {"value": value, "clock": c} for name, value in values.items()}

    function_id = str(uuid.uuid4())
    put_raw_record(server.sessions, "functions", function_id, fields(organisation_id=org, name="Ok"), org)
    bad = {
        "not a reference": ("channels", fields(function_id="inte-ett-id", kind="mobile", value="+46701740600")),
        "over the limit": ("functions", fields(organisation_id=org, name="x" * 501)),
        "wrong type": ("channels", fields(function_id=function_id, kind="mobile", value="1", priority="hög")),
        "no clock": ("functions", {"organisation_id": {"value": org, "clock": c},
                                   "name": {"value": "Klocklös", "clock": "igår"}}),
        "not a choice": ("functions", fields(organisation_id=org, name="N", availability="ibland")),
    }
    ids = {why: str(uuid.uuid4()) for why in bad}
    for why, (collection, state) in bad.items():
        put_raw_record(server.sessions, collection, ids[why], state, org)
    make_function(device.store, org, "TiB")  # the device's own changes still go through
    report = device.sync()
    assert report.quarantined == len(bad) and report.pushed == 2 and report.digest_ok
    for why, (collection, _) in bad.items():
        assert device.store.get(collection, ids[why]) is None, why  # never applied
    assert device.store.get("functions", function_id)["fields"]["name"] == "Ok"
    assert device.engine.status().quarantined_count == len(bad)
    assert {q.record_id for q in device.store.quarantined()} == set(ids.values())
    # Nothing is downloaded again and again: a record kept aside counts as received.
    again = device.sync()
    assert again.pulled == 0 and again.repaired == [] and again.digest_ok
    # The server puts it right: the valid state replaces what was kept aside.
    fixed = ids["over the limit"]
    put_raw_record(server.sessions, "functions", fixed, fields(organisation_id=org, name="Rättad"), org)
    device.sync()
    assert device.store.get("functions", fixed)["fields"]["name"] == "Rättad"
    assert device.engine.status().quarantined_count == len(bad) - 1


@pytest.mark.parametrize("damage, field", [
    (lambda r: "not an object", None),
    (lambda r: {**r, "collection": "future_things"}, "collection"),
    (lambda r: {**r, "record_id": "7"}, "record_id"),
    (lambda r: {**r, "seq": "12"}, "seq"),
    (lambda r: {**r, "seq": True}, "seq"),
    (lambda r: {**r, "owner_org": 42}, "owner_org"),
    (lambda r: {**r, "visibility": "everyone"}, "visibility"),
    (lambda r: {**r, "deleted": "no"}, "deleted"),
    (lambda r: {**r, "deleted_clock": "yesterday"}, "deleted_clock"),
    (lambda r: {**r, "fields": ["name"]}, "fields"),
    (lambda r: {**r, "fields": {"name": "SOS"}}, "name"),
    (lambda r: {**r, "fields": {"name": {"value": "SOS", "clock": None}}}, "name"),
    (lambda r: {**r, "fields": {"name": {"value": {"nested": [1]}, "clock": peer_clock()}}}, "name"),
    (lambda r: {**r, "fields": {"kind": {"value": "pirates", "clock": peer_clock()}}}, "kind"),
    (lambda r: {**r, "fields": {"last_verified": {"value": "2026-02-30", "clock": peer_clock()}}}, "last_verified"),
])
def test_what_a_pulled_record_must_be(damage, field):
    from desktop.store.quarantine import check_pulled

    good = {"collection": "organisations", "record_id": str(uuid.uuid4()), "owner_org": str(uuid.uuid4()),
            "visibility": "regional", "deleted": False, "seq": 3,
            "fields": {"name": {"value": "SOS Alarm", "clock": peer_clock()},
                       "colour": {"value": "red", "clock": "a newer version's field"}}}
    assert check_pulled(good) is None  # a field this version does not know is no fault
    assert check_pulled({**good, "deleted": True, "fields": {"name": "ignored"}}) is None
    problem = check_pulled(damage(good))
    assert problem is not None and problem.field == field


_VALUES = [
    None, "", "   ", "x", "Södertörn", "a1", "a-1", 0, 1, -1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1,
    True, False, 1.5, [], ["x"], {}, {"a": 1}, str(uuid.UUID(int=7)), str(uuid.UUID(int=7)).upper(),
    "2026-02-28", "2026-02-30", "2026-01-01T10:00:00Z", "2026-01-01T10:00:00", FAR, "functions",
    *sorted({c for coll in COLLECTIONS.values() for f in coll.fields.values() for c in f.choices}),
]


@pytest.mark.parametrize("collection", sorted(COLLECTIONS))
def test_a_pulled_value_is_kept_aside_exactly_when_validate_value_refuses_it(collection):
    """check_pulled accepts the commonest values without calling validate_value: for every
    field and every kind of value (lengths at the limit and one past it too) it must decide as
    validate_value does, and name the field when it refuses one."""
    from desktop.store.quarantine import check_pulled

    for name, spec in COLLECTIONS[collection].fields.items():
        limit = spec.max_length or 3
        for value in [*_VALUES, "x" * limit, "x" * (limit + 1), " " * limit]:
            record = {"collection": collection, "record_id": str(uuid.uuid4()), "seq": 3,
                      "deleted": False, "fields": {name: {"value": value, "clock": peer_clock()}}}
            try:
                if value is not None:
                    validate_value(spec, value)
                refused = False
            except InvalidChange:
                refused = True
            problem = check_pulled(record)
            assert (problem is not None) == refused, (name, value, problem)
            assert problem is None or problem.field == name


def _fake_server(pull):
    """A server that answers pulls with ``pull(cursor, limit)`` (and an empty digest)."""
    app = FastAPI()
    calls = {"pull": 0}

    @app.get("/v1/sync/pull")
    def pull_route(cursor: str | None = None, limit: int = 1000):
        calls["pull"] += 1
        return pull(cursor, limit)

    @app.get("/v1/sync/digest")
    def digest_route():
        return {"collections": {}, "server_time": format_time(now_ms())}

    return ServerThread(app).start(), calls


def _vault_for(tmp_path, url) -> Store:
    store = Store.open(tmp_path / "samverka.db", os.urandom(32))
    store.set_meta(E.META_SERVER_URL, url)
    store.set_meta(E.META_TOKEN, "token")
    store.set_meta(E.META_DEVICE_ID, str(uuid.uuid4()))
    return store


def _sync_in_time(engine, seconds: float = 30.0):
    """Run a sync in a thread; a sync that loops for ever fails the test instead of hanging it."""
    outcome: dict = {}

    def run():
        try:
            outcome["report"] = engine.sync_now()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the sync did not end"
    return outcome


def test_a_server_whose_cursor_does_not_move_ends_the_sync_with_a_clear_error(tmp_path):
    org = str(uuid.uuid4())
    record = {"collection": "organisations", "record_id": org, "owner_org": org, "deleted": False,
              "visibility": "regional", "fields": {"name": {"value": "A", "clock": peer_clock()}}, "seq": 1}
    thread, calls = _fake_server(lambda cursor, limit: {
        "records": [record], "cursor": "c1", "has_more": True, "server_time": format_time(now_ms()),
    })
    store = _vault_for(tmp_path, thread.url)
    engine = SyncEngine(store)
    try:
        outcome = _sync_in_time(engine)
        assert isinstance(outcome.get("error"), PullStuck)
        assert calls["pull"] <= 3
        status = engine.status()
        assert status.state == "error" and thread.url in status.last_error
        assert store.get("organisations", org)["fields"]["name"] == "A"  # what came is kept
    finally:
        engine.close()
        store.close()
        thread.stop()


def test_an_answer_over_the_size_cap_is_not_read_and_ends_the_sync(tmp_path):
    org = str(uuid.uuid4())
    padding = "x" * 400
    records = [{"collection": "organisations", "record_id": str(uuid.uuid4()), "owner_org": org,
                "deleted": False, "fields": {"notes": {"value": padding, "clock": peer_clock()}}, "seq": n}
               for n in range(1, 3000)]
    thread, calls = _fake_server(lambda cursor, limit: {
        "records": records, "cursor": "c", "has_more": False, "server_time": format_time(now_ms()),
    })
    store = _vault_for(tmp_path, thread.url)
    engine = SyncEngine(store, client_factory=functools.partial(SyncClient, max_response_bytes=256 * 1024))
    try:
        outcome = _sync_in_time(engine, 60)
        assert isinstance(outcome.get("error"), ResponseTooLarge)
        assert calls["pull"] > 1  # smaller pages were asked for first
        assert "larger than this program reads" in str(outcome["error"]) or "större" in str(outcome["error"])
        assert store.count("organisations", include_deleted=True) == 0
    finally:
        engine.close()
        store.close()
        thread.stop()


def test_pages_over_the_size_cap_are_fetched_in_smaller_pages(server, device_factory):
    device = device_factory(server, "sos", initial_sync=False, pull_limit=2000,
                            client_factory=functools.partial(SyncClient, max_response_bytes=64 * 1024))
    total = preload_records(server.sessions, server.org_ids["sos"], server.org_ids["sos"], 300)
    report = device.sync()
    assert report.pulled >= total and report.pages > 2 and report.digest_ok
    assert device.store.count("functions") + device.store.count("channels") == total


# --- 9 and 10: refused edits --------------------------------------------------------------------


def _two_organisations(server, device_factory, make_function):
    """SOS Alarm's device with a function and channel, and a device of another organisation
    that has pulled them."""
    sos = device_factory(server, "sos", name="sos")
    sbff = device_factory(server, "sbff", name="sbff")
    fid, cid = make_function(sos.store, server.org_ids["sos"], "TiB SOS")
    sos.sync()
    sbff.sync()
    return sos, sbff, fid, cid


def _refused_edit(server, device_factory, make_function):
    sos, sbff, _, cid = _two_organisations(server, device_factory, make_function)
    sbff.store.update("channels", cid, {"note": "inte vårt att ändra", "label": "fel"})
    [refused] = sbff.sync().rejected
    return sos, sbff, cid, refused


def _state(store, collection, record_id):
    return store.get(collection, record_id)["fields"], store.clocks(collection, record_id)


def test_a_refused_edit_discarded_leaves_the_record_as_everyone_else_has_it(
        server, device_factory, make_function):
    sos, sbff, cid, refused = _refused_edit(server, device_factory, make_function)
    assert refused.reason.startswith("din organisation får inte")  # in words, not the server's English
    assert refused.title == "070-174 06 10"
    # Until a person decides, the refused value is shown and the change listed.
    assert sbff.store.get("channels", cid)["fields"]["note"] == "inte vårt att ändra"
    assert [r.change_id for r in sbff.engine.rejected()] == [refused.change_id]
    sos.store.update("channels", cid, {"priority": 2, "note": "ägarens"})  # meanwhile, the owner
    sos.sync()
    sbff.sync()
    change, outcome = sbff.engine.discard(refused.change_id[:6])
    assert outcome == DISCARD_RESTORED and change.change_id == refused.change_id
    assert _state(sbff.store, "channels", cid) == _state(sos.store, "channels", cid)
    held = server_record(server.sessions, "channels", cid)
    fields, clocks = _state(sbff.store, "channels", cid)
    assert {n: (fields[n], clocks[n]) for n in held} == held
    assert fields["label"] is None and fields["note"] == "ägarens" and fields["priority"] == 2
    assert sbff.engine.rejected() == [] and sbff.engine.status().rejected_count == 0
    report = sbff.sync()
    assert report.rejected == [] and report.pushed == 0 and report.digest_ok
    assert snapshot(sbff.store) == snapshot(sos.store)


def test_a_refused_journal_entry_is_sent_again_once_it_is_allowed(server, device_factory, make_function):
    lst = device_factory(server, "lst", "regional_admin", name="lst")
    sbff = device_factory(server, "sbff", name="sbff")
    rcb, _ = make_function(sbff.store, server.org_ids["sbff"], "RCB")
    sbff.sync()
    lst.sync()
    with lst.store.batch():
        forum = lst.store.create("forums", {"name": "Samverkanskonferens", "level": "coordinating"})
        activation = lst.store.create("activations", {
            "forum_id": forum, "reason": "Storm", "started_at": "2026-11-27T10:00:00.000Z"})
    lst.sync()
    sbff.sync()
    entry = sbff.store.create("log_entries", {
        "activation_id": activation, "at": "2026-11-27T10:05:00.000Z", "author_function_id": rcb,
        "kind": "information", "text": "RCB på plats",
    })
    [refused] = sbff.sync().rejected  # RCB holds no mandate in the forum yet
    lst.store.create("mandates", {"forum_id": forum, "function_id": rcb, "role": "member"})
    lst.sync()
    retried = sbff.engine.retry(refused.change_id)
    assert retried.change_id == refused.change_id and sbff.store.outbox_count() == 1
    report = sbff.sync()
    assert report.rejected == [] and report.pushed == 1
    lst.sync()
    assert lst.store.get("log_entries", entry)["fields"]["text"] == "RCB på plats"


def test_discarding_a_refused_new_record_removes_it_here_too(server, device_factory, make_function):
    sos, sbff, fid, _ = _two_organisations(server, device_factory, make_function)
    cid = sbff.store.create("channels", {"function_id": fid, "kind": "email", "value": "x@sbff.example"})
    [refused] = sbff.sync().rejected  # a channel on another organisation's function
    assert sbff.engine.discard(refused.change_id)[1] == DISCARD_REMOVED
    assert sbff.store.get("channels", cid) is None and sbff.store.search("sbff.example") == []
    assert snapshot(sbff.store) == snapshot(sos.store)
    with pytest.raises(SyncError) as raised:
        sbff.engine.discard(refused.change_id)
    assert raised.value.key == "syncer.rejected_not_found"


@pytest.mark.parametrize("sync_first", [False, True])
def test_a_refused_change_kept_by_an_older_version_is_discarded_exactly_too(
        server, device_factory, make_function, sync_first):
    """No server state was kept for it: discarding it downloads everything again; a sync before
    (its digest check notices the missing state) brings the state back, and the discard is exact."""
    sos, sbff, cid, refused = _refused_edit(server, device_factory, make_function)
    with sbff.store._write() as tx:
        tx.db.execute("DELETE FROM server_state")
    if sync_first:
        report = sbff.sync()
        assert report.pulled > 0 and report.digest_ok and sbff.sync().pulled == 0
    outcome = sbff.engine.discard(refused.change_id)[1]
    assert outcome == (DISCARD_RESTORED if sync_first else DISCARD_NEEDS_PULL)
    assert sbff.sync().digest_ok
    assert _state(sbff.store, "channels", cid) == _state(sos.store, "channels", cid)


def test_a_value_the_server_refused_held_under_its_seq_is_noticed_and_restored(
        server, device_factory, make_function):
    sos, sbff, cid, refused = _refused_edit(server, device_factory, make_function)
    # The refused change is gone (an older version dropped it), the value is not: the digest
    # (record_id:seq) cannot see it, the content check does.
    with sbff.store._write() as tx:
        tx.db.execute("DELETE FROM outbox")
    assert sbff.store.get("channels", cid)["fields"]["note"] == "inte vårt att ändra"
    report = sbff.sync()
    assert report.restored == 1 and report.digest_ok
    assert _state(sbff.store, "channels", cid) == _state(sos.store, "channels", cid)
    assert sbff.sync().restored == 0


# --- the status after a failed, partial or interrupted sync ---------------------------------------


def test_an_interrupted_sync_is_noticed_by_the_next_process(server, device_factory):
    device = device_factory(server, "sos")
    device.store.set_meta(E.META_SYNC_STARTED, format_time(now_ms()))  # as a killed sync leaves it
    status = SyncEngine(device.store).status()
    assert status.state == "error" and "avbröts" in status.last_error
    device.sync()
    assert SyncEngine(device.store).status().state == "idle"


# --- a revoked device enrolls again --------------------------------------------------------------


def test_a_revoked_device_enrolls_again_and_keeps_its_data_and_unsent_changes(
        server, device_factory, make_function):
    device = device_factory(server, "sos")
    other = device_factory(server, "sos", name="other")
    fid, cid = make_function(device.store, server.org_ids["sos"], "TiB")
    device.sync()
    old_id = device.store.get_meta(E.META_DEVICE_ID)
    server.revoke(old_id)
    device.store.update("channels", cid, {"note": "skrivet efter återkallelsen"})
    # Not yet known as revoked here (no sync since): enroll asks the server, which says so.
    assert enroll(device.store, server.url, server.code("sos")).again is True
    enrolled = device.store.get_meta(E.META_DEVICE_ID)
    assert enrolled != old_id and device.store.node_id == enrolled
    assert device.store.outbox_pending()[0].clock.endswith(enrolled)
    report = device.sync()
    assert report.resynced is False and report.rejected == [] and report.pushed == 1
    assert device.store.get_meta(E.META_FULL_PULL) is None and report.digest_ok
    other.sync()
    assert other.store.get("channels", cid)["fields"]["note"] == "skrivet efter återkallelsen"
    assert device.store.get("functions", fid)["fields"]["name"] == "TiB"


def test_an_enrolled_device_that_is_not_revoked_is_not_enrolled_twice(server, device_factory):
    device = device_factory(server, "sos")
    with pytest.raises(SyncError) as raised:
        enroll(device.store, server.url, server.code("sos"))
    assert raised.value.key == "syncer.already_enrolled"


# --- the device directory --------------------------------------------------------------------------


def test_the_device_directory_names_every_device_and_nothing_secret(server, device_factory):
    import requests

    a = device_factory(server, "sos", name="Laptop TiB")
    b = device_factory(server, "sbff", name="Surfplatta RCB")
    a_id, b_id = (d.store.get_meta(E.META_DEVICE_ID) for d in (a, b))
    server.revoke(b_id)
    token = a.store.get_meta(E.META_TOKEN)
    with SyncClient(server.url, token=token) as client:
        listed = {d["device_id"]: d for d in client.devices()}
    assert listed[a_id] == {"device_id": a_id, "organisation_id": server.org_ids["sos"],
                            "name": "Laptop TiB", "revoked": False}
    assert listed[b_id]["revoked"] is True and listed[b_id]["name"] == "Surfplatta RCB"
    answer = requests.get(f"{server.url}/v1/devices", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert set(answer.json()) == {"devices"}
    assert all(set(d) == {"device_id", "organisation_id", "name", "revoked"} for d in answer.json()["devices"])
    assert token not in answer.text
    assert requests.get(f"{server.url}/v1/devices", timeout=10).status_code == 401
    # The engine keeps it, fetched again daily (or for a conflict naming a device it lacks),
    # and names devices by it.
    a.store.set_meta(E.META_DIRECTORY_AT, None)  # a day later
    a.sync()
    assert a.engine.device_label(b_id) == "Surfplatta RCB, Storstockholms brandförsvar"
    assert a.engine.device_label(str(uuid.uuid4())).startswith("okänd enhet")
