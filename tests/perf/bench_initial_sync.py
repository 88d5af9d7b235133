"""Benchmark: initial sync of 100k records into an empty vault over loopback, against a raw bulk insert.

The server runs as a separate uvicorn process (SQLite, preloaded with functions and channels);
the client is the real SyncEngine over a real SQLCipher store. The sync is done when the search
index is: the store indexes the pulled pages in one pass after the last of them (at the
engine's bookkeeping), inside ``sync_now``. In the same run the same rows, with one FTS5 document
each, are bulk-inserted into a fresh SQLCipher file with executemany: the floor a sync could
reach. Prints a table; where the time goes is measured per phase, and the file sizes.

    .venv/bin/python tests/perf/bench_initial_sync.py [--records 100000] [--limit 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "syncer"))

import requests  # noqa: E402
from syncer_helpers import prepare_server_db  # noqa: E402
from syncer_helpers import free_port, preload_records  # noqa: E402

from desktop.store import Store  # noqa: E402
from desktop.store.connection import raw_connect  # noqa: E402
from desktop.syncer.client import SyncClient  # noqa: E402
from desktop.syncer.engine import SyncEngine  # noqa: E402
from desktop.syncer.enroll import enroll  # noqa: E402
from sync.server import operations  # noqa: E402
from sync.server.db import write_session  # noqa: E402


PULL = "pull (HTTP + server + JSON)*"
DIGEST = "digest (server)*"


def start_server(db_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, SAMVERKA_SERVER_DB=db_url)
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "sync.server.app:app_from_env",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=env, cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/v1/health", timeout=1).ok:
                return process, url
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Timers:
    """Time spent per wrapped call, exclusive: a timed call inside another (the index pass that
    a small last page starts inside apply_pulled) counts for itself, not for the outer one."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._running = threading.local()

    def wrap(self, name: str, function):
        def timed(*args, **kwargs):
            stack = self._running.__dict__.setdefault("stack", [])
            outer = stack[-1] if stack else None
            stack.append(name)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                stack.pop()
                self.spent[name] = self.spent.get(name, 0.0) + elapsed
                self.calls[name] = self.calls.get(name, 0) + 1
                if outer is not None:
                    self.spent[outer] = self.spent.get(outer, 0.0) - elapsed
        return timed


