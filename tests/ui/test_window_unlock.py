"""Unlocking (wrong and right passphrase, the recovery key), auto-lock and Ctrl+L."""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import PASSPHRASE

pytestmark = pytest.mark.gui


def test_a_wrong_passphrase_is_said_in_words_and_the_right_one_opens_the_main_window(start_app, demo_dir) -> None:
    app = start_app(demo_dir)
    window = app.unlock_window
    assert window.windowTitle() == "Samverka"
    app.qtbot.waitUntil(lambda: QApplication.focusWidget() is window.passphrase)
    app.type("fel fras fel fras")
    app.key(Qt.Key.Key_Return)
    app.qtbot.waitUntil(lambda: window.error.text() != "", timeout=10_000)
    assert "Fel lösenfras" in window.error.text()
    assert app.main is None
    assert window.passphrase.selectedText() == "fel fras fel fras", "the field is selected for another try"
    app.type(PASSPHRASE)
    app.key(Qt.Key.Key_Return)
    app.qtbot.waitUntil(lambda: app.main is not None and app.main.isVisible(), timeout=10_000)
    assert app.main.windowTitle() == "Samverka — fristående (demoregion)"
    assert not shiboken6.isValid(window) or not window.isVisible()
    app.qtbot.waitUntil(lambda: QApplication.focusWidget() is app.main.field)


def test_the_recovery_key_sets_a_new_passphrase_and_unlocks(start_app, demo_dir, recovery_key) -> None:
    from desktop.vault import Vault, WrongPassphrase

    app = start_app(demo_dir)
    window = app.unlock_window
    app.qtbot.mouseClick(window.findChild(type(window.unlock_button), "forgotPassphrase"), Qt.MouseButton.LeftButton)
    assert window.pages.currentIndex() == 1
    app.qtbot.waitUntil(lambda: QApplication.focusWidget() is window.recovery_key)
    app.type(recovery_key.lower().replace("-", " "))  # forgiving: case, spaces
    app.key(Qt.Key.Key_Tab)
    app.type("ny fras for natten")
    app.key(Qt.Key.Key_Tab)
    app.type("ny fras for natten")
    app.key(Qt.Key.Key_Return)
    app.qtbot.waitUntil(lambda: app.main is not None and app.main.isVisible(), timeout=20_000)
    vault = Vault.open(demo_dir)
    with pytest.raises(WrongPassphrase):
        vault.unlock(PASSPHRASE)
    assert len(vault.unlock("ny fras for natten")) == 32


def test_a_wrong_recovery_key_is_said_in_words(start_app, demo_dir) -> None:
    app = start_app(demo_dir)
    window = app.unlock_window
    window._show_page(1)
    window.recovery_key.setText("AAAAA-AAAAA")
    window.new_passphrase.first.setText("ny fras for natten")
    window.new_passphrase.second.setText("ny fras for natten")
    app.qtbot.mouseClick(window.recover_button, Qt.MouseButton.LeftButton)
    app.qtbot.waitUntil(lambda: window.recovery_error.text() != "", timeout=10_000)
    assert "40 tecken" in window.recovery_error.text()
    assert app.main is None


def test_idle_minutes_lock_the_window_and_close_the_store(running) -> None:
    main = running.main
    store = running.application.session.store
    running.type("tib")
    running.qtbot.waitUntil(lambda: main.search_view.model.rowCount() > 0)
    running.application._idle.set_timeout_ms(150)
    running.qtbot.waitUntil(lambda: running.application.unlock_window is not None, timeout=5_000)
    assert running.application.main is None and running.application.session is None
    running.qtbot.waitUntil(lambda: not shiboken6.isValid(main))  # the window and its models are gone
    running.qtbot.waitUntil(lambda: store.closed, timeout=10_000)
    unlock = running.application.unlock_window
    assert unlock.isVisible() and "låst" in unlock.notice.text()
    visible = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert visible == [unlock], "nothing but the unlock window shows while locked"
    running.unlock()
    assert running.main is not main, "a new window: nothing read before the lock is kept"
    assert running.main.field.text() == ""


def test_input_keeps_the_window_unlocked(running) -> None:
    running.application._idle.set_timeout_ms(400)
    for _ in range(6):
        running.qtbot.wait(120)
        running.type("a")
    assert running.main is not None and running.main.isVisible()


def test_ctrl_l_locks_now(running) -> None:
    running.key(Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    running.qtbot.waitUntil(lambda: running.application.unlock_window is not None)
    assert running.main is None
    running.unlock()
    assert running.main.isVisible()
