"""Language, theme and the command palette: one setting each, kept outside the vault with no record content."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QWidget

pytestmark = pytest.mark.gui


def _settings_dialog(running):
    running.key(Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    running.qtbot.waitUntil(lambda: getattr(running.application, "settings_dialog", None) is not None
                            and running.application.settings_dialog.isVisible())
    return running.application.settings_dialog


def test_switching_to_english_rebuilds_the_window_in_english_and_is_remembered(running, start_app, demo_dir) -> None:
    main = running.main
    assert main.status.state.text().startswith("Fristående")
    running.type("tib sos")
    dialog = _settings_dialog(running)
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    running.qtbot.waitUntil(lambda: running.main is not None and running.main is not main)
    english = running.main
    assert english.windowTitle() == "Samverka — standalone (demo region)"
    assert english.field.placeholderText().startswith("Search for a function")
    assert english.field.text() == "tib sos", "the search survives the switch"
    assert [english.nav.item(i).text().split("\t")[0] for i in range(english.nav.count())] == [
        "Search", "Directory", "Forums", "Routines", "Activations"]
    running.qtbot.waitUntil(lambda: english.status.state.text().startswith("Standalone"))
    saved = json.loads(running.application.settings_path.read_text(encoding="utf-8"))
    assert saved["language"] == "en"
    # Qt's own dialogs follow: no Swedish catalogue installed for English
    assert QApplication.translate("QPlatformTheme", "Cancel") == "Cancel"


def test_qt_dialogs_speak_swedish_by_default(running) -> None:
    assert QApplication.translate("QPlatformTheme", "Cancel") == "Avbryt"
    assert QApplication.translate("QWizard", "&Next >") == "&Nästa >"


def test_the_settings_file_holds_no_record_content(running) -> None:
    running.type("tib sos")
    running.key(Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # locking saves the geometry
    running.qtbot.waitUntil(lambda: running.application.unlock_window is not None)
    text = running.application.settings_path.read_text(encoding="utf-8")
    saved = json.loads(text)
    assert set(saved) == {"auto_lock_minutes", "language", "theme", "version", "window_geometry"}
    for secret in ("SOS", "TiB", "070", "tib", "korrekt"):
        assert secret not in text


def test_the_command_palette_runs_an_action_by_its_words(running) -> None:
    from desktop.ui import theme

    running.key(Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    running.qtbot.waitUntil(lambda: getattr(running.main, "command_palette", None) is not None and running.main.command_palette.isVisible())
    palette = running.main.command_palette
    assert palette.objectName() == "commandPalette" and palette.accessibleName() == "Kommandopalett"
    running.qtbot.waitUntil(lambda: QApplication.focusWidget() is palette.field)
    shown = [palette.proxy.index(r, 0).data() for r in range(palette.proxy.rowCount())]
    assert "Synkronisera nu    Ctrl+Skift+S" in shown, "Qt's own Swedish names the keys"
    assert "Gå till sökfältet    Ctrl+K, Ctrl+F" in shown
    assert any(text.startswith("Lås nu") and text.endswith("Ctrl+L") for text in shown)
    running.type("tema mörkt")
    assert palette.proxy.rowCount() == 1
    running.key(Qt.Key.Key_Return)
    running.qtbot.waitUntil(lambda: theme.current(QApplication.instance()).name == "dark")
    assert not palette.isVisible()
    assert running.application.settings.theme == "dark"
    running.application.choose_theme("light")


def test_ctrl_number_switches_views_and_there_is_no_sixth(running) -> None:
    main = running.main
    for key, name in ((Qt.Key.Key_2, "directory"), (Qt.Key.Key_3, "forums"), (Qt.Key.Key_4, "routines"),
                      (Qt.Key.Key_5, "activations"), (Qt.Key.Key_1, "search")):
        running.key(key, Qt.KeyboardModifier.ControlModifier)
        assert main.stack.currentWidget() is main.views[name]
    running.key(Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    assert main.stack.currentWidget() is main.views["search"]
    assert main.nav.count() == 5


def test_the_main_parts_have_stable_names_for_screen_readers(running) -> None:
    main = running.main
    running.key(Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    running.qtbot.waitUntil(lambda: getattr(main, "command_palette", None) is not None)
    expected = {
        "search": "Sök", "results": "Sökträffar", "details": "Detaljer", "channels": "Kontaktvägar",
        "syncStatus": "Synkroniseringsstatus", "syncNow": "Synkronisera nu", "commandPalette": "Kommandopalett",
    }
    for name, accessible in expected.items():
        widget = main.findChild(QWidget, name)
        assert widget is not None, name
        assert widget.accessibleName() == accessible, name
