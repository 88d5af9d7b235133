"""The unlock window (later starts, and after a lock): the passphrase, or the recovery key and a new passphrase.

Titled "Samverka", focus in the passphrase field, Enter unlocks. Key derivation and opening the
store run on a worker thread while a busy line says so; a wrong passphrase is said in words
and the field is selected for another try. "Glömt lösenfrasen?" leads to the recovery key,
which sets a new passphrase and unlocks with it.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import tr
from desktop.ui.ops import QueryOp
from desktop.ui.messages import describe_error
from desktop.ui.widgets import BusyLine, PassphraseFields, error_label, show_error


def _heading(parent: QWidget, text: str) -> QLabel:
    label = QLabel(text, parent)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.6)
    font.setWeight(QFont.Weight.Bold)
    label.setFont(font)
    return label


class UnlockWindow(QWidget):
    unlocked = Signal(object, str)  # AppSession, the passphrase (the wizard may need it)
    closed = Signal()

    def __init__(self, unlock: Callable[[str], Any], recover: Callable[[str, str], Any], parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("unlockWindow")
        self.setWindowTitle("Samverka")
        self._unlock = unlock
        self._recover = recover
        self._quiet = False
        self._working = False
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self._unlock_page())
        self.pages.addWidget(self._recovery_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(self.pages)
        self.resize(520, 340)

    # --- pages ----------------------------------------------------------------------------

    def _unlock_page(self) -> QWidget:
        page = QWidget(self)
        self.notice = QLabel(page)
        self.notice.setObjectName("lockedNotice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.passphrase = QLineEdit(page)
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName(tr("Passphrase"))
        self.passphrase.returnPressed.connect(self.submit)
        self.unlock_button = QPushButton(tr("Unlock"), page)
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.submit)
        self.busy = BusyLine(page)
        self.error = error_label(page, "unlockError")
        forgot = QPushButton(tr("Forgot the passphrase?"), page)
        forgot.setObjectName("forgotPassphrase")
        forgot.setFlat(True)
        forgot.setCursor(Qt.CursorShape.PointingHandCursor)
        forgot.setStyleSheet("QPushButton { color: palette(link); text-decoration: underline; border: none; text-align: left; }")
        forgot.clicked.connect(lambda: self._show_page(1))
        row = QHBoxLayout()
        row.addWidget(self.passphrase, 1)
        row.addWidget(self.unlock_button)
        layout = QVBoxLayout(page)
        layout.addWidget(_heading(page, "Samverka"))
        layout.addWidget(QLabel(tr("The data on this computer is encrypted. Enter your passphrase to unlock it."), page))
        layout.addWidget(self.notice)
        label = QLabel(tr("&Passphrase:"), page)
        label.setBuddy(self.passphrase)
        layout.addWidget(label)
        layout.addLayout(row)
        layout.addWidget(self.busy)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(forgot, 0, Qt.AlignmentFlag.AlignLeft)
        for child in page.findChildren(QLabel):
            child.setWordWrap(True)
        return page

    def _recovery_page(self) -> QWidget:
        page = QWidget(self)
        self.recovery_key = QLineEdit(page)
        self.recovery_key.setObjectName("recoveryKey")
        self.recovery_key.setAccessibleName(tr("Recovery key"))
        self.recovery_key.setPlaceholderText("XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX")
        self.new_passphrase = PassphraseFields(page)
        self.new_passphrase.changed.connect(lambda ok: self.recover_button.setEnabled(ok and not self._working))
        self.new_passphrase.second.returnPressed.connect(self.submit_recovery)
        self.recover_button = QPushButton(tr("Set the new passphrase and unlock"), page)
        self.recover_button.setObjectName("recoverButton")
        self.recover_button.setEnabled(False)
        self.recover_button.clicked.connect(self.submit_recovery)
        back = QPushButton(tr("Back"), page)
        back.clicked.connect(lambda: self._show_page(0))
        self.recovery_busy = BusyLine(page)
        self.recovery_error = error_label(page, "recoveryError")
        explain = QLabel(tr(
            "The recovery key was shown once when Samverka was set up (8 groups of 5 characters). "
            "It lets you choose a new passphrase; the data stays as it is."), page)
        explain.setWordWrap(True)
        form = QFormLayout()
        form.addRow(tr("&Recovery key:"), self.recovery_key)
        buttons = QHBoxLayout()
        buttons.addWidget(back)
        buttons.addStretch(1)
        buttons.addWidget(self.recover_button)
        layout = QVBoxLayout(page)
        layout.addWidget(_heading(page, tr("Forgot the passphrase")))
        layout.addWidget(explain)
        layout.addLayout(form)
        layout.addWidget(self.new_passphrase)
        layout.addWidget(self.recovery_busy)
        layout.addWidget(self.recovery_error)
        layout.addStretch(1)
        layout.addLayout(buttons)
        return page

    def _show_page(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        (self.passphrase if index == 0 else self.recovery_key).setFocus(Qt.FocusReason.OtherFocusReason)

    def show_locked_notice(self) -> None:
        font = self.notice.font()
        font.setWeight(QFont.Weight.Bold)
        self.notice.setFont(font)
        self.notice.setText(tr("Samverka is locked: nothing is shown until you unlock it again."))
        self.notice.show()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self.pages.currentIndex() == 0:
            self.passphrase.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    # --- unlocking -------------------------------------------------------------------------

    def _set_working(self, working: bool, busy: BusyLine, text: str = "") -> None:
        self._working = working
        for widget in (self.passphrase, self.unlock_button, self.recovery_key, self.new_passphrase):
            widget.setEnabled(not working)
        self.recover_button.setEnabled(not working and self.new_passphrase.acceptable())
        if working:
            busy.start(text)
        else:
            busy.stop()

    def submit(self) -> None:
        passphrase = self.passphrase.text()
        if self._working:
            return
        if not passphrase:
            show_error(self.error, tr("Enter the passphrase first."))
            return
        show_error(self.error, "")
        self._set_working(True, self.busy, tr("Unlocking … (deriving the key takes a moment on purpose)"))
        unlock = self._unlock
        QueryOp(lambda: unlock(passphrase), success=lambda session: self._done(session, passphrase), parent=self).failure(
            self._failed
        ).run()

    def _failed(self, error: BaseException) -> None:
        self._set_working(False, self.busy)
        show_error(self.error, describe_error(error))
        self.passphrase.setFocus(Qt.FocusReason.OtherFocusReason)
        self.passphrase.selectAll()

    def submit_recovery(self) -> None:
        if self._working or not self.new_passphrase.acceptable():
            return
        key, new = self.recovery_key.text(), self.new_passphrase.passphrase()
        if not key.strip():
            show_error(self.recovery_error, tr("Enter the recovery key first."))
            return
        show_error(self.recovery_error, "")
        self._set_working(True, self.recovery_busy, tr("Setting the new passphrase and unlocking …"))
        recover = self._recover
        QueryOp(lambda: recover(key, new), success=lambda session: self._done(session, new), parent=self).failure(
            self._recovery_failed
        ).run()

    def _recovery_failed(self, error: BaseException) -> None:
        self._set_working(False, self.recovery_busy)
        show_error(self.recovery_error, describe_error(error))
        self.recovery_key.setFocus(Qt.FocusReason.OtherFocusReason)

    def _done(self, session: Any, passphrase: str) -> None:
        self._set_working(False, self.busy)
        self.passphrase.clear()
        self.unlocked.emit(session, passphrase)

    # --- closing -------------------------------------------------------------------------

    def close_quietly(self) -> None:
        self._quiet = True
        self.close()
        self.deleteLater()

    def closeEvent(self, event) -> None:  # noqa: N802
        super().closeEvent(event)
        if not self._quiet:
            self.closed.emit()
