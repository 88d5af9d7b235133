"""What every route needs: the settings, database sessions, the calling device, the time."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import BackgroundTasks, Depends, Request
from fastapi.security import HTTPBearer
from sqlalchemy import or_, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from sync.clock import format_time
from sync.server.auth import Caller, authenticate
from sync.server.config import Settings
from sync.server.db import read_session, write_session
from sync.server.models import Device
from sync.server.timeutil import now_ms
from sync.wire import Problem

log = logging.getLogger("samverka.server")

# A device's last_seen_at is written at most this often: a write per request would queue every
# pull behind the write lock.
LAST_SEEN_EVERY_MS = 60_000

# Declares the bearer scheme in the OpenAPI schema; the token itself is checked by auth.
bearer = HTTPBearer(auto_error=False, description="the device token from enrollment")


@dataclass(frozen=True)
class ServerState:
    settings: Settings
    sessions: sessionmaker[Session]
    # One push at a time in this process (routes/feed.py): they queue here, not in the database.
    push_gate: threading.Lock = field(default_factory=threading.Lock)


def state(request: Request) -> ServerState:
    return request.app.state.server


def caller_in(session: Session, request: Request) -> Caller:
    return authenticate(session, request.headers.get("authorization"))


def current_caller(
    request: Request,
    background: BackgroundTasks,
    _credentials: Any = Depends(bearer),
    server: ServerState = Depends(state),
) -> Caller:
    """The calling device (401 otherwise); checked before the body is looked at.

    Notes when the device was last seen, after the answer has been sent and at most once a
    minute (``devices list`` shows it).
    """
    with read_session(server.sessions) as session:
        caller = caller_in(session, request)
    at = now_ms()
    seen = caller.device.last_seen_at
    if seen is None or at - seen >= LAST_SEEN_EVERY_MS:
        background.add_task(_note_seen, server, caller.device_id, at)
    return caller


def _note_seen(server: ServerState, device_id: str, at: int) -> None:
    if server.push_gate.locked():
        # A push holds (or is about to take) the write lock: don't queue a thread behind it
        # for this; last_seen_at stays old, so the device's next request notes it instead.
        return
    try:
        with write_session(server.sessions) as session:
            session.execute(
                update(Device)
                .where(Device.id == device_id)
                .where(or_(Device.last_seen_at.is_(None), Device.last_seen_at < at))
                .values(last_seen_at=at)
            )
    except OperationalError as exc:  # busy or unreachable: the next request notes it
        log.warning("could not note a device as seen: %s", type(exc.orig).__name__ if exc.orig else exc)


def server_time() -> str:
    return format_time(now_ms())


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem answers a route gives."""
    return {
        status: {"model": Problem, "content": {"application/problem+json": {}}}
        for status in statuses
    }
