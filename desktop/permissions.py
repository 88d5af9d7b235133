""""May I edit this?" on the desktop: the shared write rules (sync/rules.py) asked with facts from the local copy.

The server enforces the same table on every pushed change; asking it here first lets the window
offer only the edits that will be accepted, and say whose record it is when not ("Skrivskyddad:
ägs av Trafikverket"). The answer can only be as fresh as the local copy: a mandate granted on
the server since the last sync is not known yet, and the server stays the judge.

Who asks: an enrolled device is its organisation with the role the server gave it at
enrolment. A standalone vault (the demo region, or one never enrolled) has no organisation and
no server to answer to: everything in it is the user's own local copy, so every edit the
schema allows is allowed, and nothing of it leaves the computer.

A record created on this device and not yet synced has no ``owner_org`` yet (the server sets it
from the creating device): it is the device's own organisation's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.i18n import tr
from sync.rules import Actor, Decision, Reason, RecordView, convenor_organisation, decide
from sync.rules import may_edit as rules_may_edit

# Meta keys written at enrolment (desktop.syncer.engine owns them; repeated here as plain
# strings so that asking the rules does not import the sync engine and its HTTP client).
_META_ORGANISATION_ID = "sync.organisation_id"
_META_ROLE = "sync.role"
_META_DEVICE_ID = "sync.device_id"


def local_actor(store: Any) -> Actor | None:
    """This device as the rules see it, or None for a standalone vault."""
    if not store.get_meta(_META_DEVICE_ID):
        return None
    organisation = store.get_meta(_META_ORGANISATION_ID)
    role = store.get_meta(_META_ROLE) or "member"
    if not organisation:
        return None
    # The server gives the regional_admin role only to devices of an organisation flagged
    # regional administrator, so the role alone says it.
    return Actor(str(organisation), str(role), organisation_is_regional_admin=role == "regional_admin")


class LocalFacts:
    """sync.rules.Facts answered from the local store (one instance per question, per view or
    per batch of writes: it caches what it read)."""

    def __init__(self, store: Any, own_organisation: str | None) -> None:
        self._store = store
        self._own = own_organisation or ""
        self._records: dict[tuple[str, str], RecordView | None] = {}
        self._known: dict[tuple[str, str], dict[str, Any]] = {}  # rows handed in, not yet asked about
        self._forums: dict[str, frozenset[str]] = {}

    def know(self, collection: str, record_id: str, row: dict[str, Any]) -> None:
        """A record the caller has read already (``Store.get``'s shape), or one it is about to
        create (``{"fields": …}``: it is this device's organisation's, as a new record is)."""
        key = (collection, str(record_id))
        self._records.pop(key, None)
        self._known[key] = row

    def record(self, collection: str, record_id: str | None) -> RecordView | None:
        if not record_id:
            return None
        key = (collection, str(record_id))
        if key not in self._records:
            row = self._known.pop(key, None)
            if row is None:
                row = self._store.get(collection, str(record_id))
            self._records[key] = None if row is None else self.view(row)
        return self._records[key]

    def view(self, row: dict[str, Any]) -> RecordView:
        """A stored record (``Store.get``'s shape) as the rules read it."""
        return RecordView(
            owner_org=row.get("owner_org") or self._own,
            values=row.get("fields") or {},
            deleted=bool(row.get("deleted")),
        )

    def forum_organisations(self, forum_id: str) -> frozenset[str]:
        if forum_id not in self._forums:
            organisations: set[str] = set()
            function_ids = [m["fields"]["function_id"] for m in self._store.list("mandates", forum_id=forum_id)]
            for function in self._store.get_many("functions", function_ids):
                organisations.add(function.get("owner_org") or self._own)
            convenor = convenor_organisation(self, forum_id)
            if convenor:
                organisations.add(convenor)
            self._forums[forum_id] = frozenset(organisations)
        return self._forums[forum_id]


@dataclass(frozen=True)
class Permission:
    """The answer for a person: allowed, or why not in words (and whose record it is).

    ``text`` is in the language of the moment it was asked; ``words()`` makes it again in the
    language of the moment it is shown (for answers kept and shown later, as an import's
    refused rows are)."""

    allowed: bool
    reason: Reason | None = None
    owner_org: str | None = None
    field: str | None = None
    text: str = ""
    owner_name: str | None = None

    def __bool__(self) -> bool:
        return self.allowed

    def words(self) -> str:
        return "" if self.allowed else _words(self.reason, self.owner_name)


def _words(reason: Reason | None, owner: str | None) -> str:
    """The refusal as a person reads it: "Skrivskyddad: ägs av Trafikverket." and why."""
    if reason is Reason.APPEND_ONLY:
        return tr("Read-only: journal entries are never changed; write a new entry that corrects it.")
    if reason is Reason.SERVER_ONLY:
        return tr("Read-only: made by the server.")
    if reason is Reason.REGIONAL_ADMIN_ONLY:
        return tr("Read-only: kept by the regional administrator.")
    if reason is Reason.NOT_CONVENOR:
        return tr("Read-only: only the regional administrator or the forum's convenor may do this.")
    if reason is Reason.NOT_FORUM_MEMBER:
        return tr("Read-only: only organisations that sit in the forum may write here.")
    if reason is Reason.VISIBILITY_OWNER_ONLY:
        return tr("Only {organisation} decides who may see this.", organisation=owner or "?")
    if owner:
        return tr("Read-only: owned by {organisation}.", organisation=owner)
    return tr("Read-only: owned by another organisation.")


def _organisation_name(store: Any, organisation_id: str | None) -> str | None:
    if not organisation_id:
        return None
    row = store.get("organisations", organisation_id)
    if row is None or row.get("deleted"):
        return None
    fields = row["fields"]
    return fields.get("name") or fields.get("short_name")


def _answer(decision: Decision, store: Any, names: dict[str | None, str | None] | None = None) -> Permission:
    """The decision for a person; ``names`` caches organisation names across answers."""
    if decision.allowed:
        return Permission(True, owner_org=decision.owner_org)
    owner = decision.owner_org
    names = {} if names is None else names
    if owner not in names:
        names[owner] = _organisation_name(store, owner)
    name = names[owner]
    return Permission(
        False, decision.reason, owner, decision.field, _words(decision.reason, name), owner_name=name,
    )


def may_edit(store: Any, collection: str, record_id: str | None = None) -> Permission:
    """May this device change the record (None: create one in ``collection``)?"""
    actor = local_actor(store)
    if actor is None:
        return Permission(True)
    facts = LocalFacts(store, actor.organisation_id)
    record = facts.record(collection, record_id) if record_id is not None else None
    if record_id is not None and record is None:
        return Permission(True)  # nothing to ask about; the store says it does not exist
    return _answer(rules_may_edit(actor, collection, record, facts), store)


def may_write(
    store: Any, collection: str, op: str, record_id: str | None, fields: dict[str, Any]
) -> Permission:
    """May this device do ``op`` ("create", "update", "delete") setting ``fields``? Asked
    with the values, so that references decide (a journal entry's activation, a channel's
    function, an activation's forum)."""
    return WriteQuestions(store).may_write(collection, op, record_id, fields)


class WriteQuestions:
    """``may_write`` for many writes of one piece of work (an import's rows): the actor is read
    once, and one LocalFacts (with its cache) and the organisations' names serve every question.

    ``know`` hands it records the caller has read already; ``planned`` a record the work will
    create before it is stored (so that a new function's channels may hang on it). A standalone
    vault (``standalone``) is allowed everything, as ``may_write`` says.
    """

    def __init__(self, store: Any) -> None:
        self._store = store
        self.actor = local_actor(store)
        self.facts = LocalFacts(store, self.actor.organisation_id) if self.actor is not None else None
        self._names: dict[str | None, str | None] = {}

    @property
    def standalone(self) -> bool:
        return self.actor is None

    def know(self, collection: str, row: dict[str, Any]) -> None:
        if self.facts is not None:
            self.facts.know(collection, row["record_id"], row)

    def planned(self, collection: str, record_id: str, fields: dict[str, Any]) -> None:
        if self.facts is not None:
            self.facts.know(collection, record_id, {"fields": fields})

    def may_write(self, collection: str, op: str, record_id: str | None, fields: dict[str, Any]) -> Permission:
        if self.actor is None or self.facts is None:
            return Permission(True)
        current = self.facts.record(collection, record_id) if record_id is not None else None
        decision = decide(self.actor, collection, op, current, fields, self.facts)  # type: ignore[arg-type]
        return _answer(decision, self._store, self._names)
