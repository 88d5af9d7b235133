"""The lists behind the status bar's counters: conflicts to resolve, changes the server refused, records kept aside.

Conflicts: one line each — the field's label, the record, and who (device and organisation,
from the device directory) — and for the chosen one both values side by side with "Keep mine",
"Keep theirs" and "Enter another value" (desktop/syncer/conflicts.resolve: an ordinary change
that syncs). Rejected changes: the reason in words, with "Discard the change" (the record
returns to the server's values) and "Try again" (sent at the next synchronisation). Records
kept aside because they broke the schema are listed for the administrator; nothing is asked.

Every action runs as a CollectionOp; the lists are read on a pool thread and read again when
the store changes.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import views
from desktop.i18n import tr
from desktop.ui.messages import bridge, describe_error
from desktop.ui.ops import CollectionOp, LatestOnly, StoreEvents
from desktop.ui.widgets import error_label, show_error

ID_ROLE = Qt.ItemDataRole.UserRole + 1


def fill_list(widget: QListWidget, empty: QLabel, lines: list[tuple[str, str]], current: str | None) -> None:
    """One line per (id, text); the empty list says so in words; the line chosen before stays
    chosen, else the first."""
    widget.clear()
    for record_id, text in lines:
        item = QListWidgetItem(text)
        item.setData(ID_ROLE, record_id)
        widget.addItem(item)
    empty.setVisible(not lines)
    widget.setVisible(bool(lines))
    ids = [record_id for record_id, _text in lines]
    widget.setCurrentRow(ids.index(current) if current in ids else (0 if lines else -1))


def _side_box(parent: QWidget, name: str) -> tuple[QFrame, QLabel, QLabel]:
    box = QFrame(parent)
    box.setObjectName(name)
    box.setFrameShape(QFrame.Shape.StyledPanel)
    heading = QLabel(box)
    heading.setWordWrap(True)
    value = QLabel(box)
    value.setObjectName(f"{name}Value")
    value.setWordWrap(True)
    value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    font = value.font()
    font.setPointSizeF(font.pointSizeF() * 1.2)
    value.setFont(font)
    layout = QVBoxLayout(box)
    layout.addWidget(heading)
    layout.addWidget(value)
    layout.addStretch(1)
    return box, heading, value


class ConflictsPage(QWidget):
    resolved = Signal()

    def __init__(self, store: Any, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.rows: list[views.ConflictRow] = []
        self.list = QListWidget(self)
        self.list.setObjectName("conflicts")
        self.list.setAccessibleName(tr("Conflicts"))
        self.empty = QLabel(tr("No conflicts: every change made elsewhere fitted with yours."), self)
        self.empty.setObjectName("noConflicts")
        self.mine_box, self.mine_heading, self.mine_value = _side_box(self, "mine")
        self.theirs_box, self.theirs_heading, self.theirs_value = _side_box(self, "theirs")
        sides = QGridLayout()
        sides.addWidget(self.mine_box, 0, 0)
        sides.addWidget(self.theirs_box, 0, 1)
        self.keep_mine = QPushButton(tr("Keep mine"), self)
        self.keep_mine.setObjectName("keepMine")
        self.keep_theirs = QPushButton(tr("Keep theirs"), self)
        self.keep_theirs.setObjectName("keepTheirs")
        self.other = QPushButton(tr("Enter another value"), self)
        self.other.setObjectName("enterOther")
        self.other_value = QLineEdit(self)
        self.other_value.setObjectName("otherValue")
        self.other_value.setAccessibleName(tr("Another value"))
        self.other_value.setPlaceholderText(tr("The value to keep, then Enter"))
        self.other_value.hide()
        self.error = error_label(self, "conflictError")
        buttons = QHBoxLayout()
        for button in (self.keep_mine, self.keep_theirs, self.other):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        layout.addLayout(sides)
        layout.addLayout(buttons)
        layout.addWidget(self.other_value)
        layout.addWidget(self.error)
        self.list.currentRowChanged.connect(self._chosen)
        self.keep_mine.clicked.connect(lambda: self._resolve(self._mine_keep()))
        self.keep_theirs.clicked.connect(lambda: self._resolve(self._theirs_keep()))
        self.other.clicked.connect(self._ask_other)
        self.other_value.returnPressed.connect(lambda: self._resolve(self.other_value.text()))
        self._loader = LatestOnly(self)
        self.loaded = False
        self._chosen(-1)

    def reload(self) -> None:
        store = self.store
        self._loader.submit(lambda: views.conflict_rows(store), self._show)

    def _show(self, rows: list[views.ConflictRow]) -> None:
        current = self.current()
        self.rows = rows
        lines = []
        for row in rows:
            view = row.view
            who = view.other_device if row.mine == views.MINE_KEPT else view.kept_device
            text = tr("{field} of {kind} “{title}” – also changed by {who}", field=view.field_label, kind=row.kind.lower(),
                      title=view.record_title, who=who or "?")
            lines.append((view.id, f"⚠ {text}"))
        fill_list(self.list, self.empty, lines, current.view.id if current is not None else None)
        self.loaded = True
        self._chosen(self.list.currentRow())

    def current(self) -> views.ConflictRow | None:
        row = self.list.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def _sides(self, row: views.ConflictRow) -> tuple[tuple[str, Any, str | None, str | None], tuple[str, Any, str | None, str | None]]:
        """(keep word, value, device, when) of this device's side and of the other one."""
        view = row.view
        kept = ("kept", view.kept_value, view.kept_device, view.kept_when)
        other = ("other", view.other_value, view.other_device, view.other_when)
        return (other, kept) if row.mine == views.MINE_OTHER else (kept, other)

    def _chosen(self, _row: int) -> None:
        row = self.current()
        for widget in (self.mine_box, self.theirs_box, self.keep_mine, self.keep_theirs, self.other):
            widget.setVisible(row is not None)
        self.other_value.hide()
        show_error(self.error, "")
        if row is None:
            return
        view = row.view
        mine, theirs = self._sides(row)
        if row.mine is None:  # both from other devices: name each side by its value's age
            self.mine_heading.setText(tr("Now: {device}, {when}", device=mine[2] or "?", when=mine[3] or "?"))
            self.keep_mine.setText(tr("Keep this value"))
            self.keep_theirs.setText(tr("Keep the other value"))
        else:
            self.mine_heading.setText(tr("Mine: {device}, {when}", device=mine[2] or "?", when=mine[3] or "?"))
            self.keep_mine.setText(tr("Keep mine"))
            self.keep_theirs.setText(tr("Keep theirs"))
        self.theirs_heading.setText(tr("Theirs: {device}, {when}", device=theirs[2] or "?", when=theirs[3] or "?")
                                    if row.mine is not None else
                                    tr("Other: {device}, {when}", device=theirs[2] or "?", when=theirs[3] or "?"))
        self.mine_value.setText(views.value_text(view.collection, view.field, mine[1]))
        self.theirs_value.setText(views.value_text(view.collection, view.field, theirs[1]))
        for box, value in ((self.mine_box, self.mine_value), (self.theirs_box, self.theirs_value)):
            box.setAccessibleName(f"{box.findChild(QLabel).text()}: {value.text()}")
        gone = view.record_deleted
        self.keep_theirs.setEnabled(not gone or theirs[0] == "kept")
        self.keep_mine.setEnabled(not gone or mine[0] == "kept")
        self.other.setEnabled(not gone)

    def _mine_keep(self) -> str | None:
        row = self.current()
        return self._sides(row)[0][0] if row is not None else None

    def _theirs_keep(self) -> str | None:
        row = self.current()
        return self._sides(row)[1][0] if row is not None else None

    def _ask_other(self) -> None:
        row = self.current()
        if row is None:
            return
        self.other_value.setText(views.value_text(row.view.collection, row.view.field, row.view.kept_value)
                                 if row.view.kept_value is not None else "")
        self.other_value.show()
        self.other_value.setFocus(Qt.FocusReason.OtherFocusReason)
        self.other_value.selectAll()

    def _resolve(self, keep: str | None) -> None:
        row = self.current()
        if row is None or keep is None:
            return
        from desktop.syncer.conflicts import resolve

        store, conflict_id = self.store, row.view.id
        show_error(self.error, "")

        def done(_result) -> None:
            bridge().report_info(tr("Conflict resolved: {field} of “{title}”.", field=row.view.field_label,
                                    title=row.view.record_title))
            self.resolved.emit()
            self.reload()

        CollectionOp(lambda: resolve(store, conflict_id, keep), success=done, parent=self).failure(
            lambda error: show_error(self.error, describe_error(error))).run()


