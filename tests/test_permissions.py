"""'May I edit this?' on the desktop: the shared rules asked with the local copy's facts."""

from __future__ import annotations

import itertools
import uuid

import pytest

from desktop.i18n import in_language
from desktop.permissions import local_actor, may_edit, may_write
from sync.rules import Reason

ORG_A = str(uuid.uuid4())  # this device's organisation
ORG_B = str(uuid.uuid4())  # another party
ADMIN_ORG = str(uuid.uuid4())  # the regional administrator (Länsstyrelsen)
_seq = itertools.count(1)


def pulled(store, collection: str, owner: str, record_id: str | None = None, **fields) -> str:
    """A record as the server sends it (owner_org set by the server), applied to the store."""
    record_id = record_id or str(uuid.uuid4())
    clock = store.clock.now()
    store.apply_pulled(
        [{
            "collection": collection, "record_id": record_id, "owner_org": owner,
            "visibility": "regional", "deleted": False, "seq": next(_seq),
            "fields": {name: {"value": value, "clock": clock} for name, value in fields.items()},
        }],
        cursor=None,
    )
    return record_id


def enrol(store, organisation: str, role: str = "member") -> None:
    store.set_meta("sync.device_id", str(uuid.uuid4()))
    store.set_meta("sync.organisation_id", organisation)
    store.set_meta("sync.role", role)


@pytest.fixture
def region(store):
    for org, name in ((ORG_A, "Trafikverket"), (ORG_B, "SOS Alarm"), (ADMIN_ORG, "Länsstyrelsen Stockholm")):
        pulled(store, "organisations", org, record_id=org, name=name)
    own_function = pulled(store, "functions", ORG_A, organisation_id=ORG_A, name="Trafikledare")
    other_function = pulled(store, "functions", ORG_B, organisation_id=ORG_B, name="TiB")
    admin_function = pulled(store, "functions", ADMIN_ORG, organisation_id=ADMIN_ORG, name="TiB")
    forum = pulled(store, "forums", ADMIN_ORG, name="Samverkanskonferens", level="coordinating",
                   convenor_function_id=admin_function)
    pulled(store, "mandates", ADMIN_ORG, forum_id=forum, function_id=own_function, role="member")
    lonely_forum = pulled(store, "forums", ADMIN_ORG, name="Regionala rådet", level="directing")
    activation = pulled(store, "activations", ADMIN_ORG, forum_id=forum, reason="Strömavbrott",
                        started_at="2026-12-05T02:47:00.000Z")
    lonely_activation = pulled(store, "activations", ADMIN_ORG, forum_id=lonely_forum, reason="Övning",
                               started_at="2026-12-05T02:47:00.000Z")
    return {
        "own_function": own_function, "other_function": other_function, "forum": forum,
        "activation": activation, "lonely_activation": lonely_activation,
        "other_channel": pulled(store, "channels", ORG_B, function_id=other_function, kind="email",
                                value="tib@sos.example"),
    }


def test_a_standalone_vault_edits_everything_it_holds(store, region) -> None:
    assert local_actor(store) is None
    assert may_edit(store, "functions", region["other_function"])
    assert may_edit(store, "forums", region["forum"])


def test_own_records_are_editable_and_others_say_whose_they_are(store, region) -> None:
    enrol(store, ORG_A)
    assert may_edit(store, "functions", region["own_function"])
    refused = may_edit(store, "functions", region["other_function"])
    assert not refused and refused.reason is Reason.NOT_OWNER and refused.owner_org == ORG_B
    with in_language("sv"):
        assert may_edit(store, "functions", region["other_function"]).text == "Skrivskyddad: ägs av SOS Alarm."
    with in_language("en"):
        assert may_edit(store, "channels", region["other_channel"]).text == "Read-only: owned by SOS Alarm."


def test_a_record_made_here_and_not_yet_synced_is_the_devices_own(store, region) -> None:
    enrol(store, ORG_A)
    function = store.create("functions", {"organisation_id": ORG_A, "name": "Ny funktion"})
    assert store.get("functions", function)["owner_org"] is None
    assert may_edit(store, "functions", function)
    channel = store.create("channels", {"function_id": function, "kind": "email", "value": "a@b.example"})
    assert may_edit(store, "channels", channel)


def test_creating_asks_the_references(store, region) -> None:
    enrol(store, ORG_A)
    assert may_write(store, "channels", "create", None,
                     {"function_id": region["own_function"], "kind": "email", "value": "x@y.example"})
    refused = may_write(store, "channels", "create", None,
                        {"function_id": region["other_function"], "kind": "email", "value": "x@y.example"})
    assert not refused and refused.field == "function_id"
    refused = may_write(store, "functions", "create", None, {"organisation_id": ORG_B, "name": "X"})
    assert not refused and refused.reason is Reason.NOT_OWNER


def test_forums_are_the_regional_administrators(store, region) -> None:
    enrol(store, ORG_A)
    refused = may_edit(store, "forums", region["forum"])
    assert not refused and refused.reason is Reason.REGIONAL_ADMIN_ONLY
    with in_language("en"):
        assert may_edit(store, "forums", region["forum"]).text == "Read-only: kept by the regional administrator."
    store.set_meta("sync.organisation_id", ADMIN_ORG)
    store.set_meta("sync.role", "regional_admin")
    assert may_edit(store, "forums", region["forum"])


def test_journals_take_entries_from_organisations_in_the_forum_and_never_change(store, region) -> None:
    enrol(store, ORG_A)
    entry = {"activation_id": region["activation"], "at": "2026-12-05T03:00:00.000Z",
             "kind": "information", "text": "Läget"}
    assert may_write(store, "log_entries", "create", None, entry)
    refused = may_write(store, "log_entries", "create", None,
                        {**entry, "activation_id": region["lonely_activation"]})
    assert not refused and refused.reason is Reason.NOT_FORUM_MEMBER
    written = pulled(store, "log_entries", ORG_A, **entry)
    refused = may_edit(store, "log_entries", written)
    assert not refused and refused.reason is Reason.APPEND_ONLY


def test_activating_is_for_the_convenors_organisation_or_the_regional_administrator(store, region) -> None:
    enrol(store, ORG_A)
    activation = {"forum_id": region["forum"], "reason": "Storm", "started_at": "2026-12-05T03:00:00.000Z"}
    refused = may_write(store, "activations", "create", None, activation)
    assert not refused and refused.reason is Reason.NOT_CONVENOR
    enrol(store, ADMIN_ORG, role="member")  # a member device of the convenor's organisation
    assert may_write(store, "activations", "create", None, activation)
