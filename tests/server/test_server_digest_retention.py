"""Digest over a full pull, retention (compaction → 410), and cursors from the future."""

from __future__ import annotations

import hashlib

from sync.records import COLLECTION_NAMES
from sync.server import operations
from sync.server.storage import encode_cursor

from server_support import Region, assert_problem


def _digest_of(records: list[dict]) -> dict:
    out = {}
    for name in COLLECTION_NAMES:
        lines = sorted(f"{r['record_id']}:{r['seq']}\n" for r in records if r["collection"] == name)
        out[name] = {"count": len(lines), "hash": hashlib.sha256("".join(lines).encode()).hexdigest()}
    return out


def _populate(region: Region) -> None:
    sos = region.sos_member
    fn = sos.create("functions", {"organisation_id": sos.org_id, "name": "TiB"})
    sos.create("channels", {"function_id": fn, "kind": "phone", "value": "070-1740605"})
    hidden = sos.create("functions", {"organisation_id": sos.org_id, "name": "x", "visibility": "internal"})
    gone = sos.create("functions", {"organisation_id": sos.org_id, "name": "gone"})
    sos.delete("functions", gone)
    base = region.server.current_clocks("functions", fn)
    sos.push_one(sos.change("functions", fn, {"name": "a"}, base=base))
    region.sos_admin.push_one(region.sos_admin.change("functions", fn, {"name": "b"}, base=base))
    del hidden


def test_digest_matches_a_full_pull_for_every_device(region: Region):
    _populate(region)
    for dev in (region.sos_member, region.kom_member, region.lst_admin):
        records, _ = dev.pull_all(limit=2)
        response = dev.get("/v1/sync/digest")
        assert response.status_code == 200
        body = response.json()
        assert body["collections"] == _digest_of(records)
        assert body["collections"]["conflicts"]["count"] == 1
        assert body["collections"]["functions"]["count"] == 3


def test_compaction_drops_old_tombstones_and_old_cursors_get_410(region: Region, monkeypatch):
    sos, kom = region.sos_member, region.kom_member
    fn = sos.create("functions", {"organisation_id": sos.org_id, "name": "gone"})
    _, early_cursor = kom.pull_all()
    sos.delete("functions", fn)
    keep = sos.create("functions", {"organisation_id": sos.org_id, "name": "kept"})
    _, late_cursor = kom.pull_all()

    removed, _ = region.server.run(lambda s: operations.compact(s, 180))
    assert removed == 0  # too young to compact
    from sync.server import timeutil

    future = timeutil.now_ms() + 181 * 86_400_000
    monkeypatch.setattr("sync.server.operations.now_ms", lambda: future)
    removed, watermark = region.server.run(lambda s: operations.compact(s, 180))
    assert removed == 1 and watermark > 0
    assert region.server.record("functions", fn) is None

    body = assert_problem(kom.pull_page(early_cursor), 410, "resync-required")
    assert "again" in body["detail"]
    assert kom.pull_page(late_cursor).status_code == 200
    records, _ = kom.pull_all()  # a full pull from no cursor always works
    ids = {r["record_id"] for r in records}
    assert keep in ids and fn not in ids
    digest = kom.get("/v1/sync/digest").json()["collections"]
    assert digest == _digest_of(records)


def test_cursor_beyond_the_last_position_gets_410(region: Region):
    _, cursor = region.sos_member.pull_all()
    assert region.sos_member.pull_page(cursor).status_code == 200
    assert_problem(region.sos_member.pull_page(encode_cursor(10_000)), 410, "resync-required")


def test_a_full_pull_after_compaction_gives_a_cursor_that_works(region: Region, monkeypatch):
    """The newest change is a compacted tombstone: a full pull must not end below the watermark
    (else the next pull is 410 again, and the client resyncs for ever)."""
    sos, kom = region.sos_member, region.kom_member
    sos.create("functions", {"organisation_id": sos.org_id, "name": "kept"})
    fn = sos.create("functions", {"organisation_id": sos.org_id, "name": "gone"})
    sos.delete("functions", fn)
    watermark = _compact_everything_old(region, monkeypatch)
    for limit in (1, 1000):
        records, cursor = kom.pull_all(limit=limit)
        assert fn not in {r["record_id"] for r in records}
        response = kom.pull_page(cursor)
        assert response.status_code == 200, response.text
        assert response.json()["records"] == []
    later = sos.create("functions", {"organisation_id": sos.org_id, "name": "later"})
    records, _ = kom.pull_all(cursor)
    assert [r["record_id"] for r in records] == [later]


