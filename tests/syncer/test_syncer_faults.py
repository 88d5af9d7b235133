"""When things go wrong: revocation, resync, wrong CA, killed processes, a network that drops and stalls."""

from __future__ import annotations

import os
import threading
import time

import pytest
from sqlalchemy import func, select
from syncer_helpers import make_tls_files, preload_records, snapshot, sync_in_a_child_killed_after
from syncer_proxy import Faults, FaultyProxy

from desktop.store import Store
from desktop.syncer import engine as E
from desktop.syncer.client import SyncClient
from desktop.syncer.engine import SyncEngine
from desktop.syncer.enroll import enroll
from desktop.syncer.errors import (
    AlreadyRunning,
    EnrollmentRefused,
    RateLimited,
    SyncError,
    TlsError,
    Unauthorized,
)
from sync.server import operations, storage
from sync.server.models import ChangeLog, Record


def test_revoked_device_keeps_its_data_readable_and_says_so(server, device_factory, make_function):
    device = device_factory(server, "sos")
    fid, cid = make_function(device.store, server.org_ids["sos"], "TiB SOS Alarm")
    device.sync()
    device.store.update("channels", cid, {"note": "skrivet efter återkallelsen"})
    server.revoke(device.store.get_meta(E.META_DEVICE_ID))

    with pytest.raises(Unauthorized) as raised:
        device.sync()
    assert "återkallad" in str(raised.value)
    status = device.engine.status()
    assert status.state == "unauthorized"
    assert status.outbox_count == 1  # the queued edit is kept
    assert "läsa" in status.last_error  # "Your data is still readable here"
    # Everything stays readable and searchable, including the unsent edit.
    assert device.store.get("functions", fid)["fields"]["name"] == "TiB SOS Alarm"
    assert device.store.get("channels", cid)["fields"]["note"] == "skrivet efter återkallelsen"
    assert device.store.search("tib sos")
    # A new process (new engine over the same store) says so too, before any network call.
    assert SyncEngine(device.store).status().state == "unauthorized"


def test_resync_required_downloads_everything_and_keeps_the_outbox(server, device_factory, make_function):
    a = device_factory(server, "sos", name="a")
    b = device_factory(server, "sos", name="b")
    fid, c1 = make_function(a.store, server.org_ids["sos"], "TiB")
    c2 = a.store.create("channels", {"function_id": fid, "kind": "email", "value": "tib@sos.example"})
    a.sync(); b.sync()
    b.store.delete("channels", c2)
    b.store.create("channels", {"function_id": fid, "kind": "rakel", "value": "TG 123"})
    b.sync()
    time.sleep(0.01)
    with server.session() as session:
        removed, _ = operations.compact(session, 0)  # the tombstone of c2 is compacted away
    assert removed == 1

    seen: list[tuple] = []

    class RacingClient(SyncClient):
        """A person edits while the sync pulls; what the outbox and the screen show is recorded."""

        def pull(self, cursor, limit=1000):
            if not seen:
                a.store.update("channels", c1, {"note": "ändrat under synken"})
            try:
                return super().pull(cursor, limit)
            finally:
                seen.append((cursor, a.store.outbox_count(),
                             a.store.get("channels", c1)["fields"]["note"]))

    engine = SyncEngine(a.store, client_factory=RacingClient, digest_interval=0)
    report = engine.sync_now()
    assert report.resynced
    # Every pull after the 410 ran with the edit still queued and visible.
    assert [s[0] for s in seen][1] is None
    assert all(count == 1 and note == "ändrat under synken" for _, count, note in seen[1:])
    assert report.pushed == 1 and a.store.outbox_count() == 0
    # The record whose tombstone was compacted is gone locally too; the digest agrees.
    assert report.removed_absent == 1 and report.digest_ok
    assert a.store.get("channels", c2)["deleted"] is True
    b.sync()
    assert b.store.get("channels", c1)["fields"]["note"] == "ändrat under synken"
    visible = lambda s: {k: v for k, v in snapshot(s).items() if not v[0]}  # noqa: E731
    assert visible(a.store) == visible(b.store)


