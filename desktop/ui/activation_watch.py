"""Open activations as the whole window sees them: the banner across the top, the system notification, the activated mark in every list, the clock that keeps times current.

``ActivationWatch`` reads the open activations on a pool thread whenever the data changes (a
sync brought one, or this device made one): every open activation by forum (the forums list,
the search hits and a forum's detail mark it "● AKTIVERAT", with "ÖVNING" for an exercise), and
those of forums this device's organisation sits in (the banner). An activation of one's own
forums not announced before on this device is announced once through ``TrayNotifier`` — a
system notification naming the forum and the reason where the desktop has a tray, and
otherwise (the offscreen platform, a desktop without a tray) only the banner and a flash of
the taskbar entry; which it was is kept in ``TrayNotifier.decisions``. Which activations were
announced is kept in the encrypted store, so a restart does not announce them again.

Times ("00:42 sedan aktivering") follow the server-corrected clock the activation service
uses, read once per load and carried forward with the monotonic clock: the one-second tick
does no work but painting.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from desktop.activation.model import ActivationSummary
from desktop.activation.words import exercise_word
from desktop.i18n import ngettext, tr
from desktop.ui import theme
from desktop.ui.ops import CollectionOp, LatestOnly

log = logging.getLogger(__name__)

META_ANNOUNCED = "ui.activations_announced"  # ids of activations this device has announced
ACTIVATED_SYMBOL = "●"
EXERCISE_SYMBOL = "◆"
BANNER_ROWS = 3  # more open activations than this: "and 2 more" (the view lists them all)
TICK_MS = 1000


def started_ms(summary: ActivationSummary) -> int | None:
    from sync.clock import parse_time

    try:
        return parse_time(summary.started_at) if summary.started_at else None
    except (TypeError, ValueError, OverflowError):
        return None


def clock_text(ms: int | None) -> str:
    """A duration as hours and minutes, "00:42" (UI.md's banner), "26:05" after a day."""
    minutes = max(0, int(ms or 0)) // 60_000
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def activated_words(summary: ActivationSummary | None) -> str:
    """A forum's mark in a list: "● AKTIVERAT", "● AKTIVERAT · ◆ ÖVNING"; "" when not activated."""
    if summary is None:
        return ""
    activated = tr("ACTIVATED")
    words = f"{ACTIVATED_SYMBOL} {activated}"
    if summary.exercise:
        words += f" · {EXERCISE_SYMBOL} {exercise_word()}"
    return words


def banner_text(summary: ActivationSummary, elapsed_ms: int) -> str:
    """"AKTIVERAT: Samverkanskonferens — Strömavbrott Södertörn — 00:42 sedan aktivering"."""
    text = tr("ACTIVATED: {forum} — {reason} — {time} since activation", forum=summary.forum_name,
              reason=summary.reason, time=clock_text(elapsed_ms))
    if summary.exercise:
        return f"{EXERCISE_SYMBOL} {exercise_word()} · {text}"
    return f"{ACTIVATED_SYMBOL} {text}"


def notification_text(summary: ActivationSummary) -> tuple[str, str]:
    """The system notification's title and text: the forum and the reason (and ÖVNING)."""
    title = tr("ACTIVATED: {forum}", forum=summary.forum_name)
    if summary.exercise:
        title = f"{exercise_word()} – {title}"
    text = tr("Reason: {reason}", reason=summary.reason)
    if summary.started_by:
        text += "\n" + tr("Activated by {who}", who=summary.started_by)
    return title, text


def badge_colours(summary: ActivationSummary | None) -> tuple[QColor, QColor]:
    """(background, text) of an activation's mark: red for a real one, violet for an exercise."""
    t = theme.current(QApplication.instance())
    if summary is not None and summary.exercise:
        return t.qcolor("exercise_bg"), t.qcolor("exercise_text")
    return t.qcolor("activated_bg"), t.qcolor("activated_text")


class ServerClock:
    """The activation service's "now" (server-corrected), read once and carried forward."""

    def __init__(self, now_ms: int | None = None) -> None:
        self.reset(now_ms)

    def reset(self, now_ms: int | None) -> None:
        self._base = now_ms if now_ms is not None else int(time.time() * 1000)
        self._at = time.monotonic()

    def now(self) -> int:
        return self._base + int((time.monotonic() - self._at) * 1000)

    def since(self, summary: ActivationSummary) -> int:
        """Time since the activation started (to its end, once ended)."""
        from sync.clock import parse_time

        start = started_ms(summary)
        if start is None:
            return 0
        end = self.now()
        if summary.ended_at:
            try:
                end = parse_time(summary.ended_at)
            except (TypeError, ValueError, OverflowError):
                pass
        return max(0, end - start)


def tray_icon() -> QIcon:
    """A plain red disc: the platform's notification needs an icon, and nothing is drawn as
    text inside it."""
    pixmap = QPixmap(64, 64)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QBrush(QColor(theme.LIGHT.activated_bg)))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(QRectF(6, 6, 52, 52))
    painter.end()
    return QIcon(pixmap)


