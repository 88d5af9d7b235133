"""Who reads what (issue 7, items 2–4): inherited visibility, visibility set only by owners,
clocks that name their sender — and the per-push caches the write rules read.

A device's view below is what a client holds after applying every page it pulled from its
cursor on: a record turning internal (or its parent doing so) must reach it, also when the
record itself was not edited, and its digest must agree with the server's.
"""

from __future__ import annotations

import hashlib
import uuid

from sync.records import COLLECTION_NAMES

from server_support import Dev, Region

AT = "2026-11-27T10:00:00.000Z"


class View:
    """A device's copy, kept up to date from its cursor the way a client does."""

    def __init__(self, dev: Dev) -> None:
        self.dev = dev
        self.records: dict[tuple[str, str], dict] = {}
        self.cursor: str | None = None
        self.sync()

    def sync(self) -> list[dict]:
        records, self.cursor = self.dev.pull_all(self.cursor)
        for record in records:
            self.records[(record["collection"], record["record_id"])] = record
        return records

    def get(self, collection: str, record_id: str) -> dict:
        return self.records[(collection, record_id)]

    def readable(self, collection: str, record_id: str) -> bool:
        record = self.get(collection, record_id)
        return not record["deleted"] and bool(record["fields"])

    def digest(self) -> dict:
        out = {}
        for name in COLLECTION_NAMES:
            lines = sorted(f"{r['record_id']}:{r['seq']}\n" for (c, _), r in self.records.items() if c == name)
            out[name] = {"count": len(lines), "hash": hashlib.sha256("".join(lines).encode()).hexdigest()}
        return out

    def assert_agrees_with_server(self) -> None:
        assert self.dev.get("/v1/sync/digest").json()["collections"] == self.digest()
        full = {(r["collection"], r["record_id"]): r for r in self.dev.pull_all()[0]}
        assert full == self.records


def _function(dev: Dev, name: str = "TiB", **extra) -> str:
    return dev.create("functions", {"organisation_id": dev.org_id, "name": name, **extra})


def _channel(dev: Dev, function_id: str, value: str = "070-1740605", **extra) -> str:
    return dev.create("channels", {"function_id": function_id, "kind": "phone", "value": value, **extra})


# --- item 2: inherited visibility ------------------------------------------------------------

def test_channels_of_an_internal_function_reach_other_organisations_as_tombstones(region: Region):
    sos = region.sos_member
    fn = _function(sos, "Intern TiB", visibility="internal")
    channel = _channel(sos, fn, "+46 8 454 20 00")  # regional itself: the function decides
    kom, own = View(region.kom_member), View(region.sos_admin)
    assert not kom.readable("channels", channel)
    assert kom.get("channels", channel)["visibility"] == "internal"
    assert "454 20 00" not in repr(kom.records)  # spaces: never part of a random id
    assert own.readable("channels", channel)
    assert own.get("channels", channel)["fields"]["value"]["value"] == "+46 8 454 20 00"
    kom.assert_agrees_with_server()


def test_a_function_turning_internal_takes_its_channels_along_and_back(region: Region):
    sos = region.sos_member
    fn = _function(sos, "TiB")
    channels = [_channel(sos, fn, f"070-17406{n:02d}") for n in range(3)]
    kom = View(region.kom_member)
    assert all(kom.readable("channels", c) for c in channels)

    sos.update("functions", fn, {"visibility": "internal"})
    changed = {(r["collection"], r["record_id"]) for r in kom.sync()}
    assert {("functions", fn)} | {("channels", c) for c in channels} <= changed
    assert not any(kom.readable("channels", c) for c in channels)
    assert "070-17406" not in repr(kom.records)
    kom.assert_agrees_with_server()

    sos.update("functions", fn, {"visibility": "regional"})
    kom.sync()
    assert all(kom.readable("channels", c) for c in channels)
    assert kom.get("channels", channels[1])["fields"]["value"]["value"] == "070-1740601"
    assert kom.get("channels", channels[1])["visibility"] == "regional"
    kom.assert_agrees_with_server()


def test_steps_of_a_routine_turning_internal_follow_it(region: Region):
    sos = region.sos_member
    routine = sos.create("routines", {"title": "Larmrutin", "organisation_id": sos.org_id})
    step = sos.create("routine_steps", {"routine_id": routine, "position": "a0", "text": "Ring 112"})
    lst = View(region.lst_admin)
    assert lst.readable("routine_steps", step)
    sos.update("routines", routine, {"visibility": "internal"})
    lst.sync()
    assert not lst.readable("routine_steps", step)
    lst.assert_agrees_with_server()
    sos.update("routines", routine, {"visibility": "regional"})
    lst.sync()
    assert lst.get("routine_steps", step)["fields"]["text"]["value"] == "Ring 112"


