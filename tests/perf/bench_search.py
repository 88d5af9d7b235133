"""Benchmark: ranked prefix search as a person types, over 100k functions and channels.

Run:  .venv/bin/python tests/perf/bench_search.py [--functions 30000] [--channels 70000]

Builds a fresh SQLCipher store in a temporary folder with organisations, ~30k functions and
~70k channels (100k searchable records besides the organisations) whose names come from the
demo region's vocabulary (resources/demo/region.json: real function names, organisation and
municipality names, channel labels; numbers from the fictitious range), all through the
store API (bulk_create: rows, outbox and search documents). Then times 1,000 queries made
keystroke by keystroke from target phrases ("t", "ti", "tib", "tib ", "tib s", ...):
``store.search(q)`` against the bare FTS5 ``MATCH ... ORDER BY rank LIMIT 20`` on the same file
through a raw sqlcipher3 connection, in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from desktop.store import Store  # noqa: E402
from desktop.store.connection import raw_connect  # noqa: E402
from desktop.store.search import (  # noqa: E402
    BOUND_SQL,
    BOUNDED_SQL,
    CANDIDATES,
    RANKED_SQL,
    match_expression,
    query_tokens,
)

MUNICIPALITIES = [
    "Botkyrka", "Danderyd", "Ekerö", "Haninge", "Huddinge", "Järfälla", "Lidingö", "Nacka",
    "Norrtälje", "Nykvarn", "Nynäshamn", "Salem", "Sigtuna", "Sollentuna", "Solna",
    "Stockholm", "Sundbyberg", "Södertälje", "Tyresö", "Täby", "Upplands Väsby",
    "Upplands-Bro", "Vallentuna", "Vaxholm", "Värmdö", "Österåker",
]
ORG_FORMS = ["{m} kommun", "Räddningstjänsten {m}", "{m} vatten", "{m} hamn", "{m}s energi",
             "Vårdcentral {m}", "{m} stadsdelsförvaltning"]
UNITS = ["", "", "", " Nord", " Syd", " Öst", " Väst", ", reserv", ", dag", ", natt", " 2"]

TARGETS = [
    "tib sos", "räddningschef i beredskap", "stabschef nacka", "kommunikatör i beredskap",
    "jourmobil tib", "rakel talgrupp", "vakthavande befäl", "krisledningsgrupp södertälje",
    "isk lst", "070-174 06 4", "tjänsteman i beredskap huddinge", "inre befäl",
    "samverkansofficer", "trafikledare", "presstjänst polis", "säkerhetssamordnare",
    "funktionsbrevlåda", "hamnkapten", "smittskydd", "länsstyrelsen",
    "sjukvårdsledare", "tib solna", "rcb attunda", "kib region", "växel trafikverket",
    "beredskapssamordnare täby", "satellittelefon", "e-post sos", "vb sos", "ledningscentral",
]


def load_vocabulary() -> dict:
    document = json.loads((REPO / "resources" / "demo" / "region.json").read_text(encoding="utf-8"))
    vocab: dict[str, list] = {"orgs": [], "functions": [], "descriptions": [], "channels": []}
    for record in document["records"]:
        f = record["fields"]
        if record["collection"] == "organisations":
            vocab["orgs"].append((f["name"], f.get("short_name"), f.get("kind", "other")))
        elif record["collection"] == "functions":
            vocab["functions"].append((f["name"], f.get("short_name")))
            if f.get("description"):
                vocab["descriptions"].append(f["description"])
        elif record["collection"] == "channels":
            vocab["channels"].append((f["kind"], f["value"], f.get("label"), f.get("note")))
    return vocab


def generate(store: Store, n_functions: int, n_channels: int, seed: int = 7) -> dict[str, float]:
    """Fill the store through bulk_create; returns seconds per collection."""
    rng = random.Random(seed)
    vocab = load_vocabulary()
    timings = {}
    orgs = [{"name": n, "short_name": s, "kind": k} for n, s, k in vocab["orgs"]]
    for m in MUNICIPALITIES:
        for form in ORG_FORMS:
            orgs.append({"name": form.format(m=m), "short_name": m[:4], "kind": "other"})
    t = time.perf_counter()
    org_ids = store.bulk_create("organisations", orgs)
    timings["organisations"] = time.perf_counter() - t
    functions = []
    for _ in range(n_functions):
        name, short = rng.choice(vocab["functions"])
        fields = {"organisation_id": rng.choice(org_ids), "name": name + rng.choice(UNITS)}
        if short:
            fields["short_name"] = short
        if rng.random() < 0.5:
            fields["description"] = rng.choice(vocab["descriptions"])
        functions.append(fields)
    t = time.perf_counter()
    function_ids: list[str] = []
    for start in range(0, len(functions), 10_000):
        function_ids += store.bulk_create("functions", functions[start : start + 10_000])
    timings["functions"] = time.perf_counter() - t
    channels = []
    for i in range(n_channels):
        kind, value, label, note = rng.choice(vocab["channels"])
        if kind in ("phone", "mobile", "satellite"):
            value = f"070-174 06 {rng.randint(5, 99):02d}"
        fields = {"function_id": function_ids[i % len(function_ids)], "kind": kind, "value": value,
                  "priority": rng.randint(1, 4)}
        if label:
            fields["label"] = label
        if note and rng.random() < 0.3:
            fields["note"] = note
        channels.append(fields)
    t = time.perf_counter()
    for start in range(0, len(channels), 10_000):
        store.bulk_create("channels", channels[start : start + 10_000])
    timings["channels"] = time.perf_counter() - t
    return timings


def keystroke_queries(count: int) -> list[str]:
    queries: list[str] = []
    while len(queries) < count:
        for phrase in TARGETS:
            for end in range(1, len(phrase) + 1):
                queries.append(phrase[:end])
                if len(queries) == count:
                    return queries
    return queries


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=30_000)
    parser.add_argument("--channels", type=int, default=70_000)
    parser.add_argument("--queries", type=int, default=1_000)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="samverka-bench-"))
    path = folder / "bench.db"
    key = os.urandom(32)
    store = Store.open(path, key)
    t = time.perf_counter()
    timings = generate(store, args.functions, args.channels)
    load_s = time.perf_counter() - t
    queries = keystroke_queries(args.queries)
    raw = raw_connect(path, key)

    def raw_search(q: str) -> list:
        """The bare FTS5 query: every match ranked, top 20."""
        expression = match_expression(query_tokens(q))
        if expression is None:
            return []
        return raw.execute(RANKED_SQL, (expression, 20)).fetchall()

    def raw_bounded(q: str) -> list:
        """The store's own plan run raw: the same two FTS5 statements, no join, no Python."""
        expression = match_expression(query_tokens(q))
        if expression is None:
            return []
        bound = raw.execute(BOUND_SQL, (expression, CANDIDATES - 1)).fetchone()
        if bound is None:
            return raw.execute(RANKED_SQL, (expression, 20)).fetchall()
        return raw.execute(BOUNDED_SQL, (expression, bound[0], 20)).fetchall()

    for q in queries:  # warm both page caches
        store.search(q)
        raw_search(q)
        raw_bounded(q)
    store_ms, raw_ms, bounded_ms, matches = [], [], [], []
    for q in queries:
        t0 = time.perf_counter()
        store.search(q)
        t1 = time.perf_counter()
        raw_search(q)
        t2 = time.perf_counter()
        raw_bounded(q)
        t3 = time.perf_counter()
        store_ms.append((t1 - t0) * 1000)
        raw_ms.append((t2 - t1) * 1000)
        bounded_ms.append((t3 - t2) * 1000)
        expression = match_expression(query_tokens(q))
        matches.append(
            raw.execute("SELECT count(*) FROM search_index WHERE search_index MATCH ?", (expression,)).fetchone()[0]
            if expression else 0
        )
    reopen_t = time.perf_counter()
    store.close()
    store = Store.open(path, key)
    reopen_s = time.perf_counter() - reopen_t
    store.close()
    raw.close()
    size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6

    print(f"records: {args.functions} functions + {args.channels} channels + "
          f"{len(MUNICIPALITIES) * len(ORG_FORMS)}+demo organisations; load {load_s:.1f} s "
          f"({', '.join(f'{k} {v:.1f} s' for k, v in timings.items())}); file {size_mb:.0f} MB; "
          f"close+reopen {reopen_s * 1000:.0f} ms")
    print(f"queries: {len(queries)} keystroke prefixes of {len(TARGETS)} phrases; "
          f"median matches per query {statistics.median(matches):.0f} (max {max(matches)})")
    print()
    print(f"{'':<44}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    rows = [
        ("store.search (bounded plan, join, hits)", store_ms),
        ("raw FTS5 MATCH ORDER BY rank LIMIT 20", raw_ms),
        (f"raw, the store's plan (candidates {CANDIDATES})", bounded_ms),
    ]
    for label, values in rows:
        print(f"{label:<44}{percentile(values, 50):>9.2f}{percentile(values, 95):>9.2f}{max(values):>9.2f}")
    print()
    for label, values in rows[1:]:
        print(f"ratio store / {label}: p50 {percentile(store_ms, 50) / percentile(values, 50):.2f}x, "
              f"p95 {percentile(store_ms, 95) / percentile(values, 95):.2f}x")
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()


if __name__ == "__main__":
    main()
