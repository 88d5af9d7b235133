"""Benchmark: ranked search as a person types, over 100k functions and channels.

Run:  .venv/bin/python tests/perf/bench_search.py [--functions 30000] [--channels 70000]
                                                  [--numbers demo|distinct]

Builds a fresh SQLCipher store in a temporary folder with organisations, ~30k functions and
~70k channels (100k searchable records besides the organisations) whose names come from the
demo region's vocabulary (resources/demo/region.json: real function names, organisation and
municipality names, channel labels; numbers from the fictitious range, or with ``--numbers
distinct`` a different number for every phone channel, as a real directory has), all through
the store API (bulk_create: rows and outbox; the search index in one pass after the last batch).
Then times two query sets, keystroke by keystroke ("t", "ti", "tib", "tib ", "tib s", ...):
the 1,000 prefixes of the original 30 phrases, and the prefixes of phrases that need the
forgiving rules (typos, missing å/ä/ö, number fragments, abbreviations, addresses), as a
Länsstyrelsen device (own organisation). Each ``store.search(q)`` is compared in the same run
with the same FTS5 statements run raw on the same file (the store's plan: its candidate queries,
after the typo step when it took one; no look-up of the hits, no ranking) and with FTS5 ranking
every match by bm25 (``MATCH ... ORDER BY rank LIMIT 20``).
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
from desktop.store import search as search_mod  # noqa: E402
from desktop.store.search import CANDIDATES, add_corrections, parse  # noqa: E402
from desktop.store.search_words import Vocabulary  # noqa: E402

MATCH_SQL = "SELECT rowid FROM search_index WHERE search_index MATCH ? LIMIT ?"
RANKED_SQL = "SELECT rowid, rank FROM search_index WHERE search_index MATCH ? ORDER BY rank LIMIT ?"

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
# Phrases the forgiving rules are for: typos (the fuzzy step), no å/ä/ö, number fragments with
# and without spaces or +46, abbreviations and their expansions, functional addresses.
FORGIVING = [
    "polsi", "trafikverkt", "lansstyrelsen", "sodertalje krisledningsgrupp", "kommunikatro i beredskap",
    "raddningschef i beredskap", "stabchef nacka", "hamnkaptne", "samverkansofficre",
    "0699", "174 06 5", "+46 70 174 06 4", "kib lst", "tjänsteman i beredskap solna", "vakthavande befal",
    "pfso", "tib@", "sakerhetssamordnare",
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


def generate(
    store: Store, n_functions: int, n_channels: int, seed: int = 7, distinct_numbers: bool = False
) -> dict[str, float]:
    """Fill the store through bulk_create, then index it; returns seconds per step."""
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
            value = phone_number(rng, i, distinct_numbers)
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
    t = time.perf_counter()
    store.update_search_index()
    timings["index pass"] = time.perf_counter() - t
    return timings


def phone_number(rng: random.Random, i: int, distinct: bool) -> str:
    """The demo's fictitious range (95 numbers, shared), or one number per channel."""
    if not distinct:
        return f"070-174 06 {rng.randint(5, 99):02d}"
    return f"08-{100_000 + i * 7 % 900_000:06d}" if i % 3 == 0 else f"070-{1_000_000 + i * 13 % 9_000_000:07d}"


