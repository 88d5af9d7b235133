"""Benchmark: how long one large push holds the server's write lock (issue 7, item 5).

Every push runs under the positions lock (docs/PROTOCOL.md, "Order under concurrency"): while
it runs, no other push on any worker can commit. This times the pushes that used to hold it
longest, against a real `samverka-server serve` subprocess (one worker) on 127.0.0.1:

- a region with a forum in which 1,000 functions (500 of SOS, 500 of POL) hold a mandate, and
  an activation of that forum;
- "alternating": an SOS member pushes 1,000 changes alternating an update of one of its
  functions and a log entry in the activation (all applied);
- "all rejected": a KOM member (no function in the forum) pushes the same mix of changes to
  SOS's functions and the activation's log (every change rejected: not the owner, not a
  forum member).

Each push is repeated ``--repeat`` times (fresh change ids); the time of a push is the whole
request as the client sees it (the lock is held for part of it). Goal: each ≤ 0.5 s here.

    .venv/bin/python tests/perf/bench_push_lock.py [--mandates 1000] [--changes 1000]
        [--repeat 5] [--backends sqlite,postgresql] [--pg | --no-pg]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests  # noqa: E402
from server_bench_support import (  # noqa: E402
    Device,
    ServeProcess,
    add_backend_arguments,
    backend_databases,
    change,
    chosen_backends,
    enroll,
    init_database,
    issue_codes,
    machine,
    print_table,
    push_all,
)

AT = "2026-11-27T10:00:00.000Z"


def build_region(http: requests.Session, ra: Device, sos: Device, pol: Device, mandates: int) -> tuple[list[str], str]:
    """Functions of SOS and POL, a forum where each holds a mandate, an activation; returns
    (SOS's function ids, the activation id)."""
    functions: dict[str, list[str]] = {}
    for device in (sos, pol):
        made = [change(device, "functions", {"organisation_id": device.org_id, "name": f"Funktion {n}"})
                for n in range(mandates // 2)]
        push_all(http, device, made)
        functions[device.org_id] = [c["record_id"] for c in made]
    forum = change(ra, "forums", {"name": "Regional samverkan", "level": "coordinating",
                                  "convenor_function_id": functions[sos.org_id][0]})
    push_all(http, ra, [forum])
    push_all(http, ra, [
        change(ra, "mandates", {"forum_id": forum["record_id"], "function_id": function_id, "role": "member"})
        for ids in functions.values() for function_id in ids
    ])
    activation = change(ra, "activations", {"forum_id": forum["record_id"], "reason": "Storm", "started_at": AT})
    push_all(http, ra, [activation])
    return functions[sos.org_id], activation["record_id"]


def mixed_push(device: Device, functions: list[str], activation: str, size: int, round_: int,
               clocks: dict[str, str]) -> list[dict]:
    """``size`` changes: function updates (sequential edits: ``clocks`` holds each function's
    description clock, updated here) alternating with log entries."""
    changes = []
    for n in range(size):
        if n % 2 == 0:
            target = functions[(n // 2) % len(functions)]
            edit = change(device, "functions", {"description": f"Runda {round_}, ändring {n}"},
                          record_id=target, base={"description": clocks.get(target)})
            clocks[target] = edit["clock"]
            changes.append(edit)
        else:
            changes.append(change(device, "log_entries", {
                "activation_id": activation, "at": AT, "kind": "information", "text": f"Lägesbild {round_}.{n}",
            }))
    return changes


def time_pushes(http: requests.Session, device: Device, make, repeat: int, expect: str) -> list[float]:
    times = []
    for round_ in range(repeat):
        changes = make(round_)
        started = time.perf_counter()
        response = http.post(device.url + "/v1/sync/push", json={"changes": changes},
                             headers=device.headers, timeout=300)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
        statuses = {r["status"] for r in response.json()["results"]}
        if statuses != {expect}:
            raise SystemExit(f"expected every change {expect}, got {statuses}")
    return times


def run_backend(name: str, db_url: str, args, work: Path) -> list[list]:
    init_database(db_url, [("LST", True), ("SOS", False), ("POL", False), ("KOM", False)])
    codes = issue_codes(db_url, [("LST", "regional_admin"), ("SOS", "member"), ("POL", "member"), ("KOM", "member")])
    server = ServeProcess(db_url, log=work / f"server-{name}.log")
    try:
        http = requests.Session()
        ra, sos, pol, kom = (enroll(server.url, code, f"bench {n}", http) for n, code in enumerate(codes))
        print(f"[{name}] region: {args.mandates:,} functions with a mandate in one forum …", flush=True)
        functions, activation = build_region(http, ra, sos, pol, args.mandates)
        rows = []
        clocks: dict[str, str] = {}
        for label, device, expect in (("alternating", sos, "applied"), ("all rejected", kom, "rejected")):
            times = time_pushes(
                http, device,
                lambda r: mixed_push(device, functions, activation, args.changes, r, dict(clocks) if device is kom else clocks),
                args.repeat, expect,
            )
            print(f"[{name}] {label}: " + ", ".join(f"{t:.3f}" for t in times) + " s", flush=True)
            rows.append([
                name, f"{label}: {args.changes:,} changes (function updates / log entries)",
                f"{args.mandates:,}", expect, f"{statistics.median(times):.3f}", f"{min(times):.3f}",
                f"{max(times):.3f}",
            ])
    finally:
        server.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mandates", type=int, default=1_000)
    parser.add_argument("--changes", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    add_backend_arguments(parser)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="samverka-bench-push-lock-"))
    print(f"Machine: {machine()}; server: `samverka-server serve` subprocess (uvicorn, 1 worker) on "
          f"127.0.0.1; logs in {work}")
    rows: list[list] = []
    for name, db_url in backend_databases(chosen_backends(args), work):
        rows += run_backend(name, db_url, args, work)
    print()
    print(f"One push each, {args.repeat} times; seconds per request as the client sees it (goal ≤ 0.5 s).")
    print_table(["backend", "push", "mandates", "every change", "median s", "min s", "max s"], rows)


if __name__ == "__main__":
    main()
