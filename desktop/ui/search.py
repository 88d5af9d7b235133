"""The search view: the field at the top of the window, hits as you type, the chosen hit's detail beside them.

Keyboard first (Spotlight, Alfred): the field keeps focus while ↓/↑ move through the hits, Enter
opens the selected (or top) hit with its first channel selected, Ctrl+C copies that channel's
value as dialled, Esc comes back to the field. A keystroke never waits for a search: each one
asks ``LatestOnly`` for a search on a pool thread, and only the newest answer is painted. Keys
pressed before the answer (Enter, then Ctrl+C, typed fast) are kept and carried out when it
arrives, in order. A forum with an open activation carries "● AKTIVERAT" (and "◆ ÖVNING") in
its hit, in words and colour.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QEvent, QModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLineEdit,
    QListView,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import tr
from desktop.store.messages import channel_kind_label
from desktop.ui import theme
from desktop.ui.activation_watch import activated_words, badge_colours
from desktop.ui.detail import DetailView
from desktop.ui.ops import LatestOnly
from desktop.views import kind_word

HIT_ROLE = Qt.ItemDataRole.UserRole + 1
ACTIVATION_ROLE = Qt.ItemDataRole.UserRole + 2
RESULT_LIMIT = 20  # the store's default: a person reads the top few; 50 cost twice the search
# While typing, the top hit's detail follows once the keys pause: read at once, every
# keystroke's preview competed with the next keystroke's search for the store and the GIL.
PREVIEW_DELAY_MS = 120


def hit_accessible_text(hit) -> str:
    parts = [kind_word(hit.collection), hit.title]
    if hit.subtitle:
        parts.append(hit.subtitle)
    if hit.best_channel is not None:
        parts.append(f"{channel_kind_label(hit.best_channel.kind)} {hit.best_channel.value}")
    return ", ".join(parts)


class SearchField(QLineEdit):
    """The search field: ↓/↑ and Page keys move through the hits, Enter opens, Ctrl+C with
    nothing selected copies the chosen hit's channel."""

    stepped = Signal(int)
    activated = Signal()
    copyRequested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("search")
        self.setAccessibleName(tr("Search"))
        self.setPlaceholderText(tr("Search for a function, organisation, forum, routine or number …   Ctrl+K"))
        self.setClearButtonEnabled(True)
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.setFont(font)
        self.setMinimumHeight(self.fontMetrics().height() + 14)

    # The window's shortcuts that a line edit would take for itself on some platforms (X11's
    # bindings make Ctrl+E "end of line" and Ctrl+K "delete to the end of the line").
    WINDOW_KEYS = (QKeySequence("Ctrl+E"), QKeySequence("Ctrl+K"))

    def event(self, event) -> bool:  # noqa: A003
        if event.type() == QEvent.Type.ShortcutOverride:
            pressed = QKeySequence(event.keyCombination())
            if any(pressed.matches(keys) == QKeySequence.SequenceMatch.ExactMatch for keys in self.WINDOW_KEYS):
                event.ignore()  # not ours: the window's action runs
                return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        key = event.key()
        steps = {
            Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: 10, Qt.Key.Key_PageUp: -10,
        }
        if key in steps and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.stepped.emit(steps[key])
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.activated.emit()
            event.accept()
            return
        if event.matches(QKeySequence.StandardKey.Copy) and not self.hasSelectedText():
            self.copyRequested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class ResultsModel(QAbstractListModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.hits: list = []
        self.query = ""
        self.activated: dict = {}  # forum id -> its open ActivationSummary

    def set_hits(self, query: str, hits: list) -> None:
        self.beginResetModel()
        self.query = query
        self.hits = list(hits)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.hits)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.hits):
            return None
        hit = self.hits[index.row()]
        if role == HIT_ROLE:
            return hit
        activation = self.activated.get(hit.record_id) if hit.collection == "forums" else None
        if role == ACTIVATION_ROLE:
            return activation
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            text = hit_accessible_text(hit)
            return f"{text}, {activated_words(activation)}" if activation is not None else text
        return None