def keystroke_queries(count: int, phrases: list[str] = TARGETS) -> list[str]:
    queries: list[str] = []
    while len(queries) < count:
        for phrase in phrases:
            for end in range(1, len(phrase) + 1):
                queries.append(phrase[:end])
                if len(queries) == count:
                    return queries
    return queries


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Recorder:
    """A connection that runs and remembers its statements (to replay the store's plan raw)."""

    def __init__(self, db) -> None:
        self.db = db
        self.statements: list[tuple[str, tuple]] = []

    def execute(self, sql: str, params: tuple = ()):
        self.statements.append((sql, params))
        return self.db.execute(sql, params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=30_000)
    parser.add_argument("--channels", type=int, default=70_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--numbers", choices=("demo", "distinct"), default="demo")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="samverka-bench-"))
    path = folder / "bench.db"
    key = os.urandom(32)
    store = Store.open(path, key)
    t = time.perf_counter()
    timings = generate(store, args.functions, args.channels, distinct_numbers=args.numbers == "distinct")
    load_s = time.perf_counter() - t
    own = next(o["record_id"] for o in store.list("organisations") if o["fields"]["name"] == "Länsstyrelsen Stockholm")
    abbreviations = store._search_abbreviations()
    sets = {
        "original": keystroke_queries(args.queries),
        "forgiving": keystroke_queries(sum(len(p) for p in FORGIVING), FORGIVING),
    }
    raw = raw_connect(path, key)
    vocabulary = Vocabulary.load(raw)

    plans: dict[str, list[tuple[str, tuple]]] = {}
    fuzzy: dict[str, bool] = {}
    full: dict[str, str | None] = {}
    for q in {q for queries in sets.values() for q in queries}:
        # The store's own plan, recorded on the raw connection: its FTS5 statements only.
        recorder = Recorder(raw)
        search_mod.run(recorder, q, own_org=own, abbreviations=abbreviations, vocabulary=lambda: vocabulary)
        plans[q] = [(sql, params) for sql, params in recorder.statements if "MATCH" in sql]
        fuzzy[q] = any(params[-1] == 1 for _, params in plans[q])  # the typo step's checks ran
        query = parse(q, abbreviations)
        if query is not None and fuzzy[q]:
            add_corrections(raw, query, lambda: vocabulary)
        full[q] = query.expression() if query is not None else None

    def raw_plan(q: str) -> None:
        """The store's FTS5 statements for q, raw: no look-up of hits, no ranking."""
        for sql, params in plans[q]:
            raw.execute(sql, params).fetchall()

    def raw_ranked(q: str) -> None:
        """FTS5 ranking every match by bm25, top 20."""
        if full[q] is not None:
            raw.execute(RANKED_SQL, (full[q], 20)).fetchall()

    every = [q for queries in sets.values() for q in queries]
    for q in every:  # warm both page caches (and the store's vocabulary)
        store.search(q, own_org=own)
        raw_plan(q)
        raw_ranked(q)
    timed: dict[str, dict[str, list[float]]] = {}
    for name, queries in sets.items():
        store_ms, plan_ms, ranked_ms = [], [], []
        for q in queries:
            t0 = time.perf_counter()
            store.search(q, own_org=own)
            t1 = time.perf_counter()
            raw_plan(q)
            t2 = time.perf_counter()
            raw_ranked(q)
            t3 = time.perf_counter()
            store_ms.append((t1 - t0) * 1000)
            plan_ms.append((t2 - t1) * 1000)
            ranked_ms.append((t3 - t2) * 1000)
        timed[name] = {"store": store_ms, "plan": plan_ms, "ranked": ranked_ms}
    timed["both"] = {k: timed["original"][k] + timed["forgiving"][k] for k in timed["original"]}
    matches = [
        raw.execute("SELECT count(*) FROM search_index WHERE search_index MATCH ?", (full[q],)).fetchone()[0]
        for q in sets["original"] if full[q]
    ]
    reopen_t = time.perf_counter()
    store.close()
    store = Store.open(path, key)
    reopen_s = time.perf_counter() - reopen_t
    store.close()
    raw.close()
    size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6

    print(f"records: {args.functions} functions + {args.channels} channels + "
          f"{len(MUNICIPALITIES) * len(ORG_FORMS)}+demo organisations, numbers: {args.numbers}; "
          f"load {load_s:.1f} s ({', '.join(f'{k} {v:.1f} s' for k, v in timings.items())}); "
          f"file {size_mb:.0f} MB; close+reopen {reopen_s * 1000:.0f} ms")
    print(f"queries: {len(sets['original'])} keystroke prefixes of {len(TARGETS)} phrases (median "
          f"{statistics.median(matches):.0f} matches, max {max(matches)}) + {len(sets['forgiving'])} "
          f"of {len(FORGIVING)} forgiving phrases; own organisation Länsstyrelsen; candidates {CANDIDATES}")
    for name in ("original", "forgiving", "both"):
        queries = sets[name] if name != "both" else every
        share = sum(fuzzy[q] for q in queries) / len(queries)  # took the typo step
        rows = timed[name]
        print()
        print(f"{name} ({len(queries)} queries, {share:.0%} took the typo step){'':<6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
        for label, key_ in (("store.search (plan, look-up, ranking)", "store"),
                            ("raw FTS5, the store's plan", "plan"),
                            ("raw FTS5, every match ranked (bm25)", "ranked")):
            values = rows[key_]
            print(f"  {label:<52}{percentile(values, 50):>9.2f}{percentile(values, 95):>9.2f}{max(values):>9.2f}")
        print(f"  ratio store / raw same plan: p50 {percentile(rows['store'], 50) / percentile(rows['plan'], 50):.2f}x, "
              f"p95 {percentile(rows['store'], 95) / percentile(rows['plan'], 95):.2f}x")
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()


if __name__ == "__main__":
    main()
