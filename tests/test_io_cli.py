"""`samverka import` and `samverka export` end to end: the real program in a subprocess, a real vault."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.io_helpers import SWEDISH_HEADER, read_sheet, write_csv, write_xlsx
from tests.test_cli import PASSPHRASE, assert_clean_failure, demo_vault, folder_snapshot, run  # noqa: F401 (fixture)


@pytest.fixture
def vault(demo_vault, tmp_path) -> Path:
    """A copy of the demo vault for a test that changes it."""
    copy = tmp_path / "data"
    shutil.copytree(demo_vault, copy)
    return copy


def test_a_review_round_export_edit_dry_run_import_and_again(vault, tmp_path):
    sheet = tmp_path / "sos.xlsx"
    exported = run(vault, "export", "--format", "xlsx", "--org", "SOS Alarm", "--out", str(sheet), "--yes")
    assert exported.returncode == 0, exported.stderr
    assert "okrypterad" in exported.stdout and "5 funktioner" in exported.stdout

    rows = read_sheet(sheet)
    note = rows[0].index("Anteckning")
    rows[1][note] = "Ny anteckning från granskningen"
    edited = write_xlsx(tmp_path / "sos-rättad.xlsx", rows)

    before = folder_snapshot(vault)
    dry = run(vault, "import", str(edited), "--org", "SOS Alarm", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Excel-arbetsbok" in dry.stdout and "Organisation: SOS Alarm" in dry.stdout
    assert "Ändras: 0 funktioner, 1 kontaktväg." in dry.stdout
    assert "Ny anteckning från granskningen" in dry.stdout
    assert "Provkörning: inget har ändrats." in dry.stdout
    assert folder_snapshot(vault) == before

    done = run(vault, "import", str(edited), "--org", "SOS Alarm")
    assert done.returncode == 0, done.stderr
    assert "Importen är klar" in done.stdout and "ändrade 0 funktioner, 1 kontaktväg" in done.stdout
    again = run(vault, "import", str(edited), "--org", "SOS Alarm")
    assert again.returncode == 0 and "Inget att ändra" in again.stdout


def test_a_list_with_a_refused_row_imports_nothing_unless_told(vault, tmp_path):
    rows = [
        SWEDISH_HEADER,
        ["Täby kommun", "Krisledningsgrupp, reserv", "KLG-R", "Mobil", "070-174 06 44", "Jour", 1, ""],
        ["Täby kommun", "Trasig rad", "", "Mobil", "12 34", "", 1, ""],
    ]
    path = write_csv(tmp_path / "täby.csv", rows)  # as Swedish Excel saves it
    before = folder_snapshot(vault)
    refused = run(vault, "import", str(path), "--org", "Täby kommun")
    assert_clean_failure(refused, "Inget har importerats", "--import-valid-rows")
    assert "rad 3:" in refused.stdout and "”12 34”" in refused.stdout
    assert "CSV, semikolonseparerad, Windows-1252" in refused.stdout
    assert folder_snapshot(vault) == before

    rest = run(vault, "import", str(path), "--org", "Täby kommun", "--import-valid-rows")
    assert rest.returncode == 0, rest.stderr
    assert "1 avvisad rad hoppades över." in rest.stdout
    found = run(vault, "search", "krisledningsgrupp", "reserv")
    assert "Krisledningsgrupp, reserv" in found.stdout


def test_an_import_needs_the_organisation_in_a_standalone_vault(demo_vault, tmp_path):
    path = write_csv(tmp_path / "lista.csv", [["Funktion", "Mobil"], ["TiB", "070-174 06 44"]])
    result = run(demo_vault, "import", str(path))
    assert_clean_failure(result, "--org")


def test_a_bad_file_is_named_before_the_passphrase_is_asked(demo_vault, tmp_path):
    broken = tmp_path / "trasig.xlsx"
    broken.write_bytes(b"PK\x03\x04 inte en arbetsbok")
    result = run(demo_vault, "import", str(broken), "--org", "SOS Alarm", passphrase=None)
    assert_clean_failure(result, "trasig.xlsx", "skadad")
    assert "SAMVERKA_PASSPHRASE" not in result.stderr


def test_an_export_is_never_written_without_a_yes_or_inside_the_data_folder(demo_vault, tmp_path):
    target = tmp_path / "katalog.vcf"
    unasked = run(demo_vault, "export", "--out", str(target))
    assert_clean_failure(unasked, "okrypterad", "--yes")
    assert not target.exists()
    inside = run(demo_vault, "export", "--format", "csv", "--out", str(demo_vault / "katalog.csv"), "--yes")
    assert_clean_failure(inside, "datamappen")
    assert not (demo_vault / "katalog.csv").exists()
    unknown = run(demo_vault, "export", "--out", str(tmp_path / "katalog.pdf"), "--yes")
    assert_clean_failure(unknown, "--format")


def test_a_vcard_export_for_phones(demo_vault, tmp_path):
    target = tmp_path / "katalog.vcf"
    result = run(demo_vault, "export", "--out", str(target), "--yes")
    assert result.returncode == 0, result.stderr
    text = target.read_text(encoding="utf-8")
    assert text.count("BEGIN:VCARD") == 90 and "VERSION:4.0" in text
    assert "FN:Tjänsteman i beredskap\\, SOS Alarm" in text


def test_the_mapping_can_be_saved_and_used(vault, tmp_path):
    rows = [["Vem", "Mobil"], ["Stabschef reserv", "070-174 06 45"]]
    path = write_xlsx(tmp_path / "lista.xlsx", rows)
    mapping = tmp_path / "mappning.toml"
    mapping.write_text('[columns]\n"Vem" = "function"\n', encoding="utf-8")
    saved = tmp_path / "sparad.toml"
    result = run(vault, "import", str(path), "--org", "Solna stad", "--map", str(mapping), "--save-map", str(saved), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "Vem → Funktion" in result.stdout and "Skapas: 1 funktion, 1 kontaktväg." in result.stdout
    assert '"Vem" = "function"' in saved.read_text(encoding="utf-8")
    assert '"Mobil" = "mobile"' in saved.read_text(encoding="utf-8")


@pytest.mark.parametrize(("answer", "written"), [("j\n", True), ("nej\n", False), ("\n", False)])
def test_an_export_from_a_terminal_asks_first(demo_vault, tmp_path, answer, written):
    target = tmp_path / "katalog.csv"
    main, secondary = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SAMVERKA_")}
    environment.update(SAMVERKA_FAST_KDF="1", SAMVERKA_LANG="sv", SAMVERKA_PASSPHRASE=PASSPHRASE)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "desktop", "--data-dir", str(demo_vault), "export", "--out", str(target)],
            stdin=secondary, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
        )
        os.write(main, answer.encode())
        out, err = process.communicate(timeout=120)
    finally:
        os.close(main)
        os.close(secondary)
    assert "okrypterad" in err and "Skriva" in out
    assert target.exists() is written
    assert process.returncode == (0 if written else 1)