def _compact_everything_old(region: Region, monkeypatch) -> int:
    from sync.server import timeutil

    future = timeutil.now_ms() + 181 * 86_400_000
    monkeypatch.setattr("sync.server.operations.now_ms", lambda: future)
    removed, watermark = region.server.run(lambda s: operations.compact(s, 180))
    assert removed >= 1
    return watermark


def test_a_full_pull_interrupted_by_a_compaction_must_start_again(region: Region, monkeypatch):
    sos, kom = region.sos_member, region.kom_member
    for n in range(3):
        sos.create("functions", {"organisation_id": sos.org_id, "name": f"F{n}"})
    fn = sos.create("functions", {"organisation_id": sos.org_id, "name": "gone"})
    sos.delete("functions", fn)
    first = kom.pull_page(limit=1).json()  # a cursor handed out before the compaction
    _compact_everything_old(region, monkeypatch)
    assert_problem(kom.pull_page(first["cursor"], 1), 410, "resync-required")
    records, cursor = kom.pull_all(limit=1)
    assert kom.pull_page(cursor).status_code == 200


def test_cursors_without_a_watermark_keep_the_first_rule(region: Region, monkeypatch):
    sos = region.sos_member
    sos.create("functions", {"organisation_id": sos.org_id, "name": "kept"})
    fn = sos.create("functions", {"organisation_id": sos.org_id, "name": "gone"})
    sos.delete("functions", fn)
    watermark = _compact_everything_old(region, monkeypatch)
    assert_problem(sos.pull_page(encode_cursor(watermark - 1)), 410, "resync-required")
    assert sos.pull_page(encode_cursor(watermark)).status_code == 200
    assert sos.pull_page(encode_cursor(watermark - 1, watermark)).status_code == 200
    assert_problem(sos.pull_page(encode_cursor(watermark - 1, watermark - 1)), 410, "resync-required")
    digest_cursor = sos.get("/v1/sync/digest").json()["cursor"]
    assert sos.pull_page(digest_cursor).status_code == 200


def test_malformed_cursors_with_a_watermark_are_400(region: Region):
    import base64

    for text in ("v1:1:2:3", "v1:1:", "v1::1", "v1:1:-2", "v1:1:x", "v1:1:" + "9" * 19):
        cursor = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
        assert_problem(region.sos_member.pull_page(cursor), 400, "invalid")


def test_digest_asked_without_compacted_leaves_out_what_the_caller_gets_as_old_tombstones(region: Region, monkeypatch):
    """leave_out_compacted=true: every record this caller's full pull returns as a tombstone at
    or below the compaction watermark is left out (the server's own compacted ones are gone,
    another organisation's internal records and younger tombstones are not), and the watermark
    is named; without it the digest is the whole full pull, with no extra member."""
    sos, kom = region.sos_member, region.kom_member
    internal = sos.create("functions", {"organisation_id": sos.org_id, "name": "intern", "visibility": "internal"})
    gone = sos.create("functions", {"organisation_id": sos.org_id, "name": "gone"})
    sos.delete("functions", gone)
    watermark = _compact_everything_old(region, monkeypatch)
    young = sos.create("functions", {"organisation_id": sos.org_id, "name": "young"})
    sos.delete("functions", young)  # a tombstone above the watermark

    for dev, hidden in ((kom, {internal}), (sos, set())):
        records, _ = dev.pull_all()
        whole = dev.get("/v1/sync/digest").json()
        assert "compacted_through" not in whole and whole["collections"] == _digest_of(records)
        trimmed = dev.get("/v1/sync/digest", params={"leave_out_compacted": "true"}).json()
        assert trimmed["compacted_through"] == watermark
        kept = [r for r in records if not (r["deleted"] and r["seq"] <= watermark)]
        assert trimmed["collections"] == _digest_of(kept)
        assert {r["record_id"] for r in records} - {r["record_id"] for r in kept} == hidden
        assert young in {r["record_id"] for r in kept}