def raw_bulk_insert(path: Path, key: bytes, records: list[dict]) -> float:
    """The same rows and one FTS5 document each, with executemany, in one transaction."""
    Store.open(path, key).close()  # the schema, by the store's own migrations
    db = raw_connect(path, key)
    by_collection: dict[str, list[dict]] = {}
    for record in records:
        by_collection.setdefault(record["collection"], []).append(record)
    started = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    rowid = 0
    for collection, rows in by_collection.items():
        names = sorted({name for r in rows for name in r["fields"]})
        columns = ", ".join(f'"{n}"' for n in names)
        marks = ", ".join("?" * (len(names) + 5))
        db.executemany(
            f'INSERT INTO "{collection}" (record_id, owner_org, deleted, clocks, server_seq, {columns}) '
            f"VALUES ({marks})",
            [
                (r["record_id"], r["owner_org"], 0,
                 json.dumps({n: s["clock"] for n, s in r["fields"].items()}, separators=(",", ":")),
                 r["seq"], *(r["fields"].get(n, {}).get("value") for n in names))
                for r in rows
            ],
        )
        docs = []
        index = []
        for r in rows:
            rowid += 1
            values = {n: s["value"] for n, s in r["fields"].items()}
            title = str(values.get("name") or values.get("value") or "")
            body = " ".join(str(v) for v in values.values() if isinstance(v, str))
            index.append((rowid, title, body))
            docs.append((rowid, collection, r["record_id"], title, None))
        db.executemany("INSERT INTO search_index(rowid, title, body) VALUES (?, ?, ?)", index)
        db.executemany(
            "INSERT INTO search_docs(rowid, collection, record_id, title, subtitle) VALUES (?, ?, ?, ?, ?)",
            docs,
        )
    db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=5000, help="pull page size")
    parser.add_argument("--profile", action="store_true",
                        help="also print cProfile's top functions of the applying thread")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="samverka-bench-"))
    db_url, sessions, org_ids = prepare_server_db(work / "server.db")
    started = time.perf_counter()
    total = preload_records(sessions, org_ids["sos"], org_ids["sos"], args.records // 2)
    print(f"server preloaded with {total} records in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    with write_session(sessions) as session:
        code = operations.issue_code(session, "sos", "member", 3_600_000).code
    process, url = start_server(db_url)
    try:
        key = os.urandom(32)
        store = Store.open(work / "client" / "samverka.db", key)
        enroll(store, url, code, device_name="bench")
        timers = Timers()
        pulled_pages: list[list[dict]] = []

        class TimedClient(SyncClient):
            def pull(self, cursor, limit=1000):
                page = timers.wrap(PULL, super().pull)(cursor, limit)
                pulled_pages.append(page.records)
                return page

            def digest(self, **kwargs):
                return timers.wrap(DIGEST, super().digest)(**kwargs)

        # The download alone (server + HTTP + JSON decoding), nothing applied: the network side's ceiling.
        probe = SyncClient(url, token=store.get_meta("sync.token"))
        started = time.perf_counter()
        cursor, downloaded = None, 0
        while True:
            page = probe.pull(cursor, args.limit)
            downloaded += len(page.records)
            cursor = page.cursor
            if not page.has_more:
                break
        download_s = time.perf_counter() - started
        probe.close()
        store.apply_pulled = timers.wrap("apply_pulled (store)", store.apply_pulled)
        store.update_search_index = timers.wrap("search index pass (store)", store.update_search_index)
        engine = SyncEngine(store, client_factory=TimedClient, pull_limit=args.limit, digest_interval=0)
        import desktop.syncer.engine as engine_module

        original_local = engine_module.local_digest
        engine_module.local_digest = timers.wrap("local digest", original_local)
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        client_cpu, server_cpu = time.process_time(), process_cpu_s(process.pid)
        report = engine.sync_now()
        sync_s = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_cpu = process_cpu_s(process.pid) - server_cpu
        load = os.getloadavg()[0]
        if profiler is not None:
            profiler.disable()
        engine_module.local_digest = original_local
        engine.close()
        synced = store.count("functions") + store.count("channels")
        index_state = store.index_status().state
        hits = store.search(f"funktion {min(4711, args.records // 2 - 1):06d}")
        store.close()
        store_mb = sum(p.stat().st_size for p in (work / "client").iterdir()) / 1e6
        records = [r for page in pulled_pages for r in page if r["collection"] in ("functions", "channels")]
        records = list({(r["collection"], r["record_id"]): r for r in records}.values())
        raw_s = raw_bulk_insert(work / "raw" / "samverka.db", os.urandom(32), records)
        raw_mb = sum(p.stat().st_size for p in (work / "raw").iterdir()) / 1e6
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(work, ignore_errors=True)  # two 100k-record databases and the server's

    assert synced == total, (synced, total)
    assert hits, "search found nothing after the sync"
    assert index_state == "ready", f"the index was {index_state} after the sync"
    rate, raw_rate = total / sync_s, total / raw_s
    print()
    print(f"Initial sync of {total:,} records (page size {args.limit}, {report.pages} pages), loopback, "
          f"server in its own process (SQLite)")
    print(f"{'what':<38}{'seconds':>10}{'records/s':>12}")
    print(f"{'initial sync (SyncEngine.sync_now)':<38}{sync_s:>10.2f}{rate:>12,.0f}")
    print(f"{'raw executemany + FTS5 (SQLCipher)':<38}{raw_s:>10.2f}{raw_rate:>12,.0f}")
    print(f"{'download only (pull pages, no apply)':<38}{download_s:>10.2f}{downloaded / download_s:>12,.0f}")
    print(f"{'ratio sync / raw':<38}{sync_s / raw_s:>10.1f}x")
    print(f"database file after the sync: {store_mb:.0f} MB (raw rows + FTS5: {raw_mb:.0f} MB)")
    print(f"CPU during the sync: client {client_cpu:.2f} s (all threads), server {server_cpu:.2f} s; "
          f"load average {load:.2f} on {os.cpu_count()} cores")
    print()
    print(f"{'where the sync time goes':<38}{'seconds':>10}{'share':>8}{'calls':>7}")
    for name, spent in sorted(timers.spent.items(), key=lambda item: -item[1]):
        print(f"{name:<38}{spent:>10.2f}{spent / sync_s:>8.0%}{timers.calls[name]:>7}")
    other = sync_s - sum(v for k, v in timers.spent.items() if k not in (PULL, DIGEST))
    print(f"{'other (waiting for pages and digests)':<38}{other:>10.2f}{other / sync_s:>8.0%}")
    print("(* in a background thread: pages are fetched while the previous one is applied, and the")
    print(" digest for the check while the last one is applied and indexed; those times overlap")
    print(" the apply time, so the shares add up to more than 100%)")
    if profiler is not None:
        import pstats

        print()
        print("cProfile of the applying thread, top 25 by cumulative time:")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    print()
    print(f"goal >= 30,000 records/s: {'met' if rate >= 30_000 else 'NOT met'}; "
          f"goal <= 3x raw: {'met' if sync_s / raw_s <= 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
