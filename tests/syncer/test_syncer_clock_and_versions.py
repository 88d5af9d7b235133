"""Clocks that are wrong, servers that are newer, and the scheduler driving the real engine."""

from __future__ import annotations

import os
import time

import pytest

from desktop.store import Store
from desktop.syncer.engine import SyncEngine
from desktop.syncer.enroll import enroll
from desktop.syncer.errors import ClientTooOld
from desktop.syncer.scheduler import SyncScheduler
from sync.clock import wall_ms_of


@pytest.mark.parametrize("skew_ms", [+15 * 60_000, -15 * 60_000])
def test_a_device_with_a_wrong_clock_still_makes_clocks_the_server_accepts(
        tmp_path, server, make_function, skew_ms):
    wrong = lambda: time.time_ns() // 1_000_000 + skew_ms  # noqa: E731
    store = Store.open(tmp_path / "samverka.db", os.urandom(32), clock_wall=wrong)
    try:
        enroll(store, server.url, server.code("sos"))
        engine = SyncEngine(store, digest_interval=0)
        engine.sync_now()
        fid, cid = make_function(store, server.org_ids["sos"], "TiB")
        store.update("channels", cid, {"note": "ny"})
        report = engine.sync_now()
        assert report.rejected == [] and report.pushed == 3
        made = store.clocks("channels", cid)["note"]
        assert abs(wall_ms_of(made) - time.time_ns() // 1_000_000) < 10_000
        engine.close()
    finally:
        store.close()


def test_a_client_too_old_is_told_so_in_words_and_keeps_working_offline(
        server_factory, device_factory, make_function):
    server = server_factory()
    device = device_factory(server, "sos")
    make_function(device.store, server.org_ids["sos"], "TiB")
    newer = server_factory({"min_client_version": "99.0.0"})
    device.store.set_meta("sync.server_url", newer.url)  # as if the server was upgraded
    with pytest.raises(ClientTooOld) as raised:
        device.sync()
    assert "Uppdatera" in str(raised.value)
    status = device.engine.status()
    assert status.state == "error" and status.outbox_count == 2
    assert device.store.search("tib")  # still works offline


def test_the_scheduler_drives_the_real_engine(server, device_factory, make_function):
    device = device_factory(server, "sos")
    scheduler = SyncScheduler(device.engine, interval=0.2)
    scheduler.start(sync_first=False)
    try:
        make_function(device.store, server.org_ids["sos"], "TiB")
        deadline = time.monotonic() + 10
        while device.store.outbox_count() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert device.store.outbox_count() == 0
        scheduler.interval = 3600
        make_function(device.store, server.org_ids["sos"], "RCB")
        time.sleep(0.3)
        scheduler.request_now()
        deadline = time.monotonic() + 10
        while device.store.outbox_count() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert device.store.outbox_count() == 0
    finally:
        assert scheduler.stop(10)


def test_a_frozen_build_tells_the_server_the_version_it_was_built_as(tmp_path, server_factory, monkeypatch):
    """The User-Agent names installer/build.py's --version (baked into build-info.json), not
    the package metadata the build copied in: a server that wants at least 99.0 takes a build
    called 99.1.0, and refuses this checkout's own version."""
    import sys

    from desktop import version
    from desktop.syncer.client import SyncClient

    newer = server_factory({"min_client_version": "99.0.0"})
    with SyncClient(newer.url) as client, pytest.raises(ClientTooOld):
        client.enroll(newer.code("sos"), "from source")
    bundle = tmp_path / "_internal"
    (bundle / "resources").mkdir(parents=True)
    (bundle / "resources" / "build-info.json").write_text('{"version": "99.1.0"}', encoding="utf-8")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    version.build_info.cache_clear()
    version.program_version.cache_clear()
    try:
        with SyncClient(newer.url) as client:
            assert client.enroll(newer.code("sos"), "frozen").organisation_name == "SOS Alarm"
    finally:
        version.build_info.cache_clear()
        version.program_version.cache_clear()
