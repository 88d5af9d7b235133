"""Small widgets the windows share: a passphrase typed twice with its strength, a busy line, error lines, panes side by side.

Strength is told in words and a bar, never colour alone. The estimate is deliberately simple
(length times the variety of characters, less for repeats): it nudges towards several words,
which is what the vault's own minimum (8 characters) cannot say.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import N_, _, tr
from desktop.ui import theme
from desktop.vault import MIN_PASSPHRASE_LENGTH

STRENGTH_WORDS = (
    N_("Too short"),
    N_("Weak"),
    N_("Fair"),
    N_("Strong"),
    N_("Very strong"),
)


def passphrase_strength(text: str) -> int:
    """0 (too short to use) … 4 (very strong), from an estimate of the bits a guesser faces."""
    if len(text) < MIN_PASSPHRASE_LENGTH or not text.strip():
        return 0
    pool = 0
    if any(c.islower() for c in text):
        pool += 26
    if any(c.isupper() for c in text):
        pool += 26
    if any(c.isdigit() for c in text):
        pool += 10
    if any(not c.isalnum() and not c.isspace() for c in text):
        pool += 33
    if any(c.isspace() for c in text):
        pool += 1
    if any(ord(c) > 127 and c.isalpha() for c in text):
        pool += 6  # å, ä, ö …
    distinct = len(set(text.casefold()))
    effective = min(len(text), distinct * 2)  # "aaaaaaaa" is not 8 characters of surprise
    bits = effective * math.log2(max(pool, 2))
    words = len(text.split())
    if words >= 4:
        bits += 10
    if bits < 40:
        return 1
    if bits < 60:
        return 2
    if bits < 80:
        return 3
    return 4


class PassphraseFields(QWidget):
    """A new passphrase typed twice; ``changed`` says whether it may be used."""

    changed = Signal(bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.first = QLineEdit(self)
        self.first.setObjectName("newPassphrase")
        self.first.setEchoMode(QLineEdit.EchoMode.Password)
        self.first.setAccessibleName(tr("New passphrase"))
        self.second = QLineEdit(self)
        self.second.setObjectName("repeatPassphrase")
        self.second.setEchoMode(QLineEdit.EchoMode.Password)
        self.second.setAccessibleName(tr("Repeat the passphrase"))
        self.bar = QProgressBar(self)
        self.bar.setObjectName("passphraseStrength")
        self.bar.setRange(0, 4)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(10)
        self.bar.setAccessibleName(tr("Passphrase strength"))
        self.words = QLabel(self)
        self.words.setObjectName("passphraseStrengthWords")
        self.match = QLabel(self)
        self.match.setObjectName("passphraseMatch")
        strength = QHBoxLayout()
        strength.addWidget(self.bar, 1)
        strength.addWidget(self.words)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(tr("New passphrase:"), self.first)
        form.addRow(tr("Strength:"), strength)
        form.addRow(tr("Repeat it:"), self.second)
        form.addRow("", self.match)
        self.first.textChanged.connect(self._update)
        self.second.textChanged.connect(self._update)
        self._update()

    def passphrase(self) -> str:
        return self.first.text()

    def acceptable(self) -> bool:
        return passphrase_strength(self.first.text()) > 0 and self.first.text() == self.second.text()

    def set_enabled(self, enabled: bool) -> None:
        self.first.setEnabled(enabled)
        self.second.setEnabled(enabled)

    def _update(self) -> None:
        t = theme.current(QApplication.instance())
        score = passphrase_strength(self.first.text())
        self.bar.setValue(score)
        word = _(STRENGTH_WORDS[score])
        if score == 0:
            word = tr("Too short – at least {minimum} characters; several words are easiest to remember",
                      minimum=MIN_PASSPHRASE_LENGTH) if self.first.text() else ""
        self.words.setText(word)
        self.bar.setAccessibleDescription(word)
        if self.second.text() and self.second.text() != self.first.text():
            self.match.setText(tr("✗ The passphrases differ"))
            self.match.setStyleSheet(f"color: {t.error};")
        elif self.second.text():
            self.match.setText(tr("✓ The passphrases are the same"))
            self.match.setStyleSheet(f"color: {t.ok};")
        else:
            self.match.setText("")
        self.changed.emit(self.acceptable())


class BusyLine(QWidget):
    """"Working …" with an indeterminate bar: shown while the KDF or the network works."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("busy")
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)
        self.bar.setMaximumWidth(120)
        self.bar.setTextVisible(False)
        self.text = QLabel(self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.text, 1)
        self.hide()

    def start(self, text: str) -> None:
        self.text.setText(text)
        self.bar.setAccessibleName(text)
        self.show()

    def stop(self) -> None:
        self.hide()


def error_label(parent: QWidget, object_name: str) -> QLabel:
    """A line for an error in words (with a symbol), wrapped, selectable."""
    label = QLabel(parent)
    label.setObjectName(object_name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def show_error(label: QLabel, text: str) -> None:
    t = theme.current(QApplication.instance())
    label.setStyleSheet(f"color: {t.error};")
    label.setText(f"⚠ {text}" if text else "")
    label.setAccessibleDescription(text)


def panes(parent: QWidget, *widgets: QWidget, stretch: tuple[int, ...], sizes: list[int] | None = None,
          orientation: Qt.Orientation = Qt.Orientation.Horizontal) -> QSplitter:
    """Widgets side by side (or stacked) in a splitter that never collapses one of them: a
    list beside its detail, a table above the chosen row's text."""
    splitter = QSplitter(orientation, parent)
    for index, widget in enumerate(widgets):
        splitter.addWidget(widget)
        splitter.setStretchFactor(index, stretch[index])
    if sizes:
        splitter.setSizes(sizes)
    splitter.setChildrenCollapsible(False)
    return splitter


def fill(view: QWidget, content: QWidget) -> None:
    """Let ``content`` fill ``view`` edge to edge."""
    layout = QVBoxLayout(view)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(content)
