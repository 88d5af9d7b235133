"""The status bar: online or offline, unsent changes, last sync, "Synkronisera nu" with progress, conflicts and rejected changes.

Offline is a state, not an error (UI.md): "○ Offline — allt fungerar, ändringar skickas när
anslutningen är tillbaka". A vault that is not enrolled says plainly that it is standalone.
Every state is a word and a symbol as well as a colour. The counts come from the engine's
status (SyncEvents); the conflict and rejected counters are buttons that open their lists
(syncissues.py), and pulled records kept aside as malformed are counted too.
"""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QApplication, QLabel, QProgressBar, QPushButton, QStatusBar

from desktop.i18n import ngettext, tr
from desktop.ui import theme


def last_sync_text(iso_utc: str | None, now: datetime | None = None) -> str:
    """"Senast synkad 02:47" today, with the date on other days; "never" before the first."""
    if not iso_utc:
        return tr("Never synchronised")
    try:
        moment = datetime.fromisoformat(iso_utc.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return tr("Never synchronised")
    now = (now or datetime.now(timezone.utc)).astimezone()
    shown = moment.strftime("%H:%M") if moment.date() == now.date() else moment.strftime("%Y-%m-%d %H:%M")
    return tr("Last synchronised {time}", time=shown)


def _grouped(number: int) -> str:
    """12 345: thousands grouped with a (thin) space, as Swedish writes them."""
    return f"{number:,}".replace(",", "\u202f")


def state_text(status) -> tuple[str, str]:
    """(words with a symbol, the theme colour that goes with them) for a SyncStatus."""
    state = status.state
    if state == "not_enrolled":
        return tr("Standalone – not connected to a server; the data stays on this computer"), "muted"
    if state == "offline":
        return tr("○ Offline – everything works; changes are sent when the connection is back"), "muted"
    if state == "syncing":
        if status.progress is not None:
            done, total = (_grouped(n) if n is not None else None for n in status.progress)
            if total:
                return tr("⟳ Synchronising … {done} of {total}", done=done, total=total), "text"
            return tr("⟳ Synchronising … {done}", done=done), "text"
        return tr("⟳ Synchronising …"), "text"
    if state == "unauthorized":
        return tr("⚠ This device is no longer accepted by the server. Ask your administrator for a new enrollment code."), "error"
    if state == "error":
        return tr("⚠ Synchronisation failed: {reason}", reason=status.last_error or "?"), "error"
    return tr("● Connected"), "ok"


class SyncStatusBar(QStatusBar):
    syncRequested = Signal()
    conflictsRequested = Signal()
    rejectedRequested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.state = QLabel(self)
        self.state.setObjectName("syncStatus")
        self.state.setAccessibleName(tr("Synchronisation status"))
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.last = QLabel(self)
        self.last.setObjectName("lastSync")
        self.unsent = QLabel(self)
        self.unsent.setObjectName("unsentChanges")
        self.conflicts = self._counter_button("conflictsCount", tr("Conflicts: open the list"), self.conflictsRequested)
        self.rejected = self._counter_button("rejectedCount", tr("Rejected changes: open the list"), self.rejectedRequested)
        self.quarantined = QLabel(self)
        self.quarantined.setObjectName("quarantinedCount")
        self.quarantined.setToolTip(tr(
            "Records from the server that broke the rules of the data were kept aside and not used. "
            "Nothing of yours is lost; tell the administrator."))
        self.progress = QProgressBar(self)
        self.progress.setObjectName("syncProgress")
        self.progress.setAccessibleName(tr("Synchronisation progress"))
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.sync_now = QPushButton(tr("⟳ Synchronise now"), self)
        self.sync_now.setObjectName("syncNow")
        self.sync_now.setAccessibleName(tr("Synchronise now"))
        self.sync_now.setToolTip(tr("Synchronise now (Ctrl+Shift+S)"))
        self.sync_now.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.sync_now.clicked.connect(self.syncRequested)
        for widget in (self.state, self.progress, self.last, self.unsent, self.conflicts, self.rejected,
                       self.quarantined, self.sync_now):
            self.addPermanentWidget(widget)
            widget.hide()  # until the first status arrives
        self.state.show()
        self.status = None
        self.enrolled = False

    def show_status(self, status) -> None:
        self.status = status
        self.enrolled = status.state != "not_enrolled"
        text, colour = state_text(status)
        t = theme.current(QApplication.instance())
        self.state.setText(text)
        self.state.setStyleSheet(f"color: {getattr(t, colour)};")
        self.state.setToolTip(status.last_error or "")
        self.last.setVisible(self.enrolled)
        self.last.setText(last_sync_text(status.last_success))
        self.unsent.setVisible(self.enrolled)
        self.unsent.setText(ngettext("{count} unsent change", "{count} unsent changes", status.outbox_count).format(count=status.outbox_count))
        self._counter(self.conflicts, status.conflicts_count,
                      ngettext("{count} conflict", "{count} conflicts", status.conflicts_count), t)
        self._counter(self.rejected, status.rejected_count,
                      ngettext("{count} rejected change", "{count} rejected changes", status.rejected_count), t)
        quarantined = status.quarantined_count
        self.quarantined.setVisible(quarantined > 0)
        self.quarantined.setText("⚠ " + ngettext("{count} record kept aside", "{count} records kept aside",
                                                 quarantined).format(count=quarantined))
        self.quarantined.setStyleSheet(f"color: {t.warning};")
        syncing = status.state == "syncing"
        self.sync_now.setVisible(self.enrolled)
        self.sync_now.setEnabled(self.enrolled and not syncing)
        if syncing and status.progress is not None:
            done, total = status.progress
            self.progress.setRange(0, total or 0)
            if total:
                self.progress.setValue(min(done, total))
            self.progress.show()
        elif syncing:
            self.progress.setRange(0, 0)  # busy
            self.progress.show()
        else:
            self.progress.hide()

    def _counter_button(self, name: str, tip: str, signal) -> QPushButton:
        button = QPushButton(self)
        button.setObjectName(name)
        button.setFlat(True)
        button.setToolTip(tip)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        button.clicked.connect(signal)
        return button

    def _counter(self, button: QPushButton, count: int, template: str, t) -> None:
        button.setVisible(self.enrolled or count > 0)
        text = template.format(count=count)
        button.setText(f"⚠ {text}" if count else text)
        button.setAccessibleName(text)
        button.setStyleSheet(f"QPushButton {{ color: {t.warning if count else t.muted}; "
                             f"font-weight: {'bold' if count else 'normal'}; border: none; padding: 0 4px; }}"
                             f"QPushButton:hover {{ text-decoration: underline; }}")
