"""The directory (Katalog): organisations → their functions, ids first and rows on demand; the chosen function's detail beside it.

An organisation's functions are a list of ids fetched on a pool thread when it is expanded;
each function's line (name, best channel, how many channels) is fetched only when the view
paints it, a page at a time, also on a pool thread (Anki's find_cards + browser_row_for_id).
Until its line arrives a row says "…", so a list of 100,000 never holds the GUI thread.
A function reachable fewer than two ways carries a warning in words and a symbol.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import ngettext, tr
from desktop.ui import queries, theme
from desktop.ui.detail import RESILIENT_SYMBOL, WARNING_SYMBOL, DetailView, resilient_word
from desktop.ui.ops import LatestOnly, QueryOp
from sync.records import ORGANISATION_KINDS

PAGE = 200  # function lines fetched per request
CACHE_LIMIT = 20_000  # lines kept; beyond it the cache starts over (they are fetched again)
NO_PARENT = 0  # internalId of an organisation row; a function row holds its organisation's row + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_ROLE = Qt.ItemDataRole.UserRole + 2
COLUMNS = 3


class _Org:
    __slots__ = ("row", "ids", "positions", "loading")

    def __init__(self, row: queries.OrganisationRow) -> None:
        self.row = row
        self.ids: list[str] | None = None  # None until fetched
        self.positions: dict[str, int] | None = None
        self.loading = False


class DirectoryModel(QAbstractItemModel):
    """Two levels: organisations (all loaded; a region has hundreds) and functions (lazy)."""

    organisationsLoaded = Signal()
    functionsLoaded = Signal(int)  # organisation row

    def __init__(self, store: Any, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.kind: str | None = None
        self._orgs: list[_Org] = []
        self._rows: dict[str, queries.FunctionRow] = {}
        self._wanted: dict[str, int] = {}  # function id -> organisation row, waiting for its line
        self._asked: set[str] = set()
        self._page_timer = QTimer(self)
        self._page_timer.setSingleShot(True)
        self._page_timer.setInterval(0)
        self._page_timer.timeout.connect(self._fetch_lines)
        self._loader = LatestOnly(self)
        self.loaded = False

    # --- loading -------------------------------------------------------------------------------

    def reload(self) -> None:
        store, kind = self.store, self.kind
        self._loader.submit(lambda: queries.organisations(store, kind), self._set_organisations)

    def _set_organisations(self, rows: list[queries.OrganisationRow]) -> None:
        self.beginResetModel()
        self._orgs = [_Org(r) for r in rows]
        self._rows.clear()
        self._wanted.clear()
        self._asked.clear()
        self.endResetModel()
        self.loaded = True
        self.organisationsLoaded.emit()

    def organisation_row(self, organisation_id: str) -> int:
        return next((i for i, o in enumerate(self._orgs) if o.row.organisation_id == organisation_id), -1)

    def canFetchMore(self, parent: QModelIndex) -> bool:  # noqa: N802
        org = self._org_of(parent)
        return org is not None and org.ids is None and not org.loading and org.row.function_count > 0

    def fetchMore(self, parent: QModelIndex) -> None:  # noqa: N802
        org = self._org_of(parent)
        if org is None or org.ids is not None or org.loading:
            return
        org.loading = True
        store, organisation_id = self.store, org.row.organisation_id
        QueryOp(lambda: queries.function_ids(store, organisation_id),
                success=lambda ids: self._set_ids(org, ids), parent=self).run()

    def _set_ids(self, org: _Org, ids: list[str]) -> None:
        row = self._orgs.index(org) if org in self._orgs else -1
        org.loading = False
        if row < 0:
            return  # reloaded meanwhile
        parent = self.index(row, 0)
        if ids:
            self.beginInsertRows(parent, 0, len(ids) - 1)
            org.ids = ids
            self.endInsertRows()
        else:
            org.ids = []
        self.functionsLoaded.emit(row)

    def _line(self, org_row: int, function_id: str) -> queries.FunctionRow | None:
        line = self._rows.get(function_id)
        if line is None and function_id not in self._asked:
            self._wanted[function_id] = org_row
            if not self._page_timer.isActive():
                self._page_timer.start()
        return line

    def _fetch_lines(self) -> None:
        if not self._wanted:
            return
        wanted = dict(list(self._wanted.items())[:PAGE])
        for function_id in wanted:
            del self._wanted[function_id]
        self._asked.update(wanted)
        store = self.store
        QueryOp(lambda: queries.function_rows(store, list(wanted)),
                success=lambda rows: self._set_lines(wanted, rows), parent=self).run()
        if self._wanted:
            self._page_timer.start()

    def _set_lines(self, wanted: dict[str, int], rows: dict[str, queries.FunctionRow]) -> None:
        if len(self._rows) + len(rows) > CACHE_LIMIT:
            self._rows.clear()
            self._asked.clear()
        self._rows.update(rows)
        self._asked.difference_update(wanted)
        for function_id, org_row in wanted.items():
            if org_row >= len(self._orgs):
                continue
            org = self._orgs[org_row]
            if org.ids is None:
                continue
            if org.positions is None:
                org.positions = {fid: i for i, fid in enumerate(org.ids)}
            position = org.positions.get(function_id)
            if position is not None:
                parent = self.index(org_row, 0)
                self.dataChanged.emit(self.index(position, 0, parent), self.index(position, COLUMNS - 1, parent))

    # --- the tree ------------------------------------------------------------------------------

    def _org_of(self, parent: QModelIndex) -> _Org | None:
        if parent.isValid() and parent.internalId() == NO_PARENT and parent.row() < len(self._orgs):
            return self._orgs[parent.row()]
        return None

    def index(self, row: int, column: int, parent: QModelIndex = QModelIndex()) -> QModelIndex:
        if column < 0 or column >= COLUMNS or row < 0:
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, NO_PARENT) if row < len(self._orgs) else QModelIndex()
        org = self._org_of(parent)
        if org is None or org.ids is None or row >= len(org.ids):
            return QModelIndex()
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index: QModelIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid() or index.internalId() == NO_PARENT:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, NO_PARENT)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        if not parent.isValid():
            return len(self._orgs)
        org = self._org_of(parent)
        if org is None or parent.column() != 0:
            return 0
        return len(org.ids) if org.ids is not None else 0

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return COLUMNS

    def hasChildren(self, parent: QModelIndex = QModelIndex()) -> bool:  # noqa: N802
        if not parent.isValid():
            return bool(self._orgs)
        org = self._org_of(parent)
        return org is not None and parent.column() == 0 and org.row.function_count > 0

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return (tr("Organisation / function"), tr("Best channel"), tr("Note"))[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if index.internalId() == NO_PARENT:
            return self._org_data(self._orgs[index.row()].row, index.column(), role)
        org_row = index.internalId() - 1
        org = self._orgs[org_row]
        function_id = org.ids[index.row()]  # type: ignore[index]
        if role == ID_ROLE:
            return function_id
        if role == KIND_ROLE:
            return "functions"
        line = self._line(org_row, function_id)
        return self._function_data(line, index.column(), role)

    def _org_data(self, row: queries.OrganisationRow, column: int, role: int) -> Any:
        if role == ID_ROLE:
            return row.organisation_id
        if role == KIND_ROLE:
            return "organisations"
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if column == 0:
                return row.name
            if column == 2:
                kind = queries.organisation_kind_label(row.kind) if row.kind else ""
                count = ngettext("{count} function", "{count} functions", row.function_count).format(count=row.function_count)
                return " · ".join(p for p in (kind, count) if p)
        return None

    def _function_data(self, line: queries.FunctionRow | None, column: int, role: int) -> Any:
        if line is None:
            return "…" if role == Qt.ItemDataRole.DisplayRole and column == 0 else None
        t = theme.current(QApplication.instance())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if column == 0:
                return line.name
            if column == 1:
                return f"{line.best.shown} ({line.best.kind_label})" if line.best else tr("no channel")
            notes = []
            if line.too_few_channels:
                notes.append(f"{WARNING_SYMBOL} " + ngettext("only {count} channel", "only {count} channels", line.channel_count).format(count=line.channel_count))
            if line.resilient:
                notes.append(f"{RESILIENT_SYMBOL} {resilient_word()}")
            if line.is_contact_point:
                notes.append(tr("ISK"))
            return " · ".join(notes)
        if role == Qt.ItemDataRole.ForegroundRole and column == 2:
            return QBrush(t.qcolor("warning" if line.too_few_channels else "muted"))
        if role == Qt.ItemDataRole.ToolTipRole and column == 2 and line.too_few_channels:
            return tr("A function reachable only one way is one failure from unreachable.")
        return None


class DirectoryView(QWidget):
    def __init__(self, store: Any, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("directory")
        self.store = store
        self.model = DirectoryModel(store, self)
        self.tree = QTreeView(self)
        self.tree.setObjectName("directoryTree")
        self.tree.setAccessibleName(tr("Directory: organisations and their functions"))
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 200)
        header.resizeSection(2, 200)
        self.kind = QComboBox(self)
        self.kind.setObjectName("organisationKind")
        self.kind.setAccessibleName(tr("Kind of organisation"))
        self.kind.addItem(tr("All kinds of organisation"), None)
        for kind in ORGANISATION_KINDS:
            self.kind.addItem(queries.organisation_kind_label(kind), kind)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        filter_row = QHBoxLayout()
        kind_label = QLabel(tr("Show:"), self)
        kind_label.setBuddy(self.kind)
        filter_row.addWidget(kind_label)
        filter_row.addWidget(self.kind, 1)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(filter_row)
        left_layout.addWidget(self.tree)
        self.detail = DetailView(store, self)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([700, 460])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.tree.selectionModel().currentRowChanged.connect(self._current_changed)
        self.tree.activated.connect(self._activated)
        self._expanded: set[str] = set()
        self.model.organisationsLoaded.connect(self._restore_expanded)
        self.tree.expanded.connect(self._remember_expanded)
        self.tree.collapsed.connect(lambda index: self._expanded.discard(index.data(ID_ROLE)))

    def showEvent(self, event) -> None:  # noqa: N802
        if not self.model.loaded:
            self.model.reload()
        super().showEvent(event)

    def refresh(self) -> None:
        if self.model.loaded:
            self.model.reload()

    def _kind_changed(self) -> None:
        self.model.kind = self.kind.currentData()
        self.model.reload()

    def _remember_expanded(self, index: QModelIndex) -> None:
        self._expanded.add(index.data(ID_ROLE))

    def _restore_expanded(self) -> None:
        for organisation_id in list(self._expanded):
            row = self.model.organisation_row(organisation_id)
            if row >= 0:
                self.tree.expand(self.model.index(row, 0))
        if self.model.rowCount() and not self.tree.currentIndex().isValid():
            self.tree.setCurrentIndex(self.model.index(0, 0))

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        record_id = current.data(ID_ROLE) if current.isValid() else None
        if record_id:
            self.detail.open(current.data(KIND_ROLE), record_id)

    def _activated(self, index: QModelIndex) -> None:
        if index.data(KIND_ROLE) == "functions":
            self.detail.open("functions", index.data(ID_ROLE), focus=True)
        else:
            self.tree.setExpanded(index, not self.tree.isExpanded(index))

    def copy(self) -> None:
        self.detail.copy_current()

    def focus_list(self) -> None:
        self.tree.setFocus(Qt.FocusReason.ShortcutFocusReason)
