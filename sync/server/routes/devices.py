"""POST /v1/devices/enroll and GET /v1/me: how a device joins and learns who it is."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from sync.clock import format_time
from sync.server import auth
from sync.server.auth import Caller
from sync.server.db import write_session
from sync.server.deps import ServerState, current_caller, problems, server_time, state
from sync.server.problems import ProblemError
from sync.wire import EnrollRequest, EnrollResponse, Me

router = APIRouter()


@router.post(
    "/v1/devices/enroll",
    status_code=201,
    response_model=EnrollResponse,
    responses=problems(401, 410, 413, 422, 426, 429),
)
def enroll(body: EnrollRequest, request: Request, server: ServerState = Depends(state)) -> dict:
    settings = server.settings
    name = body.device_name.strip()
    if not name:
        raise ProblemError("invalid", "device_name must not be empty", field="device_name")
    address = auth.rate_limit_key((request.client.host if request.client else None) or "unknown")
    window_ms = settings.enroll_failure_window_s * 1000
    failure: ProblemError | None = None
    with write_session(server.sessions) as session:
        auth.lock_address(session, address)
        auth.check_rate_limit(session, address, settings.enroll_failure_limit, window_ms)
        outcome = auth.enroll(session, body.code, name)
        if isinstance(outcome, ProblemError):
            auth.record_failure(session, address, window_ms)
            failure = outcome
    if failure is not None:
        raise failure
    return {
        "device_id": outcome.device.id,
        "token": outcome.token,
        "organisation": {"id": outcome.organisation.id, "name": outcome.organisation.name},
        "role": outcome.device.role,
        "server_time": server_time(),
    }


@router.get(
    "/v1/me",
    response_model=Me,
    responses=problems(401, 426),
)
def me(caller: Caller = Depends(current_caller)) -> dict:
    org = caller.organisation
    return {
        "device_id": caller.device.id,
        "device_name": caller.device.name,
        "organisation": {
            "id": org.id,
            "name": org.name,
            "short_name": org.short_name,
            "regional_admin": bool(org.regional_admin),
        },
        "role": caller.device.role,
        "server_time": server_time(),
    }


def device_out(device, organisation) -> dict:
    return {
        "device_id": device.id,
        "name": device.name,
        "organisation": {"id": organisation.id, "name": organisation.name},
        "role": device.role,
        "created_at": format_time(device.created_at),
        "last_seen_at": format_time(device.last_seen_at) if device.last_seen_at else None,
        "revoked_at": format_time(device.revoked_at) if device.revoked_at else None,
    }
