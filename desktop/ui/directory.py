"""The directory (Katalog): organisations → their functions → the chosen function's channels, in three panes.

An organisation's functions are a list of ids fetched on a pool thread when it is chosen; each
function's line (name, best channel, how many channels) is fetched only when the view paints
it, a page at a time, also on a pool thread (Anki's find_cards + browser_row_for_id). Until its
line arrives a row says "…", so a list of 100,000 never holds the GUI thread. The functions are
a flat table rather than branches of one tree: a tree view lays out every child of an expanded
branch through the (Python) model, 0.47 s for 100,000 here; a table asks only for the rows it
paints. A function reachable fewer than two ways carries a warning in words and a symbol.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QAbstractTableModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import ngettext, tr
from desktop import views
from desktop.ui import theme
from desktop.ui.detail import RESILIENT_SYMBOL, WARNING_SYMBOL, DetailView, resilient_word
from desktop.ui.ops import LatestOnly, QueryOp
from desktop.ui.widgets import fill, panes
from sync.records import ORGANISATION_KINDS

PAGE = 200  # function lines fetched per request
CACHE_LIMIT = 20_000  # lines kept; beyond it the cache starts over (they are fetched again)
ID_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = 3


class OrganisationsModel(QAbstractListModel):
    """Every live organisation (a region has hundreds, not thousands), by name."""

    loaded = Signal()

    def __init__(self, store: Any, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.kind: str | None = None
        self.rows: list[views.OrganisationRow] = []
        self._loader = LatestOnly(self)
        self.ready = False

    def reload(self) -> None:
        store, kind = self.store, self.kind
        self._loader.submit(lambda: views.organisations(store, kind), self._set)

    def _set(self, rows: list[views.OrganisationRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()
        self.ready = True
        self.loaded.emit()

    def row_of(self, organisation_id: str | None) -> int:
        return next((i for i, r in enumerate(self.rows) if r.organisation_id == organisation_id), -1)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == ID_ROLE:
            return row.organisation_id
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{row.name}  ({row.function_count})"
        if role in (Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole):
            kind = views.organisation_kind_label(row.kind) if row.kind else ""
            count = ngettext("{count} function", "{count} functions", row.function_count).format(count=row.function_count)
            return ", ".join(p for p in (row.name, kind, count) if p)
        return None


class FunctionsModel(QAbstractTableModel):
    """One organisation's functions: ids first, each line read when it is painted."""

    idsLoaded = Signal()

    def __init__(self, store: Any, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.organisation_id: str | None = None
        self.ids: list[str] = []
        self._lines: dict[str, views.FunctionRow] = {}
        self._wanted: list[str] = []
        # id -> the row that asked for it (a dict of all 100,000 positions costs 65 ms to build)
        self._asked: dict[str, int] = {}
        self._ids_loader = LatestOnly(self)
        self._page_timer = QTimer(self)
        self._page_timer.setSingleShot(True)
        self._page_timer.setInterval(0)
        self._page_timer.timeout.connect(self._fetch_lines)

    @property
    def cached_lines(self) -> int:
        return len(self._lines)

    def show_organisation(self, organisation_id: str | None) -> None:
        self.organisation_id = organisation_id
        store = self.store
        if organisation_id is None:
            self._set_ids(None, [])
            return
        self._ids_loader.submit(lambda: views.function_ids(store, organisation_id),
                                lambda ids: self._set_ids(organisation_id, ids))

    def reload(self) -> None:
        self._lines.clear()
        self.show_organisation(self.organisation_id)

    def _set_ids(self, organisation_id: str | None, ids: list[str]) -> None:
        if organisation_id != self.organisation_id:
            return
        self.beginResetModel()
        self.ids = ids
        self._wanted.clear()
        self._asked.clear()
        if len(self._lines) > CACHE_LIMIT:
            self._lines.clear()
            self._asked.clear()
        self.endResetModel()
        self.idsLoaded.emit()

    def _line(self, function_id: str, row: int) -> views.FunctionRow | None:
        line = self._lines.get(function_id)
        if line is None and function_id not in self._asked:
            self._asked[function_id] = row
            self._wanted.append(function_id)
            if not self._page_timer.isActive():
                self._page_timer.start()
        return line

    def _fetch_lines(self) -> None:
        if not self._wanted:
            return
        page, self._wanted = self._wanted[:PAGE], self._wanted[PAGE:]
        store = self.store
        QueryOp(lambda: views.function_rows(store, page),
                success=lambda rows: self._set_lines(page, rows), parent=self).failure(
                    lambda _error: [self._asked.pop(fid, None) for fid in page]).run()
        if self._wanted:
            self._page_timer.start()

    def _set_lines(self, page: list[str], rows: dict[str, views.FunctionRow]) -> None:
        if len(self._lines) + len(rows) > CACHE_LIMIT:
            self._lines.clear()
        self._lines.update(rows)
        for function_id in page:
            row = self._asked.pop(function_id, None)
            if row is not None and row < len(self.ids) and self.ids[row] == function_id:
                self.dataChanged.emit(self.index(row, 0), self.index(row, COLUMNS - 1))

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else COLUMNS

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return (tr("Function"), tr("Best channel"), tr("Note"))[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.ids):
            return None
        function_id = self.ids[index.row()]
        if role == ID_ROLE:
            return function_id
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole,
                        Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.ToolTipRole):
            return None
        line = self._line(function_id, index.row())
        if line is None:
            return "…" if role == Qt.ItemDataRole.DisplayRole and index.column() == 0 else None
        return self._line_data(line, index.column(), role)

    def _line_data(self, line: views.FunctionRow, column: int, role: int) -> Any:
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
        if role == Qt.ItemDataRole.ForegroundRole and column == 2 and line.too_few_channels:
            return QBrush(theme.current(QApplication.instance()).qcolor("warning"))
        if role == Qt.ItemDataRole.ToolTipRole and column == 2 and line.too_few_channels:
            return tr("A function reachable only one way is one failure from unreachable.")
        return None