class RejectedPage(QWidget):
    retried = Signal()

    def __init__(self, engine: Any, parent=None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.rows: list[Any] = []
        self.list = QListWidget(self)
        self.list.setObjectName("rejected")
        self.list.setAccessibleName(tr("Rejected changes"))
        self.list.setWordWrap(True)
        self.empty = QLabel(tr("No rejected changes: the server took every change sent."), self)
        self.empty.setObjectName("noRejected")
        self.discard = QPushButton(tr("Discard the change"), self)
        self.discard.setObjectName("discardChange")
        self.discard.setToolTip(tr("The record returns to the values the server holds."))
        self.retry = QPushButton(tr("Try again"), self)
        self.retry.setObjectName("retryChange")
        self.retry.setToolTip(tr("The change is sent again at the next synchronisation (once it may be)."))
        self.error = error_label(self, "rejectedError")
        buttons = QHBoxLayout()
        buttons.addWidget(self.discard)
        buttons.addWidget(self.retry)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)
        layout.addWidget(self.error)
        self.discard.clicked.connect(lambda: self._act("discard"))
        self.retry.clicked.connect(lambda: self._act("retry"))
        self.list.currentRowChanged.connect(lambda row: self._enable())
        self._loader = LatestOnly(self)
        self.loaded = False
        self._enable()

    def reload(self) -> None:
        engine = self.engine
        self._loader.submit(engine.rejected, self._show)

    def _show(self, rows: list[Any]) -> None:
        from desktop.syncer.messages import when_text

        current = self.list.currentItem().data(ID_ROLE) if self.list.currentItem() else None
        self.rows = rows
        lines = []
        for change in rows:
            what = tr("{kind} “{title}”", kind=views.kind_word(change.collection), title=change.title)
            lines.append((change.change_id, f"✗ {what}: {change.reason} ({when_text(change.rejected_at)})"))
        fill_list(self.list, self.empty, lines, current)
        self.loaded = True
        self._enable()

    def _enable(self) -> None:
        chosen = self.list.currentRow() >= 0
        self.discard.setEnabled(chosen)
        self.retry.setEnabled(chosen)

    def _act(self, what: str) -> None:
        row = self.list.currentRow()
        if not 0 <= row < len(self.rows):
            return
        change = self.rows[row]
        engine = self.engine
        show_error(self.error, "")

        def done(_result) -> None:
            if what == "retry":
                bridge().report_info(tr("“{title}” is sent again at the next synchronisation.", title=change.title))
                self.retried.emit()
            else:
                bridge().report_info(tr("The change to “{title}” is discarded; the record holds the server's values.",
                                        title=change.title))
            self.reload()

        work = (lambda: engine.retry(change.change_id)) if what == "retry" else (lambda: engine.discard(change.change_id))
        CollectionOp(work, success=done, parent=self).failure(
            lambda error: show_error(self.error, describe_error(error))).run()


