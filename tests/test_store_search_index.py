"""The search index keeps up with the data: a run of bulk transactions (pulled pages, bulk
imports) is indexed in one pass after the last of them, or by the first search; the pass is
one transaction that survives a crash and a restart, reports its progress, and leaves FTS5's
settings as they were; documents built in bulk equal those built one by one."""

from __future__ import annotations

import uuid

import pytest

from desktop.store import IndexStatus, Store
from desktop.store import search_index as index_mod
from desktop.store import store as store_mod
from desktop.store.store import META_SEARCH_PENDING
from sync.clock import Hlc

SERVER = "server-1"
OWNER = "7d3c59aa-0f5e-4f0e-9d55-3f4a1f3e2b10"


def clock(ms: int, counter: int = 0) -> str:
    return str(Hlc(ms, counter, SERVER))


def state(collection, record_id, fields, seq, *, deleted=False):
    return {
        "collection": collection, "record_id": record_id, "owner_org": OWNER,
        "visibility": "regional", "deleted": deleted, "deleted_clock": None,
        "fields": {name: {"value": v, "clock": c} for name, (v, c) in fields.items()},
        "seq": seq,
    }


@pytest.fixture
def small_bulk(monkeypatch):
    """Bulk transactions from four records up (instead of a thousand)."""
    monkeypatch.setattr(store_mod, "DEFER_INDEX_RECORDS", 4)


@pytest.fixture
def counted(monkeypatch):
    """How often the index was merged and rebuilt whole."""
    calls = {"optimize": 0, "build_all": 0}
    real_optimize, real_build = index_mod.optimize, index_mod.build_all

    def optimize(db):
        calls["optimize"] += 1
        real_optimize(db)

    def build_all(db, progress=None):
        calls["build_all"] += 1
        return real_build(db, progress)

    monkeypatch.setattr(index_mod, "optimize", optimize)
    monkeypatch.setattr(index_mod, "build_all", build_all)
    return calls


def pages(count: int, per_page: int = 4) -> list[list[dict]]:
    """An organisation, then pages of its functions (each with a channel in the next page)."""
    org = str(uuid.uuid4())
    out = [[state("organisations", org, {"name": ("SOS Alarm", clock(5)), "short_name": ("SOS", clock(5))}, 1)]]
    seq = 10
    for p in range(count):
        page = []
        for i in range(per_page):
            seq += 1
            page.append(state("functions", str(uuid.uuid4()), {
                "organisation_id": (org, clock(6)), "name": (f"Larmoperatör {p}-{i}", clock(6)),
            }, seq))
        out.append(page)
    return out


def indexed(store: Store) -> int:
    with store._read() as db:
        return index_mod.document_count(db)


def test_a_run_of_big_pages_is_indexed_once_after_the_last(store, small_bulk, counted):
    run = pages(3)
    store.apply_pulled(run[0], "c0")  # one record: indexed with its transaction
    assert indexed(store) == 1 and store.index_status().state == "ready"
    before = dict(counted)
    for n, page in enumerate(run[1:], 1):
        store.apply_pulled(page, f"c{n}")
    assert counted == before  # no document written, no merge, page after page
    assert indexed(store) == 1
    status = store.index_status()
    assert status.state == "pending" and status.pending == 12
    assert store.get_meta(META_SEARCH_PENDING) is True
    store.set_meta("sync.last_success", "now")  # the engine's bookkeeping after the last page
    assert counted == {"optimize": before["optimize"] + 1, "build_all": before["build_all"] + 1}
    assert indexed(store) == 13 and store.index_status() == IndexStatus("ready")
    assert store.get_meta(META_SEARCH_PENDING) is None
    assert len([h for h in store.search("larmoperatör") if h.collection == "functions"]) == 12


def test_a_search_before_the_pass_waits_for_it(store, small_bulk):
    for n, page in enumerate(pages(2)):
        store.apply_pulled(page, f"c{n}")
    assert store.index_status().state == "pending"
    seen: list[str] = []
    store.subscribe_index(lambda status: seen.append(status.state))
    assert len([h for h in store.search("larmoperatör") if h.collection == "functions"]) == 8
    assert seen[0] == "indexing" and seen[-1] == "ready"
    assert store.update_search_index() == 0  # nothing left


