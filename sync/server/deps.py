"""What every route needs: the settings, database sessions, the calling device, the time."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from sync.clock import format_time
from sync.server.auth import Caller, authenticate
from sync.server.config import Settings
from sync.server.db import read_session
from sync.server.timeutil import now_ms
from sync.wire import Problem

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
    _credentials: Any = Depends(bearer),
    server: ServerState = Depends(state),
) -> Caller:
    """The calling device (401 otherwise); checked before the body is looked at."""
    with read_session(server.sessions) as session:
        return caller_in(session, request)


def server_time() -> str:
    return format_time(now_ms())


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem answers a route gives."""
    return {
        status: {"model": Problem, "content": {"application/problem+json": {}}}
        for status in statuses
    }