def test_digest_mismatch_is_repaired(server, device_factory, make_function):
    a = device_factory(server, "sos", name="a")
    fid, cid = make_function(a.store, server.org_ids["sos"], "TiB")
    a.sync()
    # Damage the local copy behind the syncer's back: lose a pulled row's state.
    a.store.apply_pulled([{
        "collection": "channels", "record_id": cid, "owner_org": server.org_ids["sos"],
        "deleted": False, "fields": {"value": {"value": "+46701740699", "clock": "0000000000001-00000-x"}},
        "seq": 1,
    }], a.store.get_meta(E.META_CURSOR))
    report = a.sync()
    assert report.repaired == ["channels"] and report.digest_ok
    assert a.store.get("channels", cid)["fields"]["value"] == "+46701740610"


def test_wrong_or_missing_ca_fails_clearly_and_the_right_one_works(tmp_path, server_factory, make_function):
    files = make_tls_files(tmp_path)
    server = server_factory(ssl=files)
    assert server.url.startswith("https://")
    store = Store.open(tmp_path / "dev" / "samverka.db", os.urandom(32))
    try:
        for ca in (files["other_ca"], None):
            with pytest.raises(TlsError) as raised:
                enroll(store, server.url, server.code("sos"), ca_file=ca)
            message = str(raised.value)
            assert server.url in message
            assert (str(ca) in message) if ca else ("--ca" in message)
        with pytest.raises(TlsError) as raised:
            enroll(store, server.url, server.code("sos"), ca_file=tmp_path / "missing.pem")
        assert "missing.pem" in str(raised.value)
        assert store.get_meta(E.META_TOKEN) is None  # nothing half-enrolled

        enroll(store, server.url, server.code("sos"), ca_file=files["ca"])
        assert store.get_meta(E.META_CA_PEM).startswith("-----BEGIN CERTIFICATE-----")
        engine = SyncEngine(store)
        engine.sync_now()
        make_function(store, server.org_ids["sos"], "TiB")
        assert engine.sync_now().pushed == 2
        engine.close()
    finally:
        store.close()


def test_a_demo_vault_is_refused_with_a_way_forward(tmp_path, server):
    store = Store.open(tmp_path / "samverka.db", os.urandom(32))
    try:
        store.set_meta("demo", "1")
        with pytest.raises(SyncError) as raised:
            enroll(store, server.url, server.code("sos"))
        assert raised.value.key == "syncer.demo_vault"
        assert "--data-dir" in str(raised.value) and "samverka-server demo" in str(raised.value)
    finally:
        store.close()


def test_enrollment_errors_and_rate_limit(tmp_path, server_factory):
    server = server_factory({"enroll_failure_limit": 3})
    client = SyncClient(server.url)
    for _ in range(3):
        with pytest.raises(EnrollmentRefused):
            client.enroll("AAAA-BBBB-CCCC-DDDD", "x")
    with pytest.raises(RateLimited) as raised:
        client.enroll("AAAA-BBBB-CCCC-DDDD", "x")
    assert raised.value.retry_after and raised.value.retry_after > 0
    client.close()


def test_never_two_syncs_at_once(server, device_factory, make_function):
    active = {"now": 0, "max": 0}
    lock = threading.Lock()

    class SlowCountingClient(SyncClient):
        def _call(self, *args, **kwargs):
            with lock:
                active["now"] += 1
                active["max"] = max(active["max"], active["now"])
            try:
                time.sleep(0.02)
                return super()._call(*args, **kwargs)
            finally:
                with lock:
                    active["now"] -= 1

    device = device_factory(server, "sos", client_factory=SlowCountingClient)
    make_function(device.store, server.org_ids["sos"], "TiB")
    errors: list[BaseException] = []
    started = threading.Barrier(5)

    def run(wait: bool) -> None:
        started.wait()
        try:
            device.engine.sync_now(wait=wait)
        except AlreadyRunning as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i != 4,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert active["max"] == 1
    assert device.store.outbox_count() == 0
    # The impatient caller either found a sync running, or (rarely) ran first.
    assert len(errors) <= 1


