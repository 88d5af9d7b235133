"""Importing into a real vault: preview, all or nothing, re-import without duplicates, only one's own organisation."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from desktop.io import (
    Cancelled,
    FileRefused,
    PlanOutdated,
    apply_import,
    choose_organisation,
    export_directory,
    plan_import,
    prepare_import,
    read_table,
)
from desktop.io.errors import OrganisationError, RowsRefused
from desktop.store.demo import demo_record_id
from desktop.syncer.engine import META_ORGANISATION_ID
from tests.io_helpers import (  # noqa: F401  (fixtures)
    SWEDISH_HEADER,
    demo_store,
    empty_store,
    organisation,
    read_csv,
    read_sheet,
    snapshot,
    write_csv,
    write_xlsx,
)

SOS = "SOS Alarm"
SOS_ID = demo_record_id("org-sos")
SOS_TIB = demo_record_id("fn-sos-tib")


def export_for(store, fmt: str, folder: Path, org_id: str) -> Path:
    out = folder / f"export.{fmt}"
    export_directory(store, fmt, out, organisation_ids=[org_id])
    return out


def plan_file(store, path: Path, org_name: str = SOS, **options):
    return prepare_import(store, path, organisation=organisation(store, org_name, **options))


def reasons(plan) -> list[tuple[int, str]]:
    return [(r.location.line, r.key) for r in plan.refused]


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_every_organisation_of_the_demo_region_round_trips_unchanged(demo_store, tmp_path, fmt):
    organisations = demo_store.list("organisations")
    assert len(organisations) == 21
    for record in organisations:
        path = export_for(demo_store, fmt, tmp_path, record["record_id"])
        plan = plan_file(demo_store, path, record["record_id"])
        name = record["fields"]["name"]
        assert plan.changes == [], (name, plan.changes[:3])
        assert plan.refused == [], (name, [r.reason() for r in plan.refused[:3]])
        assert plan.absent == {"functions": 0, "channels": 0}, name
        assert plan.unchanged_rows == plan.table.row_count > 0, name


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_editing_three_cells_of_a_review_sheet_changes_exactly_those(demo_store, tmp_path, fmt):
    path = export_for(demo_store, fmt, tmp_path, SOS_ID)
    rows = read_sheet(path) if fmt == "xlsx" else read_csv(path)
    header = rows[0]
    col = {name: header.index(name) for name in ("Funktion", "Beskrivning", "Kontaktväg", "Anteckning", "Kontaktvägs-ID")}
    tib_mobile = next(r for r in rows if r[col["Kontaktvägs-ID"]] == demo_record_id("ch-sos-tib-1"))
    tib_mailbox = next(r for r in rows if r[col["Kontaktvägs-ID"]] == demo_record_id("ch-sos-tib-3"))
    tib_mobile[col["Kontaktväg"]] = "070-174 06 98"  # a corrected number
    tib_mailbox[col["Anteckning"]] = "Bevakas dygnet runt – även helger"  # a corrected note
    for row in rows[1:]:  # the description is on every row of the function: corrected on each
        if row[col["Funktion"]] == "Tjänsteman i beredskap":
            row[col["Beskrivning"]] = "Nås via SOS Alarm; ansvarar för räddningstjänstens samordning."
    edited = (write_xlsx if fmt == "xlsx" else write_csv)(tmp_path / f"rättad.{fmt}", rows)
    before = snapshot(demo_store)
    plan = plan_file(demo_store, edited)
    assert not plan.refused
    changed = sorted((c.collection, c.record_id, tuple(sorted(c.fields))) for c in plan.changes)
    assert changed == sorted([
        ("channels", demo_record_id("ch-sos-tib-1"), ("value",)),
        ("channels", demo_record_id("ch-sos-tib-3"), ("note",)),
        ("functions", SOS_TIB, ("description",)),
    ])
    result = apply_import(demo_store, plan)
    assert result.updated == {"functions": 1, "channels": 2} and result.created == {}
    assert demo_store.get("channels", demo_record_id("ch-sos-tib-1"))["fields"]["value"] == "+46701740698"
    assert demo_store.get("channels", demo_record_id("ch-sos-tib-3"))["fields"]["note"] == "Bevakas dygnet runt – även helger"
    assert demo_store.get("functions", SOS_TIB)["fields"]["description"].startswith("Nås via SOS Alarm")
    after = snapshot(demo_store)
    assert after["outbox"][0] == before["outbox"][0] + 3  # three edits, each one change to sync
    assert plan_file(demo_store, edited).changes == []  # importing it again changes nothing


def test_a_sheet_without_id_columns_matches_by_function_name_and_value(demo_store, tmp_path):
    rows = [SWEDISH_HEADER, [SOS, "Tjänsteman i beredskap", "TiB", "Mobil", "0701740699", "Jourmobil TiB", 1, "Svarar inom 3 minuter."]]
    plan = plan_file(demo_store, write_xlsx(tmp_path / "lista.xlsx", rows))
    assert [(c.op, c.record_id, c.fields) for c in plan.changes] == [
        ("update", demo_record_id("ch-sos-tib-1"), {"note": "Svarar inom 3 minuter."}),
    ]
    assert plan.absent == {"functions": 4, "channels": 13}


def test_importing_a_list_twice_creates_once(empty_store, tmp_path):
    rows = [
        ["Funktion", "Telefon", "Mobil", "E-post", "Rakel", "Anteckning"],
        ["Räddningschef i beredskap", "08-465 004 10", "070-174 06 20", "rcb@södertörn.example", "ISSI 9990300", "Nås dygnet runt"],
        ["Stabschef", "", "070-174 06 21", "stab@södertörn.example", "", ""],
    ]
    path = write_xlsx(tmp_path / "lista.xlsx", rows)
    plan = plan_file(empty_store, path, "Södertörns brandförsvarsförbund", create=True)
    assert (plan.count("create", "organisations"), plan.count("create", "functions"), plan.count("create", "channels")) == (1, 2, 6)
    apply_import(empty_store, plan)
    functions = {f["fields"]["name"]: f for f in empty_store.list("functions")}
    chief = sorted(
        (c["fields"]["priority"], c["fields"]["kind"], c["fields"]["value"], c["fields"].get("note"))
        for c in empty_store.list("channels", function_id=functions["Räddningschef i beredskap"]["record_id"])
    )
    assert chief == [  # column order is priority order; the row's note is its first channel's
        (1, "phone", "+46846500410", "Nås dygnet runt"),
        (2, "mobile", "+46701740620", None),
        (3, "email", "rcb@södertörn.example", None),
        (4, "rakel", "ISSI 9990300", None),
    ]
    before = snapshot(empty_store)
    again = plan_file(empty_store, path, "Södertörns brandförsvarsförbund")
    assert again.changes == [] and again.refused == [] and again.unchanged_rows == 2
    assert snapshot(empty_store) == before


def test_swedish_letters_survive_every_format(empty_store, tmp_path):
    rows = [["Funktion", "Kortnamn", "Mobil", "Anteckning"], ["Räddningsöverledare, Åkersberga", "RÖL", "070-174 06 30", "Nås via ledningscentralen i Södertälje – dygnet runt"]]
    created = organisation(empty_store, "Brandkåren Attunda", create=True)
    for path in (
        write_csv(tmp_path / "cp1252.csv", rows, encoding="cp1252"),
        write_csv(tmp_path / "utf8.csv", rows, encoding="utf-8-sig"),
        write_xlsx(tmp_path / "bok.xlsx", rows),
    ):
        plan = prepare_import(empty_store, path, organisation=created)
        function = next(c for c in plan.changes if c.collection == "functions")
        assert function.fields["name"] == "Räddningsöverledare, Åkersberga" and function.fields["short_name"] == "RÖL"
        channel = next(c for c in plan.changes if c.collection == "channels")
        assert channel.fields["note"] == "Nås via ledningscentralen i Södertälje – dygnet runt"


# --- refused rows -------------------------------------------------------------------------------


def test_every_bad_cell_refuses_its_row_with_the_line_and_a_reason(demo_store, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Organisation", "Funktion", "Typ", "Kontaktväg", "Prioritet", "Senast verifierad", "Kontaktpunkt", "Anteckning", "Funktions-ID"])
    good = [SOS, "Ny funktion", "Mobil", "070-174 06 40", 1, "2026-03-01", "Nej", "", None]
    bad_rows = {
        3: [SOS, "Ny funktion 2", "Mobil", "123", 1, None, None, None, None],  # not a phone number
        4: [SOS, "Ny funktion 3", "Brevduva", "x", 1, None, None, None, None],  # not a kind
        5: [SOS, "Ny funktion 4", "E-post", "inte-en-adress", 1, None, None, None, None],
        6: [SOS, "Ny funktion 5", "Mobil", "070-174 06 41", "först", None, None, None, None],
        7: [SOS, "Ny funktion 6", "Mobil", "070-174 06 42", 1, "1 mars", None, None, None],
        8: [SOS, "Ny funktion 7", "Mobil", "070-174 06 43", 1, None, "kanske", None, None],
        9: [SOS, None, "Mobil", "070-174 06 44", 1, None, None, None, None],  # no function
        10: [SOS, "Ny funktion 8", "Mobil", "070-174 06 45", 1, None, None, "x" * 20_001, None],  # too long a note
        11: [SOS, "Ny funktion 9", "Mobil", "070-174 06 46", 1, None, None, "=1+1", None],  # a formula
        12: [SOS, "Ny funktion 10", "Mobil", "070-174 06 47", 1, None, None, None, "17"],  # not an ID
        13: [SOS, "Ny funktion 11", "Mobil", "070-174 06 48", 1, None, None, None, "6d1f6f2a-0000-4000-8000-000000000000"],
        14: [SOS, "Ny funktion 12", "Mobil", "070-174 06 49", 1, None, None, None, demo_record_id("fn-lst-tib")],
        15: ["Länsstyrelsen Stockholm", "TiB", "Mobil", "070-174 06 50", 1, None, None, None, None],
        16: [SOS, "Ny funktion 13", "Mobil", None, 1, None, None, None, None],  # a kind with no value
        17: [SOS, "Ny funktion 14", None, "ISSI 123", 1, None, None, None, None],  # a value of no known kind
    }
    sheet.append(good)
    for line in sorted(bad_rows):
        sheet.append(bad_rows[line])
    workbook.save(tmp_path / "lista.xlsx")
    plan = plan_file(demo_store, tmp_path / "lista.xlsx")
    assert reasons(plan) == [
        (3, "row.bad_phone"), (4, "row.bad_kind"), (5, "row.bad_email"), (6, "row.bad_number"),
        (7, "row.bad_date"), (8, "row.bad_yes_no"), (9, "row.no_function"), (10, "row.too_long"),
        (11, "row.formula"), (12, "row.bad_key"), (13, "row.function_key_unknown"),
        (14, "row.key_other_organisation"), (15, "row.other_organisation"), (16, "row.no_value"),
        (17, "row.no_kind"),
    ]
    texts = {line: r.reason() for line, r in zip(sorted(bad_rows), plan.refused)}
    assert "”123”" in texts[3] and "Kontaktväg" in texts[3]
    assert "20\u00a0001" in texts[10] and "20\u00a0000" in texts[10]
    assert "formel" in texts[11]
    assert "Länsstyrelsen Stockholm" in texts[14] and "SOS Alarm" in texts[14]
    with pytest.raises(RowsRefused):
        apply_import(demo_store, plan)
    assert plan.count("create", "functions") == 1  # the good row is still in the plan


def test_a_megabyte_cell_in_a_workbook_refuses_its_row(demo_store, tmp_path):
    from desktop.io.xlsx_writer import XlsxWriter

    path = tmp_path / "stor.xlsx"  # spreadsheet programs stop at 32,767 characters; a program need not
    with path.open("wb") as stream:
        book = XlsxWriter(stream)
        book.sheet("Kontakter", ["Funktion", "Mobil", "Anteckning"], rows=2)
        book.row(["Ny funktion", "070-174 06 40", "x" * 1_048_576])
        book.row(["Annan funktion", "070-174 06 41", "kort"])
        book.close()
    plan = plan_file(demo_store, path)
    assert reasons(plan) == [(2, "row.too_long")]
    assert "1\u00a0048\u00a0576" in plan.refused[0].reason()
    assert plan.count("create", "functions") == 1


def test_a_file_with_refused_rows_imports_nothing_unless_the_rest_is_chosen(demo_store, tmp_path):
    rows = [SWEDISH_HEADER, [SOS, "Ny funktion", "", "Mobil", "070-174 06 40", "", 1, ""], [SOS, "Trasig", "", "Mobil", "12", "", 1, ""]]
    path = write_csv(tmp_path / "lista.csv", rows)
    plan = plan_file(demo_store, path)
    before = snapshot(demo_store)
    with pytest.raises(RowsRefused) as caught:
        apply_import(demo_store, plan)
    assert "1" in str(caught.value) and "--import-valid-rows" in str(caught.value)
    assert snapshot(demo_store) == before
    result = apply_import(demo_store, plan, import_valid_rows=True)
    assert result.created == {"functions": 1, "channels": 1} and result.left_out == 1
    assert [f["fields"]["name"] for f in demo_store.list("functions", organisation_id=SOS_ID) if f["fields"]["name"] in ("Ny funktion", "Trasig")] == ["Ny funktion"]


def test_duplicate_rows_are_refused_naming_the_first(demo_store, tmp_path):
    row = [SOS, "Ny funktion", "", "Mobil", "070-174 06 40", "Jour", 1, ""]
    rows = [SWEDISH_HEADER, row, list(row), [SOS, "ny  funktion", "", "Mobil", "070-1740640", "Jour", 1, ""],
            [SOS, "Ny funktion", "", "Mobil", "070-174 06 40", "Jour", 2, ""]]
    plan = plan_file(demo_store, write_csv(tmp_path / "lista.csv", rows))
    assert reasons(plan) == [(3, "row.duplicate"), (4, "row.duplicate"), (5, "row.contradicts")]
    assert "rad 2" in plan.refused[0].reason()
    assert "Prioritet" in plan.refused[2].reason() and "”2”" in plan.refused[2].reason() and "”1”" in plan.refused[2].reason()


def test_rows_that_repeat_a_channel_of_a_function_add_the_rest(demo_store, tmp_path):
    # A wide list: the switchboard on every row of the function, one mobile per row.
    rows = [["Funktion", "Växel", "Mobil"], ["Ny stab", "08-465 004 00", "070-174 06 40"], ["Ny stab", "08-465 004 00", "070-174 06 41"]]
    plan = plan_file(demo_store, write_xlsx(tmp_path / "lista.xlsx", rows))
    assert plan.refused == []
    assert sorted(c.fields["value"] for c in plan.changes if c.collection == "channels") == ["070-174 06 40", "070-174 06 41", "08-465 004 00"]


def test_rows_of_one_function_must_agree_on_its_fields(demo_store, tmp_path):
    header = ["Funktion", "Kortnamn", "Mobil"]
    rows = [header, ["Ny stab", "STAB", "070-174 06 40"], ["Ny stab", "", "070-174 06 41"], ["Ny stab", "ST", "070-174 06 42"]]
    plan = plan_file(demo_store, write_xlsx(tmp_path / "lista.xlsx", rows))
    assert reasons(plan) == [(4, "row.contradicts")]
    function = next(c for c in plan.changes if c.collection == "functions")
    assert function.fields["short_name"] == "STAB"


def test_a_channel_id_of_another_function_or_an_emptied_channel_is_refused(demo_store, tmp_path):
    header = ["Funktion", "Typ", "Kontaktväg", "Kontaktvägs-ID"]
    rows = [
        header,
        ["Tjänsteman i beredskap", "Mobil", "070-174 06 99", demo_record_id("ch-sos-press-1")],
        ["Tjänsteman i beredskap", None, None, demo_record_id("ch-sos-tib-1")],
    ]
    plan = plan_file(demo_store, write_xlsx(tmp_path / "lista.xlsx", rows))
    assert reasons(plan) == [(2, "row.channel_key_elsewhere"), (3, "row.channel_emptied")]
    assert "Presstjänst" in plan.refused[0].reason()
    assert "tar aldrig bort" in plan.refused[1].reason()


def test_a_deleted_record_named_by_its_id_is_refused(demo_store, tmp_path):
    demo_store.delete("channels", demo_record_id("ch-sos-tib-3"))
    rows = [["Funktion", "Typ", "Kontaktväg", "Kontaktvägs-ID"], ["Tjänsteman i beredskap", "E-post", "tib@sosalarm.example", demo_record_id("ch-sos-tib-3")]]
    plan = plan_file(demo_store, write_xlsx(tmp_path / "lista.xlsx", rows))
    assert reasons(plan) == [(2, "row.key_deleted")]


def test_two_functions_of_one_name_need_the_id_column(demo_store, tmp_path):
    demo_store.create("functions", {"organisation_id": SOS_ID, "name": "Tjänsteman i beredskap"})
    rows = [["Funktion", "Mobil"], ["Tjänsteman i beredskap", "070-174 06 99"]]
    plan = plan_file(demo_store, write_xlsx(tmp_path / "lista.xlsx", rows))
    assert reasons(plan) == [(2, "row.ambiguous_function")]
    assert "Funktions-ID" in plan.refused[0].reason()


# --- whose list it is ------------------------------------------------------------------------------


def test_an_enrolled_device_imports_only_for_its_own_organisation(demo_store):
    demo_store.set_meta(META_ORGANISATION_ID, SOS_ID)
    own = choose_organisation(demo_store, None, device_organisation=SOS_ID)
    assert own.name == SOS and not own.create
    assert choose_organisation(demo_store, "sos alarm", device_organisation=SOS_ID) == own
    with pytest.raises(OrganisationError) as caught:
        choose_organisation(demo_store, "Länsstyrelsen Stockholm", device_organisation=SOS_ID)
    assert caught.value.key == "org.other_than_device" and "SOS Alarm" in str(caught.value)
    with pytest.raises(OrganisationError) as caught:
        choose_organisation(demo_store, "Ny kommun", device_organisation=SOS_ID, create=True)
    assert caught.value.key == "org.create_enrolled"
    with pytest.raises(OrganisationError) as caught:
        choose_organisation(demo_store, None, device_organisation=demo_record_id("org-saknas"))
    assert caught.value.key == "org.not_synced" and "sync" in str(caught.value)


def test_a_standalone_vault_needs_the_organisation_named(demo_store):
    with pytest.raises(OrganisationError) as caught:
        choose_organisation(demo_store, None, device_organisation=None)
    assert caught.value.key == "org.required" and "--org" in str(caught.value)
    with pytest.raises(OrganisationError) as caught:
        choose_organisation(demo_store, "Solan stad", device_organisation=None)
    assert caught.value.key == "org.not_found"
    assert choose_organisation(demo_store, "Sthlm", device_organisation=None).name == "Stockholms stad"
    assert choose_organisation(demo_store, "Region Stockholm", device_organisation=None).short_name == "RS"
    made = choose_organisation(demo_store, "Solan stad", device_organisation=None, create=True)
    assert made.create and made.name == "Solan stad"


def _enrolled_region(store):
    """A vault enrolled for Trafikverket, with SOS Alarm's function and channel as the server sent them."""
    from tests.test_permissions import ORG_A, ORG_B, enrol, pulled

    for org, name in ((ORG_A, "Trafikverket"), (ORG_B, "SOS Alarm")):
        pulled(store, "organisations", org, record_id=org, name=name)
    own = pulled(store, "functions", ORG_A, organisation_id=ORG_A, name="Trafikledare")
    other = pulled(store, "functions", ORG_B, organisation_id=ORG_B, name="TiB")
    other_channel = pulled(store, "channels", ORG_B, function_id=other, kind="email", value="tib@sos.example")
    enrol(store, ORG_A)
    return ORG_A, own, other, other_channel


