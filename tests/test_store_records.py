"""Records through the store: round trips, outbox entries, clocks, tombstones, validation, phones."""

from __future__ import annotations

import threading
import uuid

import pytest

from desktop.store import (
    AppendOnly,
    InvalidInput,
    NotFound,
    RecordDeleted,
    Store,
    StoreClosed,
    StoreError,
    format_phone,
)
from sync.clock import Hlc
from sync.records import APPEND_ONLY, COLLECTIONS
from test_store_helpers import make_channel, make_function, make_org, one_of_each


def snapshot(store: Store) -> dict:
    """Everything a user could lose: every row of every collection and the outbox."""
    rows = {name: store.list(name, include_deleted=True) for name in COLLECTIONS}
    return {"rows": rows, "outbox": store.outbox_pending(10_000), "meta_cursor": store.get_meta("sync_cursor")}


# ---------------------------------------------------------------- round trips


def test_every_collection_round_trips(store, db_path, db_key):
    made = one_of_each(store)
    creatable = set(COLLECTIONS) - {"conflicts"}
    assert creatable <= set(made)
    store.close()
    with Store.open(db_path, db_key) as again:
        for collection, (rid, fields) in made.items():
            if collection == "log_entries_correction":
                continue
            record = again.get(collection, rid)
            assert record["record_id"] == rid
            assert record["deleted"] is False
            assert record["owner_org"] is None
            assert set(record["fields"]) == set(COLLECTIONS[collection].fields)
            for name, value in fields.items():
                assert record["fields"][name] == value, (collection, name)
            unset = set(COLLECTIONS[collection].fields) - set(fields)
            assert all(record["fields"][n] is None for n in unset)


def test_types_come_back_as_python_types(store):
    org = make_org(store)
    fn = make_function(store, org, is_contact_point=False)
    ch = make_channel(store, fn, priority=1, resilient=True)
    assert store.get("functions", fn)["fields"]["is_contact_point"] is False
    fields = store.get("channels", ch)["fields"]
    assert fields["priority"] == 1 and fields["resilient"] is True


def test_get_unknown_or_malformed_id_is_none(store):
    assert store.get("organisations", str(uuid.uuid4())) is None
    assert store.get("organisations", "not-a-uuid") is None


def test_list_filters_by_equality_and_hides_tombstones(store):
    org = make_org(store)
    other = make_org(store, "Trafikverket", "TRV")
    a = make_function(store, org, "A")
    b = make_function(store, org, "B")
    make_function(store, other, "C")
    assert [r["record_id"] for r in store.list("functions", organisation_id=org)] == [a, b]
    store.delete("functions", a)
    assert [r["record_id"] for r in store.list("functions", organisation_id=org)] == [b]
    assert len(store.list("functions", organisation_id=org, include_deleted=True)) == 2
    assert [r["fields"]["name"] for r in store.list("functions", description=None)] == ["B", "C"]
    with pytest.raises(InvalidInput) as err:
        store.list("functions", colour="red")
    assert err.value.field == "colour"


def test_client_supplied_record_id_and_duplicate(store):
    rid = str(uuid.uuid4())
    assert store.create("organisations", {"name": "X"}, record_id=rid.upper()) == rid
    with pytest.raises(StoreError) as err:
        store.create("organisations", {"name": "Y"}, record_id=rid)
    assert err.value.key == "store.duplicate_id"
    assert store.outbox_count() == 1


def test_conflicts_are_made_by_the_server_only(store):
    with pytest.raises(StoreError) as err:
        store.create("conflicts", {"field": "name"})
    assert err.value.key == "store.server_only"


# ---------------------------------------------------------------- outbox and clocks


def test_create_writes_outbox_entry_with_null_bases(store):
    org = store.create("organisations", {"name": "SOS Alarm", "short_name": "SOS"})
    [entry] = store.outbox_pending()
    assert entry.op == "upsert" and entry.collection == "organisations" and entry.record_id == org
    assert dict(entry.fields) == {"name": "SOS Alarm", "short_name": "SOS"}
    assert dict(entry.base) == {"name": None, "short_name": None}
    assert Hlc.parse(entry.clock).node == store.node_id
    assert store.clocks("organisations", org) == {"name": entry.clock, "short_name": entry.clock}
    uuid.UUID(entry.change_id)
    assert entry.created_at.endswith("Z") and entry.status == "pending"
    change = entry.to_change()
    assert set(change) == {"change_id", "collection", "record_id", "op", "fields", "clock", "base"}


