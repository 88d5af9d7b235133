"""What a person reads of the records, for the CLI and the window alike: labels, details, directory pages, forums, routines.

No Qt here (the CLI imports it, and the window calls it on pool threads through ops.QueryOp):
every function takes the store and returns immutable dataclasses that the CLI prints
(``samverka show``) and the window paints. Nothing here writes; nothing here writes SQL either
— it reads through the store's read API (``list``/``ids``/``count`` with filters, ``get_many``).

The label tables (the words for record kinds, fields and enum values) live here too, so the
CLI's output and the window's say the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from desktop.i18n import NP_, label
from desktop.store.filters import In
from desktop.store.messages import channel_kind_label, level_label
from desktop.store.phones import format_phone
from sync.records import COLLECTIONS, LEVELS, PHONE_CHANNEL_KINDS

# --- words ------------------------------------------------------------------------------------

COLLECTION_NAMES: dict[str, tuple[str, str]] = {
    "organisations": NP_("record kind", "Organisation"),
    "functions": NP_("record kind", "Function"),
    "channels": NP_("record kind", "Channel"),
    "forums": NP_("record kind", "Forum"),
    "routines": NP_("record kind", "Routine"),
}

FIELD_LABELS: dict[str, tuple[str, str]] = {
    "short_name": NP_("field", "Short name"),
    "availability": NP_("field", "Reachable"),
    "description": NP_("field", "Description"),
    "level": NP_("field", "Level"),
    "purpose": NP_("field", "Purpose"),
    "cadence": NP_("field", "Cadence"),
    "meeting_channel": NP_("field", "Meeting channel"),
    "agenda": NP_("field", "Agenda"),
    "mode": NP_("field", "Mode"),
    "trigger": NP_("field", "Trigger"),
    "version": NP_("field", "Version"),
    "review_due": NP_("field", "Review due"),
    "body": NP_("field", "Text"),
}

VALUE_NAMES: dict[str, tuple[str, str]] = {
    "24/7": NP_("value", "around the clock"),
    "office_hours": NP_("value", "office hours"),
    "on_call": NP_("value", "on call"),
    "directing": NP_("value", "regional direction"),
    "coordinating": NP_("value", "regional coordination"),
    "executive": NP_("value", "executive"),
    "ordinary": NP_("value", "ordinary mode"),
    "activated": NP_("value", "activated mode"),
    "both": NP_("value", "ordinary and activated mode"),
    "convenor": NP_("value", "convenor"),
    "chair": NP_("value", "chair"),
    "member": NP_("value", "member"),
    "secretary": NP_("value", "secretary"),
    "observer": NP_("value", "observer"),
}

ORGANISATION_KIND_LABELS: dict[str, tuple[str, str]] = {
    "county_board": NP_("organisation kind", "County administrative board"),
    "municipality": NP_("organisation kind", "Municipality"),
    "region": NP_("organisation kind", "Region"),
    "agency": NP_("organisation kind", "Government agency"),
    "rescue_service": NP_("organisation kind", "Rescue service"),
    "police": NP_("organisation kind", "Police"),
    "armed_forces": NP_("organisation kind", "Armed forces"),
    "port": NP_("organisation kind", "Port"),
    "company": NP_("organisation kind", "Company"),
    "other": NP_("organisation kind", "Other"),
}


def kind_word(collection: str) -> str:
    """A record kind as a person names it ("Funktion"), or the collection's name."""
    return label(COLLECTION_NAMES.get(collection), collection)


def field_word(name: str) -> str:
    """A field's label as ``samverka show`` prints it ("Kortnamn")."""
    return label(FIELD_LABELS.get(name), name)


def value_label(value: str | None) -> str:
    """An enum value (availability, mode, role) in words."""
    return label(VALUE_NAMES.get(value or ""), value or "")


def organisation_kind_label(kind: str | None) -> str:
    return label(ORGANISATION_KIND_LABELS.get(kind or ""), kind or "")


# --- channels: as shown, as dialled, as a link ------------------------------------------------

_ISSI = re.compile(r"\bISSI\s*:?\s*(\d+)", re.IGNORECASE)
_NOTE_IN_BRACKETS = re.compile(r"\s*\([^)]*\)")


