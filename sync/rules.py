"""Who may write what, and who may read it: SYNC.md rule 6 and its visibility rules as one table.

The server enforces these rules on every pushed change; a client asks the same rules before it
offers an edit ("May I edit this?"), so both sides give the same answer for the same facts.
Nothing here touches a database: the caller supplies what the rules need to know through
:class:`Facts` (the server from its tables, with caches per push; the desktop from its local
copy) and gets a :class:`Decision` with a machine-readable reason and the owning organisation.

The rules are data: :data:`RULES` maps each collection's :class:`~sync.records.WriteRule` to
the checks of each operation, in order; the first check that refuses decides. Every check is a
small frozen dataclass, so the table can be read, printed and compared in tests.

Visibility (SYNC.md "Precise points"): an ``internal`` record is read in full only by its owner
organisation, and the rule is inherited — a record whose parent is internal (a function's
channels, a routine's steps, a conflict's record) is internal for every other organisation.
:func:`visible_to` folds a record's own visibility with its parent's; :func:`visibility_parent`
says which record is the parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Literal, Mapping, Protocol

from sync.records import COLLECTIONS, Collection, WriteRule

Op = Literal["create", "update", "delete"]
OPS: tuple[Op, ...] = ("create", "update", "delete")

# Fields of a conflict record its owner may set (resolving it); the server sets the rest.
CONFLICT_RESOLVABLE = frozenset({"resolved", "resolution_note", "visibility"})


class Reason(str, Enum):
    """Why a write is refused; the value is the stable code a client words for its user."""

    INTERNAL = "internal"  # another organisation's internal record (own or inherited)
    NOT_OWNER = "not-owner"  # the record (or the record it hangs on) belongs to another organisation
    REGIONAL_ADMIN_ONLY = "regional-admin-only"
    NOT_CONVENOR = "not-convenor"  # activations: the regional administrator or the convenor's organisation
    NOT_FORUM_MEMBER = "not-forum-member"  # journals: organisations with a mandate in the forum
    APPEND_ONLY = "append-only"
    SERVER_ONLY = "server-only"  # made, removed or set by the server (or its administrator)
    VISIBILITY_OWNER_ONLY = "visibility-owner-only"


# --- who asks, and what the rules need to know -----------------------------------------------

@dataclass(frozen=True)
class Actor:
    """The writer: its organisation and its device's role."""

    organisation_id: str
    role: str  # member, org_admin or regional_admin
    organisation_is_regional_admin: bool = False

    @property
    def regional_admin(self) -> bool:
        """A regional_admin device of an organisation flagged regional administrator."""
        return self.role == "regional_admin" and self.organisation_is_regional_admin


class RecordFacts(Protocol):
    """What the rules read of one stored record (a tombstone too)."""

    @property
    def owner_org(self) -> str: ...

    @property
    def deleted(self) -> bool: ...

    def value(self, name: str) -> Any:
        """The current value of a field (None when unset, or for a tombstone)."""

    def readable_by(self, organisation_id: str) -> bool:
        """Whether that organisation sees the record in full (not another's internal record)."""


class Facts(Protocol):
    """What the rules look up; the server answers from its tables, a client from its copy."""

    def record(self, collection: str, record_id: str | None) -> RecordFacts | None:
        """The record as it stands (a tombstone too), or None when it never existed."""

    def forum_organisations(self, forum_id: str) -> frozenset[str]:
        """Organisations owning a (not deleted) function with a mandate in the forum, or its convenor."""


@dataclass(frozen=True)
class RecordView:
    """A plain RecordFacts, for callers whose records are not objects of their own."""

    owner_org: str
    values: Mapping[str, Any]
    deleted: bool = False
    visible_to_org: str | None = None  # see visible_to(): None is everyone

    def value(self, name: str) -> Any:
        return None if self.deleted else self.values.get(name)

    def readable_by(self, organisation_id: str) -> bool:
        return self.visible_to_org is None or self.visible_to_org == organisation_id