def test_base_clocks_follow_successive_edits(store):
    org = store.create("organisations", {"name": "A", "short_name": "a"})
    assert store.update("organisations", org, {"name": "B"})
    assert store.update("organisations", org, {"name": "C", "notes": "n"})
    first, second, third = store.outbox_pending()
    assert first.clock < second.clock < third.clock
    assert dict(second.base) == {"name": first.clock}
    assert dict(third.base) == {"name": second.clock, "notes": None}
    assert store.clocks("organisations", org) == {
        "name": third.clock, "short_name": first.clock, "notes": third.clock,
    }
    assert store.delete("organisations", org)
    delete = store.outbox_pending()[-1]
    assert delete.op == "delete" and dict(delete.fields) == {}
    assert delete.base["name"] == third.clock and delete.base["short_name"] == first.clock
    assert set(delete.base) == set(COLLECTIONS["organisations"].fields)
    assert delete.clock > third.clock


def test_unchanged_fields_are_not_sent(store):
    org = store.create("organisations", {"name": "A", "notes": "x"})
    assert store.update("organisations", org, {"name": "A", "notes": "x"}) is False
    assert store.update("organisations", org, {"name": "A", "notes": "y"}) is True
    assert dict(store.outbox_pending()[-1].fields) == {"notes": "y"}
    assert store.outbox_count() == 2


def test_failure_mid_transaction_keeps_neither_row_nor_outbox(store, monkeypatch):
    org = store.create("organisations", {"name": "Kvar"})
    before = snapshot(store)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full (simulated)")

    # Fails after the row and the outbox entry are written, before commit.
    monkeypatch.setattr("desktop.store.search_index.rebuild_docs", boom)
    with pytest.raises(RuntimeError):
        store.create("organisations", {"name": "Borta"})
    with pytest.raises(RuntimeError):
        store.update("organisations", org, {"name": "Ändrad"})
    with pytest.raises(RuntimeError):
        store.delete("organisations", org)
    monkeypatch.undo()
    assert snapshot(store) == before
    assert store.search("borta") == [] and store.search("ändrad") == []
    # The store still works after the failures.
    store.update("organisations", org, {"name": "Ändrad"})
    assert store.get("organisations", org)["fields"]["name"] == "Ändrad"


def test_batch_is_all_or_nothing(store):
    with pytest.raises(InvalidInput):
        with store.batch():
            org = make_org(store)
            make_function(store, org)
            store.create("channels", {"kind": "mobile"})  # missing function_id and value
    assert store.count("organisations") == 0 and store.outbox_count() == 0


def test_outbox_acknowledge_and_reject(store):
    ids = [make_org(store, f"Org {i}") for i in range(3)]
    entries = store.outbox_pending()
    assert [e.record_id for e in entries] == ids
    assert store.outbox_count() == 3
    assert [e.record_id for e in store.outbox_pending(limit=2)] == ids[:2]
    store.outbox_reject(entries[1].change_id, {"type": "/problems/forbidden", "title": "Nej", "status": 403})
    assert store.outbox_count() == 2
    [rejected] = store.outbox_rejected()
    assert rejected.change_id == entries[1].change_id
    assert rejected.problem["type"] == "/problems/forbidden" and rejected.rejected_at.endswith("Z")
    assert [e.change_id for e in store.outbox_pending()] == [entries[0].change_id, entries[2].change_id]
    assert store.outbox_acknowledge([entries[0].change_id, "unknown"]) == 1
    assert [e.change_id for e in store.outbox_pending()] == [entries[2].change_id]
    with pytest.raises(NotFound):
        store.outbox_reject(str(uuid.uuid4()), {"title": "x"})


def test_clock_never_goes_back_across_restarts(db_path, db_key):
    future = 4_102_444_800_000  # 2100-01-01
    with Store.open(db_path, db_key, clock_wall=lambda: future) as first:
        make_org(first)
        last = first.clock.last
    with Store.open(db_path, db_key, clock_wall=lambda: 1_000) as second:
        make_org(second, "Later")
        assert second.outbox_pending()[-1].clock > last


