"""Property: whatever offline edits three devices make, in whatever sync order, they converge."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from syncer_helpers import ServerThread, SyncServer, prepare_server_db, snapshot

from desktop.store import Store
from desktop.store.errors import RecordDeleted
from desktop.syncer.engine import SyncEngine
from desktop.syncer.enroll import enroll
from sync.server.app import create_app
from sync.server.config import Settings

DEVICES = (("a", "sos"), ("b", "sos"), ("c", "sbff"))
FIELDS = {"label": st.sampled_from(["växel", "direkt", "reserv"]),
          "priority": st.integers(1, 3),
          "note": st.sampled_from(["", "ström", "rakel"])}

edit = st.tuples(st.just("edit"), st.integers(0, 2), st.integers(0, 3),
                 st.sampled_from(sorted(FIELDS)), st.data())
step = st.one_of(
    edit,
    st.tuples(st.just("sync"), st.integers(0, 2)),
    st.tuples(st.just("delete"), st.integers(0, 2), st.integers(0, 3)),
    st.tuples(st.just("add"), st.integers(0, 2)),
)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    db_url, sessions, org_ids = prepare_server_db(tmp_path_factory.mktemp("server") / "s.db")
    thread = ServerThread(create_app(Settings(db_url=db_url))).start()
    yield SyncServer(thread.url, db_url, sessions, org_ids, thread)
    thread.stop()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=3, max_size=18))
def test_devices_converge(shared_server, tmp_path_factory, steps):
    server = shared_server
    folder = tmp_path_factory.mktemp("devices")
    stores, engines = [], []
    try:
        for name, org in DEVICES:
            store = Store.open(folder / name / "samverka.db", os.urandom(32))
            enroll(store, server.url, server.code(org), device_name=name)
            stores.append(store)
            engines.append(SyncEngine(store, digest_interval=0))
            engines[-1].sync_now()
        # Each organisation has a function with two channels, known to every device.
        channels: dict[str, list[str]] = {}
        for index, org in ((0, "sos"), (2, "sbff")):
            with stores[index].batch():
                fid = stores[index].create("functions", {"organisation_id": server.org_ids[org], "name": org})
                channels[org] = [
                    stores[index].create("channels", {"function_id": fid, "kind": "rakel", "value": f"TG {n}"})
                    for n in range(2)
                ]
            engines[index].sync_now()
        for engine in engines:
            engine.sync_now()
        functions = {org: stores[i].get("channels", channels[org][0])["fields"]["function_id"]
                     for i, org in ((0, "sos"), (2, "sbff"))}

        for item in steps:
            kind, device = item[0], item[1]
            org = DEVICES[device][1]
            store = stores[device]
            own = channels[org]
            if kind == "sync":
                engines[device].sync_now()
            elif kind == "add":
                own.append(store.create("channels", {"function_id": functions[org], "kind": "rakel",
                                                     "value": f"TG {uuid.uuid4().hex[:6]}"}))
            elif kind == "delete":
                target = own[item[2] % len(own)]
                if store.get("channels", target) is not None:
                    store.delete("channels", target)
            else:
                target, field, data = own[item[2] % len(own)], item[3], item[4]
                if store.get("channels", target) is None:
                    continue  # created on another device, not pulled here yet
                try:
                    store.update("channels", target, {field: data.draw(FIELDS[field])})
                except RecordDeleted:
                    pass
        for _ in range(2):
            for engine in engines:
                report = engine.sync_now()
                assert report.rejected == []
        states = [snapshot(s, ("functions", "channels", "conflicts")) for s in stores]
        assert states[0] == states[1] == states[2]
        assert all(s.outbox_count() == 0 for s in stores)
    finally:
        for engine in engines:
            engine.close()
        for store in stores:
            store.close()
