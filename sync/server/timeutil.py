"""The server's wall clock in milliseconds, in one place so tests can move it."""

from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