def shown_value(kind: str | None, value: str | None) -> str:
    """A channel's value as a person reads it: phone numbers in the national format."""
    if value and kind in PHONE_CHANNEL_KINDS:
        return format_phone(value)
    return value or ""


def dial_value(kind: str | None, value: str | None) -> str:
    """What Ctrl+C puts on the clipboard: the value as dialled or typed into a radio or mail client.

    Phone numbers in the national format ("070-174 06 99"); Rakel individual numbers as the ISSI
    alone ("9990199"), talk groups without the note in brackets ("STH-SAMV-1"); anything else as
    stored.
    """
    if not value:
        return ""
    if kind in PHONE_CHANNEL_KINDS:
        return format_phone(value)
    if kind == "rakel":
        issi = _ISSI.search(value)
        if issi:
            return issi.group(1)
        return _NOTE_IN_BRACKETS.sub("", value).strip() or value
    return value.strip()


def channel_link(kind: str | None, value: str | None) -> str | None:
    """The URL the system handles for this channel (tel:, mailto:, https:), or None."""
    if not value:
        return None
    if kind in PHONE_CHANNEL_KINDS:
        return "tel:" + re.sub(r"[^\d+]", "", value)
    if kind in ("email", "functional_mailbox") and "@" in value:
        return "mailto:" + value.strip()
    if kind == "web" and re.match(r"https?://", value.strip()):
        return value.strip()
    return None


@dataclass(frozen=True)
class ChannelRow:
    channel_id: str
    function_id: str
    kind: str
    kind_label: str
    value: str  # as stored (E.164 for phones)
    shown: str  # as a person reads it
    dial: str  # what Ctrl+C copies
    link: str | None
    label: str | None
    note: str | None
    priority: int | None
    resilient: bool


def channel_row(record: Mapping[str, Any]) -> ChannelRow:
    fields = record["fields"]
    kind, value = fields.get("kind") or "other", fields.get("value") or ""
    return ChannelRow(
        channel_id=record["record_id"],
        function_id=fields.get("function_id") or "",
        kind=kind,
        kind_label=channel_kind_label(kind),
        value=value,
        shown=shown_value(kind, value),
        dial=dial_value(kind, value),
        link=channel_link(kind, value),
        label=fields.get("label"),
        note=fields.get("note"),
        priority=fields.get("priority"),
        resilient=bool(fields.get("resilient")),
    )


def _priority_order(channels: Iterable[ChannelRow]) -> list[ChannelRow]:
    return sorted(channels, key=lambda c: (c.priority is None, c.priority or 0, c.shown))


def channels_by_function(store: Any, function_ids: Sequence[str]) -> dict[str, list[ChannelRow]]:
    """Each function's live channels in priority order (one query)."""
    out: dict[str, list[ChannelRow]] = {fid: [] for fid in function_ids}
    for record in store.list("channels", function_id=In(function_ids)):
        row = channel_row(record)
        out.setdefault(row.function_id, []).append(row)
    return {fid: _priority_order(rows) for fid, rows in out.items()}


def _live(store: Any, collection: str, record_id: str) -> dict[str, Any] | None:
    """The record, unless it is unknown or deleted."""
    record = store.get(collection, record_id)
    return None if record is None or record["deleted"] else record


def _names(store: Any, collection: str, ids: Iterable[str | None], field_name: str = "name") -> dict[str, str]:
    wanted = [i for i in dict.fromkeys(ids) if i]
    return {r["record_id"]: r["fields"].get(field_name) or "" for r in store.get_many(collection, wanted)}


# --- functions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionRef:
    """A function as named in another record's detail, with its organisation and best channel."""

    function_id: str
    name: str
    organisation_name: str
    best: ChannelRow | None


@dataclass(frozen=True)
class MandateRow:
    mandate_id: str
    forum_id: str
    forum_name: str
    level: str
    role: str
    role_label: str
    mandate: str | None
    reports_back: str | None
    member: FunctionRef | None


@dataclass(frozen=True)
class FunctionDetail:
    function_id: str
    name: str
    short_name: str | None
    organisation_id: str
    organisation_name: str
    description: str | None
    availability: str | None
    is_contact_point: bool
    last_verified: str | None
    owner_org: str | None
    channels: tuple[ChannelRow, ...]
    mandates: tuple[MandateRow, ...]

    @property
    def title(self) -> str:
        return function_name({"name": self.name, "short_name": self.short_name})


