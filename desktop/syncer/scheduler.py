"""When to sync: an interval while reachable, at once on request, jittered after reconnecting, backoff.

No Qt here: one plain background thread waits on a ``threading.Event``. The window calls
:meth:`SyncScheduler.request_now` ("Synkronisera nu") and :meth:`SyncScheduler.connectivity_changed`
(from Qt's network information), and listens to the engine's status callbacks.

Timing policy (SYNC.md, rules every client keeps):
- success: the next sync after ``interval`` seconds;
- offline, 5xx, 429 and other failures: exponential backoff with *equal* jitter (a random wait
  between half the backoff and the whole of it), never shorter than the server's
  ``Retry-After``. Equal rather than full jitter on purpose: full jitter (0 to the backoff) lets
  some of a region's devices retry a failing server at once, again and again; the reconnect
  spread below is where a wait starting at 0 belongs. While offline the scheduler probes
  ``/v1/health`` (cheap) instead of syncing;
- after connectivity returns (the window says so, or a probe succeeds after a failure) a random
  wait of 0–30 s first, because a whole region reconnects at once after an outage;
- a request by a person runs at once, cutting any wait short;
- 401 (revoked) and 426 (too old) stop automatic syncing until a person asks again.

The RNG, the wait and the probe are injectable so tests run the policy without real time.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from typing import Callable, Protocol

from desktop.syncer.errors import (
    ClientTooOld,
    Offline,
    RetryLater,
    SyncError,
    Unauthorized,
)

log = logging.getLogger(__name__)

RECONNECT_JITTER_MAX = 30.0


class _Engine(Protocol):
    def sync_now(self, *, wait: bool = True) -> object: ...
    def probe(self) -> bool: ...


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with equal jitter (half to all of it), floored by Retry-After."""

    base: float = 2.0
    cap: float = 300.0

    def delay(self, failures: int, rng: random.Random, retry_after: float | None = None) -> float:
        ceiling = min(self.cap, self.base * (2 ** max(0, failures - 1)))
        jittered = rng.uniform(ceiling / 2, ceiling)  # "equal jitter": never hammers at ~0 s
        if retry_after is not None:
            # Honour the server's wish, plus a little spread so a region does not return at once.
            return max(retry_after + rng.uniform(0, min(5.0, retry_after * 0.1 + 1.0)), jittered)
        return jittered


class SyncScheduler:
    """Runs ``engine.sync_now`` on a schedule in one daemon thread; all public methods are thread-safe."""

    def __init__(
        self,
        engine: _Engine,
        *,
        interval: float = 300.0,
        backoff: Backoff = Backoff(),
        reconnect_jitter_max: float = RECONNECT_JITTER_MAX,
        rng: random.Random | None = None,
        wait: Callable[[threading.Event, float], bool] | None = None,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.backoff = backoff
        self.reconnect_jitter_max = reconnect_jitter_max
        self.rng = rng or random.Random()
        self._wait = wait or (lambda event, timeout: event.wait(timeout))
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._stopping = False
        self._now_requested = False
        self._reconnected = False
        self._paused = False  # after 401/426: only a person's request syncs
        self._failures = 0
        self._offline = False
        self._thread: threading.Thread | None = None
        self._first_wait: tuple[str, float] | None = None
        self.delays: list[tuple[str, float]] = []  # what the scheduler waited, and why (for tests/logs)

    # --- control ----------------------------------------------------------------------------

    def start(self, *, sync_first: bool = True) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._stopping = False
            self._now_requested = sync_first
            self._first_wait = None if sync_first else ("interval", self.interval)
            self._thread = threading.Thread(target=self._run, name="samverka-sync", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the thread; a sync in progress finishes its current request first. True if it ended."""
        with self._lock:
            self._stopping = True
            thread, self._thread = self._thread, None
        self._wake.set()
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def request_now(self) -> None:
        """A person asked: sync at once (no jitter), also after a revocation or a too-old answer."""
        with self._lock:
            self._now_requested = True
            self._paused = False
        self._wake.set()

    def connectivity_changed(self, online: bool) -> None:
        """The operating system says the network came back (or went away)."""
        with self._lock:
            if online:
                self._reconnected = True
            else:
                self._offline = True
        self._wake.set()

    # --- the loop ---------------------------------------------------------------------------

    def _sleep(self, reason: str, seconds: float) -> bool:
        """Wait up to ``seconds``; True if woken early. Records the wait for tests and logs."""
        self.delays.append((reason, seconds))
        self._wake.clear()
        if self._pending():
            return True
        return bool(self._wait(self._wake, max(0.0, seconds)))

    def _pending(self) -> bool:
        with self._lock:
            return self._stopping or self._now_requested or self._reconnected

    def _take(self) -> tuple[bool, bool, bool]:
        with self._lock:
            taken = (self._stopping, self._now_requested, self._reconnected)
            self._now_requested = False
            self._reconnected = False
            return taken

    def _run(self) -> None:
        next_wait: tuple[str, float] | None = self._first_wait
        while True:
            if next_wait is not None:
                self._sleep(*next_wait)
            stopping, asked, reconnected = self._take()
            if stopping:
                return
            if not asked and reconnected:
                # A region reconnects at once after an outage: spread the load.
                if self._sleep("reconnect", self.rng.uniform(0, self.reconnect_jitter_max)):
                    stopping, asked, _ = self._take()
                    if stopping:
                        return
            elif not asked and self._paused:
                next_wait = ("paused", self.interval)
                continue
            elif not asked and self._offline:
                # Probe cheaply; when the server answers again, jitter before the real sync.
                if self.engine.probe():
                    self._offline = False
                    with self._lock:
                        self._reconnected = True
                    next_wait = None
                    continue
                self._failures += 1
                next_wait = ("offline", self.backoff.delay(self._failures, self.rng))
                continue
            next_wait = self._sync_once()

    def _sync_once(self) -> tuple[str, float]:
        try:
            self.engine.sync_now()
        except Unauthorized:
            self._paused = True
            return ("paused", self.interval)
        except ClientTooOld:
            self._paused = True
            return ("paused", self.interval)
        except Offline:
            self._offline = True
            self._failures += 1
            return ("offline", self.backoff.delay(self._failures, self.rng))
        except RetryLater as error:
            self._failures += 1
            return ("retry-after", self.backoff.delay(self._failures, self.rng, error.retry_after))
        except SyncError:
            self._failures += 1
            return ("error", self.backoff.delay(self._failures, self.rng))
        except Exception:  # a bug must not kill the scheduler thread; the engine's status shows it
            log.exception("sync failed unexpectedly")
            self._failures += 1
            return ("error", self.backoff.delay(self._failures, self.rng))
        self._failures = 0
        self._offline = False
        return ("interval", self.interval)
