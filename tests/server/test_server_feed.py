"""Push and pull: order, paging, idempotency, merge and conflicts, deletes, visibility, validation."""

from __future__ import annotations

import uuid

from sync.clock import Hlc
from sync.server.timeutil import now_ms

from server_support import Region


def _function(dev, name="TiB", **extra):
    return dev.create("functions", {"organisation_id": dev.org_id, "name": name, **extra})


def _records(dev, collection):
    return [r for r in dev.pull_all()[0] if r["collection"] == collection]


def test_created_record_is_pulled_with_owner_visibility_and_clocks(region: Region):
    sos = region.sos_member
    change = sos.change("functions", fields={"organisation_id": sos.org_id, "name": "TiB"})
    result = sos.push_one(change)
    assert result["status"] == "applied" and isinstance(result["seq"], int)

    pulled = region.kom_member.pulled("functions", change["record_id"])
    assert pulled == {
        "collection": "functions",
        "record_id": change["record_id"],
        "owner_org": region.sos,
        "visibility": "regional",
        "deleted": False,
        "fields": {
            "name": {"value": "TiB", "clock": change["clock"]},
            "organisation_id": {"value": sos.org_id, "clock": change["clock"]},
        },
        "seq": result["seq"],
    }


def test_push_answers_one_result_per_change_in_order_with_server_time(region: Region):
    sos = region.sos_member
    changes = [sos.change("functions", fields={"organisation_id": sos.org_id, "name": f"F{i}"}) for i in range(5)]
    changes.insert(2, sos.change("nope", fields={}))
    response = sos.post("/v1/sync/push", json={"changes": changes})
    body = response.json()
    assert [r["change_id"] for r in body["results"]] == [c["change_id"] for c in changes]
    assert [r["status"] for r in body["results"]] == ["applied", "applied", "rejected"] + ["applied"] * 3
    seqs = [r["seq"] for r in body["results"] if r["status"] == "applied"]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert body["server_time"].endswith("Z") and len(body["server_time"]) == 24


def test_pull_pages_in_seq_order_and_cursor_never_repeats_or_skips(region: Region):
    sos = region.sos_member
    ids = [_function(sos, f"F{i}") for i in range(7)]
    seen, cursor = [], None
    pages = 0
    while True:
        response = region.kom_member.pull_page(cursor, limit=3)
        page = response.json()
        pages += 1
        seen.extend(page["records"])
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    seqs = [r["seq"] for r in seen]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert [r["record_id"] for r in seen if r["collection"] == "functions"] == ids
    assert pages >= 4

    # Nothing new: same cursor back, no records; then one new change comes after the cursor.
    again = region.kom_member.pull_page(cursor).json()
    assert again["records"] == [] and again["cursor"] == cursor and again["has_more"] is False
    region.sos_member.update("functions", ids[0], {"name": "renamed"})
    after = region.kom_member.pull_page(cursor).json()
    assert [r["record_id"] for r in after["records"]] == [ids[0]]
    assert after["records"][0]["fields"]["name"]["value"] == "renamed"


def test_pull_returns_only_the_latest_state_of_a_record(region: Region):
    sos = region.sos_member
    rid = _function(sos)
    for name in ("a", "b", "c"):
        assert sos.update("functions", rid, {"name": name})["status"] == "applied"
    records = [r for r in sos.pull_all()[0] if r["record_id"] == rid]
    assert len(records) == 1 and records[0]["fields"]["name"]["value"] == "c"


def test_duplicate_change_id_is_not_applied_again(region: Region):
    sos = region.sos_member
    change = sos.change("functions", fields={"organisation_id": sos.org_id, "name": "TiB"})
    first = sos.push_one(change)
    again = sos.push(change, change)
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert all(r["seq"] == first["seq"] and r["first_status"] == "applied" for r in again)
    assert sos.pulled("functions", change["record_id"])["seq"] == first["seq"]


def test_a_rejected_change_id_is_evaluated_afresh(region: Region, monkeypatch):
    sos = region.sos_member
    ahead = str(Hlc(now_ms() + 120_000, 0, sos.device_id))
    change = sos.change("functions", fields={"organisation_id": sos.org_id, "name": "x"}, clock=ahead)
    assert sos.push_one(change)["status"] == "rejected"
    monkeypatch.setattr("sync.server.storage.now_ms", lambda: now_ms() + 120_000)
    assert sos.push_one(change)["status"] == "applied"


def test_sequential_edit_with_current_base_wins_without_conflict(region: Region):
    sos = region.sos_member
    rid = _function(sos)
    assert region.sos_admin.update("functions", rid, {"name": "new"})["status"] == "applied"
    assert region.server.records("conflicts") == []