def function_name(fields: Mapping[str, Any]) -> str:
    """"Tjänsteman i beredskap (TiB)": the name, and the short name people say."""
    name = fields.get("name") or ""
    return f"{name} ({fields['short_name']})" if fields.get("short_name") else name


def function_refs(store: Any, function_ids: Iterable[str | None]) -> dict[str, FunctionRef]:
    """Name, organisation and best channel of each function, in three queries."""
    functions = store.get_many("functions", [f for f in dict.fromkeys(function_ids) if f])
    orgs = _names(store, "organisations", (f["fields"].get("organisation_id") for f in functions))
    channels = channels_by_function(store, [f["record_id"] for f in functions])
    refs = {}
    for record in functions:
        fields = record["fields"]
        best = channels.get(record["record_id"]) or []
        refs[record["record_id"]] = FunctionRef(
            record["record_id"], function_name(fields), orgs.get(fields.get("organisation_id") or "", ""),
            best[0] if best else None,
        )
    return refs


def function_detail(store: Any, function_id: str) -> FunctionDetail | None:
    record = _live(store, "functions", function_id)
    if record is None:
        return None
    fields = record["fields"]
    org = store.get("organisations", fields.get("organisation_id") or "")
    channels = channels_by_function(store, [function_id]).get(function_id, [])
    mandates = store.list("mandates", function_id=function_id)
    forums = {f["record_id"]: f["fields"] for f in store.get_many("forums", [m["fields"]["forum_id"] for m in mandates])}
    rows = []
    for mandate in mandates:
        m = mandate["fields"]
        forum = forums.get(m.get("forum_id") or "")
        if forum is None:
            continue
        rows.append(MandateRow(
            mandate["record_id"], m["forum_id"], forum.get("name") or "", forum.get("level") or "", m.get("role") or "",
            value_label(m.get("role")), m.get("mandate"), m.get("reports_back"), None,
        ))
    rows.sort(key=lambda r: (LEVELS.index(r.level) if r.level in LEVELS else 9, r.forum_name))
    return FunctionDetail(
        function_id=function_id,
        name=fields.get("name") or "",
        short_name=fields.get("short_name"),
        organisation_id=fields.get("organisation_id") or "",
        organisation_name=(org or {}).get("fields", {}).get("name") or "",
        description=fields.get("description"),
        availability=fields.get("availability"),
        is_contact_point=bool(fields.get("is_contact_point")),
        last_verified=fields.get("last_verified"),
        owner_org=record.get("owner_org"),
        channels=tuple(channels),
        mandates=tuple(rows),
    )


# --- organisations and the directory ----------------------------------------------------------


@dataclass(frozen=True)
class OrganisationRow:
    organisation_id: str
    name: str
    short_name: str | None
    kind: str | None
    function_count: int


@dataclass(frozen=True)
class FunctionRow:
    """One function as a directory line: enough to paint it, nothing more."""

    function_id: str
    name: str
    channel_count: int
    best: ChannelRow | None
    is_contact_point: bool
    resilient: bool  # at least one channel marked as working during outages

    @property
    def too_few_channels(self) -> bool:
        """Alerting practice: a function reachable one way only is one failure from unreachable."""
        return self.channel_count < 2


def organisations(store: Any, kind: str | None = None) -> list[OrganisationRow]:
    """Every live organisation (a region has hundreds, not thousands), by name."""
    filters = {"kind": kind} if kind else {}
    ids = store.ids("organisations", order_by="name", **filters)
    counts: dict[str, int] = {}
    rows = []
    for record in store.get_many("organisations", ids):
        fields = record["fields"]
        rid = record["record_id"]
        counts[rid] = store.count("functions", organisation_id=rid)
        rows.append(OrganisationRow(rid, fields.get("name") or "", fields.get("short_name"), fields.get("kind"), counts[rid]))
    return rows


def function_ids(store: Any, organisation_id: str) -> list[str]:
    """The ids of an organisation's functions by name: the directory's list before its rows."""
    return store.ids("functions", order_by="name", organisation_id=organisation_id)