def convenor_organisation(facts: Facts, forum_id: str | None) -> str | None:
    """The organisation owning the forum's (not deleted) convenor function, if any."""
    forum = facts.record("forums", forum_id) if forum_id else None
    convenor = forum.value("convenor_function_id") if forum is not None else None
    function = facts.record("functions", convenor) if convenor else None
    if function is None or function.deleted:
        return None
    return function.owner_org


# --- the answer ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    """Allowed or not; if not, why (``reason``), in words (``detail``, English, for logs and the
    wire), the field that decides (``field``), and the organisation that owns what was asked
    about (``owner_org``), so a window can say whose record it is."""

    allowed: bool
    reason: Reason | None = None
    detail: str = ""
    field: str | None = None
    owner_org: str | None = None

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True)
class Question:
    """One write asked about: the checks read it."""

    actor: Actor
    collection: Collection
    op: Op
    current: RecordFacts | None
    fields: Mapping[str, Any]
    facts: Facts

    def new_value(self, name: str) -> Any:
        """The field's value after the write: what it sets, else what the record holds."""
        if name in self.fields:
            return self.fields[name]
        return self.current.value(name) if self.current is not None else None

    def refuse(self, reason: Reason, detail: str, field: str | None = None, owner_org: str | None = None) -> Decision:
        if owner_org is None and self.current is not None:
            owner_org = self.current.owner_org
        return Decision(False, reason, detail.replace("{c}", self.collection.name), field, owner_org)


# --- the checks (each: None when it passes, else the refusal) --------------------------------

@dataclass(frozen=True)
class Nobody:
    """Nobody may: the operation is not open to devices at all."""

    reason: Reason
    detail: str

    def __call__(self, q: Question) -> Decision | None:
        return q.refuse(self.reason, self.detail)


@dataclass(frozen=True)
class Owner:
    """The record's owner organisation."""

    detail: str = "this {c} record belongs to another organisation"
    reason: Reason = Reason.NOT_OWNER
    field: str | None = None

    def __call__(self, q: Question) -> Decision | None:
        if q.current is not None and q.current.owner_org != q.actor.organisation_id:
            return q.refuse(self.reason, self.detail, self.field)
        return None


@dataclass(frozen=True)
class RegionalAdmin:
    detail: str = "{c} are written by the regional administrator"

    def __call__(self, q: Question) -> Decision | None:
        return None if q.actor.regional_admin else q.refuse(Reason.REGIONAL_ADMIN_ONLY, self.detail)


@dataclass(frozen=True)
class OwnOrganisationRef:
    """A reference to an organisation (``field``) that is set must name the writer's own —
    unless the record is tied to a forum (``unless`` set after the write)."""

    field: str
    detail: str
    unless: str | None = None

    def __call__(self, q: Question) -> Decision | None:
        if self.unless is not None and q.new_value(self.unless):
            return None
        value = q.fields.get(self.field)
        if value is not None and value != q.actor.organisation_id:
            return q.refuse(Reason.NOT_OWNER, self.detail, self.field, owner_org=value)
        return None


@dataclass(frozen=True)
class ForumRoutine:
    """A routine tied to a forum (before or after the write) is the regional administrator's."""

    def __call__(self, q: Question) -> Decision | None:
        if q.op != "delete":
            tied = q.new_value("forum_id") or (q.current is not None and q.current.value("forum_id"))
        else:
            tied = q.current is not None and q.current.value("forum_id")
        if tied and not q.actor.regional_admin:
            return q.refuse(
                Reason.REGIONAL_ADMIN_ONLY, "forum routines are written by the regional administrator", "forum_id"
            )
        return None


@dataclass(frozen=True)
class OwnerUnlessForumRoutine:
    """An organisation's own routine (no forum) is written by its owner."""

    def __call__(self, q: Question) -> Decision | None:
        if q.current is not None and not q.current.value("forum_id"):
            return Owner("this routine belongs to another organisation")(q)
        return None


