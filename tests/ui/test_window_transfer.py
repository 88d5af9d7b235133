"""Import and export in the window by keyboard: a good CSV → preview (counts, a table of the changes) → Importera → the records in the store; a bad file and a refused row said in Swedish with nothing changed; an export the command line's import reads back unchanged."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.io_helpers import SWEDISH_HEADER, write_csv
from tests.ui.conftest import PASSPHRASE

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def focused(name: str) -> bool:
    widget = QApplication.focusWidget()
    return widget is not None and widget.objectName() == name


def functions_named(store, name: str) -> list[dict]:
    return [r for r in store.list("functions") if r["fields"].get("name") == name]


def open_import(running, path: Path, organisation: str):
    """Ctrl+I, the file's path typed, Enter; the organisation chosen by typing its name."""
    main = running.main
    running.key(Qt.Key.Key_I, CTRL)
    running.qtbot.waitUntil(lambda: main.transfer_dialog is not None and focused("importPath"))
    dialog = main.transfer_dialog
    running.qtbot.waitUntil(lambda: dialog.organisation.count() > 0)
    running.key(Qt.Key.Key_O, ALT)  # &Organisation
    running.qtbot.waitUntil(lambda: focused("importOrganisation"))
    running.type(organisation.split()[0])  # a space would open the list
    running.qtbot.waitUntil(lambda: dialog.organisation.currentText() == organisation)
    running.key(Qt.Key.Key_F, ALT)  # &Fil
    running.qtbot.waitUntil(lambda: focused("importPath"))
    running.type(str(path))
    running.key(Qt.Key.Key_Return)
    return dialog


def test_a_good_csv_is_previewed_then_imported(running, tmp_path) -> None:
    store = running.application.session.store
    rows = [SWEDISH_HEADER,
            ["Täby kommun", "Krisledningsgrupp, reserv", "KLG-R", "Mobil", "070-174 06 44", "Jour", 1, "Vardagar"],
            ["Täby kommun", "Krisledningsgrupp, reserv", "KLG-R", "E-post", "klg@taby.example", "", 2, ""]]
    path = write_csv(tmp_path / "täby.csv", rows)  # Windows-1252 and ";" as Swedish Excel writes it
    before = store.count("functions"), store.count("channels")
    dialog = open_import(running, path, "Täby kommun")
    running.qtbot.waitUntil(lambda: dialog.plan is not None and dialog.preview_part.isVisible(), timeout=10_000)
    assert "CSV, semikolonseparerad, Windows-1252" in dialog.format_words.text()
    assert "Organisation: Täby kommun" in dialog.format_words.text()
    assert dialog.counts.text().startswith("Skapas: 1 funktion, 2 kontaktvägar.")
    assert not dialog.refused.isVisible()
    model = dialog.changes_model
    assert model.rowCount() == 3
    assert [model.index(r, 1).data() for r in range(3)] == ["+ Ny"] * 3
    assert model.index(0, 2).data() == "Funktion ”Krisledningsgrupp, reserv”"
    assert model.index(1, 0).data() == "rad 2"
    assert store.count("functions") == before[0], "a preview changes nothing"

    running.key(Qt.Key.Key_I, ALT)  # &Importera
    running.qtbot.waitUntil(lambda: dialog.result is not None, timeout=10_000)
    assert dialog.counts.text().startswith("✓ Importen är klar: skapade 1 funktion, 2 kontaktvägar;")
    [function] = functions_named(store, "Krisledningsgrupp, reserv")
    values = sorted(c["fields"]["value"] for c in store.list("channels")
                    if c["fields"].get("function_id") == function["record_id"])
    assert values == ["+46701740644", "klg@taby.example"]
    assert (store.count("functions"), store.count("channels")) == (before[0] + 1, before[1] + 2)
    assert store.outbox_count() > 0, "sent at the next synchronisation"
    running.key(Qt.Key.Key_Escape)
    running.qtbot.waitUntil(lambda: running.main.transfer_dialog is None)


def test_a_bad_file_is_refused_in_swedish_and_a_refused_row_imports_nothing(running, tmp_path) -> None:
    store = running.application.session.store
    outbox = store.outbox_count()
    broken = tmp_path / "trasig.xlsx"
    broken.write_bytes(b"PK\x03\x04 inte en arbetsbok")
    dialog = open_import(running, broken, "SOS Alarm")
    running.qtbot.waitUntil(lambda: bool(dialog.error.text()), timeout=10_000)
    words = dialog.error.text()
    assert "trasig.xlsx" in words and "skadad" in words, words
    assert not dialog.preview_part.isVisible() and not dialog.import_button.isEnabled()

    rows = [SWEDISH_HEADER,
            ["SOS Alarm", "Reservledning", "RL", "Mobil", "070-174 06 45", "", 1, ""],
            ["SOS Alarm", "Trasig rad", "", "Mobil", "12 34", "", 1, ""]]
    half = write_csv(tmp_path / "sos.csv", rows)
    running.key(Qt.Key.Key_A, CTRL)
    running.type(str(half))
    running.key(Qt.Key.Key_Return)
    running.qtbot.waitUntil(lambda: dialog.plan is not None and dialog.refused.isVisible(), timeout=10_000)
    assert dialog.error.text() == ""
    assert "⚠ Avvisad: 1 rad." in dialog.counts.text()
    refused = dialog.refused.item(0).text()
    assert refused.startswith("⚠ rad 3: ") and "12 34" in refused
    assert not dialog.import_button.isEnabled(), "all or nothing unless the rest is chosen"
    assert "avvisade rader" in dialog.import_button.toolTip()
    running.key(Qt.Key.Key_I, ALT)
    running.qtbot.wait(200)
    assert dialog.result is None and store.outbox_count() == outbox and not functions_named(store, "Reservledning")

    running.key(Qt.Key.Key_R, ALT)  # Importera &resten
    running.qtbot.waitUntil(lambda: dialog.rest.isChecked() and dialog.import_button.isEnabled())
    running.key(Qt.Key.Key_I, ALT)
    running.qtbot.waitUntil(lambda: dialog.result is not None, timeout=10_000)
    assert "1 avvisad rad hoppades över" in dialog.counts.text()
    assert functions_named(store, "Reservledning") and not functions_named(store, "Trasig rad")