def test_concurrent_edit_makes_one_conflict_record_both_organisations_pull(region: Region):
    sos, admin = region.sos_member, region.sos_admin
    rid = _function(sos, "TiB")
    base = region.server.current_clocks("functions", rid)
    first = sos.change("functions", rid, {"name": "TiB SOS"}, base={"name": base["name"]})
    second = admin.change("functions", rid, {"name": "Tjänsteman i beredskap"}, base={"name": base["name"]})
    assert sos.push_one(first)["status"] == "applied"
    result = admin.push_one(second)
    assert result["status"] == "conflict"

    conflicts = region.server.records("conflicts")
    assert len(conflicts) == 1
    winner_clock = max(first["clock"], second["clock"])
    winner, loser = (first, second) if first["clock"] == winner_clock else (second, first)
    for dev in (region.sos_member, region.kom_member):
        pulled = [r for r in dev.pull_all()[0] if r["collection"] == "conflicts"]
        assert len(pulled) == 1
        record = pulled[0]
        values = {k: v["value"] for k, v in record["fields"].items()}
        assert record["owner_org"] == region.sos and record["visibility"] == "regional"
        assert values["collection"] == "functions" and values["record_id"] == rid
        assert values["field"] == "name" and values["resolved"] is False
        assert values["kept_value"] == winner["fields"]["name"] and values["kept_clock"] == winner["clock"]
        assert values["other_value"] == loser["fields"]["name"] and values["other_clock"] == loser["clock"]
        assert values["kept_device"] == winner["clock"].split("-", 2)[2]
        assert values["other_device"] == loser["clock"].split("-", 2)[2]
        assert record["seq"] > result["seq"]
    function = region.kom_member.pulled("functions", rid)
    assert function["fields"]["name"]["value"] == winner["fields"]["name"]


def test_concurrent_equal_values_make_no_conflict(region: Region):
    sos, admin = region.sos_member, region.sos_admin
    rid = _function(sos, "TiB")
    base = region.server.current_clocks("functions", rid)
    assert sos.push_one(sos.change("functions", rid, {"name": "same"}, base=base))["status"] == "applied"
    assert admin.push_one(admin.change("functions", rid, {"name": "same"}, base=base))["status"] == "applied"
    assert region.server.records("conflicts") == []


def test_owner_resolves_a_conflict(region: Region):
    sos, admin = region.sos_member, region.sos_admin
    rid = _function(sos, "TiB")
    base = region.server.current_clocks("functions", rid)
    sos.push_one(sos.change("functions", rid, {"name": "one"}, base=base))
    admin.push_one(admin.change("functions", rid, {"name": "two"}, base=base))
    conflict = region.server.records("conflicts")[0]
    done = sos.update("conflicts", conflict.record_id, {"resolved": True, "resolution_note": "kept one"})
    assert done["status"] == "applied"
    refused = region.kom_member.update("conflicts", conflict.record_id, {"resolved": False})
    assert refused["status"] == "rejected" and refused["problem"]["type"] == "/problems/forbidden"
    changed_value = sos.update("conflicts", conflict.record_id, {"kept_value": "x"})
    assert changed_value["problem"]["type"] == "/problems/forbidden"
    assert changed_value["problem"]["field"] == "kept_value"


def test_delete_makes_a_tombstone_everyone_pulls(region: Region):
    sos = region.sos_member
    rid = _function(sos, "TiB", description="old")
    result = sos.delete("functions", rid)
    assert result["status"] == "applied"
    pulled = region.kom_member.pulled("functions", rid)
    assert pulled["deleted"] is True and pulled["fields"] == {} and pulled["seq"] == result["seq"]
    assert region.server.records("conflicts") == []


def test_edit_then_unseen_delete_keeps_the_edit_in_a_conflict(region: Region):
    sos, admin = region.sos_member, region.sos_admin
    rid = _function(sos, "TiB")
    seen = region.server.current_clocks("functions", rid)
    edit = sos.change("functions", rid, {"name": "edited"}, base={"name": seen["name"]})
    assert sos.push_one(edit)["status"] == "applied"
    deletion = admin.change("functions", rid, op="delete", base=seen)
    assert admin.push_one(deletion)["status"] == "conflict"
    assert region.kom_member.pulled("functions", rid)["deleted"] is True
    (conflict,) = region.server.records("conflicts")
    values = {k: v["value"] for k, v in conflict.fields.items()}
    assert values["field"] == "name" and values["other_value"] == "edited"
    assert values["kept_value"] is None and values["kept_clock"] == deletion["clock"]


