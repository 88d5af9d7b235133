"""The Aktiveringar view (Ctrl+5): open activations first, then past; the chosen one's page with its call-out list, checklists, journal and report-back.

Keyboard alone: in the call list 1 2 3 4 mark the chosen function ingen svarar / nådd / deltar
/ avböjer and Ctrl+C copies its number as dialled (Tab to its channels for another); space ticks
or unticks a checklist step; Ctrl+N writes a journal entry from anywhere on the page, Ctrl+E a
correction of the chosen entry, Ctrl+Shift+L a situation report; Ctrl+P prints the journal.
Every mark, tick and entry is an append-only record written through ActivationService on the
write thread; what this device may not write is disabled, and the reason is said on the page.

Times since the activation and each function's time to answer are kept current by a one-second
timer that only repaints (the server-corrected "now" is read with each load and carried
forward). The journal is a table model over the loaded entries: 2,000 entries are a list, and
only the rows on screen are painted. Each part (call list, checklists, journal, report-back)
loads on its own pool thread and reloads only when its records change; on opening an activation
the call list and the tab shown load first and the others a moment later (measured in
tests/perf/bench_window_activation.py: a journal's read held the call list back).
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QFont, QGuiApplication, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from desktop.activation.model import (
    ActivationSummary,
    CallList,
    CallListRow,
    Checklist,
    Journal,
    JournalEntry,
    ReportBacks,
)
from desktop.activation.words import STATUS_KEYS, elapsed_text, exercise_word, status_label
from desktop.i18n import N_, ngettext, tr
from desktop.syncer.messages import when_text
from desktop.ui import theme
from desktop.ui.activation_watch import (
    ACTIVATED_SYMBOL,
    EXERCISE_SYMBOL,
    ServerClock,
    badge_colours,
    clock_text,
)
from desktop.ui.activation_models import (
    ID_ROLE,
    UNREACHED_SYMBOL,
    CallListModel,
    CallPart,
    JournalModel,
    entry_html,
    state_words,
)
from desktop.ui.detail import ChannelsView, WrappedTextDelegate, copy_channel
from desktop.ui.editing import EditContext, Target
from desktop.ui.messages import bridge
from desktop.ui.ops import CollectionOp, LatestOnly
from desktop.ui.widgets import fill, panes

DONE_ROLE = Qt.ItemDataRole.UserRole + 2
TICK_MS = 1000

# Which parts of a page a change of a collection touches (anything else: every part).
PARTS = {
    "activations": {"call", "checklists", "journal", "report_backs", "list"},
    "forums": {"call", "checklists", "report_backs", "list"},
    "mandates": {"call", "report_backs"},
    "functions": {"call", "journal", "checklists"},
    "channels": {"call"},
    "organisations": {"call", "report_backs", "journal"},
    "callout_events": {"call"},
    "checklist_marks": {"checklists"},
    "routines": {"checklists"},
    "routine_steps": {"checklists"},
    "log_entries": {"journal"},
    "report_backs": {"report_backs"},
    "outbox": set(),
    "conflicts": set(),
}
ALL_PARTS = {"call", "checklists", "journal", "report_backs", "list"}

TAB_NAMES = (N_("&Call-out"), N_("Chec&klists"), N_("&Journal"), N_("&Report-back"))
CALL_TAB, CHECKLIST_TAB, JOURNAL_TAB, REPORT_TAB = range(4)
TAB_PARTS = ("call", "checklists", "journal", "report_backs")  # what each tab shows
LATER_MS = 40  # the parts not shown wait this long after the shown ones: time to paint them


# --- the views inside a page ---------------------------------------------------------------------


def _table(parent: QWidget, name: str, accessible: str, model, cls=QTableView) -> QTableView:
    table = cls(parent)
    table.setObjectName(name)
    table.setAccessibleName(accessible)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setTabKeyNavigation(False)
    table.verticalHeader().hide()
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    table.horizontalHeader().setHighlightSections(False)
    return table


def _widths(table: QTableView, characters: tuple[int, ...]) -> None:
    """Columns as wide as so many average characters; the last takes the rest. (Measuring every
    row's contents would lay out all 2,000 journal entries.)"""
    header = table.horizontalHeader()
    width = table.fontMetrics().averageCharWidth()
    for column, count in enumerate(characters):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(column, count * width + 16)
    header.setStretchLastSection(True)


class CallTable(QTableView):
    """1 2 3 4 mark the chosen function; Enter goes to its channels."""

    marked = Signal(str)  # status
    toChannels = Signal()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        status = STATUS_KEYS.get(event.text()) if not modifiers else None
        if status is not None:
            self.marked.emit(status)
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not modifiers:
            self.toChannels.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class StepsTree(QTreeView):
    """Space (or Enter) ticks or unticks the chosen step."""

    toggled = Signal()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            self.toggled.emit()
            event.accept()
            return
        super().keyPressEvent(event)


def _tree(parent: QWidget, name: str, accessible: str, cls=QTreeView) -> tuple[QTreeView, QStandardItemModel]:
    model = QStandardItemModel(parent)
    tree = cls(parent)
    tree.setObjectName(name)
    tree.setAccessibleName(accessible)
    tree.setModel(model)
    tree.setUniformRowHeights(True)
    tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    tree.setAllColumnsShowFocus(True)
    tree.setAlternatingRowColors(True)
    return tree, model


def _item(text: str, data: Any = None) -> QStandardItem:
    item = QStandardItem(text)
    item.setEditable(False)
    if data is not None:
        item.setData(data, ID_ROLE)
    return item


def _bold(item: QStandardItem) -> QStandardItem:
    font = item.font()
    font.setWeight(QFont.Weight.Bold)
    item.setFont(font)
    return item


def _badge(label: QLabel, summary: ActivationSummary | None, text: str) -> None:
    background, colour = badge_colours(summary)
    label.setText(f" {text} ")
    label.setStyleSheet(f"background-color: {background.name()}; color: {colour.name()}; font-weight: bold; padding: 2px 6px;")
    label.setAccessibleName(text)


class ActivationPage(QWidget):
    """One activation: its header and the four tabs. ``show_activation(id)`` loads it."""

    contextChanged = Signal()
    printRequested = Signal()

    def __init__(self, store: Any, parent=None) -> None:
        from desktop.activation import ActivationService

        super().__init__(parent)
        self.setObjectName("activationPage")
        self.store = store
        self.service = ActivationService(store)
        self.activation_id: str | None = None
        self.summary: ActivationSummary | None = None
        self.call: CallPart | None = None
        self.journal: Journal | None = None
        self.checklists: list[Checklist] = []
        self.report_backs: ReportBacks | None = None
        self.clock = ServerClock()
        self.dialog = None  # the open form (for tests and to keep it alive)
        self._loaders = {part: LatestOnly(self) for part in ("call", "checklists", "journal", "report_backs")}
        self._waiting: set[str] = set()  # parts of the first wave not shown yet (reload)
        self._later: set[str] = set()  # parts that start once the first wave is shown
        self._later_timer = QTimer(self)
        self._later_timer.setSingleShot(True)
        self._later_timer.setInterval(LATER_MS)
        self._later_timer.timeout.connect(self._start_later)
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)
        self.show_empty()

    # --- building ------------------------------------------------------------------------------

    def _build(self) -> None:
        self.title = QLabel(self)
        self.title.setObjectName("activationTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setWeight(QFont.Weight.Bold)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.state = QLabel(self)
        self.state.setObjectName("activationState")
        self.exercise = QLabel(self)
        self.exercise.setObjectName("activationExerciseMark")
        self.facts = QLabel(self)
        self.facts.setObjectName("activationFacts")
        self.facts.setWordWrap(True)
        self.elapsed = QLabel(self)
        self.elapsed.setObjectName("activationElapsed")
        big = self.elapsed.font()
        big.setPointSizeF(big.pointSizeF() * 1.2)
        big.setWeight(QFont.Weight.DemiBold)
        self.elapsed.setFont(big)
        self.refusal = QLabel(self)
        self.refusal.setObjectName("activationRefusal")
        self.refusal.setWordWrap(True)
        self.refusal.hide()
        self.new_entry_button = self._button(tr("New journal entry …") + "  Ctrl+N", "newEntryButton", self.new_entry)
        self.situation_button = self._button(tr("Situation report …") + "  Ctrl+Shift+L", "situationButton",
                                             self.new_situation_report)
        self.end_button = self._button(tr("End the activation …"), "endButton", self.end_activation)
        self.print_button = self._button(tr("Print …") + "  Ctrl+P", "printButton", self.printRequested.emit)
        marks = QHBoxLayout()
        marks.addWidget(self.state)
        marks.addWidget(self.exercise)
        marks.addStretch(1)
        marks.addWidget(self.elapsed)
        buttons = QHBoxLayout()
        for button in (self.new_entry_button, self.situation_button, self.end_button, self.print_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("activationTabs")
        self.tabs.addTab(self._call_tab(), tr(TAB_NAMES[0]))
        self.tabs.addTab(self._checklist_tab(), tr(TAB_NAMES[1]))
        self.tabs.addTab(self._journal_tab(), tr(TAB_NAMES[2]))
        self.tabs.addTab(self._report_back_tab(), tr(TAB_NAMES[3]))
        self.tabs.currentChanged.connect(self._tab_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addLayout(marks)
        layout.addWidget(self.facts)
        layout.addWidget(self.refusal)
        layout.addLayout(buttons)
        layout.addWidget(self.tabs, 1)

    def _button(self, text: str, name: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        button.clicked.connect(slot)
        return button

    def _call_tab(self) -> QWidget:
        tab = QWidget(self)
        self.call_summary = QLabel(tab)
        self.call_summary.setObjectName("callSummary")
        self.call_summary.setWordWrap(True)
        hint = QLabel(tr("Keys: 1 no answer · 2 reached · 3 attending · 4 declined · Ctrl+C copies the number · "
                         "Enter: the function's channels"), tab)
        hint.setObjectName("callKeys")
        hint.setWordWrap(True)
        self.call_model = CallListModel(self)
        self.call_table = _table(tab, "callList", tr("Call list"), self.call_model, CallTable)
        # the function's name takes what is left; the rest as narrow as their words allow (the
        # channels in full are in the panel below)
        _widths(self.call_table, (14, 30, 18, 10, 24, 11))
        self.call_table.horizontalHeader().setStretchLastSection(False)
        self.call_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.call_table.marked.connect(self.mark_status)
        self.call_table.toChannels.connect(self._focus_channels)
        self.call_table.selectionModel().currentRowChanged.connect(self._call_row_changed)
        self.call_channels_title = QLabel(tab)
        self.call_channels_title.setObjectName("callChannelsTitle")
        self.call_channels = ChannelsView(tab)
        self.call_channels.setObjectName("callChannels")
        self.call_channels.setAccessibleName(tr("The function's channels"))
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(4, 6, 4, 4)
        layout.addWidget(self.call_summary)
        layout.addWidget(hint)
        layout.addWidget(self.call_table, 1)
        layout.addWidget(self.call_channels_title)
        layout.addWidget(self.call_channels)
        return tab

    def _checklist_tab(self) -> QWidget:
        tab = QWidget(self)
        hint = QLabel(tr("Space ticks or unticks the chosen step; each tick is kept with its time and who made it."), tab)
        hint.setWordWrap(True)
        self.steps, self.steps_model = _tree(tab, "checklists", tr("Checklists"), StepsTree)
        self.steps.toggled.connect(self.toggle_step)
        self.steps.setUniformRowHeights(False)
        self.steps.setWordWrap(True)
        self.steps.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.steps.stretch = (1,)  # the step's text wraps in its column (WrappedTextDelegate)
        self.steps.setItemDelegate(WrappedTextDelegate(self.steps))
        self.steps.header().sectionResized.connect(lambda *_: self.steps.scheduleDelayedItemsLayout())
        self.steps_model.setHorizontalHeaderLabels([tr("Done"), tr("Step"), tr("Responsible"), tr("Ticked")])
        header = self.steps.header()
        header.setStretchLastSection(False)
        width = self.steps.fontMetrics().averageCharWidth()
        for column, characters in ((0, 14), (2, 30), (3, 28)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, characters * width)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(4, 6, 4, 4)
        layout.addWidget(hint)
        layout.addWidget(self.steps, 1)
        return tab

    def _journal_tab(self) -> QWidget:
        tab = QWidget(self)
        self.chain = QLabel(tab)
        self.chain.setObjectName("journalCheck")
        self.chain.setWordWrap(True)
        self.chain.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.journal_model = JournalModel(self)
        self.journal_table = _table(tab, "journal", tr("Journal"), self.journal_model)
        _widths(self.journal_table, (16, 17, 12, 26))
        self.journal_table.selectionModel().currentRowChanged.connect(self._entry_changed)
        self.entry_view = QTextBrowser(tab)
        self.entry_view.setObjectName("journalEntry")
        self.entry_view.setAccessibleName(tr("The chosen entry"))
        self.entry_view.setOpenLinks(False)
        self.entry_view.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        hint = QLabel(tr("Ctrl+N new entry · Ctrl+E a correction of the chosen entry · Ctrl+Shift+L situation report"), tab)
        hint.setWordWrap(True)
        splitter = panes(tab, self.journal_table, self.entry_view, stretch=(3, 1), orientation=Qt.Orientation.Vertical)
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(4, 6, 4, 4)
        layout.addWidget(self.chain)
        layout.addWidget(hint)
        layout.addWidget(splitter, 1)
        return tab

    def _report_back_tab(self) -> QWidget:
        tab = QWidget(self)
        self.report_summary = QLabel(tab)
        self.report_summary.setObjectName("reportBackSummary")
        self.report_summary.setWordWrap(True)
        self.reports, self.reports_model = _tree(tab, "reportBacks", tr("Report-back by organisation"))
        self.reports.setRootIsDecorated(False)
        self.report_button = self._button(tr("Record our report-back …"), "reportBackButton", self.record_report_back)
        self.report_button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        row = QHBoxLayout()
        row.addWidget(self.report_button)
        row.addStretch(1)
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(4, 6, 4, 4)
        layout.addWidget(self.report_summary)
        layout.addWidget(self.reports, 1)
        layout.addLayout(row)
        return tab

    # --- loading ---------------------------------------------------------------------------

    def show_empty(self) -> None:
        self.activation_id = None
        self.summary = None
        self.call = None
        self._timer.stop()
        self.title.setText(tr("No activation chosen"))
        self.state.setText("")
        self.state.setStyleSheet("")
        self.exercise.hide()
        self.facts.setText(tr("Activate a forum from Forums (Ctrl+3): choose it and press Ctrl+Shift+A. "
                              "Open and past activations are listed here."))
        self.elapsed.setText("")
        self.refusal.hide()
        self.tabs.setEnabled(False)
        for button in (self.new_entry_button, self.situation_button, self.end_button, self.print_button):
            button.setEnabled(False)
        self.contextChanged.emit()

    def show_activation(self, activation_id: str) -> None:
        if activation_id != self.activation_id:
            self.activation_id = activation_id
            self.summary = None
            self.call = None
            self.journal = None
            self.report_backs = None
            self.checklists = []
            self.call_model.set_call_list(CallList(_placeholder(activation_id), (), (), 0, 0), self.clock)
            self.journal_model.set_journal([])
            self.steps_model.removeRows(0, self.steps_model.rowCount())
            self.reports_model.removeRows(0, self.reports_model.rowCount())
        self.tabs.setEnabled(True)
        self.reload(ALL_PARTS)

    def reload(self, parts: set[str]) -> None:
        """Read ``parts`` again on pool threads. With more than one, the part of the tab shown
        goes first, alone; the rest (the call list too, which carries the header and what this
        device may do) start a moment after it is shown, so that no other read holds the
        interpreter while the shown part is read, laid out and painted (reading the call list
        beside the journal made the journal tab 12 ms slower to paint, 59 → 71 ms; starting it
        as soon as the journal was shown, before its paint, cost 6 ms of that again)."""
        if self.activation_id is None:
            return
        parts = parts & set(self._loaders)
        shown_part = TAB_PARTS[self.tabs.currentIndex()] if 0 <= self.tabs.currentIndex() < len(TAB_PARTS) else "call"
        first = parts & {shown_part}
        later = parts - first
        if not first:
            first, later = later, set()
        self._later |= later
        self._waiting = set(first)
        for part in first:
            self._start(part)

    def _start(self, part: str) -> None:
        activation_id, service = self.activation_id, self.service
        if part == "call":
            def read_call() -> CallPart:
                call_list = service.call_list(activation_id)
                return CallPart(call_list, service.may_write_journal(activation_id), service.may_end(activation_id),
                                call_list.now_ms)

            self._load("call", read_call, self._show_call)
        elif part == "checklists":
            self._load("checklists", lambda: service.checklists(activation_id), self._show_checklists)
        elif part == "journal":
            self._load("journal", lambda: _threaded(service.journal(activation_id)), self._show_journal)
        elif part == "report_backs":
            self._load("report_backs", lambda: service.report_backs(activation_id), self._show_report_backs)

    def _first_shown(self, part: str) -> None:
        self._waiting.discard(part)
        if not self._waiting and self._later:
            self._later_timer.start()

    def _start_later(self) -> None:
        later, self._later = self._later, set()
        if self.activation_id is not None:
            for part in later:
                self._start(part)

    def _load(self, part: str, read: Callable[[], Any], show: Callable[[Any], None]) -> None:
        activation_id = self.activation_id

        def shown(result: Any) -> None:
            if activation_id == self.activation_id:
                show(result)
                self._first_shown(part)

        def failed(error: BaseException) -> None:
            from desktop.activation.words import ActivationError

            if isinstance(error, ActivationError) and error.key == "activation.unknown_activation":
                self.show_empty()  # gone (deleted by a sync): nothing to show
            else:
                bridge().report_error(error)
            self._first_shown(part)

        self._loaders[part].submit(read, shown, failed)

    @property
    def loading(self) -> bool:
        return bool(self._later) or any(loader.busy for loader in self._loaders.values())

    # --- showing -----------------------------------------------------------------------------

    def _show_call(self, part: CallPart) -> None:
        self.call = part
        summary = part.call_list.activation
        self.summary = summary
        self.clock.reset(part.now_ms)
        chosen = self.current_function_id()
        self.call_model.set_call_list(part.call_list, self.clock)
        row = self.call_model.row_of(chosen)
        if row < 0 and self.call_model.rows:
            row = 0
        if row >= 0:
            self.call_table.selectionModel().setCurrentIndex(
                self.call_model.index(row, 0),
                self.call_table.selectionModel().SelectionFlag.ClearAndSelect | self.call_table.selectionModel().SelectionFlag.Rows)
        self._call_row_changed()
        self._show_header(summary)
        self._show_permission()
        if summary.is_open:
            self._timer.start()
        else:
            self._timer.stop()
        self.tick()
        self.contextChanged.emit()

    def _show_header(self, summary: ActivationSummary) -> None:
        self.title.setText(summary.forum_name)
        activated = tr("ACTIVATED")
        state = f"{ACTIVATED_SYMBOL} {activated}" if summary.is_open else "✓ " + tr("Ended {when}", when=when_text(summary.ended_at))
        if summary.is_open:
            _badge(self.state, None, state)
        else:
            self.state.setText(state)
            self.state.setStyleSheet("font-weight: bold;")
            self.state.setAccessibleName(state)
        if summary.exercise:
            _badge(self.exercise, summary, f"{EXERCISE_SYMBOL} {exercise_word()}")
            self.exercise.show()
        else:
            self.exercise.hide()
        facts = [tr("Reason: {reason}", reason=summary.reason),
                 tr("Activated {when}", when=when_text(summary.started_at))]
        if summary.started_by:
            facts.append(tr("by {who}", who=summary.started_by))
        if not summary.sequenced:
            facts.append(tr("not synchronised yet"))
        self.facts.setText(" · ".join(facts))

    def _show_permission(self) -> None:
        part = self.call
        if part is None:
            return
        allowed = bool(part.may_write)
        if not allowed:
            t = theme.current(QApplication.instance())
            self.refusal.setText(f"⊘ {part.may_write.text}")
            self.refusal.setStyleSheet(f"color: {t.muted};")
            self.refusal.setAccessibleName(part.may_write.text)
            self.refusal.show()
        else:
            self.refusal.hide()
        for button in (self.new_entry_button, self.situation_button, self.report_button):
            button.setEnabled(allowed)
            button.setToolTip("" if allowed else part.may_write.text)
        open_ = self.summary is not None and self.summary.is_open
        self.end_button.setEnabled(open_ and bool(part.may_end))
        self.end_button.setToolTip("" if part.may_end or not open_ else part.may_end.text)
        self.print_button.setEnabled(True)

    def tick(self) -> None:
        """Each second: the time since the activation and the times waited (painting only)."""
        summary = self.summary
        if summary is None:
            return
        since = self.clock.since(summary)
        shown = "{}:{:02d}".format(clock_text(since), since // 1000 % 60)  # 00:42:07
        words = tr("{time} since activation", time=shown)
        self.elapsed.setText(words if summary.is_open else tr("Lasted {time}", time=elapsed_text(since)))
        self.elapsed.setAccessibleName(self.elapsed.text())
        self.call_model.tick()
        self._show_call_summary()

    def _show_call_summary(self) -> None:
        rows = self.call_model.rows
        if not rows:
            self.call_summary.setText(tr("No member functions in this forum's call list."))
            return
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        unreached = sum(1 for row in rows if row.unreached)
        parts = []
        if unreached:
            parts.append(f"{UNREACHED_SYMBOL} " + ngettext("{count} of {total} not reached yet",
                                                           "{count} of {total} not reached yet", unreached).format(
                count=unreached, total=len(rows)))
        else:
            parts.append("✓ " + tr("Everyone on the list has answered"))
        for status in ("reached", "attending", "declined"):
            if counts.get(status):
                parts.append(f"{counts[status]} {status_label(status)}")
        self.call_summary.setText(" · ".join(parts))
        colour = theme.current(QApplication.instance()).warning if unreached else theme.current(QApplication.instance()).text
        self.call_summary.setStyleSheet(f"color: {colour}; font-weight: bold;")

    def _show_checklists(self, checklists: list[Checklist]) -> None:
        self.checklists = checklists
        chosen = self.current_step_id()
        self.steps_model.removeRows(0, self.steps_model.rowCount())
        found = None
        spanned = []
        for checklist in checklists:
            progress = tr("{done} of {total} done", done=checklist.done, total=len(checklist.steps))
            top = _bold(_item(f"{checklist.title} ({checklist.owner}) — {progress}"))
            for number, step in enumerate(checklist.steps, 1):
                tick = "☑ " + tr("done") if step.done else "☐ " + tr("not done")
                first = _item(tick, step.step_id)
                first.setData(step.done, DONE_ROLE)
                when = tr("{when}, {who}", when=when_text(step.marked_at), who=step.marked_by) if step.marked_at else ""
                cells = [first, _item(f"{number}. {step.text}"), _item(step.responsible), _item(when)]
                first.setData(", ".join(c.text() for c in cells if c.text()), Qt.ItemDataRole.AccessibleTextRole)
                top.appendRow(cells)
                if step.step_id == chosen:
                    found = first
            self.steps_model.appendRow(top)
            spanned.append(top)
        if not checklists:
            none = _item(tr("This forum has no routines for activated mode."))
            self.steps_model.appendRow(none)
            spanned.append(none)
        for item in spanned:
            self.steps.setFirstColumnSpanned(item.row(), QModelIndex(), True)
        self.steps.expandAll()
        if found is None:
            found = self._first_step()
        if found is not None:
            self.steps.setCurrentIndex(found.index())
        self.contextChanged.emit()

    def _first_step(self) -> QStandardItem | None:
        for top in range(self.steps_model.rowCount()):
            parent = self.steps_model.item(top)
            if parent is not None and parent.rowCount():
                return parent.child(0)
        return None

    def _show_journal(self, loaded: tuple[Journal, list[tuple[JournalEntry, int]]]) -> None:
        journal, rows = loaded
        self.journal = journal
        chosen = self.current_entry_id()
        at_end = not chosen or self.journal_table.currentIndex().row() == self.journal_model.rowCount() - 1
        self.journal_model.set_journal(rows)
        check = journal.check
        t = theme.current(QApplication.instance())
        if check.ok:
            mark = "✓ " + tr("The journal is unaltered") + ". " + check.text
            self.chain.setStyleSheet(f"color: {t.ok};")
        else:
            mark = "✗ " + tr("The journal does not verify") + ". " + check.text
            self.chain.setStyleSheet(f"color: {t.error}; font-weight: bold;")
        self.chain.setText(mark)
        self.chain.setAccessibleName(mark)
        row = self.journal_model.row_of(chosen)
        if row < 0 or at_end:  # a new entry, or nothing chosen: the latest
            row = len(rows) - 1
        if row >= 0:
            self.journal_table.selectionModel().setCurrentIndex(
                self.journal_model.index(row, 0),
                self.journal_table.selectionModel().SelectionFlag.ClearAndSelect | self.journal_table.selectionModel().SelectionFlag.Rows)
            self.journal_table.scrollTo(self.journal_model.index(row, 0))
        else:
            self.entry_view.setPlainText(tr("The journal is empty. Ctrl+N writes the first entry."))
        self.tabs.setTabText(JOURNAL_TAB, tr(TAB_NAMES[JOURNAL_TAB]) + f" ({len(rows)})")
        self.contextChanged.emit()

    def _show_report_backs(self, backs: ReportBacks) -> None:
        self.report_backs = backs
        meeting = backs.latest_meeting
        self.reports_model.clear()
        self.reports_model.setHorizontalHeaderLabels([tr("Organisation"), tr("Report-back"), tr("Note")])
        for row in backs.rows:
            done = row.reported_for(meeting)
            state = ("✓ " + tr("reported back {when}", when=when_text(done.at))) if done else ("✗ " + tr("not reported back"))
            state_item = _item(state)
            if not done:
                _bold(state_item)
                state_item.setForeground(QBrush(theme.current(QApplication.instance()).qcolor("warning")))
            first = _item(row.organisation_name, row.organisation_id)
            first.setData(f"{row.organisation_name}, {state}", Qt.ItemDataRole.AccessibleTextRole)
            self.reports_model.appendRow([first, state_item, _item(done.note or "" if done else "")])
        header = self.reports.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        reported, total = len(backs.reported(meeting)), len(backs.rows)
        if meeting:
            text = tr("After the meeting {when}: {reported} of {total} organisations have reported back to their home "
                      "organisation.", when=when_text(meeting), reported=reported, total=total)
        elif reported:
            text = tr("{reported} of {total} organisations have reported back.", reported=reported, total=total)
        else:
            text = tr("No organisation has reported back yet.")
        self.report_summary.setText(text)
        if self.reports_model.rowCount():
            self.reports.setCurrentIndex(self.reports_model.index(0, 0))

    # --- the chosen things --------------------------------------------------------------------

    def current_function_id(self) -> str | None:
        index = self.call_table.currentIndex()
        return index.siblingAtColumn(0).data(ID_ROLE) if index.isValid() else None

    def current_row(self) -> CallListRow | None:
        index = self.call_table.currentIndex()
        rows = self.call_model.rows
        return rows[index.row()] if index.isValid() and index.row() < len(rows) else None

    def current_step(self) -> tuple[str, bool] | None:
        index = self.steps.currentIndex()
        if not index.isValid():
            return None
        first = index.siblingAtColumn(0)
        step_id = first.data(ID_ROLE)
        return (step_id, bool(first.data(DONE_ROLE))) if step_id else None

    def current_step_id(self) -> str | None:
        step = self.current_step()
        return step[0] if step else None

    def current_entry(self) -> JournalEntry | None:
        index = self.journal_table.currentIndex()
        return self.journal_model.entry(index.row()) if index.isValid() else None

    def current_entry_id(self) -> str | None:
        entry = self.current_entry()
        return entry.entry_id if entry else None

    def _call_row_changed(self, *_args) -> None:
        row = self.current_row()
        if row is None:
            self.call_channels_title.setText("")
            self.call_channels.set_channels([])
            return
        where = f"{row.name}, {row.organisation_name}"
        self.call_channels_title.setText(tr("Channels of {function}:", function=where))
        self.call_channels.where = where
        self.call_channels.set_channels(list(row.channels))

    def _entry_changed(self, *_args) -> None:
        entry = self.current_entry()
        self.entry_view.setHtml(entry_html(entry, self.journal_model.places, self.journal_model.references) if entry else "")
        self.contextChanged.emit()

    def _focus_channels(self) -> None:
        if self.call_channels.channels_model.rowCount():
            self.call_channels.setFocus(Qt.FocusReason.OtherFocusReason)

    def _tab_changed(self, index: int) -> None:
        if 0 <= index < len(TAB_PARTS) and TAB_PARTS[index] in self._later:  # wanted now, not in a moment
            self._later.discard(TAB_PARTS[index])
            self._start(TAB_PARTS[index])
        focus = QApplication.focusWidget()
        if focus is self.tabs.tabBar() or (focus is not None and self.isAncestorOf(focus)):
            self.focus_content()
        self.contextChanged.emit()

    def focus_content(self) -> None:
        widget = (self.call_table, self.steps, self.journal_table, self.reports)[self.tabs.currentIndex()]
        widget.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- acting --------------------------------------------------------------------------------

    def _refused(self) -> bool:
        """Not allowed to write here: say why (the buttons are disabled already)."""
        if self.call is None or self.summary is None:
            return True
        if not self.call.may_write:
            bridge().report_info(self.call.may_write.text)
            return True
        return False

    def mark_status(self, status: str) -> None:
        row = self.current_row()
        if row is None or self._refused():
            return
        service, activation_id, function_id = self.service, self.activation_id, row.function_id
        words = status_label(status)
        CollectionOp(lambda: service.record_callout(activation_id, function_id, status),
                     success=lambda _id: (bridge().report_info(tr("{function}: {status}", function=row.name, status=words)),
                                          self.reload({"call"})),
                     parent=self).run()

    def toggle_step(self) -> None:
        step = self.current_step()
        if step is None or self._refused():
            return
        step_id, done = step
        service, activation_id = self.service, self.activation_id
        CollectionOp(lambda: service.mark_step(activation_id, step_id, not done),
                     success=lambda _id: self.reload({"checklists"}), parent=self).run()

    def _open(self, dialog, tab: int | None = None) -> None:
        """Show a form over the window; once saved, the page reloads and shows ``tab`` (what
        was written: the journal, the report-backs)."""
        from desktop.ui.activation_dialogs import _SavingDialog

        focus = QApplication.focusWidget()
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if isinstance(dialog, _SavingDialog):
            dialog.saved.connect(lambda _result: self._saved(tab))
        dialog.finished.connect(lambda _result: self._closed(dialog, focus))
        self.dialog = dialog
        dialog.open()

    def _saved(self, tab: int | None) -> None:
        if tab is not None and self.tabs.currentIndex() != tab:
            self.tabs.setCurrentIndex(tab)
        self.reload(ALL_PARTS)

    def _closed(self, dialog, focus) -> None:
        import shiboken6

        if self.dialog is dialog:
            self.dialog = None
        self.window().activateWindow()
        if focus is not None and shiboken6.isValid(focus) and focus.isVisible() and self.isAncestorOf(focus):
            focus.setFocus(Qt.FocusReason.PopupFocusReason)
        else:  # opened from the command palette or a menu: back to the tab's list
            self.focus_content()

    def new_entry(self) -> None:
        from desktop.ui.activation_dialogs import EntryDialog

        if not self._refused():
            self._open(EntryDialog(self.service, self.summary, None, self.window()), JOURNAL_TAB)

    def correct_entry(self) -> None:
        from desktop.ui.activation_dialogs import EntryDialog

        entry = self.current_entry()
        if entry is None or entry.hidden or self._refused():
            return
        self._open(EntryDialog(self.service, self.summary, entry, self.window()), JOURNAL_TAB)

    def new_situation_report(self) -> None:
        from desktop.ui.activation_dialogs import SituationDialog

        if self._refused():
            return
        service, activation_id, summary = self.service, self.activation_id, self.summary
        from desktop.ui.ops import QueryOp

        QueryOp(lambda: service.situation_template(activation_id),
                success=lambda template: self._open(SituationDialog(service, summary, template, self.window()),
                                                    JOURNAL_TAB),
                parent=self).run()

    def record_report_back(self) -> None:
        from desktop.ui.activation_dialogs import ReportBackDialog

        if self._refused():
            return
        service, summary, activation_id = self.service, self.summary, self.activation_id
        from desktop.ui.ops import QueryOp

        def read():  # the report-backs read afresh: the tab's may not be loaded yet
            return service.own_organisation(), service.report_backs(activation_id)

        def show(answer) -> None:
            own, backs = answer
            organisations = None
            if own is None:  # not enrolled: name the organisation
                organisations = [(r.organisation_id, r.organisation_name) for r in backs.rows]
            self._open(ReportBackDialog(service, summary, backs.latest_meeting, organisations, self.window()), REPORT_TAB)

        QueryOp(read, success=show, parent=self).run()

    def end_activation(self) -> None:
        from desktop.ui.activation_dialogs import EndDialog

        if self.summary is None or self.call is None or not self.summary.is_open:
            return
        if not self.call.may_end:
            bridge().report_info(self.call.may_end.text)
            return
        self._open(EndDialog(self.service, self.summary, self.window()))

    def copy(self) -> bool:
        """Ctrl+C: the chosen channel, the chosen function's number, or the chosen entry's text."""
        focus = QApplication.focusWidget()
        if focus is self.call_channels:
            return copy_channel(self.call_channels.current_channel(), self.call_channels.where)
        if focus is self.journal_table or focus is self.entry_view:
            entry = self.current_entry()
            if entry is not None and not entry.hidden:
                QGuiApplication.clipboard().setText(entry.text)
                bridge().report_info(tr("Copied the entry {place}.", place=self.journal_model.place(entry)))
                return True
        row = self.current_row()
        if row is None:
            return copy_channel(None)
        return copy_channel(row.channels[0] if row.channels else None, f"{row.name}, {row.organisation_name}")

    def edit_context(self) -> EditContext:
        """Ctrl+N: a journal entry from anywhere on the page; Ctrl+E on the journal: a correction
        of the chosen entry (an entry is never edited)."""
        if self.summary is None or self.call is None:
            return EditContext()
        permission = self.call.may_write
        new = Target("log_entries", None, "", permission, run=self.new_entry)
        entry = self.current_entry() if self.tabs.currentIndex() == JOURNAL_TAB else None
        edit = None
        if entry is not None and not entry.hidden:
            edit = Target("log_entries", entry.entry_id, JournalModel.place(entry), permission, run=self.correct_entry)
        return EditContext(new=new, edit=edit)

    def hideEvent(self, event) -> None:  # noqa: N802
        self._timer.stop()
        super().hideEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802
        if self.summary is not None and self.summary.is_open:
            self._timer.start()
        super().showEvent(event)


def _placeholder(activation_id: str) -> ActivationSummary:
    return ActivationSummary(activation_id, "", "", "", "", False, "", None, None, "", None, False)


def _threaded(journal: Journal) -> tuple[Journal, list[tuple[JournalEntry, int]]]:
    return journal, journal.threaded()


# --- the view --------------------------------------------------------------------------------------


class ActivationsView(QWidget):
    """Open activations first, then past; the chosen one's page beside them."""

    contextChanged = Signal()
    refreshes_by_collection = True  # refresh(collections): only the parts the changes touch

    def __init__(self, store: Any, parent=None) -> None:
        from desktop.activation import ActivationService

        super().__init__(parent)
        self.setObjectName("activations")
        self.store = store
        self.service = ActivationService(store)
        self.list, self.list_model = _tree(self, "activationList", tr("Activations, open first"))
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(False)
        self.list.setHeaderHidden(True)
        self.page = ActivationPage(store, self)
        self.page.contextChanged.connect(self.contextChanged)
        fill(self, panes(self, self.list, self.page, stretch=(1, 3), sizes=[280, 950]))
        self.list.selectionModel().currentRowChanged.connect(self._chosen)
        self.list.activated.connect(lambda _index: self.page.focus_content())
        self._loader = LatestOnly(self)
        self._wanted: str | None = None
        self.loaded = False
        self.summaries: list[ActivationSummary] = []

    def showEvent(self, event) -> None:  # noqa: N802
        if not self.loaded:
            self.refresh()
        super().showEvent(event)

    def refresh(self, collections: set[str] | None = None) -> None:
        parts = ALL_PARTS if collections is None else set().union(*(PARTS.get(c, ALL_PARTS) for c in collections))
        if "list" in parts:
            service = self.service
            self._loader.submit(service.activations, self._fill)
        self.page.reload(parts - {"list"})

    def _fill(self, summaries: list[ActivationSummary]) -> None:
        self.summaries = summaries
        chosen = self._wanted or self.current_id()
        self.list_model.clear()
        for summary in summaries:
            when = tr("Activated {when}", when=when_text(summary.started_at))
            # one fact a line (the list is narrow: a line too long is cut, a fact on its own is not)
            item = _item(f"{state_words(summary)}\n{summary.forum_name}\n{summary.reason}\n{when}", summary.activation_id)
            if summary.is_open:
                background, colour = badge_colours(summary)
                item.setBackground(QBrush(background))
                item.setForeground(QBrush(colour))
                _bold(item)
            item.setToolTip(when + (f" · {summary.started_by}" if summary.started_by else ""))
            item.setData(item.text().replace("\n", ", "), Qt.ItemDataRole.AccessibleTextRole)
            self.list_model.appendRow(item)
        self.loaded = True
        row = next((i for i, s in enumerate(summaries) if s.activation_id == chosen), 0 if summaries else -1)
        if row >= 0:
            self.list.setCurrentIndex(self.list_model.index(row, 0))
            if self._wanted and self.list_model.index(row, 0).data(ID_ROLE) == self._wanted:
                self._wanted = None
        else:
            self.page.show_empty()

    def current_id(self) -> str | None:
        index = self.list.currentIndex()
        return index.siblingAtColumn(0).data(ID_ROLE) if index.isValid() else None

    def _chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        activation_id = current.siblingAtColumn(0).data(ID_ROLE) if current.isValid() else None
        if activation_id and activation_id != self.page.activation_id:
            self.page.show_activation(activation_id)

    def open_activation(self, activation_id: str, *, focus: bool = True) -> None:
        """Choose an activation (it may not be listed yet: made a moment ago)."""
        self._wanted = activation_id
        if self.page.activation_id != activation_id:
            self.page.show_activation(activation_id)
        row = next((i for i, s in enumerate(self.summaries) if s.activation_id == activation_id), -1)
        if row >= 0:
            self.list.setCurrentIndex(self.list_model.index(row, 0))
            self._wanted = None
        else:
            self.refresh({"activations"})
        if focus:
            self.page.focus_content()

    def focus_list(self) -> None:
        self.list.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def copy(self) -> None:
        self.page.copy()

    def edit_context(self) -> EditContext:
        return self.page.edit_context()

    def print_spec(self) -> tuple[str, str] | None:
        return ("journal", self.page.activation_id) if self.page.activation_id else None
