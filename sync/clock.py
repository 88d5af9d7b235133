"""The hybrid logical clock (HLC): its wire form, parsing, and a thread-safe clock per node.

Wire form (SYNC.md): ``<13-digit wall milliseconds>-<5-digit counter>-<node id>``, so that
plain string order is clock order. The node id is the device id (the server's own id for
records the server makes); it breaks ties between equal wall time and counter.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

MAX_COUNTER = 99_999
NODE_ID_MAX_LENGTH = 64
_HLC_RE = re.compile(r"^([0-9]{13})-([0-9]{5})-([A-Za-z0-9_.:-]{1,64})\Z")


class ClockError(ValueError):
    """A clock string that is not an HLC in wire form."""


@dataclass(frozen=True, order=True, slots=True)
class Hlc:
    """One clock value. Field order makes dataclass ordering equal to wire-string ordering."""

    wall_ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.wall_ms:013d}-{self.counter:05d}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> Hlc:
        if not isinstance(text, str):
            raise ClockError("a clock must be a string")
        match = _HLC_RE.match(text)
        if match is None:
            raise ClockError(
                f"not a clock: {text[:80]!r} (expected <13-digit ms>-<5-digit counter>-<node id>)"
            )
        return cls(int(match.group(1)), int(match.group(2)), match.group(3))


def is_valid_hlc(text: object) -> bool:
    return isinstance(text, str) and _HLC_RE.match(text) is not None


def wall_ms_of(text: str) -> int:
    """The wall-clock milliseconds of a wire-form clock (already validated)."""
    return int(text[:13])


def format_time(ms: int) -> str:
    """Milliseconds since the epoch as ISO 8601 UTC with milliseconds and Z (SYNC.md's times)."""
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_time(text: str) -> int:
    """ISO 8601 UTC (with Z or +00:00) to milliseconds since the epoch."""
    if not isinstance(text, str):
        raise ValueError("a time must be a string")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a time must carry its zone (Z)")
    return int(round(moment.timestamp() * 1000))


def _system_ms() -> int:
    return time.time_ns() // 1_000_000


class HybridClock:
    """Makes monotonic HLC values for one node, and follows clocks it receives.

    ``offset_ms`` is the difference between the server's time and this machine's wall clock,
    learnt from ``server_time`` in responses, so that a device whose clock is wrong still makes
    clocks the server accepts (SYNC.md, rules every client keeps).
    """

    def __init__(
        self,
        node: str,
        *,
        wall: Callable[[], int] = _system_ms,
        offset_ms: int = 0,
        last: str | None = None,
    ) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", node):
            raise ClockError(f"not a usable node id: {node!r}")
        self.node = node
        self._wall = wall
        self.offset_ms = offset_ms
        self._lock = threading.Lock()
        self._last = Hlc.parse(last) if last else Hlc(0, 0, node)

    @property
    def last(self) -> str:
        return str(self._last)

    def physical_ms(self) -> int:
        return self._wall() + self.offset_ms

    def now(self) -> str:
        """A new clock, greater than every clock made or received before."""
        with self._lock:
            physical = self.physical_ms()
            if physical > self._last.wall_ms:
                self._last = Hlc(physical, 0, self.node)
            else:
                self._last = self._bump(self._last.wall_ms, self._last.counter)
            return str(self._last)

    def receive(self, remote: str) -> None:
        """HLC receive rule: never again make a clock at or below one seen from elsewhere."""
        seen = Hlc.parse(remote)
        with self._lock:
            if (seen.wall_ms, seen.counter) > (self._last.wall_ms, self._last.counter):
                self._last = Hlc(seen.wall_ms, seen.counter, self.node)

    def observe_server_time(self, server_time: str, *, round_trip_ms: int = 0) -> None:
        """Learn the offset to the server's wall clock from a response's ``server_time``."""
        server_ms = parse_time(server_time) + round_trip_ms // 2
        self.offset_ms = server_ms - self._wall()
        self.receive(str(Hlc(server_ms, 0, self.node)))

    def _bump(self, wall_ms: int, counter: int) -> Hlc:
        if counter < MAX_COUNTER:
            return Hlc(wall_ms, counter + 1, self.node)
        # 100,000 clocks in one millisecond: borrow the next millisecond rather than overflow.
        return Hlc(wall_ms + 1, 0, self.node)