class TrayNotifier(QObject):
    """A system notification where the desktop has a tray; quietly nothing else where not.

    ``decisions`` keeps (decision, title, text) for each announcement: "shown" through the
    tray, or "no-tray" (the banner alone carries it, and the taskbar entry flashes)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.tray: QSystemTrayIcon | None = None
        self.decisions: list[tuple[str, str, str]] = []

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages()

    def announce(self, summary: ActivationSummary) -> str:
        title, text = notification_text(summary)
        if not self.available():
            decision = "no-tray"
            QApplication.alert(self.window)
        else:
            decision = "shown"
            if self.tray is None:
                self.tray = QSystemTrayIcon(tray_icon(), self)
                self.tray.setToolTip("Samverka")
                self.tray.show()
            icon = QSystemTrayIcon.MessageIcon.Information if summary.exercise else QSystemTrayIcon.MessageIcon.Warning
            self.tray.showMessage(title, text, icon, 30_000)
        log.info("activation announced (%s)", decision)
        self.decisions.append((decision, title, text))
        return decision

    def hide(self) -> None:
        if self.tray is not None:
            self.tray.hide()


class ActivationWatch(QObject):
    """The open activations, read again when the data changes; a tick each second while any
    is open (``ticked``), for the times shown."""

    changed = Signal()
    arrived = Signal(object)  # an ActivationSummary of one's own forums, not announced before
    ticked = Signal()

    def __init__(self, store: Any, parent: QObject | None = None) -> None:
        from desktop.activation import ActivationService

        super().__init__(parent)
        self.store = store
        self.service = ActivationService(store)
        self.by_forum: dict[str, ActivationSummary] = {}  # every open activation, by its forum
        self.mine: list[ActivationSummary] = []  # open, of forums this organisation sits in
        self.clock = ServerClock()
        self.loaded = False
        self._announced: set[str] | None = None
        self._loader = LatestOnly(self)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.ticked)

    def refresh(self) -> None:
        service, store = self.service, self.store

        def read() -> tuple[list[ActivationSummary], list[ActivationSummary], list[str], int]:
            every = [a for a in service.activations() if a.is_open]
            mine = service.open_for_my_organisation()
            announced = store.get_meta(META_ANNOUNCED)
            return every, mine, announced if isinstance(announced, list) else [], service.now_ms()

        self._loader.submit(read, self._set)

    def _set(self, loaded: tuple[list[ActivationSummary], list[ActivationSummary], list[str], int]) -> None:
        every, mine, announced, now = loaded
        self.clock.reset(now)
        self.by_forum = {}
        for summary in reversed(every):  # the newest open one of a forum wins
            self.by_forum[summary.forum_id] = summary
        self.mine = mine
        self.loaded = True
        if self.by_forum:
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()
        if self._announced is None:
            self._announced = set(announced)
        fresh = [a for a in mine if a.activation_id not in self._announced]
        self.changed.emit()
        if fresh:
            self.mark_announced([a.activation_id for a in fresh])
            for summary in fresh:
                self.arrived.emit(summary)

    def mark_announced(self, activation_ids: list[str]) -> None:
        """Remember (in the encrypted store) that these were announced: the open ones only, so
        the list stays short."""
        if self._announced is None:
            self._announced = set()
        self._announced.update(activation_ids)
        open_ids = {a.activation_id for a in self.by_forum.values()} | set(activation_ids)
        kept = sorted(i for i in self._announced if i in open_ids)
        store = self.store
        CollectionOp(lambda: store.set_meta(META_ANNOUNCED, kept), parent=self).failure(lambda _error: None).run()

    def for_forum(self, forum_id: str | None) -> ActivationSummary | None:
        return self.by_forum.get(forum_id or "")

    def since(self, summary: ActivationSummary) -> int:
        return self.clock.since(summary)

    def stop(self) -> None:
        self._timer.stop()


class ActivationBanner(QFrame):
    """Across the top of the main window: one line per open activation of one's own forums,
    in words and colour, each with [Öppna]."""

    openRequested = Signal(str)  # activation id

    def __init__(self, watch: ActivationWatch, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("activationBanner")
        self.watch = watch
        self.lines: list[tuple[QLabel, QPushButton, ActivationSummary]] = []
        self.more = QLabel(self)
        self.more.setObjectName("activationBannerMore")
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 2, 0, 2)
        self.layout_.setSpacing(2)
        self.layout_.addWidget(self.more)
        self.more.hide()
        watch.changed.connect(self.show_activations)
        watch.ticked.connect(self.tick)
        self.hide()

    def _line(self, summary: ActivationSummary) -> tuple[QLabel, QPushButton, ActivationSummary]:
        row = QFrame(self)
        row.setObjectName("activationBannerLine")
        background, text = badge_colours(summary)
        row.setStyleSheet(f"QFrame#activationBannerLine {{ background-color: {background.name()}; border-radius: 3px; }}"
                          f" QLabel {{ color: {text.name()}; }}")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(10, 4, 6, 4)
        words = QLabel(row)
        words.setObjectName("activationBannerText")
        font = QFont(words.font())
        font.setWeight(QFont.Weight.Bold)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        words.setFont(font)
        button = QPushButton(tr("Open"), row)
        button.setObjectName("activationBannerOpen")
        button.clicked.connect(lambda: self.openRequested.emit(summary.activation_id))
        layout.addWidget(words, 1)
        layout.addWidget(button)
        self.layout_.insertWidget(len(self.lines), row)
        return words, button, summary

    def show_activations(self) -> None:
        for words, _button, _summary in self.lines:
            words.parentWidget().deleteLater()
        self.lines = []
        shown = self.watch.mine[:BANNER_ROWS]
        for summary in shown:
            self.lines.append(self._line(summary))
        hidden = len(self.watch.mine) - len(shown)
        self.more.setVisible(hidden > 0)
        self.more.setText(ngettext("… and {count} more open activation: Activations (Ctrl+5)",
                                   "… and {count} more open activations: Activations (Ctrl+5)", hidden).format(count=hidden))
        self.tick()
        self.setVisible(bool(shown))
        if self.parentWidget() is not None:
            self.parentWidget().setVisible(bool(shown))

    def tick(self) -> None:
        for words, button, summary in self.lines:
            text = banner_text(summary, self.watch.since(summary))
            words.setText(text)
            words.setAccessibleName(text)
            button.setAccessibleName(tr("Open {forum}", forum=summary.forum_name))

    def texts(self) -> list[str]:
        return [words.text() for words, _button, _summary in self.lines]