def test_children_written_in_the_same_push_as_the_turn_follow_it(region: Region):
    sos = region.sos_member
    fn = str(uuid.uuid4())
    channel = str(uuid.uuid4())
    results = sos.push(
        sos.change("functions", fn, {"organisation_id": sos.org_id, "name": "TiB"}, base={}),
        sos.change("channels", channel, {"function_id": fn, "kind": "phone", "value": "112"}, base={}),
    )
    assert [r["status"] for r in results] == ["applied", "applied"]
    function_clock = region.server.current_clocks("functions", fn)
    results = sos.push(
        sos.change("channels", str(uuid.uuid4()), {"function_id": fn, "kind": "email", "value": "a@b.se"}, base={}),
        sos.change("functions", fn, {"visibility": "internal"}, base={"visibility": function_clock.get("visibility")}),
    )
    assert [r["status"] for r in results] == ["applied", "applied"]
    kom = View(region.kom_member)
    hidden = [r for (c, _), r in kom.records.items() if c == "channels"]
    assert len(hidden) == 2 and all(r["deleted"] and r["fields"] == {} for r in hidden)


def test_a_conflict_follows_the_current_visibility_of_its_record(region: Region):
    sos = region.sos_member
    fn = _function(sos, "Ett")
    base = region.server.current_clocks("functions", fn)
    sos.push_one(sos.change("functions", fn, {"name": "Två"}, base=base))
    assert region.sos_admin.push_one(region.sos_admin.change("functions", fn, {"name": "Tre"}, base=base))["status"] == "conflict"
    (conflict,) = region.server.records("conflicts")
    kom = View(region.kom_member)
    assert kom.readable("conflicts", conflict.record_id)

    sos.update("functions", fn, {"visibility": "internal"})
    kom.sync()
    assert not kom.readable("conflicts", conflict.record_id)
    kom.assert_agrees_with_server()
    sos.update("functions", fn, {"visibility": "regional"})
    kom.sync()
    assert kom.readable("conflicts", conflict.record_id)


def test_a_conflict_made_while_its_record_was_internal_is_read_once_it_is_regional(region: Region):
    sos = region.sos_member
    fn = _function(sos, "Ett", visibility="internal")
    base = region.server.current_clocks("functions", fn)
    sos.push_one(sos.change("functions", fn, {"name": "Två"}, base=base))
    region.sos_admin.push_one(region.sos_admin.change("functions", fn, {"name": "Tre"}, base=base))
    (conflict,) = region.server.records("conflicts")
    kom = View(region.kom_member)
    assert not kom.readable("conflicts", conflict.record_id)
    sos.update("functions", fn, {"visibility": "regional"})
    kom.sync()
    assert kom.readable("conflicts", conflict.record_id)
    assert kom.get("conflicts", conflict.record_id)["fields"]["record_id"]["value"] == fn


def test_a_conflict_of_a_channel_follows_the_channels_function(region: Region):
    sos = region.sos_member
    fn = _function(sos)
    channel = _channel(sos, fn)
    base = region.server.current_clocks("channels", channel)
    sos.push_one(sos.change("channels", channel, {"value": "1"}, base=base))
    region.sos_admin.push_one(region.sos_admin.change("channels", channel, {"value": "2"}, base=base))
    (conflict,) = region.server.records("conflicts")
    kom = View(region.kom_member)
    sos.update("functions", fn, {"visibility": "internal"})
    kom.sync()
    assert not kom.readable("channels", channel) and not kom.readable("conflicts", conflict.record_id)
    kom.assert_agrees_with_server()


def test_children_of_another_organisations_internal_record_are_neither_written_nor_named(region: Region):
    sos, kom = region.sos_member, region.kom_member
    fn = _function(sos, visibility="internal")
    channel = _channel(sos, fn)
    refused = kom.update("channels", channel, {"note": "x"})
    assert refused["problem"]["type"] == "/problems/forbidden"
    ra = region.lst_admin
    routine = sos.create("routines", {"title": "R", "organisation_id": sos.org_id, "visibility": "internal"})
    step = sos.create("routine_steps", {"routine_id": routine, "position": "a0", "text": "t"})
    forum = ra.create("forums", {"name": "F", "level": "directing"})
    activation = ra.create("activations", {"forum_id": forum, "reason": "x", "started_at": AT})
    mark = ra.push_one(ra.change("checklist_marks", fields={
        "activation_id": activation, "step_id": step, "done": True, "at": AT,
    }))
    assert mark["status"] == "rejected" and mark["problem"]["field"] == "step_id"


