"""Benchmark: 100k records through the store API against raw executemany into the same schema.

Run:  .venv/bin/python tests/perf/bench_bulk_load.py [--functions 30000] [--channels 70000]

Both sides write to a fresh SQLCipher file migrated to head, in the same process, with the same
generated records (the bench_search vocabulary). The store side is ``bulk_create``: validation,
phone numbers to E.164, reference checks, rows and one outbox entry per record, one transaction
per 10k batch, then the search index for all of them in one pass (``update_search_index``, which
the store runs by itself at the next edit or search; timed here). The raw side is one
``executemany`` per batch of the already-valid rows into the collection tables only; a third
line adds the outbox and one FTS5 row per record to the raw side, to show where the store's
extra time goes. File sizes are after closing (WAL checkpointed). Then the store's outbox is
"pushed" (acknowledged) and the file measured before and after ``reclaim_space``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import MUNICIPALITIES, ORG_FORMS, UNITS, load_vocabulary  # noqa: E402

from desktop.store import Store  # noqa: E402
from desktop.store.connection import raw_connect  # noqa: E402
from desktop.store.phones import normalise_phone  # noqa: E402
from sync.records import COLLECTIONS  # noqa: E402

BATCH = 10_000


def make_records(n_functions: int, n_channels: int, seed: int = 11):
    rng = random.Random(seed)
    vocab = load_vocabulary()
    orgs = [{"name": n, "short_name": s, "kind": k} for n, s, k in vocab["orgs"]]
    for m in MUNICIPALITIES:
        for form in ORG_FORMS:
            orgs.append({"name": form.format(m=m), "short_name": m[:4], "kind": "other"})
    org_ids = [str(uuid.uuid4()) for _ in orgs]
    functions = []
    for _ in range(n_functions):
        name, short = rng.choice(vocab["functions"])
        fields = {"organisation_id": rng.choice(org_ids), "name": name + rng.choice(UNITS)}
        if short:
            fields["short_name"] = short
        if rng.random() < 0.5:
            fields["description"] = rng.choice(vocab["descriptions"])
        functions.append(fields)
    function_ids = [str(uuid.uuid4()) for _ in functions]
    channels = []
    for i in range(n_channels):
        kind, value, label, note = rng.choice(vocab["channels"])
        if kind in ("phone", "mobile", "satellite"):
            value = f"070-174 06 {rng.randint(5, 99):02d}"
        fields = {"function_id": function_ids[i % len(function_ids)], "kind": kind,
                  "value": value, "priority": rng.randint(1, 4)}
        if label:
            fields["label"] = label
        if note and rng.random() < 0.3:
            fields["note"] = note
        channels.append(fields)
    channel_ids = [str(uuid.uuid4()) for _ in channels]
    return [("organisations", orgs, org_ids), ("functions", functions, function_ids),
            ("channels", channels, channel_ids)]


def via_store(path: Path, key: bytes, data) -> tuple[float, float]:
    """Seconds for the whole load, and for its index pass alone."""
    store = Store.open(path, key)
    t = time.perf_counter()
    for collection, items, ids in data:
        for start in range(0, len(items), BATCH):
            store.bulk_create(collection, items[start : start + BATCH], record_ids=ids[start : start + BATCH])
    t_index = time.perf_counter()
    store.update_search_index()
    elapsed = time.perf_counter() - t
    index_s = time.perf_counter() - t_index
    assert store.outbox_count() == sum(len(items) for _, items, _ in data)
    assert len(store.search("tjänsteman", limit=5)) == 5
    store.close()
    return elapsed, index_s


def after_push(path: Path, key: bytes) -> tuple[float, float, float]:
    """The store's file after its outbox is pushed (every entry acknowledged as the server
    would, 1,000 a time as the engine sends them), before and after ``reclaim_space`` (which
    the engine runs after a sync that pushed): (MB before, MB after, seconds reclaiming)."""
    store = Store.open(path, key)
    seq = 0
    while batch := store.outbox_pending(1000):
        seqs = {}
        for entry in batch:
            seq += 1
            seqs[entry.change_id] = seq
        store.outbox_acknowledge([e.change_id for e in batch], seqs)
    store.close()
    pushed = size_mb(path)
    store = Store.open(path, key)
    t = time.perf_counter()
    reclaim = getattr(store, "reclaim_space", None)  # absent before it was built
    if reclaim is not None:
        reclaim()
    reclaim_s = time.perf_counter() - t
    store.close()
    return pushed, size_mb(path), reclaim_s


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


def via_raw(path: Path, key: bytes, data, *, with_outbox_and_index: bool) -> float:
    Store.open(path, key).close()  # the same migrated schema
    db = raw_connect(path, key)
    prepared = []
    for collection, items, ids in data:  # the raw side gets rows that are already valid
        names = list(COLLECTIONS[collection].fields)
        rows = []
        for rid, fields in zip(ids, items):
            fields = dict(fields)
            if collection == "channels" and fields["kind"] in ("phone", "mobile", "satellite"):
                fields["value"] = normalise_phone(fields["value"])
            rows.append((rid, "{}", *(fields.get(n) for n in names)))
        cols = ", ".join(f'"{n}"' for n in names)
        marks = ", ".join("?" * (len(names) + 2))
        prepared.append((f'INSERT INTO "{collection}" (record_id, clocks, {cols}) VALUES ({marks})', rows, items))
    t = time.perf_counter()
    rowid = 0
    for sql, rows, items in prepared:
        for start in range(0, len(rows), BATCH):
            db.execute("BEGIN IMMEDIATE")
            chunk = rows[start : start + BATCH]
            db.executemany(sql, chunk)
            if with_outbox_and_index:
                db.executemany(
                    "INSERT INTO outbox (change_id, collection, record_id, op, fields, clock, base, "
                    "created_at) VALUES (?, 'x', ?, 'upsert', ?, '1764238726123-00000-n', '{}', "
                    "'2026-11-27T10:18:46.123Z')",
                    [(str(uuid.uuid4()), r[0], json.dumps(f, ensure_ascii=False))
                     for r, f in zip(chunk, items[start : start + BATCH])],
                )
                texts = []
                for r in chunk:
                    rowid += 1
                    texts.append((rowid, " ".join(str(v) for v in r[2:5] if v), " ".join(str(v) for v in r[5:] if v)))
                db.executemany("INSERT INTO search_index(rowid, title, body) VALUES (?, ?, ?)", texts)
            db.execute("COMMIT")
    elapsed = time.perf_counter() - t
    db.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=30_000)
    parser.add_argument("--channels", type=int, default=70_000)
    args = parser.parse_args()
    data = make_records(args.functions, args.channels)
    total = sum(len(items) for _, items, _ in data)
    key = os.urandom(32)
    with tempfile.TemporaryDirectory(prefix="samverka-bulk-") as tmp:
        folder = Path(tmp)
        store_s, index_s = via_store(folder / "store.db", key, data)
        raw_s = via_raw(folder / "raw.db", key, data, with_outbox_and_index=False)
        raw_full_s = via_raw(folder / "raw_full.db", key, data, with_outbox_and_index=True)
        sizes = {name: size_mb(folder / name) for name in ("store.db", "raw.db", "raw_full.db")}
        pushed_mb, reclaimed_mb, reclaim_s = after_push(folder / "store.db", key)
    print(f"{total} records ({len(data[0][1])} organisations, {args.functions} functions, "
          f"{args.channels} channels), batches of {BATCH}, SQLCipher 4, WAL")
    print(f"{'':<44}{'seconds':>9}{'rec/s':>10}{'vs raw':>8}{'vs full':>8}{'file MB':>9}")
    for label, seconds, name in [
        ("store.bulk_create (rows+outbox+search)", store_s, "store.db"),
        ("raw executemany (rows only)", raw_s, "raw.db"),
        ("raw executemany (rows+outbox+FTS insert)", raw_full_s, "raw_full.db"),
    ]:
        print(f"{label:<44}{seconds:>9.2f}{total / seconds:>10.0f}{seconds / raw_s:>7.1f}x"
              f"{seconds / raw_full_s:>7.1f}x{sizes[name]:>9.0f}")
    print(f"(of the store's {store_s:.2f} s, the one index pass after the last batch took {index_s:.2f} s)")
    print(f"store file after its outbox is pushed: {pushed_mb:.0f} MB; after reclaim_space "
          f"({reclaim_s:.2f} s): {reclaimed_mb:.0f} MB")


if __name__ == "__main__":
    main()
