"""GET /v1/devices: the device directory, so that clients name who wrote (not a device UUID).

Any enrolled device may read it (SYNC.md "Device directory"): each device's id, organisation,
name and whether it is revoked. Nothing else: no tokens, codes, roles, times or addresses.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import select

from sync.server.auth import Caller
from sync.server.db import read_session
from sync.server.deps import ServerState, current_caller, problems, state
from sync.server.models import Device
from sync.wire import DeviceDirectory

router = APIRouter()


@router.get("/v1/devices", response_model=DeviceDirectory, responses=problems(401, 426))
def device_directory(
    _caller: Caller = Depends(current_caller),
    server: ServerState = Depends(state),
) -> dict:
    with read_session(server.sessions) as session:
        rows = session.execute(
            select(Device.id, Device.organisation_id, Device.name, Device.revoked_at)
            .order_by(Device.organisation_id, Device.name, Device.id)
        ).all()
    return {
        "devices": [
            {"device_id": id_, "organisation_id": org, "name": name, "revoked": revoked is not None}
            for id_, org, name, revoked in rows
        ]
    }
