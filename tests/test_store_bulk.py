"""The bulk paths: a pulled page applied in bulk ends exactly where its records applied one by one
end (the search index's side of bulk writes: tests/test_store_search_index.py)."""

from __future__ import annotations

import json
import uuid


from desktop.store import Store
from desktop.store import store as store_mod
from desktop.store.connection import raw_connect
from desktop.store.outbox import dumps
from desktop.store.store import (
    _clocks_json,
    _null_base_json,
    _uuid4_strings,
)
from sync.clock import Hlc
from sync.records import COLLECTIONS

SERVER = "server-1"
DEVICE = "device-1"
OWNER = "7d3c59aa-0f5e-4f0e-9d55-3f4a1f3e2b10"


def clock(ms: int, counter: int = 0, node: str = SERVER) -> str:
    return str(Hlc(ms, counter, node))


def state(collection, record_id, fields, seq, *, deleted=False, deleted_clock=None):
    return {
        "collection": collection,
        "record_id": record_id,
        "owner_org": OWNER,
        "visibility": "regional",
        "deleted": deleted,
        "deleted_clock": deleted_clock,
        "fields": {name: {"value": v, "clock": c} for name, (v, c) in fields.items()},
        "seq": seq,
    }


IDS = {name: str(uuid.uuid5(uuid.NAMESPACE_URL, f"samverka-test/{name}")) for name in (
    "A", "B", "D", "F", "C", "N1", "NF1", "NC1", "NC2", "NX", "FORUM", "CONFLICT", "E",
)}


def starting_state(store: Store) -> None:
    """Local records, some acknowledged, some with edits not yet pushed (same in every store)."""
    store.set_node_id(DEVICE)
    a = store.create("organisations", {"name": "Lokal A", "short_name": "LA"}, record_id=IDS["A"])
    store.create("organisations", {"name": "Org B", "notes": "b"}, record_id=IDS["B"])
    store.create("organisations", {"name": "Tas bort"}, record_id=IDS["D"])
    store.create("organisations", {"name": "Eko"}, record_id=IDS["E"])
    f = store.create(
        "functions", {"organisation_id": a, "name": "Tjänsteman i beredskap", "short_name": "TiB"},
        record_id=IDS["F"],
    )
    store.create("channels", {"function_id": f, "kind": "mobile", "value": "070-174 06 05"}, record_id=IDS["C"])
    store.outbox_acknowledge([e.change_id for e in store.outbox_pending()])
    store.update("organisations", a, {"name": "Lokalt namn"})  # pending, clock at the wall time
    store.update("functions", f, {"description": "lokal beskrivning"})
    store.delete("organisations", IDS["D"])  # a pending delete


def the_page() -> list[dict]:
    old, new, newer = clock(500_000), clock(2_000_000), clock(2_000_000, 5)
    return [
        # new records, a function and its channel, and a channel of a local function
        state("organisations", IDS["N1"], {"name": ("Ny org", new), "short_name": ("NY", new)}, 10),
        state("functions", IDS["NF1"], {"organisation_id": (IDS["N1"], new), "name": ("Ny funktion", new),
                                        "is_contact_point": (True, new)}, 11),
        state("channels", IDS["NC1"], {"function_id": (IDS["NF1"], new), "kind": ("mobile", new),
                                       "value": ("+46701740699", new), "priority": (2, new)}, 12),
        state("channels", IDS["NC2"], {"function_id": (IDS["F"], new), "kind": ("email", new),
                                       "value": ("tib@example.org", new), "label": ("Larmpost", new)}, 13),
        # a pending local edit (name, newer) meets an older value; notes has no local edit
        state("organisations", IDS["A"], {"name": ("Serverns namn", old), "notes": ("från servern", old),
                                          "short_name": ("SRV", old)}, 14),
        # an older value without a pending edit still wins; a newer one beats a pending edit
        state("functions", IDS["F"], {"name": ("TiB Region", new), "description": ("servern", newer)}, 15),
        # a tombstone of an acknowledged channel: the function's document loses it
        state("channels", IDS["C"], {}, 16, deleted=True, deleted_clock=new),
        # the same new record twice, the second newer; an existing record updated, then deleted
        state("functions", IDS["NF1"], {"name": ("Ny funktion omdöpt", newer)}, 17),
        state("organisations", IDS["B"].upper(), {"notes": ("ändrad", new)}, 18),
        state("organisations", IDS["B"], {}, 19, deleted=True),
        # created and deleted within the page; a tombstone of a record never seen
        state("routines", IDS["NX"], {"title": ("Kort rutin", new)}, 20),
        state("routines", IDS["NX"], {"title": ("Kort rutin", new)}, 21, deleted=True),
        state("forums", IDS["FORUM"], {}, 22, deleted=True, deleted_clock=old),
        # a pending local delete stays deleted whatever arrives
        state("organisations", IDS["D"], {"notes": ("ny", newer)}, 23),
        # JSON-typed values; junk: an unknown collection, an unknown field, a state that is no object,
        # a clock that sorts above every real one but is no clock
        state("conflicts", IDS["CONFLICT"], {"collection": ("channels", new), "kept_value": ({"a": [1, 2]}, new),
                                             "resolved": (False, new)}, 24),
        {"collection": "future_things", "record_id": str(uuid.uuid4()), "deleted": False, "fields": {}, "seq": 25},
        {**state("organisations", IDS["E"], {"website": ("https://e.example", new)}, 26),
         "fields": {"website": {"value": "https://e.example", "clock": new}, "colour": {"value": "red", "clock": new},
                    "notes": "not an object", "kind": {"value": "agency", "clock": "zzzz-not-a-clock"}}},
    ]


