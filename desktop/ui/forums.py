"""The forums view (Forum) and the routines view (Rutiner): short lists grouped by level or owner, the chosen one's detail beside them.

Forums fall under the three levels (regional direction, regional coordination, executive), each
with its mode in words and colour ("● AKTIVERAT" on red, "○ Ordinarie läge"): never colour
alone. A forum with an open activation is activated whatever its record says, marked
"● AKTIVERAT · ◆ ÖVNING" (violet) for an exercise (activation_watch.py). Routines are grouped by the forum or organisation that owns them and can be narrowed to
one mode. A region has tens of these, so a QStandardItemModel is enough.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush, QFont, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import tr
from desktop.store.messages import level_label
from desktop import views
from desktop.ui.activation_watch import activated_words, badge_colours
from desktop.ui.detail import DetailView
from desktop.ui.ops import LatestOnly
from desktop.ui.widgets import fill, panes

ID_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_ROLE = Qt.ItemDataRole.UserRole + 2


def mode_words(mode: str | None) -> str:
    if mode == "activated":
        return "● " + tr("ACTIVATED")
    return "○ " + tr("Ordinary mode")


def _mode_item(mode: str | None, *, current: bool = True, activation=None) -> QStandardItem:
    """A forum's current mode (``current``: activated is an alarm, in red with the word; an open
    ``activation`` makes it so, violet with "ÖVNING" for an exercise), or the mode a routine is
    written for (plain words: a routine for activated mode is no alarm)."""
    if not current:
        item = QStandardItem({"activated": tr("For activated mode"), "ordinary": tr("For ordinary mode"),
                              "both": tr("For both modes")}.get(mode or "", tr("For both modes")))
        item.setEditable(False)
        return item
    if activation is not None:
        mode = "activated"
    item = QStandardItem(activated_words(activation) if activation is not None else mode_words(mode))
    if mode == "activated":
        background, text = badge_colours(activation)
        item.setBackground(QBrush(background))
        item.setForeground(QBrush(text))
        font = item.font()
        font.setWeight(QFont.Weight.Bold)
        item.setFont(font)
    item.setEditable(False)
    return item


def _group_item(text: str) -> QStandardItem:
    item = QStandardItem(text)
    font = item.font()
    font.setWeight(QFont.Weight.Bold)
    item.setFont(font)
    item.setEditable(False)
    item.setSelectable(True)
    return item


class _ListWithDetail(QWidget):
    """A grouped tree on the left, a DetailView on the right; subclasses fill the tree."""

    collection = ""

    def __init__(self, store: Any, object_name: str, accessible: str, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.store = store
        self.model = QStandardItemModel(self)
        self.tree = QTreeView(self)
        self.tree.setObjectName(f"{object_name}Tree")
        self.tree.setAccessibleName(accessible)
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setAllColumnsShowFocus(True)
        self.detail = DetailView(store, self)
        self.left = QWidget(self)
        self.left_layout = QVBoxLayout(self.left)
        self.left_layout.setContentsMargins(0, 0, 0, 0)
        self.left_layout.addWidget(self.tree)
        fill(self, panes(self, self.left, self.detail, stretch=(1, 2), sizes=[380, 760]))
        self.tree.selectionModel().currentRowChanged.connect(self._current_changed)
        self.tree.activated.connect(self._activated)
        self._loader = LatestOnly(self)
        self.loaded = False
        self._data: Any = None
        watch = getattr(parent.window() if parent is not None else None, "activation_watch", None)
        self.open_activations: dict = dict(watch.by_forum) if watch is not None else {}  # forum id -> ActivationSummary

    def showEvent(self, event) -> None:  # noqa: N802
        if not self.loaded:
            self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        self._loader.submit(self.reader(), self._fill_and_restore)

    def set_activated(self, by_forum: dict) -> None:
        """The open activations changed: the marks follow (from the data already read)."""
        self.open_activations = by_forum
        if self.loaded and self._data is not None:
            self._fill_and_restore(self._data)

    def reader(self) -> Callable[[], Any]:
        """Made on the GUI thread (it may read widgets); what it returns runs on a pool thread."""
        raise NotImplementedError

    def fill(self, data: Any) -> None:
        raise NotImplementedError

    def _fill_and_restore(self, data: Any) -> None:
        self._data = data
        current = self.tree.currentIndex().data(ID_ROLE)
        self.model.clear()
        self.fill(data)
        self.tree.expandAll()
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.loaded = True
        index = self._find(current) if current else QModelIndex()
        if not index.isValid():
            index = self._first_record()
        if index.isValid():
            self.tree.setCurrentIndex(index)

    def _walk(self, visit: Callable[[QModelIndex], bool]) -> QModelIndex:
        for top in range(self.model.rowCount()):
            parent = self.model.index(top, 0)
            for row in range(self.model.rowCount(parent)):
                index = self.model.index(row, 0, parent)
                if visit(index):
                    return index
        return QModelIndex()

    def _find(self, record_id: str) -> QModelIndex:
        return self._walk(lambda index: index.data(ID_ROLE) == record_id)

    def _first_record(self) -> QModelIndex:
        return self._walk(lambda index: bool(index.data(ID_ROLE)))

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        index = current.siblingAtColumn(0)
        record_id = index.data(ID_ROLE)
        shown = self.detail.detail
        if record_id and shown is not None and views.detail_key(shown) == (self.collection, record_id):
            self.detail.reload()  # the list was refilled: the same record, its member or step kept
        elif record_id:
            self.detail.open(self.collection, record_id)

    def _activated(self, index: QModelIndex) -> None:
        record_id = index.siblingAtColumn(0).data(ID_ROLE)
        if record_id:
            self.detail.open(self.collection, record_id, focus=True)

    def copy(self) -> None:
        self.detail.copy_current()

    def edit_context(self):
        return self.detail.list_context()

    def focus_list(self) -> None:
        self.tree.setFocus(Qt.FocusReason.ShortcutFocusReason)


class ForumsView(_ListWithDetail):
    collection = "forums"

    def __init__(self, store: Any, parent=None) -> None:
        super().__init__(store, "forums", tr("Forums by level"), parent)

    def reader(self) -> Callable[[], dict[str, list[views.ForumRow]]]:
        store = self.store
        return lambda: views.forums_by_level(store)

    def fill(self, data: dict[str, list[views.ForumRow]]) -> None:
        self.model.setHorizontalHeaderLabels([tr("Level / forum"), tr("Mode")])
        for level, forums in data.items():
            group = _group_item(level_label(level) if level else tr("Without level"))
            blank = QStandardItem("")
            blank.setEditable(False)
            for forum in forums:
                item = QStandardItem(forum.name)
                item.setData(forum.forum_id, ID_ROLE)
                item.setEditable(False)
                activation = self.open_activations.get(forum.forum_id)
                mode = _mode_item(forum.mode, activation=activation)
                item.setData(f"{forum.name}, {mode.text()}", Qt.ItemDataRole.AccessibleTextRole)
                group.appendRow([item, mode])
            self.model.appendRow([group, blank])


class RoutinesView(_ListWithDetail):
    collection = "routines"

    def __init__(self, store: Any, parent=None) -> None:
        super().__init__(store, "routines", tr("Routines by forum or organisation"), parent)
        self.mode = QComboBox(self)
        self.mode.setObjectName("routineMode")
        self.mode.setAccessibleName(tr("Mode"))
        self.mode.addItem(tr("Every mode"), None)
        self.mode.addItem(tr("Ordinary mode"), "ordinary")
        self.mode.addItem(tr("Activated mode"), "activated")
        self.mode.currentIndexChanged.connect(self.refresh)
        row = QHBoxLayout()
        mode_label = QLabel(tr("Show:"), self)
        mode_label.setBuddy(self.mode)
        row.addWidget(mode_label)
        row.addWidget(self.mode, 1)
        self.left_layout.insertLayout(0, row)

    def reader(self) -> Callable[[], list[views.RoutineGroup]]:
        store, mode = self.store, self.mode.currentData()
        return lambda: views.routine_groups(store, mode)

    def fill(self, groups: list[views.RoutineGroup]) -> None:
        self.model.setHorizontalHeaderLabels([tr("Owner / routine"), tr("Mode")])
        for group in groups:
            owner = group.owner_name or tr("Without owner")
            kind = tr("Forum") if group.owner_kind == "forums" else tr("Organisation")
            top = _group_item(f"{owner} ({kind.lower()})" if group.owner_name else owner)
            blank = QStandardItem("")
            blank.setEditable(False)
            for routine in group.routines:
                item = QStandardItem(routine.title)
                item.setData(routine.routine_id, ID_ROLE)
                item.setEditable(False)
                top.appendRow([item, _mode_item(routine.mode, current=False)])
            self.model.appendRow([top, blank])
