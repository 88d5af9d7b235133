"""apply_pulled: a pulled page and its cursor in one transaction, merged field by field with
local edits not yet pushed, tombstones winning, the search index and the HLC following."""

from __future__ import annotations

import uuid

import pytest

from desktop.store import InvalidInput, Store
from sync.clock import Hlc
from test_store_helpers import make_channel, make_function, make_org

SERVER = "server-1"
ORG_OWNER = str(uuid.uuid4())


def clock(ms: int, counter: int = 0, node: str = SERVER) -> str:
    return str(Hlc(ms, counter, node))


def state(collection, record_id, fields, seq, *, deleted=False, owner=ORG_OWNER):
    return {
        "collection": collection,
        "record_id": record_id,
        "owner_org": owner,
        "visibility": fields.get("visibility", ("regional", None))[0] if fields else "regional",
        "deleted": deleted,
        "fields": {name: {"value": v, "clock": c} for name, (v, c) in fields.items()},
        "seq": seq,
    }


@pytest.fixture
def early_store(db_path, db_key):
    """A store whose wall clock is at 1,000,000 ms, so server clocks can be newer or older."""
    with Store.open(db_path, db_key, clock_wall=lambda: 1_000_000) as s:
        yield s


def test_new_records_arrive_with_clocks_owner_and_seq(store):
    seen = []
    store.subscribe(seen.append)
    org, fn = str(uuid.uuid4()), str(uuid.uuid4())
    store.apply_pulled(
        [
            state("organisations", org, {"name": ("SOS Alarm", clock(5)), "short_name": ("SOS", clock(5))}, 3),
            state("functions", fn, {"organisation_id": (org, clock(6)), "name": ("TiB", clock(6)), "is_contact_point": (True, clock(6))}, 4),
        ],
        "cursor-4",
    )
    record = store.get("functions", fn)
    assert record["fields"]["name"] == "TiB" and record["fields"]["is_contact_point"] is True
    assert record["owner_org"] == ORG_OWNER and record["deleted"] is False
    assert store.clocks("functions", fn)["name"] == clock(6)
    assert sorted(store.server_seqs("functions")) == [(fn, 4)]
    assert store.get_meta("sync_cursor") == "cursor-4"
    assert store.outbox_count() == 0  # pulled data is not sent back
    assert [s.source for s in seen] == ["sync"]
    assert seen[0].collections == frozenset({"organisations", "functions"})
    assert seen[0].record_ids == frozenset({org, fn})
    [hit] = [h for h in store.search("tib sos") if h.collection == "functions"]
    assert hit.record_id == fn and hit.subtitle == "SOS Alarm"


def test_pending_local_edit_survives_older_incoming_value(early_store):
    store = early_store
    org = make_org(store, "Lokalt namn", notes="lokal")
    local = store.clocks("organisations", org)["name"]
    older = clock(500_000)  # before the local edit
    store.apply_pulled(
        [state("organisations", org, {"name": ("Serverns namn", older), "website": ("https://x.example", older)}, 9)],
        "c9",
    )
    fields = store.get("organisations", org)["fields"]
    assert fields["name"] == "Lokalt namn"  # pending local edit, newer: stays visible
    assert fields["website"] == "https://x.example"  # no local edit: the server's value
    clocks = store.clocks("organisations", org)
    assert clocks["name"] == local and clocks["website"] == older
    assert store.outbox_count() == 1  # the local edit still waits to be pushed


def test_a_field_the_server_never_had_is_cleared_unless_a_change_of_it_is_on_its_way(store):
    """A pulled state is whole: a value held here for a field the server does not have (with no
    change of it in the outbox) is not the server's, and a pull of the record clears it."""
    org = make_org(store, "SOS Alarm", notes="lokal anteckning")
    store.outbox_acknowledge([e.change_id for e in store.outbox_pending()])
    store.update("organisations", org, {"website": "https://sos.example"})  # on its way
    store.apply_pulled([state("organisations", org, {"name": ("SOS Alarm", clock(5))}, 3)], "c3")
    fields = store.get("organisations", org)["fields"]
    assert fields["notes"] is None and "notes" not in store.clocks("organisations", org)
    assert fields["website"] == "https://sos.example"


def test_newer_incoming_value_replaces_pending_local_edit(early_store):
    store = early_store
    org = make_org(store, "Lokalt namn")
    newer = clock(1_030_000)  # 30 s ahead of this device: within the skew a clock may adopt
    store.apply_pulled([state("organisations", org, {"name": ("Serverns namn", newer)}, 10)], "c10")
    assert store.get("organisations", org)["fields"]["name"] == "Serverns namn"
    assert store.clocks("organisations", org)["name"] == newer
    # The HLC received the newer clock: the next local edit is later still.
    store.update("organisations", org, {"name": "Igen"})
    assert store.outbox_pending()[-1].clock > newer
    assert dict(store.outbox_pending()[-1].base) == {"name": newer}


def test_field_without_pending_edit_takes_server_value_even_if_older(early_store):
    store = early_store
    org = make_org(store, "Namn", notes="lokal")
    store.outbox_acknowledge([e.change_id for e in store.outbox_pending()])
    older = clock(10)
    store.apply_pulled([state("organisations", org, {"notes": ("serverns", older)}, 11)], "c11")
    assert store.get("organisations", org)["fields"]["notes"] == "serverns"
    assert store.clocks("organisations", org)["notes"] == older