def function_rows(store: Any, ids: Sequence[str]) -> dict[str, FunctionRow]:
    """The directory lines of one page of functions (two queries for the page)."""
    records = store.get_many("functions", ids)
    channels = channels_by_function(store, [r["record_id"] for r in records])
    rows = {}
    for record in records:
        fields = record["fields"]
        own = channels.get(record["record_id"], [])
        rows[record["record_id"]] = FunctionRow(
            record["record_id"], function_name(fields), len(own), own[0] if own else None,
            bool(fields.get("is_contact_point")), any(c.resilient for c in own),
        )
    return rows


@dataclass(frozen=True)
class OrganisationDetail:
    organisation_id: str
    name: str
    short_name: str | None
    kind: str | None
    website: str | None
    notes: str | None
    last_verified: str | None
    functions: tuple[FunctionRef, ...]  # the first ORGANISATION_FUNCTIONS, by name
    function_count: int

    @property
    def title(self) -> str:
        return self.name


# An organisation's detail names its first functions with their best channel; the directory
# lists them all. (500 of them as one HTML table took 52 ms to lay out on the GUI thread.)
ORGANISATION_FUNCTIONS = 40


def organisation_detail(
    store: Any, organisation_id: str, function_limit: int | None = ORGANISATION_FUNCTIONS
) -> OrganisationDetail | None:
    """An organisation with its first ``function_limit`` functions by name (None: all of them)."""
    record = _live(store, "organisations", organisation_id)
    if record is None:
        return None
    fields = record["fields"]
    ids = store.ids("functions", order_by="name", limit=function_limit, organisation_id=organisation_id)
    refs = function_refs(store, ids)
    return OrganisationDetail(
        organisation_id, fields.get("name") or "", fields.get("short_name"), fields.get("kind"),
        fields.get("website"), fields.get("notes"), fields.get("last_verified"),
        tuple(refs[i] for i in ids if i in refs),
        store.count("functions", organisation_id=organisation_id),
    )


# --- forums ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForumRow:
    forum_id: str
    name: str
    level: str
    mode: str  # ordinary | activated


@dataclass(frozen=True)
class ForumDetail:
    forum_id: str
    name: str
    level: str
    level_label: str
    purpose: str | None
    convenor: FunctionRef | None
    mode: str
    cadence: str | None
    meeting_channel: str | None
    agenda: str | None
    members: tuple[MandateRow, ...]
    routines: tuple[tuple[str, str], ...]  # (routine_id, title)

    @property
    def title(self) -> str:
        return self.name


def forums_by_level(store: Any) -> dict[str, list[ForumRow]]:
    """The forums of each of the three levels, by name."""
    out: dict[str, list[ForumRow]] = {level: [] for level in LEVELS}
    for record in store.get_many("forums", store.ids("forums", order_by="name")):
        fields = record["fields"]
        level = fields.get("level") or ""
        out.setdefault(level, []).append(
            ForumRow(record["record_id"], fields.get("name") or "", level, fields.get("mode") or "ordinary")
        )
    return out


_ROLE_ORDER = ("convenor", "chair", "secretary", "member", "observer")


def forum_detail(store: Any, forum_id: str) -> ForumDetail | None:
    record = _live(store, "forums", forum_id)
    if record is None:
        return None
    fields = record["fields"]
    mandates = store.list("mandates", forum_id=forum_id)
    refs = function_refs(
        store, [fields.get("convenor_function_id"), *(m["fields"]["function_id"] for m in mandates)]
    )
    members = [
        MandateRow(
            m["record_id"], forum_id, fields.get("name") or "", fields.get("level") or "", m["fields"]["role"],
            value_label(m["fields"]["role"]), m["fields"].get("mandate"),
            m["fields"].get("reports_back"), refs.get(m["fields"]["function_id"]),
        )
        for m in mandates
    ]
    members.sort(key=lambda r: (
        _ROLE_ORDER.index(r.role) if r.role in _ROLE_ORDER else 9,
        r.member.organisation_name if r.member else "", r.member.name if r.member else "",
    ))
    routines = [(r["record_id"], r["fields"].get("title") or "") for r in store.list("routines", forum_id=forum_id)]
    level = fields.get("level") or ""
    return ForumDetail(
        forum_id, fields.get("name") or "", level, level_label(level), fields.get("purpose"),
        refs.get(fields.get("convenor_function_id") or ""), fields.get("mode") or "ordinary",
        fields.get("cadence"), fields.get("meeting_channel"), fields.get("agenda"),
        tuple(members), tuple(routines),
    )