def _rows_of_others(other: str, other_channel: str) -> list[list]:
    header = ["Organisation", "Funktion", "Typ", "Kontaktväg", "Funktions-ID", "Kontaktvägs-ID"]
    return [
        header,
        ["Trafikverket", "Ny trafikledning", "Mobil", "070-174 06 40", None, None],  # 2: own, new
        ["Trafikverket", "Trafikledare", "Mobil", "070-174 06 41", None, None],  # 3: own, a new channel
        ["SOS Alarm", "TiB", "Mobil", "070-174 06 42", None, None],  # 4: another's by its cell
        ["Trafikverket", "TiB", "Mobil", "070-174 06 43", other, None],  # 5: another's function by id
        ["Trafikverket", "Trafikledare", "E-post", "tib@sos.example", None, other_channel],  # 6: another's channel
        ["Okänd kommun", "Stab", "Mobil", "070-174 06 44", None, None],  # 7: no such organisation here
    ]


def test_an_enrolled_vault_refuses_rows_with_the_shared_rules_words(empty_store, tmp_path):
    """Each planned write is asked of desktop/permissions.py (the table the server enforces):
    a row of another organisation is refused in the rules' words, in the language of the moment
    it is shown; own rows are planned and imported."""
    from desktop.i18n import in_language

    org, own, other, other_channel = _enrolled_region(empty_store)
    path = write_csv(tmp_path / "lista.csv", _rows_of_others(other, other_channel))
    plan = prepare_import(empty_store, path, organisation=choose_organisation(empty_store, None, device_organisation=org))
    assert reasons(plan) == [(4, "row.not_allowed"), (5, "row.not_allowed"), (6, "row.not_allowed"),
                             (7, "row.other_organisation")]
    with in_language("sv"):
        assert {r.reason() for r in plan.refused[:3]} == {"Skrivskyddad: ägs av SOS Alarm."}
    with in_language("en"):
        assert {r.reason() for r in plan.refused[:3]} == {"Read-only: owned by SOS Alarm."}
    result = apply_import(empty_store, plan, import_valid_rows=True)
    assert result.created == {"functions": 1, "channels": 2} and result.left_out == 4
    assert empty_store.get("functions", other)["fields"]["name"] == "TiB"
    assert empty_store.get("channels", other_channel)["fields"]["value"] == "tib@sos.example"
    assert len(empty_store.list("channels", function_id=own)) == 1


