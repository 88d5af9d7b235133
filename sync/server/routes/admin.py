"""Admin endpoints: enrollment codes, device list, revocation (own organisation; regional admin: any, within limits).

The regional administrator issues codes for another organisation only while that organisation
has no active org_admin device (bootstrap: it cannot quietly enter an organisation that runs
its own devices), and an org_admin cannot revoke a regional_admin device. The server
administrator's command line (`samverka-server enroll-code`, `devices revoke`) is not limited.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from sync.clock import format_time
from sync.records import InvalidChange, normalise_uuid
from sync.server import auth
from sync.server.auth import ROLE_RANK, Caller
from sync.server.db import read_session, write_session
from sync.server.deps import ServerState, current_caller, problems, state
from sync.server.models import Device, Organisation
from sync.server.problems import ProblemError
from sync.server.routes.devices import device_out
from sync.wire import DeviceList, DeviceOut, EnrollmentCodeRequest, EnrollmentCodeResponse

router = APIRouter()
DEFAULT_TTL_HOURS = 24


def _admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise ProblemError("forbidden", "this needs an org_admin or regional_admin device")


def _org_id(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    try:
        return normalise_uuid(value, field)
    except InvalidChange as exc:
        raise ProblemError("invalid", exc.detail, field=field) from None


def _in_scope(caller: Caller, organisation_id: str) -> None:
    if organisation_id != caller.organisation_id and not caller.is_regional_admin:
        raise ProblemError(
            "forbidden", "an org_admin manages only its own organisation's codes and devices"
        )


def _bootstrap_only(session: Session, caller: Caller, organisation: Organisation) -> None:
    if organisation.id == caller.organisation_id:
        return
    has_admin = session.scalar(select(exists().where(
        Device.organisation_id == organisation.id, Device.role == "org_admin", Device.revoked_at.is_(None),
    )))
    if has_admin:
        raise ProblemError(
            "forbidden",
            f"{organisation.name} has its own org_admin devices: only they issue its enrollment codes "
            "(the regional administrator only starts an organisation that has none)",
            field="organisation_id",
        )


@router.post(
    "/v1/admin/enrollment-codes",
    status_code=201,
    response_model=EnrollmentCodeResponse,
    responses=problems(401, 403, 404, 422, 426),
)
def create_code(
    body: EnrollmentCodeRequest,
    caller: Caller = Depends(current_caller),
    server: ServerState = Depends(state),
) -> dict:
    _admin(caller)
    with write_session(server.sessions) as session:
        organisation_id = _org_id(body.organisation_id, "organisation_id") or caller.organisation_id
        _in_scope(caller, organisation_id)
        organisation = session.get(Organisation, organisation_id)
        if organisation is None:
            raise ProblemError("not-found", f"no organisation {organisation_id}", field="organisation_id")
        _bootstrap_only(session, caller, organisation)
        if ROLE_RANK[body.role] > ROLE_RANK[caller.role]:
            raise ProblemError("forbidden", f"a {caller.role} device cannot issue {body.role} codes", field="role")
        try:
            auth.check_can_issue(organisation, body.role)
        except ValueError as exc:
            raise ProblemError("invalid", str(exc), field="role") from None
        ttl_hours = body.ttl_hours or DEFAULT_TTL_HOURS
        code, expires = auth.create_enrollment_code(
            session, organisation, body.role, ttl_hours * 3_600_000, caller.device_id
        )
    return {
        "code": code,
        "expires_at": format_time(expires),
        "organisation": {"id": organisation.id, "name": organisation.name},
        "role": body.role,
    }


@router.get("/v1/admin/devices", response_model=DeviceList, responses=problems(401, 403, 422, 426))
def list_devices(
    organisation_id: str | None = Query(None, max_length=64),
    caller: Caller = Depends(current_caller),
    server: ServerState = Depends(state),
) -> dict:
    _admin(caller)
    with read_session(server.sessions) as session:
        wanted = _org_id(organisation_id, "organisation_id")
        if wanted is not None:
            _in_scope(caller, wanted)
        elif not caller.is_regional_admin:
            wanted = caller.organisation_id
        query = select(Device, Organisation).join(Organisation, Organisation.id == Device.organisation_id)
        if wanted is not None:
            query = query.where(Device.organisation_id == wanted)
        rows = session.execute(query.order_by(Device.created_at, Device.id)).all()
        return {"devices": [device_out(device, org) for device, org in rows]}


@router.post(
    "/v1/admin/devices/{device_id}/revoke",
    response_model=DeviceOut,
    responses=problems(401, 403, 404, 422, 426),
)
def revoke(
    device_id: str,
    caller: Caller = Depends(current_caller),
    server: ServerState = Depends(state),
) -> dict:
    _admin(caller)
    with write_session(server.sessions) as session:
        wanted = _org_id(device_id, "device_id")
        device = session.get(Device, wanted)
        if device is None:
            raise ProblemError("not-found", f"no device {wanted}", field="device_id")
        _in_scope(caller, device.organisation_id)
        if device.role == "regional_admin" and caller.role != "regional_admin":
            raise ProblemError(
                "forbidden", "a regional_admin device is revoked only by a regional_admin device "
                "or the server administrator", field="device_id",
            )
        auth.revoke_device(session, device, caller.device_id)
        organisation = session.get(Organisation, device.organisation_id)
        return device_out(device, organisation)
