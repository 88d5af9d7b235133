"""Background work for the window (Anki's QueryOp/CollectionOp, Picard's run_task) and the store's and engine's callbacks as Qt signals.

Everything slow — unlock (the KDF), opening the store, every store read and write, enrolling,
syncing — runs on a pool thread; the result or the error comes back on the GUI thread::

    QueryOp(lambda: views.function_detail(store, fid), success=view.show_detail, parent=view).run()

- the work never touches a widget; the callbacks run on the GUI thread only;
- when ``parent`` is gone by the time the work ends (a closed window, a locked session), the
  callbacks are skipped;
- an error without a ``failure`` callback goes to the message bridge (messages.py), which says
  it in words in the status bar;
- reads share a pool of a few threads; changes (CollectionOp) run one at a time, in order;
- ``LatestOnly`` is for search as you type: at most one run in flight and one waiting, and only
  the newest request's result is delivered.

``ProgressRelay`` is a long job's ``progress(phase, done, total)`` callback (desktop/io's import
and export) as a signal on the GUI thread, with the ``threading.Event`` that cancels the job.

``StoreEvents`` and ``SyncEvents`` re-emit ``Store.subscribe`` and ``SyncEngine.subscribe``
callbacks (made on whatever thread committed or synced) as queued Qt signals.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

T = TypeVar("T")

_READ_THREADS = 3


def read_pool() -> QThreadPool:
    pool = QThreadPool.globalInstance()
    if pool.maxThreadCount() < _READ_THREADS:
        pool.setMaxThreadCount(_READ_THREADS)
    return pool


_write_pool: QThreadPool | None = None


def write_pool() -> QThreadPool:
    """One thread: changes run in the order they were asked for."""
    global _write_pool
    if _write_pool is None:
        _write_pool = QThreadPool()
        _write_pool.setMaxThreadCount(1)
        _write_pool.setObjectName("samverka-writes")
    return _write_pool


def wait_for_background_work(timeout_ms: int = 30_000) -> bool:
    """Block until queued work is done (at exit, and in tests between cases)."""
    done = read_pool().waitForDone(timeout_ms)
    return write_pool().waitForDone(timeout_ms) and done


class _Outcome:
    """What a worker hands back: the result or the error, as one object through the signal."""

    __slots__ = ("result", "error")

    def __init__(self, result: object, error: BaseException | None) -> None:
        self.result = result
        self.error = error


class _Courier(QObject):
    """Lives on the GUI thread; the worker emits ``finished`` and the queued slot delivers."""

    finished = Signal(object)  # an _Outcome

    def __init__(self, op: QueryOp) -> None:
        super().__init__()
        self._op: QueryOp | None = op
        self.finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _deliver(self, outcome: _Outcome) -> None:
        op, self._op = self._op, None
        _IN_FLIGHT.discard(self)
        if op is not None:
            op._deliver(outcome.result, outcome.error)  # noqa: SLF001 — the op's own courier
        self.deleteLater()


_IN_FLIGHT: set[_Courier] = set()  # keeps couriers alive until they have delivered


class _Runnable(QRunnable):
    def __init__(self, work: Callable[[], Any], courier: _Courier) -> None:
        super().__init__()
        self._work = work
        self._courier = courier
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            outcome = _Outcome(self._work(), None)
        except BaseException as error:  # noqa: BLE001 — handed to the GUI thread, never lost
            outcome = _Outcome(None, error)
        self._courier.finished.emit(outcome)


class QueryOp(Generic[T]):
    """Read something in the background, then call ``success(result)`` on the GUI thread."""

    def __init__(
        self,
        op: Callable[[], T],
        *,
        success: Callable[[T], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        self._op = op
        self._success = success
        self._failure: Callable[[BaseException], None] | None = None
        self._parent = parent
        self._has_parent = parent is not None

    def failure(self, callback: Callable[[BaseException], None]) -> QueryOp[T]:
        self._failure = callback
        return self

    def _pool(self) -> QThreadPool:
        return read_pool()

    def run(self) -> None:
        courier = _Courier(self)
        _IN_FLIGHT.add(courier)
        self._pool().start(_Runnable(self._op, courier))

    run_in_background = run  # Anki's name

    def _alive(self) -> bool:
        return not self._has_parent or shiboken6.isValid(self._parent)

    def _deliver(self, result: Any, error: BaseException | None) -> None:
        if not self._alive():
            if error is not None:
                log.info("background work ended after its window closed: %r", error)
            return
        if error is None:
            if self._success is not None:
                self._success(result)
            return
        if self._failure is not None:
            self._failure(error)
            return
        from desktop.ui.messages import bridge

        bridge().report_error(error)


class CollectionOp(QueryOp[T]):
    """Change something in the background (one change at a time, in order). The store announces
    what changed itself (StoreEvents), so views refresh without being told by the op."""

    def _pool(self) -> QThreadPool:
        return write_pool()


class LatestOnly(QObject):
    """Search as you type: run the newest request, drop the results of older ones.

    At most one request runs; while it runs, a newer one waits (replacing any older waiting
    one). A keystroke never waits for a search, and a slow search never paints over a newer one.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._running = False
        self._waiting: tuple[int, Callable[[], Any], Callable[[Any], None], Callable[[BaseException], None] | None] | None = None

    @property
    def busy(self) -> bool:
        return self._running or self._waiting is not None

    def submit(
        self,
        op: Callable[[], T],
        success: Callable[[T], None],
        failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._generation += 1
        request = (self._generation, op, success, failure)
        if self._running:
            self._waiting = request
        else:
            self._start(*request)

    def cancel(self) -> None:
        """Results of everything submitted so far are dropped."""
        self._generation += 1
        self._waiting = None

    def _start(self, generation, op, success, failure) -> None:
        self._running = True
        QueryOp(op, success=lambda result: self._finished(generation, success, result), parent=self).failure(
            lambda error: self._failed(generation, failure, error)
        ).run()

    def _next(self) -> None:
        self._running = False
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self._start(*waiting)

    def _finished(self, generation: int, success: Callable[[Any], None], result: Any) -> None:
        self._next()
        if generation == self._generation:
            success(result)

    def _failed(self, generation: int, failure, error: BaseException) -> None:
        self._next()
        if generation != self._generation:
            return
        if failure is not None:
            failure(error)
        else:
            from desktop.ui.messages import bridge

            bridge().report_error(error)


class ProgressRelay(QObject):
    """Give the worker ``relay`` as its ``progress`` and ``relay.cancel`` as its ``cancel``:
    ``progressed(phase, done, total)`` arrives on the GUI thread; ``cancel.set()`` stops the job
    at its next check (desktop/io checks between chunks and rolls everything back)."""

    progressed = Signal(str, int, object)  # phase, done, total (None: not known yet)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cancel = threading.Event()

    def __call__(self, phase: str, done: int, total: int | None = None) -> None:
        # Called on the worker thread; the receivers live on the GUI thread (queued).
        if shiboken6.isValid(self):
            self.progressed.emit(phase, done, total)


class _Relay(QObject):
    """A callback from any thread → a signal emitted on the GUI thread."""

    arrived = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.unsubscribe: Callable[[], None] | None = None

    def post(self, value: object) -> None:
        # Called on the committing/syncing thread; the relay may already be gone.
        if shiboken6.isValid(self):
            self.arrived.emit(value)

    def detach(self) -> None:
        if self.unsubscribe is not None:
            self.unsubscribe()
            self.unsubscribe = None


class StoreEvents(QObject):
    """``Store.subscribe`` as a Qt signal: ``changed(ChangeSet)``, on the GUI thread."""

    changed = Signal(object)

    def __init__(self, store: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._relay = _Relay(self)
        self._relay.arrived.connect(self.changed, Qt.ConnectionType.QueuedConnection)
        self._relay.unsubscribe = store.subscribe(self._relay.post)

    def detach(self) -> None:
        self._relay.detach()


class SyncEvents(QObject):
    """``SyncEngine.subscribe`` as a Qt signal: ``status(SyncStatus)``, on the GUI thread."""

    status = Signal(object)

    def __init__(self, engine: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._relay = _Relay(self)
        self._relay.arrived.connect(self.status, Qt.ConnectionType.QueuedConnection)
        self._relay.unsubscribe = engine.subscribe(self._relay.post)

    def detach(self) -> None:
        self._relay.detach()