def test_a_standalone_vault_keeps_to_the_organisation_named_with_org(empty_store, tmp_path):
    """Permissions allow everything in a vault not enrolled: the import itself keeps to --org."""
    from desktop.syncer.engine import META_DEVICE_ID

    _, _, other, other_channel = _enrolled_region(empty_store)
    empty_store.set_meta(META_DEVICE_ID, None)  # not enrolled after all
    path = write_csv(tmp_path / "lista.csv", _rows_of_others(other, other_channel))
    plan = prepare_import(empty_store, path, organisation=organisation(empty_store, "Trafikverket"))
    assert reasons(plan) == [(4, "row.other_organisation"), (5, "row.key_other_organisation"),
                             (6, "row.key_other_organisation"), (7, "row.other_organisation")]


# --- all or nothing ---------------------------------------------------------------------------------


def test_a_cancelled_import_leaves_the_vault_as_it_was(empty_store, tmp_path):
    rows = [["Funktion", "Mobil", "E-post"]] + [[f"Funktion {n}", "070-174 06 40", f"f{n}@x.example"] for n in range(3000)]
    path = write_csv(tmp_path / "lista.csv", rows)
    plan = plan_file(empty_store, path, "Täby kommun", create=True)
    before = snapshot(empty_store)
    cancel = threading.Event()
    seen = []

    def progress(phase, done, total):
        seen.append((phase, done, total))
        if phase == "write" and done >= 1000:
            cancel.set()  # what the dialog's Cancel button does, from the GUI thread

    with pytest.raises(Cancelled) as caught:
        apply_import(empty_store, plan, progress=progress, cancel=cancel)
    assert "Inget har ändrats" in str(caught.value)
    assert snapshot(empty_store) == before
    assert any(phase == "write" and 0 < done < len(plan.changes) for phase, done, _ in seen)
    with pytest.raises(Cancelled):
        prepare_import(empty_store, path, organisation=plan.organisation, cancel=cancel)