def test_delete_then_edit_keeps_the_edit_in_a_conflict_and_the_tombstone_stands(region: Region):
    sos, admin = region.sos_member, region.sos_admin
    rid = _function(sos, "TiB")
    seen = region.server.current_clocks("functions", rid)
    assert admin.push_one(admin.change("functions", rid, op="delete", base=seen))["status"] == "applied"
    edit = sos.change("functions", rid, {"name": "edited"}, base={"name": seen["name"]})
    assert sos.push_one(edit)["status"] == "conflict"
    pulled = region.kom_member.pulled("functions", rid)
    assert pulled["deleted"] is True and pulled["fields"] == {}
    (conflict,) = region.server.records("conflicts")
    values = {k: v["value"] for k, v in conflict.fields.items()}
    assert values["other_value"] == "edited" and values["other_clock"] == edit["clock"]


def test_delete_of_an_unknown_record_is_not_found(region: Region):
    result = region.sos_member.delete("functions", str(uuid.uuid4()))
    assert result["status"] == "rejected"
    problem = result["problem"]
    assert problem["type"] == "/problems/not-found" and problem["status"] == 404
    assert problem["change_id"] and problem["field"] == "record_id"


def _activation(region: Region) -> str:
    lst = region.lst_admin
    fn = region.sos_admin.create("functions", {"organisation_id": region.sos, "name": "TiB"})
    forum = lst.create("forums", {"name": "Regional samverkan", "level": "coordinating", "convenor_function_id": fn})
    lst.create("mandates", {"forum_id": forum, "function_id": fn, "role": "member"})
    return lst.create(
        "activations", {"forum_id": forum, "reason": "storm", "started_at": "2026-11-27T10:00:00.000Z"}
    )


def test_append_only_entries_are_created_but_never_changed_or_deleted(region: Region):
    activation = _activation(region)
    sos = region.sos_member
    entry = sos.create(
        "log_entries",
        {"activation_id": activation, "at": "2026-11-27T10:01:00.000Z", "kind": "information", "text": "Hej"},
    )
    update = sos.update("log_entries", entry, {"text": "changed"})
    assert update["status"] == "rejected" and update["problem"]["type"] == "/problems/forbidden"
    deletion = sos.delete("log_entries", entry)
    assert deletion["status"] == "rejected" and deletion["problem"]["type"] == "/problems/forbidden"
    by_admin = region.lst_admin.update("log_entries", entry, {"text": "changed"})
    assert by_admin["status"] == "rejected"
    correction = sos.create(
        "log_entries",
        {"activation_id": activation, "at": "2026-11-27T10:02:00.000Z", "kind": "information",
         "text": "Rättelse", "corrects": entry},
    )
    assert region.kom_member.pulled("log_entries", correction)["fields"]["corrects"]["value"] == entry


def test_internal_records_reach_other_organisations_as_tombstones(region: Region):
    sos = region.sos_member
    rid = sos.create(
        "functions", {"organisation_id": sos.org_id, "name": "Intern", "visibility": "internal"}
    )
    own = region.sos_admin.pulled("functions", rid)
    assert own["deleted"] is False and own["visibility"] == "internal"
    assert own["fields"]["visibility"]["value"] == "internal"
    other = region.kom_member.pulled("functions", rid)
    assert other["deleted"] is True and other["fields"] == {} and other["visibility"] == "internal"
    assert other["seq"] == own["seq"]


def test_record_turning_internal_becomes_a_tombstone_and_back(region: Region):
    sos = region.sos_member
    rid = _function(sos, "Öppen")
    _, cursor = region.kom_member.pull_all()
    sos.update("functions", rid, {"visibility": "internal"})
    page = region.kom_member.pull_page(cursor).json()
    assert [(r["record_id"], r["deleted"]) for r in page["records"]] == [(rid, True)]
    sos.update("functions", rid, {"visibility": "regional"})
    page = region.kom_member.pull_page(page["cursor"]).json()
    assert page["records"][0]["deleted"] is False
    assert page["records"][0]["fields"]["name"]["value"] == "Öppen"


