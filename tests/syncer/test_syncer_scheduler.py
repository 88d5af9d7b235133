"""Scheduling: interval, sync-now at once, jitter after reconnecting, backoff that honours Retry-After."""

from __future__ import annotations

import random
import threading
import time

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from syncer_helpers import ServerThread

from desktop.syncer.client import SyncClient, parse_retry_after
from desktop.syncer.errors import (
    ClientTooOld,
    Offline,
    RateLimited,
    ServerBusy,
    Unauthorized,
)
from desktop.syncer.scheduler import Backoff, SyncScheduler


class FakeEngine:
    """Answers sync_now from a script of outcomes (an exception or None for success)."""

    def __init__(self, outcomes, reachable=True):
        self.outcomes = list(outcomes)
        self.calls = 0
        self.probes = 0
        self.reachable = reachable
        self.done = threading.Event()

    def sync_now(self, *, wait=True):
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if not self.outcomes:
            self.done.set()
        if outcome is not None:
            raise outcome
        return None

    def probe(self):
        self.probes += 1
        return self.reachable if not callable(self.reachable) else self.reachable()


class FakeTime:
    """Injected wait: records every wait and returns at once (as if the time passed)."""

    def __init__(self, scheduler_ref, stop_after):
        self.waits = []
        self.scheduler_ref = scheduler_ref
        self.stop_after = stop_after

    def __call__(self, event, timeout):
        self.waits.append(timeout)
        if len(self.waits) >= self.stop_after:
            threading.Thread(target=self.scheduler_ref[0].stop, daemon=True).start()
            event.wait(2)
        return False


def _run(engine, *, stop_after, **kwargs):
    ref = []
    fake = FakeTime(ref, stop_after)
    scheduler = SyncScheduler(engine, wait=fake, rng=random.Random(3), **kwargs)
    ref.append(scheduler)
    scheduler.start()
    deadline = time.monotonic() + 10
    while scheduler._thread is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    scheduler.stop()
    return scheduler, fake


def test_retry_after_is_honoured_on_429_and_503():
    engine = FakeEngine([RateLimited(retry_after=42.0), ServerBusy(retry_after=7.0), None])
    scheduler, fake = _run(engine, stop_after=3, interval=300.0)
    reasons = scheduler.delays
    assert reasons[0][0] == "retry-after" and reasons[0][1] >= 42.0
    assert reasons[1][0] == "retry-after" and reasons[1][1] >= 7.0
    assert reasons[2] == ("interval", 300.0)


def test_backoff_grows_with_jitter_and_is_capped():
    backoff = Backoff(base=2.0, cap=60.0)
    rng = random.Random(1)
    delays = [backoff.delay(n, rng) for n in range(1, 10)]
    assert all(1.0 <= d <= 60.0 for d in delays)
    assert delays[5] > delays[0] and max(delays) <= 60.0
    assert len({round(d, 3) for d in delays}) == len(delays)  # jittered, not lock-step


def test_backoff_is_equal_jitter_never_less_than_half_the_step():
    """The docstring's promise: a failed sync waits between half and all of the backoff step,
    so no device of a region retries a failing server at once."""
    backoff = Backoff(base=2.0, cap=60.0)
    rng = random.Random(3)
    for failures in range(1, 12):
        step = min(60.0, 2.0 * 2 ** (failures - 1))
        delays = [backoff.delay(failures, rng) for _ in range(200)]
        assert all(step / 2 <= d <= step for d in delays)
        assert min(delays) < step * 0.6 and max(delays) > step * 0.9  # spread over the range


def test_offline_probes_then_waits_0_to_30_s_before_syncing():
    reachable = iter([False, False, True])
    engine = FakeEngine([Offline(), None], reachable=lambda: next(reachable, True))
    scheduler, fake = _run(engine, stop_after=5, interval=300.0)
    kinds = [reason for reason, _ in scheduler.delays]
    assert kinds[:4] == ["offline", "offline", "offline", "reconnect"]
    reconnect = scheduler.delays[3][1]
    assert 0.0 <= reconnect <= 30.0
    assert engine.probes == 3 and engine.calls == 2


def test_connectivity_returning_waits_at_random_but_sync_now_does_not():
    engine = FakeEngine([None, None, None])
    waits = []
    woke = threading.Event()

    def wait(event, timeout):
        waits.append(timeout)
        woke.set()
        return event.wait(timeout if timeout < 1 else 5)

    scheduler = SyncScheduler(engine, wait=wait, rng=random.Random(5), interval=300.0,
                              reconnect_jitter_max=0.2)
    scheduler.start(sync_first=False)
    woke.wait(2)
    scheduler.connectivity_changed(True)
    deadline = time.monotonic() + 5
    while engine.calls < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert any(reason == "reconnect" and 0 <= d <= 0.2 for reason, d in scheduler.delays)
    before = len(scheduler.delays)
    scheduler.request_now()
    while engine.calls < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine.calls == 2
    assert all(reason != "reconnect" for reason, _ in scheduler.delays[before:])
    assert scheduler.stop(5)


def test_revoked_or_too_old_pauses_until_a_person_asks():
    engine = FakeEngine([Unauthorized(), None])
    scheduler, fake = _run(engine, stop_after=3, interval=60.0)
    assert [r for r, _ in scheduler.delays[:2]] == ["paused", "paused"]
    assert engine.calls == 1
    engine = FakeEngine([ClientTooOld(), None])
    scheduler, fake = _run(engine, stop_after=2, interval=60.0)
    assert engine.calls == 1


def test_parse_retry_after_forms():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert 0 <= parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") <= 0.0 + 1e-9
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 100))
    assert 95 <= parse_retry_after(later) <= 101


def test_client_reads_503_retry_after_from_a_real_server():
    app = FastAPI()

    @app.get("/v1/health")
    def busy():
        return JSONResponse({"type": "/problems/unavailable", "title": "busy", "status": 503,
                             "detail": "maintenance"}, status_code=503,
                            headers={"Retry-After": "3"}, media_type="application/problem+json")

    with ServerThread(app) as server:
        client = SyncClient(server.url)
        try:
            client.health()
        except ServerBusy as error:
            assert error.retry_after == 3.0
            assert server.url in str(error)
        else:
            raise AssertionError("503 not reported")
        finally:
            client.close()
