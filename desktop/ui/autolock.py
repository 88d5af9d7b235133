"""Auto-lock: after N minutes without a key press or mouse use anywhere in the application, ask to lock.

An event filter on the QApplication restarts one timer on every input event; it only looks at
the event's type, so it costs nothing measurable.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

_INPUT = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
    QEvent.Type.TouchBegin, QEvent.Type.TabletPress,
})


class IdleWatcher(QObject):
    idle = Signal()

    def __init__(self, app, minutes: int) -> None:
        super().__init__(app)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.idle)
        self.set_minutes(minutes)
        app.installEventFilter(self)
        self._running = False

    def set_minutes(self, minutes: int) -> None:
        self.set_timeout_ms(max(1, int(minutes)) * 60_000)

    def set_timeout_ms(self, milliseconds: int) -> None:
        self._timer.setInterval(milliseconds)
        if self._timer.isActive():
            self._timer.start()

    def start(self) -> None:
        self._running = True
        self._timer.start()

    def stop(self) -> None:
        self._running = False
        self._timer.stop()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if self._running and event.type() in _INPUT:
            self._timer.start()
        return False
