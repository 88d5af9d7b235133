"""Device tokens, enrollment codes and roles: how a device becomes known and what it may manage.

Secrets (tokens, codes) are shown once and stored only as SHA-256 hashes; none is ever logged.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from sync.clock import format_time
from sync.server.models import Audit, Device, EnrollmentCode, EnrollmentFailure, Organisation
from sync.server.problems import ProblemError
from sync.server.timeutil import now_ms

# No look-alikes: no 0/O, 1/I/L. 31 symbols, 16 of them: about 79 bits.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_GROUPS, CODE_GROUP_LENGTH = 4, 4
ROLE_RANK = {"member": 0, "org_admin": 1, "regional_admin": 2}


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_enrollment_code() -> str:
    groups = (
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


def normalise_code(text: str) -> str | None:
    """The canonical form of a typed code (case, spaces and dashes ignored), or None."""
    compact = "".join(ch for ch in text.upper() if ch not in " -\t")
    if len(compact) != CODE_GROUPS * CODE_GROUP_LENGTH or any(
        ch not in CODE_ALPHABET for ch in compact
    ):
        return None
    return "-".join(
        compact[i : i + CODE_GROUP_LENGTH] for i in range(0, len(compact), CODE_GROUP_LENGTH)
    )


@dataclass(frozen=True)
class Caller:
    """The device behind a request and what its organisation is."""

    device: Device
    organisation: Organisation

    @property
    def device_id(self) -> str:
        return self.device.id

    @property
    def organisation_id(self) -> str:
        return self.organisation.id

    @property
    def role(self) -> str:
        return self.device.role

    @property
    def is_regional_admin(self) -> bool:
        return self.device.role == "regional_admin" and bool(self.organisation.regional_admin)

    @property
    def is_admin(self) -> bool:
        return self.device.role in ("org_admin", "regional_admin")


def authenticate(session: Session, authorization: str | None) -> Caller:
    """The caller of a request from its ``Authorization: Bearer`` header, or 401."""
    challenge = {"WWW-Authenticate": 'Bearer realm="samverka"'}
    if not authorization:
        raise ProblemError(
            "unauthorized", "this call needs Authorization: Bearer <device token>", headers=challenge
        )
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise ProblemError(
            "unauthorized", "the Authorization header must be Bearer <device token>", headers=challenge
        )
    digest = hash_secret(token)
    device = session.scalars(select(Device).where(Device.token_hash == digest)).first()
    if device is None or not hmac.compare_digest(device.token_hash, digest):
        raise ProblemError("unauthorized", "this device token is not known here", headers=challenge)
    if device.revoked_at is not None:
        raise ProblemError(
            "unauthorized",
            "this device has been revoked; its local data stays readable, enroll again to sync",
            headers=challenge,
        )
    organisation = session.get(Organisation, device.organisation_id)
    if organisation is None:  # an organisation removed by hand in the database
        raise ProblemError("unauthorized", "this device's organisation no longer exists", headers=challenge)
    return Caller(device, organisation)


def check_can_issue(organisation: Organisation, role: str) -> None:
    """Raise ValueError with a reason when ``role`` cannot be issued for ``organisation``."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}; use member, org_admin or regional_admin")
    if role == "regional_admin" and not organisation.regional_admin:
        raise ValueError(
            f"{organisation.short_name} is not a regional administrator organisation; "
            "regional_admin codes are only for those"
        )


def create_enrollment_code(
    session: Session,
    organisation: Organisation,
    role: str,
    ttl_ms: int,
    created_by: str | None,
) -> tuple[str, int]:
    """A new one-time code for ``organisation`` and ``role``: (code, expires_at ms)."""
    check_can_issue(organisation, role)
    code = new_enrollment_code()
    at = now_ms()
    expires = at + ttl_ms
    session.add(
        EnrollmentCode(
            code_hash=hash_secret(code),
            organisation_id=organisation.id,
            role=role,
            created_at=at,
            created_by=created_by,
            expires_at=expires,
        )
    )
    session.add(
        Audit(
            at=at, device_id=created_by, organisation_id=organisation.id, op="enrollment_code",
            status=role,
        )
    )
    return code, expires


@dataclass(frozen=True)
class Enrolled:
    device: Device
    organisation: Organisation
    token: str