def test_references_must_name_records_the_writer_can_see(region: Region):
    sos, kom = region.sos_member, region.kom_member
    missing = kom.push_one(
        kom.change("channels", fields={"function_id": str(uuid.uuid4()), "kind": "phone", "value": "1"})
    )
    assert missing["problem"]["type"] == "/problems/invalid" and missing["problem"]["field"] == "function_id"
    hidden_fn = sos.create("functions", {"organisation_id": sos.org_id, "name": "x", "visibility": "internal"})
    hidden = region.lst_admin.push_one(
        region.lst_admin.change("mandates", fields={"forum_id": str(uuid.uuid4()), "function_id": hidden_fn, "role": "member"})
    )
    assert hidden["status"] == "rejected" and hidden["problem"]["field"] in ("forum_id", "function_id")
    forum = region.lst_admin.create("forums", {"name": "F", "level": "directing"})
    hidden = region.lst_admin.push_one(
        region.lst_admin.change("mandates", fields={"forum_id": forum, "function_id": hidden_fn, "role": "member"})
    )
    assert hidden["problem"]["field"] == "function_id"
    deleted_fn = _function(sos, "gone")
    sos.delete("functions", deleted_fn)
    gone = sos.push_one(sos.change("channels", fields={"function_id": deleted_fn, "kind": "phone", "value": "1"}))
    assert gone["problem"]["field"] == "function_id"


def test_an_earlier_change_in_the_same_push_can_be_referenced(region: Region):
    sos = region.sos_member
    fn = sos.change("functions", fields={"organisation_id": sos.org_id, "name": "TiB"})
    ch = sos.change("channels", fields={"function_id": fn["record_id"], "kind": "phone", "value": "070-1740605"})
    assert [r["status"] for r in sos.push(fn, ch)] == ["applied", "applied"]
    assert [r["status"] for r in sos.push(
        sos.change("channels", fields={"function_id": str(uuid.uuid4()), "kind": "phone", "value": "1"})
    )] == ["rejected"]


def test_validation_problems_name_the_change_and_field(region: Region):
    sos = region.sos_member
    cases = {
        "name": {"organisation_id": sos.org_id, "name": "x" * 501},
        "availability": {"organisation_id": sos.org_id, "name": "x", "availability": "sometimes"},
        "is_contact_point": {"organisation_id": sos.org_id, "name": "x", "is_contact_point": "yes"},
        "organisation_id": {"name": "x"},
        "colour": {"organisation_id": sos.org_id, "name": "x", "colour": "red"},
        "last_verified": {"organisation_id": sos.org_id, "name": "x", "last_verified": "2026-02-30"},
    }
    for field, fields in cases.items():
        change = sos.change("functions", fields=fields)
        result = sos.push_one(change)
        assert result["status"] == "rejected", field
        problem = result["problem"]
        assert problem["type"] == "/problems/invalid" and problem["status"] == 422
        assert problem["field"] == field and problem["change_id"] == change["change_id"]
        assert problem["title"] and problem["detail"]
    rid = _function(sos)
    cleared = sos.update("functions", rid, {"name": None})
    assert cleared["problem"]["field"] == "name"
    assert sos.update("functions", rid, {"description": None})["status"] == "applied"


def test_malformed_changes_are_rejected_per_change(region: Region):
    sos = region.sos_member
    good = sos.change("functions", fields={"organisation_id": sos.org_id, "name": "ok"})
    bad = [
        dict(good, change_id="not-a-uuid"),
        dict(good, change_id=str(uuid.uuid4()), collection="weather"),
        dict(good, change_id=str(uuid.uuid4()), record_id="123"),
        dict(good, change_id=str(uuid.uuid4()), op="merge"),
        dict(good, change_id=str(uuid.uuid4()), clock="yesterday"),
        dict(good, change_id=str(uuid.uuid4()), base={"name": "nope"}),
    ]
    results = sos.push(*bad)
    assert [r["status"] for r in results] == ["rejected"] * len(bad)
    assert [r["problem"]["field"] for r in results] == ["change_id", "collection", "record_id", "op", "clock", "name"]
    assert all(r["problem"]["type"] == "/problems/invalid" for r in results)


def test_clock_more_than_60_s_ahead_is_clock_skew(region: Region):
    sos = region.sos_member
    fields = {"organisation_id": sos.org_id, "name": "x"}
    ahead = sos.change("functions", fields=fields, clock=str(Hlc(now_ms() + 90_000, 0, sos.device_id)))
    result = sos.push_one(ahead)
    assert result["status"] == "rejected"
    assert result["problem"]["type"] == "/problems/clock-skew" and result["problem"]["field"] == "clock"
    near = sos.change("functions", fields=fields, clock=str(Hlc(now_ms() + 30_000, 0, sos.device_id)))
    assert sos.push_one(near)["status"] == "applied"


def test_upsert_of_existing_record_needs_no_required_fields(region: Region):
    sos = region.sos_member
    rid = _function(sos)
    assert sos.update("functions", rid, {"short_name": "TiB"})["status"] == "applied"
    record = sos.pulled("functions", rid)
    assert set(record["fields"]) == {"organisation_id", "name", "short_name"}
