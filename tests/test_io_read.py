"""Reading contact lists: formats, encodings, separators, headers, the mapping file, and every bad file refused whole."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from desktop.i18n import in_language
from desktop.io import ColumnMapping, FileRefused, load_mapping, read_table, save_mapping
from desktop.io.columns import ALL_COLUMNS, KIND_WORDS, _translations, fold, header_vocabulary
from desktop.io.errors import MappingError
from desktop.io.read import MAX_ROWS
from tests.io_helpers import SWEDISH_HEADER, csv_bytes, write_csv, write_xlsx

ROWS = [
    SWEDISH_HEADER,
    ["Solna stad", "Räddningschef i beredskap", "RCB", "Mobil", "070-174 06 20", "Jourmobil", 1, "Svarar dygnet runt"],
    ["Solna stad", "Räddningschef i beredskap", "RCB", "Rakel", "ISSI 9990120 (fiktiv)", "Rakel", 2, "Fungerar vid strömavbrott"],
]


def refused(path: Path, mapping: ColumnMapping | None = None) -> FileRefused:
    with pytest.raises(FileRefused) as caught:
        read_table(path, mapping)
    assert caught.value.text("en") and caught.value.text("sv")  # a message in both languages, never a crash
    return caught.value


def values(table) -> list[tuple]:
    return [row.cells for sheet in table.sheets for row in sheet.rows]


# --- CSV as spreadsheet programs write it ---------------------------------------------------


def test_csv_as_swedish_excel_saves_it_is_read_and_named(tmp_path):
    table = read_table(write_csv(tmp_path / "lista.csv", ROWS))  # Windows-1252, semicolons
    assert (table.format, table.encoding, table.delimiter) == ("csv", "cp1252", ";")
    with in_language("en"):
        assert table.describe() == "CSV, separated by semicolons, Windows-1252"
    with in_language("sv"):
        assert "semikolon" in table.describe() and "Windows-1252" in table.describe()
    assert values(table)[0][1] == "Räddningschef i beredskap"
    assert [row.location.line for row in table.sheets[0].rows] == [2, 3]


@pytest.mark.parametrize(
    ("encoding", "delimiter", "expected"),
    [
        ("utf-8-sig", ";", "utf-8-sig"),  # Excel's "CSV UTF-8"
        ("utf-8", ",", "utf-8"),
        ("utf-16", "\t", "utf-16"),  # Excel's "Unicode text"
        ("cp1252", ",", "cp1252"),
    ],
)
def test_encodings_and_separators_are_detected(tmp_path, encoding, delimiter, expected):
    table = read_table(write_csv(tmp_path / "lista.csv", ROWS, encoding=encoding, delimiter=delimiter))
    assert (table.encoding, table.delimiter) == (expected, delimiter)
    assert values(table)[1][4] == "ISSI 9990120 (fiktiv)"
    assert values(table)[0][1] == "Räddningschef i beredskap"


def test_excels_separator_hint_line_is_honoured(tmp_path):
    path = tmp_path / "lista.csv"
    path.write_bytes(b"sep=,\r\n" + csv_bytes(ROWS, delimiter=","))
    table = read_table(path)
    assert table.delimiter == ","
    assert [row.location.line for row in table.sheets[0].rows] == [3, 4]


def test_commas_inside_semicolon_separated_text_do_not_fool_detection(tmp_path):
    rows = [SWEDISH_HEADER] + [
        ["Solna stad", f"Stabschef, central krisledning {n}", "", "Mobil", "070-174 06 21", "Mobil, jour", 1, "Nås, alltid"]
        for n in range(5)
    ]
    assert read_table(write_csv(tmp_path / "lista.csv", rows)).delimiter == ";"


def test_quoted_cells_with_line_breaks_keep_the_line_number_of_their_row(tmp_path):
    rows = [SWEDISH_HEADER, ["Solna stad", "TiB", "", "Mobil", "070-174 06 20", "", 1, "rad ett\nrad två"], ROWS[1]]
    table = read_table(write_csv(tmp_path / "lista.csv", rows))
    assert [row.location.line for row in table.sheets[0].rows] == [2, 4]
    assert values(table)[0][7] == "rad ett\nrad två"


# --- headers ---------------------------------------------------------------------------------


def test_the_header_is_found_below_a_title_and_odd_spellings_are_known(tmp_path):
    rows = [
        ["Kontaktlista Solna stad, mars 2026"],
        [],
        ["FUNKTION:", "Mobil [jour]", "E-POST", "Rakel (ISSI)", "Tfn", "Intern kod"],
        ["TiB", "070-174 06 20", "tib@solna.example", "ISSI 9990120", "08-465 004 20", "X-17"],
    ]
    table = read_table(write_xlsx(tmp_path / "lista.xlsx", rows))
    sheet = table.sheets[0]
    assert sheet.header_line == 3
    assert [c for _, c in sheet.columns] == ["function", "mobile", "email", "rakel", "phone"]
    assert table.ignored_headers == ["Intern kod"]
    with in_language("en"):
        notes = table.notice_texts()
    assert any("1 rows above the header" in n for n in notes)
    assert any("Intern kod" in n for n in notes)


def test_a_file_without_a_known_header_is_refused_naming_the_column_it_needs(tmp_path):
    rows = [["Namn", "Nummer?"]] + [["x", "y"]] * 30
    error = refused(write_xlsx(tmp_path / "lista.xlsx", rows))
    assert error.key == "table.no_header"
    assert "Funktion" in error.text("sv") and "Function" in error.text("en")


def test_two_columns_that_mean_the_same_are_refused(tmp_path):
    rows = [["Funktion", "Benämning", "Etikett"], ["TiB", "a", "b"]]
    error = refused(write_xlsx(tmp_path / "lista.xlsx", rows))
    assert error.key == "table.duplicate_column"
    assert "Benämning" in error.text("sv") and "Etikett" in error.text("sv")


def test_every_recognised_header_means_one_column_only():
    meanings: dict[str, set[str]] = {}
    for spec in ALL_COLUMNS:
        for word in (spec.id, *_translations(spec.header), *spec.synonyms):
            meanings.setdefault(fold(word), set()).add(spec.id)
    clashes = {word: ids for word, ids in meanings.items() if len(ids) > 1 and word != fold("other")}
    assert not clashes
    assert header_vocabulary()["epost"] == "email" and header_vocabulary()["telefon"] == "phone"
    assert all(KIND_WORDS[kind] for kind in KIND_WORDS)


# --- the mapping file ------------------------------------------------------------------------


def test_a_mapping_file_names_columns_ignores_others_and_adds_kind_words(tmp_path):
    mapping_file = tmp_path / "solna.toml"
    mapping_file.write_text(
        '[columns]\n"Vem" = "function"\n"Nr" = "value"\n"Slag" = "kind"\n"E-post" = "ignore"\n\n'
        '[kinds]\n"Jourtelefon" = "mobile"\n\n[read]\nheader_row = 2\n',
        encoding="utf-8",
    )
    mapping = load_mapping(mapping_file)
    rows = [["Vem", "Nr", "Slag", "E-post"], ["Vem", "Nr", "Slag", "E-post"], ["TiB", "070-174 06 20", "Jourtelefon", "x@y.example"]]
    table = read_table(write_xlsx(tmp_path / "lista.xlsx", rows), mapping)
    assert [c for _, c in table.sheets[0].columns] == ["function", "value", "kind"]
    assert table.sheets[0].header_line == 2
    assert mapping.kind_for("jourtelefon") == "mobile"
    save_mapping(tmp_path / "again.toml", mapping)
    assert load_mapping(tmp_path / "again.toml") == mapping


@pytest.mark.parametrize(
    ("text", "key", "named"),
    [
        ('[columns]\n"Vem" = "funktionen"\n', "mapping.unknown_column", "funktionen"),
        ('[kinds]\n"Jour" = "pager"\n', "mapping.unknown_kind", "pager"),
        ('[colums]\n"Vem" = "function"\n', "mapping.unknown_key", "colums"),
        ('[read]\nheader_row = 0\n', "mapping.bad_value", "read.header_row"),
        ('[read]\nencoding = "klingon"\n', "mapping.unknown_encoding", "klingon"),
        ('[columns]\n"Vem" = \n', "mapping.syntax", "2"),
    ],
)
def test_a_wrong_mapping_file_is_named_with_what_is_wrong(tmp_path, text, key, named):
    path = tmp_path / "fel.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert caught.value.key == key
    assert named in caught.value.text("sv") and str(path) in caught.value.text("sv")


def test_a_missing_mapping_file_is_named(tmp_path):
    with pytest.raises(MappingError) as caught:
        load_mapping(tmp_path / "saknas.toml")
    assert caught.value.key == "mapping.missing" and "saknas.toml" in caught.value.text("sv")


# --- cells ----------------------------------------------------------------------------------


def test_workbook_cells_keep_their_types_and_formulas_and_errors_are_marked(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Funktion", "Prioritet", "Senast verifierad", "Anteckning", "Kontaktväg"])
    sheet.append(["TiB", 2, datetime(2026, 3, 1), "=1+1", "070-174 06 20"])
    sheet.append(["KiB", 1.0, None, "ok", "#N/A"])
    sheet["E3"].data_type = "e"
    text_cell = sheet.cell(row=4, column=1, value="=inte en formel")
    text_cell.data_type = "s"  # text that merely begins with "=": a text cell, not a formula
    sheet.cell(row=4, column=2, value=3)
    workbook.save(tmp_path / "celler.xlsx")
    rows = read_table(tmp_path / "celler.xlsx").sheets[0].rows
    assert rows[0].cells[:3] == ("TiB", 2, datetime(2026, 3, 1))
    assert rows[0].formulas == {3} and not rows[0].errors
    assert rows[1].errors == {4} and rows[1].cells[1] == 1
    assert rows[2].cells[0] == "=inte en formel" and not rows[2].formulas


def test_csv_cells_that_begin_with_equals_are_formulas_unless_escaped(tmp_path):
    rows = [["Funktion", "Anteckning"], ["TiB", "=HYPERLINK(\"http://x\")"], ["KiB", "'=inte formel"], ["RCB", "'+46 8 123"]]
    table = read_table(write_csv(tmp_path / "lista.csv", rows))
    first, second, third = table.sheets[0].rows
    assert first.formulas == {1}
    assert second.cells[1] == "=inte formel" and not second.formulas
    assert third.cells[1] == "+46 8 123"


# --- bad files, each refused whole with a message ----------------------------------------------


def test_a_missing_empty_or_folder_path_is_named(tmp_path):
    assert refused(tmp_path / "saknas.csv").key == "file.missing"
    (tmp_path / "tom.csv").write_bytes(b"")
    assert refused(tmp_path / "tom.csv").key == "file.empty"
    assert refused(tmp_path).key == "file.not_a_file"


def test_a_damaged_workbook_is_refused(tmp_path):
    whole = write_xlsx(tmp_path / "hel.xlsx", ROWS).read_bytes()
    cut = tmp_path / "trasig.xlsx"
    cut.write_bytes(whole[: len(whole) // 2])
    error = refused(cut)
    assert error.key == "xlsx.corrupt" and "trasig.xlsx" in error.text("sv")
    broken = tmp_path / "fel-xml.xlsx"
    with zipfile.ZipFile(io.BytesIO(whole)) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, b"<worksheet><sheetData><row>" if item.filename.endswith("sheet1.xml") else data)
    assert refused(broken).key == "xlsx.corrupt"


def test_a_password_protected_workbook_is_refused_saying_so(tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = write_xlsx(tmp_path / "oppen.xlsx", ROWS)
    locked = tmp_path / "last.xlsx"
    with plain.open("rb") as source, locked.open("wb") as target:
        OOXMLFile(source).encrypt("hemligt", target)
    error = refused(locked)
    assert error.key == "xlsx.encrypted"
    assert "lösenord" in error.text("sv") and "password" in error.text("en")


def test_an_old_excel_file_and_other_zip_archives_are_named(tmp_path):
    legacy = tmp_path / "gammal.xls"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"Workbook".ljust(64, b"\0"))
    assert refused(legacy).key == "xlsx.legacy"
    document = tmp_path / "brev.docx"
    with zipfile.ZipFile(document, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert refused(document).key == "xlsx.other_zip"


def test_a_worksheet_with_an_entity_declaration_is_refused(tmp_path):
    whole = write_xlsx(tmp_path / "hel.xlsx", ROWS).read_bytes()
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(io.BytesIO(whole)) as source, zipfile.ZipFile(bomb, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith("sheet1.xml"):
                data = data.replace(b"<worksheet", b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">]><worksheet', 1)
            target.writestr(item, data)
    assert refused(bomb).key == "xlsx.corrupt"


@pytest.mark.parametrize(
    ("name", "data", "key"),
    [
        ("mac.csv", "Funktion;Anteckning\r\nRäddningschef;Svarar dygnet runt i Södertörn\r\n".encode("mac_roman"), "csv.encoding"),
        ("dos.csv", "Funktion;Anteckning\r\nRäddningschef;Svarar dygnet runt i Södertörn\r\n".encode("cp850"), "csv.encoding"),
        ("utf16.csv", "Funktion;Anteckning\r\nTiB;x\r\n".encode("utf-16-le"), "csv.binary"),
        ("bild.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "csv.binary"),
        ("odef.csv", b"Funktion;Anteckning\r\nTiB;\x81\x8d\r\n", "csv.encoding"),
    ],
)
def test_a_csv_in_an_unexpected_encoding_is_refused(tmp_path, name, data, key):
    path = tmp_path / name
    path.write_bytes(data)
    error = refused(path)
    assert error.key == key
    assert "CSV UTF-8" in error.text("sv")


def test_a_named_encoding_that_does_not_fit_is_named(tmp_path):
    path = write_csv(tmp_path / "lista.csv", ROWS)  # Windows-1252
    error = refused(path, ColumnMapping(encoding="utf-8"))
    assert error.key == "csv.encoding_given" and "utf-8" in error.text("sv")


def test_a_million_row_csv_is_refused_after_reading_the_limit_only(tmp_path):
    path = tmp_path / "miljon.csv"
    line = "Solna stad;TiB {n};Mobil;070-174 06 20\r\n"
    with path.open("w", encoding="cp1252", newline="") as handle:
        handle.write("Organisation;Funktion;Typ;Kontaktväg\r\n")
        for start in range(0, 1_000_000, 100_000):
            handle.write("".join(line.format(n=n) for n in range(start, start + 100_000)))
    started = time.perf_counter()
    error = refused(path)
    assert error.key == "table.too_many_rows"
    assert f"{MAX_ROWS:,}" in error.text("en")
    assert time.perf_counter() - started < 60  # it stopped at the limit; the whole file takes far longer


def test_a_million_row_workbook_is_refused(tmp_path):
    path = tmp_path / "miljon.xlsx"
    template = write_xlsx(tmp_path / "mall.xlsx", [["Funktion", "Mobil"]])
    row = '<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>TiB {n}</t></is></c><c r="B{n}" t="inlineStr"><is><t>070-174 06 20</t></is></c></row>'
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for item in source.infolist():
            if not item.filename.endswith("sheet1.xml"):
                target.writestr(item, source.read(item))
        with target.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(  # as a spreadsheet program writes it: the size first
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b'<dimension ref="A1:B1000001"/><sheetData>'
            )
            sheet.write(b'<row r="1"><c r="A1" t="inlineStr"><is><t>Funktion</t></is></c><c r="B1" t="inlineStr"><is><t>Mobil</t></is></c></row>')
            for start in range(2, 1_000_002, 50_000):
                sheet.write("".join(row.format(n=n) for n in range(start, start + 50_000)).encode())
            sheet.write(b"</sheetData></worksheet>")
    assert refused(path).key == "table.too_many_rows"


def test_a_csv_cell_of_a_megabyte_is_refused_whole(tmp_path):
    path = tmp_path / "stor.csv"
    path.write_bytes(csv_bytes([["Funktion", "Anteckning"], ["TiB", "x" * 1_048_576]]))
    error = refused(path)
    assert error.key == "csv.field_too_long" and "2" in error.text("sv")


def test_empty_sheets_are_noted_and_a_workbook_of_only_empty_sheets_refused(tmp_path):
    table = read_table(write_xlsx(tmp_path / "lista.xlsx", ROWS, more={"Tom": [], "Bara rubrik": [SWEDISH_HEADER]}))
    with in_language("en"):
        notes = table.notice_texts()
    assert "The sheet “Tom” is empty; skipped." in notes
    assert "The sheet “Bara rubrik” is empty; skipped." in notes
    assert table.row_count == 2
    assert refused(write_xlsx(tmp_path / "tom.xlsx", [], more={"Också tom": []})).key == "table.empty"
    assert refused(write_xlsx(tmp_path / "rubrik.xlsx", [SWEDISH_HEADER])).key == "table.empty"


def test_a_hidden_sheet_is_skipped_and_a_named_sheet_read_alone(tmp_path):
    from openpyxl import load_workbook

    path = write_xlsx(tmp_path / "lista.xlsx", ROWS, more={"Dold": ROWS, "Annan": ROWS})
    workbook = load_workbook(path)
    workbook["Dold"].sheet_state = "hidden"
    workbook.save(path)
    table = read_table(path)
    assert [s.name for s in table.sheets] == ["Kontakter", "Annan"]
    assert [s.name for s in read_table(path, ColumnMapping(sheet="Dold")).sheets] == ["Dold"]
    error = refused(path, ColumnMapping(sheet="Finns ej"))
    assert error.key == "xlsx.no_such_sheet" and "Annan" in error.text("sv")


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch):
    from desktop.io import read as read_module

    monkeypatch.setattr(read_module, "MAX_FILE_MB", 0)
    assert refused(write_csv(tmp_path / "lista.csv", ROWS)).key == "file.too_large"
