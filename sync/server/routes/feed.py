"""POST /v1/sync/push, GET /v1/sync/pull, GET /v1/sync/digest: the change feed."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from sync.server import storage
from sync.server.auth import Caller
from sync.server.db import read_session, write_session
from sync.server.deps import ServerState, current_caller, problems, server_time, state
from sync.wire import (
    PULL_LIMIT_DEFAULT,
    PULL_LIMIT_MAX,
    DigestResponse,
    PullResponse,
    PushRequest,
    PushResponse,
)

router = APIRouter()


@router.post(
    "/v1/sync/push",
    response_model=PushResponse,
    response_model_exclude_none=True,
    responses=problems(400, 401, 413, 422, 426),
)
def push(
    body: PushRequest,
    caller: Caller = Depends(current_caller),
    server: ServerState = Depends(state),
) -> dict:
    # Pushes are serialised by the positions lock anyway (storage.Feed); queueing them here
    # first keeps waiting pushes from holding database connections that pulls need, and hands
    # over in order instead of SQLite's sleep-and-retry busy handler.
    with server.push_gate, write_session(server.sessions) as session:
        writer = storage.Writer(
            device_id=caller.device_id,
            organisation_id=caller.organisation_id,
            regional_admin=caller.is_regional_admin,
        )
        results = storage.push(session, writer, body.changes, skew_ms=server.settings.clock_skew_ms)
    return {"results": results, "server_time": server_time()}


@router.get(
    "/v1/sync/pull", response_model=PullResponse, responses=problems(400, 401, 410, 422, 426)
)
def pull(
    caller: Caller = Depends(current_caller),
    cursor: str | None = Query(None, max_length=200, description="from the last pull; none: from the start"),
    limit: int = Query(PULL_LIMIT_DEFAULT, ge=1, le=PULL_LIMIT_MAX),
    server: ServerState = Depends(state),
) -> Response:
    # The answer is built as JSON text by storage.pull (the stored fields spliced in as they
    # are); returning a Response skips FastAPI's validation and re-encoding of up to 5,000
    # records. response_model above still documents the shape in the OpenAPI schema.
    position = storage.read_cursor(cursor)
    with read_session(server.sessions) as session:
        page = storage.pull(session, caller.organisation_id, position, limit)
    return Response(content=page.body(server_time()), media_type="application/json")


def _snapshot(session: Session) -> None:
    """On PostgreSQL, read the digest's records and position from one snapshot."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


@router.get(
    "/v1/sync/digest",
    response_model=DigestResponse,
    response_model_exclude_none=True,
    responses=problems(401, 422, 426),
)
def digest(
    caller: Caller = Depends(current_caller),
    leave_out_compacted: bool = Query(
        False,
        description="leave out what this device receives as tombstones at or below the "
        "compaction watermark, and name the watermark (compacted_through)",
    ),
    server: ServerState = Depends(state),
) -> dict:
    with read_session(server.sessions) as session:
        _snapshot(session)
        out = storage.digest(session, caller.organisation_id if leave_out_compacted else None)
    out["server_time"] = server_time()
    return out
