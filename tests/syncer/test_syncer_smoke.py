"""Smoke: two organisations' devices exchange a function through a real server."""

from syncer_helpers import snapshot


def test_two_devices_exchange(server, device_factory, make_function):
    a = device_factory(server, "sos")
    b = device_factory(server, "sbff")
    fid, cid = make_function(a.store, server.org_ids["sos"], "TiB SOS Alarm")
    report = a.sync()
    assert report.pushed == 2 and not report.rejected
    assert a.store.outbox_count() == 0
    b.sync()
    assert b.store.get("functions", fid)["fields"]["name"] == "TiB SOS Alarm"
    a.sync()
    assert snapshot(a.store) == snapshot(b.store)
    status = a.engine.status()
    assert status.state == "idle" and status.outbox_count == 0 and status.last_success
