"""Planning an import: the rows of a Table against the store, into what will be created, updated and refused.

Matching (so that a re-import updates and never duplicates):
- a function is the one whose record id is in the row's "Function ID" cell, else the one of the
  organisation with the row's function name (case and spacing aside);
- a channel is the one whose id is in the row's "Channel ID" cell, else the function's channel
  with the row's value (phone numbers compared in E.164, other values case aside).
What a file leaves out is never deleted. A column the file has is the truth for what it fills (an
empty cell clears an optional field); a column it lacks leaves that field alone. Several rows of
one function must agree on the function's fields; a row that repeats an earlier one, or says
otherwise about the same function or channel, is refused with the line of the other.

Whose records a row may write is the shared rules' answer (desktop/permissions.py ``may_write``,
the table the server enforces on every pushed change, sync/rules.py): in an enrolled vault each
row's planned creates and updates are asked, and a row the rules refuse (another organisation's,
by its Organisation cell or a key of another organisation's record) is refused with the rules'
words ("Skrivskyddad: ägs av Trafikverket."). A standalone vault may write everything it holds,
so there the import keeps to the organisation named with ``--org`` and refuses rows of others
itself. Either way an import writes for one organisation: a row the rules would allow for
another (none do today) is still refused as another organisation's.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import phonenumbers

from desktop.i18n import label
from desktop.io.cells import (
    Problem,
    availability_cell,
    date_cell,
    email_cell,
    int_cell,
    name_cell,
    phone_cell,
    shown,
    text_cell,
    text_of,
    yes_no_cell,
)
from desktop.io.columns import (
    AVAILABILITY_LABELS,
    CHANNEL,
    COLUMNS_BY_ID,
    FUNCTION,
    KIND,
    ColumnMapping,
    fold,
    kind_vocabulary,
)
from desktop.io.errors import OrganisationError, check_cancel
from desktop.io.messages import Later, io_message, later
from desktop.io.read import Location, Progress, Row, Sheet, Table, read_table
from desktop.permissions import WriteQuestions
from desktop.store.messages import CHANNEL_KIND_LABELS
from desktop.store.phones import normalise_phone
from desktop.store.store import META_CURSOR
from sync.records import CHANNEL_KINDS, PHONE_CHANNEL_KINDS

FUNCTION_FIELDS = ("name", "short_name", "description", "availability", "is_contact_point", "last_verified")
CHANNEL_FIELDS = ("kind", "value", "label", "priority", "resilient", "note")
EMAIL_KINDS = ("email", "functional_mailbox")
_PARENTHESIS = re.compile(r"\(.*?\)")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")


# --- whose list it is ------------------------------------------------------------------------


@dataclass(frozen=True)
class Organisation:
    """The organisation an import writes for. ``create``: a standalone vault's import makes it."""

    record_id: str
    name: str
    short_name: str | None = None
    create: bool = False

    def words(self) -> set[str]:
        """What a row's organisation cell may say to mean this organisation."""
        words = {fold(self.name), fold(_PARENTHESIS.sub("", self.name)), self.record_id}
        if self.short_name:
            words.add(fold(self.short_name))
        return {w for w in words if w}


def _organisation(record: dict) -> Organisation:
    fields = record["fields"]
    return Organisation(record["record_id"], fields.get("name") or "", fields.get("short_name"))


def find_organisations(store, text: str) -> list[Organisation]:
    """Live organisations whose id, name or short name is ``text`` (case and punctuation aside)."""
    wanted = text.strip()
    found = []
    for record in store.list("organisations"):
        organisation = _organisation(record)
        if wanted == organisation.record_id or fold(wanted) in organisation.words():
            found.append(organisation)
    return found


