"""The hybrid logical clock (HLC): its wire form, parsing, and a thread-safe clock per node.

Wire form (SYNC.md): ``<13-digit wall milliseconds>-<5-digit counter>-<node id>``, so that
plain string order is clock order. The node id is the device id (the server's own id for
records the server makes); it breaks ties between equal wall time and counter.

Bounds. Thirteen digits of milliseconds end at ``MAX_WALL_MS`` (the year 2286); a clock is never
made past it: a clock that would need a fourteenth digit raises ``ClockError`` instead (and, with
the receive bound below, only a wall clock set past 2286 can get there). A clock received from
elsewhere is adopted only up to ``MAX_SKEW_MS`` ahead of this node's corrected wall time
(``receive(…, max_ahead_ms=…)``), so one far-future clock cannot drag the local clock forward; a
``server_time`` outside the wire range is ignored.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

MAX_COUNTER = 99_999
MAX_WALL_MS = 9_999_999_999_999  # 13 digits: 2286-11-20T17:46:39.999Z
MAX_SKEW_MS = 60_000  # how far ahead of the server's time a clock may be (SYNC.md rule 7)
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
        if not (0 <= self.wall_ms <= MAX_WALL_MS and 0 <= self.counter <= MAX_COUNTER):
            raise ClockError(f"a clock outside the wire form's range ({self.wall_ms}, {self.counter})")
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


# is_valid_hlc for a value known to be a str, without the call (hot loops over pulled clocks).
match_hlc = _HLC_RE.match


def with_node(text: str, node: str) -> str:
    """The same clock (wall time and counter) in the name of another node."""
    wall, counter, _ = text.split("-", 2)
    return f"{wall}-{counter}-{node}"


def ceiling(wall_ms: int) -> str:
    """A string that sorts at or above every wire-form clock with at most ``wall_ms``, and below
    every clock with a greater wall time (node ids use only characters below ``~``)."""
    return f"{max(0, min(wall_ms, MAX_WALL_MS)):013d}-{MAX_COUNTER:05d}-~"


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
        """A new clock, greater than every clock made or received before.

        Raises ClockError rather than make a clock past ``MAX_WALL_MS`` (the wire form has 13
        digits): nothing is written with a clock that would sort wrongly.
        """
        with self._lock:
            physical = min(self.physical_ms(), MAX_WALL_MS)
            if physical > self._last.wall_ms:
                last = Hlc(physical, 0, self.node)
            else:
                last = self._bump(self._last.wall_ms, self._last.counter)
            text = str(last)  # ClockError past the range: the clock stays where it was
            self._last = last
            return text

    def receive(self, remote: str, *, max_ahead_ms: int | None = None) -> bool:
        """HLC receive rule: never again make a clock at or below one seen from elsewhere.

        With ``max_ahead_ms``, a clock more than that far ahead of this node's corrected wall
        time is not adopted (the caller keeps the value it came with; the local clock is not
        dragged into the future). Returns whether the clock was at or below that bound.
        """
        seen = Hlc.parse(remote)
        with self._lock:
            if max_ahead_ms is not None and seen.wall_ms > self.physical_ms() + max_ahead_ms:
                return False
            if (seen.wall_ms, seen.counter) > (self._last.wall_ms, self._last.counter):
                self._last = Hlc(seen.wall_ms, seen.counter, self.node)
            return True

    def observe_server_time(self, server_time: str, *, round_trip_ms: int = 0) -> bool:
        """Learn the offset to the server's wall clock from a response's ``server_time``.

        A time outside the wire form's range (before 1970, or so late that clocks made from it
        would overflow) is ignored: returns False.
        """
        server_ms = parse_time(server_time) + round_trip_ms // 2
        if not 0 <= server_ms <= MAX_WALL_MS - MAX_SKEW_MS:
            return False
        self.offset_ms = server_ms - self._wall()
        self.receive(str(Hlc(server_ms, 0, self.node)))
        return True

    def lead_ms(self) -> int:
        """How far the last clock is ahead of the corrected wall time (negative: behind)."""
        with self._lock:
            return self._last.wall_ms - self.physical_ms()

    def rewind(self) -> str:
        """Set the last clock back to the corrected wall time (a repair, never routine: clocks
        made afterwards may sort below ones made before). Returns the clock it was at."""
        with self._lock:
            before = str(self._last)
            self._last = Hlc(min(max(0, self.physical_ms()), MAX_WALL_MS), 0, self.node)
            return before

    def _bump(self, wall_ms: int, counter: int) -> Hlc:
        if counter < MAX_COUNTER:
            return Hlc(wall_ms, counter + 1, self.node)
        # 100,000 clocks in one millisecond: borrow the next millisecond rather than overflow.
        return Hlc(wall_ms + 1, 0, self.node)
