"""The store's window reads: ids first (ordered, sliced, filtered), counts, rows on demand, IN lists."""

from __future__ import annotations

import pytest

from desktop.store import InvalidInput


@pytest.fixture
def region(store):
    with store.batch():
        sos = store.create("organisations", {"name": "SOS Alarm"})
        lst = store.create("organisations", {"name": "Länsstyrelsen Stockholm"})
        names = ["Vakthavande befäl", "tjänsteman i beredskap", "Presstjänst", "Ärendemottagning"]
        functions = [store.create("functions", {"organisation_id": sos, "name": n}) for n in names]
        other = store.create("functions", {"organisation_id": lst, "name": "Beredskapsdirektör"})
        channels = [
            store.create("channels", {"function_id": functions[0], "kind": "mobile", "value": "070-174 06 63", "priority": 2}),
            store.create("channels", {"function_id": functions[0], "kind": "phone", "value": "070-174 06 64", "priority": 1}),
            store.create("channels", {"function_id": other, "kind": "email", "value": "lst@example.se"}),
        ]
    store.delete("functions", functions[2])
    return {"sos": sos, "lst": lst, "functions": functions, "other": other, "channels": channels}


def test_ids_are_ordered_filtered_and_sliced_without_the_deleted(store, region) -> None:
    ids = store.ids("functions", order_by="name", organisation_id=region["sos"])
    names = [store.get("functions", i)["fields"]["name"] for i in ids]
    assert names == ["tjänsteman i beredskap", "Vakthavande befäl", "Ärendemottagning"], "case folded, Ä after Z"
    assert store.ids("functions", order_by="name", limit=1, offset=1, organisation_id=region["sos"]) == ids[1:2]
    assert store.count_where("functions", organisation_id=region["sos"]) == 3
    assert store.count_where("functions") == 4
    with pytest.raises(InvalidInput):
        store.ids("functions", order_by="no_such_field")


def test_get_many_keeps_the_order_asked_and_leaves_out_what_is_gone(store, region) -> None:
    f = region["functions"]
    asked = [f[3], "not-a-uuid", f[2], f[0], "00000000-0000-4000-8000-000000000000"]
    got = store.get_many("functions", asked)
    assert [r["record_id"] for r in got] == [f[3], f[0]]
    assert got[0]["fields"]["name"] == "Ärendemottagning"


def test_list_in_reads_the_channels_of_a_page_of_functions(store, region) -> None:
    rows = store.list_in("channels", "function_id", [region["functions"][0], region["other"], None])
    assert {r["record_id"] for r in rows} == set(region["channels"])
    assert all(not r["deleted"] for r in rows)
    assert store.list_in("channels", "function_id", []) == []
