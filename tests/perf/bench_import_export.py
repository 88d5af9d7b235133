"""Benchmark: importing a 10,000-row contact list (XLSX and CSV) and exporting 100k records to XLSX.

    .venv/bin/python tests/perf/bench_import_export.py [--runs 3] [--rows 10000] [--records 100000]

Prints a table of medians (and min/max) over ``--runs`` runs, each on a fresh vault:
- import of ``--rows`` rows into an empty vault (read + plan + one transaction), per format,
  into a standalone vault (``--org``: every write allowed) and into an enrolled one (its own
  organisation's record from the server: every planned write is asked of the shared rules,
  desktop/permissions.py);
- re-import of the same file into that vault (nothing to change: read + plan, no write);
- export of ``--records`` records (30 % functions, 70 % channels) to XLSX.
Goals (issue 12): import ≤ 2 s, re-import ≤ 1 s, export ≤ 10 s. The same steps are timed
separately (read, plan, write) so the table shows where the time goes, beside baselines from
the same run: the same records through Store.bulk_create alone, the same workbook through
openpyxl's own read-only cell loop, the same export through openpyxl's write-only mode.

The list is what an organisation keeps: one row per channel (Typ, Kontaktväg) with the
function's columns repeated, four channels a function (mobile, phone, Rakel, e-mail). Phone
numbers come from the telecom regulator's ranges for fiction, so they repeat across functions.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from desktop.io import apply_import, choose_organisation, export_directory, plan_import, read_table  # noqa: E402
from desktop.store import Store  # noqa: E402

HEADER = ["Organisation", "Funktion", "Kortnamn", "Nåbarhet", "Typ", "Kontaktväg", "Benämning", "Prioritet", "Anteckning"]
MOBILES = [f"070-174 06 {n:02d}" for n in range(5, 100)]
PHONES = [f"08-465 004 {n:02d}" for n in range(100)] + [f"031-390 06 {n:02d}" for n in range(100)]
ORGANISATION = "Bänkstads kommun"


def list_rows(rows: int) -> list[list[object]]:
    out: list[list[object]] = []
    function = 0
    while len(out) < rows:
        name = f"Funktion {function:05d} – beredskap för område {function % 97}"
        channels = [
            ("Mobil", MOBILES[function % len(MOBILES)], "Jourmobil", "Svarar inom 5 minuter."),
            ("Telefon", PHONES[function % len(PHONES)], "Växel", "Vardagar 08–17."),
            ("Rakel", f"ISSI {9_000_000 + function} (fiktiv)", "Rakel, individnummer", "Fungerar vid strömavbrott."),
            ("E-post", f"funktion{function}@bankstad.example", "Funktionsbrevlåda", ""),
        ]
        for priority, (kind, value, label, note) in enumerate(channels, start=1):
            out.append([ORGANISATION, name, f"F{function}", "dygnet runt", kind, value, label, priority, note])
            if len(out) == rows:
                break
        function += 1
    return out


def write_xlsx(path: Path, rows: list[list[object]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook()  # as a spreadsheet program saves: shared strings, dimensions
    sheet = workbook.active
    sheet.title = "Kontakter"
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def write_csv(path: Path, rows: list[list[object]]) -> None:
    with path.open("w", encoding="cp1252", newline="") as handle:  # as Swedish Excel saves "CSV"
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


def timed(work):
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def openpyxl_read(source: Path) -> int:
    """Baseline: every cell of the workbook through openpyxl's own read-only cell loop."""
    from openpyxl import load_workbook

    workbook = load_workbook(source, read_only=True)
    cells = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            cells += sum(1 for cell in row if cell.value is not None and cell.data_type != "f")
    workbook.close()
    return cells


def bulk_create_only(folder: Path, plan) -> None:
    """Baseline: the plan's records through Store.bulk_create in one batch, nothing else."""
    store = Store.open(folder / f"baseline-{time.monotonic_ns()}.db", os.urandom(32))
    try:
        with store.batch():
            for collection in ("organisations", "functions", "channels"):
                changes = [c for c in plan.changes if c.collection == collection]
                store.bulk_create(collection, [c.fields for c in changes], record_ids=[c.record_id for c in changes])
    finally:
        store.close()


def enrol(store) -> str:
    """The vault as an enrolled device's: its organisation's record as the server sends it,
    and the meta enrolment writes. Returns the organisation's id."""
    org_id = str(uuid.uuid4())
    store.apply_pulled([{
        "collection": "organisations", "record_id": org_id, "owner_org": org_id, "visibility": "regional",
        "deleted": False, "seq": 1, "fields": {"name": {"value": ORGANISATION, "clock": store.clock.now()}},
    }], cursor=None)
    store.set_meta("sync.device_id", str(uuid.uuid4()))
    store.set_meta("sync.organisation_id", org_id)
    store.set_meta("sync.role", "member")
    return org_id


