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

from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QAbstractListModel, QEvent, QModelIndex, QPointF, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeySequence, QPainter, QPalette, QStaticText, QTransform
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from desktop.i18n import tr
from desktop.store.messages import channel_kind_label
from desktop.ui import theme
from desktop.ui.activation_watch import activated_words, badge_colours
from desktop.ui.detail import DetailView
from desktop.ui.ops import LatestOnly
from desktop.ui.widgets import fill, panes
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


class _Fonts:
    """The delegate's fonts for one view font: base (kind, subtitle, channel kind), bold (title)
    and number (the channel's value), with their metrics."""

    BASE, BOLD, NUMBER = range(3)

    def __init__(self, font: QFont) -> None:
        base = QFont(font)
        bold = QFont(base)
        bold.setWeight(QFont.Weight.DemiBold)
        self.key = font.key()
        self.fonts = (base, bold, theme.number_font(base, 1.1))
        self.metrics = tuple(QFontMetrics(f) for f in self.fonts)
        self.line = self.metrics[self.BASE].height()


class _RowText:
    """One hit's row at one width: its texts elided, laid out and shaped once (QStaticText).

    Typing keeps many of the same hits on screen from one keystroke to the next, and each
    keystroke repaints the list: shaping and eliding every text again was most of the paint
    (about 3 ms of a keystroke at 100k records, tests/perf/bench_window.py)."""

    __slots__ = ("parts", "badge")

    def __init__(self, hit, width: int, fonts: _Fonts, activated: str = "") -> None:
        self.parts: list[tuple[int, bool, float, float, QStaticText]] = []  # font, muted, x, y, text
        # A forum's activated mark before its subtitle: (x, y, width, height), text, text x, text y
        self.badge: tuple[tuple[int, int, int, int], QStaticText, float, float] | None = None
        pad = ResultDelegate.PAD
        base, bold, number = fonts.metrics
        line = fonts.line
        right_width = 0
        if hit.best_channel is not None:
            value = hit.best_channel.value
            right_width = min(number.horizontalAdvance(value) + pad, width // 2)
            self._add(fonts, _Fonts.NUMBER, False, width - right_width, 0, right_width,
                      number.elidedText(value, Qt.TextElideMode.ElideLeft, right_width), right=True)
            self._add(fonts, _Fonts.BASE, True, width - right_width, line, right_width,
                      base.elidedText(channel_kind_label(hit.best_channel.kind), Qt.TextElideMode.ElideRight, right_width),
                      right=True)
        text_width = max(width - right_width - pad, 0)
        kind = f"{kind_word(hit.collection)} · "
        kind_width = base.horizontalAdvance(kind)
        self._add(fonts, _Fonts.BASE, True, 0, 0, kind_width, kind)
        title_width = max(text_width - kind_width, 0)
        self._add(fonts, _Fonts.BOLD, False, kind_width, 0, title_width,
                  bold.elidedText(hit.title, Qt.TextElideMode.ElideRight, title_width))
        left = 0
        if activated:
            badge_width = min(bold.horizontalAdvance(activated) + 10, text_width)
            static = self._static(activated, fonts.fonts[_Fonts.BOLD])
            size = static.size()
            self.badge = ((0, line, badge_width, line), static, (badge_width - size.width()) / 2,
                          line + (line - size.height()) / 2)
            left = badge_width - 1 + pad  # as QRect.right() + PAD
        rest = max(text_width - left, 0)
        self._add(fonts, _Fonts.BASE, True, left, line, rest,
                  base.elidedText(hit.subtitle or "", Qt.TextElideMode.ElideRight, rest))

    @staticmethod
    def _static(text: str, font: QFont) -> QStaticText:
        static = QStaticText(text)
        static.setTextFormat(Qt.TextFormat.PlainText)
        static.prepare(QTransform(), font)
        return static

    def _add(self, fonts: _Fonts, font: int, muted: bool, x: int, y: int, width: int, text: str,
             *, right: bool = False) -> None:
        if not text:
            return
        static = self._static(text, fonts.fonts[font])
        size = static.size()
        if right:  # flush right in its box, as AlignRight
            x += width - size.width()
        # centred on the line, as AlignVCenter
        self.parts.append((font, muted, x, y + (fonts.line - size.height()) / 2, static))


class ResultDelegate(QStyledItemDelegate):
    """Title (bold) and kind; organisation or context below; the best channel to the right."""

    PAD = 6
    ROWS_KEPT = 256  # laid-out rows remembered (a screenful is about 15)
    HIGHLIGHTED = QStyle.StateFlag.State_Selected | QStyle.StateFlag.State_MouseOver

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._fonts: _Fonts | None = None
        self._rows: OrderedDict[tuple, _RowText] = OrderedDict()

    def fonts(self, font: QFont) -> _Fonts:
        if self._fonts is None or self._fonts.key != font.key():
            self._fonts = _Fonts(font)
            self._rows.clear()
        return self._fonts

    def row_text(self, hit, width: int, fonts: _Fonts, activated: str = "") -> _RowText:
        key = (hit, width, activated)
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = _RowText(hit, width, fonts, activated)
            if len(self._rows) > self.ROWS_KEPT:
                self._rows.popitem(last=False)
        else:
            self._rows.move_to_end(key)
        return row

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        return QSize(300, 2 * self.fonts(option.font).line + 2 * self.PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        hit = index.data(HIT_ROLE)
        if hit is None:
            return super().paint(painter, option, index)
        if option.state & self.HIGHLIGHTED:
            text, muted = theme.paint_row_background(painter, option)
        else:  # the style draws nothing under a plain row: only its colours are needed
            text = option.palette.color(QPalette.ColorRole.Text)
            muted = theme.current(QApplication.instance()).qcolor("muted")
        rect = option.rect.adjusted(self.PAD + 2, self.PAD, -self.PAD - 2, -self.PAD)
        fonts = self.fonts(option.font)
        left, top = rect.left(), rect.top()
        painter.save()
        activation = index.data(ACTIVATION_ROLE)
        row = self.row_text(hit, rect.width(), fonts, activated_words(activation) if activation is not None else "")
        for font, is_muted, x, y, static in row.parts:
            painter.setFont(fonts.fonts[font])
            painter.setPen(muted if is_muted else text)
            painter.drawStaticText(QPointF(left + x, top + y), static)
        if row.badge is not None:  # the forum's activated mark, in words and colour
            (x, y, width, height), static, text_x, text_y = row.badge
            background, colour = badge_colours(activation)
            painter.fillRect(QRect(left + x, top + y, width, height), background)
            painter.setFont(fonts.fonts[_Fonts.BOLD])
            painter.setPen(colour)
            painter.drawStaticText(QPointF(left + text_x, top + text_y), static)
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
        fill(self, panes(self, self.results, self.detail, stretch=(2, 3)))
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
