"""What an activation's page shows, as Qt models and words: the call list, the journal, a status in a symbol and words, one journal entry in full.

The models hold the loaded values (desktop.activation's immutable dataclasses) and answer the
view's paint requests; nothing here reads the store. The journal model is a plain table over
the threaded entries (2,000 rows are a list; only the rows on screen are asked for), and the
call list's time column is repainted each second from a ``ServerClock``, without reloading.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import QApplication

from desktop.activation.model import UNREACHED, ActivationSummary, CallList, CallListRow, JournalEntry
from desktop.activation.situation import SECTIONS
from desktop.activation.words import elapsed_text, exercise_word, kind_label, role_label, status_label
from desktop.i18n import N_, ngettext, tr
from desktop.syncer.messages import when_text
from desktop.ui import theme
from desktop.ui.activation_watch import ACTIVATED_SYMBOL, EXERCISE_SYMBOL, ServerClock
from desktop.ui.detail import RESILIENT_SYMBOL, resilient_word

ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_SYMBOLS = {"reached": "●", "attending": "✓", "declined": "✗"}
UNREACHED_SYMBOL = "⚠"


def status_words(status: str) -> str:
    """A call-out status in a symbol and words; the unreached (not tried, no answer) stand out."""
    symbol = UNREACHED_SYMBOL if status in UNREACHED else STATUS_SYMBOLS.get(status, "")
    return f"{symbol} {status_label(status)}".strip()


def channels_words(row: CallListRow) -> str:
    """Every channel in priority order, the resilient ones flagged: "1 070-174 06 05 (Mobil) · 2 ⚡ …"."""
    parts = []
    for number, channel in enumerate(row.channels, 1):
        mark = f"{RESILIENT_SYMBOL} " if channel.resilient else ""
        reserve = f", {resilient_word()}" if channel.resilient else ""
        parts.append(f"{channel.priority or number} {mark}{channel.shown} ({channel.kind_label}{reserve})")
    return " · ".join(parts) if parts else tr("no channel")


def first_channel_words(row: CallListRow) -> str:
    """The number to dial first, and how many more ways there are (the resilient ones counted):
    "070-174 06 05 (Mobil) · +2, ⚡ 1 reservväg"; every channel is listed below the table."""
    if not row.channels:
        return "⚠ " + tr("no channel")
    first = row.channels[0]
    words = f"{first.shown} ({first.kind_label})"
    if first.resilient:
        words = f"{RESILIENT_SYMBOL} {words}"
    more = len(row.channels) - 1
    if more:
        words += f" · +{more}"
        resilient = sum(1 for c in row.channels[1:] if c.resilient)
        if resilient:
            words += f", {RESILIENT_SYMBOL} " + ngettext("{count} resilient", "{count} resilient", resilient).format(count=resilient)
    return words


def state_words(summary: ActivationSummary) -> str:
    """"● Pågår" or "Avslutad 2026-12-06 14:30", with "◆ ÖVNING" for an exercise."""
    ongoing = tr("In progress")
    words = f"{ACTIVATED_SYMBOL} {ongoing}" if summary.is_open else tr("Ended {when}", when=when_text(summary.ended_at))
    if summary.exercise:
        words += f" · {EXERCISE_SYMBOL} {exercise_word()}"
    return words


@dataclass(frozen=True)
class CallPart:
    call_list: CallList
    may_write: Any  # desktop.permissions.Permission
    may_end: Any
    now_ms: int


class _TableModel(QAbstractTableModel):
    """A table over ``rows`` with translated ``HEADERS``."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list = []

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(self.HEADERS[section])
        return None


# --- the models --------------------------------------------------------------------------------


class CallListModel(_TableModel):
    """The call list: status, function, organisation, role, channels, time to answer."""

    HEADERS = (N_("Status"), N_("Function"), N_("Organisation"), N_("Role"), N_("Dial first"), N_("Answered"))
    TIME_COLUMN = 5

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[CallListRow] = []
        self.summary: ActivationSummary | None = None
        self.clock = ServerClock()

    def set_call_list(self, call_list: CallList, clock: ServerClock) -> None:
        self.beginResetModel()
        self.rows = list(call_list.rows)
        self.summary = call_list.activation
        self.clock = clock
        self.endResetModel()

    def row_of(self, function_id: str | None) -> int:
        return next((i for i, r in enumerate(self.rows) if r.function_id == function_id), -1)

    def tick(self) -> None:
        if self.rows:
            self.dataChanged.emit(self.index(0, self.TIME_COLUMN), self.index(len(self.rows) - 1, self.TIME_COLUMN),
                                  [Qt.ItemDataRole.DisplayRole])

    def answered_words(self, row: CallListRow) -> str:
        if row.acknowledged_after_ms is not None:
            return tr("after {time}", time=elapsed_text(row.acknowledged_after_ms))
        if self.summary is not None and self.summary.is_open and row.unreached:
            return tr("waiting {time}", time=elapsed_text(self.clock.since(self.summary)))
        return "–"

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == ID_ROLE:
            return row.function_id
        if role == Qt.ItemDataRole.DisplayRole:
            return (status_words(row.status), row.name, row.organisation_name, role_label(row.role),
                    first_channel_words(row), self.answered_words(row))[column]
        if role == Qt.ItemDataRole.AccessibleTextRole and column == 0:
            return ", ".join((status_words(row.status), row.name, row.organisation_name, self.answered_words(row)))
        if role == Qt.ItemDataRole.FontRole and row.unreached and column in (0, 1):
            font = QFont()
            font.setWeight(QFont.Weight.Bold)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and row.unreached and column == 0:
            return QBrush(theme.current(QApplication.instance()).qcolor("warning"))
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 4:
                return channels_words(row).replace(" · ", "\n")
            if column == 0 and row.latest is not None:
                note = f" — {row.latest.note}" if row.latest.note else ""
                return f"{when_text(row.latest.at)} ({row.latest.organisation_name}){note}"
            if column == 3 and row.mandate:
                return row.mandate
        return None