class QuarantinePage(QWidget):
    def __init__(self, store: Any, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.list = QListWidget(self)
        self.list.setObjectName("quarantined")
        self.list.setAccessibleName(tr("Records kept aside"))
        about = QLabel(tr(
            "These records came from the server but broke the rules of the data, so they were kept "
            "aside and are not used. Nothing of yours is lost. Tell the administrator of the server."), self)
        about.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addWidget(self.list, 1)
        self._loader = LatestOnly(self)

    def reload(self) -> None:
        store = self.store
        self._loader.submit(store.quarantined, self._show)

    def _show(self, rows) -> None:
        self.list.clear()
        for row in rows:
            kind = views.kind_word(row.collection or "?")
            field = f" ({row.field})" if row.field else ""
            self.list.addItem(f"{kind} {row.record_id or '?'}{field}: {row.reason}")


class SyncIssuesDialog(QDialog):
    """Conflicts, rejected changes and records kept aside, as tabs (Ctrl+Tab between them)."""

    syncRequested = Signal()

    def __init__(self, session: Any, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("syncIssues")
        self.setWindowTitle(tr("Conflicts and rejected changes"))
        self.tabs = QTabWidget(self)
        self.conflicts = ConflictsPage(session.store, self)
        self.rejected = RejectedPage(session.engine, self)
        self.quarantine = QuarantinePage(session.store, self)
        self.tabs.addTab(self.conflicts, tr("Conflicts"))
        self.tabs.addTab(self.rejected, tr("Rejected changes"))
        self.tabs.addTab(self.quarantine, tr("Kept aside"))
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.hide)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(close)
        self.rejected.retried.connect(self.syncRequested)
        self.store_events = StoreEvents(session.store, self)
        self.store_events.changed.connect(lambda _changes: self.reload() if self.isVisible() else None)
        self.resize(720, 440)

    def reload(self) -> None:
        self.conflicts.reload()
        self.rejected.reload()
        self.quarantine.reload()

    def show_page(self, key: str) -> None:
        self.tabs.setCurrentWidget({"conflicts": self.conflicts, "rejected": self.rejected}[key])
        self.reload()
        from desktop.app import bring_to_front

        bring_to_front(self)
        page = self.tabs.currentWidget()
        page.list.setFocus(Qt.FocusReason.OtherFocusReason)

    def detach(self) -> None:
        self.store_events.detach()
