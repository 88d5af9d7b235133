"""Benchmark: the sync server's push and pull throughput over loopback, on SQLite and PostgreSQL.

For each backend: a fresh database with two organisations, a real `samverka-server serve`
subprocess (uvicorn, one worker unless --workers) on 127.0.0.1, and two enrolled devices.
`requests` is the client.

1. push: device A (organisation SOS) pushes ``--records`` changes in batches of ``--batch``
   (one function : four channels, each channel referencing its function in the same batch;
   every tenth function and its channels internal) — changes/s, and p50/p99 per batch;
2. pull: device B (organisation KOM, so SOS's internal records come as tombstones) pulls
   everything from no cursor with ``--limit`` per page, ``--repeat`` times — records/s over
   the time spent in requests (request and download: what the server serves), best and median
   run, and apart from that records/s including the client's own json.loads of every page.

    .venv/bin/python tests/perf/bench_server.py [--records 100000] [--batch 1000] [--limit 5000]
        [--backends sqlite,postgresql] [--pg | --no-pg] [--workers 1]
        [--sqlite-synchronous FULL,NORMAL]

``--sqlite-synchronous`` runs SQLite once per ``PRAGMA synchronous`` given (the server uses
FULL: an applied change survives a power cut; NORMAL is what it used before), in one run.

PostgreSQL is benchmarked when --pg is given, or by default when its binaries exist
(scripts/pg-start makes a throwaway cluster and installs PostgreSQL 15 when asked to with --pg).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests  # noqa: E402
from server_bench_support import (  # noqa: E402
    ServeProcess,
    directory_batch,
    enroll,
    init_database,
    issue_codes,
    machine,
    percentile,
    add_backend_arguments,
    backend_databases,
    chosen_backends,
    print_table,
)


def bench_push(http: requests.Session, device, records: int, batch: int) -> dict:
    latencies = []
    statuses: dict[str, int] = {}
    started = time.perf_counter()
    for number in range(0, (records + batch - 1) // batch):
        size = min(batch, records - number * batch)
        changes = list(directory_batch(device, number, size))
        t0 = time.perf_counter()
        response = http.post(device.url + "/v1/sync/push", json={"changes": changes},
                             headers=device.headers, timeout=120)
        latencies.append(time.perf_counter() - t0)
        response.raise_for_status()
        for result in response.json()["results"]:
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    wall = time.perf_counter() - started
    server_side = sum(latencies)
    return {
        "changes": records, "wall": wall, "request_time": server_side,
        "per_s": records / server_side, "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99), "statuses": statuses,
    }


def bench_pull(http: requests.Session, device, limit: int) -> dict:
    cursor = None
    count = tombstones = pages = 0
    download = parse = 0.0
    size = 0
    latencies = []
    started = time.perf_counter()
    while True:
        params = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        t0 = time.perf_counter()
        response = http.get(device.url + "/v1/sync/pull", params=params, headers=device.headers, timeout=120)
        body = response.content
        t1 = time.perf_counter()
        response.raise_for_status()
        page = json.loads(body)
        t2 = time.perf_counter()
        download += t1 - t0
        parse += t2 - t1
        latencies.append(t1 - t0)
        size += len(body)
        pages += 1
        count += len(page["records"])
        tombstones += sum(1 for r in page["records"] if r["deleted"])
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    wall = time.perf_counter() - started
    return {"records": count, "tombstones": tombstones, "pages": pages, "wall": wall,
            "download": download, "parse": parse, "bytes": size, "per_s": count / wall,
            "served_per_s": count / download, "p50": percentile(latencies, 0.5),
            "p99": percentile(latencies, 0.99)}


def run_backend(name: str, db_url: str, args, work: Path, synchronous: str | None = None) -> list[list]:
    orgs = init_database(db_url, [("SOS", False), ("KOM", False)])
    codes = issue_codes(db_url, [("SOS", "member"), ("KOM", "member")])
    server = ServeProcess(db_url, workers=args.workers, log=work / f"server-{name.split()[0]}.log",
                          sqlite_synchronous=synchronous)
    rows = []
    try:
        http = requests.Session()
        writer = enroll(server.url, codes[0], "bench writer", http)
        reader = enroll(server.url, codes[1], "bench reader", http)
        assert writer.org_id == orgs["SOS"] and reader.org_id == orgs["KOM"]
        print(f"[{name}] pushing {args.records:,} changes in batches of {args.batch:,} …", flush=True)
        pushed = bench_push(http, writer, args.records, args.batch)
        bad = {k: v for k, v in pushed["statuses"].items() if k != "applied"}
        if bad:
            raise SystemExit(f"[{name}] push results other than applied: {bad}")
        rows.append([
            name, f"push {args.records:,} changes, batches of {args.batch:,}",
            f"{pushed['per_s']:,.0f} changes/s", f"{pushed['request_time']:.1f}",
            f"{pushed['p50'] * 1000:.0f} / {pushed['p99'] * 1000:.0f}",
            f"all applied; wall {pushed['wall']:.1f} s with the client making the changes",
        ])
        print(f"[{name}] pulling from no cursor, limit {args.limit:,}, {args.repeat}× …", flush=True)
        runs = [bench_pull(http, reader, args.limit) for _ in range(args.repeat)]
        for run in runs:
            print(f"[{name}]   {run['records']:,} records ({run['tombstones']:,} tombstones) in "
                  f"{run['pages']} pages, {run['bytes'] / 1e6:.1f} MB: {run['wall']:.2f} s "
                  f"(request+download {run['download']:.2f} s, client json.loads {run['parse']:.2f} s)",
                  flush=True)
        best = max(runs, key=lambda r: r["served_per_s"])
        median = statistics.median(r["served_per_s"] for r in runs)
        rows.append([
            name, f"pull {best['records']:,} records from no cursor, limit {args.limit:,} ({best['pages']} pages)",
            f"{best['served_per_s']:,.0f} records/s", f"{best['download']:.2f}",
            f"{best['p50'] * 1000:.0f} / {best['p99'] * 1000:.0f}",
            f"best of {len(runs)} (median {median:,.0f}/s); {best['bytes'] / 1e6:.1f} MB; with the "
            f"client's json.loads too: {best['per_s']:,.0f} records/s ({best['wall']:.2f} s)",
        ])
    finally:
        server.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--limit", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3, help="pull runs (best and median reported)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (serve --workers)")
    parser.add_argument("--sqlite-synchronous", default=None, metavar="MODES",
                        help="e.g. FULL,NORMAL: SQLite once per PRAGMA synchronous (default: the server's own)")
    add_backend_arguments(parser)
    args = parser.parse_args()

    backends = chosen_backends(args)

    work = Path(tempfile.mkdtemp(prefix="samverka-bench-server-"))
    print(f"Machine: {machine()}; server: `samverka-server serve --workers {args.workers}` subprocess "
          f"(uvicorn) on 127.0.0.1; client: requests; logs in {work}")
    rows: list[list] = []
    for name, db_url in backend_databases(backends, work):
        if name == "sqlite" and args.sqlite_synchronous:
            for mode in args.sqlite_synchronous.upper().split(","):
                rows += run_backend(f"sqlite {mode}", f"sqlite:///{work / f'server-{mode}.db'}", args, work, mode)
        else:
            rows += run_backend(name, db_url, args, work)
    print()
    print("push: changes/s over the time spent in requests; pull: records/s over request + download\n"
          "(the server's part, what `requests` waits for); p50/p99 per request (a batch or a page).")
    print_table(["backend", "what", "throughput", "time s", "p50 / p99 ms", "notes"], rows)


if __name__ == "__main__":
    main()