# --- routines ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoutineRow:
    routine_id: str
    title: str
    mode: str | None


@dataclass(frozen=True)
class RoutineGroup:
    """The routines of one forum or one organisation."""

    owner_kind: str  # "forums" | "organisations" | "none"
    owner_id: str | None
    owner_name: str
    routines: tuple[RoutineRow, ...]


@dataclass(frozen=True)
class StepRow:
    step_id: str
    position: str
    text: str
    responsible: FunctionRef | None


@dataclass(frozen=True)
class RoutineDetail:
    routine_id: str
    title: str
    forum_id: str | None
    forum_name: str | None
    organisation_id: str | None
    organisation_name: str | None
    mode: str | None
    trigger: str | None
    body: str | None
    version: str | None
    review_due: str | None
    steps: tuple[StepRow, ...] = field(default_factory=tuple)


def routine_groups(store: Any, mode: str | None = None) -> list[RoutineGroup]:
    """Routines grouped by the forum or organisation that owns them; ``mode`` keeps those for
    that mode (a routine for both modes belongs to either)."""
    records = store.get_many("routines", store.ids("routines", order_by="title"))
    if mode:
        records = [r for r in records if r["fields"].get("mode") in (mode, "both", None)]
    forums = _names(store, "forums", (r["fields"].get("forum_id") for r in records))
    orgs = _names(store, "organisations", (r["fields"].get("organisation_id") for r in records))
    groups: dict[tuple[str, str | None], list[RoutineRow]] = {}
    for record in records:
        f = record["fields"]
        if f.get("forum_id") in forums:
            key = ("forums", f["forum_id"])
        elif f.get("organisation_id") in orgs:
            key = ("organisations", f["organisation_id"])
        else:
            key = ("none", None)
        groups.setdefault(key, []).append(RoutineRow(record["record_id"], f.get("title") or "", f.get("mode")))
    out = [
        RoutineGroup(kind, owner, forums.get(owner or "") or orgs.get(owner or "") or "", tuple(rows))
        for (kind, owner), rows in groups.items()
    ]
    out.sort(key=lambda g: ({"forums": 0, "organisations": 1}.get(g.owner_kind, 2), g.owner_name))
    return out


def routine_detail(store: Any, routine_id: str) -> RoutineDetail | None:
    record = _live(store, "routines", routine_id)
    if record is None:
        return None
    f = record["fields"]
    steps = store.list("routine_steps", routine_id=routine_id)  # in position order
    refs = function_refs(store, (s["fields"].get("responsible_function_id") for s in steps))
    forum = store.get("forums", f["forum_id"]) if f.get("forum_id") else None
    org = store.get("organisations", f["organisation_id"]) if f.get("organisation_id") else None
    return RoutineDetail(
        routine_id, f.get("title") or "", f.get("forum_id"), (forum or {}).get("fields", {}).get("name"),
        f.get("organisation_id"), (org or {}).get("fields", {}).get("name"), f.get("mode"), f.get("trigger"), f.get("body"),
        f.get("version"), f.get("review_due"),
        tuple(
            StepRow(s["record_id"], s["fields"]["position"], s["fields"].get("text") or "",
                    refs.get(s["fields"].get("responsible_function_id") or ""))
            for s in steps
        ),
    )


# --- any record ----------------------------------------------------------------------------------

Detail = FunctionDetail | OrganisationDetail | ForumDetail | RoutineDetail


@dataclass(frozen=True)
class Opened:
    """A record opened in a detail view; ``channel_id`` is the channel to select first."""

    detail: Detail | None
    channel_id: str | None = None


def open_record(store: Any, collection: str, record_id: str) -> Opened:
    """The detail of any searchable record; a channel opens its function with it selected."""
    if collection == "channels":
        channel = store.get("channels", record_id)
        if channel is None or channel["deleted"]:
            return Opened(None)
        return Opened(function_detail(store, channel["fields"]["function_id"]), record_id)
    reader = {
        "functions": function_detail,
        "organisations": organisation_detail,
        "forums": forum_detail,
        "routines": routine_detail,
    }.get(collection)
    return Opened(reader(store, record_id) if reader else None)