@dataclass(frozen=True)
class OwnerOrParentWriter:
    """The owner organisation; for a record hanging on a parent (the collection's
    ``owner_ref``: a channel on its function, a step on its routine), whoever may write the
    parent it hangs on now. A record whose parent is gone falls back to its own owner."""

    def __call__(self, q: Question) -> Decision | None:
        ref = q.collection.owner_ref
        if q.current is None:
            return None
        if ref is None:
            return Owner()(q)
        parent_collection = q.collection.fields[ref].ref
        parent = q.facts.record(parent_collection, q.current.value(ref))
        if parent is None or parent.deleted:
            return Owner()(q)
        verdict = may_write_record(q.actor, parent_collection, parent, q.facts)
        if not verdict:
            return q.refuse(
                verdict.reason or Reason.NOT_OWNER,
                f"the {parent_collection} record of this {{c}} record belongs to another organisation",
                ref, owner_org=parent.owner_org,
            )
        return None


@dataclass(frozen=True)
class NewParentWritable:
    """A parent the write names (through the collection's ``owner_ref``) must be one the
    writer may write."""

    def __call__(self, q: Question) -> Decision | None:
        ref = q.collection.owner_ref
        target = q.fields.get(ref) if ref is not None else None
        if target is None:
            return None
        parent_collection = q.collection.fields[ref].ref
        parent = q.facts.record(parent_collection, target)
        verdict = may_write_record(q.actor, parent_collection, parent, q.facts) if parent is not None else None
        if not verdict:
            return q.refuse(
                (verdict.reason if verdict is not None else None) or Reason.NOT_OWNER,
                f"{ref} must name a {parent_collection} record your organisation may write",
                ref, owner_org=parent.owner_org if parent is not None else None,
            )
        return None


@dataclass(frozen=True)
class ConvenorOrRegionalAdmin:
    """Activations: the regional administrator, or the organisation of the forum's convenor —
    of the forum the activation is in now, and of the one it moves to."""

    def __call__(self, q: Question) -> Decision | None:
        if q.actor.regional_admin:
            return None
        forums = []
        if q.current is not None:
            forums.append(q.current.value("forum_id"))
        if q.op != "delete" and "forum_id" in q.fields:
            forums.append(q.fields["forum_id"])
        for forum_id in forums:
            convenor = convenor_organisation(q.facts, forum_id)
            if convenor != q.actor.organisation_id:
                return q.refuse(
                    Reason.NOT_CONVENOR,
                    "activations are written by the regional administrator "
                    "or the organisation of the forum's convenor",
                    "forum_id", owner_org=convenor,
                )
        return None


@dataclass(frozen=True)
class ForumMember:
    """Journals of an activation: the regional administrator, or an organisation sitting in the
    activation's forum (a function with a mandate there, or the convenor's)."""

    def __call__(self, q: Question) -> Decision | None:
        if q.actor.regional_admin:
            return None
        activation = q.facts.record("activations", q.new_value("activation_id"))
        forum_id = activation.value("forum_id") if activation is not None else None
        if not forum_id or q.actor.organisation_id not in q.facts.forum_organisations(forum_id):
            return q.refuse(
                Reason.NOT_FORUM_MEMBER,
                "{c} of this activation are written by organisations "
                "with a function holding a mandate in its forum",
                "activation_id",
            )
        return None


@dataclass(frozen=True)
class OnlyFields:
    """Only these fields may be set; the server sets the others."""

    allowed: frozenset[str]
    detail: str = "{field} of a conflict record is set by the server"

    def __call__(self, q: Question) -> Decision | None:
        for name in q.fields:
            if name not in self.allowed:
                return q.refuse(Reason.SERVER_ONLY, self.detail.replace("{field}", str(name)), str(name))
        return None


Check = Callable[[Question], "Decision | None"]


