"""A compaction on the server does not make devices past its watermark download everything again."""

from __future__ import annotations

import time

from desktop.syncer import engine as E
from desktop.syncer.client import SyncClient
from desktop.syncer.engine import SyncEngine
from sync.records import COLLECTION_NAMES
from sync.server import operations


def _server_state(server, store) -> dict:
    """What a full pull from scratch gives this device: (collection, id) -> (deleted, seq, values)."""
    client = SyncClient(server.url, token=store.get_meta(E.META_TOKEN))
    out, cursor = {}, None
    try:
        while True:
            page = client.pull(cursor, 1000)
            for r in page.records:
                values = {n: s["value"] for n, s in r["fields"].items() if s.get("value") is not None}
                out[(r["collection"], r["record_id"])] = (r["deleted"], r["seq"], {} if r["deleted"] else values)
            cursor = page.cursor
            if not page.has_more:
                return out
    finally:
        client.close()


def _device_state(store) -> dict:
    out = {}
    for name in COLLECTION_NAMES:
        seqs = dict(store.server_seqs(name))
        for record in store.list(name, include_deleted=True):
            values = {n: v for n, v in record["fields"].items() if v is not None}
            out[(name, record["record_id"])] = (
                record["deleted"], seqs.get(record["record_id"]), {} if record["deleted"] else values,
            )
    return out


def _compact(server) -> int:
    """`samverka-server compact --older-than-days 0`: every tombstone goes; the new watermark."""
    time.sleep(0.01)
    with server.session() as session:
        removed, watermark = operations.compact(session, 0)
    assert removed >= 1
    return watermark


def _region_with_tombstones(server, device_factory, make_function):
    """sos device a writes; sos device b and sbff device k hold a's deleted channel as a
    tombstone, k also a's internal function (a tombstone only for k: the server keeps it)."""
    a = device_factory(server, "sos", name="a")
    b = device_factory(server, "sos", name="b")
    k = device_factory(server, "sbff", name="k")
    fid, _ = make_function(a.store, server.org_ids["sos"], "TiB SOS Alarm")
    gone = a.store.create("channels", {"function_id": fid, "kind": "email", "value": "tib@sos.example"})
    internal = a.store.create("functions", {
        "organisation_id": server.org_ids["sos"], "name": "Intern jour", "visibility": "internal",
    })
    a.sync()
    a.store.delete("channels", gone)
    a.sync()
    b.sync()
    k.sync()
    assert b.store.get("channels", gone)["deleted"] and k.store.get("channels", gone)["deleted"]
    assert k.store.get("functions", internal)["deleted"]
    return a, b, k, fid, gone, internal


def _without_compacted(device_state: dict, server_state: dict, watermark: int) -> dict:
    """A device's state less the tombstones at or below the watermark the server no longer holds."""
    return {
        key: state for key, state in device_state.items()
        if key in server_state or not (state[0] and state[1] <= watermark)
    }


def test_a_device_past_the_watermark_does_not_download_everything_after_a_compaction(
    server, device_factory, make_function
):
    a, b, k, fid, gone, internal = _region_with_tombstones(server, device_factory, make_function)
    watermark = _compact(server)
    young = a.store.create("channels", {"function_id": fid, "kind": "rakel", "value": "TG 123"})
    a.sync()
    a.store.delete("channels", young)  # a tombstone above the watermark
    a.sync()

    for device in (b, k):
        report = device.sync()  # digest_interval=0: the digest is checked now
        assert report.digest_ok and report.repaired == [] and not report.resynced, device.name
        assert report.pulled == 1, device.name  # the young tombstone only, not everything again
        assert device.store.get("channels", young)["deleted"]
        server_state = _server_state(server, device.store)
        assert _without_compacted(_device_state(device.store), server_state, watermark) == server_state
        assert device.sync().repaired == []  # and it stays so
    # b's organisation's tombstone at or below the watermark is gone there; k keeps the one
    # of another organisation (it cannot tell it from a record hidden from it, like the
    # internal function, which the server keeps and sends as a tombstone).
    assert b.store.get("channels", gone) is None
    assert k.store.get("channels", gone)["deleted"] and k.store.get("functions", internal)["deleted"]

    # A tombstone above the watermark is still compared: lose it here, and the check notices.
    k.store.apply_pulled([{
        "collection": "channels", "record_id": young, "owner_org": server.org_ids["sos"],
        "deleted": True, "fields": {}, "seq": None,
    }], k.store.get_meta(E.META_CURSOR))
    report = k.sync()
    assert report.repaired == ["channels"] and report.digest_ok
    assert _device_state(k.store)[("channels", young)][:2] == (True, server_state[("channels", young)][1])


def test_a_full_download_after_the_compaction_settles_too(server, device_factory, make_function):
    """A full pull from scratch brings the records this device gets as tombstones at or below
    the watermark again (the server keeps another organisation's internal record); the next
    check leaves them out without downloading anything."""
    _, _, k, _, _, internal = _region_with_tombstones(server, device_factory, make_function)
    _compact(server)
    assert k.sync().repaired == []
    k.store.set_meta(E.META_CURSOR, None)
    report = k.sync()
    assert report.pulled > 1 and report.repaired == [] and report.digest_ok
    assert k.store.get("functions", internal)["deleted"]
    assert k.sync().pulled == 0


def test_an_older_server_without_the_watermark_is_compared_whole(server, device_factory, make_function):
    """A server that does not name its watermark: the whole digest is compared, as before —
    the compacted tombstone still held here differs, and one full download repairs it."""

    class OlderServer(SyncClient):
        def digest(self, **kwargs):  # ignores leave_out_compacted, as an older server does
            answer = super().digest()
            assert "compacted_through" not in answer
            return answer

    _, _, k, _, gone, _ = _region_with_tombstones(server, device_factory, make_function)
    _compact(server)
    engine = SyncEngine(k.store, client_factory=OlderServer, digest_interval=0)
    try:
        report = engine.sync_now()
    finally:
        engine.close()
    assert report.repaired == ["channels"] and report.digest_ok
    assert k.store.get("channels", gone)["deleted"]  # kept, as a local tombstone


def test_records_kept_aside_count_unless_they_are_tombstones_at_or_below_the_watermark(tmp_path):
    """A collection this version does not know is kept aside whole (quarantine); its tombstones
    at or below the watermark are left out of the local digest like any other."""
    import os

    from desktop.store import Store

    store = Store.open(tmp_path / "samverka.db", os.urandom(32))
    try:
        ids = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
               "33333333-3333-4333-8333-333333333333"]
        store.apply_pulled([
            {"collection": "later_things", "record_id": ids[0], "deleted": True, "fields": {}, "seq": 5},
            {"collection": "later_things", "record_id": ids[1], "deleted": False, "fields": {}, "seq": 6},
            {"collection": "later_things", "record_id": ids[2], "deleted": True, "fields": {}, "seq": 9},
        ], "v1:9")
        assert store.quarantined_seqs("later_things") == {ids[0]: 5, ids[1]: 6, ids[2]: 9}
        assert store.quarantined_seqs("later_things", compacted_through=8) == {ids[1]: 6, ids[2]: 9}
        digest = E.local_digest(store, ["later_things"], compacted_through=8)["later_things"]
        assert digest == E.collection_digest([(ids[1], 6), (ids[2], 9)])
    finally:
        store.close()
