"""Benchmark: one edit's round trip through the server (push by one device + pull by another), p50/p95.

Real uvicorn in its own process (SQLite), two enrolled devices with real SQLCipher stores. Each
of N edits changes a channel's note on device A; the timed part is A's sync (push + pull +
acknowledge) and B's sync (pull + apply) until B shows the new value.

    .venv/bin/python tests/perf/bench_round_trip.py [--edits 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "syncer"))
sys.path.insert(0, str(ROOT / "tests" / "perf"))

from bench_initial_sync import start_server  # noqa: E402
from syncer_helpers import prepare_server_db  # noqa: E402

from desktop.store import Store  # noqa: E402
from desktop.syncer.engine import SyncEngine  # noqa: E402
from desktop.syncer.enroll import enroll  # noqa: E402
from sync.server import operations  # noqa: E402
from sync.server.db import write_session  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="samverka-rt-"))
    db_url, sessions, org_ids = prepare_server_db(work / "server.db")
    with write_session(sessions) as session:
        codes = [operations.issue_code(session, "sos", "member", 3_600_000).code for _ in range(2)]
    process, url = start_server(db_url)
    stores = []
    try:
        engines = []
        for name, code in zip("ab", codes):
            store = Store.open(work / name / "samverka.db", os.urandom(32))
            enroll(store, url, code, device_name=name)
            stores.append(store)
            # The digest check runs every few hours in use, not on every sync.
            engines.append(SyncEngine(store, digest_interval=3600))
        a, b = engines
        a.sync_now(); b.sync_now()
        with a.store.batch():
            function_id = a.store.create("functions", {"organisation_id": org_ids["sos"], "name": "TiB"})
            channel_id = a.store.create(
                "channels", {"function_id": function_id, "kind": "mobile", "value": "070-174 06 10"}
            )
        a.sync_now(); b.sync_now()
        push_ms, pull_ms, total_ms = [], [], []
        for number in range(args.edits):
            note = f"anteckning {number}"
            a.store.update("channels", channel_id, {"note": note})
            started = time.perf_counter()
            a.sync_now()
            pushed = time.perf_counter()
            b.sync_now()
            done = time.perf_counter()
            assert b.store.get("channels", channel_id)["fields"]["note"] == note
            push_ms.append((pushed - started) * 1000)
            pull_ms.append((done - pushed) * 1000)
            total_ms.append((done - started) * 1000)
        for engine in engines:
            engine.close()
    finally:
        for store in stores:
            store.close()
        process.terminate()
        process.wait(10)

    print(f"Round trip of one edit, {args.edits} edits, loopback, server in its own process (SQLite)")
    print(f"{'part':<36}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}")
    for label, values in (
        ("A: sync_now (push + pull + ack)", push_ms),
        ("B: sync_now (pull + apply)", pull_ms),
        ("round trip (A then B)", total_ms),
    ):
        print(f"{label:<36}{percentile(values, 0.5):>9.1f}{percentile(values, 0.95):>9.1f}"
              f"{statistics.fmean(values):>9.1f}")
    p95 = percentile(total_ms, 0.95)
    print(f"goal p95 <= 30 ms: {'met' if p95 <= 30 else 'NOT met'}")


if __name__ == "__main__":
    main()