def test_an_import_asks_the_shared_rules_for_each_row(start_app, tmp_path, sync_server) -> None:
    from tests.ui.conftest import enrolled_vault

    server = sync_server()
    data_dir = tmp_path / "sos-device"
    enrolled_vault(data_dir, server, "sos")  # a member of SOS Alarm: writes SOS Alarm's list only
    running = start_app(data_dir)
    running.unlock()
    store = running.application.session.store
    running.qtbot.waitUntil(lambda: running.main.status.state.text() == "● Ansluten", timeout=20_000)
    rows = [["Organisation", "Funktion", "Mobil"], ["SOS Alarm", "Vakthavande befäl", "070-174 06 63"],
            ["Täby kommun", "Krisledning", "070-174 06 46"]]
    path = write_csv(tmp_path / "lista.csv", rows)
    running.key(Qt.Key.Key_I, CTRL)
    main = running.main
    running.qtbot.waitUntil(lambda: main.transfer_dialog is not None and focused("importPath"))
    dialog = main.transfer_dialog
    running.qtbot.waitUntil(lambda: dialog.own_organisation is not None)
    assert not dialog.organisation.isEnabled() and dialog.organisation.currentText() == "SOS Alarm"
    running.type(str(path))
    running.key(Qt.Key.Key_Return)
    running.qtbot.waitUntil(lambda: dialog.plan is not None, timeout=10_000)
    [(where, reason)] = [(r.location.line, r.reason()) for r in dialog.plan.refused]
    assert where == 3 and "Täby kommun" in reason
    assert dialog.refused.item(0).text().startswith("⚠ rad 3: ")
    assert store.count("functions") == 0


def test_an_export_is_read_back_by_the_command_line_unchanged(running, demo_template, documents, tmp_path) -> None:
    main = running.main
    running.key(Qt.Key.Key_E, CTRL | SHIFT)
    running.qtbot.waitUntil(lambda: main.transfer_dialog is not None and focused("exportFormat"))
    dialog = main.transfer_dialog
    running.type("C")  # CSV in the format list
    running.qtbot.waitUntil(lambda: dialog.format.currentData() == "csv")
    running.key(Qt.Key.Key_A, ALT)  # &Alla organisationer: off, choose one
    running.qtbot.waitUntil(lambda: focused("exportOrganisations") and dialog.organisations.count() > 0)
    running.type("SOS")
    running.key(Qt.Key.Key_Space)
    assert dialog.chosen_organisations() is not None and len(dialog.chosen_organisations()) == 1

    # Inside the data folder: refused in words, nothing written.
    inside = running.application.session.data_dir / "katalog.csv"
    running.key(Qt.Key.Key_F, ALT)  # &Fil
    running.qtbot.waitUntil(lambda: focused("exportPath"))
    running.type(str(inside))
    running.key(Qt.Key.Key_E, ALT)  # &Exportera
    running.qtbot.waitUntil(lambda: bool(dialog.error.text()))
    assert "datamappen" in dialog.error.text() and not inside.exists()

    # A bare name is written in the documents folder (not the current directory).
    running.key(Qt.Key.Key_A, CTRL)
    running.type("sos.csv")
    running.key(Qt.Key.Key_E, ALT)
    running.qtbot.waitUntil(lambda: dialog.result is not None, timeout=10_000)
    out = documents / "sos.csv"
    assert dialog.result.path == out and out.is_file() and not Path("sos.csv").exists()
    assert "inte krypterad" in dialog.done_words.text() and "1 organisation" in dialog.done_words.text()

    # The command line reads it back into a vault holding the same directory: nothing to change.
    vault = tmp_path / "cli-vault"
    shutil.copytree(demo_template[0], vault)
    environment = {"SAMVERKA_FAST_KDF": "1", "SAMVERKA_LANG": "sv", "SAMVERKA_PASSPHRASE": PASSPHRASE,
                   "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "desktop", "--data-dir", str(vault), "import", str(out),
                             "--org", "SOS Alarm", "--dry-run"], capture_output=True, text=True, env=environment,
                            timeout=120, start_new_session=True)
    assert result.returncode == 0, result.stderr
    assert "Inget att ändra" in result.stdout or "Skapas: 0 funktioner, 0 kontaktvägar." in result.stdout, result.stdout
