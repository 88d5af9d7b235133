"""The night-shift path: type, Enter, Ctrl+C — real key events into whatever has focus."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui


def test_tib_sos_enter_ctrl_c_puts_sos_alarms_tib_number_on_the_clipboard(running) -> None:
    main = running.main
    assert main.windowTitle().startswith("Samverka")
    assert QApplication.focusWidget() is main.field, "focus starts in the search field"
    QGuiApplication.clipboard().setText("något annat")
    running.type("tib sos")
    running.key(Qt.Key.Key_Return)
    running.key(Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    running.qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == "070-174 06 99", timeout=5000)
    detail = main.search_view.detail
    running.qtbot.waitUntil(lambda: detail.detail is not None)
    assert detail.detail.organisation_name == "SOS Alarm"
    assert detail.channels.hasFocus(), "Enter moves to the opened record's channels"
    assert detail.channels.current_channel().priority == 1


def test_down_moves_through_hits_and_escape_comes_back_to_the_search(running) -> None:
    main = running.main
    view = main.search_view
    running.type("tib")
    running.qtbot.waitUntil(lambda: view.model.query == "tib" and view.model.rowCount() > 2)
    first = view.current_hit()
    running.key(Qt.Key.Key_Down)
    second = view.current_hit()
    assert second is not first
    assert QApplication.focusWidget() is main.field, "↓ moves the selection, not the focus"
    running.key(Qt.Key.Key_Return)
    running.qtbot.waitUntil(lambda: view.detail.detail is not None and view.detail.channels.hasFocus())
    assert view.detail.detail.function_id == second.record_id
    running.key(Qt.Key.Key_Escape)
    assert QApplication.focusWidget() is main.field
    assert main.field.selectedText() == "tib"


def test_a_rakel_channel_is_copied_as_its_issi(running) -> None:
    view = running.main.search_view
    running.type("tib sos")
    running.key(Qt.Key.Key_Return)
    running.qtbot.waitUntil(lambda: view.detail.detail is not None and view.detail.channels.hasFocus())
    running.key(Qt.Key.Key_Down)
    running.key(Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "9990199"
    assert "9990199" in running.main.status.currentMessage()


def test_ctrl_k_from_another_view_selects_the_search_text(running) -> None:
    main = running.main
    running.type("sos")
    running.key(Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert main.stack.currentWidget() is main.views["directory"]
    running.key(Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert main.stack.currentWidget() is main.search_view
    assert QApplication.focusWidget() is main.field and main.field.selectedText() == "sos"


def test_no_matches_are_said_in_words(running) -> None:
    view = running.main.search_view
    running.type("xyzzyqq")
    running.qtbot.waitUntil(lambda: view.model.query == "xyzzyqq")
    assert view.model.rowCount() == 0
    assert "Inga träffar för ”xyzzyqq”" in view.results.empty_text
