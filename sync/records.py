"""The synced collections: their fields, types, limits and write rules — the one schema both sides use.

Everything SYNC.md's "Collections in v1" table says lives here as data, so that the desktop
store, the server and the validation of every change read the same definition. Adding an
optional field is an edit to this file (plus a migration on each side); renaming or retyping
one is a protocol change.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from types import MappingProxyType
from typing import Any, Mapping

from sync.clock import is_valid_hlc, parse_time

NAME_MAX = 500
TEXT_MAX = 20_000
POSITION_MAX = 200
INT_MIN, INT_MAX = -(2**31), 2**31 - 1

# Record ids of the demo region (resources/demo/region.json): uuid5(DEMO_NAMESPACE, key), so
# that the desktop's offline demo and a server made by `samverka-server demo` agree on every id.
DEMO_NAMESPACE = uuid.UUID("6d1f6f2a-4c1e-5b8e-9a59-5a6d7665726b")


class FieldType(str, Enum):
    NAME = "name"  # short, name-like text: at most NAME_MAX characters
    TEXT = "text"  # free text: at most TEXT_MAX characters
    INT = "int"
    BOOL = "bool"
    ENUM = "enum"
    REF = "ref"  # the record_id of a record in `Field.ref`
    UUID = "uuid"  # a record id in any collection (conflicts.record_id)
    DATE = "date"  # YYYY-MM-DD
    TIME = "time"  # ISO 8601 UTC with Z
    POSITION = "position"  # fractional index: sortable as a plain string, no renumbering
    CLOCK = "clock"  # an HLC in wire form (conflicts.kept_clock / other_clock)
    COLLECTION = "collection"  # the name of a synced collection
    ANY = "any"  # any JSON value of a field (conflicts.kept_value / other_value)


class WriteRule(str, Enum):
    """Who may create and change records of a collection (SYNC.md rule 6); the server enforces it."""

    OWN_ORGANISATION = "own_organisation"  # the organisation record itself; created by the server admin
    OWNER = "owner"  # the owner organisation (through `owner_ref`, the owner of the parent)
    REGIONAL_ADMIN = "regional_admin"  # regional administrator devices only
    ROUTINE = "routine"  # owner organisation; forum routines: regional administrator
    ACTIVATION = "activation"  # regional administrator or the forum's convenor organisation
    FORUM_MEMBER = "forum_member"  # organisations with a function holding a mandate in the forum
    REPORT_BACK = "report_back"  # as FORUM_MEMBER, and organisation_id is the writer's own
    SERVER = "server"  # made by the server; resolved by the owner of the record in conflict


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: FieldType
    required: bool = False
    choices: tuple[str, ...] = ()
    ref: str | None = None

    @property
    def max_length(self) -> int | None:
        if self.type is FieldType.NAME:
            return NAME_MAX
        if self.type is FieldType.TEXT:
            return TEXT_MAX
        if self.type is FieldType.POSITION:
            return POSITION_MAX
        return None


@dataclass(frozen=True)
class Collection:
    name: str
    fields: Mapping[str, Field]
    write_rule: WriteRule
    append_only: bool = False
    # The reference whose record decides ownership (a channel belongs to its function's owner).
    owner_ref: str | None = None
    required: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "required", frozenset(f.name for f in self.fields.values() if f.required)
        )

    def ref_fields(self) -> list[Field]:
        return [f for f in self.fields.values() if f.type is FieldType.REF]


VISIBILITY = ("regional", "internal")
VISIBILITY_FIELD = Field("visibility", FieldType.ENUM, choices=VISIBILITY)

ORGANISATION_KINDS = (
    "county_board", "municipality", "region", "agency", "rescue_service", "police",
    "armed_forces", "port", "company", "other",
)
AVAILABILITY = ("24/7", "office_hours", "on_call")
CHANNEL_KINDS = (
    "phone", "mobile", "rakel", "satellite", "email", "functional_mailbox", "radio", "web", "other",
)
PHONE_CHANNEL_KINDS = ("phone", "mobile", "satellite")
LEVELS = ("directing", "coordinating", "executive")
FORUM_MODES = ("ordinary", "activated")
MANDATE_ROLES = ("convenor", "chair", "member", "secretary", "observer")
ROUTINE_MODES = ("ordinary", "activated", "both")
CALLOUT_STATUSES = ("not_tried", "no_answer", "reached", "attending", "declined")
LOG_KINDS = ("information", "decision", "action", "situation_report", "other")


def _fields(*items: Field) -> Mapping[str, Field]:
    return MappingProxyType({f.name: f for f in (*items, VISIBILITY_FIELD)})


def _ref(name: str, target: str, required: bool = False) -> Field:
    return Field(name, FieldType.REF, required=required, ref=target)


N, T, I, B = FieldType.NAME, FieldType.TEXT, FieldType.INT, FieldType.BOOL
E, D, TM = FieldType.ENUM, FieldType.DATE, FieldType.TIME

_COLLECTION_LIST = [
    Collection("organisations", _fields(
        Field("name", N, required=True),
        Field("short_name", N),
        Field("kind", E, choices=ORGANISATION_KINDS),
        Field("website", T),
        Field("notes", T),
        Field("last_verified", D),
    ), WriteRule.OWN_ORGANISATION),
    Collection("functions", _fields(
        _ref("organisation_id", "organisations", required=True),
        Field("name", N, required=True),
        Field("short_name", N),
        Field("description", T),
        Field("availability", E, choices=AVAILABILITY),
        Field("is_contact_point", B),
        Field("last_verified", D),
    ), WriteRule.OWNER),
    Collection("channels", _fields(
        _ref("function_id", "functions", required=True),
        Field("kind", E, required=True, choices=CHANNEL_KINDS),
        Field("value", N, required=True),
        Field("label", N),
        Field("priority", I),
        Field("resilient", B),
        Field("note", T),
    ), WriteRule.OWNER, owner_ref="function_id"),
    Collection("forums", _fields(
        Field("name", N, required=True),
        Field("level", E, required=True, choices=LEVELS),
        Field("purpose", T),
        _ref("convenor_function_id", "functions"),
        Field("mode", E, choices=FORUM_MODES),
        Field("cadence", N),
        Field("meeting_channel", T),
        Field("agenda", T),
    ), WriteRule.REGIONAL_ADMIN),
    Collection("mandates", _fields(
        _ref("forum_id", "forums", required=True),
        _ref("function_id", "functions", required=True),
        Field("role", E, required=True, choices=MANDATE_ROLES),
        Field("mandate", T),
        Field("reports_back", T),
    ), WriteRule.REGIONAL_ADMIN),
    Collection("routines", _fields(
        Field("title", N, required=True),
        _ref("forum_id", "forums"),
        _ref("organisation_id", "organisations"),
        Field("mode", E, choices=ROUTINE_MODES),
        Field("trigger", T),
        Field("body", T),
        Field("version", N),
        Field("review_due", D),
    ), WriteRule.ROUTINE),
    Collection("routine_steps", _fields(
        _ref("routine_id", "routines", required=True),
        Field("position", FieldType.POSITION, required=True),
        Field("text", T, required=True),
        _ref("responsible_function_id", "functions"),
    ), WriteRule.OWNER, owner_ref="routine_id"),
    Collection("activations", _fields(
        _ref("forum_id", "forums", required=True),
        Field("reason", T, required=True),
        Field("exercise", B),
        Field("started_at", TM, required=True),
        Field("ended_at", TM),
        _ref("started_by_function_id", "functions"),
    ), WriteRule.ACTIVATION),
    Collection("callout_events", _fields(
        _ref("activation_id", "activations", required=True),
        _ref("function_id", "functions", required=True),
        Field("status", E, required=True, choices=CALLOUT_STATUSES),
        Field("at", TM, required=True),
        Field("note", T),
    ), WriteRule.FORUM_MEMBER, append_only=True),
    Collection("log_entries", _fields(
        _ref("activation_id", "activations", required=True),
        Field("at", TM, required=True),
        _ref("author_function_id", "functions"),
        Field("kind", E, required=True, choices=LOG_KINDS),
        Field("text", T, required=True),
        _ref("corrects", "log_entries"),
    ), WriteRule.FORUM_MEMBER, append_only=True),
    Collection("checklist_marks", _fields(
        _ref("activation_id", "activations", required=True),
        _ref("step_id", "routine_steps", required=True),
        Field("done", B, required=True),
        Field("at", TM, required=True),
        Field("note", T),
    ), WriteRule.FORUM_MEMBER, append_only=True),
    # After a meeting of an activated forum, each member organisation records that (and when)
    # it reported back to its home organisation. Added after v1's first table: a protocol
    # extension (docs/PROTOCOL.md "Report-back"); older clients keep these records aside.
    Collection("report_backs", _fields(
        _ref("activation_id", "activations", required=True),
        _ref("organisation_id", "organisations", required=True),
        Field("meeting_at", TM),
        Field("at", TM, required=True),
        Field("note", T),
    ), WriteRule.REPORT_BACK, append_only=True),
    Collection("conflicts", _fields(
        Field("collection", FieldType.COLLECTION),
        Field("record_id", FieldType.UUID),
        Field("field", N),
        Field("kept_value", FieldType.ANY),
        Field("kept_clock", FieldType.CLOCK),
        Field("kept_device", N),
        Field("other_value", FieldType.ANY),
        Field("other_clock", FieldType.CLOCK),
        Field("other_device", N),
        Field("resolved", B),
        Field("resolution_note", T),
    ), WriteRule.SERVER),
]

COLLECTIONS: Mapping[str, Collection] = MappingProxyType({c.name: c for c in _COLLECTION_LIST})
COLLECTION_NAMES: tuple[str, ...] = tuple(COLLECTIONS)
APPEND_ONLY: frozenset[str] = frozenset(c.name for c in _COLLECTION_LIST if c.append_only)


class InvalidChange(ValueError):
    """A change that breaks the schema. ``field`` names the field at fault, where one is."""

    def __init__(self, detail: str, field: str | None = None, problem: str = "invalid") -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.problem = problem


def get_collection(name: object) -> Collection:
    if not isinstance(name, str) or name not in COLLECTIONS:
        raise InvalidChange(f"unknown collection {str(name)[:80]!r}", field="collection")
    return COLLECTIONS[name]


def normalise_uuid(value: object, field_name: str) -> str:
    """A record id in its canonical lower-case form, or InvalidChange."""
    if isinstance(value, str) and len(value) <= 64:
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise InvalidChange(f"{field_name} must be a UUID", field=field_name)


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
_POSITION_RE = re.compile(r"^[0-9A-Za-z]+$")


def validate_value(spec: Field, value: Any) -> Any:
    """Check one non-null value against its field; returns the normalised value."""
    kind = spec.type
    name = spec.name
    if kind in (FieldType.NAME, FieldType.TEXT, FieldType.POSITION):
        if not isinstance(value, str):
            raise InvalidChange(f"{name} must be text", field=name)
        if len(value) > (spec.max_length or 0):
            raise InvalidChange(
                f"{name} is {len(value)} characters long; at most {spec.max_length} are allowed",
                field=name,
            )
        if kind is FieldType.POSITION and not _POSITION_RE.match(value):
            raise InvalidChange(f"{name} must be letters and digits only", field=name)
        if spec.required and not value.strip():
            raise InvalidChange(f"{name} must not be empty", field=name)
        return value
    if kind is FieldType.INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidChange(f"{name} must be a whole number", field=name)
        if not INT_MIN <= value <= INT_MAX:
            raise InvalidChange(f"{name} is out of range", field=name)
        return value
    if kind is FieldType.BOOL:
        if not isinstance(value, bool):
            raise InvalidChange(f"{name} must be true or false", field=name)
        return value
    if kind is FieldType.ENUM:
        if value not in spec.choices:
            raise InvalidChange(
                f"{name} must be one of {', '.join(spec.choices)}; got {str(value)[:80]!r}",
                field=name,
            )
        return value
    if kind in (FieldType.REF, FieldType.UUID):
        return normalise_uuid(value, name)
    if kind is FieldType.DATE:
        if not isinstance(value, str) or not _DATE_RE.match(value):
            raise InvalidChange(f"{name} must be a date YYYY-MM-DD", field=name)
        try:
            date.fromisoformat(value)
        except ValueError:
            raise InvalidChange(f"{name} is not a real date", field=name) from None
        return value
    if kind is FieldType.TIME:
        if not isinstance(value, str) or not _TIME_RE.match(value):
            raise InvalidChange(f"{name} must be an ISO 8601 UTC time ending in Z", field=name)
        try:
            parse_time(value)
        except ValueError:
            raise InvalidChange(f"{name} is not a real time", field=name) from None
        return value
    if kind is FieldType.CLOCK:
        if not is_valid_hlc(value):
            raise InvalidChange(f"{name} must be a clock", field=name)
        return value
    if kind is FieldType.COLLECTION:
        if not isinstance(value, str) or value not in COLLECTIONS:  # a list is not hashable
            raise InvalidChange(f"{name} must name a collection", field=name)
        return value
    if kind is FieldType.ANY:
        if isinstance(value, (dict, list)):
            raise InvalidChange(f"{name} must be a single value", field=name)
        if isinstance(value, str) and len(value) > TEXT_MAX:
            raise InvalidChange(f"{name} is too long", field=name)
        return value
    raise AssertionError(f"unhandled field type {kind}")  # a schema bug, not a user error


def validate_fields(
    collection: Collection, fields: Mapping[str, Any], *, creating: bool
) -> dict[str, Any]:
    """Validate the fields a change sets; returns them normalised.

    ``creating``: the record does not exist yet, so every required field must be present.
    ``null`` clears an optional field and is refused for a required one.
    """
    if not isinstance(fields, Mapping):
        raise InvalidChange("fields must be an object", field="fields")
    normalised: dict[str, Any] = {}
    for name, value in fields.items():
        spec = collection.fields.get(name)
        if spec is None:
            raise InvalidChange(
                f"{collection.name} has no field {str(name)[:80]!r}", field=str(name)[:80]
            )
        if value is None:
            if spec.required:
                raise InvalidChange(f"{name} is required and cannot be cleared", field=name)
            normalised[name] = None
            continue
        normalised[name] = validate_value(spec, value)
    if creating:
        missing = sorted(collection.required - normalised.keys())
        if missing:
            raise InvalidChange(
                f"{collection.name} needs {', '.join(missing)} when created", field=missing[0]
            )
    return normalised
