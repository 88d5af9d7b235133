"""Benchmark: an activation with 40 member functions and 2,000 journal entries — the call list, the journal, the journal PDF.

Builds a vault (SQLCipher) with 40 organisations' functions (3 channels each) holding mandates in
one forum, an activation with 80 call-out events and 2,000 journal entries (every 50th a
situation report, every 40th a correction), all of them sequenced: each entry gets the link the
server would have sent (sync.journal), so the chain is checked over all 2,000. Then, 5 times
each (medians reported):

- ``call_list``: ActivationService.call_list (what the call-out view shows), goal <= 100 ms;
- ``journal``: ActivationService.journal (entries in order, corrections, chain verified), goal <= 100 ms;
- baseline: the same 2,000 rows read with one raw SELECT on the same connection;
- ``journal PDF``: print_journal to a file (about 60 pages), goal <= 3 s; and its layout alone.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python tests/perf/bench_activation.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from desktop.activation import ActivationService, PartyReport, SituationReport  # noqa: E402
from desktop.activation import situation  # noqa: E402
from desktop.store import Store  # noqa: E402
from sync import journal as chain  # noqa: E402

FUNCTIONS = 40
ENTRIES = 2_000
RUNS = 5


def build(store: Store) -> str:
    with store.batch():
        orgs = store.bulk_create("organisations", [{"name": f"Aktör {n:02d}"} for n in range(FUNCTIONS)])
        functions = store.bulk_create("functions", [
            {"organisation_id": org, "name": f"Tjänsteman i beredskap {n:02d}", "short_name": f"TiB{n}"}
            for n, org in enumerate(orgs)
        ])
        store.bulk_create("channels", [
            {"function_id": fn, "kind": kind, "value": value, "priority": p + 1, "resilient": kind == "rakel"}
            for n, fn in enumerate(functions)
            for p, (kind, value) in enumerate((("mobile", f"070-174 06 {10 + n:02d}"),
                                               ("rakel", f"ISSI 99901{n:02d}"),
                                               ("email", f"tib{n}@aktor.example")))
        ])
        forum = store.create("forums", {"name": "Samverkanskonferens", "level": "coordinating",
                                        "convenor_function_id": functions[0]})
        store.bulk_create("mandates", [
            {"forum_id": forum, "function_id": fn, "role": "member", "mandate": "Rapporterar aktörens läge."}
            for fn in functions[1:]
        ])
        activation = store.create("activations", {"forum_id": forum, "reason": "Strömavbrott",
                                                   "exercise": True, "started_at": "2026-12-06T08:00:00.000Z"})
        store.bulk_create("callout_events", [
            {"activation_id": activation, "function_id": fn, "status": status,
             "at": f"2026-12-06T08:{(n + k * 40) // 60 % 60:02d}:{(n * 7) % 60:02d}.000Z"}
            for k, status in enumerate(("no_answer", "reached")) for n, fn in enumerate(functions)
        ])
        report = situation.to_text(SituationReport(
            party_reports=tuple(PartyReport(f"Aktör {n:02d}", "Läget är stabilt; inga behov.") for n in range(5)),
            regional_picture="Strömavbrott i Södertörn; reservkraft i drift.", next_meeting="kl. 14.00"))
        entries = []
        for n in range(ENTRIES):
            minute = n // 10
            fields = {"activation_id": activation, "at": f"2026-12-06T{8 + minute // 60:02d}:{minute % 60:02d}:{n % 60:02d}.000Z",
                      "author_function_id": functions[n % FUNCTIONS], "kind": "information",
                      "text": f"Post {n}: läget i kommunen följs; reservkraft i drift, inga nya behov rapporterade."}
            if n % 50 == 49:
                fields.update(kind="situation_report", text=report)
            entries.append(fields)
        ids = store.bulk_create("log_entries", entries)
        corrections = [
            {"activation_id": activation, "at": "2026-12-07T10:00:00.000Z", "kind": "information",
             "text": f"Rättelse av post {n}.", "corrects": ids[n]}
            for n in range(0, ENTRIES, 40)
        ]
        store.bulk_create("log_entries", corrections)
    # Every entry sequenced, as if pulled from a server: the links the server would have made.
    records = sorted(store.journal_records(activation), key=lambda r: r["record_id"])
    links = chain.chain_of(activation, [
        chain.Entry.of(r["record_id"], r["owner_org"], r["clock"], r["fields"]) for r in records])
    with store._write() as tx:
        tx.db.executemany(
            "INSERT INTO journal_links (record_id, activation_id, idx, entry_hash, chain) VALUES (?, ?, ?, ?, ?)",
            [(r["record_id"], activation, made.index, made.entry_hash, made.chain) for r, made in zip(records, links)],
        )
    return activation


def timed(work, runs: int = RUNS) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    from desktop.printing import journal_job
    from desktop.printing.pages import build_document, ensure_application, write_pdf
    from PySide6.QtGui import QPdfWriter

    ensure_application()
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "bench.db", os.urandom(32))
        try:
            t0 = time.perf_counter()
            activation = build(store)
            print(f"built in {time.perf_counter() - t0:.1f} s: {FUNCTIONS} functions, "
                  f"{store.count('log_entries')} journal entries, {store.count('callout_events')} call-out events")
            service = ActivationService(store)
            call_list_s, call_list = timed(lambda: service.call_list(activation))
            journal_s, journal = timed(lambda: service.journal(activation))
            assert journal.check.ok and journal.check.sequenced == store.count("log_entries"), journal.check
            assert len(call_list.rows) == FUNCTIONS

            def raw() -> list:
                with store._read() as db:
                    return db.execute("SELECT * FROM log_entries WHERE activation_id = ?", (activation,)).fetchall()

            raw_s, _ = timed(raw)
            pdf = Path(folder) / "journal.pdf"
            pdf_s, pages = timed(lambda: write_pdf(journal_job(service, activation), pdf))
            job = journal_job(service, activation)

            def layout() -> int:
                writer = QPdfWriter(str(Path(folder) / "layout.pdf"))
                writer.setResolution(300)
                document = build_document(job, writer)
                return document.pageCount()

            layout_s, _ = timed(layout)
        finally:
            store.close()
    rows = [
        ("call list (40 functions, 80 events)", call_list_s, "<= 100 ms"),
        (f"journal ({journal.check.sequenced} entries, chain verified)", journal_s, "<= 100 ms"),
        ("baseline: raw SELECT of the journal's rows", raw_s, ""),
        (f"journal PDF ({pages} pages)", pdf_s, "<= 3 s"),
        ("  of which: QTextDocument layout only", layout_s, ""),
    ]
    print(f"\nmedians of {RUNS} runs, load {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores")
    print(f"| {'what':<52} | {'median':>9} | goal |")
    print(f"| {'-' * 52} | {'-' * 9} | ---- |")
    for what, seconds, goal in rows:
        print(f"| {what:<52} | {seconds * 1000:7.1f}ms | {goal} |")
    print(f"journal ÷ raw SELECT: {journal_s / raw_s:.1f}×")


if __name__ == "__main__":
    main()