@dataclass(frozen=True)
class Rule:
    """The checks of each operation, in order, and who may change ``visibility`` of a record
    that exists (whoever creates a record owns it, so creating one may always set it)."""

    create: tuple[Check, ...]
    update: tuple[Check, ...]
    delete: tuple[Check, ...]
    visibility: tuple[Check, ...] = (
        Owner("only the owning organisation sets the visibility of its {c} records",
              Reason.VISIBILITY_OWNER_ONLY, "visibility"),
    )

    def checks(self, op: Op) -> tuple[Check, ...]:
        return {"create": self.create, "update": self.update, "delete": self.delete}[op]


_APPEND_ONLY_UPDATE = Nobody(Reason.APPEND_ONLY, "{c} is append-only: an entry cannot be changed; add a new one")
_APPEND_ONLY_DELETE = Nobody(Reason.APPEND_ONLY, "{c} is append-only: entries are never deleted")

_OWN_FUNCTION = OwnOrganisationRef("organisation_id", "a function's organisation_id must be your own organisation")

RULES: Mapping[WriteRule, Rule] = {
    WriteRule.OWN_ORGANISATION: Rule(
        create=(Nobody(Reason.SERVER_ONLY, "organisations are created by the server administrator"),),
        update=(Owner("only the organisation itself may change its record"),),
        delete=(Nobody(Reason.SERVER_ONLY, "organisations are removed by the server administrator"),),
    ),
    # Functions: the owner organisation; organisation_id names the writer's own.
    # Channels and routine steps (owner_ref): whoever may write the parent.
    WriteRule.OWNER: Rule(
        create=(_OWN_FUNCTION, NewParentWritable()),
        update=(OwnerOrParentWriter(), _OWN_FUNCTION, NewParentWritable()),
        delete=(OwnerOrParentWriter(),),
    ),
    WriteRule.REGIONAL_ADMIN: Rule(create=(RegionalAdmin(),), update=(RegionalAdmin(),), delete=(RegionalAdmin(),)),
    WriteRule.ROUTINE: Rule(
        create=(ForumRoutine(),
                OwnOrganisationRef("organisation_id", "a routine's organisation_id must be your own organisation",
                                   unless="forum_id")),
        update=(ForumRoutine(), OwnerUnlessForumRoutine(),
                OwnOrganisationRef("organisation_id", "a routine's organisation_id must be your own organisation",
                                   unless="forum_id")),
        delete=(ForumRoutine(), OwnerUnlessForumRoutine()),
    ),
    # The forum's convenor organisation and the regional administrator count as owners.
    WriteRule.ACTIVATION: Rule(
        create=(ConvenorOrRegionalAdmin(),), update=(ConvenorOrRegionalAdmin(),),
        delete=(ConvenorOrRegionalAdmin(),), visibility=(),
    ),
    WriteRule.FORUM_MEMBER: Rule(
        create=(ForumMember(),), update=(_APPEND_ONLY_UPDATE,), delete=(_APPEND_ONLY_DELETE,),
    ),
    # Report-backs: a forum member records its own organisation's report-back, nobody else's.
    WriteRule.REPORT_BACK: Rule(
        create=(ForumMember(),
                OwnOrganisationRef("organisation_id", "a report-back is recorded by the organisation itself")),
        update=(_APPEND_ONLY_UPDATE,), delete=(_APPEND_ONLY_DELETE,),
    ),
    WriteRule.SERVER: Rule(
        create=(Nobody(Reason.SERVER_ONLY, "conflict records are made by the server"),),
        update=(Owner("only the owner of the record in conflict may resolve it"), OnlyFields(CONFLICT_RESOLVABLE)),
        delete=(Nobody(Reason.SERVER_ONLY, "conflict records are resolved (resolved: true), not deleted"),),
    ),
}


# --- asking ----------------------------------------------------------------------------------

