"""The request and response shapes of the sync protocol (SYNC.md "Shapes"), as pydantic models.

The server declares its endpoints with these models, so the OpenAPI schema it serves is the
protocol as built; a client may use them to read answers. Values inside ``fields`` and ``base``
are checked per change by ``sync.records`` (a bad value rejects one change, not the request),
so here they are typed loosely on purpose.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PROTOCOL_VERSIONS = ["v1"]
MAX_CHANGES_PER_PUSH = 1_000
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_NESTING = 32  # levels of objects and arrays inside a change's fields or base
PULL_LIMIT_DEFAULT = 1_000
PULL_LIMIT_MAX = 5_000

Role = Literal["member", "org_admin", "regional_admin"]
ROLES: tuple[str, ...] = ("member", "org_admin", "regional_admin")
PushStatus = Literal["applied", "duplicate", "conflict", "rejected"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _is_storable_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _is_text(value: Any) -> bool:
    """Everything in it is storable text: UTF-8, no NUL (JSON escapes can smuggle in both).

    Walked without recursion, and only MAX_NESTING levels deep (ValueError beyond): no field
    value is a container at all, and a body nested hundreds of levels must be a 422, not a
    RecursionError.
    """
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if not _is_storable_text(item):
                return False
        elif isinstance(item, (dict, list)):
            if depth >= MAX_NESTING:
                raise ValueError(f"values may be nested at most {MAX_NESTING} levels deep")
            if isinstance(item, dict):
                if not all(isinstance(k, str) and _is_storable_text(k) for k in item):
                    return False
                pending.extend((v, depth + 1) for v in item.values())
            else:
                pending.extend((v, depth + 1) for v in item)
    return True


class Problem(_Model):
    """RFC 9457 problem details; ``change_id`` and ``field`` where one change or field is at fault."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["/problems/invalid"])
    title: str
    status: int
    detail: str
    change_id: str | None = None
    field: str | None = None


class Health(_Model):
    status: Literal["ok"]
    version: str
    server_time: str
    protocol_versions: list[str]
    min_client_version: str


class OrganisationRef(_Model):
    id: str
    name: str


class OrganisationInfo(OrganisationRef):
    short_name: str
    regional_admin: bool


class EnrollRequest(_Model):
    code: str = Field(min_length=1, max_length=64)
    device_name: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _valid_text(self) -> EnrollRequest:
        if not (_is_text(self.code) and _is_text(self.device_name)):
            raise ValueError("code and device_name must be valid Unicode text without NUL")
        return self


class EnrollResponse(_Model):
    device_id: str
    token: str
    organisation: OrganisationRef
    role: Role
    server_time: str


class Me(_Model):
    device_id: str
    device_name: str
    organisation: OrganisationInfo
    role: Role
    server_time: str


class Change(_Model):
    """One change as the client sends it; every value is checked per change by the server."""

    change_id: str = Field(max_length=200, description="UUID made by the client")
    collection: str = Field(max_length=200)
    record_id: str = Field(max_length=200, description="UUID of the record")
    op: str = Field(max_length=20, description='"upsert" or "delete"')
    fields: dict[str, Any] = Field(default_factory=dict)
    clock: str = Field(max_length=200, description="HLC of the change")
    base: dict[str, Any] = Field(
        default_factory=dict, description="the clock (or null) each field had when the edit began"
    )

    @model_validator(mode="after")
    def _valid_text(self) -> Change:
        if not (_is_text(self.fields) and _is_text(self.base)):
            raise ValueError("fields and base must be valid Unicode text (no lone surrogates, no NUL)")
        return self


class PushRequest(_Model):
    changes: list[Change] = Field(max_length=MAX_CHANGES_PER_PUSH)


class PushResult(_Model):
    change_id: str
    status: PushStatus
    seq: int | None = None
    first_status: Literal["applied", "conflict"] | None = Field(
        default=None, description="for a duplicate: the outcome of the change when first applied"
    )
    problem: Problem | None = None


class PushResponse(_Model):
    results: list[PushResult]
    server_time: str


class FieldValue(_Model):
    value: Any
    clock: str


class JournalLink(_Model):
    """A log entry's link in its activation's hash chain (sync.journal), made by the server."""

    activation_id: str = Field(description="the activation whose journal the entry is in")
    index: int = Field(description="1-based place of the entry in its activation's journal")
    entry_hash: str = Field(description="SHA-256 hex of the entry's canonical form")
    chain: str = Field(description="SHA-256 hex: the previous chain value, the index and entry_hash")


class RecordStateOut(_Model):
    collection: str
    record_id: str
    owner_org: str
    visibility: Literal["regional", "internal"]
    deleted: bool
    fields: dict[str, FieldValue]
    seq: int
    journal: JournalLink | None = Field(default=None, description="log entries only (server-made)")


class PullResponse(_Model):
    records: list[RecordStateOut]
    cursor: str
    has_more: bool
    server_time: str


class CollectionDigest(_Model):
    count: int
    hash: str


class DigestResponse(_Model):
    collections: dict[str, CollectionDigest]
    cursor: str = Field(description="the position the digest was taken at (a pull cursor)")
    server_time: str
    compacted_through: int | None = Field(
        default=None,
        description="only when asked for (leave_out_compacted=true): the compaction watermark, "
        "the highest seq at or below which tombstones may be gone; the collections then leave "
        "out every record this device's full pull returns as a tombstone at or below it",
    )


class EnrollmentCodeRequest(_Model):
    organisation_id: str | None = Field(default=None, max_length=64)
    role: Role
    ttl_hours: int | None = Field(default=None, ge=1, le=720)


class EnrollmentCodeResponse(_Model):
    code: str
    expires_at: str
    organisation: OrganisationRef
    role: Role


class DeviceOut(_Model):
    device_id: str
    name: str
    organisation: OrganisationRef
    role: Role
    created_at: str
    last_seen_at: str | None
    revoked_at: str | None


class DeviceList(_Model):
    devices: list[DeviceOut]


class DirectoryEntry(_Model):
    device_id: str
    organisation_id: str
    name: str
    revoked: bool


class DeviceDirectory(_Model):
    """GET /v1/devices: every device's id, organisation and name (SYNC.md "Device directory")."""

    devices: list[DirectoryEntry]
