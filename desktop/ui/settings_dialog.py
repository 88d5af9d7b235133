"""The settings dialog: language (Svenska / English), theme, and minutes before Samverka locks itself."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout

from desktop.i18n import language, tr
from desktop.ui import theme
from desktop.ui.settings import AUTO_LOCK_RANGE, THEMES, Settings, settings_path

LANGUAGE_NAMES = (("sv", "Svenska"), ("en", "English"))  # each in its own language


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, path=None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(tr("Settings"))
        self.settings = settings
        self.language = QComboBox(self)
        self.language.setObjectName("languageChoice")
        self.language.setAccessibleName(tr("Language"))
        for code, name in LANGUAGE_NAMES:
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(self.language.findData(settings.language or language()), 0))
        self.theme = QComboBox(self)
        self.theme.setObjectName("themeChoice")
        self.theme.setAccessibleName(tr("Theme"))
        for name in THEMES:
            self.theme.addItem(theme.theme_label(name), name)
        self.theme.setCurrentIndex(max(self.theme.findData(settings.theme), 0))
        self.auto_lock = QSpinBox(self)
        self.auto_lock.setObjectName("autoLockMinutes")
        self.auto_lock.setAccessibleName(tr("Lock after minutes without use"))
        self.auto_lock.setRange(*AUTO_LOCK_RANGE)
        self.auto_lock.setSuffix(tr(" min"))
        self.auto_lock.setValue(settings.auto_lock_minutes)
        form = QFormLayout()
        form.addRow(tr("&Language:"), self.language)
        form.addRow(tr("&Theme:"), self.theme)
        form.addRow(tr("&Lock after:"), self.auto_lock)
        where = QLabel(tr("Saved in {path} (no record content, only these choices).", path=path or settings_path()), self)
        where.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(where)
        layout.addWidget(buttons)

    def result_settings(self) -> Settings:
        return replace(
            self.settings,
            language=self.language.currentData(),
            theme=self.theme.currentData(),
            auto_lock_minutes=self.auto_lock.value(),
        )
