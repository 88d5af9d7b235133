"""GET /v1/health: alive, which version, which protocol versions and clients it accepts."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from sync.server.deps import ServerState, problems, server_time, state
from sync.wire import PROTOCOL_VERSIONS, Health

router = APIRouter()


@router.get("/v1/health", response_model=Health, responses=problems(426))
def health(server: ServerState = Depends(state)) -> dict:
    return {
        "status": "ok",
        "version": server.settings.version,
        "server_time": server_time(),
        "protocol_versions": PROTOCOL_VERSIONS,
        "min_client_version": server.settings.min_client_version,
    }
