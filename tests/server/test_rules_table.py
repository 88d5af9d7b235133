"""sync.rules on its own: the table, the reasons and owners it answers, and visibility folding.

Facts come from plain dicts here (as a client's local copy would supply them); the server's
enforcement of the same rules is tests/server/test_server_authorization.py's matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from sync import rules
from sync.records import COLLECTIONS, WriteRule
from sync.rules import NOBODY, Actor, Reason, RecordView, decide, may_edit, refused_outright

LST, SOS, KOM = "org-lst", "org-sos", "org-kom"
RA = Actor(LST, "regional_admin", True)
LST_MEMBER = Actor(LST, "member", True)
SOS_MEMBER = Actor(SOS, "member")
SOS_ADMIN = Actor(SOS, "org_admin")
KOM_MEMBER = Actor(KOM, "member")
FAKE_RA = Actor(KOM, "regional_admin", False)  # the role without the organisation's flag


@dataclass
class Facts:
    """A region in dicts: (collection, record_id) -> RecordView; forum -> organisations."""

    records: dict[tuple[str, str], RecordView] = field(default_factory=dict)
    forums: dict[str, frozenset[str]] = field(default_factory=dict)

    def record(self, collection, record_id):
        return self.records.get((collection, record_id))

    def forum_organisations(self, forum_id):
        return self.forums.get(forum_id, frozenset())

    def add(self, key: tuple[str, str], owner: str, **values) -> RecordView:
        view = RecordView(owner, values, visible_to_org=owner if values.get("visibility") == "internal" else None)
        self.records[key] = view
        return view


@pytest.fixture
def facts() -> Facts:
    f = Facts()
    f.add(("organisations", SOS), SOS, name="SOS Alarm")
    f.add(("functions", "fn-sos"), SOS, organisation_id=SOS, name="TiB")
    f.add(("functions", "fn-kom"), KOM, organisation_id=KOM, name="TiB")
    f.add(("channels", "ch-sos"), SOS, function_id="fn-sos", kind="phone", value="112")
    f.add(("forums", "forum"), LST, name="RSS", level="coordinating", convenor_function_id="fn-sos")
    f.add(("routines", "r-forum"), LST, title="Sammankalla", forum_id="forum")
    f.add(("routine_steps", "s-forum"), LST, routine_id="r-forum", position="a0", text="t")
    f.add(("routines", "r-sos"), SOS, title="Larm", organisation_id=SOS)
    f.add(("activations", "act"), LST, forum_id="forum", reason="Storm")
    f.add(("log_entries", "log"), SOS, activation_id="act", text="t")
    f.add(("conflicts", "conflict"), SOS, collection="functions", record_id="fn-sos", field="name")
    f.forums["forum"] = frozenset({SOS, LST})
    return f


# --- the table itself -------------------------------------------------------------------------

def test_every_write_rule_has_checks_for_every_operation():
    assert set(rules.RULES) == set(WriteRule)
    for rule in rules.RULES.values():
        for op in rules.OPS:
            assert rule.checks(op), (rule, op)
    assert {c.write_rule for c in COLLECTIONS.values()} <= set(rules.RULES)


def test_the_table_reads_as_the_rules_say():
    table = rules.RULES
    assert table[WriteRule.REGIONAL_ADMIN].checks("update") == (rules.RegionalAdmin(),)
    assert table[WriteRule.FORUM_MEMBER].create == (rules.ForumMember(),)
    assert [c.reason for c in table[WriteRule.FORUM_MEMBER].update + table[WriteRule.FORUM_MEMBER].delete] == [
        Reason.APPEND_ONLY, Reason.APPEND_ONLY,
    ]
    assert table[WriteRule.ACTIVATION].visibility == ()  # the convenor and the regional admin count as owners
    assert table[WriteRule.OWNER].visibility[0].reason is Reason.VISIBILITY_OWNER_ONLY


@pytest.mark.parametrize(
    "collection, op, reason",
    [
        ("organisations", "create", Reason.SERVER_ONLY),
        ("organisations", "delete", Reason.SERVER_ONLY),
        ("conflicts", "create", Reason.SERVER_ONLY),
        ("conflicts", "delete", Reason.SERVER_ONLY),
        ("log_entries", "update", Reason.APPEND_ONLY),
        ("callout_events", "delete", Reason.APPEND_ONLY),
    ],
)
def test_operations_nobody_may_do_are_refused_outright(collection, op, reason):
    refusal = refused_outright(collection, op)
    assert refusal is not None and refusal.reason is reason and refusal.detail


def test_operations_open_to_someone_are_not_refused_outright():
    for collection in ("functions", "channels", "forums", "routines", "activations"):
        for op in rules.OPS:
            assert refused_outright(collection, op) is None
    assert refused_outright("log_entries", "create") is None


# --- decisions, with reasons and owners --------------------------------------------------------

def test_a_member_may_edit_its_own_function_and_channel(facts: Facts):
    for collection, record_id in (("functions", "fn-sos"), ("channels", "ch-sos")):
        decision = may_edit(SOS_MEMBER, collection, facts.record(collection, record_id), facts)
        assert decision and decision.owner_org == SOS and decision.reason is None


def test_another_organisation_s_function_is_not_owned(facts: Facts):
    decision = may_edit(KOM_MEMBER, "functions", facts.record("functions", "fn-sos"), facts)
    assert not decision
    assert (decision.reason, decision.owner_org) == (Reason.NOT_OWNER, SOS)
    assert decision.detail == "this functions record belongs to another organisation"


def test_a_channel_answers_with_its_function_s_owner(facts: Facts):
    decision = may_edit(KOM_MEMBER, "channels", facts.record("channels", "ch-sos"), facts)
    assert (decision.allowed, decision.reason, decision.field, decision.owner_org) == (
        False, Reason.NOT_OWNER, "function_id", SOS,
    )
    moved = decide(SOS_MEMBER, "channels", "update", facts.record("channels", "ch-sos"), {"function_id": "fn-kom"}, facts)
    assert (moved.reason, moved.field, moved.owner_org) == (Reason.NOT_OWNER, "function_id", KOM)
    created = decide(KOM_MEMBER, "channels", "create", None, {"function_id": "fn-sos", "kind": "phone", "value": "1"}, facts)
    assert (created.reason, created.owner_org) == (Reason.NOT_OWNER, SOS)


def test_forums_and_forum_routines_are_the_regional_administrator_s(facts: Facts):
    for actor in (SOS_ADMIN, LST_MEMBER, FAKE_RA):
        decision = may_edit(actor, "forums", facts.record("forums", "forum"), facts)
        assert decision.reason is Reason.REGIONAL_ADMIN_ONLY and decision.owner_org == LST
        step = may_edit(actor, "routine_steps", facts.record("routine_steps", "s-forum"), facts)
        assert (step.reason, step.field) == (Reason.REGIONAL_ADMIN_ONLY, "routine_id")
    assert may_edit(RA, "forums", facts.record("forums", "forum"), facts)
    assert may_edit(RA, "routine_steps", facts.record("routine_steps", "s-forum"), facts)
    assert not may_edit(RA, "routines", facts.record("routines", "r-sos"), facts)


def test_activations_are_the_convenor_s_and_the_regional_administrator_s(facts: Facts):
    activation = facts.record("activations", "act")
    assert may_edit(SOS_MEMBER, "activations", activation, facts)  # SOS owns the convenor function
    assert may_edit(RA, "activations", activation, facts)
    refused = may_edit(KOM_MEMBER, "activations", activation, facts)
    assert (refused.reason, refused.field, refused.owner_org) == (Reason.NOT_CONVENOR, "forum_id", SOS)
    assert may_edit(SOS_MEMBER, "activations", activation, facts, field="visibility")


def test_journal_entries_need_a_seat_in_the_forum(facts: Facts):
    entry = {"activation_id": "act", "at": "2026-11-27T10:00:00Z", "kind": "information", "text": "t"}
    assert decide(SOS_MEMBER, "log_entries", "create", None, entry, facts)
    assert decide(RA, "log_entries", "create", None, entry, facts)
    refused = decide(KOM_MEMBER, "log_entries", "create", None, entry, facts)
    assert (refused.reason, refused.field) == (Reason.NOT_FORUM_MEMBER, "activation_id")
    changed = may_edit(SOS_MEMBER, "log_entries", facts.record("log_entries", "log"), facts)
    assert changed.reason is Reason.APPEND_ONLY and changed.owner_org == SOS


def test_conflicts_are_resolved_by_their_owner_in_resolvable_fields_only(facts: Facts):
    conflict = facts.record("conflicts", "conflict")
    assert decide(SOS_MEMBER, "conflicts", "update", conflict, {"resolved": True}, facts)
    assert decide(KOM_MEMBER, "conflicts", "update", conflict, {"resolved": True}, facts).reason is Reason.NOT_OWNER
    refused = may_edit(SOS_MEMBER, "conflicts", conflict, facts, field="kept_value")
    assert (refused.reason, refused.field) == (Reason.SERVER_ONLY, "kept_value")


def test_visibility_is_the_owner_s_even_where_others_may_write(facts: Facts):
    facts.add(("forums", "forum-msb"), "org-msb", name="Nationellt", level="directing")
    assert may_edit(RA, "forums", facts.record("forums", "forum-msb"), facts)
    refused = may_edit(RA, "forums", facts.record("forums", "forum-msb"), facts, field="visibility")
    assert (refused.reason, refused.field, refused.owner_org) == (Reason.VISIBILITY_OWNER_ONLY, "visibility", "org-msb")
    assert decide(RA, "forums", "create", None, {"name": "n", "level": "directing", "visibility": "internal"}, facts)


def test_another_organisation_s_internal_record_is_not_written(facts: Facts):
    hidden = facts.add(("functions", "fn-hidden"), SOS, organisation_id=SOS, name="x", visibility="internal")
    refused = may_edit(KOM_MEMBER, "functions", hidden, facts)
    assert (refused.reason, refused.owner_org) == (Reason.INTERNAL, SOS)
    assert may_edit(SOS_MEMBER, "functions", hidden, facts)


def test_a_function_names_the_writer_s_own_organisation(facts: Facts):
    refused = decide(SOS_MEMBER, "functions", "create", None, {"organisation_id": KOM, "name": "x"}, facts)
    assert (refused.reason, refused.field, refused.owner_org) == (Reason.NOT_OWNER, "organisation_id", KOM)
    assert decide(SOS_MEMBER, "functions", "create", None, {"organisation_id": SOS, "name": "x"}, facts)
    assert may_edit(SOS_MEMBER, "organisations", facts.record("organisations", SOS), facts)
    assert not may_edit(KOM_MEMBER, "organisations", facts.record("organisations", SOS), facts)


def test_asking_about_a_new_record_in_general(facts: Facts):
    assert not may_edit(SOS_MEMBER, "forums", None, facts)
    assert may_edit(RA, "forums", None, facts)
    assert may_edit(SOS_MEMBER, "functions", None, facts).owner_org == SOS
    assert may_edit(SOS_MEMBER, "conflicts", None, facts).reason is Reason.SERVER_ONLY


def test_reason_codes_are_stable_strings():
    assert {r.value for r in Reason} == {
        "internal", "not-owner", "regional-admin-only", "not-convenor", "not-forum-member",
        "append-only", "server-only", "visibility-owner-only",
    }


# --- visibility folding -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "owner, own, parent, expected",
    [
        (SOS, "regional", None, None),
        (SOS, None, None, None),
        (SOS, "internal", None, SOS),
        (SOS, "regional", SOS, SOS),
        (SOS, "internal", SOS, SOS),
        (SOS, "regional", KOM, KOM),
        (SOS, "internal", KOM, NOBODY),
        (SOS, "internal", NOBODY, NOBODY),
    ],
)
def test_visible_to_folds_a_record_s_visibility_with_its_parent_s(owner, own, parent, expected):
    assert rules.visible_to(owner, own, parent) == expected


def test_visibility_parents():
    values = {"function_id": "fn", "routine_id": "r", "collection": "channels", "record_id": "ch"}
    assert rules.visibility_parent("channels", values.get) == ("functions", "fn")
    assert rules.visibility_parent("routine_steps", values.get) == ("routines", "r")
    assert rules.visibility_parent("conflicts", values.get) == ("channels", "ch")
    assert rules.visibility_parent("functions", values.get) is None
    assert rules.visibility_parent("channels", {}.get) is None
