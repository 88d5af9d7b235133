"""The detail pane: one record — a function's channels in priority order with copy buttons, or an organisation, forum or routine.

Numbers are the payload (UI.md): each channel's value is drawn large with tabular digits, its
kind and priority beside it, and a resilient channel says "Reservväg" with a symbol as well as
a colour. Ctrl+C copies the selected channel's value as dialled; Enter (or the button beside
it) hands tel:/mailto: to the system. The rest of a record (mandates, members, steps) is read
in a text browser whose links open other records in the same pane.
"""

from __future__ import annotations

import html
from dataclasses import replace
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QRect,
    QSize,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QDesktopServices,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeySequence,
    QPalette,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTextBrowser,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import ngettext, tr
from desktop.store.messages import level_label
from desktop.ui import theme
from desktop.ui.messages import bridge
from desktop.ui.editing import EditContext, Target
from desktop.ui.ops import LatestOnly
from desktop.views import (
    CHILDREN,
    ChannelRow,
    Detail,
    ForumDetail,
    FunctionDetail,
    FunctionRef,
    Opened,
    OrganisationDetail,
    Rights,
    RoutineDetail,
    detail_key,
    dial_value,
    open_record,
    rights,
    organisation_kind_label,
    value_label,
)

CHANNEL_ROLE = Qt.ItemDataRole.UserRole + 1
ITEM_ROLE = Qt.ItemDataRole.UserRole + 2
RESILIENT_SYMBOL = "⚡"
WARNING_SYMBOL = "⚠"
APP_SCHEME = "samverka"


def resilient_word() -> str:
    """UI.md's word for a channel that works during outages ("Reservväg")."""
    return tr("Resilient")


def channel_accessible_text(channel: ChannelRow) -> str:
    parts = [f"{channel.priority or '–'}.", channel.kind_label, channel.shown]
    if channel.resilient:
        parts.append(tr("resilient channel (works during outages)"))
    if channel.label:
        parts.append(channel.label)
    return " ".join(parts)


def copy_channel(channel: ChannelRow | None, where: str = "") -> bool:
    """Put the channel's value as dialled on the clipboard and say so in the status bar."""
    if channel is None or not channel.dial:
        bridge().report_info(tr("Nothing to copy here: choose a channel first."))
        return False
    QGuiApplication.clipboard().setText(channel.dial)
    text = tr("Copied {value} ({kind})", value=channel.dial, kind=channel.kind_label)
    bridge().report_info(f"{text} · {where}" if where else text)
    return True


def open_link(link: str | None) -> bool:
    if not link:
        return False
    return QDesktopServices.openUrl(QUrl(link))