class JournalModel(_TableModel):
    """The journal, each entry followed by its corrections: place, time, kind, who, text (its
    first line; the whole entry shows below the table)."""

    HEADERS = (N_("No."), N_("Time"), N_("Kind"), N_("Written by"), N_("Text"))

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[JournalEntry, int]] = []
        self.places: dict[str, str] = {}
        self.references: dict[str, str] = {}  # entry id -> how its corrections name it

    def set_journal(self, rows: list[tuple[JournalEntry, int]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.places = {e.entry_id: self.place(e) for e, _depth in rows}
        self.references = {e.entry_id: self.reference(e) for e, _depth in rows if e.corrected_by}
        self.endResetModel()

    @staticmethod
    def place(entry: JournalEntry) -> str:
        return f"#{entry.index}" if entry.index is not None else tr("not sequenced yet")

    @staticmethod
    def reference(entry: JournalEntry) -> str:
        """How a correction names the entry it corrects: its place, or (not sequenced yet, so it
        has none) the start of its text."""
        if entry.index is not None:
            return f"#{entry.index}"
        first = (entry.text.splitlines() or [""])[0]
        return f"“{first[:40]}…”" if len(first) > 40 else f"“{first}”"

    def row_of(self, entry_id: str | None) -> int:
        return next((i for i, (e, _d) in enumerate(self.rows) if e.entry_id == entry_id), -1)

    def entry(self, row: int) -> JournalEntry | None:
        return self.rows[row][0] if 0 <= row < len(self.rows) else None

    def text_of(self, entry: JournalEntry, depth: int) -> str:
        if entry.hidden:
            return tr("(internal to another organisation)")
        first = (entry.text.splitlines() or [""])[0]
        if entry.situation is not None:
            first = tr("Situation report")
        if depth:
            return "↳ " + tr("Correction of {place}: {text}", place=self.references.get(entry.corrects or "", "?"),
                             text=first)
        if entry.corrected_by:
            return f"{first}  ⟲ " + tr("corrected")
        return first

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        entry, depth = self.rows[index.row()]
        column = index.column()
        if role == ID_ROLE:
            return entry.entry_id
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return self.places[entry.entry_id]
            if entry.hidden:
                return self.text_of(entry, depth) if column == 4 else ""
            return (None, when_text(entry.at), kind_label(entry.kind), entry.author or entry.organisation_name,
                    self.text_of(entry, depth))[column]
        if role == Qt.ItemDataRole.AccessibleTextRole and column == 0:
            return ", ".join(p for p in (self.places[entry.entry_id], when_text(entry.at), kind_label(entry.kind),
                                         entry.author or entry.organisation_name, self.text_of(entry, depth)) if p)
        if role == Qt.ItemDataRole.FontRole and (depth or (column == 0 and entry.index is None)):
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and (entry.hidden or (column == 0 and entry.index is None)):
            return QBrush(theme.current(QApplication.instance()).qcolor("muted"))
        return None


def entry_html(entry: JournalEntry, places: dict[str, str], references: dict[str, str] | None = None) -> str:
    """The whole of one journal entry: who, when, its place, the text (a situation report by its
    sections), what it corrects and what corrects it."""
    def e(text: Any) -> str:
        return html.escape(str(text or ""))

    place = places.get(entry.entry_id, "")
    if entry.hidden:
        internal = tr("(internal to another organisation)")
        return f"<p><b>{e(place)}</b> — {e(internal)}</p>"
    who = ", ".join(p for p in (entry.author or entry.organisation_name, entry.device_name) if p)
    parts = [f"<p><b>{e(place)}</b> · {e(when_text(entry.at))} · <b>{e(kind_label(entry.kind))}</b> · {e(who)}</p>"]
    if entry.corrects:
        corrects = tr("Correction of {place}", place=(references or places).get(entry.corrects, entry.corrects[:8]))
        parts.append(f"<p><i>↳ {e(corrects)}</i></p>")
    if entry.situation is not None:
        report = entry.situation
        for key, heading in SECTIONS:
            if key == "party_reports":
                parts.append(f"<h4>{e(tr(heading))}</h4>")
                parts += [f"<p><i>{e(p.party)}:</i> {'<br>'.join(e(line) for line in p.text.splitlines())}</p>"
                          for p in report.party_reports]
            elif getattr(report, key):
                parts.append(f"<h4>{e(tr(heading))}</h4><p>{'<br>'.join(e(line) for line in getattr(report, key).splitlines())}</p>")
    else:
        parts.append("<p>" + "<br>".join(e(line) for line in entry.text.splitlines()) + "</p>")
    if entry.corrected_by:
        shown = ", ".join(places.get(i, i[:8]) for i in entry.corrected_by)
        corrected = tr("Corrected by {places}", places=shown)
        parts.append(f"<p><i>⟲ {e(corrected)}</i></p>")
    return "".join(parts)