def refused_outright(collection: str | Collection, op: Op) -> Decision | None:
    """The refusal when nobody may do ``op`` on this collection at all (append-only entries,
    records made by the server), before anything about the record or the writer is known."""
    spec = COLLECTIONS[collection] if isinstance(collection, str) else collection
    checks = RULES[spec.write_rule].checks(op)
    if checks and isinstance(checks[0], Nobody):
        return Decision(False, checks[0].reason, checks[0].detail.replace("{c}", spec.name))
    return None


def decide(
    actor: Actor,
    collection: str | Collection,
    op: Op,
    current: RecordFacts | None,
    fields: Mapping[str, Any],
    facts: Facts,
) -> Decision:
    """May ``actor`` do ``op`` to ``current`` (None when creating), setting ``fields``?

    ``fields`` are the values the write sets (already validated); an update that only asks
    "may I edit this record?" passes none. The server refuses with ``forbidden`` exactly when
    this refuses.
    """
    spec = COLLECTIONS[collection] if isinstance(collection, str) else collection
    outright = refused_outright(spec, op)
    if outright is not None:
        return Decision(False, outright.reason, outright.detail,
                        owner_org=current.owner_org if current is not None else None)
    if current is not None and not current.readable_by(actor.organisation_id):
        return Decision(
            False, Reason.INTERNAL, f"this {spec.name} record is internal to another organisation",
            owner_org=current.owner_org,
        )
    question = Question(actor, spec, op, current, fields, facts)
    checks = RULES[spec.write_rule].checks(op)
    if op == "update" and "visibility" in fields:
        checks = checks + RULES[spec.write_rule].visibility
    for check in checks:
        refusal = check(question)
        if refusal is not None:
            return refusal
    owner = current.owner_org if current is not None else actor.organisation_id
    return Decision(True, owner_org=owner)


def may_write_record(actor: Actor, collection: str, record: RecordFacts, facts: Facts) -> Decision:
    """May ``actor`` change this existing record at all (any field but visibility)?"""
    return decide(actor, collection, "update", record, {}, facts)


def may_edit(
    actor: Actor, collection: str, record: RecordFacts | None, facts: Facts, field: str | None = None
) -> Decision:
    """"May I edit this?" — the record (None: may I create one?), or one field of it.

    For a new record the question is about the collection in general: references that decide
    (a channel's function, a journal entry's activation) are asked about with :func:`decide`.
    """
    if record is None:
        return decide(actor, collection, "create", None, {}, facts)
    fields = {field: record.value(field)} if field is not None else {}
    return decide(actor, collection, "update", record, fields, facts)


# --- visibility ------------------------------------------------------------------------------

# Who else may read a record, as stored beside it: None is every organisation; an organisation
# id, only that one; NOBODY, none (a record internal to one organisation whose parent is
# internal to another).
NOBODY = ""

# The parent whose visibility a record inherits: (reference field, parent collection); None as
# the collection means "the collection named in the record's `collection` field" (conflicts).
VISIBILITY_PARENTS: Mapping[str, tuple[str, str | None]] = {
    "channels": ("function_id", "functions"),
    "routine_steps": ("routine_id", "routines"),
    "conflicts": ("record_id", None),
}


def visibility_parent(collection: str, value: Callable[[str], Any]) -> tuple[str, str] | None:
    """(collection, record_id) of the record whose visibility this one inherits, or None."""
    spec = VISIBILITY_PARENTS.get(collection)
    if spec is None:
        return None
    ref, parent_collection = spec
    parent_collection = parent_collection or value("collection")
    record_id = value(ref)
    if not isinstance(parent_collection, str) or not isinstance(record_id, str):
        return None
    return parent_collection, record_id


def visible_to(owner_org: str, own_visibility: str | None, parent_visible_to: str | None) -> str | None:
    """Who reads a record in full: its own visibility folded with its parent's (see NOBODY)."""
    own = owner_org if own_visibility == "internal" else None
    if own is None:
        return parent_visible_to
    if parent_visible_to is None or parent_visible_to == own:
        return own
    return NOBODY
