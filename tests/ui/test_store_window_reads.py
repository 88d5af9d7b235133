"""The store's one read API for lists: filters (equality, In, Range), order, slices and counts; rows on demand; search narrowed to collections."""

from __future__ import annotations

import pytest

from desktop.store import In, InvalidInput, Range


@pytest.fixture
def region(store):
    with store.batch():
        sos = store.create("organisations", {"name": "SOS Alarm"})
        lst = store.create("organisations", {"name": "Länsstyrelsen Stockholm"})
        names = ["Vakthavande befäl", "tjänsteman i beredskap", "Presstjänst", "Ärendemottagning"]
        verified = ["2025-01-10", "2025-06-30", None, "2026-02-01"]
        functions = [
            store.create("functions", {"organisation_id": sos, "name": n, "last_verified": v})
            for n, v in zip(names, verified)
        ]
        other = store.create("functions", {"organisation_id": lst, "name": "Beredskapsdirektör"})
        channels = [
            store.create("channels", {"function_id": functions[0], "kind": "mobile", "value": "070-174 06 63", "priority": 2}),
            store.create("channels", {"function_id": functions[0], "kind": "phone", "value": "070-174 06 64", "priority": 1}),
            store.create("channels", {"function_id": other, "kind": "email", "value": "lst@example.se"}),
        ]
    store.delete("functions", functions[2])
    return {"sos": sos, "lst": lst, "functions": functions, "other": other, "channels": channels}


def _names(store, ids):
    return [store.get("functions", i)["fields"]["name"] for i in ids]


def test_ids_are_ordered_filtered_and_sliced_without_the_deleted(store, region) -> None:
    ids = store.ids("functions", order_by="name", organisation_id=region["sos"])
    assert _names(store, ids) == ["tjänsteman i beredskap", "Vakthavande befäl", "Ärendemottagning"], "case folded, Ä after Z"
    assert store.ids("functions", order_by="name", limit=1, offset=1, organisation_id=region["sos"]) == ids[1:2]
    assert store.ids("functions", order_by="name", descending=True, organisation_id=region["sos"]) == ids[::-1]
    assert store.count("functions", organisation_id=region["sos"]) == 3
    assert store.count("functions") == 4
    assert store.count("functions", include_deleted=True) == 5
    with pytest.raises(InvalidInput):
        store.ids("functions", order_by="no_such_field")
    with pytest.raises(InvalidInput):
        store.count("functions", no_such_field=1)


def test_list_ids_and_count_agree_on_every_filter(store, region) -> None:
    f = region["functions"]
    filters = [
        {"organisation_id": region["sos"]},
        {"organisation_id": In([region["sos"], region["lst"]])},
        {"last_verified": Range(high="2025-06-30")},
        {"last_verified": Range(low="2025-06-30")},
        {"last_verified": Range("2025-02-01", "2025-12-31")},
        {"last_verified": None},
        {"last_verified": Range()},  # set at all
        {"organisation_id": In([])},
    ]
    for where in filters:
        listed = store.list("functions", order_by="name", **where)
        assert [r["record_id"] for r in listed] == store.ids("functions", order_by="name", **where), where
        assert len(listed) == store.count("functions", **where), where
    assert set(store.ids("functions", last_verified=Range(high="2025-06-30"))) == {f[0], f[1]}, "bounds included"
    assert store.ids("functions", last_verified=Range("2025-02-01", "2025-12-31")) == [f[1]]
    assert set(store.ids("functions", last_verified=None)) == {region["other"]}, "the deleted one is not listed"
    assert store.count("functions", organisation_id=In([])) == 0


def test_an_in_list_of_any_length_is_one_query_sorted_and_sliced_as_a_whole(store, region) -> None:
    many = [region["functions"][0], region["other"], None] + [f"00000000-0000-4000-8000-{n:012d}" for n in range(5000)]
    rows = store.list("channels", function_id=In(many), order_by="priority")
    assert [r["record_id"] for r in rows] == [region["channels"][1], region["channels"][0], region["channels"][2]]
    assert store.ids("channels", function_id=In(many), order_by="priority", limit=1, offset=1) == [region["channels"][0]]
    assert all(not r["deleted"] for r in rows)


def test_positions_sort_as_stored_not_case_folded(store, region) -> None:
    """Fractional positions order by their characters: "B0" < "a1" (case folding would swap them)."""
    routine = store.create("routines", {"title": "Larma ut"})
    late = store.create("routine_steps", {"routine_id": routine, "position": "a1", "text": "andra"})
    early = store.create("routine_steps", {"routine_id": routine, "position": "B0", "text": "första"})
    assert store.ids("routine_steps", routine_id=routine) == [early, late]
    assert [r["record_id"] for r in store.list("routine_steps", routine_id=routine)] == [early, late]


def test_get_many_keeps_the_order_asked_and_leaves_out_what_is_gone(store, region) -> None:
    f = region["functions"]
    asked = [f[3], "not-a-uuid", f[2], f[0], "00000000-0000-4000-8000-000000000000"]
    got = store.get_many("functions", asked)
    assert [r["record_id"] for r in got] == [f[3], f[0]]
    assert got[0]["fields"]["name"] == "Ärendemottagning"


def test_search_in_keeps_to_the_collections_asked(store, region) -> None:
    everything = {hit.collection for hit in store.search("beredskap")}
    assert {"functions", "organisations"} <= everything | {"organisations"}
    hits = store.search_in("sos", ["functions"])
    assert hits and {hit.collection for hit in hits} == {"functions"}
    assert {hit.record_id for hit in hits} == {region["functions"][0], region["functions"][1], region["functions"][3]}
    assert store.search_in("sos", ["forums"]) == []
    assert len(store.search_in("sos", ["functions"], limit=1)) == 1
    with pytest.raises(InvalidInput):
        store.search_in("sos", ["no_such_collection"])