def import_once(folder: Path, source: Path, enrolled: bool = False) -> dict[str, float]:
    store = Store.open(folder / f"import-{time.monotonic_ns()}.db", os.urandom(32))
    try:
        own = enrol(store) if enrolled else None
        organisation = choose_organisation(store, ORGANISATION, device_organisation=own, create=not enrolled)
        table, t_read = timed(lambda: read_table(source))
        plan, t_plan = timed(lambda: plan_import(store, table, organisation))
        assert not plan.refused, plan.refused[:3]
        _, t_write = timed(lambda: apply_import(store, plan))
        organisation = choose_organisation(store, ORGANISATION, device_organisation=own)
        again, t_again = timed(lambda: plan_import(store, read_table(source), organisation))
        assert not again.changes and not again.refused, (len(again.changes), again.refused[:3])
        if enrolled:
            return {"import (enrolled)": t_read + t_plan + t_write, "plan (enrolled)": t_plan,
                    "re-import (enrolled)": t_again}
        _, t_bulk = timed(lambda: bulk_create_only(folder, plan))
        steps = {
            "import": t_read + t_plan + t_write, "read": t_read, "plan": t_plan, "write": t_write,
            "re-import": t_again, "baseline: the same records through bulk_create alone": t_bulk,
        }
        if source.suffix == ".xlsx":
            steps["baseline: openpyxl read-only cell loop"] = timed(lambda: openpyxl_read(source))[1]
        steps["records"] = float(len(plan.changes))
        return steps
    finally:
        store.close()


def openpyxl_export(store, out: Path) -> None:
    """Baseline: the same rows through openpyxl's write-only mode."""
    from openpyxl import Workbook

    from desktop.io.export import _Directory, headers, sheet_names

    directory = _Directory.load(store, None, with_mandates=False)
    workbook = Workbook(write_only=True)
    for organisation, name in zip(directory.organisations, sheet_names(directory.organisations)):
        sheet = workbook.create_sheet(name)
        sheet.append(headers())
        for row in directory.rows(organisation):
            sheet.append(row)
    workbook.save(out)


def export_once(folder: Path, records: int) -> dict[str, float]:
    store = Store.open(folder / f"export-{time.monotonic_ns()}.db", os.urandom(32))
    try:
        org = store.create("organisations", {"name": "Exportstads kommun", "short_name": "Exp"})
        functions = records * 3 // 10
        with store.batch():
            ids = store.bulk_create("functions", [
                {"organisation_id": org, "name": f"Funktion {n}", "short_name": f"F{n}", "availability": "24/7",
                 "description": "Leder och samordnar arbetet i aktiverat läge.", "last_verified": "2026-03-01"}
                for n in range(functions)
            ])
            channels = [
                {"function_id": ids[n % functions], "kind": "mobile", "value": MOBILES[n % len(MOBILES)],
                 "label": "Jourmobil", "priority": n // functions + 1, "note": "Svarar inom 5 minuter."}
                for n in range(records - functions - 1)
            ]
            for start in range(0, len(channels), 10_000):
                store.bulk_create("channels", channels[start : start + 10_000])
        out = folder / "export.xlsx"
        _, t_export = timed(lambda: export_directory(store, "xlsx", out))
        _, t_openpyxl = timed(lambda: openpyxl_export(store, folder / "openpyxl.xlsx"))
        return {"export": t_export, "baseline: openpyxl write-only": t_openpyxl, "bytes": float(out.stat().st_size)}
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()
    rows = list_rows(args.rows)
    load_before = os.getloadavg()[0]
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sources = {"xlsx": folder / "lista.xlsx", "csv": folder / "lista.csv"}
        write_xlsx(sources["xlsx"], rows)
        write_csv(sources["csv"], rows)
        for _ in range(args.runs):
            for fmt, source in sources.items():
                for enrolled in (False, True):
                    for step, seconds in import_once(folder, source, enrolled).items():
                        results.setdefault(f"{fmt} {step}", []).append(seconds)
            if not args.skip_export:
                for step, value in export_once(folder, args.records).items():
                    results.setdefault(f"xlsx {step}", []).append(value)
    goals = {f"{fmt} {step}{variant}": goal for fmt in ("xlsx", "csv") for variant in ("", " (enrolled)")
             for step, goal in (("import", 2.0), ("re-import", 1.0))}
    goals["xlsx export"] = 10.0
    print(
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; {args.runs} runs, "
        f"{args.rows:,} rows, {args.records:,} records; {os.cpu_count()} cores"
    )
    print("| step | median | min | max | goal |")
    print("| --- | --- | --- | --- | --- |")
    for name, values in results.items():
        if name.endswith((" records", " bytes")) and "baseline" not in name:
            print(f"| {name} | {statistics.median(values):,.0f} | | | |")
            continue
        goal = goals.get(name)
        verdict = "" if goal is None else f"≤ {goal:g} s: {'met' if statistics.median(values) <= goal else 'NOT met'}"
        print(f"| {name} | {statistics.median(values):.2f} s | {min(values):.2f} s | {max(values):.2f} s | {verdict} |")


if __name__ == "__main__":
    main()