def everything(store: Store) -> dict:
    rows = {
        name: sorted(
            (r["record_id"], r["owner_org"], r["deleted"], json.dumps(r["fields"], sort_keys=True),
             json.dumps(store.clocks(name, r["record_id"]), sort_keys=True))
            for r in store.list(name, include_deleted=True)
        )
        for name in COLLECTIONS
    }
    with store._read() as db:
        docs = db.execute(
            "SELECT collection, record_id, title, subtitle, channel_id, channel_kind, channel_value, "
            "channel_label FROM search_docs ORDER BY record_id"
        ).fetchall()
        deleted_clocks = {
            name: sorted(db.execute(f'SELECT record_id, deleted_clock FROM "{name}"').fetchall())
            for name in COLLECTIONS
        }
    searches = {
        q: [(h.collection, h.record_id, h.title, h.subtitle, h.best_channel) for h in store.search(q)]
        for q in ("ny", "tib", "larmpost", "070", "serverns", "lokalt", "region", "kort", "eko")
    }
    return {
        "rows": rows,
        "seqs": {name: sorted(store.server_seqs(name)) for name in COLLECTIONS},
        "deleted_clocks": deleted_clocks,
        "docs": docs,
        "searches": searches,
        "clock": store.clock.last,
        "outbox": [(e.collection, e.record_id, e.op, dict(e.fields), e.clock, dict(e.base))
                   for e in store.outbox_pending()],
    }


def test_a_page_ends_where_its_records_one_by_one_end(tmp_path):
    key = bytes(range(32))
    # The wall clock is 10 s before the page's newest clocks: near enough to adopt them.
    with Store.open(tmp_path / "page.db", key, clock_wall=lambda: 1_990_000) as whole, \
            Store.open(tmp_path / "single.db", key, clock_wall=lambda: 1_990_000) as single:
        starting_state(whole)
        starting_state(single)
        page = the_page()
        whole.apply_pulled(page, "c26")
        for n, record in enumerate(page):
            single.apply_pulled([record], f"c{n}")
        result = everything(whole)
        assert result == everything(single)
    # and what the rules say, spelled out for a few of them
    fields = {rid: f for rid, _, _, f, _ in result["rows"]["organisations"]}
    assert json.loads(fields[IDS["A"]])["name"] == "Lokalt namn"  # pending edit, newer: stays
    assert json.loads(fields[IDS["A"]])["notes"] == "från servern"
    # a record with a state that is no object, or a clock that is no clock, is kept aside whole
    assert json.loads(fields[IDS["E"]])["name"] == "Eko" and json.loads(fields[IDS["E"]])["kind"] is None
    deleted = {rid: d for rid, _, d, _, _ in result["rows"]["organisations"]}
    assert deleted[IDS["B"]] and deleted[IDS["D"]]
    functions = {rid: json.loads(f) for rid, _, _, f, _ in result["rows"]["functions"]}
    assert functions[IDS["NF1"]]["name"] == "Ny funktion omdöpt"
    assert functions[IDS["F"]]["description"] == "servern"
    assert [h[1] for h in result["searches"]["larmpost"]][:2] == [IDS["F"], IDS["NC2"]] or \
        {h[1] for h in result["searches"]["larmpost"]} >= {IDS["F"], IDS["NC2"]}
    assert result["searches"]["kort"] == []  # created and deleted in the same page
    assert result["clock"] > clock(2_000_000, 5)[:19]  # the greatest valid clock was received


def test_pending_edits_are_found_for_a_whole_page(store):
    """Many existing records with and without pending edits in one page (one outbox query)."""
    store.set_node_id(DEVICE)
    org = store.create("organisations", {"name": "SOS Alarm"})
    ids = store.bulk_create("functions", [{"organisation_id": org, "name": f"Funktion {i}"} for i in range(20)])
    store.outbox_acknowledge([e.change_id for e in store.outbox_pending()])
    for rid in ids[::2]:
        store.update("functions", rid, {"name": "lokal " + rid[:4]})
    older = clock(1)
    store.apply_pulled([state("functions", rid, {"name": ("servern", older), "description": ("d", older)}, n)
                        for n, rid in enumerate(ids)], "c")
    for n, rid in enumerate(ids):
        fields = store.get("functions", rid)["fields"]
        assert fields["name"] == ("lokal " + rid[:4] if n % 2 == 0 else "servern")
        assert fields["description"] == "d"