def choose_organisation(
    store, requested: str | None, *, device_organisation: str | None, create: bool = False
) -> Organisation:
    """The organisation this import writes for.

    An enrolled device (``device_organisation``: its organisation's id, from the sync meta) writes
    for its own organisation only, as the server would enforce; ``requested`` may name it again
    but never another. A standalone vault has no organisation of its own: the user names the one
    whose list it is, and with ``create`` the import makes it when the vault lacks it.
    """
    if device_organisation:
        record = store.get("organisations", device_organisation)
        if record is None or record["deleted"]:
            raise OrganisationError("org.not_synced", organisation=device_organisation)
        own = _organisation(record)
        if requested and own not in find_organisations(store, requested):
            if create and not find_organisations(store, requested):
                raise OrganisationError("org.create_enrolled", organisation=own.name)
            raise OrganisationError("org.other_than_device", organisation=own.name, requested=requested)
        return own
    if not requested or not requested.strip():
        raise OrganisationError("org.required")
    found = find_organisations(store, requested)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise OrganisationError("org.ambiguous", requested=requested, names=", ".join(o.name for o in found))
    if not create:
        raise OrganisationError("org.not_found", requested=requested)
    return Organisation(str(uuid.uuid4()), requested.strip(), None, create=True)


# --- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One record to create or update; ``fields`` are what is written, ``before`` what they were."""

    op: str  # "create" or "update"
    collection: str  # "organisations", "functions" or "channels"
    record_id: str
    fields: dict[str, Any]
    before: dict[str, Any]
    location: Location | None  # the first row that asks for it
    function_name: str  # a function's name, or a channel's function's name
    channel: tuple[str, str] | None = None  # a channel's (kind, value) as stored now, or as created

    def key(self) -> tuple:
        """What makes two plans the same: the same records, the same values, the same values before."""
        return (
            self.op, self.collection, self.record_id,
            sorted(self.fields.items(), key=repr), sorted(self.before.items(), key=repr),
        )


@dataclass(frozen=True)
class Refusal:
    """A row that is not imported, and why (``reason()`` in the user's language)."""

    location: Location
    key: str
    values: dict[str, Any]

    def reason(self) -> str:
        return io_message(self.key, **self.values)


@dataclass
class ImportPlan:
    """The preview: every change an import makes, every row it refuses, and what it leaves alone."""

    table: Table
    organisation: Organisation
    seed: str  # new records' ids derive from it, so planning again gives the same plan
    state: tuple  # the store's state it was made on (state_token)
    changes: list[Change]
    refused: list[Refusal]
    unchanged_rows: int
    absent: dict[str, int]  # collection -> the organisation's live records no row names

    def count(self, op: str, collection: str) -> int:
        return sum(1 for c in self.changes if c.op == op and c.collection == collection)

    def same_as(self, other: ImportPlan) -> bool:
        return [c.key() for c in self.changes] == [c.key() for c in other.changes] and [
            (r.location, r.key) for r in self.refused
        ] == [(r.location, r.key) for r in other.refused]


def prepare_import(
    store,
    path: Path | str,
    *,
    organisation: Organisation,
    mapping: ColumnMapping | None = None,
    progress: Progress | None = None,
    cancel: Any = None,
) -> ImportPlan:
    """Read ``path`` and plan its import for ``organisation`` (see choose_organisation); changes nothing."""
    table = read_table(path, mapping, progress=progress, cancel=cancel)
    return plan_import(store, table, organisation, mapping=mapping, progress=progress, cancel=cancel)


def plan_import(
    store,
    table: Table,
    organisation: Organisation,
    *,
    mapping: ColumnMapping | None = None,
    seed: str | None = None,
    progress: Progress | None = None,
    cancel: Any = None,
) -> ImportPlan:
    """The plan for ``table``; the same ``seed`` on the same store state gives the same plan."""
    state = state_token(store)
    planner = _Planner(store, organisation, mapping or ColumnMapping(), seed or str(uuid.uuid4()))
    total = table.row_count
    done = 0
    for sheet in table.sheets:
        parser = _RowParser(sheet, planner.mapping)
        for row in sheet.rows:
            done += 1
            if done % 1000 == 0:
                check_cancel(cancel)
                if progress:
                    progress("plan", done, total)
            try:
                planner.add(parser.parse(row), parser.header)
            except Problem as problem:
                planner.refused.append(Refusal(row.location, problem.key, problem.values))
    return planner.finish(table, state)


