"""A download from scratch: the largest pages, the garbage collector paused, a search index that
is complete after the sync and after a kill mid-download, and the space of a big push given back."""

from __future__ import annotations

import gc

import pytest
from syncer_helpers import preload_records, sync_in_a_child_killed_after

from desktop.store import Store
from desktop.store import search_index as index_mod
from desktop.store import store as store_mod
from desktop.syncer import engine as E
from desktop.syncer.client import SyncClient
from desktop.syncer.engine import SyncEngine
from desktop.syncer.errors import Offline


def indexed(store: Store) -> int:
    with store._read() as db:
        return index_mod.document_count(db)


def searchable(store: Store) -> int:
    return sum(store.count(name) for name in index_mod.SEARCHED_COLLECTIONS)


def recording_client(limits: list[int]) -> type[SyncClient]:
    class Recording(SyncClient):
        def pull(self, cursor, limit=1000):
            limits.append(limit)
            return super().pull(cursor, limit)

    return Recording


def test_a_download_from_scratch_asks_for_the_largest_pages_and_catching_up_for_fewer(
    server, device_factory
):
    sos = server.org_ids["sos"]
    preload_records(server.sessions, sos, sos, 3000)  # 6,000 records
    limits: list[int] = []
    device = device_factory(server, "sos", client_factory=recording_client(limits))
    assert limits and set(limits) == {E.PULL_LIMIT_FROM_SCRATCH}
    assert searchable(device.store) >= 6000
    limits.clear()
    preload_records(server.sessions, sos, sos, 10)
    device.sync()
    assert set(limits) == {E.PULL_LIMIT_CATCHING_UP}
    # A pull_limit given to the engine is what every pull asks for.
    chosen: list[int] = []
    device_factory(server, "sos", client_factory=recording_client(chosen), pull_limit=700)
    assert set(chosen) == {700} and len(chosen) >= 9


def test_the_garbage_collector_is_paused_while_a_sync_runs_and_only_then(
    server, device_factory, monkeypatch
):
    sos = server.org_ids["sos"]
    preload_records(server.sessions, sos, sos, 20)
    device = device_factory(server, "sos", initial_sync=False)
    seen: list[bool] = []
    real_apply = device.store.apply_pulled

    def apply(records, cursor):
        seen.append(gc.isenabled())
        real_apply(records, cursor)

    monkeypatch.setattr(device.store, "apply_pulled", apply)
    assert gc.isenabled()
    device.sync()
    assert seen and not any(seen)  # paused while pages were applied
    assert gc.isenabled()  # and running again afterwards
    # A sync that fails gives it back too.
    device.engine.close()
    device.store.set_meta(E.META_SERVER_URL, "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(Offline):
        device.sync()
    assert gc.isenabled()
    # Paused by someone else before the sync: still paused after it.
    gc.disable()
    try:
        with pytest.raises(Offline):
            device.sync()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_killed_download_from_scratch_opens_with_every_applied_record_searchable(
    server, device_factory
):
    """Pages of a thousand records leave their documents to one pass after the last page; a
    process killed before that pass must not leave an index that silently lacks them."""
    sos = server.org_ids["sos"]
    device = device_factory(server, "sos", initial_sync=False)
    preload_records(server.sessions, sos, sos, 2500)  # 5,000 records: five pages of 1,000
    path, key = device.path, device.key
    sync_in_a_child_killed_after(device, pages=2, pull_limit=1000, slow_pull_s=0.05)

    with Store.open(path, key) as store:
        applied = searchable(store)
        assert applied >= 2000  # the two pages it told of were committed
        # The documents of those pages were never written; the store knows it at opening.
        assert store.index_status().state == "pending"
        assert indexed(store) < applied
        # A search runs the pass first: every applied record is found, none is missing.
        assert store.search("Funktion 000000 i beredskap")
        assert store.index_status().state == "ready"
        assert indexed(store) == applied
        # The rest of the download completes the index too.
        report = SyncEngine(store, digest_interval=0).sync_now()
        assert report.digest_ok
        assert indexed(store) == searchable(store) == applied + report.pulled
        assert store.search("Funktion 002499 i beredskap")


def test_a_big_push_gives_the_outbox_space_back_to_the_disk(
    server, device_factory, monkeypatch
):
    monkeypatch.setattr(store_mod, "RECLAIM_MIN_BYTES", 64 * 1024)
    monkeypatch.setattr(store_mod, "RECLAIM_MIN_FRACTION", 0.05)
    device = device_factory(server, "sos")
    sos = server.org_ids["sos"]
    fid = device.store.create("functions", {"organisation_id": sos, "name": "TiB"})
    device.store.bulk_create("channels", [
        {"function_id": fid, "kind": "email", "value": f"tib{n}@sos.example", "label": "e-post " * 20}
        for n in range(3000)
    ])
    reclaimed: list[int] = []
    real = device.store.reclaim_space

    def spy():
        reclaimed.append(real())
        return reclaimed[-1]

    monkeypatch.setattr(device.store, "reclaim_space", spy)
    report = device.sync()
    assert report.pushed == 3001 and device.store.outbox_count() == 0
    assert reclaimed and reclaimed[0] > 0
    assert device.store.count("channels") == 3000  # nothing lost: every row is still there
    assert device.store.search("tib2999@sos.example")


def test_the_digest_is_computed_while_the_last_page_is_applied_and_indexed(
    server, device_factory, monkeypatch
):
    """One digest request for the check, as before, but made when the last page arrives: the
    server computes it while the device applies that page and builds the search index."""
    sos = server.org_ids["sos"]
    preload_records(server.sessions, sos, sos, 3000)
    events: list[str] = []

    class Recording(SyncClient):
        def pull(self, cursor, limit=1000):
            page = super().pull(cursor, limit)
            events.append("last page" if not page.has_more else "page")
            return page

        def digest(self, **kwargs):
            events.append("digest for the check" if kwargs.get("leave_out_compacted") else "digest")
            return super().digest(**kwargs)

    device = device_factory(server, "sos", client_factory=Recording, initial_sync=False)
    real_index = device.store.update_search_index

    def index():
        events.append("index pass")
        return real_index()

    monkeypatch.setattr(device.store, "update_search_index", index)
    report = device.sync()
    assert report.digest_ok and searchable(device.store) >= 6000
    assert events.count("digest for the check") == 1
    last = events.index("last page")
    assert last < events.index("digest for the check") < events.index("index pass", last)
    # A server that moves while that digest is asked for: whether the digest describes the
    # server before the move (the next sync brings the rest) or after it (the check catches up
    # at once), nothing is repaired, nothing is missed and nothing is pulled twice.
    events.clear()
    real_apply = device.store.apply_pulled

    def apply_then_the_server_moves(records, cursor):
        real_apply(records, cursor)
        if "moved" not in events:
            events.append("moved")
            preload_records(server.sessions, sos, sos, 5)

    monkeypatch.setattr(device.store, "apply_pulled", apply_then_the_server_moves)
    preload_records(server.sessions, sos, sos, 5)
    first = device.sync()
    assert first.digest_ok and first.repaired == [] and first.pulled in (10, 20)
    second = device.sync()
    assert second.digest_ok and second.repaired == [] and first.pulled + second.pulled == 20