def test_a_small_page_after_big_ones_runs_the_pass(store, small_bulk, counted):
    run = pages(2)
    for n, page in enumerate(run):
        store.apply_pulled(page, f"c{n}")
    before = dict(counted)
    last = [state("organisations", str(uuid.uuid4()), {"name": ("Sist", clock(7))}, 99)]
    store.apply_pulled(last, "c-last")
    assert counted["build_all"] == before["build_all"] + 1
    assert store.index_status().state == "ready" and indexed(store) == 10


def test_pending_documents_survive_a_restart(db_path, db_key, small_bulk):
    with Store.open(db_path, db_key) as store:
        for n, page in enumerate(pages(2)):
            store.apply_pulled(page, f"c{n}")
        assert store.index_status().state == "pending"
    # Closed with documents waiting (a crash is the same: the flag was committed with the page).
    with Store.open(db_path, db_key) as store:
        assert store.index_status().state == "pending"
        assert store.get_meta(META_SEARCH_PENDING) is True
        assert len([h for h in store.search("larmoperatör") if h.collection == "functions"]) == 8
        assert store.index_status().state == "ready"
    with Store.open(db_path, db_key) as store:
        assert store.index_status().state == "ready"


def test_a_bulk_import_is_indexed_in_one_pass(store, small_bulk, counted):
    org = store.create("organisations", {"name": "SOS Alarm", "short_name": "SOS"})
    before = dict(counted)
    ids = []
    for batch in range(3):
        ids += store.bulk_create(
            "functions", [{"organisation_id": org, "name": f"Larmoperatör {batch}-{i}"} for i in range(5)]
        )
        store.bulk_create("channels", [{"function_id": f, "kind": "mobile", "value": "070-174 06 05"} for f in ids[-5:]])
    assert counted == before and store.index_status().state == "pending"
    assert store.update_search_index() == 31  # 1 organisation + 15 functions + 15 channels
    assert counted["build_all"] == before["build_all"] + 1
    [hit] = [h for h in store.search("larmoperatör 2-4") if h.record_id == ids[-1]]
    assert hit.best_channel is not None and hit.best_channel.value == "070-174 06 05"


def test_a_small_pass_over_a_big_index_rebuilds_only_what_changed(store, small_bulk, counted):
    org = store.create("organisations", {"name": "SOS Alarm", "short_name": "SOS"})
    store.bulk_create("functions", [{"organisation_id": org, "name": f"Larmoperatör {i}"} for i in range(20)])
    store.update_search_index()
    before = dict(counted)
    store.bulk_create("functions", [{"organisation_id": org, "name": f"Vakthavande {i}"} for i in range(4)])
    assert store.update_search_index() == 4
    assert counted["build_all"] == before["build_all"]  # 4 of 25: document by document
    assert len(store.search("vakthavande")) == 4


def test_a_failed_pass_keeps_the_documents_pending(store, small_bulk, monkeypatch):
    for n, page in enumerate(pages(2)):
        store.apply_pulled(page, f"c{n}")

    def boom(db, progress=None):
        raise RuntimeError("simulated")

    real = index_mod.build_all
    monkeypatch.setattr(index_mod, "build_all", boom)
    with pytest.raises(RuntimeError):
        store.update_search_index()
    assert store.index_status().state == "pending" and indexed(store) == 1
    assert store.get_meta(META_SEARCH_PENDING) is True
    monkeypatch.setattr(index_mod, "build_all", real)
    assert store.update_search_index() == 9


def test_a_batch_runs_the_pass_after_it_ends(store, small_bulk):
    for n, page in enumerate(pages(1)):
        store.apply_pulled(page, f"c{n}")
    with store.batch():
        store.create("organisations", {"name": "Brandkåren Attunda"})
        assert store.update_search_index() == 0  # not inside the batch's transaction
        assert store.index_status().state == "pending"
    assert store.index_status().state == "ready"
    assert store.search("attunda")