def test_record_ids_are_normalised(store):
    rid = str(uuid.uuid4())
    store.apply_pulled([state("organisations", "{" + rid.upper() + "}", {"name": ("Versaler", clock(5))}, 1)], "c")
    assert store.get("organisations", rid)["fields"]["name"] == "Versaler"
    assert store.server_seqs("organisations") == [(rid, 1)]


def test_fast_json_and_ids_match_the_slow_ones():
    names = ("name", "short_name", "organisation_id")
    c = clock(1_764_238_726_123, 42, DEVICE)
    assert _clocks_json(dict.fromkeys(names, "x"), c) == dumps({n: c for n in names})
    assert _clocks_json({}, c) == dumps({}) == "{}"
    assert _null_base_json(names) == dumps({n: None for n in names})
    ids = _uuid4_strings(1000)
    assert len(set(ids)) == 1000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_a_pulled_rows_clocks_are_stored_as_dumps_writes_them(store):
    """The clocks of a pulled record are joined as text (no encoder): the same text dumps makes."""
    rid = str(uuid.uuid4())
    fields = {"name": ("Länsstyrelsen", clock(5)), "short_name": ("LST", clock(6, 1)),
              "kind": ("agency", clock(7, 2, "node.with:odd_chars-9")), "notes": (None, clock(8))}
    store.apply_pulled([state("organisations", rid, fields, 1)], "c")
    with store._read() as db:
        stored = db.execute("SELECT clocks FROM organisations WHERE record_id = ?", (rid,)).fetchone()[0]
    assert stored == dumps({name: c for name, (_, c) in fields.items()})


def file_bytes(path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def pushed_bulk(store: Store, count: int) -> list[str]:
    """``count`` channels created in bulk, then acknowledged as the server would (pushed)."""
    org = store.create("organisations", {"name": "SOS Alarm"})
    fid = store.create("functions", {"organisation_id": org, "name": "TiB"})
    ids = store.bulk_create("channels", [
        {"function_id": fid, "kind": "email", "value": f"tib{n}@sos.example", "label": "e-post " * 30}
        for n in range(count)
    ])
    store.update_search_index()  # before the push, as the store does at the next search or edit
    entries = store.outbox_pending(limit=count + 10)
    store.outbox_acknowledge([e.change_id for e in entries], {e.change_id: n + 1 for n, e in enumerate(entries)})
    assert store.outbox_count() == 0
    return ids


def small_thresholds(monkeypatch):
    """reclaim_space from 64 KiB and 5 % of the file up (a test's outbox is small)."""
    monkeypatch.setattr(store_mod, "RECLAIM_MIN_BYTES", 64 * 1024)
    monkeypatch.setattr(store_mod, "RECLAIM_MIN_FRACTION", 0.05)


def test_space_freed_by_a_push_goes_back_to_the_disk_and_every_row_stays(db_path, db_key, monkeypatch):
    small_thresholds(monkeypatch)
    with Store.open(db_path, db_key) as store:
        ids = pushed_bulk(store, 3000)
        before = everything(store)
        with store._read() as db:
            assert int(db.execute("PRAGMA auto_vacuum").fetchone()[0]) == 2  # a new file: incremental
        size = file_bytes(db_path)
        freed = store.reclaim_space()
        assert freed > 1_000_000 and file_bytes(db_path) <= size - freed
        assert everything(store) == before
        assert store.get("channels", ids[-1])["fields"]["value"] == "tib2999@sos.example"
        assert store.reclaim_space() == 0  # nothing worth it left
    with Store.open(db_path, db_key) as store:  # and the file opens as it was left
        assert store.count("channels") == 3000 and store.search("tib2999@sos.example")


def test_an_older_file_is_rewritten_once_and_frees_pages_incrementally_afterwards(
    db_path, db_key, monkeypatch
):
    small_thresholds(monkeypatch)
    Store.open(db_path, db_key).close()
    db = raw_connect(db_path, db_key)  # as a file made before auto_vacuum was set
    db.execute("PRAGMA auto_vacuum = NONE")
    db.execute("VACUUM")
    assert int(db.execute("PRAGMA auto_vacuum").fetchone()[0]) == 0
    db.close()
    with Store.open(db_path, db_key) as store:
        pushed_bulk(store, 3000)
        before = everything(store)
        assert store.reclaim_space() > 1_000_000
        assert everything(store) == before
        with store._read() as db:
            assert int(db.execute("PRAGMA auto_vacuum").fetchone()[0]) == 2
            assert int(db.execute("PRAGMA freelist_count").fetchone()[0]) == 0


def test_a_few_free_pages_are_left_for_the_next_writes(store):
    pushed_bulk(store, 200)  # well under RECLAIM_MIN_BYTES
    assert store.reclaim_space() == 0
    with store._read() as db:
        assert int(db.execute("PRAGMA freelist_count").fetchone()[0]) > 0