def test_progress_is_reported_for_reading_planning_and_writing(empty_store, tmp_path):
    rows = [["Funktion", "Mobil"]] + [[f"Funktion {n}", "070-174 06 40"] for n in range(2500)]
    seen: set[str] = set()
    plan = prepare_import(
        empty_store, write_csv(tmp_path / "lista.csv", rows),
        organisation=organisation(empty_store, "Täby kommun", create=True),
        progress=lambda phase, done, total: seen.add(phase),
    )
    apply_import(empty_store, plan, progress=lambda phase, done, total: seen.add(phase))
    assert seen == {"read", "plan", "write"}


def test_a_preview_made_before_the_vault_changed_is_not_applied(demo_store, tmp_path):
    rows = [["Funktion", "Kortnamn", "Mobil"], ["Tjänsteman i beredskap", "TIB", "070-174 06 99"]]
    plan = plan_file(demo_store, write_xlsx(tmp_path / "lista.xlsx", rows))
    assert [c.fields for c in plan.changes] == [{"short_name": "TIB"}]
    demo_store.update("functions", SOS_TIB, {"short_name": "T-I-B"})  # e.g. a sync in between
    before = snapshot(demo_store)
    with pytest.raises(PlanOutdated):
        apply_import(demo_store, plan)
    assert snapshot(demo_store) == before