def find_record(store: Any, reference: str) -> tuple[str, str] | None:
    """(collection, record_id) of what ``reference`` names: a record id of any kind shown here,
    else the top search hit; None when nothing matches."""
    for collection in COLLECTION_NAMES:
        record = store.get(collection, reference)
        if record is not None and not record["deleted"]:
            return collection, record["record_id"]
    hits = store.search(reference, limit=1)
    return (hits[0].collection, hits[0].record_id) if hits else None


# --- what this device may change -------------------------------------------------------------


def detail_key(detail: Detail) -> tuple[str, str]:
    """(collection, record_id) of a detail."""
    if isinstance(detail, FunctionDetail):
        return "functions", detail.function_id
    if isinstance(detail, OrganisationDetail):
        return "organisations", detail.organisation_id
    if isinstance(detail, ForumDetail):
        return "forums", detail.forum_id
    if isinstance(detail, RoutineDetail):
        return "routines", detail.routine_id
    raise ValueError(detail)


# What hangs on a shown record, and the field that ties it there.
CHILDREN: dict[str, tuple[str, str]] = {
    "functions": ("channels", "function_id"),
    "forums": ("mandates", "forum_id"),
    "routines": ("routine_steps", "routine_id"),
    "organisations": ("functions", "organisation_id"),
}


@dataclass(frozen=True)
class Rights:
    """What this device may do with a shown record and what hangs on it, each with its reason
    (desktop/permissions.py asks the shared write rules with the local copy's facts).

    ``add`` is a new child (a function's channel, a forum's mandate, a routine's step, an
    organisation's function); ``add_sibling`` a new record of the same kind beside it (a function
    of the same organisation, a forum, a routine of the same owner); ``items`` each child's edit.
    """

    edit: Any
    delete: Any
    add: Any
    add_sibling: Any
    items: Mapping[str, Any] = field(default_factory=dict)


def _items_of(detail: Detail) -> list[str]:
    if isinstance(detail, FunctionDetail):
        return [c.channel_id for c in detail.channels]
    if isinstance(detail, ForumDetail):
        return [m.mandate_id for m in detail.members]
    if isinstance(detail, RoutineDetail):
        return [s.step_id for s in detail.steps]
    return []


def _sibling_fields(detail: Detail) -> dict[str, Any]:
    if isinstance(detail, FunctionDetail):
        return {"organisation_id": detail.organisation_id}
    if isinstance(detail, RoutineDetail):
        return {"forum_id": detail.forum_id} if detail.forum_id else {"organisation_id": detail.organisation_id}
    return {}


def rights(store: Any, detail: Detail) -> Rights:
    """May this device edit or delete the record shown, add to it, add beside it, and edit each
    of the records that hang on it? (Organisations are made and removed on the server only.)"""
    from desktop.permissions import may_edit, may_write

    collection, record_id = detail_key(detail)
    child, ref = CHILDREN[collection]
    sibling = may_write(store, collection, "create", None, _sibling_fields(detail))
    return Rights(
        edit=may_edit(store, collection, record_id),
        delete=may_write(store, collection, "delete", record_id, {}),
        add=may_write(store, child, "create", None, {ref: record_id}),
        add_sibling=sibling,
        items={item: may_edit(store, child, item) for item in _items_of(detail)},
    )


# --- orders a person changes by keyboard (Alt+↑/↓) ----------------------------------------------

_POSITION_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # in ASCII order


def position_between(before: str | None, after: str | None) -> str | None:
    """A routine step's position that sorts strictly between two (None: the start or the end),
    as plain text; None when there is none (after == before + "0…"): then renumber."""
    low = before or ""
    high = after
    out = ""
    for index in range(len(low) + (len(high) if high else 0) + 2):
        a = _POSITION_DIGITS.index(low[index]) if index < len(low) else 0
        b = _POSITION_DIGITS.index(high[index]) if high is not None and index < len(high) else len(_POSITION_DIGITS)
        if a == b:
            out += _POSITION_DIGITS[a]
            continue
        middle = (a + b) // 2
        if middle > a:
            candidate = out + _POSITION_DIGITS[middle]
        else:  # neighbouring digits: keep the lower one and go on without an upper bound
            out += _POSITION_DIGITS[a]
            high = None
            continue
        if (before is None or candidate > before) and (after is None or candidate < after):
            return candidate
        return None
    return None