def state_token(store) -> tuple:
    """Changes whenever the store's records may have changed: every local edit and every pulled
    page advances the hybrid logical clock, and a pull moves the cursor."""
    return (store.clock.last, store.get_meta(META_CURSOR))


# --- one row ----------------------------------------------------------------------------------


@dataclass
class _Channel:
    kind: str
    value: str  # as written (the store turns phone numbers into E.164)
    match: str  # how it is compared: E.164 for phone kinds, else folded case and spacing
    fields: dict[str, Any]  # label, priority, resilient, note: those the row states (None: empty)
    column: str  # the header of the cell that gave the value
    key: str | None = None  # a Channel ID cell


@dataclass
class _Parsed:
    location: Location
    organisation: str | None
    function_key: str | None
    function_fields: dict[str, Any]  # the function's fields the row states (None: empty cell)
    channels: list[_Channel]


def _match_text(kind: str, value: str) -> str:
    if kind in PHONE_CHANNEL_KINDS:
        return normalise_phone(value) or " ".join(value.casefold().split())
    return " ".join(value.casefold().split())


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def _kind_choices() -> str:
    return ", ".join(label(CHANNEL_KIND_LABELS[k]) for k in CHANNEL_KINDS)


def _availability_choices() -> str:
    return ", ".join(label(AVAILABILITY_LABELS[k]) for k in AVAILABILITY_LABELS)