def test_killed_mid_pull_loses_and_repeats_nothing(server, device_factory):
    device = device_factory(server, "sos", initial_sync=True)
    total = preload_records(server.sessions, server.org_ids["sos"], server.org_ids["sos"], 1500)
    path, key = device.path, device.key
    sync_in_a_child_killed_after(device, pages=4, pull_limit=200, slow_pull_s=0.15)

    store = Store.open(path, key)
    try:
        interrupted = SyncEngine(store).status()  # a status read now says the sync broke off
        assert interrupted.state == "error" and interrupted.last_error_at is not None
        cursor = store.get_meta(E.META_CURSOR)
        position = storage.decode_cursor(cursor)
        with server.session() as session:
            expected = session.scalar(select(func.count()).select_from(Record).where(
                Record.seq <= position, Record.collection.in_(("functions", "channels"))))
        have = store.count("functions") + store.count("channels")
        assert have == expected >= 4 * 200 - 5  # every committed page is there, nothing more
        report = SyncEngine(store, digest_interval=0).sync_now()
        assert report.pulled == total - have  # nothing pulled twice
        assert report.digest_ok
        assert store.count("functions") + store.count("channels") == total
    finally:
        store.close()


def _sync_until_it_works(device, attempts: int = 40):
    for _ in range(attempts - 1):
        try:
            return device.engine.sync_now()
        except SyncError:
            continue
    return device.engine.sync_now()


def test_a_flaky_network_loses_nothing_and_duplicates_nothing(server, device_factory, make_function):
    proxy = FaultyProxy(server.thread.port).start()
    try:
        answers: list[str] = []

        class ListeningClient(SyncClient):
            def push(self, changes, *, body=None):
                response = super().push(changes, body=body)
                answers.extend(result.status for result in response.results)
                return response

        a = device_factory(server, "sos", name="a", url=proxy.url, timeout=(1.0, 1.0),
                           client_factory=ListeningClient)
        b = device_factory(server, "sbff", name="b", url=proxy.url, timeout=(1.0, 1.0),
                           client_factory=ListeningClient)
        proxy.set_faults(Faults(refuse=0.1, cut_request=0.15, cut_response=0.25, stall=0.05,
                                stall_seconds=1.5, seed=7))
        made = {"a": 0, "b": 0}
        created: dict[str, list[str]] = {"a": [], "b": []}
        for round_number in range(6):
            for device, org in ((a, "sos"), (b, "sbff")):
                fid, cid = make_function(device.store, server.org_ids[org], f"{device.name} {round_number}")
                created[device.name] += [fid, cid]
                device.store.update("channels", cid, {"note": f"runda {round_number}"})
                made[device.name] += 3
                if round_number:
                    previous = created[device.name][-4]
                    device.store.update("functions", previous, {"short_name": f"r{round_number}"})
                    made[device.name] += 1
                _sync_until_it_works(device)
        proxy.set_faults(Faults())  # the network heals; streams cut earlier may still fail once
        for device in (a, b, a):
            _sync_until_it_works(device)
        assert proxy.stats.cut_response + proxy.stats.cut_request + proxy.stats.refused > 5
        # Answers were lost on the way, the changes sent again, and the server did not apply them twice.
        assert "duplicate" in answers and "rejected" not in answers
        with server.session() as session:
            for device in (a, b):
                device_id = device.store.get_meta(E.META_DEVICE_ID)
                applied = session.scalar(select(func.count()).select_from(ChangeLog).where(
                    ChangeLog.device_id == device_id))
                assert applied == made[device.name]  # each change applied exactly once
            assert session.scalar(select(func.count()).select_from(Record).where(
                Record.collection == "conflicts")) == 0
            on_server = session.scalar(select(func.count()).select_from(Record).where(
                Record.collection.in_(("functions", "channels"))))
        assert on_server == len(created["a"]) + len(created["b"])
        assert a.store.outbox_count() == b.store.outbox_count() == 0
        assert snapshot(a.store) == snapshot(b.store)
    finally:
        proxy.stop()