def test_node_id_is_random_then_device_id(db_path, db_key):
    with Store.open(db_path, db_key) as first:
        node = first.node_id
        uuid.UUID(node)
        make_org(first)
        before = first.clock.last
        first.set_node_id("device-42")
        make_org(first, "Efter")
        clock = first.outbox_pending()[-1].clock
        assert Hlc.parse(clock).node == "device-42" and clock[:19] >= before[:19]
    with Store.open(db_path, db_key) as again:
        assert again.node_id == "device-42"


def test_meta_round_trip(store):
    assert store.get_meta("sync_cursor") is None
    assert store.get_meta("missing", 5) == 5
    store.set_meta("sync_cursor", "abc")
    store.set_meta("settings", {"a": [1, 2], "å": True})
    assert store.get_meta("sync_cursor") == "abc"
    assert store.get_meta("settings") == {"a": [1, 2], "å": True}
    store.set_meta("sync_cursor", None)
    assert store.get_meta("sync_cursor") is None


def test_observe_server_time_keeps_offset(db_path, db_key):
    with Store.open(db_path, db_key, clock_wall=lambda: 1_700_000_000_000) as s:
        s.observe_server_time("2023-11-14T22:13:30.000Z")  # +10 s
        assert s.clock.offset_ms == 10_000
    with Store.open(db_path, db_key, clock_wall=lambda: 1_700_000_000_000) as s:
        assert s.clock.offset_ms == 10_000
        make_org(s)
        assert Hlc.parse(s.outbox_pending()[0].clock).wall_ms >= 1_700_000_010_000


# ---------------------------------------------------------------- tombstones, append-only


def test_delete_makes_a_tombstone(store):
    org = make_org(store)
    assert store.delete("organisations", org) is True
    record = store.get("organisations", org)
    assert record["deleted"] is True
    assert store.list("organisations") == []
    assert store.delete("organisations", org) is False  # idempotent
    assert store.outbox_count() == 2
    with pytest.raises(RecordDeleted):
        store.update("organisations", org, {"name": "Tillbaka"})
    with pytest.raises(NotFound):
        store.delete("organisations", str(uuid.uuid4()))
    with pytest.raises(NotFound):
        store.update("organisations", str(uuid.uuid4()), {"name": "x"})


def test_references_must_name_live_records(store):
    org = make_org(store)
    with pytest.raises(InvalidInput) as err:
        store.create("functions", {"organisation_id": str(uuid.uuid4()), "name": "TiB"})
    assert err.value.field == "organisation_id" and err.value.key == "invalid.reference"
    assert "aktörer" in str(err.value)
    fn = make_function(store, org)
    store.delete("organisations", org)
    with pytest.raises(InvalidInput) as err:
        make_function(store, org, "Ny")
    assert err.value.field == "organisation_id"
    other = make_org(store, "Annan")
    store.update("functions", fn, {"organisation_id": other})
    with pytest.raises(InvalidInput):
        store.update("functions", fn, {"organisation_id": org})


def test_bulk_create_may_refer_to_records_of_the_same_call(store):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    made = one_of_each(store)
    activation = made["activations"][0]
    ids = store.bulk_create(
        "log_entries",
        [
            {"activation_id": activation, "at": "2026-11-27T10:00:00Z", "kind": "other", "text": "a"},
            {"activation_id": activation, "at": "2026-11-27T10:01:00Z", "kind": "other", "text": "b", "corrects": first},
        ],
        record_ids=[first, second],
    )
    assert ids == [first, second]
    assert store.get("log_entries", second)["fields"]["corrects"] == first


@pytest.mark.parametrize("collection", sorted(APPEND_ONLY))
def test_append_only_refuses_update_and_delete(store, collection):
    made = one_of_each(store)
    rid = made[collection][0]
    before = snapshot(store)
    with pytest.raises(AppendOnly) as err:
        store.update(collection, rid, {"note": "ändrad"} if collection != "log_entries" else {"text": "x"})
    assert err.value.key == "store.append_only"
    assert "ny post" in str(err.value)
    with pytest.raises(AppendOnly):
        store.delete(collection, rid)
    assert snapshot(store) == before


# ---------------------------------------------------------------- invalid input


