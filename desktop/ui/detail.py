"""The detail pane: one record — a function's channels in priority order with copy buttons, or an organisation, forum or routine.

Numbers are the payload (UI.md): each channel's value is drawn large with tabular digits, its
kind and priority beside it, and a resilient channel says "Reservväg" with a symbol as well as
a colour. Ctrl+C copies the selected channel's value as dialled; Enter (or the button beside
it) hands tel:/mailto: to the system. The rest of a record (mandates, members, steps) is read
in a text browser whose links open other records in the same pane.
"""

from __future__ import annotations

import html
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
from PySide6.QtGui import QDesktopServices, QFont, QFontMetrics, QGuiApplication, QKeySequence, QPalette
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
from desktop.ui.ops import LatestOnly
from desktop.views import (
    ChannelRow,
    Detail,
    ForumDetail,
    FunctionDetail,
    FunctionRef,
    Opened,
    OrganisationDetail,
    RoutineDetail,
    dial_value,
    open_record,
    organisation_kind_label,
    value_label,
)

CHANNEL_ROLE = Qt.ItemDataRole.UserRole + 1
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


def mode_badge_html(mode: str) -> str:
    """Activated mode in words and colour (never colour alone)."""
    t = theme.current(QApplication.instance())
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


def forum_html(d: ForumDetail) -> str:
    parts = [f"<p>{mode_badge_html(d.mode)}</p>", "<table>" + "".join([
        _row(tr("Level"), _e(d.level_label)),
        _row(tr("Purpose"), _lines(d.purpose)),
        _row(tr("Convenor"), _ref_html(d.convenor) + (f" · {_channel_html(d.convenor.best)}" if d.convenor else "")),
        _row(tr("Cadence"), _e(d.cadence)),
        _row(tr("Meeting channel"), _lines(d.meeting_channel)),
        _row(tr("Agenda"), _lines(d.agenda)),
    ]) + "</table>"]
    parts.append(_h3(tr("Members ({count})", count=len(d.members))))
    parts.append("<table cellspacing='0' cellpadding='4' border='0'>")
    parts.append("<tr>" + "".join(f"<th align='left'>{_e(h)}</th>" for h in (
        tr("Function"), tr("Role"), tr("Mandate"), tr("Reports back"), tr("Best channel"))) + "</tr>")
    for m in d.members:
        ref = m.member
        parts.append(
            "<tr>"
            f"<td style='vertical-align:top'>{_ref_html(ref)}</td>"
            f"<td style='vertical-align:top'><b>{_e(m.role_label)}</b></td>"
            f"<td style='vertical-align:top'>{_lines(m.mandate)}</td>"
            f"<td style='vertical-align:top'>{_lines(m.reports_back)}</td>"
            f"<td style='vertical-align:top'>{_channel_html(ref.best if ref else None)}</td>"
            "</tr>"
        )
    parts.append("</table>")
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
    parts.append(_h3(tr("Steps")) + "<ol>")
    for step in d.steps:
        who = ""
        if step.responsible is not None:
            who = ("<br><small>" + _e(tr("Responsible")) + f": {_ref_html(step.responsible)}"
                   f" · {_channel_html(step.responsible.best)}</small>")
        parts.append(f"<li style='margin-bottom:6px'>{_lines(step.text)}{who}</li>")
    parts.append("</ol>")
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


class DetailView(QWidget):
    """Shows one record; ``open(collection, id)`` loads it in the background (newest wins)."""

    recordShown = Signal(object)  # the Detail now shown

    def __init__(self, store: Any, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.setObjectName("details")
        self.setAccessibleName(tr("Details"))
        self.detail: Detail | None = None
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
        self.channels = ChannelsView(self)
        self.body = QTextBrowser(self)
        self.body.setObjectName("detailBody")
        self.body.setAccessibleName(tr("Record details"))
        self.body.setOpenLinks(False)
        self.body.setFrameShape(QFrame.Shape.NoFrame)
        self.body.anchorClicked.connect(self._link)
        self.body.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setForegroundRole(QPalette.ColorRole.Mid)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(line)
        layout.addWidget(self.channels)
        layout.addWidget(self.body, 1)
        self.clear()

    # --- showing -------------------------------------------------------------------------

    def clear(self, message: str | None = None) -> None:
        self.detail = None
        self._pending_channel = None
        self.title.setText(message or tr("Nothing chosen"))
        self.subtitle.setText(tr("Search with Ctrl+K, move with ↓ ↑, open with Enter.") if message is None else "")
        self.channels.set_channels([])
        self.body.clear()
        self.body.hide()

    def open(self, collection: str, record_id: str, *, hint: Any = None, focus: bool = False) -> None:
        """Load and show a record. ``hint`` (a SearchHit) is shown at once while it loads, and
        its best channel is what Ctrl+C copies until then."""
        if hint is not None:
            self.detail = None
            self.title.setText(hint.title)
            self.subtitle.setText(hint.subtitle or "")
            self._pending_channel = hint.best_channel
        store = self.store
        self._loader.submit(
            lambda: open_record(store, collection, record_id),
            lambda opened: self.show_opened(opened, focus=focus),
        )

    @property
    def loading(self) -> bool:
        return self._loader.busy

    def show_opened(self, opened: Opened, *, focus: bool = False) -> None:
        detail = opened.detail
        if detail is None:
            self.clear(tr("This record no longer exists (deleted, perhaps by a sync)."))
            return
        self.detail = detail
        self._pending_channel = None
        self.title.setText(detail.title)
        self.subtitle.setText(_subtitle(detail))
        if isinstance(detail, FunctionDetail):
            self.channels.where = f"{detail.title}, {detail.organisation_name}"
            self.channels.set_channels(list(detail.channels), opened.channel_id)
            html_text = function_html(detail)
        else:
            self.channels.set_channels([])
            html_text = {
                OrganisationDetail: organisation_html,
                ForumDetail: forum_html,
                RoutineDetail: routine_html,
            }[type(detail)](detail)
        self.body.setHtml(html_text)
        self.body.show()
        self.recordShown.emit(detail)
        if focus:
            self.focus_content()

    def rerender(self) -> None:
        """After a theme change: the body's colours come from the theme."""
        if self.detail is not None:
            self.show_opened(Opened(self.detail, self.current_channel_id()))

    def current_channel_id(self) -> str | None:
        channel = self.channels.current_channel() if self.channels.isVisible() else None
        return channel.channel_id if channel else None

    def focus_content(self) -> None:
        if self.channels.channels_model.rowCount():
            self.channels.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.body.setFocus(Qt.FocusReason.OtherFocusReason)

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
        return copy_channel(None)

    def _link(self, url: QUrl) -> None:
        if url.scheme() == APP_SCHEME:
            collection, _, record_id = url.path().partition("/")
            if collection and record_id:
                self.open(collection, record_id, focus=True)
            return
        open_link(url.toString())

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            self.rerender()
        super().changeEvent(event)