# --- item 3: only the owner sets visibility --------------------------------------------------

def test_only_the_owning_organisation_sets_visibility(region: Region):
    server = region.server
    server.org("MSB", regional=True, name="Myndigheten för samhällsskydd och beredskap")
    msb = server.enroll("MSB", "regional_admin", "MSB admin")
    lst = region.lst_admin
    forum = lst.create("forums", {"name": "RSS", "level": "coordinating"})
    routine = lst.create("routines", {"title": "Sammankalla", "forum_id": forum})
    for collection, record_id in (("forums", forum), ("routines", routine)):
        assert msb.update(collection, record_id, {"purpose" if collection == "forums" else "body": "x"})["status"] == "applied"
        refused = msb.update(collection, record_id, {"visibility": "internal"})
        assert refused["status"] == "rejected", refused
        assert (refused["problem"]["type"], refused["problem"]["field"]) == ("/problems/forbidden", "visibility")
        assert refused["problem"]["reason"] == "visibility-owner-only"
        assert server.record(collection, record_id).visibility == "regional"
        assert lst.update(collection, record_id, {"visibility": "internal"})["status"] == "applied"


def test_an_activation_s_visibility_is_set_by_the_convenor_and_the_regional_admin(region: Region):
    sos, lst = region.sos_member, region.lst_admin
    convenor = _function(sos, "Sammankallande")
    forum = lst.create("forums", {"name": "F", "level": "coordinating", "convenor_function_id": convenor})
    activation = lst.create("activations", {"forum_id": forum, "reason": "Storm", "started_at": AT})
    assert sos.update("activations", activation, {"visibility": "internal"})["status"] == "applied"
    assert lst.update("activations", activation, {"visibility": "regional"})["status"] == "applied"
    refused = region.kom_member.update("activations", activation, {"visibility": "internal"})
    assert refused["problem"]["type"] == "/problems/forbidden"


# --- item 4: clocks name their sender ---------------------------------------------------------

def test_a_clock_naming_another_node_is_rejected_at_field_clock(region: Region):
    sos = region.sos_member
    fields = {"organisation_id": sos.org_id, "name": "TiB"}
    for node in (region.sos_admin.device_id, str(uuid.uuid4()), "server"):
        clock = sos.clock.now().rsplit("-", 1)[0] + "-" + node
        result = sos.push_one(sos.change("functions", fields=fields, clock=clock))
        assert result["status"] == "rejected", result
        problem = result["problem"]
        assert (problem["type"], problem["status"], problem["field"]) == ("/problems/invalid", 422, "clock")
        assert node in problem["detail"] and "device id" in problem["detail"]
    assert sos.push_one(sos.change("functions", fields=fields))["status"] == "applied"


def test_base_clocks_of_other_devices_are_accepted(region: Region):
    sos = region.sos_member
    fn = _function(region.sos_admin)  # its clocks name the admin's device
    assert sos.update("functions", fn, {"name": "Nytt"})["status"] == "applied"


# --- item 5: what a push caches stays true within the push ------------------------------------

def test_journal_rights_follow_a_function_deleted_earlier_in_the_same_push(region: Region):
    sos, lst = region.sos_member, region.lst_admin
    fn = _function(sos)
    forum = lst.create("forums", {"name": "F", "level": "coordinating"})
    lst.create("mandates", {"forum_id": forum, "function_id": fn, "role": "member"})
    activation = lst.create("activations", {"forum_id": forum, "reason": "Storm", "started_at": AT})

    def entry(text: str) -> dict:
        return sos.change("log_entries", fields={"activation_id": activation, "at": AT, "kind": "information", "text": text})

    results = sos.push(entry("före"), sos.change("functions", fn, op="delete"), entry("efter"))
    assert [r["status"] for r in results] == ["applied", "applied", "rejected"]
    assert results[2]["problem"]["field"] == "activation_id"


def test_journal_rights_follow_mandates_made_in_an_earlier_push(region: Region):
    kom, lst = region.kom_member, region.lst_admin
    fn = _function(kom)
    forum = lst.create("forums", {"name": "F", "level": "coordinating"})
    activation = lst.create("activations", {"forum_id": forum, "reason": "Storm", "started_at": AT})
    entry = {"activation_id": activation, "at": AT, "kind": "information", "text": "t"}
    assert kom.push_one(kom.change("log_entries", fields=entry))["status"] == "rejected"
    mandate = lst.create("mandates", {"forum_id": forum, "function_id": fn, "role": "member"})
    assert kom.push_one(kom.change("log_entries", fields=entry))["status"] == "applied"
    lst.delete("mandates", mandate)
    assert kom.push_one(kom.change("log_entries", fields=entry))["status"] == "rejected"