def test_page_and_cursor_are_one_transaction(store, monkeypatch):
    store.set_meta("sync_cursor", "before")
    good = state("organisations", str(uuid.uuid4()), {"name": ("Bra", clock(5))}, 1)
    seen = []
    store.subscribe(seen.append)

    def failing(*args, **kwargs):
        raise InvalidInput("invalid.value", field="name")

    monkeypatch.setattr(store, "_put_meta", failing)  # the cursor, after the rows are written
    with pytest.raises(InvalidInput):
        store.apply_pulled([good], "after")
    assert store.get_meta("sync_cursor") == "before"
    assert store.count("organisations", include_deleted=True) == 0
    assert store.search("bra") == [] and seen == []


def test_server_tombstone_wins_and_leaves_search(store):
    org = make_org(store, "Försvinner", notes="x")
    fn = make_function(store, org, "Funktion som försvinner")
    store.apply_pulled(
        [state("organisations", org, {}, 20, deleted=True), state("functions", fn, {}, 21, deleted=True)],
        "c21",
    )
    record = store.get("organisations", org)
    assert record["deleted"] is True
    assert all(v is None for v in record["fields"].values())  # fields cleared
    assert store.list("organisations") == []
    assert store.search("försvinner") == []
    # A tombstone for a record never seen before is kept too, so the device knows of it.
    unknown = str(uuid.uuid4())
    store.apply_pulled([state("forums", unknown, {}, 22, deleted=True)], "c22")
    assert store.get("forums", unknown)["deleted"] is True
    assert (unknown, 22) in store.server_seqs("forums")


def test_pending_local_delete_stays_deleted(store):
    org = make_org(store, "Tas bort")
    store.outbox_acknowledge([e.change_id for e in store.outbox_pending()])
    store.delete("organisations", org)
    store.apply_pulled([state("organisations", org, {"notes": ("ny", clock(9_999_999_999_999 // 10))}, 30)], "c30")
    assert store.get("organisations", org)["deleted"] is True
    assert store.search("tas bort") == []


def test_pulled_changes_keep_search_documents_in_step(store):
    org = make_org(store, "SOS Alarm", "SOS")
    fn = make_function(store, org, "Tjänsteman i beredskap", "TiB")
    ch = make_channel(store, fn, "070-174 06 05")
    store.outbox_acknowledge([e.change_id for e in store.outbox_pending()])
    far = clock(4_102_444_800_000)

    def whole(collection, record_id, changes, seq):
        """The server's state after a change: every field it holds, not only the changed ones."""
        fields, clocks = store.get(collection, record_id)["fields"], store.clocks(collection, record_id)
        return state(collection, record_id, {**{n: (fields[n], c) for n, c in clocks.items()}, **changes}, seq)

    store.apply_pulled([whole("organisations", org, {"name": ("SOS Larm", far)}, 40)], "c40")
    [hit] = [h for h in store.search("tib larm") if h.collection == "functions"]
    assert hit.subtitle == "SOS Larm"
    store.apply_pulled([whole("channels", ch, {"value": ("+46701740699", far)}, 41)], "c41")
    [hit] = [h for h in store.search("tib larm") if h.collection == "functions"]
    assert hit.best_channel.value == "070-174 06 99"
    store.apply_pulled([state("channels", ch, {}, 42, deleted=True)], "c42")
    [hit] = [h for h in store.search("tib larm") if h.collection == "functions"]
    assert hit.best_channel is None


def test_conflict_records_round_trip_any_values(store):
    ids = []
    for n, value in enumerate([5, "070-174 06 05", True, None, 2.5, "12"]):
        rid = str(uuid.uuid4())
        ids.append((rid, value))
        store.apply_pulled([state("conflicts", rid, {
            "collection": ("channels", clock(5)), "record_id": (str(uuid.uuid4()), clock(5)),
            "field": ("value", clock(5)), "kept_value": (value, clock(5)),
            "other_value": ("annat", clock(5)), "resolved": (False, clock(5)),
        }, 50 + n)], f"c{n}")
    for rid, value in ids:
        fields = store.get("conflicts", rid)["fields"]
        assert fields["kept_value"] == value and type(fields["kept_value"]) is type(value)
        assert fields["resolved"] is False and fields["record_id"] != rid
    store.update("conflicts", ids[0][0], {"resolved": True, "resolution_note": "Behöll 5."})
    assert store.outbox_pending()[-1].collection == "conflicts"


def test_unknown_collections_and_fields_are_skipped(store):
    org = str(uuid.uuid4())
    store.apply_pulled(
        [
            {"collection": "future_things", "record_id": str(uuid.uuid4()), "deleted": False, "fields": {}, "seq": 1},
            state("organisations", org, {"name": ("A", clock(5)), "colour": ("red", clock(5))}, 2),
        ],
        "c2",
    )
    assert store.get("organisations", org)["fields"]["name"] == "A"
    assert "colour" not in store.clocks("organisations", org)
    assert store.get_meta("sync_cursor") == "c2"


def test_clock_receives_incoming_and_persists(db_path, db_key):
    far = clock(31_000, 7)  # 30 s ahead: within the skew a clock may adopt
    with Store.open(db_path, db_key, clock_wall=lambda: 1_000) as s:
        s.apply_pulled([state("organisations", str(uuid.uuid4()), {"name": ("A", far)}, 1)], "c1")
    with Store.open(db_path, db_key, clock_wall=lambda: 1_000) as s:
        make_org(s)
        assert s.outbox_pending()[0].clock > far