@pytest.mark.parametrize(
    "collection, fields, field, key",
    [
        ("organisations", {"name": "x" * 501}, "name", "invalid.too_long"),
        ("organisations", {"name": "Ok", "kind": "spaceship"}, "kind", "invalid.choice"),
        ("organisations", {"short_name": "SOS"}, "name", "invalid.required"),
        ("organisations", {"name": "   "}, "name", "invalid.required"),
        ("organisations", {"name": None}, "name", "invalid.required"),
        ("organisations", {"name": "Ok", "colour": "red"}, "colour", "invalid.unknown_field"),
        ("organisations", {"name": "Ok", "last_verified": "2026-13-01"}, "last_verified", "invalid.date"),
        ("organisations", {"name": 5}, "name", "invalid.text"),
        ("organisations", {"name": "Ok", "visibility": "secret"}, "visibility", "invalid.choice"),
        ("functions", {"organisation_id": "nope", "name": "x"}, "organisation_id", "invalid.uuid"),
        ("channels", {"function_id": None, "kind": "mobile", "value": "070-174 06 05"}, "function_id", "invalid.required"),
        ("nonsense", {"name": "x"}, "collection", "invalid.unknown_collection"),
    ],
)
def test_invalid_input_names_the_field_and_changes_nothing(store, collection, fields, field, key):
    org = make_org(store)
    before = snapshot(store)
    with pytest.raises(InvalidInput) as err:
        store.create(collection, fields)
    assert err.value.field == field
    assert err.value.key == key
    text = str(err.value)
    assert (field if collection != "nonsense" else "nonsense") in text
    assert text == err.value.text("sv") and err.value.text("en") != text
    assert snapshot(store) == before
    if collection == "organisations" and key != "invalid.required" or fields.get("name", "") is None:
        with pytest.raises(InvalidInput) as err:
            store.update(collection, org, fields)
        assert err.value.field == field
        assert snapshot(store) == before


def test_invalid_value_types(store):
    org = make_org(store)
    fn = make_function(store, org)
    for fields, field in [
        ({"function_id": fn, "kind": "rakel", "value": "x", "priority": "1"}, "priority"),
        ({"function_id": fn, "kind": "rakel", "value": "x", "resilient": "yes"}, "resilient"),
        ({"function_id": fn, "kind": "rakel", "value": "x" * 501}, "value"),
    ]:
        with pytest.raises(InvalidInput) as err:
            store.create("channels", fields)
        assert err.value.field == field
    with pytest.raises(InvalidInput) as err:
        store.create("activations", {"forum_id": str(uuid.uuid4()), "reason": "x", "started_at": "igår"})
    assert err.value.field == "started_at" and err.value.key == "invalid.time"


def test_message_language_follows_env(store, monkeypatch):
    monkeypatch.setenv("SAMVERKA_LANG", "en")
    with pytest.raises(InvalidInput) as err:
        store.create("organisations", {"name": "x" * 501})
    assert "at most 500" in str(err.value)
    monkeypatch.setenv("SAMVERKA_LANG", "sv")
    assert "högst 500" in str(err.value)


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize("typed", ["070-174 06 05", "0701740605", "+46 70 174 06 05", "0046701740605"])
def test_phone_channels_store_e164_and_show_national(store, typed):
    fn = make_function(store, make_org(store))
    ch = make_channel(store, fn, value=typed)
    stored = store.get("channels", ch)["fields"]["value"]
    assert stored == "+46701740605"
    assert format_phone(stored) == "070-174 06 05"
    assert store.outbox_pending()[-1].fields["value"] == "+46701740605"


def test_landline_and_foreign_numbers(store):
    fn = make_function(store, make_org(store))
    ch = make_channel(store, fn, value="08-123 456 78", kind="phone")
    assert store.get("channels", ch)["fields"]["value"] == "+46812345678"
    assert format_phone("+46812345678") == "08-123 456 78"
    assert format_phone("+442079460958") == "+44 20 7946 0958"
    assert format_phone("ISSI 123") == "ISSI 123"