class _RowParser:
    """Cells of one sheet's rows into typed fields, with a Problem for the first that does not fit."""

    def __init__(self, sheet: Sheet, mapping: ColumnMapping) -> None:
        self.headers = [header for header, _ in sheet.columns]
        self.where: dict[str, int] = {}
        self.kind_columns: list[tuple[int, str, str]] = []  # (cell index, kind, header)
        for index, (header, column) in enumerate(sheet.columns):
            if COLUMNS_BY_ID[column].level == KIND:
                self.kind_columns.append((index, column, header))
            else:
                self.where[column] = index
        self.kinds = {**kind_vocabulary(), **{fold(k): v for k, v in mapping.kinds.items()}}
        choices = Later(_availability_choices)
        converters: dict[str, Callable[[Any, str], Any]] = {
            "short_name": name_cell,
            "description": text_cell,
            "availability": lambda value, column: availability_cell(value, column, choices),
            "contact_point": yes_no_cell,
            "last_verified": date_cell,
            "label": name_cell,
            "priority": int_cell,
            "resilient": yes_no_cell,
            "note": text_cell,
        }
        # (field, cell index, converter, header) of the columns this sheet has
        self.function_columns = [
            (COLUMNS_BY_ID[c].field, self.where[c], converters[c], self.header(c))
            for c in ("short_name", "description", "availability", "contact_point", "last_verified")
            if c in self.where
        ]
        self.channel_columns = [
            (COLUMNS_BY_ID[c].field, self.where[c], converters[c], self.header(c))
            for c in ("label", "priority", "resilient", "note")
            if c in self.where
        ]
        self.function_header = self.header("function")
        self.function_index = self.where["function"]
        self.organisation_index = self.where.get("organisation")

    def header(self, column: str) -> Any:
        """The column's header as the file writes it, or its name in Samverka when the file lacks it."""
        index = self.where.get(column)
        return self.headers[index] if index is not None else Later(COLUMNS_BY_ID[column].title)

    def _cell(self, cells: tuple[Any, ...], column: str) -> Any:
        index = self.where.get(column)
        return None if index is None else cells[index]

    def parse(self, row: Row) -> _Parsed:
        cells = row.cells
        if row.formulas:
            raise Problem("row.formula", {"column": self.headers[min(row.formulas)]})
        if row.errors:
            first = min(row.errors)
            raise Problem("row.error_cell", {"column": self.headers[first], "value": shown(cells[first])})
        name = name_cell(cells[self.function_index], self.function_header)
        if name is None:
            raise Problem("row.no_function", {"column": self.function_header})
        fields: dict[str, Any] = {"name": name}
        for field_name, index, convert, header in self.function_columns:
            fields[field_name] = convert(cells[index], header)
        organisation = None if self.organisation_index is None else text_of(cells[self.organisation_index])
        return _Parsed(
            row.location, organisation, self._key(self._cell(cells, "function_key"), "function_key"),
            fields, self._channels(cells),
        )

    def _key(self, value: Any, column: str) -> str | None:
        text = text_of(value)
        if text is None:
            return None
        if _CANONICAL_UUID.fullmatch(text):
            return text
        if not _UUID.fullmatch(text):
            raise Problem("row.bad_key", {"value": shown(text), "column": self.header(column)})
        return str(uuid.UUID(text))

    def _channels(self, cells: tuple[Any, ...]) -> list[_Channel]:
        channels: list[_Channel] = []
        kind_text, value = text_of(self._cell(cells, "kind")), self._cell(cells, "value")
        if text_of(value) is not None:
            kind = self._kind(kind_text, value)
            channels.append(self._channel(kind, value, self.header("value")))
        elif kind_text is not None:
            raise Problem("row.no_value", {
                "column": self.header("kind"), "value": shown(kind_text), "value_column": self.header("value"),
            })
        for index, kind, header in self.kind_columns:
            if text_of(cells[index]) is not None:
                channels.append(self._channel(kind, cells[index], header))
        extra = {field_name: convert(cells[index], header) for field_name, index, convert, header in self.channel_columns}
        if extra.get("priority", 0) is None:  # an empty priority keeps the order there is (new: last)
            del extra["priority"]
        key = self._key(self._cell(cells, "channel_key"), "channel_key")
        if not channels:
            if key is not None:
                raise Problem("row.channel_emptied", {"column": self.header("channel_key")})
            return channels
        channels[0].fields.update(extra)
        channels[0].key = key
        first_priority = extra.get("priority")
        if first_priority is not None:  # a row's further channels follow its first, in column order
            for offset, channel in enumerate(channels[1:], start=1):
                channel.fields["priority"] = first_priority + offset
        return channels

    def _kind(self, kind_text: str | None, value: Any) -> str:
        if kind_text is not None:
            kind = self.kinds.get(fold(kind_text))
            if kind is None:
                raise Problem("row.bad_kind", {
                    "value": shown(kind_text), "column": self.header("kind"), "choices": Later(_kind_choices),
                })
            return kind
        text = text_of(value) or ""
        if "@" in text:
            return "email"
        e164 = normalise_phone(text)
        if e164 is not None:
            number = phonenumbers.parse(e164)
            is_mobile = phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
            return "mobile" if is_mobile else "phone"
        raise Problem("row.no_kind", {
            "value": shown(text), "column": self.header("value"), "kind_column": self.header("kind"),
        })

    def _channel(self, kind: str, value: Any, column: str) -> _Channel:
        if kind in PHONE_CHANNEL_KINDS:
            text, e164 = phone_cell(value, column)
            return _Channel(kind, text, e164, {}, column)
        if kind in EMAIL_KINDS:
            text = email_cell(value, column)
        else:
            text = name_cell(value, column) or ""
        return _Channel(kind, text, _match_text(kind, text), {}, column)


# --- the rows together ------------------------------------------------------------------------


@dataclass
class _FunctionPlan:
    record_id: str
    current: dict | None  # the stored record's fields (None: new)
    fields: dict[str, tuple[Any, Location]] = field(default_factory=dict)  # stated value, first row
    location: Location | None = None
    bare_rows: list[Location] = field(default_factory=list)  # rows naming it without a channel


@dataclass
class _ChannelPlan:
    record_id: str
    function: Any  # the function's identity
    current: dict | None
    channel: _Channel
    location: Location


def _written(channel: _Channel) -> dict[str, Any]:
    """The fields a row writes to a channel (what the rules are asked with)."""
    return {"kind": channel.kind, "value": channel.value, **channel.fields}


