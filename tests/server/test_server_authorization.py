"""The authorization matrix (SYNC.md rule 6): every role × collection × create/update/delete × target.

Actors: RA = regional_admin of LST (the regional administrator), LM = member of LST, AM/AA =
member/org_admin of A, BM = member of B. In the world below, forum F is convened by A's function
and A and LST hold mandates in it; forum G has no convenor and no mandates. "own"/"other" is a
record of (or referring to) the actor's organisation, or another one's.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from server_support import Dev, Server, make_region, start_server, stop_server

from sync.rules import Reason

ACTORS = ("RA", "LM", "AM", "AA", "BM")
ORG_OF = {"RA": "LST", "LM": "LST", "AM": "A", "AA": "A", "BM": "B"}
OTHER_ORG = {"LST": "A", "A": "B", "B": "A"}
ALL, NONE, RA = frozenset(ACTORS), frozenset(), frozenset({"RA"})
AT = "2026-11-27T10:00:00.000Z"

# (collection, op, target) -> the actors whose change is applied; everyone else: 403 forbidden.
RULES: dict[tuple[str, str, str], frozenset[str]] = {}


def _rule(collection: str, ops: tuple[str, ...], target: str, allowed: frozenset[str]) -> None:
    for op in ops:
        RULES[(collection, op, target)] = allowed


CUD = ("create", "update", "delete")
_rule("organisations", ("create", "delete"), "own", NONE)
_rule("organisations", ("create", "update", "delete"), "other", NONE)
_rule("organisations", ("update",), "own", ALL)
for _c in ("functions", "channels"):
    _rule(_c, CUD, "own", ALL)
    _rule(_c, CUD, "other", NONE)
_rule("forums", CUD, "regional", RA)
_rule("mandates", ("create",), "own", RA)
_rule("mandates", ("create",), "other", RA)
_rule("mandates", ("update", "delete"), "regional", RA)
for _c in ("routines", "routine_steps"):
    _rule(_c, CUD, "own", ALL)
    _rule(_c, CUD, "other", NONE)
    _rule(_c, CUD, "forum", RA)
_rule("activations", CUD, "convened", frozenset({"RA", "AM", "AA"}))
_rule("activations", CUD, "not_convened", RA)
for _c in ("callout_events", "log_entries", "checklist_marks", "report_backs"):
    _rule(_c, ("create",), "member_forum", frozenset({"RA", "LM", "AM", "AA"}))
    _rule(_c, ("create",), "other_forum", RA)
    _rule(_c, ("update", "delete"), "member_forum", NONE)  # append-only: nobody
    _rule(_c, ("update", "delete"), "other_forum", NONE)
_rule("conflicts", ("create",), "own", NONE)
_rule("conflicts", ("create", "update", "delete"), "other", NONE)
_rule("conflicts", ("update",), "own", ALL)
_rule("conflicts", ("delete",), "own", NONE)

UPDATE_FIELDS = {
    "organisations": {"notes": "n"},
    "functions": {"description": "d"},
    "channels": {"note": "n"},
    "forums": {"purpose": "p"},
    "mandates": {"mandate": "m"},
    "routines": {"body": "b"},
    "routine_steps": {"text": "t2"},
    "activations": {"reason": "r2"},
    "callout_events": {"note": "n"},
    "log_entries": {"text": "t2"},
    "checklist_marks": {"note": "n"},
    "report_backs": {"note": "n"},
    "conflicts": {"resolved": True},
}

CELLS = [
    pytest.param(actor, collection, op, target, id=f"{actor}-{collection}-{op}-{target}")
    for (collection, op, target) in RULES
    for actor in ACTORS
]


class World:
    def __init__(self, server: Server) -> None:
        self.server = server
        region = make_region(server)
        self.org = {"LST": region.lst, "A": region.sos, "B": region.kom}
        self.dev: dict[str, Dev] = {
            "RA": region.lst_admin,
            "LM": server.enroll("LST", "member"),
            "AM": region.sos_member,
            "AA": region.sos_admin,
            "BM": region.kom_member,
        }
        self.setup = {"LST": self.dev["LM"], "A": self.dev["AM"], "B": self.dev["BM"]}
        ra = self.dev["RA"]
        self.fn = {
            key: dev.create("functions", {"organisation_id": self.org[key], "name": f"TiB {key}"})
            for key, dev in self.setup.items()
        }
        self.forum_f = ra.create(
            "forums", {"name": "F", "level": "coordinating", "convenor_function_id": self.fn["A"]}
        )
        self.forum_g = ra.create("forums", {"name": "G", "level": "executive"})
        self.forum_h = ra.create("forums", {"name": "H", "level": "directing"})
        for key in ("A", "LST"):
            ra.create("mandates", {"forum_id": self.forum_f, "function_id": self.fn[key], "role": "member"})
        self.activation = {
            "member_forum": ra.create("activations", {"forum_id": self.forum_f, "reason": "x", "started_at": AT}),
            "other_forum": ra.create("activations", {"forum_id": self.forum_g, "reason": "x", "started_at": AT}),
        }
        self.routine = {
            key: dev.create("routines", {"title": f"R {key}", "organisation_id": self.org[key]})
            for key, dev in self.setup.items()
        }
        self.forum_routine = ra.create("routines", {"title": "RF", "forum_id": self.forum_f})
        self.forum_step = ra.create(
            "routine_steps", {"routine_id": self.forum_routine, "position": "a0", "text": "t"}
        )

    def org_key(self, actor: str, target: str) -> str:
        own = ORG_OF[actor]
        return own if target == "own" else OTHER_ORG[own]

    def create_fields(self, actor: str, collection: str, target: str) -> dict:
        key = self.org_key(actor, target) if target in ("own", "other") else None
        if collection == "organisations":
            return {"name": "New"}
        if collection == "functions":
            return {"organisation_id": self.org[key], "name": "f"}
        if collection == "channels":
            return {"function_id": self.fn[key], "kind": "phone", "value": "070-1740605"}
        if collection == "forums":
            return {"name": "new", "level": "directing"}
        if collection == "mandates":
            return {"forum_id": self.forum_h, "function_id": self.fn[key], "role": "observer"}
        if collection == "routines":
            if target == "forum":
                return {"title": "r", "forum_id": self.forum_f}
            return {"title": "r", "organisation_id": self.org[key]}
        if collection == "routine_steps":
            routine = self.forum_routine if target == "forum" else self.routine[key]
            return {"routine_id": routine, "position": "b0", "text": "t"}
        if collection == "activations":
            forum = self.forum_f if target == "convened" else self.forum_g
            return {"forum_id": forum, "reason": "storm", "started_at": AT}
        activation = self.activation[target] if target in self.activation else None
        if collection == "callout_events":
            fn = self.fn[ORG_OF[actor]]
            return {"activation_id": activation, "function_id": fn, "status": "reached", "at": AT}
        if collection == "log_entries":
            return {"activation_id": activation, "at": AT, "kind": "information", "text": "t"}
        if collection == "checklist_marks":
            return {"activation_id": activation, "step_id": self.forum_step, "done": True, "at": AT}
        if collection == "report_backs":  # always the writer's own organisation
            return {"activation_id": activation, "organisation_id": self.org[ORG_OF[actor]], "at": AT}
        if collection == "conflicts":
            return {"resolved": False}
        raise AssertionError(collection)

    def existing(self, actor: str, collection: str, target: str) -> str:
        """A fresh record to update or delete, made by someone allowed to make it."""
        ra = self.dev["RA"]
        key = self.org_key(actor, target) if target in ("own", "other") else None
        if collection == "organisations":
            return self.org[key]
        if collection in ("functions", "channels") or (
            collection in ("routines", "routine_steps") and key is not None
        ):
            return self.setup[key].create(collection, self.create_fields_for_org(collection, key))
        if collection in ("forums", "routines", "routine_steps", "activations"):
            return ra.create(collection, self.create_fields(actor, collection, target))
        if collection == "mandates":
            return ra.create("mandates", {"forum_id": self.forum_h, "function_id": self.fn["B"], "role": "member"})
        if collection in ("callout_events", "log_entries", "checklist_marks", "report_backs"):
            return ra.create(collection, self.create_fields("RA", collection, target))
        if collection == "conflicts":
            dev = self.setup[key]
            fn = dev.create("functions", {"organisation_id": self.org[key], "name": "one"})
            base = self.server.current_clocks("functions", fn)
            dev.push_one(dev.change("functions", fn, {"name": "two"}, base=base))
            assert dev.push_one(dev.change("functions", fn, {"name": "three"}, base=base))["status"] == "conflict"
            (conflict,) = [
                c for c in self.server.records("conflicts") if c.fields["record_id"]["value"] == fn
            ]
            return conflict.record_id
        raise AssertionError(collection)

    def create_fields_for_org(self, collection: str, key: str) -> dict:
        if collection == "functions":
            return {"organisation_id": self.org[key], "name": "f"}
        if collection == "channels":
            return {"function_id": self.fn[key], "kind": "phone", "value": "1"}
        if collection == "routines":
            return {"title": "r", "organisation_id": self.org[key]}
        return {"routine_id": self.routine[key], "position": "c0", "text": "t"}


@pytest.fixture(scope="module")
def world(backend) -> Iterator[World]:
    url = backend.new_url()
    server = start_server(url)
    try:
        yield World(server)
    finally:
        stop_server(server)
        backend.drop(url)


def test_matrix_covers_every_collection_role_and_operation():
    from sync.records import COLLECTION_NAMES

    assert {c for c, _, _ in RULES} == set(COLLECTION_NAMES)
    for collection in COLLECTION_NAMES:
        assert {op for c, op, _ in RULES if c == collection} == {"create", "update", "delete"}


@pytest.mark.parametrize("actor, collection, op, target", CELLS)
def test_authorization_cell(world: World, actor: str, collection: str, op: str, target: str):
    dev = world.dev[actor]
    if op == "create":
        change = dev.change(collection, fields=world.create_fields(actor, collection, target))
    else:
        record_id = world.existing(actor, collection, target)
        if op == "update":
            change = dev.change(collection, record_id, UPDATE_FIELDS[collection])
        else:
            change = dev.change(collection, record_id, op="delete")
    result = dev.push_one(change)
    if actor in RULES[(collection, op, target)]:
        assert result["status"] == "applied", result
    else:
        assert result["status"] == "rejected", result
        problem = result["problem"]
        assert (problem["type"], problem["status"]) == ("/problems/forbidden", 403), problem
        assert problem["change_id"] == change["change_id"]
        assert problem["reason"] in {reason.value for reason in Reason}, problem


def test_organisation_cannot_claim_another_owner_through_references(world: World):
    """A function moved to another organisation, a channel moved to another's function: refused."""
    am = world.dev["AM"]
    fn = am.create("functions", {"organisation_id": world.org["A"], "name": "f"})
    moved = am.update("functions", fn, {"organisation_id": world.org["B"]})
    assert moved["problem"]["type"] == "/problems/forbidden" and moved["problem"]["field"] == "organisation_id"
    ch = am.create("channels", {"function_id": fn, "kind": "phone", "value": "1"})
    moved = am.update("channels", ch, {"function_id": world.fn["B"]})
    assert moved["problem"]["type"] == "/problems/forbidden" and moved["problem"]["field"] == "function_id"
    routine = am.create("routines", {"title": "r", "organisation_id": world.org["A"]})
    to_forum = am.update("routines", routine, {"forum_id": world.forum_f})
    assert to_forum["problem"]["type"] == "/problems/forbidden"


def test_regional_admin_may_not_edit_other_organisations_functions_or_channels(world: World):
    ra = world.dev["RA"]
    assert ra.update("functions", world.fn["A"], {"name": "x"})["status"] == "rejected"


def test_organisation_records_keep_their_owner(world: World):
    org = world.server.record("organisations", world.org["A"])
    assert org.owner_org == world.org["A"] and org.fields["name"]["value"] == "SOS Alarm"
