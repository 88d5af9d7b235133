"""Devices of different organisations edit offline, sync in different orders, and end up with the same data."""

from __future__ import annotations

from syncer_helpers import snapshot

from desktop.syncer import conflicts as conflict_ops


def _sync_all(*devices, rounds: int = 2) -> None:
    for _ in range(rounds):
        for device in devices:
            device.sync()


def test_three_organisations_converge_in_any_order(server, device_factory, make_function):
    lst = device_factory(server, "lst", "regional_admin")
    sos = device_factory(server, "sos")
    sbff = device_factory(server, "sbff")
    sos_fn, sos_ch = make_function(sos.store, server.org_ids["sos"], "TiB SOS Alarm")
    sbff_fn, _ = make_function(sbff.store, server.org_ids["sbff"], "RCB Storstockholm", "070-174 06 20")
    _sync_all(sos, sbff, lst)

    # Offline edits on every device, each to its own organisation's records or a new forum.
    sos.store.update("channels", sos_ch, {"label": "direkt", "priority": 2})
    sos.store.create("channels", {"function_id": sos_fn, "kind": "email", "value": "tib@sos.example"})
    sbff.store.update("functions", sbff_fn, {"availability": "24/7", "short_name": "RCB"})
    forum = lst.store.create("forums", {"name": "Regional samverkanskonferens", "level": "coordinating"})
    lst.store.create("mandates", {"forum_id": forum, "function_id": sos_fn, "role": "member"})

    # Different orders; two rounds so everyone hears everything.
    sbff.sync(); lst.sync(); sos.sync()
    lst.sync(); sos.sync(); sbff.sync()
    sos.sync()
    states = [snapshot(d.store, ("functions", "channels", "forums", "mandates", "organisations"))
              for d in (lst, sos, sbff)]
    assert states[0] == states[1] == states[2]
    assert states[0][("channels", sos_ch)][1]["priority"] == 2
    for device in (lst, sos, sbff):
        status = device.engine.status()
        assert status.outbox_count == 0 and status.rejected_count == 0 and status.state == "idle"


def test_concurrent_edit_makes_one_conflict_both_see_and_one_resolves(server, device_factory, make_function):
    a = device_factory(server, "sos", name="sos-a")
    b = device_factory(server, "sos", name="sos-b")
    fid, cid = make_function(a.store, server.org_ids["sos"], "TiB SOS Alarm")
    a.sync(); b.sync()

    a.store.update("channels", cid, {"value": "070-174 06 11"})
    b.store.update("channels", cid, {"value": "070-174 06 12"})
    a.sync()
    report = b.sync()
    assert report.conflicts == 1
    a.sync()
    seen_a, seen_b = conflict_ops.open_conflicts(a.store), conflict_ops.open_conflicts(b.store)
    assert len(seen_a) == len(seen_b) == 1
    assert seen_a[0] == seen_b[0] or seen_a[0].id == seen_b[0].id
    view = seen_a[0]
    assert view.field == "value" and {view.kept_value, view.other_value} == {"+46701740611", "+46701740612"}
    assert a.store.get("channels", cid)["fields"]["value"] == b.store.get("channels", cid)["fields"]["value"]
    assert a.engine.status().conflicts_count == 1

    # A person on device A brings the other value back, with a note.
    conflict, value = conflict_ops.resolve(a.store, view.id[:8], "other", "ringde och kollade")
    assert value == view.other_value
    _sync_all(a, b)
    for device in (a, b):
        assert conflict_ops.open_conflicts(device.store) == []
        assert device.store.get("channels", cid)["fields"]["value"] == view.other_value
        resolved = device.store.get("conflicts", view.id)["fields"]
        assert resolved["resolved"] is True and resolved["resolution_note"] == "ringde och kollade"
        assert device.engine.status().conflicts_count == 0
    assert snapshot(a.store) == snapshot(b.store)


def test_resolve_with_a_typed_value_and_keep_kept(server, device_factory, make_function):
    a = device_factory(server, "sos", name="a")
    b = device_factory(server, "sos", name="b")
    fid, cid = make_function(a.store, server.org_ids["sos"], "TiB")
    _sync_all(a, b)
    a.store.update("channels", cid, {"priority": 2})
    b.store.update("channels", cid, {"priority": 3})
    a.store.update("functions", fid, {"name": "TiB A"})
    b.store.update("functions", fid, {"name": "TiB B"})
    _sync_all(a, b)
    found = {v.field: v for v in conflict_ops.open_conflicts(a.store)}
    assert set(found) == {"priority", "name"}
    conflict_ops.resolve(b.store, found["priority"].id, "5")
    conflict_ops.resolve(b.store, found["name"].id, "kept")
    kept_name = b.store.get("functions", fid)["fields"]["name"]
    _sync_all(b, a)
    assert a.store.get("channels", cid)["fields"]["priority"] == 5
    assert a.store.get("functions", fid)["fields"]["name"] == kept_name
    assert conflict_ops.open_conflicts(a.store) == []


def test_delete_against_edit_keeps_the_delete_and_the_edited_value(server, device_factory, make_function):
    a = device_factory(server, "sos", name="a")
    b = device_factory(server, "sos", name="b")
    fid, cid = make_function(a.store, server.org_ids["sos"], "TiB")
    _sync_all(a, b)
    a.store.delete("channels", cid)
    b.store.update("channels", cid, {"note": "fungerar vid strömavbrott"})
    for first, second in ((a, b), (b, a)):
        first.sync(); second.sync()
    a.sync()
    for device in (a, b):
        assert device.store.get("channels", cid)["deleted"] is True
        views = conflict_ops.open_conflicts(device.store)
        assert [v.other_value for v in views] == ["fungerar vid strömavbrott"]
        assert views[0].record_deleted
    assert snapshot(a.store) == snapshot(b.store)


def test_append_only_entries_from_two_devices_are_all_kept(server, device_factory, make_function):
    lst = device_factory(server, "lst", "regional_admin")
    sos = device_factory(server, "sos")
    sbff = device_factory(server, "sbff")
    sos_fn, _ = make_function(sos.store, server.org_ids["sos"], "TiB SOS Alarm")
    sbff_fn, _ = make_function(sbff.store, server.org_ids["sbff"], "RCB")
    _sync_all(sos, sbff, lst)
    with lst.store.batch():
        forum = lst.store.create("forums", {"name": "Samverkanskonferens", "level": "coordinating"})
        lst.store.create("mandates", {"forum_id": forum, "function_id": sos_fn, "role": "member"})
        lst.store.create("mandates", {"forum_id": forum, "function_id": sbff_fn, "role": "member"})
        activation = lst.store.create("activations", {
            "forum_id": forum, "reason": "Storm", "started_at": "2026-11-27T10:00:00.000Z"})
    _sync_all(lst, sos, sbff)

    for number in range(3):  # both write at the same time, offline
        for device, fn in ((sos, sos_fn), (sbff, sbff_fn)):
            device.store.create("log_entries", {
                "activation_id": activation, "at": f"2026-11-27T10:0{number}:00.000Z",
                "author_function_id": fn, "kind": "information", "text": f"{device.name} {number}",
            })
    sbff.sync(); sos.sync(); lst.sync(); sbff.sync()
    texts = sorted(e["fields"]["text"] for e in lst.store.list("log_entries"))
    assert texts == sorted(f"{d} {n}" for d in (sos.name, sbff.name) for n in range(3))
    assert snapshot(lst.store) == snapshot(sos.store) == snapshot(sbff.store)
    assert conflict_ops.open_conflicts(lst.store) == []