def test_a_change_elsewhere_in_the_vault_does_not_stop_a_preview(demo_store, tmp_path):
    rows = [["Funktion", "Kortnamn", "Mobil"], ["Tjänsteman i beredskap", "TIB", "070-174 06 99"], ["Ny funktion", "", "070-174 06 40"]]
    plan = plan_file(demo_store, write_xlsx(tmp_path / "lista.xlsx", rows))
    demo_store.update("functions", demo_record_id("fn-lst-tib"), {"short_name": "TiB Lst"})
    result = apply_import(demo_store, plan)
    assert result.updated == {"functions": 1} and result.created == {"functions": 1, "channels": 1}
    created = next(c for c in plan.changes if c.op == "create" and c.collection == "functions")
    assert demo_store.get("functions", created.record_id)["fields"]["name"] == "Ny funktion"


def test_a_header_only_file_is_refused_before_planning(demo_store, tmp_path):
    with pytest.raises(FileRefused):
        read_table(write_csv(tmp_path / "lista.csv", [SWEDISH_HEADER]))


def test_a_plan_made_again_with_its_seed_is_the_same(demo_store, tmp_path):
    rows = [["Funktion", "Mobil"], ["Ny funktion", "070-174 06 40"]]
    plan = plan_file(demo_store, write_xlsx(tmp_path / "lista.xlsx", rows))
    again = plan_import(demo_store, plan.table, plan.organisation, seed=plan.seed)
    assert again.same_as(plan) and [c.record_id for c in again.changes] == [c.record_id for c in plan.changes]
    other = plan_import(demo_store, plan.table, plan.organisation)
    assert not other.same_as(plan)  # new records get other ids under another seed


def test_the_preview_in_words_lists_counts_refusals_as_ranges_and_changes(demo_store, tmp_path):
    from desktop.i18n import in_language
    from desktop.io.preview import preview_lines

    rows = [SWEDISH_HEADER, [SOS, "Tjänsteman i beredskap", "TiB", "Mobil", "070-174 06 99", "Jourmobil TiB", 1, "Ny not"]]
    rows += [["Trafikverket", "TiB", "", "Mobil", "070-174 06 44", "", 1, ""]] * 3
    plan = plan_file(demo_store, write_csv(tmp_path / "lista.csv", rows))
    with in_language("en"):
        lines = preview_lines(plan, changes_shown=10)
    assert lines[0].endswith("(CSV, separated by semicolons, Windows-1252)")
    assert "Organisation: SOS Alarm" in lines
    assert "To update: 0 functions, 1 channel." in lines
    assert "Refused: 3 rows." in lines
    assert "  lines 3–5: The row belongs to “Trafikverket”; this import writes only for SOS Alarm." in lines
    assert "  ~ Channel 070-174 06 99 (Mobile) of “Tjänsteman i beredskap”: Note: Svarar inom 5 minuter. → Ny not" in lines