def fts5_settings(store: Store) -> dict:
    with store._read() as db:
        return dict(db.execute(
            "SELECT k, v FROM search_index_config WHERE k IN ('automerge', 'crisismerge', 'hashsize')"
        ).fetchall())


def test_bulk_writes_leave_fts5_settings_as_they_were(store, small_bulk, monkeypatch):
    monkeypatch.setattr(index_mod, "OPTIMIZE_MIN_DOCS", 2)
    org = store.create("organisations", {"name": "SOS Alarm"})
    store.bulk_create("functions", [{"organisation_id": org, "name": f"F {i}"} for i in range(5)])
    store.update_search_index()
    store.bulk_create("functions", [{"organisation_id": org, "name": f"G {i}"} for i in range(3)])  # in step, bulk
    settings = fts5_settings(store)
    for key, default in index_mod.FTS5_DEFAULTS.items():
        assert int(settings.get(key, default)) == default

    def boom(*args, **kwargs):
        raise RuntimeError("simulated")

    monkeypatch.setattr(index_mod, "rebuild_docs", boom)
    with pytest.raises(RuntimeError):  # a bulk write that fails rolls the settings back too
        store.bulk_create("functions", [{"organisation_id": org, "name": f"H {i}"} for i in range(3)])
    assert fts5_settings(store) == settings


def documents(store: Store) -> list[tuple]:
    with store._read() as db:
        return db.execute(
            "SELECT collection, record_id, title, subtitle, short_name, channel_id, channel_kind, "
            "channel_value, channel_label FROM search_docs ORDER BY record_id"
        ).fetchall()


def test_documents_are_the_same_however_they_are_built(store):
    """Built from the values just written (fresh rows), read back one by one, or in the
    one-pass build: the same documents and the same answers. (Values of the wrong type from a
    misbehaving peer never reach the rows: such records are kept aside,
    tests/syncer/test_syncer_hardening.py.)"""
    org, fn, ch, ch2 = (str(uuid.uuid4()) for _ in range(4))
    c = store.clock.now()
    store.apply_pulled([
        state("organisations", org, {"name": ("SOS Alarm", c), "short_name": ("42", c)}, 1),
        state("functions", fn, {"organisation_id": (org, c), "name": ("Vakthavande", c), "short_name": ("7.5", c),
                                "description": (None, c)}, 2),
        state("channels", ch, {"function_id": (fn, c), "kind": ("mobile", c), "value": ("+46701740605", c),
                               "priority": (2, c), "label": ("Sant", c)}, 3),
        state("channels", ch2, {"function_id": (fn, c), "kind": ("phone", c), "value": ("+46701740606", c),
                                "priority": (1, c)}, 4),
    ], "c4")
    bulk_ids = store.bulk_create("functions", [{"organisation_id": org, "name": f"Funktion {i}", "short_name": "FN"}
                                               for i in range(3)])
    queries = ("sos", "42", "vakthavande", "7", "070", "0701740606", "0605", "funktion", "fn")

    def answers():  # equally good hits may come in another order (their rowids differ)
        return {q: sorted(store.search(q), key=lambda h: h.record_id) for q in queries}

    before = documents(store), answers()
    with store._write() as tx:  # every row read from the table
        index_mod.rebuild_docs(tx.db, {"organisations": {org}, "functions": {fn, *bulk_ids},
                                       "channels": {ch, ch2}})
    assert (documents(store), answers()) == before
    with store._write() as tx:  # the one-pass build
        index_mod.build_all(tx.db)
    assert (documents(store), answers()) == before
    assert store.search("42")[0].record_id == org
    assert store.search("0605")[0].record_id == ch


def test_a_new_document_version_rebuilds_the_index_after_opening(db_path, db_key, monkeypatch):
    with Store.open(db_path, db_key) as store:
        org = store.create("organisations", {"name": "SOS Alarm"})
    monkeypatch.setattr(index_mod, "SEARCH_DOC_VERSION", index_mod.SEARCH_DOC_VERSION + 1)
    with Store.open(db_path, db_key) as store:  # opening stays quick: the pass comes later
        assert store.index_status().state == "pending"
        assert [h.record_id for h in store.search("sos")] == [org]
        assert store.index_status().state == "ready"
