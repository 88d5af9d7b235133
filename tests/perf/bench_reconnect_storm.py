"""Benchmark: a reconnect storm — a whole region's devices syncing within 30 s after an outage.

One `samverka-server serve` subprocess on 127.0.0.1 (SQLite with one worker; PostgreSQL with
``--pg-workers``, default 2). Beforehand (not timed): a region of ``--orgs`` organisations with
functions and channels, a forum in which every organisation holds a mandate and an activation
of it (``--preload`` records in all), and ``--devices`` member devices enrolled over HTTP, each
holding the cursor of a full pull made before the outage.

The storm: every device starts at a random offset uniform in [0, ``--window``] s (seeded) and
does what a reconnecting client does: one push of 5 changes (two log entries and a call-out
event in the activation, a new channel of one of its organisation's functions, an edit of a
function's description, from the state before the outage — a second device editing the same
function makes a conflict record, a normal answer), then pulls from its cursor to the end (``--limit`` per
page). The load comes from this one process: a pool of ``--concurrency`` threads, each device
with its own `requests` session (its own connection); requests only to 127.0.0.1, with a 30 s
timeout each, and the whole storm bounded by ``--deadline`` s, after which it stops by itself.

Reported per backend: errors (a non-2xx answer, a timeout or a refused connection; a change
answered ``rejected`` is counted apart), latency per request (p50, p99, max; push and pull apart
and together), how late the pool started devices compared with their offsets, and the wall time
from the storm's start to the last device's end.

    .venv/bin/python tests/perf/bench_reconnect_storm.py [--devices 500] [--window 30]
        [--backends sqlite,postgresql] [--pg | --no-pg] [--sqlite-workers 1] [--pg-workers 2]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests  # noqa: E402
from server_bench_support import (  # noqa: E402
    Device,
    Postgres,
    ServeProcess,
    change,
    enroll,
    init_database,
    issue_codes,
    machine,
    percentile,
    add_backend_arguments,
    chosen_backends,
    print_table,
    push_all,
)

REQUEST_TIMEOUT_S = 30


# --- the region before the outage ------------------------------------------------------------

@dataclass
class RegionSetup:
    activation_id: str
    functions: dict[str, list[str]]  # organisation id → its function ids
    description_clock: dict[str, str]  # function id → the clock of its description before the outage
    cursor: str
    records: int


def build_region(url: str, db_url: str, org_shorts: list[str], preload: int) -> RegionSetup:
    codes = issue_codes(db_url, [("LST", "regional_admin")] + [(s, "org_admin") for s in org_shorts])
    http = requests.Session()
    lst = enroll(url, codes[0], "setup LST", http)
    admins = [enroll(url, code, f"setup {short}", http) for short, code in zip(org_shorts, codes[1:])]
    per_org = max(5, preload // len(admins))
    functions: dict[str, list[str]] = {}
    clocks: dict[str, str] = {}
    for admin in admins:
        changes = []
        ids = []
        while len(changes) < per_org:
            function_id = str(uuid.uuid4())
            ids.append(function_id)
            changes.append(change(admin, "functions", {
                "organisation_id": admin.org_id, "name": f"Funktion {len(ids)}",
                "availability": "24/7", "description": "Tjänsteman i beredskap.",
            }, function_id))
            clocks[function_id] = changes[-1]["clock"]
            for c in range(4):
                changes.append(change(admin, "channels", {
                    "function_id": function_id, "kind": "mobile", "value": f"+46701{len(changes):06d}",
                    "priority": c + 1,
                }))
        push_all(http, admin, changes)
        functions[admin.org_id] = ids
    forum_id, activation_id = str(uuid.uuid4()), str(uuid.uuid4())
    changes = [change(lst, "forums", {"name": "Regional samverkan", "level": "coordinating"}, forum_id)]
    for admin in admins:
        changes.append(change(lst, "mandates", {
            "forum_id": forum_id, "function_id": functions[admin.org_id][0], "role": "member",
        }))
    changes.append(change(lst, "activations", {
        "forum_id": forum_id, "reason": "Storm och elavbrott", "started_at": "2026-11-27T06:00:00Z",
    }, activation_id))
    push_all(http, lst, changes)
    # The cursor every device holds from before the outage: the end of a full pull.
    cursor, records = None, 0
    while True:
        params = {"limit": 5000, **({"cursor": cursor} if cursor else {})}
        page = http.get(url + "/v1/sync/pull", params=params, headers=lst.headers, timeout=60).json()
        records += len(page["records"])
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    return RegionSetup(activation_id, functions, clocks, cursor, records)


# --- the storm -------------------------------------------------------------------------------

@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    push: list[float] = field(default_factory=list)
    pull: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    lag: list[float] = field(default_factory=list)
    pulled: int = 0
    done: int = 0
    first_error: str = ""

    def error(self, kind: str, detail: str) -> None:
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            self.first_error = self.first_error or detail


def device_changes(device: Device, setup: RegionSetup, rng: random.Random) -> list[dict]:
    own = setup.functions[device.org_id]
    function_id = rng.choice(own)
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return [
        change(device, "log_entries", {"activation_id": setup.activation_id, "at": at,
                                       "kind": "information", "text": f"Lägesrapport från {device.device_id[:8]}"}),
        change(device, "log_entries", {"activation_id": setup.activation_id, "at": at,
                                       "kind": "action", "text": "Reservkraft startad."}),
        change(device, "callout_events", {"activation_id": setup.activation_id, "function_id": own[0],
                                          "status": "reached", "at": at}),
        change(device, "channels", {"function_id": rng.choice(own), "kind": "satellite",
                                    "value": f"+8816{rng.randrange(10**8):08d}", "resilient": True}),
        # An edit from the state before the outage: the first device to edit a function wins
        # cleanly; a later one of the same function was concurrent and makes a conflict record.
        change(device, "functions", {"description": f"Nås via satellit ({device.device_id[:8]})"},
               function_id, base={"description": setup.description_clock[function_id]}),
    ]


def run_device(device: Device, setup: RegionSetup, scheduled: float, t0: float, deadline: float,
               limit: int, stats: Stats, seed: int) -> None:
    started = time.monotonic()
    with stats.lock:
        stats.lag.append(started - (t0 + scheduled))
    rng = random.Random(seed)
    http = requests.Session()
    try:
        changes = device_changes(device, setup, rng)
        try:
            t = time.perf_counter()
            response = http.post(device.url + "/v1/sync/push", json={"changes": changes},
                                 headers=device.headers, timeout=REQUEST_TIMEOUT_S)
            elapsed = time.perf_counter() - t
        except requests.RequestException as exc:
            stats.error("push: " + type(exc).__name__, repr(exc))
            return
        with stats.lock:
            stats.push.append(elapsed)
        if response.status_code != 200:
            stats.error(f"push: HTTP {response.status_code}", response.text[:300])
            return
        with stats.lock:
            for result in response.json()["results"]:
                stats.statuses[result["status"]] = stats.statuses.get(result["status"], 0) + 1
        cursor = setup.cursor
        while time.monotonic() < deadline:
            try:
                t = time.perf_counter()
                response = http.get(device.url + "/v1/sync/pull", params={"cursor": cursor, "limit": limit},
                                    headers=device.headers, timeout=REQUEST_TIMEOUT_S)
                page = response.json() if response.status_code == 200 else None
                elapsed = time.perf_counter() - t
            except (requests.RequestException, ValueError) as exc:
                stats.error("pull: " + type(exc).__name__, repr(exc))
                return
            with stats.lock:
                stats.pull.append(elapsed)
            if page is None:
                stats.error(f"pull: HTTP {response.status_code}", response.text[:300])
                return
            with stats.lock:
                stats.pulled += len(page["records"])
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        else:
            stats.error("deadline", "the storm's deadline passed mid-pull")
            return
        with stats.lock:
            stats.done += 1
    finally:
        http.close()


def storm(devices: list[Device], setup: RegionSetup, args) -> tuple[Stats, float]:
    rng = random.Random(args.seed)
    plan = sorted((rng.uniform(0, args.window), device, rng.randrange(2**32)) for device in devices)
    stats = Stats()
    t0 = time.monotonic()
    deadline = t0 + args.deadline
    with ThreadPoolExecutor(max_workers=args.concurrency, thread_name_prefix="device") as pool:
        futures = []
        for offset, device, seed in plan:
            wait = t0 + offset - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if time.monotonic() >= deadline:
                stats.error("deadline", "not started before the deadline")
                continue
            futures.append(pool.submit(run_device, device, setup, offset, t0, deadline, args.limit, stats, seed))
        for future in futures:
            future.result()
    return stats, time.monotonic() - t0


def run_backend(name: str, db_url: str, workers: int, args, work: Path) -> list:
    shorts = [f"ORG{n}" for n in range(1, args.orgs + 1)]
    init_database(db_url, [("LST", True)] + [(s, False) for s in shorts])
    server = ServeProcess(db_url, workers=workers, log=work / f"server-{name}.log")
    try:
        print(f"[{name}] setting up the region and enrolling {args.devices} devices …", flush=True)
        setup = build_region(server.url, db_url, shorts, args.preload)
        wanted = [(shorts[n % len(shorts)], "member") for n in range(args.devices)]
        codes = issue_codes(db_url, wanted)
        http = requests.Session()
        devices = [enroll(server.url, code, f"device {n}", http) for n, code in enumerate(codes)]
        http.close()
        print(f"[{name}] {setup.records:,} records before the outage; storm of {len(devices)} devices "
              f"within {args.window:.0f} s, {args.concurrency} client threads …", flush=True)
        stats, wall = storm(devices, setup, args)
    finally:
        server.close()
    everything = stats.push + stats.pull
    errors = sum(stats.errors.values())
    if errors:
        print(f"[{name}] errors: {stats.errors}; first: {stats.first_error}")
    print(f"[{name}] push results: {stats.statuses}; records pulled: {stats.pulled:,}; "
          f"devices done: {stats.done}/{len(devices)}", flush=True)

    def ms(values: list[float], share: float) -> str:
        return f"{percentile(values, share) * 1000:.0f}"

    return [
        name, workers, f"{stats.done}/{len(devices)}", len(everything), errors,
        stats.statuses.get("rejected", 0), stats.statuses.get("conflict", 0),
        f"{ms(stats.push, .5)} / {ms(stats.push, .99)}",
        f"{ms(stats.pull, .5)} / {ms(stats.pull, .99)}",
        f"{ms(everything, .5)} / {ms(everything, .99)} / {max(everything) * 1000:.0f}" if everything else "-",
        f"{max(stats.lag) * 1000:.0f}" if stats.lag else "-",
        f"{wall:.1f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--window", type=float, default=30.0, help="start offsets uniform in [0, WINDOW] s")
    parser.add_argument("--orgs", type=int, default=9, help="organisations besides the regional administrator")
    parser.add_argument("--preload", type=int, default=2000, help="records in the region before the outage")
    parser.add_argument("--limit", type=int, default=1000, help="records per pull page")
    parser.add_argument("--concurrency", type=int, default=64, help="client threads")
    parser.add_argument("--deadline", type=float, default=300.0, help="the storm stops by itself after this")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--sqlite-workers", type=int, default=1)
    parser.add_argument("--pg-workers", type=int, default=2)
    add_backend_arguments(parser)
    args = parser.parse_args()
    backends = chosen_backends(args)

    work = Path(tempfile.mkdtemp(prefix="samverka-bench-storm-"))
    print(f"Machine: {machine()}; server: `samverka-server serve` subprocess on 127.0.0.1; "
          f"load: this one process, {args.concurrency} threads of requests; logs in {work}")
    rows = []
    for name in backends:
        if name == "sqlite":
            rows.append(run_backend(name, f"sqlite:///{work / 'server.db'}", args.sqlite_workers, args, work))
        elif name == "postgresql":
            pg = Postgres()
            try:
                rows.append(run_backend(name, pg.new_database(), args.pg_workers, args, work))
            finally:
                pg.close()
        else:
            raise SystemExit(f"unknown backend {name!r}")
    print()
    print_table(
        ["backend", "workers", "devices done", "requests", "errors", "rejected changes", "conflicts",
         "push p50/p99 ms", "pull p50/p99 ms", "all p50/p99/max ms", "max start lag ms", "wall s"],
        rows,
    )


if __name__ == "__main__":
    main()