def rate_limit_key(address: str) -> str:
    """Whom a failed enrollment counts against: the IPv4 address, or the IPv6 /64 network (one
    host usually holds a whole /64 and can pick any address in it)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address[:100]  # not an address (a test client, a Unix socket): as it is
    if ip.version == 6:
        mapped = ip.ipv4_mapped
        if mapped is not None:
            return str(mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def lock_address(session: Session, key: str) -> None:
    """Serialise enrollment attempts from one address until this transaction ends, so that a
    burst cannot all count the failures before any of them is written. SQLite's writers are
    serialised already (BEGIN IMMEDIATE); PostgreSQL takes a transaction advisory lock."""
    if session.get_bind().dialect.name == "postgresql":
        lock_id = int.from_bytes(hashlib.sha256(b"samverka-enroll:" + key.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def recent_failures(session: Session, address: str, window_ms: int) -> tuple[int, int | None]:
    since = now_ms() - window_ms
    count, oldest = session.execute(
        select(func.count(), func.min(EnrollmentFailure.at)).where(
            EnrollmentFailure.address == address, EnrollmentFailure.at > since
        )
    ).one()
    return int(count), oldest


def check_rate_limit(session: Session, address: str, limit: int, window_ms: int) -> None:
    count, oldest = recent_failures(session, address, window_ms)
    if count >= limit:
        wait_s = max(1, math.ceil(((oldest or now_ms()) + window_ms - now_ms()) / 1000))
        raise ProblemError(
            "rate-limited",
            f"too many failed enrollments from this address; try again in {wait_s} s",
            headers={"Retry-After": str(wait_s)},
            retry_after=wait_s,
        )


def record_failure(session: Session, address: str, window_ms: int) -> None:
    at = now_ms()
    session.execute(
        delete(EnrollmentFailure).where(
            EnrollmentFailure.address == address, EnrollmentFailure.at <= at - window_ms
        )
    )
    session.add(EnrollmentFailure(address=address, at=at))
    session.add(Audit(at=at, op="enroll", status="failed", record_id=address[:200]))


def enroll(session: Session, code_text: str, device_name: str) -> Enrolled | ProblemError:
    """Use a code: a new device, or the problem to answer (the caller records the failure)."""
    code = normalise_code(code_text)
    if code is None:
        return ProblemError("unauthorized", "this is not an enrollment code (4 groups of 4 characters)")
    row = session.get(EnrollmentCode, hash_secret(code))
    at = now_ms()
    if row is None:
        return ProblemError("unauthorized", "this enrollment code is not known here; check it for typos")
    if row.used_at is not None:
        return ProblemError(
            "unauthorized", "this enrollment code has already been used; ask for a new one", status=410
        )
    if row.expires_at <= at:
        return ProblemError(
            "unauthorized",
            f"this enrollment code expired at {format_time(row.expires_at)}; ask for a new one",
            status=410,
        )
    organisation = session.get(Organisation, row.organisation_id)
    if organisation is None:
        return ProblemError("unauthorized", "this code's organisation no longer exists")
    device_id = str(uuid.uuid4())
    claimed = session.execute(
        update(EnrollmentCode)
        .where(EnrollmentCode.code_hash == row.code_hash, EnrollmentCode.used_at.is_(None))
        .values(used_at=at, used_by=device_id)
    )
    if claimed.rowcount != 1:  # another request used it a moment ago
        return ProblemError(
            "unauthorized", "this enrollment code has already been used; ask for a new one", status=410
        )
    token = new_token()
    device = Device(
        id=device_id,
        organisation_id=organisation.id,
        name=device_name.strip(),
        role=row.role,
        token_hash=hash_secret(token),
        created_at=at,
    )
    session.add(device)
    session.add(
        Audit(at=at, device_id=device_id, organisation_id=organisation.id, op="enroll", status="applied")
    )
    return Enrolled(device, organisation, token)


def revoke_device(session: Session, device: Device, by: str | None) -> None:
    if device.revoked_at is None:
        device.revoked_at = now_ms()
        session.add(
            Audit(
                at=device.revoked_at, device_id=by, organisation_id=device.organisation_id,
                op="revoke", status="applied", record_id=device.id,
            )
        )
