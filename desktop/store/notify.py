"""Change notifications: the immutable ChangeSet a view receives after each commit, and the subscriber list."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable, Literal

log = logging.getLogger(__name__)

OUTBOX = "outbox"  # ChangeSet.collections names this when only the outbox changed


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What one committed transaction changed.

    ``collections`` holds collection names (and ``"outbox"`` when the syncer acknowledged or
    rejected changes); ``source`` is ``"local"`` for the user's edits, ``"sync"`` for pulled
    pages and outbox answers. Callbacks run on the thread that committed: a Qt view should
    re-emit it as a signal (queued connection) rather than touch widgets.
    """

    collections: frozenset[str]
    record_ids: frozenset[str]
    source: Literal["local", "sync"]


Callback = Callable[[ChangeSet], None]


class Subscribers:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[Callback] = []

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        with self._lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                try:
                    self._callbacks.remove(callback)
                except ValueError:
                    pass  # already unsubscribed

        return unsubscribe

    def notify(self, changes: ChangeSet) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(changes)
            except Exception:  # one broken view must not stop the others or the writer
                log.exception("change subscriber %r failed", callback)