def evenly_spaced_positions(count: int) -> list[str]:
    """``count`` positions in order, spread out ("a0", "a1", … as the demo's are)."""
    digits = _POSITION_DIGITS
    width = 1
    while len(digits) ** width < count:
        width += 1
    out = []
    for number in range(count):
        text = ""
        for _ in range(width):
            number, digit = divmod(number, len(digits))
            text = digits[digit] + text
        out.append("a" + text)
    return out


def moved(ids: Sequence[str], record_id: str, steps: int) -> list[str]:
    """``ids`` with ``record_id`` moved ``steps`` places (negative: up), kept within the list."""
    order = list(ids)
    if record_id not in order:
        return order
    index = order.index(record_id)
    order.pop(index)
    order.insert(min(max(index + steps, 0), len(order)), record_id)
    return order


def priorities_for(order: Sequence[str], current: Mapping[str, int | None]) -> dict[str, int]:
    """The channels whose priority changes when they are numbered 1, 2, … in ``order``."""
    return {cid: number for number, cid in enumerate(order, 1) if current.get(cid) != number}


def positions_for(order: Sequence[str], current: Mapping[str, str]) -> dict[str, str]:
    """The steps whose position changes so that they sort in ``order``: only the moved one when
    a position fits between its new neighbours, else every step renumbered."""
    changed = [rid for rid, was in zip(order, sorted(current, key=lambda r: (current[r], r))) if rid != was]
    if not changed:
        return {}
    for rid in order:
        index = order.index(rid)
        others = [r for r in order if r != rid]
        if others == sorted(others, key=lambda r: (current[r], r)):  # only rid is out of place
            before = current[order[index - 1]] if index > 0 else None
            after = current[order[index + 1]] if index + 1 < len(order) else None
            fitted = position_between(before, after)
            if fitted is not None:
                return {rid: fitted}
    fresh = evenly_spaced_positions(len(order))
    return {rid: pos for rid, pos in zip(order, fresh) if current.get(rid) != pos}


def position_after(last: str | None) -> str:
    """The position of a step added at the end."""
    return position_between(last, None) or "a0"


def today() -> str:
    """Today's date on this computer (what "Verified today" sets)."""
    from datetime import date

    return date.today().isoformat()


# --- conflicts, as the window lists them ----------------------------------------------------------

MINE_KEPT = "kept"  # this device's value is the one the record kept
MINE_OTHER = "other"  # this device's value was overwritten (or refused)


@dataclass(frozen=True)
class ConflictRow:
    """One unresolved conflict for the window: syncer.conflicts' words, the record's kind, and
    which side (if either) was this device's."""

    view: Any  # desktop.syncer.conflicts.ConflictView
    kind: str
    mine: str | None  # MINE_KEPT, MINE_OTHER, or None when both values came from other devices


def conflict_rows(store: Any) -> list[ConflictRow]:
    from desktop.syncer.conflicts import describe
    from sync.clock import is_valid_hlc
    from sync.merge import node_of

    this_device = store.get_meta("sync.device_id")
    rows = []
    for conflict in store.list("conflicts"):
        fields = conflict["fields"]
        if fields.get("resolved"):
            continue

        def device(side: str) -> str | None:
            clock = fields.get(f"{side}_clock")
            return fields.get(f"{side}_device") or (node_of(clock) if is_valid_hlc(clock) else None)

        mine = MINE_KEPT if this_device and device("kept") == this_device else (
            MINE_OTHER if this_device and device("other") == this_device else None)
        rows.append(ConflictRow(describe(store, conflict), kind_word(fields.get("collection") or ""), mine))
    return rows


def value_text(collection: str, field_name: str, value: Any) -> str:
    """A field's value in a conflict as a person reads it (a choice in words, a phone number as
    dialled, yes or no)."""
    from desktop.i18n import tr

    if value is None or value == "":
        return tr("(empty)")
    if isinstance(value, bool):
        return tr("yes") if value else tr("no")
    spec = COLLECTIONS[collection].fields.get(field_name) if collection in COLLECTIONS else None
    if spec is not None and spec.choices and isinstance(value, str):
        if collection == "channels" and field_name == "kind":
            return channel_kind_label(value)
        return organisation_kind_label(value) if collection == "organisations" else value_label(value)
    if isinstance(value, str) and field_name == "value" and value.startswith("+"):
        return format_phone(value)
    return str(value)