def _changed(current: dict, stated: dict[str, Any]) -> dict[str, Any]:
    """The stated fields whose value differs from the stored one (what an update writes)."""
    return {n: v for n, v in stated.items() if not _same(current.get(n), v)}


def _channel_changed(current: dict, current_match: str, channel: _Channel) -> dict[str, Any]:
    """What a row's channel changes in the stored one (its value compared as it is matched:
    ``current_match``)."""
    changed: dict[str, Any] = {}
    if channel.kind != current["kind"]:
        changed["kind"] = channel.kind
    if channel.match != current_match:
        changed["value"] = channel.value
    changed.update(_changed(current, channel.fields))
    return changed


def _same(a: Any, b: Any) -> bool:
    """Equal as far as a person can tell: None and "" alike, text by its content."""
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().replace("\r\n", "\n") == b.strip().replace("\r\n", "\n")
    return a == b and type(a) is type(b)


class _Planner:
    def __init__(self, store, organisation: Organisation, mapping: ColumnMapping, seed: str) -> None:
        self.store = store
        self.organisation = organisation
        self.mapping = mapping
        self.seed = seed
        self.seed_bytes = hashlib.blake2b(seed.encode(), digest_size=32).digest()
        self.words = organisation.words()
        self.refused: list[Refusal] = []
        self.accepted: list[tuple[Any, list[Any]]] = []  # (function identity, channel identities) per row
        self.functions: dict[Any, _FunctionPlan] = {}
        self.channels: dict[Any, _ChannelPlan] = {}
        # The organisation's live functions and their live channels, as stored now.
        self.stored_functions: dict[str, dict] = {}
        self.by_name: dict[str, list[str]] = {}
        self.stored_channels: dict[str, dict] = {}
        self.by_value: dict[tuple[str, str], list[str]] = {}
        self.stored_match: dict[str, str] = {}  # channel id -> its value as matched (E.164 for phones)
        self.priorities: dict[str, list[int]] = {}
        # The shared rules, asked about each planned write with one cache for the whole import
        # (the records read here are handed to it, so asking reads nothing more).
        self.rules = WriteQuestions(store)
        self.organisations_called: dict[str, list[Organisation]] = {}
        self.functions_allowed: set[tuple[str, str]] = set()  # (record id, a row's fields for it) allowed
        if not organisation.create:
            for record in store.list("functions", organisation_id=organisation.record_id):
                fid = record["record_id"]
                self.stored_functions[fid] = record["fields"]
                self.by_name.setdefault(_name_key(record["fields"]["name"] or ""), []).append(fid)
                self.rules.know("functions", record)
            for record in store.list("channels"):
                fields = record["fields"]
                fid = fields["function_id"]
                if fid not in self.stored_functions:
                    continue
                self.rules.know("channels", record)
                cid = record["record_id"]
                self.stored_channels[cid] = fields
                match = _match_text(fields["kind"], fields["value"] or "")
                self.stored_match[cid] = match
                self.by_value.setdefault((fid, match), []).append(cid)
                if fields.get("priority") is not None:
                    self.priorities.setdefault(fid, []).append(fields["priority"])

    def _derived_id(self, identity: str) -> str:
        """A new record's id: random-looking (a version-4 UUID keyed by the plan's seed), yet the
        same each time the plan is made again with the same seed."""
        raw = bytearray(hashlib.blake2b(identity.encode(), digest_size=16, key=self.seed_bytes).digest())
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    # --- which records a row means

    def _function(self, row: _Parsed, header: Callable[[str], str]) -> tuple[Any, str, dict | None]:
        """(identity, record id, stored fields or None) of the row's function."""
        if row.function_key is not None:
            fid = row.function_key
            if fid in self.stored_functions:
                return fid, fid, self.stored_functions[fid]
            self._foreign("functions", fid, header("function_key"), "row.function_key_unknown", row.function_fields)
        name_key = _name_key(row.function_fields["name"])
        found = self.by_name.get(name_key, [])
        if len(found) > 1:
            raise Problem("row.ambiguous_function", {
                "organisation": self.organisation.name, "count": len(found),
                "name": row.function_fields["name"], "column": header("function_key"),
            })
        if found:
            return found[0], found[0], self.stored_functions[found[0]]
        identity = ("new", name_key)
        return identity, self._derived_id(f"function\n{name_key}"), None

    def _foreign(
        self, collection: str, record_id: str, column: str, unknown_key: str, fields: dict[str, Any]
    ) -> None:
        """A key of no record of this organisation: that it is gone, or the rules' refusal of
        updating it with ``fields``, or whose it is."""
        record = self.store.get(collection, record_id)
        if record is None:
            raise Problem(unknown_key, {"column": column})
        if record["deleted"]:
            raise Problem("row.key_deleted", {"column": column})
        self._allowed(collection, "update", record_id, fields)
        owner_id = record["fields"].get("organisation_id")
        if collection == "channels":
            function = self.store.get("functions", record["fields"].get("function_id"))
            owner_id = function["fields"].get("organisation_id") if function else None
        owner = self.store.get("organisations", owner_id) if owner_id else None
        raise Problem("row.key_other_organisation", {
            "column": column, "organisation": owner["fields"]["name"] if owner else "?",
            "allowed": self.organisation.name,
        })

    def _channel(
        self, function: Any, function_id: str, stored: bool, channel: _Channel, header: Callable[[str], str]
    ) -> tuple[Any, str, dict | None]:
        if channel.key is not None:
            cid = channel.key
            current = self.stored_channels.get(cid)
            if current is None:
                self._foreign("channels", cid, header("channel_key"), "row.channel_key_unknown", _written(channel))
            if current["function_id"] != function_id:
                owner = self.stored_functions.get(current["function_id"], {})
                raise Problem("row.channel_key_elsewhere", {
                    "column": header("channel_key"), "function": owner.get("name", "?"),
                })
            return cid, cid, current
        if stored:
            found = self.by_value.get((function_id, channel.match), [])
            if len(found) > 1:
                raise Problem("row.ambiguous_channel", {
                    "function": self.stored_functions[function_id]["name"], "count": len(found),
                    "value": shown(channel.value), "column": header("channel_key"),
                })
            if found:
                return found[0], found[0], self.stored_channels[found[0]]
        identity = ("new", function, channel.match)
        return identity, self._derived_id(f"channel\n{function}\n{channel.match}"), None

    # --- what the rules say

    def _allowed(self, collection: str, op: str, record_id: str | None, fields: dict[str, Any]) -> None:
        """The shared rules' refusal of one planned write, in their words (a standalone vault:
        everything is allowed)."""
        permission = self.rules.may_write(collection, op, record_id, fields)
        if not permission:
            raise Problem("row.not_allowed", {"reason": Later(permission.words)})

    def _other_organisation(self, row: _Parsed) -> None:
        """A row whose Organisation cell names another organisation than the import's: it would
        write a function of that one (asked of the rules when the vault knows it)."""
        if not self.rules.standalone:
            text = row.organisation or ""
            if text not in self.organisations_called:
                self.organisations_called[text] = find_organisations(self.store, text)
            named = self.organisations_called[text]
            if len(named) == 1:
                fields = {n: v for n, v in row.function_fields.items() if v is not None}
                self._allowed("functions", "create", None, {**fields, "organisation_id": named[0].record_id})
        raise Problem("row.other_organisation", {"organisation": row.organisation, "allowed": self.organisation.name})

    def _ask_rules(
        self, row: _Parsed, fid: str, current: dict | None,
        channels: list[tuple[Any, str, dict | None, _Channel]],
    ) -> None:
        """Each write the row plans (its function's create or update, each channel's), asked
        with the fields it writes; a row that changes nothing plans no write. The rows of one
        function usually repeat its fields: an allowed question is not asked again."""
        if self.rules.standalone:
            return
        asked = (fid, repr(sorted(row.function_fields.items(), key=lambda item: item[0])))
        if asked not in self.functions_allowed:
            if current is None:
                fields = {**row.function_fields, "organisation_id": self.organisation.record_id}
                self._allowed("functions", "create", None, fields)
                self.rules.planned("functions", fid, fields)  # its new channels hang on it
            else:
                changed = _changed(current, row.function_fields)
                if changed:
                    self._allowed("functions", "update", fid, changed)
            self.functions_allowed.add(asked)
        for _, cid, ccurrent, channel in channels:
            if ccurrent is None:
                self._allowed("channels", "create", None, {**_written(channel), "function_id": fid})
                continue
            changed = _channel_changed(ccurrent, self.stored_match[cid], channel)
            if changed:
                self._allowed("channels", "update", cid, changed)

    # --- one row

    def add(self, row: _Parsed, header: Callable[[str], str] | None = None) -> None:
        header = header or (lambda column: Later(COLUMNS_BY_ID[column].title))
        if row.organisation is not None and fold(row.organisation) not in self.words and row.organisation not in self.words:
            self._other_organisation(row)
        identity, fid, current = self._function(row, header)
        plan = self.functions.get(identity)
        if plan is not None:
            for name, value in row.function_fields.items():
                earlier = plan.fields.get(name)
                if earlier is None or value is None or earlier[0] is None:
                    continue
                same = _name_key(earlier[0]) == _name_key(value) if name == "name" else _same(earlier[0], value)
                if not same:
                    raise Problem("row.contradicts", {
                        "column": header(column_for_field(name)), "value": shown(value), "other": earlier[1],
                        "earlier": shown(earlier[0]), "subject": later("where.subject_function"),
                    })
        resolved: list[tuple[Any, str, dict | None, _Channel]] = []
        repeats: list[_ChannelPlan] = []
        for channel in row.channels:
            cidentity, cid, ccurrent = self._channel(identity, fid, current is not None, channel, header)
            if any(r[0] == cidentity for r in resolved):
                raise Problem("row.same_channel_twice", {"value": shown(channel.value)})
            earlier_channel = self.channels.get(cidentity)
            if earlier_channel is not None:
                self._check_agrees(earlier_channel, channel, header)
                if set(channel.fields) <= set(earlier_channel.channel.fields):
                    repeats.append(earlier_channel)
            resolved.append((cidentity, cid, ccurrent, channel))
        adds_to_function = plan is None or any(
            value is not None and (name not in plan.fields or plan.fields[name][0] is None)
            for name, value in row.function_fields.items()
        )
        if not adds_to_function:
            if row.channels and len(repeats) == len(row.channels):
                raise Problem("row.duplicate", {"other": repeats[0].location})
            if not row.channels and plan.bare_rows:
                raise Problem("row.duplicate", {"other": plan.bare_rows[0]})
        self._ask_rules(row, fid, current, resolved)
        # The row fits: it joins the plan.
        if plan is None:
            plan = self.functions[identity] = _FunctionPlan(fid, current, location=row.location)
        for name, value in row.function_fields.items():
            earlier = plan.fields.get(name)
            if earlier is None or (earlier[0] is None and value is not None):
                plan.fields[name] = (value, row.location)
        if not row.channels:
            plan.bare_rows.append(row.location)
        for cidentity, cid, ccurrent, channel in resolved:
            earlier_channel = self.channels.get(cidentity)
            if earlier_channel is None:
                self.channels[cidentity] = _ChannelPlan(cid, identity, ccurrent, channel, row.location)
            else:  # the same channel again: what this row adds joins it
                for name, value in channel.fields.items():
                    if earlier_channel.channel.fields.get(name) is None:
                        earlier_channel.channel.fields[name] = value
        self.accepted.append((identity, [r[0] for r in resolved]))

    def _check_agrees(self, earlier: _ChannelPlan, channel: _Channel, header: Callable[[str], str]) -> None:
        """A channel named again must not contradict what an earlier row said about it."""
        before = earlier.channel
        pairs = [("kind", before.kind, channel.kind)]
        pairs += [
            (n, before.fields[n], channel.fields[n])
            for n in sorted(set(before.fields) & set(channel.fields))
            if before.fields[n] is not None and channel.fields[n] is not None
        ]
        for name, old, new in pairs:
            if not _same(old, new):
                raise Problem("row.contradicts", {
                    "column": header(column_for_field(name)), "value": shown(new), "other": earlier.location,
                    "earlier": shown(old), "subject": later("where.subject_channel"),
                })

    # --- the plan

    def finish(self, table: Table, state: tuple) -> ImportPlan:
        changes: list[Change] = []
        organisation = self.organisation
        if organisation.create and self.accepted:
            changes.append(Change(
                "create", "organisations", organisation.record_id, {"name": organisation.name}, {}, None, "",
            ))
        function_changes: dict[Any, Change] = {}
        names: dict[Any, str] = {}
        for identity, plan in self.functions.items():
            stated = {name: value for name, (value, _) in plan.fields.items()}
            names[identity] = stated.get("name") or (plan.current or {}).get("name") or ""
            if plan.current is None:
                fields = {"organisation_id": organisation.record_id}
                fields.update({n: v for n, v in stated.items() if v is not None})
                function_changes[identity] = Change("create", "functions", plan.record_id, fields, {}, plan.location, names[identity])
                continue
            changed = _changed(plan.current, stated)
            if changed:
                before = {n: plan.current.get(n) for n in changed}
                function_changes[identity] = Change("update", "functions", plan.record_id, changed, before, plan.location, names[identity])
        channel_changes: dict[Any, Change] = {}
        next_priority: dict[Any, int] = {}
        for identity, plan in self.channels.items():
            channel = plan.channel
            name = names.get(plan.function, "")
            if plan.current is None:
                fields = {"function_id": self.functions[plan.function].record_id, "kind": channel.kind, "value": channel.value}
                fields.update({n: v for n, v in channel.fields.items() if v is not None})
                if "priority" not in fields:
                    fields["priority"] = self._next_priority(plan.function, next_priority)
                channel_changes[identity] = Change(
                    "create", "channels", plan.record_id, fields, {}, plan.location, name, (channel.kind, channel.value),
                )
                continue
            current = plan.current
            changed = _channel_changed(current, self.stored_match[plan.record_id], channel)
            if changed:
                before = {n: current.get(n) for n in changed}
                channel_changes[identity] = Change(
                    "update", "channels", plan.record_id, changed, before, plan.location, name,
                    (current["kind"], current["value"] or ""),
                )
        for change in (*function_changes.values(), *channel_changes.values()):
            if change.op == "create":
                changes.append(change)
        for change in (*function_changes.values(), *channel_changes.values()):
            if change.op == "update":
                changes.append(change)
        unchanged = sum(
            1 for fidentity, cidentities in self.accepted
            if fidentity not in function_changes and not any(c in channel_changes for c in cidentities)
        )
        named_functions = {p.record_id for p in self.functions.values() if p.current is not None}
        named_channels = {p.record_id for p in self.channels.values() if p.current is not None}
        absent = {
            "functions": len(set(self.stored_functions) - named_functions),
            "channels": len(set(self.stored_channels) - named_channels),
        }
        return ImportPlan(table, organisation, self.seed, state, changes, self.refused, unchanged, absent)

    def _next_priority(self, function: Any, next_priority: dict[Any, int]) -> int:
        """A new channel with no stated priority comes after the function's others."""
        if function not in next_priority:
            fid = self.functions[function].record_id
            known = list(self.priorities.get(fid, []))
            known += [
                p.channel.fields["priority"] for p in self.channels.values()
                if p.function == function and p.channel.fields.get("priority") is not None
            ]
            next_priority[function] = max(known, default=0)
        next_priority[function] += 1
        return next_priority[function]


def column_for_field(field_name: str) -> str:
    for column in COLUMNS_BY_ID.values():
        if column.field == field_name and column.level in (FUNCTION, CHANNEL):
            return column.id
    return field_name