class _FunctionsTable(QTableView):
    """←: back to the organisations."""

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Left and not event.modifiers():
            self.parent_view.organisations.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        super().keyPressEvent(event)


class _OrganisationsList(QListView):
    """→ or Enter: on to the organisation's functions."""

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Right, Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            self.parent_view.focus_functions()
            return
        super().keyPressEvent(event)


class DirectoryView(QWidget):
    def __init__(self, store: Any, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("directory")
        self.store = store
        self.orgs = OrganisationsModel(store, self)
        self.functions_model = FunctionsModel(store, self)
        self.organisations = _OrganisationsList(self)
        self.organisations.parent_view = self
        self.organisations.setObjectName("organisations")
        self.organisations.setAccessibleName(tr("Organisations"))
        self.organisations.setModel(self.orgs)
        self.organisations.setUniformItemSizes(True)
        self.organisations.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.functions = _FunctionsTable(self)
        self.functions.parent_view = self
        self.functions.setObjectName("functions")
        self.functions.setAccessibleName(tr("The organisation's functions"))
        self.functions.setModel(self.functions_model)
        self.functions.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.functions.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.functions.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.functions.setAlternatingRowColors(True)
        self.functions.setShowGrid(False)
        self.functions.setWordWrap(False)
        self.functions.verticalHeader().hide()
        self.functions.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.functions.verticalHeader().setDefaultSectionSize(self.functions.fontMetrics().height() + 8)
        header = self.functions.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 165)
        header.resizeSection(2, 125)
        self.kind = QComboBox(self)
        self.kind.setObjectName("organisationKind")
        self.kind.setAccessibleName(tr("Kind of organisation"))
        self.kind.addItem(tr("All kinds of organisation"), None)
        for kind in ORGANISATION_KINDS:
            self.kind.addItem(views.organisation_kind_label(kind), kind)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        kind_label = QLabel(tr("Show:"), self)
        kind_label.setBuddy(self.kind)
        filter_row = QHBoxLayout()
        filter_row.addWidget(kind_label)
        filter_row.addWidget(self.kind, 1)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(filter_row)
        left_layout.addWidget(self.organisations)
        self.detail = DetailView(store, self)
        fill(self, panes(self, left, self.functions, self.detail, stretch=(2, 5, 4), sizes=[270, 560, 440]))
        self.organisations.selectionModel().currentRowChanged.connect(self._organisation_changed)
        self.functions.selectionModel().currentRowChanged.connect(self._function_changed)
        self.functions.activated.connect(self._function_activated)
        self.orgs.loaded.connect(self._restore_organisation)
        self.functions_model.idsLoaded.connect(self._first_function)
        self._chosen_org: str | None = None

    def showEvent(self, event) -> None:  # noqa: N802
        if not self.orgs.ready:
            self.orgs.reload()
        super().showEvent(event)

    def refresh(self) -> None:
        if self.orgs.ready:
            self.orgs.reload()
            self.functions_model.reload()
            self.detail.reload()

    def edit_context(self):
        return self.detail.list_context()

    def _kind_changed(self) -> None:
        self.orgs.kind = self.kind.currentData()
        self.orgs.reload()

    def _restore_organisation(self) -> None:
        row = self.orgs.row_of(self._chosen_org)
        if row < 0 and self.orgs.rowCount():
            row = 0
        if row >= 0:
            self.organisations.setCurrentIndex(self.orgs.index(row))

    def _organisation_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        organisation_id = current.data(ID_ROLE) if current.isValid() else None
        if organisation_id != self._chosen_org or organisation_id != self.functions_model.organisation_id:
            self._chosen_org = organisation_id
            self.functions_model.show_organisation(organisation_id)
            if organisation_id:
                self.detail.open("organisations", organisation_id)

    def _first_function(self) -> None:
        if self.functions_model.rowCount() and not self.functions.currentIndex().isValid():
            self.functions.selectionModel().setCurrentIndex(
                self.functions_model.index(0, 0), self.functions.selectionModel().SelectionFlag.NoUpdate)

    def _function_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        function_id = current.data(ID_ROLE) if current.isValid() else None
        if function_id and self.functions.hasFocus():
            self.detail.open("functions", function_id)

    def _function_activated(self, index: QModelIndex) -> None:
        function_id = index.data(ID_ROLE)
        if function_id:
            self.detail.open("functions", function_id, focus=True)

    def focus_functions(self) -> None:
        self.functions.setFocus(Qt.FocusReason.OtherFocusReason)
        index = self.functions.currentIndex()
        if not index.isValid() and self.functions_model.rowCount():
            index = self.functions_model.index(0, 0)
        if index.isValid():
            self.functions.setCurrentIndex(index)
            self.functions.selectRow(index.row())
            self.detail.open("functions", index.data(ID_ROLE))

    def copy(self) -> None:
        self.detail.copy_current()

    def focus_list(self) -> None:
        self.organisations.setFocus(Qt.FocusReason.ShortcutFocusReason)
