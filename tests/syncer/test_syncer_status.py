"""What the window shows: status changes announced to subscribers, progress, offline, rejected changes."""

from __future__ import annotations

import time

import pytest
from syncer_helpers import preload_records

from desktop.syncer.engine import SyncEngine
from desktop.syncer.errors import Offline
from sync.clock import parse_time


def test_subscribers_see_syncing_progress_and_idle(server, device_factory):
    device = device_factory(server, "sos", initial_sync=False, pull_limit=100)
    preload_records(server.sessions, server.org_ids["sos"], server.org_ids["sos"], 150)
    seen = []
    unsubscribe = device.engine.subscribe(seen.append)
    device.sync()
    unsubscribe()
    states = [s.state for s in seen]
    assert states[0] == "syncing" and states[-1] == "idle"
    progress = [s.progress for s in seen if s.progress]
    assert progress[0][0] < progress[-1][0] == progress[-1][1] >= 300  # (done, total) from the digest
    assert seen[-1].last_success and seen[-1].progress is None


def test_offline_keeps_the_outbox_and_says_so(server, device_factory, make_function):
    device = device_factory(server, "sos")
    make_function(device.store, server.org_ids["sos"], "TiB")
    server.thread.stop()
    with pytest.raises(Offline):
        device.sync()
    status = device.engine.status()
    assert status.state == "offline" and status.outbox_count == 2
    assert server.url in status.last_error
    assert device.engine.probe() is False
    # What `samverka status` reads later, in another process: what failed, and when.
    later = SyncEngine(device.store).status()
    assert later.state == "offline" and server.url in later.last_error and later.outbox_count == 2
    assert abs(time.time() * 1000 - parse_time(later.last_error_at)) < 60_000


def test_a_rejected_change_is_kept_and_listed_with_the_servers_reason(server, device_factory, make_function):
    sos = device_factory(server, "sos")
    sbff = device_factory(server, "sbff")
    fid, cid = make_function(sos.store, server.org_ids["sos"], "TiB SOS")
    sos.sync(); sbff.sync()
    sbff.store.update("channels", cid, {"note": "not mine to change"})  # another organisation's
    report = sbff.sync()
    assert len(report.rejected) == 1 and report.pushed == 0
    status = sbff.engine.status()
    assert status.rejected_count == 1 and status.outbox_count == 0
    [rejected] = sbff.engine.rejected()
    assert rejected.record_id == cid and rejected.problem["type"].endswith("forbidden")
    assert rejected.reason
    # Later syncs do not send it again, and other changes still flow.
    sos.store.update("channels", cid, {"label": "växel"})
    sos.sync()
    assert sbff.sync().rejected == []
    assert sbff.store.get("channels", cid)["fields"]["label"] == "växel"
