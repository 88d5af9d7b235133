"""The command palette (Ctrl+Shift+P, Spyder's switcher): a line edit over a list of every action, filtered as you type.

Fed from the same QActions as the menus, so an action's words and shortcut are the same in
both; Enter runs the chosen one, Esc closes. Every typed word must appear in the action's name
or its menu, in any order ("synk nu", "tema mörkt").
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QDialog, QLineEdit, QListView, QVBoxLayout

from desktop.i18n import tr

ACTION_ROLE = Qt.ItemDataRole.UserRole + 1
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 2


def action_text(action: QAction) -> str:
    return action.text().replace("&&", "\x00").replace("&", "").replace("\x00", "&")


class _WordsFilter(QSortFilterProxyModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.words: list[str] = []

    def set_text(self, text: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.9+; invalidateFilter() is deprecated there
            self.beginFilterChange()
            self.words = text.casefold().split()
            self.endFilterChange()
        else:
            self.words = text.casefold().split()
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:  # noqa: N802
        haystack = self.sourceModel().index(source_row, 0, source_parent).data(SEARCH_ROLE) or ""
        return all(word in haystack for word in self.words)


class _PaletteField(QLineEdit):
    def __init__(self, palette: CommandPalette) -> None:
        super().__init__(palette)
        self.palette_dialog = palette

    def keyPressEvent(self, event) -> None:  # noqa: N802
        steps = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: 8, Qt.Key.Key_PageUp: -8}
        if event.key() in steps:
            self.palette_dialog.step(steps[event.key()])
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.palette_dialog.run_current()
            return
        super().keyPressEvent(event)


class CommandPalette(QDialog):
    def __init__(self, actions: list[tuple[str, QAction]], parent=None) -> None:
        """``actions``: (menu name, action) pairs, in menu order."""
        super().__init__(parent)
        self.setObjectName("commandPalette")
        self.setAccessibleName(tr("Command palette"))
        self.setWindowTitle(tr("Command palette"))
        self.setModal(True)
        self.source = QStandardItemModel(self)
        for menu, action in actions:
            text = action_text(action)
            shortcut = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
            item = QStandardItem(f"{text}    {shortcut}" if shortcut else text)
            item.setData(action, ACTION_ROLE)
            item.setData(f"{text} {menu} {shortcut}".casefold(), SEARCH_ROLE)
            item.setData(f"{menu}: {text}" + (f", {shortcut}" if shortcut else ""), Qt.ItemDataRole.AccessibleTextRole)
            item.setToolTip(action.toolTip())
            item.setEnabled(action.isEnabled())
            item.setEditable(False)
            self.source.appendRow(item)
        self.proxy = _WordsFilter(self)
        self.proxy.setSourceModel(self.source)
        self.field = _PaletteField(self)
        self.field.setObjectName("commandPaletteField")
        self.field.setAccessibleName(tr("Command"))
        self.field.setPlaceholderText(tr("Type an action, e.g. “sync” or “theme” …"))
        self.list = QListView(self)
        self.list.setObjectName("commandPaletteList")
        self.list.setAccessibleName(tr("Actions"))
        self.list.setModel(self.proxy)
        self.list.setUniformItemSizes(True)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.clicked.connect(lambda index: self.run_current())
        layout = QVBoxLayout(self)
        layout.addWidget(self.field)
        layout.addWidget(self.list)
        self.field.textChanged.connect(self._filter)
        self.resize(560, 420)
        self._filter("")

    def _filter(self, text: str) -> None:
        self.proxy.set_text(text)
        if self.proxy.rowCount():
            self.list.setCurrentIndex(self.proxy.index(0, 0))

    def step(self, steps: int) -> None:
        rows = self.proxy.rowCount()
        if rows:
            row = min(max(self.list.currentIndex().row() + steps, 0), rows - 1)
            self.list.setCurrentIndex(self.proxy.index(row, 0))

    def run_current(self) -> None:
        index = self.list.currentIndex()
        action = index.data(ACTION_ROLE) if index.isValid() else None
        if action is None or not action.isEnabled():
            return
        self.accept()
        action.trigger()