class ResultDelegate(QStyledItemDelegate):
    """Title (bold) and kind; organisation or context below; the best channel to the right."""

    PAD = 6

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        metrics = QFontMetrics(option.font)
        return QSize(300, 2 * metrics.height() + 2 * self.PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        hit = index.data(HIT_ROLE)
        if hit is None:
            return super().paint(painter, option, index)
        text, muted = theme.paint_row_background(painter, option)
        rect = option.rect.adjusted(self.PAD + 2, self.PAD, -self.PAD - 2, -self.PAD)
        base = QFont(option.font)
        bold = QFont(base)
        bold.setWeight(QFont.Weight.DemiBold)
        number = theme.number_font(base, 1.1)
        metrics = QFontMetrics(base)
        line = metrics.height()
        painter.save()
        right_width = 0
        if hit.best_channel is not None:
            value = hit.best_channel.value
            number_metrics = QFontMetrics(number)
            right_width = min(number_metrics.horizontalAdvance(value) + self.PAD, rect.width() // 2)
            painter.setFont(number)
            painter.setPen(text)
            painter.drawText(QRect(rect.right() - right_width, rect.top(), right_width, line),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             number_metrics.elidedText(value, Qt.TextElideMode.ElideLeft, right_width))
            painter.setFont(base)
            painter.setPen(muted)
            painter.drawText(QRect(rect.right() - right_width, rect.top() + line, right_width, line),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             metrics.elidedText(channel_kind_label(hit.best_channel.kind), Qt.TextElideMode.ElideRight, right_width))
        width = rect.width() - right_width - self.PAD
        kind = f"{kind_word(hit.collection)} · "
        painter.setFont(base)
        painter.setPen(muted)
        kind_width = metrics.horizontalAdvance(kind)
        painter.drawText(QRect(rect.left(), rect.top(), kind_width, line), Qt.AlignmentFlag.AlignVCenter, kind)
        painter.setFont(bold)
        painter.setPen(text)
        title_width = max(width - kind_width, 0)
        painter.drawText(QRect(rect.left() + kind_width, rect.top(), title_width, line), Qt.AlignmentFlag.AlignVCenter,
                         QFontMetrics(bold).elidedText(hit.title, Qt.TextElideMode.ElideRight, title_width))
        painter.setFont(base)
        left = rect.left()
        activation = index.data(ACTIVATION_ROLE)
        if activation is not None:  # the forum's activated mark, in words and colour
            bold_metrics = QFontMetrics(bold)
            words = activated_words(activation)
            badge = QRect(left, rect.top() + line, min(bold_metrics.horizontalAdvance(words) + 10, max(width, 0)), line)
            background, colour = badge_colours(activation)
            painter.fillRect(badge, background)
            painter.setFont(bold)
            painter.setPen(colour)
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, words)
            painter.setFont(base)
            left = badge.right() + self.PAD
        painter.setPen(muted)
        rest = max(rect.left() + width - left, 0)
        painter.drawText(QRect(left, rect.top() + line, rest, line), Qt.AlignmentFlag.AlignVCenter,
                         metrics.elidedText(hit.subtitle or "", Qt.TextElideMode.ElideRight, rest))
        painter.restore()


class ResultsView(QListView):
    """The hits. Empty, it says why in words (nothing typed yet, or no matches)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("results")
        self.setAccessibleName(tr("Search results"))
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setItemDelegate(ResultDelegate(self))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.empty_text = ""

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0 and self.empty_text:
            painter = QPainter(self.viewport())
            painter.setPen(theme.current(QApplication.instance()).qcolor("muted"))
            painter.drawText(self.viewport().rect().adjusted(16, 16, -16, -16),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
                             self.empty_text)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.parent_view().activate()
            event.accept()
            return
        if event.matches(QKeySequence.StandardKey.Copy):
            self.parent_view().copy()
            event.accept()
            return
        super().keyPressEvent(event)

    def parent_view(self) -> SearchView:
        widget = self.parent()
        while widget is not None and not isinstance(widget, SearchView):
            widget = widget.parent()
        return widget  # type: ignore[return-value]


class SearchView(QWidget):
    """Hits on the left, the chosen one's detail on the right. The field belongs to the window."""

    resultsShown = Signal(str, int)  # query, number of hits (for tests and the benchmark)

    def __init__(self, store: Any, field: SearchField, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.field = field
        self.model = ResultsModel(self)
        self.results = ResultsView(self)
        self.results.setModel(self.model)
        self.detail = DetailView(store, self)
        self._search = LatestOnly(self)
        self._queued: list[str] = []  # keys pressed before the newest search answered
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.results)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        field.textChanged.connect(self.search)
        field.stepped.connect(self.step)
        field.activated.connect(self.activate)
        field.copyRequested.connect(self.copy)
        self.results.selectionModel().currentRowChanged.connect(self._selection_moved)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self._preview)
        self._typing = False
        self._refreshing = False
        self.results.activated.connect(lambda index: self.activate())
        self._set_empty_text("")

    # --- searching ---------------------------------------------------------------------------

    def search(self, text: str) -> None:
        query = text.strip()
        if not query:
            self._search.cancel()
            self._queued.clear()
            self.model.set_hits("", [])
            self._set_empty_text("")
            return
        store = self.store
        self._search.submit(lambda: store.search(query, limit=RESULT_LIMIT), lambda hits: self._show(query, hits))

    @property
    def waiting(self) -> bool:
        """A search for the field's current text has not answered yet."""
        return self._search.busy or self.model.query != self.field.text().strip()

    def _set_empty_text(self, query: str) -> None:
        self.results.empty_text = (
            tr("No matches for “{text}”. Try fewer or shorter words, or part of a number.", text=query)
            if query else tr("Type to search: a function (“tib”), an organisation (“sos”), a forum, a routine or a number.")
        )
        self.results.viewport().update()

    def _show(self, query: str, hits: list) -> None:
        again = query == self.model.query  # the same search after a change: keep what was chosen
        chosen = self.current_hit() if again and self.model.hits else None
        self.model.set_hits(query, hits)
        self._set_empty_text(query)
        if hits:
            keys = [(hit.collection, hit.record_id) for hit in hits]
            kept = chosen is not None and (chosen.collection, chosen.record_id) in keys
            self._typing = not kept
            self._refreshing = kept
            self.results.setCurrentIndex(self.model.index(keys.index((chosen.collection, chosen.record_id)) if kept else 0))
            self._typing = self._refreshing = False
        self.resultsShown.emit(query, len(hits))
        queued, self._queued = self._queued, []
        for action in queued:
            {"open": self.activate, "copy": self.copy}[action]()

    # --- moving, opening, copying --------------------------------------------------------

    def step(self, steps: int) -> None:
        rows = self.model.rowCount()
        if not rows:
            return
        current = self.results.currentIndex().row()
        row = min(max((current if current >= 0 else -1) + steps, 0), rows - 1)
        self.results.setCurrentIndex(self.model.index(row))

    def current_hit(self):
        index = self.results.currentIndex()
        if index.isValid():
            return index.data(HIT_ROLE)
        return self.model.hits[0] if self.model.hits else None

    def _selection_moved(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        if self._refreshing:
            return  # the same hit again: the detail reloads itself (refresh)
        if self._typing:
            self._preview_timer.start()  # new hits while typing: when the keys pause
        else:
            self._preview()  # ↓/↑: at once

    def _preview(self) -> None:
        self._preview_timer.stop()
        hit = self.current_hit() if self.model.hits else None
        if hit is not None:
            self.detail.open(hit.collection, hit.record_id, hint=hit)

    def activate(self) -> None:
        """Enter: open the selected (or top) hit with its first channel selected."""
        if self.field.text().strip() and self.waiting:
            self._queued.append("open")
            return
        hit = self.current_hit()
        if hit is None:
            return
        self._preview_timer.stop()  # the preview would open it again, without the focus
        self.detail.open(hit.collection, hit.record_id, hint=hit, focus=True)

    def copy(self) -> None:
        """Ctrl+C: the opened record's chosen channel (the hit's best one until it has loaded)."""
        if self._queued:
            self._queued.append("copy")
            return
        if self.detail.detail is None and self.detail._pending_channel is None:  # noqa: SLF001
            hit = self.current_hit()
            if hit is not None:
                self.detail.open(hit.collection, hit.record_id, hint=hit)
        self.detail.copy_current()

    def set_activated(self, by_forum: dict) -> None:
        """The open activations changed: forum hits show it at the next paint."""
        self.model.activated = by_forum
        self.results.viewport().update()

    def refresh(self) -> None:
        """The data changed (an edit, a pulled page): search again and reload the detail."""
        self.search(self.field.text())
        self.detail.reload()

    def edit_context(self):
        """In the detail: its channel, member or step, or its record; in the field or the hits:
        the record opened (Ctrl+N adds to it)."""
        focus = QApplication.focusWidget()
        if focus is not None and self.detail.isAncestorOf(focus):
            return self.detail.edit_context()
        return self.detail.record_context()