class ChannelsModel(QAbstractTableModel):
    """A function's channels (column 0: the channel, painted by ChannelDelegate; 1: its buttons)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.channels: list[ChannelRow] = []

    def set_channels(self, channels: list[ChannelRow]) -> None:
        self.beginResetModel()
        self.channels = list(channels)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 — Qt's name
        return 0 if parent.isValid() else len(self.channels)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else 2

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.channels):
            return None
        channel = self.channels[index.row()]
        if role == CHANNEL_ROLE:
            return channel
        if index.column() != 0:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return channel_accessible_text(channel)
        if role == Qt.ItemDataRole.ToolTipRole:
            return channel.note or None
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class ChannelDelegate(QStyledItemDelegate):
    """Priority · value (large, tabular digits) · kind · Reservväg; the label and note below."""

    PAD = 8

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont, QFont]:
        base = QFont(option.font)
        small = QFont(base)
        small.setPointSizeF(max(base.pointSizeF() * 0.92, 7.0))
        return theme.number_font(base), base, small

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        big, base, small = self._fonts(option)
        height = QFontMetrics(big).height() + QFontMetrics(small).height() + 3 * self.PAD // 2
        return QSize(360, height)

    def paint(self, painter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        channel: ChannelRow | None = index.data(CHANNEL_ROLE)
        if channel is None:
            return super().paint(painter, option, index)
        text, muted = theme.paint_row_background(painter, option)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        resilient = text if selected else theme.current(QApplication.instance()).qcolor("resilient")
        big, base, small = self._fonts(option)
        rect = option.rect.adjusted(self.PAD, self.PAD // 2, -self.PAD, -self.PAD // 2)
        painter.save()
        # priority number (metrics from the painter: the device's resolution decides the pixels)
        painter.setFont(big)
        big_metrics = painter.fontMetrics()
        number = str(channel.priority) if channel.priority is not None else "–"
        number_width = big_metrics.horizontalAdvance("00")
        painter.setPen(muted)
        top_line = QRect(rect.left(), rect.top(), number_width, big_metrics.height())
        painter.drawText(top_line, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, number)
        x = rect.left() + number_width + self.PAD
        # the value, large
        painter.setPen(text)
        # The value is never cut while it can be read: in a narrow pane it is drawn smaller
        # (down to the normal size) before anything is elided. (+4 px: elidedText() measures a
        # hair wider than horizontalAdvance(), from rounding.)
        available = max(rect.right() - x, 0)
        value_width = big_metrics.horizontalAdvance(channel.shown) + 4
        if value_width > available and value_width > 0:
            fitted = QFont(big)
            fitted.setPointSizeF(max(big.pointSizeF() * available / value_width, base.pointSizeF()))
            painter.setFont(fitted)
            value_width = painter.fontMetrics().horizontalAdvance(channel.shown) + 4
        value_rect = QRect(x, rect.top(), min(value_width, available), big_metrics.height())
        painter.drawText(value_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(channel.shown, Qt.TextElideMode.ElideRight, value_rect.width()))
        x = value_rect.right() + 2 * self.PAD
        # kind, and the resilient mark in words and symbol
        painter.setFont(base)
        base_metrics = painter.fontMetrics()
        kind_rect = QRect(x, rect.top(), max(rect.right() - x, 0), big_metrics.height())
        painter.setPen(muted)
        painter.drawText(kind_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, channel.kind_label)
        if channel.resilient:
            x = kind_rect.left() + base_metrics.horizontalAdvance(channel.kind_label) + self.PAD
            bold = QFont(base)
            bold.setWeight(QFont.Weight.Bold)
            painter.setFont(bold)
            painter.setPen(resilient)
            mark = f"{RESILIENT_SYMBOL} {resilient_word()}"
            painter.drawText(QRect(x, rect.top(), max(rect.right() - x, 0), big_metrics.height()),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, mark)
        # label · note, below
        painter.setFont(small)
        painter.setPen(muted)
        second = " · ".join(p for p in (channel.label, channel.note) if p)
        small_metrics = painter.fontMetrics()
        below = QRect(rect.left() + number_width + self.PAD, rect.top() + big_metrics.height(),
                      max(rect.width() - number_width - self.PAD, 0), small_metrics.height() + 2)
        painter.drawText(below, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         small_metrics.elidedText(second, Qt.TextElideMode.ElideRight, below.width()))
        painter.restore()


class ChannelsView(QTreeView):
    """The channel list: ↑/↓ select, Ctrl+C copies the value as dialled, Enter opens tel:/mailto:."""

    copied = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("channels")
        self.setAccessibleName(tr("Channels"))
        self.setRootIsDecorated(False)
        self.setHeaderHidden(True)
        self.setUniformRowHeights(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setItemDelegateForColumn(0, ChannelDelegate(self))
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setAllColumnsShowFocus(True)
        self.channels_model = ChannelsModel(self)
        self.setModel(self.channels_model)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.doubleClicked.connect(lambda index: open_link(self._channel_at(index.row()).link if self._channel_at(index.row()) else None))
        self.where = ""  # "function, organisation" for the copy notice

    def _channel_at(self, row: int) -> ChannelRow | None:
        channels = self.channels_model.channels
        return channels[row] if 0 <= row < len(channels) else None

    def current_channel(self) -> ChannelRow | None:
        index = self.currentIndex()
        if index.isValid():
            return self._channel_at(index.row())
        return self._channel_at(0)

    def set_channels(self, channels: list[ChannelRow], select_id: str | None = None) -> None:
        self.channels_model.set_channels(channels)
        for row, channel in enumerate(channels):
            self.setIndexWidget(self.channels_model.index(row, 1), self._buttons(channel))
        row = next((i for i, c in enumerate(channels) if c.channel_id == select_id), 0)
        if channels:
            self.setCurrentIndex(self.channels_model.index(row, 0))
        self.setVisible(bool(channels))
        self._fit_height()

    def _fit_height(self) -> None:
        rows = self.channels_model.rowCount()
        height = sum(self.sizeHintForRow(r) for r in range(rows)) + 2 * self.frameWidth() + 4
        self.setFixedHeight(max(height, 0))

    def _buttons(self, channel: ChannelRow) -> QWidget:
        box = QWidget(self)
        layout = QHBoxLayout(box)
        layout.setContentsMargins(4, 2, 8, 2)
        layout.setSpacing(6)
        copy = QToolButton(box)
        copy.setText(tr("Copy"))
        copy.setToolTip(tr("Copy {value} (Ctrl+C)", value=channel.dial))
        copy.setAccessibleName(tr("Copy {value}", value=channel.dial))
        copy.setObjectName("copyChannel")
        copy.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Ctrl+C in the list is the keyboard way
        copy.clicked.connect(lambda: copy_channel(channel, self.where))
        layout.addWidget(copy)
        if channel.link:
            verb = tr("☎ Call") if channel.link.startswith("tel:") else (
                tr("✉ Write") if channel.link.startswith("mailto:") else tr("↗ Open"))
            go = QToolButton(box)
            go.setText(verb)
            go.setToolTip(channel.link)
            go.setAccessibleName(f"{verb} {channel.shown}")
            go.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            go.clicked.connect(lambda: open_link(channel.link))
            layout.addWidget(go)
        return box

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.matches(QKeySequence.StandardKey.Copy):
            copy_channel(self.current_channel(), self.where)
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            channel = self.current_channel()
            if channel is not None:
                open_link(channel.link)
            event.accept()
            return
        super().keyPressEvent(event)


def _e(text: Any) -> str:
    return html.escape(str(text)) if text not in (None, "") else ""


def _h3(text: str) -> str:
    return f"<h3>{_e(text)}</h3>"


def _lines(text: str | None) -> str:
    return "<br>".join(_e(line) for line in (text or "").splitlines())


def _record_link(collection: str, record_id: str, text: str) -> str:
    return f'<a href="{APP_SCHEME}:{collection}/{_e(record_id)}">{_e(text)}</a>'


def _channel_html(channel: ChannelRow | None) -> str:
    if channel is None:
        return "<i>" + _e(tr("no channel")) + "</i>"
    value = f'<a href="{_e(channel.link)}">{_e(channel.shown)}</a>' if channel.link else _e(channel.shown)
    mark = f" {RESILIENT_SYMBOL}&nbsp;{_e(resilient_word())}" if channel.resilient else ""
    return f"{value} <span>({_e(channel.kind_label)}{mark})</span>"


def _ref_html(ref: FunctionRef | None) -> str:
    if ref is None:
        return "–"
    return f"{_record_link('functions', ref.function_id, ref.name)}, {_e(ref.organisation_name)}"


def mode_badge_html(mode: str, activation: Any = None) -> str:
    """Activated mode in words and colour (never colour alone); an open ``activation`` (an
    ActivationSummary) says since when and why, violet with ÖVNING for an exercise."""
    t = theme.current(QApplication.instance())
    if activation is not None:
        from desktop.syncer.messages import when_text
        from desktop.ui.activation_watch import activated_words, badge_colours

        background, colour = badge_colours(activation)
        since = _e(tr("since {when}: {reason}", when=when_text(activation.started_at), reason=activation.reason))
        opener = _e(tr("Open the activation (Ctrl+5)"))
        return (f'<span style="background-color:{background.name()}; color:{colour.name()}; font-weight:bold">'
                f"&nbsp;{_e(activated_words(activation))}&nbsp;</span> {since} · "
                f'<a href="{APP_SCHEME}:activations/{_e(activation.activation_id)}">{opener}</a>')
    if mode == "activated":
        words = _e(tr("ACTIVATED"))
        return (f'<span style="background-color:{t.activated_bg}; color:{t.activated_text}; font-weight:bold">'
                f"&nbsp;● {words}&nbsp;</span>")
    words = _e(tr("Ordinary mode"))
    return (f'<span style="background-color:{t.ordinary_bg}; color:{t.ordinary_text}">'
            f"&nbsp;○ {words}&nbsp;</span>")


def _row(label_text: str, value_html: str) -> str:
    if not value_html:
        return ""
    return f"<tr><td style='padding-right:12px; vertical-align:top'><b>{_e(label_text)}</b></td><td>{value_html}</td></tr>"


def _verified(date: str | None) -> str:
    return date if date else tr("never")


def function_html(d: FunctionDetail) -> str:
    parts = []
    if d.description:
        parts.append(f"<p>{_lines(d.description)}</p>")
    rows = [
        _row(tr("Reachable"), _e(value_label(d.availability)) if d.availability else ""),
        _row(tr("Contact point"), _e(tr("Yes – the organisation's contact point for direction and coordination (ISK)")) if d.is_contact_point else ""),
        _row(tr("Verified"), _e(_verified(d.last_verified))),
    ]
    parts.append("<table>" + "".join(rows) + "</table>")
    if len(d.channels) < 2:
        t = theme.current(QApplication.instance())
        warning = _e(ngettext(
            "Only {count} channel: one failure from unreachable. Add another way to reach this function.",
            "Only {count} channels: one failure from unreachable. Add another way to reach this function.",
            len(d.channels)).format(count=len(d.channels)))
        parts.append(f'<p style="color:{t.warning}"><b>{WARNING_SYMBOL} {warning}</b></p>')
    if d.mandates:
        parts.append(_h3(tr("Mandates")) + "<table cellspacing='0' cellpadding='3'>")
        for m in d.mandates:
            parts.append(
                f"<tr><td style='vertical-align:top'>{_record_link('forums', m.forum_id, m.forum_name)}<br>"
                f"<small>{_e(level_label(m.level))}</small></td>"
                f"<td style='vertical-align:top'><b>{_e(m.role_label)}</b></td>"
                f"<td style='vertical-align:top'>{_lines(m.mandate)}"
                + ("<br><small>" + _e(tr("Reports back")) + f": {_e(m.reports_back)}</small>" if m.reports_back else "")
                + "</td></tr>"
            )
        parts.append("</table>")
    return "".join(parts)


def organisation_html(d: OrganisationDetail) -> str:
    website = f'<a href="{_e(d.website)}">{_e(d.website)}</a>' if d.website else ""
    parts = ["<table>" + "".join([
        _row(tr("Kind"), _e(organisation_kind_label(d.kind)) if d.kind else ""),
        _row(tr("Short name"), _e(d.short_name)),
        _row(tr("Website"), website),
        _row(tr("Verified"), _e(_verified(d.last_verified))),
    ]) + "</table>"]
    if d.notes:
        parts.append(f"<p>{_lines(d.notes)}</p>")
    parts.append(_h3(tr("Functions ({count})", count=d.function_count)) + "<table cellspacing='0' cellpadding='3'>")
    for ref in d.functions:
        parts.append(f"<tr><td>{_record_link('functions', ref.function_id, ref.name)}</td><td>{_channel_html(ref.best)}</td></tr>")
    parts.append("</table>")
    if d.function_count > len(d.functions):
        more = d.function_count - len(d.functions)
        parts.append("<p>" + _e(tr("… and {count} more: every function is in the directory (Ctrl+2).", count=more)) + "</p>")
    return "".join(parts)


def forum_html(d: ForumDetail, activation: Any = None) -> str:
    parts = [f"<p>{mode_badge_html(d.mode, activation)}</p>", "<table>" + "".join([
        _row(tr("Level"), _e(d.level_label)),
        _row(tr("Purpose"), _lines(d.purpose)),
        _row(tr("Convenor"), _ref_html(d.convenor) + (f" · {_channel_html(d.convenor.best)}" if d.convenor else "")),
        _row(tr("Cadence"), _e(d.cadence)),
        _row(tr("Meeting channel"), _lines(d.meeting_channel)),
        _row(tr("Agenda"), _lines(d.agenda)),
    ]) + "</table>"]
    if d.routines:
        parts.append(_h3(tr("Routines")) + "<ul>")
        parts.extend(f"<li>{_record_link('routines', rid, title)}</li>" for rid, title in d.routines)
        parts.append("</ul>")
    return "".join(parts)


def routine_html(d: RoutineDetail) -> str:
    parts = ["<table>" + "".join([
        _row(tr("Forum"), _e(d.forum_name)),
        _row(tr("Organisation"), _e(d.organisation_name)),
        _row(tr("Mode"), _e(value_label(d.mode)) if d.mode else ""),
        _row(tr("Trigger"), _lines(d.trigger)),
        _row(tr("Version"), _e(d.version)),
        _row(tr("Review due"), _e(d.review_due)),
    ]) + "</table>"]
    if d.body:
        parts.append(f"<p>{_lines(d.body)}</p>")
    return "".join(parts)


def _subtitle(detail: Detail) -> str:
    if isinstance(detail, FunctionDetail):
        return detail.organisation_name
    if isinstance(detail, OrganisationDetail):
        return organisation_kind_label(detail.kind) if detail.kind else ""
    if isinstance(detail, ForumDetail):
        return detail.level_label
    if isinstance(detail, RoutineDetail):
        return detail.forum_name or detail.organisation_name or ""
    return ""


class WrappedTextDelegate(QStyledItemDelegate):
    """Rows as tall as their text wrapped in its column (QTreeView measures a row without the
    column's width, so long mandates would be cut to one line)."""

    PAD = 6

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        view = self.parent()
        if index.column() not in view.stretch:  # a short column is as wide as its words
            return super().sizeHint(option, index)
        width = max(view.header().sectionSize(index.column()) - 2 * self.PAD, 40)
        text = str(index.data() or "")
        bounds = option.fontMetrics.boundingRect(QRect(0, 0, width, 100_000), int(Qt.TextFlag.TextWordWrap), text)
        return QSize(width, bounds.height() + self.PAD)


class ItemsView(QTreeView):
    """What hangs on a forum or routine, one selectable row each: a forum's members (function,
    role, mandate, report-back duty, best channel) or a routine's steps (with who does them).
    Enter opens the member's or responsible function; Ctrl+C copies its best channel."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model_ = QStandardItemModel(self)
        self.setModel(self.model_)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(False)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAllColumnsShowFocus(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.setItemDelegate(WrappedTextDelegate(self))
        # Rows are as tall as their wrapped text: measured again when the columns change width.
        self.header().sectionResized.connect(lambda *_: self.scheduleDelayedItemsLayout())
        self.refs: list[FunctionRef | None] = []
        self.stretch: tuple[int, ...] = ()

    def set_rows(self, kind: str, headers: list[str], rows: list[tuple[str, list[str], FunctionRef | None]],
                 select_id: str | None = None, stretch: tuple[int, ...] = ()) -> None:
        """``rows``: (record id, the columns' texts, the function to open and copy from);
        ``stretch``: the columns of long text, which share the width and wrap."""
        self.setObjectName(kind)
        self.setAccessibleName(tr("Members") if kind == "members" else tr("Steps"))
        self.stretch = stretch
        self.model_.clear()
        self.model_.setHorizontalHeaderLabels(headers)
        self.refs = []
        for record_id, texts, ref in rows:
            cells = []
            for text in texts:
                cell = QStandardItem(text)
                cell.setEditable(False)
                cells.append(cell)
            cells[0].setData(record_id, ITEM_ROLE)
            cells[0].setData(", ".join(t for t in texts if t), Qt.ItemDataRole.AccessibleTextRole)
            self.model_.appendRow(cells)
            self.refs.append(ref)
        header = self.header()
        header.setStretchLastSection(False)
        for column in range(len(headers)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch if column in stretch
                                        else QHeaderView.ResizeMode.ResizeToContents)
        if rows:
            row = next((i for i, r in enumerate(rows) if r[0] == select_id), 0)
            self.setCurrentIndex(self.model_.index(row, 0))
        self.setVisible(bool(headers))

    def current_id(self) -> str | None:
        index = self.currentIndex()
        return index.siblingAtColumn(0).data(ITEM_ROLE) if index.isValid() else None

    def current_ref(self) -> FunctionRef | None:
        index = self.currentIndex()
        return self.refs[index.row()] if index.isValid() and index.row() < len(self.refs) else None

    def ids(self) -> list[str]:
        return [self.model_.index(row, 0).data(ITEM_ROLE) for row in range(self.model_.rowCount())]

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.matches(QKeySequence.StandardKey.Copy):
            ref = self.current_ref()
            copy_channel(ref.best if ref else None, f"{ref.name}, {ref.organisation_name}" if ref else "")
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            ref = self.current_ref()
            if ref is not None:
                self.parent_detail().open("functions", ref.function_id, focus=True)
            event.accept()
            return
        super().keyPressEvent(event)

    def parent_detail(self) -> DetailView:
        widget = self.parent()
        while not isinstance(widget, DetailView):
            widget = widget.parent()
        return widget


def _best_words(ref: FunctionRef | None) -> str:
    if ref is None or ref.best is None:
        return ""
    return f"{ref.best.shown} ({ref.best.kind_label})"


def _ref_words(ref: FunctionRef | None) -> str:
    if ref is None:
        return "–"
    return f"{ref.name}, {ref.organisation_name}" if ref.organisation_name else ref.name


def member_rows(d: ForumDetail) -> list[tuple[str, list[str], FunctionRef | None]]:
    return [(m.mandate_id, [_ref_words(m.member), m.role_label, m.mandate or "", m.reports_back or "",
                            _best_words(m.member)], m.member) for m in d.members]


def step_rows(d: RoutineDetail) -> list[tuple[str, list[str], FunctionRef | None]]:
    return [(s.step_id, [str(number), s.text, _ref_words(s.responsible) if s.responsible else "",
                         _best_words(s.responsible)], s.responsible) for number, s in enumerate(d.steps, 1)]


def _short(text: str, length: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


class DetailView(QWidget):
    """Shows one record; ``open(collection, id)`` loads it in the background (newest wins),
    with what this device may change of it (views.rights): a record it may not change says why
    under its title ("Skrivskyddad: ägs av SOS Alarm.")."""

    recordShown = Signal(object)  # the Detail now shown
    contextChanged = Signal()  # what Ctrl+E, Ctrl+N and Del would act on may have changed

    def __init__(self, store: Any, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.setObjectName("details")
        self.setAccessibleName(tr("Details"))
        self.detail: Detail | None = None
        self.rights: Rights | None = None
        self._pending_channel = None  # a search hit's best channel while its record loads
        self._loader = LatestOnly(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(4)
        self.title = QLabel(self)
        self.title.setObjectName("detailTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setWeight(QFont.Weight.Bold)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = QLabel(self)
        self.subtitle.setObjectName("detailSubtitle")
        self.subtitle.setWordWrap(True)
        self.subtitle.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.read_only = QLabel(self)
        self.read_only.setObjectName("readOnlyReason")
        self.read_only.setWordWrap(True)
        self.read_only.hide()
        self.channels = ChannelsView(self)
        self.body = QTextBrowser(self)
        self.body.setObjectName("detailBody")
        self.body.setAccessibleName(tr("Record details"))
        self.body.setOpenLinks(False)
        self.body.setFrameShape(QFrame.Shape.NoFrame)
        self.body.anchorClicked.connect(self._link)
        self.body.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # The text's height is known once it is laid out at the body's width: fit it then.
        self.body.document().documentLayout().documentSizeChanged.connect(lambda _size: self._fit_body())
        self.items = ItemsView(self)
        self.items.hide()
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setForegroundRole(QPalette.ColorRole.Mid)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.read_only)
        layout.addWidget(line)
        layout.addWidget(self.channels)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.items, 2)
        self.channels.selectionModel().currentRowChanged.connect(lambda *_: self.contextChanged.emit())
        self.items.selectionModel().currentRowChanged.connect(lambda *_: self.contextChanged.emit())
        self.clear()

    # --- showing -------------------------------------------------------------------------

    def clear(self, message: str | None = None) -> None:
        self.detail = None
        self.rights = None
        self._pending_channel = None
        self.title.setText(message or tr("Nothing chosen"))
        self.subtitle.setText(tr("Search with Ctrl+K, move with ↓ ↑, open with Enter.") if message is None else "")
        self.read_only.hide()
        self.channels.set_channels([])
        self.items.set_rows("members", [], [])
        self.body.clear()
        self.body.hide()
        self.contextChanged.emit()

    def open(self, collection: str, record_id: str, *, hint: Any = None, focus: bool = False,
             select: str | None = None) -> None:
        """Load and show a record. ``hint`` (a SearchHit) is shown at once while it loads, and
        its best channel is what Ctrl+C copies until then; ``select`` is the channel, member or
        step to choose in the record's list (the first when it is gone)."""
        shown = detail_key(self.detail) if self.detail is not None else None
        if hint is not None and shown != (hint.collection, hint.record_id):
            self.detail = None
            self.rights = None
            self.title.setText(hint.title)
            self.subtitle.setText(hint.subtitle or "")
            self._pending_channel = hint.best_channel
        store = self.store

        def load() -> tuple[Opened, Rights | None]:
            opened = open_record(store, collection, record_id)
            return opened, rights(store, opened.detail) if opened.detail is not None else None

        self._loader.submit(load, lambda loaded: self.show_opened(loaded[0], focus=focus, rights=loaded[1], select=select))

    def reload(self) -> None:
        """The data changed: show the record again, the same channel, member or step chosen."""
        if self.detail is None:
            return
        collection, record_id = detail_key(self.detail)
        self.open(collection, record_id, select=self.current_channel_id() or self.items.current_id())

    @property
    def loading(self) -> bool:
        return self._loader.busy

    def show_opened(self, opened: Opened, *, focus: bool = False, rights: Rights | None = None,
                    select: str | None = None) -> None:
        detail = opened.detail
        if detail is None:
            self.clear(tr("This record no longer exists (deleted, perhaps by a sync)."))
            return
        self.detail = detail
        self.rights = rights
        self._pending_channel = None
        self.title.setText(detail.title)
        self.subtitle.setText(_subtitle(detail))
        self._show_rights(rights)
        # Only the list that does not apply is emptied (an emptied list hides, and would lose
        # the focus a reload must keep).
        if not isinstance(detail, FunctionDetail):
            self.channels.set_channels([])
        if not isinstance(detail, (ForumDetail, RoutineDetail)):
            self.items.set_rows("members", [], [])
        if isinstance(detail, FunctionDetail):
            self.channels.where = f"{detail.title}, {detail.organisation_name}"
            self.channels.set_channels(list(detail.channels), opened.channel_id or select)
            html_text = function_html(detail)
        elif isinstance(detail, ForumDetail):
            self.items.set_rows("members", [tr("Function"), tr("Role"), tr("Mandate"), tr("Reports back"),
                                            tr("Best channel")], member_rows(detail), select, stretch=(0, 2, 3))
            html_text = forum_html(detail, self._open_activation(detail.forum_id))
        elif isinstance(detail, RoutineDetail):
            self.items.set_rows("steps", [tr("No."), tr("Step"), tr("Responsible"), tr("Best channel")],
                                step_rows(detail), select, stretch=(1, 2))
            html_text = routine_html(detail)
        else:
            html_text = organisation_html(detail)
        self.body.setHtml(html_text)
        self.body.show()
        self._fit_body()
        self.recordShown.emit(detail)
        self.contextChanged.emit()
        if focus:
            self.focus_content()

    def _open_activation(self, forum_id: str):
        """The forum's open activation, as the window's ActivationWatch knows it (or None)."""
        watch = getattr(self.window(), "activation_watch", None)
        return watch.for_forum(forum_id) if watch is not None else None

    def activation_marks_changed(self) -> None:
        if isinstance(self.detail, ForumDetail):
            self.rerender()

    def _fit_body(self) -> None:
        """Above a list of members or steps the body is as tall as its text (at most half the
        pane; then it scrolls) and the list takes the rest; alone, it takes all."""
        policy = Qt.ScrollBarPolicy.ScrollBarAsNeeded
        if not self.items.isVisibleTo(self):
            self.body.setMaximumHeight(16_777_215)
        else:
            wanted = int(self.body.document().size().height()) + 2 * self.body.frameWidth() + 8
            room = max(self.height() // 2, 60)
            self.body.setMaximumHeight(min(wanted, room))
            if wanted <= room:  # it all fits: no scroll bar to narrow the text for nothing
                policy = Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        self.body.setVerticalScrollBarPolicy(policy)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_body()

    def _show_rights(self, rights: Rights | None) -> None:
        if rights is None or rights.edit:
            self.read_only.hide()
            return
        t = theme.current(QApplication.instance())
        self.read_only.setText(f"⊘ {rights.edit.text}")
        self.read_only.setStyleSheet(f"color: {t.muted};")
        self.read_only.setAccessibleName(rights.edit.text)
        self.read_only.show()

    def rerender(self) -> None:
        """After a theme change: the body's colours come from the theme."""
        if self.detail is not None:
            self.show_opened(Opened(self.detail, self.current_channel_id()), rights=self.rights,
                             select=self.items.current_id())

    def current_channel_id(self) -> str | None:
        channel = self.channels.current_channel() if self.channels.isVisible() else None
        return channel.channel_id if channel else None

    def focus_content(self) -> None:
        if self.channels.channels_model.rowCount():
            self.channels.setFocus(Qt.FocusReason.OtherFocusReason)
        elif self.items.isVisibleTo(self) and self.items.model_.rowCount():
            self.items.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.body.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- what editing acts on ------------------------------------------------------------------

    def record_context(self) -> EditContext:
        """Ctrl+E, Del and "Verified today" on the record shown; Ctrl+N adds to it."""
        detail, rights = self.detail, self.rights
        if detail is None or rights is None:
            return EditContext()
        collection, record_id = detail_key(detail)
        child, ref = CHILDREN[collection]
        record = Target(collection, record_id, detail.title, rights.edit)
        deletable = None if collection == "organisations" else Target(collection, record_id, detail.title, rights.delete)
        verify = record if collection in ("functions", "organisations") else None
        return EditContext(edit=record, new=Target(child, None, "", rights.add, {ref: record_id}, detail.title),
                           delete=deletable, verify=verify)

    def sibling_target(self) -> Target | None:
        """A new record beside the one shown: a function of the same organisation, a forum, a
        routine of the same owner."""
        detail, rights = self.detail, self.rights
        if detail is None or rights is None:
            return None
        if isinstance(detail, OrganisationDetail):
            return Target("functions", None, "", rights.add, {"organisation_id": detail.organisation_id}, detail.name)
        if isinstance(detail, FunctionDetail):
            return Target("functions", None, "", rights.add_sibling, {"organisation_id": detail.organisation_id},
                          detail.organisation_name)
        if isinstance(detail, ForumDetail):
            return Target("forums", None, "", rights.add_sibling)
        if isinstance(detail, RoutineDetail):
            fixed = {"forum_id": detail.forum_id} if detail.forum_id else {"organisation_id": detail.organisation_id}
            return Target("routines", None, "", rights.add_sibling, fixed)
        return None

    def edit_context(self) -> EditContext:
        """What the keys act on when the focus is in this pane: the chosen channel, member or
        step when its list has the focus, else the record."""
        detail, rights = self.detail, self.rights
        context = self.record_context()
        if detail is None or rights is None:
            return context
        focus = QApplication.focusWidget()
        collection, record_id = detail_key(detail)
        child, ref = CHILDREN[collection]
        new = Target(child, None, "", rights.add, {ref: record_id}, detail.title)
        if focus is self.channels and isinstance(detail, FunctionDetail):
            channel = self.channels.current_channel()
            if channel is None:
                return EditContext(new=new, verify=context.verify)
            permission = rights.items.get(channel.channel_id, rights.edit)
            item = Target("channels", channel.channel_id, f"{channel.shown} ({channel.kind_label})", permission,
                          {}, detail.title)
            return EditContext(edit=item, new=new, delete=item, verify=context.verify, move=item)
        if focus is self.items and self.items.current_id():
            item_id = self.items.current_id()
            permission = rights.items.get(item_id, rights.edit)
            if isinstance(detail, ForumDetail):
                ref_ = self.items.current_ref()
                item = Target("mandates", item_id, _ref_words(ref_), permission, {}, detail.title)
                return EditContext(edit=item, new=new, delete=item)
            index = self.items.currentIndex()
            text = self.items.model_.index(index.row(), 1).data() or ""
            item = Target("routine_steps", item_id, f"{index.row() + 1}. {_short(text)}", permission, {}, detail.title)
            return EditContext(edit=item, new=new, delete=item, move=item)
        return context

    # --- copying ----------------------------------------------------------------------------

    def copy_current(self) -> bool:
        """Ctrl+C: the selected channel, or (while the record loads) the search hit's best one."""
        if self.detail is None and self._pending_channel is not None:
            best = self._pending_channel
            from desktop.store.messages import channel_kind_label
            from desktop.views import channel_link

            row = ChannelRow(best.channel_id, "", best.kind, channel_kind_label(best.kind), best.value,
                             best.value, dial_value(best.kind, best.value), channel_link(best.kind, best.value),
                             best.label, None, None, False)
            return copy_channel(row, self.title.text())
        if isinstance(self.detail, FunctionDetail):
            return copy_channel(self.channels.current_channel(), self.channels.where)
        ref = self.items.current_ref() if self.items.isVisibleTo(self) else None
        if ref is not None:
            return copy_channel(ref.best, _ref_words(ref))
        return copy_channel(None)

    def list_context(self) -> EditContext:
        """What the keys act on from a list beside this pane (the directory's, the forums', the
        routines'): the record shown, and Ctrl+N makes another beside it."""
        focus = QApplication.focusWidget()
        if focus is not None and self.isAncestorOf(focus):
            return self.edit_context()
        return replace(self.record_context(), new=self.sibling_target())

    def _link(self, url: QUrl) -> None:
        if url.scheme() == APP_SCHEME:
            collection, _, record_id = url.path().partition("/")
            if collection == "activations" and record_id:
                opener = getattr(self.window(), "open_activation", None)
                if opener is not None:
                    opener(record_id)
                return
            if collection and record_id:
                self.open(collection, record_id, focus=True)
            return
        open_link(url.toString())

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            self.rerender()
        super().changeEvent(event)
