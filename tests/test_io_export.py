"""Exporting the directory: XLSX for review rounds, CSV, vCard 4.0 — and no exported text ever runs as a formula."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
import vobject
from openpyxl import load_workbook

from desktop.io import Cancelled, IoError, export_directory, prepare_import
from desktop.io.export import sheet_names
from desktop.store.demo import demo_record_id
from tests.io_helpers import demo_store, empty_store, organisation, read_csv, read_sheet  # noqa: F401

HEADER_SV = [
    "Organisation", "Funktion", "Kortnamn", "Beskrivning", "Nåbarhet", "Kontaktpunkt (ISK)", "Senast verifierad",
    "Typ", "Kontaktväg", "Benämning", "Prioritet", "Fungerar vid avbrott", "Anteckning", "Funktions-ID", "Kontaktvägs-ID",
]
DANGEROUS = ["=HYPERLINK(\"http://x.example\",\"klicka\")", "+46 70 174 06 05 (växel)", "-1+1", "@SUM(1)", "'=redan skyddad"]


def test_xlsx_has_one_sheet_per_organisation_with_every_function_and_channel(demo_store, tmp_path):
    result = export_directory(demo_store, "xlsx", tmp_path / "katalog.xlsx")
    assert (result.organisations, result.functions, result.channels) == (21, 90, 249)
    workbook = load_workbook(tmp_path / "katalog.xlsx")  # the full reader: a file any program opens
    assert len(workbook.sheetnames) == 21
    assert "SOS Alarm" in workbook.sheetnames and "Länsstyrelsen Stockholm" in workbook.sheetnames
    sheet = workbook["SOS Alarm"]
    assert [c.value for c in sheet[1]] == HEADER_SV
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:O15"
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 14  # SOS Alarm's 14 channels, each on its row
    tib = next(r for r in rows if r[14] == demo_record_id("ch-sos-tib-1"))
    assert tib[:2] == ["SOS Alarm", "Tjänsteman i beredskap"]
    assert tib[7:12] == ["Mobil", "070-174 06 99", "Jourmobil TiB", 1, "Nej"]
    assert tib[13] == demo_record_id("fn-sos-tib")
    assert isinstance(tib[6], datetime)  # the last-verified date is a date cell, sortable
    total = sum(sheet.max_row - 1 for sheet in workbook.worksheets)
    channelless = sum(1 for f in demo_store.list("functions") if not demo_store.list("channels", function_id=f["record_id"]))
    assert total == 249 + channelless


def test_sheet_names_are_valid_and_unique():
    organisations = [
        {"fields": {"name": "Region Stockholm (f.d. Stockholms läns landsting)", "short_name": "RS"}},
        {"fields": {"name": "A/B: [test]?"}},
        {"fields": {"name": "a/b: [test]?"}},
        {"fields": {"name": "X" * 40}},
    ]
    names = sheet_names(organisations)
    assert names == ["RS", "A_B_ _test__", "a_b_ _test__ (2)", "X" * 31]


def test_no_exported_text_is_a_formula_in_xlsx(empty_store, tmp_path):
    org = empty_store.create("organisations", {"name": "=Formelstad"})
    fid = empty_store.create("functions", {"organisation_id": org, "name": DANGEROUS[0], "short_name": "#N/A"})
    for priority, text in enumerate(DANGEROUS, start=1):
        empty_store.create("channels", {"function_id": fid, "kind": "other", "value": f"v{priority}", "note": text, "priority": priority})
    export_directory(empty_store, "xlsx", tmp_path / "farlig.xlsx")
    sheet = load_workbook(tmp_path / "farlig.xlsx")["=Formelstad"]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value is not None]
    assert not [c for c in cells if c.data_type == "f"]
    notes = {c.value: c for c in cells if c.column == 13}
    assert sorted(notes) == sorted(DANGEROUS)
    for text in DANGEROUS[:4]:
        assert notes[text].data_type == "s" and notes[text].quotePrefix  # stays text when edited, too
    name = next(c for c in cells if c.column == 2)
    assert name.value == DANGEROUS[0] and name.data_type == "s"
    short = next(c for c in cells if c.column == 3)
    assert short.value == "#N/A" and short.data_type == "s"  # a text, not Excel's error value
    priorities = [c for c in cells if c.column == 11]
    assert [c.value for c in priorities] == [1, 2, 3, 4, 5] and {c.data_type for c in priorities} == {"n"}
    # and the review sheet imports back unchanged
    plan = prepare_import(empty_store, tmp_path / "farlig.xlsx", organisation=organisation(empty_store, "=Formelstad"))
    assert plan.changes == [] and plan.refused == []


def test_no_exported_text_is_a_formula_in_csv_and_it_imports_back(empty_store, tmp_path):
    org = empty_store.create("organisations", {"name": "Formelstad"})
    fid = empty_store.create("functions", {"organisation_id": org, "name": "=1+1", "short_name": "@x"})
    for priority, text in enumerate(DANGEROUS, start=1):
        empty_store.create("channels", {"function_id": fid, "kind": "other", "value": f"v{priority}", "note": text, "priority": priority})
    empty_store.create("channels", {"function_id": fid, "kind": "other", "value": "tab", "note": "\tindragen", "priority": 6})
    export_directory(empty_store, "csv", tmp_path / "farlig.csv")
    raw = (tmp_path / "farlig.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfOrganisation;Funktion;")  # UTF-8 with BOM, semicolons
    rows = read_csv(tmp_path / "farlig.csv")
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]  # OWASP: none starts a formula
    notes = [row[12] for row in rows[1:]]
    assert notes[:5] == ["'" + DANGEROUS[0], "'" + DANGEROUS[1], "'-1+1", "'@SUM(1)", "''=redan skyddad"]
    assert rows[1][1] == "'=1+1" and rows[1][2] == "'@x"
    assert [row[10] for row in rows[1:]] == ["1", "2", "3", "4", "5", "6"]  # numbers stay numbers
    plan = prepare_import(empty_store, tmp_path / "farlig.csv", organisation=organisation(empty_store, "Formelstad"))
    assert plan.changes == [] and plan.refused == []


def test_vcards_parse_back_one_per_function_with_phone_types_mail_and_mandates(demo_store, tmp_path):
    export_directory(demo_store, "vcf", tmp_path / "katalog.vcf")
    text = (tmp_path / "katalog.vcf").read_text(encoding="utf-8")
    cards = list(vobject.readComponents(text))
    assert len(cards) == 90
    assert {c.version.value for c in cards} == {"4.0"}
    by_uid = {c.uid.value: c for c in cards}
    tib = by_uid[f"urn:uuid:{demo_record_id('fn-sos-tib')}"]
    assert tib.fn.value == "Tjänsteman i beredskap, SOS Alarm"
    assert tib.org.value == ["SOS Alarm"] and tib.title.value == "Tjänsteman i beredskap"
    mobile = tib.tel
    assert mobile.value == "tel:+46701740699"
    assert mobile.params["TYPE"] == ["work", "cell", "voice"] and mobile.params["PREF"] == ["1"]
    assert tib.email.value == "tib@sosalarm.example"
    assert "ISSI 9990199 (fiktiv)" in tib.note.value  # Rakel is not dialable: it is in the note
    vb = by_uid[f"urn:uuid:{demo_record_id('fn-sos-vb')}"]
    mandate = demo_store.get("mandates", demo_record_id("m-samverkanskonferens-sos-vb"))["fields"]["mandate"]
    assert "Mandat:" in vb.note.value and mandate in vb.note.value
    assert "Samverkanskonferens" in vb.note.value
    assert len(vb.contents["tel"]) == 2
    lst = by_uid[f"urn:uuid:{demo_record_id('fn-lst-tib')}"]
    assert lst.fn.value == "Tjänsteman i beredskap, Länsstyrelsen Stockholm"  # Swedish letters intact
    assert any(t.params["TYPE"] == ["work", "voice"] for t in lst.contents["tel"])  # the satellite phone


def test_an_export_can_be_limited_to_organisations(demo_store, tmp_path):
    result = export_directory(demo_store, "csv", tmp_path / "sos.csv", organisation_ids=[demo_record_id("org-sos")])
    assert (result.organisations, result.functions, result.channels) == (1, 5, 14)
    assert {row[0] for row in read_csv(tmp_path / "sos.csv")[1:]} == {"SOS Alarm"}


def test_an_empty_vault_exports_a_header_only_workbook(empty_store, tmp_path):
    export_directory(empty_store, "xlsx", tmp_path / "tom.xlsx")
    assert read_sheet(tmp_path / "tom.xlsx") == [HEADER_SV]


def test_a_cancelled_or_failed_export_leaves_no_file(demo_store, tmp_path):
    folder = tmp_path / "ut"
    folder.mkdir()
    for fmt in ("xlsx", "csv", "vcf"):
        cancel = threading.Event()
        seen = []

        def progress(phase, done, total, cancel=cancel):
            seen.append(phase)
            if len(seen) == 3:
                cancel.set()  # the dialog's Cancel button, a few organisations in

        with pytest.raises(Cancelled) as caught:
            export_directory(demo_store, fmt, folder / f"katalog.{fmt}", progress=progress, cancel=cancel)
        assert caught.value.key == "export.cancelled" and seen[0] == "export"
        assert list(folder.iterdir()) == []
    with pytest.raises(IoError) as caught:
        export_directory(demo_store, "csv", folder / "saknas" / "katalog.csv")
    assert caught.value.key == "export.unwritable" and "saknas" in str(caught.value)
    assert list(folder.iterdir()) == []


def test_an_export_replaces_a_file_whole_and_only_its_owner_may_read_it(demo_store, tmp_path):
    folder = tmp_path / "ut"
    folder.mkdir()
    target = folder / "katalog.csv"
    target.write_text("gammalt innehåll", encoding="utf-8")
    export_directory(demo_store, "csv", target)
    assert target.read_bytes().startswith(b"\xef\xbb\xbfOrganisation")
    assert target.stat().st_mode & 0o077 == 0
    assert [p.name for p in folder.iterdir()] == ["katalog.csv"]