@pytest.mark.parametrize("bad", ["hej", "070-174", "12", "+46 70 174 06 05 55 55"])
def test_invalid_phone_names_value_and_changes_nothing(store, bad):
    fn = make_function(store, make_org(store))
    before = snapshot(store)
    with pytest.raises(InvalidInput) as err:
        make_channel(store, fn, value=bad)
    assert err.value.field == "value" and err.value.key == "invalid.phone"
    assert "telefonnummer" in str(err.value)
    assert snapshot(store) == before


def test_changing_kind_to_phone_checks_existing_value(store):
    fn = make_function(store, make_org(store))
    ch = make_channel(store, fn, value="tib@example.example", kind="email")
    assert store.get("channels", ch)["fields"]["value"] == "tib@example.example"
    with pytest.raises(InvalidInput) as err:
        store.update("channels", ch, {"kind": "mobile"})
    assert err.value.field == "value"
    store.update("channels", ch, {"kind": "mobile", "value": "070 174 06 06"})
    assert store.get("channels", ch)["fields"]["value"] == "+46701740606"
    # Non-phone kinds keep the text as typed.
    rakel = make_channel(store, fn, value="ISSI 9990121", kind="rakel")
    assert store.get("channels", rakel)["fields"]["value"] == "ISSI 9990121"


# ---------------------------------------------------------------- notifications, threads


def test_notifications_fire_after_commit_only(store, monkeypatch):
    seen = []
    committed_state = []

    def listener(changes):
        seen.append(changes)
        # Runs after commit: a read from another connection-free path sees the data.
        committed_state.append(store.outbox_count())

    unsubscribe = store.subscribe(listener)
    org = make_org(store)
    assert len(seen) == 1
    assert seen[0].collections == frozenset({"organisations"})
    assert seen[0].record_ids == frozenset({org}) and seen[0].source == "local"
    assert committed_state == [1]
    with pytest.raises(AttributeError):
        seen[0].source = "sync"  # immutable

    monkeypatch.setattr("desktop.store.search_index.rebuild_docs", lambda *a: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        make_org(store, "Misslyckad")
    monkeypatch.undo()
    with pytest.raises(InvalidInput):
        store.create("organisations", {})
    assert len(seen) == 1  # nothing committed, nothing announced

    with store.batch():
        fn = make_function(store, org)
        ch = make_channel(store, fn)
        assert len(seen) == 1  # not before the batch commits
    assert len(seen) == 2
    assert seen[1].collections == frozenset({"functions", "channels"})
    assert seen[1].record_ids == frozenset({fn, ch})

    assert store.update("organisations", org, {"name": "SOS Alarm"}) is False
    assert len(seen) == 2  # no change, no notification
    unsubscribe()
    make_org(store, "Tyst")
    assert len(seen) == 2


def test_a_failing_subscriber_does_not_break_the_write(store, caplog):
    store.subscribe(lambda changes: 1 / 0)
    calls = []
    store.subscribe(calls.append)
    make_org(store)
    assert len(calls) == 1
    assert "subscriber" in caplog.text


def test_concurrent_writers_lose_nothing(store, db_path, db_key):
    org = make_org(store)
    errors = []
    per_thread = 60

    def worker(n):
        try:
            for i in range(per_thread):
                fn = make_function(store, org, f"Funktion {n}-{i}", short=None)
                make_channel(store, fn, value=f"070-174 06 {5 + (i % 90):02d}")
                if i % 3 == 0:
                    store.update("functions", fn, {"description": f"Beskrivning {n}-{i}"})
                store.search(f"funktion {n}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count("functions") == 4 * per_thread
    assert store.count("channels") == 4 * per_thread
    assert store.outbox_count() == 1 + 4 * per_thread * 2 + 4 * (per_thread // 3)
    clocks = [e.clock for e in store.outbox_pending(100_000)]
    assert len(set(clocks)) == len(clocks) and clocks == sorted(clocks)
    hits = store.search("funktion", limit=10_000)
    assert sum(h.collection == "functions" for h in hits) == 4 * per_thread
    assert sum(h.collection == "channels" for h in hits) == 4 * per_thread
    store.close()
    with Store.open(db_path, db_key) as again:
        assert again.count("functions") == 4 * per_thread


def test_closed_store_refuses_calls(store):
    store.close()
    with pytest.raises(StoreClosed):
        store.get("organisations", str(uuid.uuid4()))
    with pytest.raises(StoreClosed):
        make_org(store)
    store.close()  # twice is fine
