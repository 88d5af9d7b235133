"""Tests of the shared sync core: ``sync/clock.py``, ``sync/records.py``, ``sync/merge.py``.

What is asserted comes from /work/shared/design/SYNC.md (rules 3, 4, 5, 7, the HLC wire form,
the "Collections in v1" table and the "Precise points") and from the reading merge.py's docstring
writes down (an equal-valued concurrent overwrite makes no conflict; a tombstone always stands).

The last part models several offline devices editing one record and checks the server's merge
rule over every delivery order hypothesis can draw; the exact properties are stated in the
docstrings of those tests.
"""

from __future__ import annotations

import re
import string
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sync.clock import (
    MAX_COUNTER,
    MAX_WALL_MS,
    ClockError,
    Hlc,
    HybridClock,
    format_time,
    is_valid_hlc,
    parse_time,
    wall_ms_of,
)
from sync.merge import (
    Conflict,
    FieldState,
    RecordNotFound,
    RecordState,
    apply_delete,
    apply_upsert,
    incoming_wins,
    node_of,
)
from sync.records import (
    APPEND_ONLY,
    COLLECTIONS,
    NAME_MAX,
    TEXT_MAX,
    FieldType,
    InvalidChange,
    get_collection,
    validate_fields,
)

QUICK = settings(deadline=None)
PROPERTIES = settings(
    QUICK,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Device ids are UUIDs, so node ids contain dashes.
NODE_A = "11111111-1111-4111-8111-111111111111"
NODE_B = "22222222-2222-4222-8222-222222222222"
NODE_C = "33333333-3333-4333-8333-333333333333"
NOW_MS = 1_795_774_726_123  # 2026-11-27T10:18:46.123Z


def hlc(wall_ms: int, counter: int, node: str) -> str:
    return str(Hlc(wall_ms, counter, node))


# ---------------------------------------------------------------------------------------------
# 1. The hybrid logical clock
# ---------------------------------------------------------------------------------------------

NODE_ALPHABET = string.ascii_letters + string.digits + "_.:-"
node_ids = st.one_of(
    st.uuids().map(str),
    st.text(alphabet=NODE_ALPHABET, min_size=1, max_size=64),
    st.sampled_from(["a", "b", "a-b", "a-", "-", "server"]),
)
walls = st.one_of(st.integers(0, 3), st.integers(NOW_MS - 2, NOW_MS + 2), st.integers(0, 10**13 - 1))
counters = st.one_of(st.integers(0, 3), st.integers(MAX_COUNTER - 2, MAX_COUNTER), st.integers(0, MAX_COUNTER))
hlcs = st.builds(Hlc, walls, counters, node_ids)


def test_wire_form_is_13_digit_ms_5_digit_counter_and_node():
    assert str(Hlc(1, 2, "n")) == "0000000000001-00002-n"
    assert str(Hlc(0, 0, "n")) == "0000000000000-00000-n"
    assert str(Hlc(NOW_MS, MAX_COUNTER, NODE_A)) == f"1795774726123-99999-{NODE_A}"
    assert MAX_COUNTER == 99_999


def test_node_id_may_be_a_uuid_with_dashes():
    text = f"1795774726123-00042-{NODE_A}"
    parsed = Hlc.parse(text)
    assert parsed == Hlc(NOW_MS, 42, NODE_A)
    assert str(parsed) == text
    assert is_valid_hlc(text)
    assert node_of(text) == NODE_A
    assert wall_ms_of(text) == NOW_MS
    # the longest node id accepted is 64 characters
    assert Hlc.parse(f"1795774726123-00042-{'n' * 64}").node == "n" * 64


@QUICK
@given(hlcs, hlcs)
def test_string_order_is_clock_order(a: Hlc, b: Hlc):
    wire_a, wire_b = str(a), str(b)
    assert re.fullmatch(r"[0-9]{13}-[0-9]{5}-[A-Za-z0-9_.:-]{1,64}", wire_a)
    assert Hlc.parse(wire_a) == a
    assert is_valid_hlc(wire_a)
    as_tuple_a, as_tuple_b = (a.wall_ms, a.counter, a.node), (b.wall_ms, b.counter, b.node)
    assert (wire_a < wire_b) == (as_tuple_a < as_tuple_b)
    assert (wire_a == wire_b) == (as_tuple_a == as_tuple_b)
    assert (a < b) == (as_tuple_a < as_tuple_b)


@QUICK
@given(st.lists(hlcs, min_size=2, max_size=30))
def test_sorting_wire_strings_sorts_clocks(values: list[Hlc]):
    assert sorted(str(v) for v in values) == [str(v) for v in sorted(values)]


MALFORMED_CLOCKS = [
    "",
    "0000000000001-00002",  # no node
    "0000000000001-00002-",  # empty node
    "000000000001-00002-n",  # 12-digit ms
    "00000000000001-00002-n",  # 14-digit ms
    "0000000000001-0002-n",  # 4-digit counter
    "0000000000001-000002-n",  # 6-digit counter
    "0000000000001-00002-" + "n" * 65,  # node too long
    "0000000000001-00002-no de",
    "0000000000001-00002-nöde",
    "0000000000001-00002-n/x",
    "0000000000001_00002_n",
    "1-2-n",
    " 0000000000001-00002-n",
    "0000000000001-00002-n ",
    "0000000000001-00002-n\n",  # a trailing newline is not part of a clock
    "\u0661\u0667\u0669\u0665\u0667\u0667\u0664\u0667\u0662\u0666\u0661\u0662\u0663-00002-n",  # Arabic-Indic digits
    "0000000000001-\uff10\uff10\uff10\uff10\uff12-n",  # full-width digits
    "+000000000001-00002-n",
    "2026-11-27T10:18:46.123Z",
]


@pytest.mark.parametrize("text", MALFORMED_CLOCKS)
def test_parse_rejects_malformed_clocks(text: str):
    with pytest.raises(ClockError):
        Hlc.parse(text)
    assert not is_valid_hlc(text)


@pytest.mark.parametrize("value", [None, 1795774726123, b"0000000000001-00002-n", Hlc(1, 2, "n"), ["x"]])
def test_parse_rejects_non_strings(value: object):
    with pytest.raises(ClockError):
        Hlc.parse(value)  # type: ignore[arg-type]
    assert not is_valid_hlc(value)


@pytest.mark.parametrize("node", ["", "has space", "n" * 65, "slash/", "nöde", "line\n"])
def test_hybrid_clock_refuses_unusable_node_ids(node: str):
    with pytest.raises(ClockError):
        HybridClock(node, wall=lambda: NOW_MS)


def test_now_follows_the_wall_and_counts_while_it_stands_still_or_goes_back():
    wall = [NOW_MS]
    clock = HybridClock(NODE_A, wall=lambda: wall[0])
    assert clock.now() == hlc(NOW_MS, 0, NODE_A)
    assert clock.now() == hlc(NOW_MS, 1, NODE_A)  # wall stands still
    wall[0] = NOW_MS - 1000  # wall goes backwards (NTP step, user changed the time)
    assert clock.now() == hlc(NOW_MS, 2, NODE_A)
    wall[0] = NOW_MS + 5
    assert clock.now() == hlc(NOW_MS + 5, 0, NODE_A)  # wall moved on: counter restarts
    assert clock.last == hlc(NOW_MS + 5, 0, NODE_A)


@QUICK
@given(st.lists(st.integers(NOW_MS - 20, NOW_MS + 20), min_size=1, max_size=80))
def test_now_is_strictly_monotonic_whatever_the_wall_does(wall_values: list[int]):
    wall = [wall_values[0]]
    clock = HybridClock(NODE_A, wall=lambda: wall[0])
    made = []
    for value in wall_values:
        wall[0] = value
        made.append(clock.now())
    parsed = [Hlc.parse(m) for m in made]
    assert all(x < y for x, y in zip(made, made[1:]))
    assert all(x < y for x, y in zip(parsed, parsed[1:]))
    assert all(p.node == NODE_A for p in parsed)
    for i, p in enumerate(parsed):
        # never behind the wall clock, never ahead of the latest wall reading seen
        assert p.wall_ms == max(wall_values[: i + 1])
    assert clock.last == made[-1]


def test_resumes_after_its_last_clock():
    last = hlc(NOW_MS + 10_000, 7, NODE_A)  # persisted before a restart; the wall is now behind
    clock = HybridClock(NODE_A, wall=lambda: NOW_MS, last=last)
    assert clock.now() == hlc(NOW_MS + 10_000, 8, NODE_A)


def test_counter_overflow_borrows_the_next_millisecond():
    clock = HybridClock(NODE_A, wall=lambda: NOW_MS, last=hlc(NOW_MS, MAX_COUNTER - 1, NODE_A))
    first, second, third = clock.now(), clock.now(), clock.now()
    assert first == hlc(NOW_MS, MAX_COUNTER, NODE_A)
    assert second == hlc(NOW_MS + 1, 0, NODE_A)
    assert third == hlc(NOW_MS + 1, 1, NODE_A)
    assert first < second < third
    assert all(is_valid_hlc(c) for c in (first, second, third))


def test_counter_overflow_after_receiving_a_full_counter():
    clock = HybridClock(NODE_A, wall=lambda: NOW_MS)
    clock.receive(hlc(NOW_MS, MAX_COUNTER, NODE_B))
    made = clock.now()
    assert made == hlc(NOW_MS + 1, 0, NODE_A)
    assert made > hlc(NOW_MS, MAX_COUNTER, NODE_B)


def test_after_receiving_a_clock_from_the_future_now_is_greater():
    clock = HybridClock(NODE_A, wall=lambda: NOW_MS)
    before = clock.now()
    future = hlc(NOW_MS + 3_600_000, 7, NODE_B)
    clock.receive(future)
    made = clock.now()
    assert made > future and Hlc.parse(made) > Hlc.parse(future)
    assert Hlc.parse(made).node == NODE_A
    assert made > before
    assert clock.now() > made


def test_receiving_an_old_clock_changes_nothing():
    wall = [NOW_MS]
    clock = HybridClock(NODE_A, wall=lambda: wall[0])
    clock.now()
    clock.receive(hlc(NOW_MS - 50_000, 99, NODE_B))
    wall[0] += 1
    assert clock.now() == hlc(NOW_MS + 1, 0, NODE_A)


def test_receiving_an_equal_wall_and_counter_from_a_higher_node_still_moves_past_it():
    clock = HybridClock(NODE_A, wall=lambda: NOW_MS)
    assert clock.now() == hlc(NOW_MS, 0, NODE_A)
    remote = hlc(NOW_MS, 0, "zzzz")  # greater than our last clock by node id only
    clock.receive(remote)
    assert clock.now() > remote


def test_receive_rejects_malformed_clock_and_keeps_its_state():
    clock = HybridClock(NODE_A, wall=lambda: NOW_MS)
    clock.now()
    with pytest.raises(ClockError):
        clock.receive("9999999999999-00000")
    assert clock.now() == hlc(NOW_MS, 1, NODE_A)


@QUICK
@given(
    st.integers(NOW_MS - 5, NOW_MS + 5),
    st.integers(0, 5),
    st.lists(hlcs, min_size=1, max_size=5),
)
def test_now_after_receive_is_greater_than_everything_seen_and_made(
    wall_ms: int, made_before: int, received: list[Hlc]
):
    clock = HybridClock(NODE_A, wall=lambda: wall_ms)
    made = [clock.now() for _ in range(made_before)]
    for remote in received:
        clock.receive(str(remote))
    if max((r.wall_ms, r.counter) for r in received) == (MAX_WALL_MS, MAX_COUNTER):
        # Nothing greater fits the wire form: the clock refuses rather than overflow.
        with pytest.raises(ClockError):
            clock.now()
        return
    new = clock.now()
    assert Hlc.parse(new).node == NODE_A
    for seen in [*made, *(str(r) for r in received)]:
        assert new > seen
        assert Hlc.parse(new) > Hlc.parse(seen)


def test_observe_server_time_makes_physical_time_follow_the_server():
    wall = [1_000_000_000_000]  # the device's clock says 2001
    clock = HybridClock(NODE_A, wall=lambda: wall[0])
    clock.observe_server_time(format_time(NOW_MS))
    assert clock.offset_ms == NOW_MS - 1_000_000_000_000
    assert clock.physical_ms() == NOW_MS
    wall[0] += 250
    assert clock.physical_ms() == NOW_MS + 250
    assert clock.now() == hlc(NOW_MS + 250, 0, NODE_A)


def test_observe_server_time_counts_half_the_round_trip():
    wall = [NOW_MS - 7_000]
    clock = HybridClock(NODE_A, wall=lambda: wall[0])
    clock.observe_server_time(format_time(NOW_MS), round_trip_ms=100)
    assert clock.physical_ms() == NOW_MS + 50


def test_observe_server_time_receives_it_so_the_next_clock_is_past_the_server():
    clock = HybridClock(NODE_A, wall=lambda: NOW_MS - 60_000)
    clock.observe_server_time(format_time(NOW_MS))
    made = clock.now()
    assert made > hlc(NOW_MS, 0, "zzzz")
    assert Hlc.parse(made).wall_ms == NOW_MS


def test_observe_server_time_behind_the_device_keeps_clocks_monotonic():
    wall = [NOW_MS + 10_000]  # the device runs 10 s fast
    clock = HybridClock(NODE_A, wall=lambda: wall[0])
    fast = clock.now()
    clock.observe_server_time(format_time(NOW_MS))
    assert clock.physical_ms() == NOW_MS
    assert clock.now() > fast  # never goes back, even though physical time did
    wall[0] += 20_000  # 20 s later the server's time has passed the old fast clock
    assert clock.now() == hlc(NOW_MS + 20_000, 0, NODE_A)


def test_format_time_is_iso_utc_with_milliseconds_and_z():
    assert format_time(NOW_MS) == "2026-11-27T10:18:46.123Z"
    assert format_time(0) == "1970-01-01T00:00:00.000Z"
    assert format_time(NOW_MS - 118) == "2026-11-27T10:18:46.005Z"
    assert format_time(NOW_MS - 123 + 999) == "2026-11-27T10:18:46.999Z"


@QUICK
@given(st.integers(0, 253_402_300_799_999))
def test_format_and_parse_time_round_trip(ms: int):
    text = format_time(ms)
    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z", text)
    assert parse_time(text) == ms
    assert format_time(parse_time(text)) == text


def test_parse_time_reads_z_and_utc_offset_alike():
    assert parse_time("2026-11-27T10:18:46.123Z") == NOW_MS
    assert parse_time("2026-11-27T10:18:46.123+00:00") == NOW_MS
    assert parse_time("2026-11-27T10:18:46Z") == NOW_MS - 123


@pytest.mark.parametrize("text", ["2026-11-27T10:18:46.123", "yesterday", "", "2026-13-01T00:00:00Z"])
def test_parse_time_rejects_zoneless_or_unreadable_times(text: str):
    with pytest.raises(ValueError):
        parse_time(text)


def test_parse_time_rejects_non_strings():
    with pytest.raises(ValueError):
        parse_time(NOW_MS)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# 2. The collections (SYNC.md "Collections in v1" and "Precise points")
# ---------------------------------------------------------------------------------------------

# The table in SYNC.md, copied by hand: * marks a field required on create.
SYNC_MD_TABLE: dict[str, tuple[str, ...]] = {
    "organisations": ("name*", "short_name", "kind", "website", "notes", "last_verified"),
    "functions": (
        "organisation_id*", "name*", "short_name", "description", "availability",
        "is_contact_point", "last_verified",
    ),
    "channels": ("function_id*", "kind*", "value*", "label", "priority", "resilient", "note"),
    "forums": (
        "name*", "level*", "purpose", "convenor_function_id", "mode", "cadence",
        "meeting_channel", "agenda",
    ),
    "mandates": ("forum_id*", "function_id*", "role*", "mandate", "reports_back"),
    "routines": (
        "title*", "forum_id", "organisation_id", "mode", "trigger", "body", "version", "review_due",
    ),
    "routine_steps": ("routine_id*", "position*", "text*", "responsible_function_id"),
    "activations": (
        "forum_id*", "reason*", "exercise", "started_at*", "ended_at", "started_by_function_id",
    ),
    "callout_events": ("activation_id*", "function_id*", "status*", "at*", "note"),
    "log_entries": (
        "activation_id*", "at*", "author_function_id", "kind*", "text*", "corrects",
    ),
    "checklist_marks": ("activation_id*", "step_id*", "done*", "at*", "note"),
    # Not in SYNC.md: the protocol extension for report-back (docs/PROTOCOL.md, "Report-back").
    "report_backs": ("activation_id*", "organisation_id*", "meeting_at", "at*", "note"),
    "conflicts": (
        "collection", "record_id", "field", "kept_value", "kept_clock", "other_value",
        "other_clock", "other_device", "resolved", "resolution_note",
    ),
}

SYNC_MD_ENUMS: dict[tuple[str, str], set[str]] = {
    ("organisations", "kind"): {
        "county_board", "municipality", "region", "agency", "rescue_service", "police",
        "armed_forces", "port", "company", "other",
    },
    ("functions", "availability"): {"24/7", "office_hours", "on_call"},
    ("channels", "kind"): {
        "phone", "mobile", "rakel", "satellite", "email", "functional_mailbox", "radio", "web",
        "other",
    },
    ("forums", "level"): {"directing", "coordinating", "executive"},
    ("forums", "mode"): {"ordinary", "activated"},
    ("mandates", "role"): {"convenor", "chair", "member", "secretary", "observer"},
    ("routines", "mode"): {"ordinary", "activated", "both"},
    ("callout_events", "status"): {"not_tried", "no_answer", "reached", "attending", "declined"},
    ("log_entries", "kind"): {"information", "decision", "action", "situation_report", "other"},
}

SYNC_MD_REFS: dict[tuple[str, str], str] = {
    ("functions", "organisation_id"): "organisations",
    ("channels", "function_id"): "functions",
    ("forums", "convenor_function_id"): "functions",
    ("mandates", "forum_id"): "forums",
    ("mandates", "function_id"): "functions",
    ("routines", "forum_id"): "forums",
    ("routines", "organisation_id"): "organisations",
    ("routine_steps", "routine_id"): "routines",
    ("routine_steps", "responsible_function_id"): "functions",
    ("activations", "forum_id"): "forums",
    ("activations", "started_by_function_id"): "functions",
    ("callout_events", "activation_id"): "activations",
    ("callout_events", "function_id"): "functions",
    ("log_entries", "activation_id"): "activations",
    ("log_entries", "author_function_id"): "functions",
    ("log_entries", "corrects"): "log_entries",
    ("checklist_marks", "activation_id"): "activations",
    ("checklist_marks", "step_id"): "routine_steps",
    ("report_backs", "activation_id"): "activations",
    ("report_backs", "organisation_id"): "organisations",
}
BOOLEAN_FIELDS = {"exercise", "resilient", "is_contact_point", "done", "resolved"}
NAME_LIKE_FIELDS = {"name", "short_name", "title", "value", "label", "cadence", "version"}
DATE_FIELDS = {"last_verified", "review_due"}
TIME_FIELDS = {"started_at", "ended_at", "at", "meeting_at"}


def _table_fields(collection: str) -> dict[str, bool]:
    return {f.rstrip("*"): f.endswith("*") for f in SYNC_MD_TABLE[collection]}


def test_every_collection_of_the_table_exists_and_no_other():
    assert set(COLLECTIONS) == set(SYNC_MD_TABLE)
    for name in SYNC_MD_TABLE:
        assert get_collection(name).name == name


@pytest.mark.parametrize("name", sorted(SYNC_MD_TABLE))
def test_collection_fields_and_required_fields_match_the_table(name: str):
    collection = get_collection(name)
    table = _table_fields(name)
    assert set(table) <= set(collection.fields), "a field of SYNC.md's table is missing"
    assert collection.required == {f for f, required in table.items() if required}
    for field_name, spec in collection.fields.items():
        assert spec.required == table.get(field_name, False), field_name
    # Extensions beyond the table (e.g. conflicts.kept_device, named in "Precise points") may
    # only be optional.
    assert all(not collection.fields[f].required for f in set(collection.fields) - set(table))


@pytest.mark.parametrize("name", sorted(SYNC_MD_TABLE))
def test_every_collection_has_an_optional_visibility(name: str):
    spec = get_collection(name).fields["visibility"]
    assert spec.type is FieldType.ENUM
    assert set(spec.choices) == {"regional", "internal"}
    assert not spec.required
    collection = get_collection(name)
    assert validate_fields(collection, {"visibility": "internal"}, creating=False) == {
        "visibility": "internal"
    }
    with pytest.raises(InvalidChange) as raised:
        validate_fields(collection, {"visibility": "public"}, creating=False)
    assert raised.value.field == "visibility"


def test_field_types_follow_the_table_and_precise_points():
    for name in SYNC_MD_TABLE:
        if name == "conflicts":
            continue
        for field_name, spec in get_collection(name).fields.items():
            if field_name == "visibility":
                continue
            if (name, field_name) in SYNC_MD_ENUMS:
                assert spec.type is FieldType.ENUM, (name, field_name)
                assert set(spec.choices) == SYNC_MD_ENUMS[(name, field_name)], (name, field_name)
            elif (name, field_name) in SYNC_MD_REFS:
                assert spec.type is FieldType.REF, (name, field_name)
                assert spec.ref == SYNC_MD_REFS[(name, field_name)], (name, field_name)
            elif field_name in BOOLEAN_FIELDS:
                assert spec.type is FieldType.BOOL, (name, field_name)
            elif field_name == "priority":
                assert spec.type is FieldType.INT
            elif field_name in DATE_FIELDS:
                assert spec.type is FieldType.DATE, (name, field_name)
            elif field_name in TIME_FIELDS:
                assert spec.type is FieldType.TIME, (name, field_name)
            elif field_name in NAME_LIKE_FIELDS:
                assert spec.type is FieldType.NAME, (name, field_name)
            elif field_name == "position":
                assert spec.type is FieldType.POSITION
            else:
                assert spec.type is FieldType.TEXT, (name, field_name)
    conflicts = get_collection("conflicts").fields
    assert conflicts["resolved"].type is FieldType.BOOL
    assert conflicts["kept_clock"].type is FieldType.CLOCK
    assert conflicts["other_clock"].type is FieldType.CLOCK
    assert conflicts["record_id"].type is FieldType.UUID
    assert conflicts["collection"].type is FieldType.COLLECTION
    assert conflicts["resolution_note"].type is FieldType.TEXT


def test_append_only_collections():
    assert APPEND_ONLY == {"callout_events", "log_entries", "checklist_marks", "report_backs"}
    for name in SYNC_MD_TABLE:
        assert get_collection(name).append_only == (name in APPEND_ONLY)


@pytest.mark.parametrize("name", ["nope", "", "Channels", "channels ", None, 3, ["channels"]])
def test_unknown_collection_is_invalid_and_names_the_collection(name: object):
    with pytest.raises(InvalidChange) as raised:
        get_collection(name)
    assert raised.value.field == "collection"
    assert raised.value.problem == "invalid"


def _sample_value(spec) -> Any:
    return {
        FieldType.NAME: "Räddningstjänsten",
        FieldType.TEXT: "fri text",
        FieldType.INT: 1,
        FieldType.BOOL: True,
        FieldType.ENUM: spec.choices[0] if spec.choices else None,
        FieldType.REF: str(uuid.uuid4()),
        FieldType.UUID: str(uuid.uuid4()),
        FieldType.DATE: "2026-11-27",
        FieldType.TIME: "2026-11-27T10:18:46.123Z",
        FieldType.POSITION: "a0",
        FieldType.CLOCK: hlc(NOW_MS, 0, NODE_A),
        FieldType.COLLECTION: "channels",
        FieldType.ANY: "+46 8 123 456",
    }[spec.type]


@pytest.mark.parametrize("name", sorted(SYNC_MD_TABLE))
def test_create_needs_every_required_field(name: str):
    collection = get_collection(name)
    full = {f: _sample_value(spec) for f, spec in collection.fields.items()}
    assert validate_fields(collection, full, creating=True).keys() == full.keys()
    minimal = {f: full[f] for f in collection.required}
    assert validate_fields(collection, minimal, creating=True) == minimal
    for missing in collection.required:
        partial = {f: v for f, v in minimal.items() if f != missing}
        with pytest.raises(InvalidChange) as raised:
            validate_fields(collection, partial, creating=True)
        assert raised.value.field == missing
        # an update need not repeat what the record already has
        assert validate_fields(collection, partial, creating=False) == partial


def test_unknown_field_is_invalid_and_named():
    with pytest.raises(InvalidChange) as raised:
        validate_fields(get_collection("channels"), {"value": "112", "fax": "1"}, creating=False)
    assert raised.value.field == "fax"
    with pytest.raises(InvalidChange) as raised:
        validate_fields(get_collection("channels"), {"owner_org": "x"}, creating=False)
    assert raised.value.field == "owner_org"


def test_fields_must_be_an_object():
    with pytest.raises(InvalidChange):
        validate_fields(get_collection("channels"), [("value", "112")], creating=False)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("collection", "field_name", "bad"),
    [
        ("channels", "priority", True),  # a bool is not an integer
        ("channels", "priority", False),
        ("channels", "priority", "1"),
        ("channels", "priority", 1.0),
        ("channels", "priority", 1.5),
        ("channels", "resilient", 1),  # an integer is not a bool
        ("channels", "resilient", 0),
        ("channels", "resilient", "true"),
        ("channels", "value", 112),
        ("channels", "label", ["a"]),
        ("organisations", "name", {"sv": "Länsstyrelsen"}),
        ("functions", "is_contact_point", "yes"),
        ("activations", "exercise", 1),
        ("checklist_marks", "done", 0),
        ("log_entries", "text", 5),
    ],
)
def test_wrong_types_are_invalid(collection: str, field_name: str, bad: Any):
    with pytest.raises(InvalidChange) as raised:
        validate_fields(get_collection(collection), {field_name: bad}, creating=False)
    assert raised.value.field == field_name


@pytest.mark.parametrize(
    ("collection", "values"),
    [
        ("channels", {"priority": 1, "resilient": True}),
        ("channels", {"priority": 0, "resilient": False}),
        ("channels", {"priority": -3}),
        ("activations", {"exercise": False}),
        ("checklist_marks", {"done": True}),
    ],
)
def test_right_types_pass_unchanged(collection: str, values: dict):
    result = validate_fields(get_collection(collection), values, creating=False)
    assert result == values
    for key, value in values.items():
        assert type(result[key]) is type(value)


@pytest.mark.parametrize(
    ("collection", "field_name", "good", "bad"),
    [
        ("channels", "kind", "rakel", "fax"),
        ("channels", "kind", "functional_mailbox", "Phone"),
        ("functions", "availability", "24/7", "24x7"),
        ("forums", "level", "coordinating", "strategic"),
        ("mandates", "role", "secretary", ""),
        ("callout_events", "status", "no_answer", "no answer"),
        ("log_entries", "kind", "situation_report", 1),
        ("organisations", "kind", "rescue_service", True),
    ],
)
def test_enum_values(collection: str, field_name: str, good: str, bad: Any):
    spec = get_collection(collection)
    assert validate_fields(spec, {field_name: good}, creating=False) == {field_name: good}
    with pytest.raises(InvalidChange) as raised:
        validate_fields(spec, {field_name: bad}, creating=False)
    assert raised.value.field == field_name


def test_null_clears_an_optional_field():
    assert validate_fields(get_collection("channels"), {"label": None, "priority": None}, creating=False) == {
        "label": None,
        "priority": None,
    }
    assert validate_fields(get_collection("activations"), {"ended_at": None}, creating=False) == {
        "ended_at": None
    }


@pytest.mark.parametrize("creating", [False, True])
@pytest.mark.parametrize(
    ("collection", "field_name"),
    [("channels", "value"), ("channels", "function_id"), ("organisations", "name"), ("checklist_marks", "done")],
)
def test_null_is_refused_for_a_required_field(collection: str, field_name: str, creating: bool):
    with pytest.raises(InvalidChange) as raised:
        validate_fields(get_collection(collection), {field_name: None}, creating=creating)
    assert raised.value.field == field_name


NAME_LIKE_CASES = [
    (c, f)
    for c in sorted(SYNC_MD_TABLE)
    for f in _table_fields(c)
    if f in NAME_LIKE_FIELDS
]


@pytest.mark.parametrize(("collection", "field_name"), NAME_LIKE_CASES)
def test_name_like_fields_hold_at_most_500_characters(collection: str, field_name: str):
    spec = get_collection(collection)
    assert NAME_MAX == 500
    assert validate_fields(spec, {field_name: "n" * 500}, creating=False) == {field_name: "n" * 500}
    assert validate_fields(spec, {field_name: "å" * 500}, creating=False) == {field_name: "å" * 500}
    with pytest.raises(InvalidChange) as raised:
        validate_fields(spec, {field_name: "n" * 501}, creating=False)
    assert raised.value.field == field_name


@pytest.mark.parametrize(
    ("collection", "field_name"),
    [("organisations", "notes"), ("log_entries", "text"), ("routines", "body"), ("channels", "note"),
     ("forums", "agenda"), ("activations", "reason")],
)
def test_free_text_holds_at_most_20000_characters(collection: str, field_name: str):
    spec = get_collection(collection)
    assert TEXT_MAX == 20_000
    assert validate_fields(spec, {field_name: "t" * 20_000}, creating=False) == {field_name: "t" * 20_000}
    with pytest.raises(InvalidChange) as raised:
        validate_fields(spec, {field_name: "t" * 20_001}, creating=False)
    assert raised.value.field == field_name


@pytest.mark.parametrize("good", ["2026-02-28", "2028-02-29", "2026-12-31"])
def test_real_dates_pass(good: str):
    spec = get_collection("organisations")
    assert validate_fields(spec, {"last_verified": good}, creating=False) == {"last_verified": good}


@pytest.mark.parametrize(
    "bad",
    ["2026-02-30", "2027-02-29", "2026-13-01", "2026-2-3", "26-02-03", "2026-02-28T00:00:00Z",
     "2026/02/28", "", 20260228, "2026-02-28\n"],
)
def test_malformed_or_unreal_dates_are_invalid(bad: Any):
    with pytest.raises(InvalidChange) as raised:
        validate_fields(get_collection("routines"), {"review_due": bad}, creating=False)
    assert raised.value.field == "review_due"


@pytest.mark.parametrize("good", ["2026-11-27T10:18:46.123Z", "2026-11-27T23:59:59.999Z"])
def test_utc_times_with_z_pass(good: str):
    spec = get_collection("activations")
    assert validate_fields(spec, {"started_at": good}, creating=False) == {"started_at": good}


@pytest.mark.parametrize(
    "bad",
    [
        "2026-11-27T10:18:46.123+00:00",  # must end in Z
        "2026-11-27T11:18:46.123+01:00",
        "2026-11-27T10:18:46.123",  # no zone
        "2026-11-27T10:18:46.123z",
        "2026-11-27 10:18:46.123Z",
        "2026-11-27",
        "2026-11-27T25:00:00.000Z",
        "2026-02-30T10:00:00.000Z",
        "2026-11-27T10:18:46.123Z\n",
        NOW_MS,
    ],
)
def test_times_must_be_utc_ending_in_z(bad: Any):
    with pytest.raises(InvalidChange) as raised:
        validate_fields(get_collection("callout_events"), {"at": bad}, creating=False)
    assert raised.value.field == "at"


@pytest.mark.parametrize(
    "given_id",
    [
        "6F9619FF-8B86-D011-B42D-00C04FC964FF",
        "6f9619ff-8b86-d011-b42d-00c04fc964ff",
        "6F9619FF8B86D011B42D00C04FC964FF",
        "{6F9619FF-8B86-D011-B42D-00C04FC964FF}",
    ],
)
def test_refs_are_normalised_to_lower_case_uuids(given_id: str):
    result = validate_fields(get_collection("channels"), {"function_id": given_id}, creating=False)
    assert result == {"function_id": "6f9619ff-8b86-d011-b42d-00c04fc964ff"}
    conflict = validate_fields(get_collection("conflicts"), {"record_id": given_id}, creating=False)
    assert conflict == {"record_id": "6f9619ff-8b86-d011-b42d-00c04fc964ff"}


@pytest.mark.parametrize("bad", ["not-a-uuid", "", 42, "6F9619FF-8B86-D011-B42D-00C04FC964F", True])
def test_refs_must_be_uuids(bad: Any):
    with pytest.raises(InvalidChange) as raised:
        validate_fields(get_collection("log_entries"), {"corrects": bad}, creating=False)
    assert raised.value.field == "corrects"


def test_conflict_clocks_must_be_clocks():
    spec = get_collection("conflicts")
    good = hlc(NOW_MS, 3, NODE_A)
    assert validate_fields(spec, {"kept_clock": good}, creating=False) == {"kept_clock": good}
    for bad in ["2026-11-27T10:18:46.123Z", good + "\n", 5]:
        with pytest.raises(InvalidChange) as raised:
            validate_fields(spec, {"other_clock": bad}, creating=False)
        assert raised.value.field == "other_clock"


# ---------------------------------------------------------------------------------------------
# 3. The merge, example by example (rules 3 and 4, "Deleted records stay deleted")
# ---------------------------------------------------------------------------------------------

C1 = hlc(NOW_MS, 0, NODE_A)
C2 = hlc(NOW_MS + 10, 0, NODE_B)
C3 = hlc(NOW_MS + 20, 0, NODE_C)


def record(**fields: tuple[Any, str]) -> RecordState:
    return RecordState({k: FieldState(v, c) for k, (v, c) in fields.items()})


def test_upsert_of_a_new_record_sets_every_field_without_conflict():
    result = apply_upsert(None, {"value": "112", "label": "SOS"}, C1, {"value": None, "label": None})
    assert result.state == record(value=("112", C1), label=("SOS", C1))
    assert not result.state.deleted
    assert result.conflicts == ()


def test_base_matching_the_current_clock_wins_without_conflict():
    current = record(value=("112", C1), label=("SOS", C1))
    result = apply_upsert(current, {"value": "113"}, C2, {"value": C1})
    assert result.state == record(value=("113", C2), label=("SOS", C1))  # label untouched
    assert result.conflicts == ()


def test_base_matching_wins_even_with_a_lower_clock():
    """Rule 3 as written: base equal to the current clock wins, whatever the clocks say."""
    current = record(value=("112", C2))
    result = apply_upsert(current, {"value": "113"}, C1, {"value": C2})
    assert result.state == record(value=("113", C1))
    assert result.conflicts == ()


def test_concurrent_higher_clock_wins_and_keeps_the_other_in_one_conflict():
    current = record(value=("112", C2))
    result = apply_upsert(current, {"value": "113"}, C3, {"value": C1})
    assert result.state == record(value=("113", C3))
    assert result.conflicts == (Conflict("value", "113", C3, "112", C2),)
    only = result.conflicts[0]
    assert only.kept_device == NODE_C
    assert only.other_device == NODE_B


def test_concurrent_lower_clock_loses_with_one_conflict():
    current = record(value=("112", C3))
    result = apply_upsert(current, {"value": "113"}, C2, {"value": C1})
    assert result.state == current
    assert result.conflicts == (Conflict("value", "112", C3, "113", C2),)
    assert result.conflicts[0].other_device == NODE_B


def test_concurrent_upsert_with_base_none_on_an_existing_field_is_concurrent():
    current = record(value=("112", C1))
    result = apply_upsert(current, {"value": "113"}, C2, {"value": None})
    assert result.state == record(value=("113", C2))
    assert result.conflicts == (Conflict("value", "113", C2, "112", C1),)


def test_missing_base_entry_counts_as_none():
    current = record(value=("112", C1))
    result = apply_upsert(current, {"value": "113"}, C2, {})
    assert result.state == record(value=("113", C2))
    assert len(result.conflicts) == 1


@pytest.mark.parametrize("incoming_clock", [C1, C3])
def test_concurrent_overwrite_with_an_equal_value_makes_no_conflict(incoming_clock: str):
    current = record(value=("112", C2))
    result = apply_upsert(current, {"value": "112"}, incoming_clock, {"value": None})
    assert result.conflicts == ()
    assert result.state == record(value=("112", max(C2, incoming_clock)))


def test_each_field_merges_on_its_own():
    current = record(value=("112", C1), label=("SOS", C3), note=("n", C1))
    result = apply_upsert(
        current,
        {"value": "113", "label": "Larm", "note": "m"},
        C2,
        {"value": C1, "label": C1, "note": None},
    )
    assert result.state == record(value=("113", C2), label=("SOS", C3), note=("m", C2))
    assert set(result.conflicts) == {
        Conflict("label", "SOS", C3, "Larm", C2),
        Conflict("note", "m", C2, "n", C1),
    }


def test_a_base_the_server_never_saw_sets_a_new_field_without_conflict():
    current = record(value=("112", C1))
    result = apply_upsert(current, {"label": "SOS"}, C2, {"label": C1})
    assert result.state == record(value=("112", C1), label=("SOS", C2))
    assert result.conflicts == ()


def test_the_same_change_applied_twice_changes_nothing():
    first = apply_upsert(record(value=("112", C1)), {"value": "113"}, C2, {"value": None})
    again = apply_upsert(first.state, {"value": "113"}, C2, {"value": None})
    assert again.state == first.state
    assert again.conflicts == ()


@pytest.mark.parametrize(("node_low", "node_high"), [(NODE_A, NODE_B), ("a", "a-b"), ("A", "a"), ("0", "9")])
def test_tie_on_wall_and_counter_is_broken_by_node_id_whatever_the_order(node_low: str, node_high: str):
    low, high = hlc(NOW_MS, 4, node_low), hlc(NOW_MS, 4, node_high)
    assert Hlc.parse(low) < Hlc.parse(high)
    base_record = record(value=("111", C1))
    one = apply_upsert(base_record, {"value": "low"}, low, {"value": C1})
    one = apply_upsert(one.state, {"value": "high"}, high, {"value": C1})
    two = apply_upsert(base_record, {"value": "high"}, high, {"value": C1})
    two = apply_upsert(two.state, {"value": "low"}, low, {"value": C1})
    assert one.state == two.state == record(value=("high", high))
    assert one.conflicts == (Conflict("value", "high", high, "low", low),)
    assert two.conflicts == (Conflict("value", "high", high, "low", low),)


def test_delete_with_matching_base_is_a_tombstone_without_conflicts():
    current = record(value=("112", C1), label=("SOS", C2))
    result = apply_delete(current, C3, {"value": C1, "label": C2})
    assert result.state.deleted
    assert result.state.deleted_clock == C3
    assert dict(result.state.fields) == {}
    assert result.conflicts == ()


def test_delete_that_did_not_see_newer_edits_makes_a_conflict_per_unseen_field():
    current = record(value=("113", C2), label=("SOS", C1), note=("ring först", C2), cleared=(None, C2))
    result = apply_delete(current, C3, {"value": C1, "label": C1})
    assert result.state.deleted and result.state.deleted_clock == C3
    assert dict(result.state.fields) == {}
    # label was seen; value was edited after the delete's view; note was never seen;
    # "cleared" holds no value, so nothing is lost there.
    assert sorted(result.conflicts, key=lambda c: c.field) == [
        Conflict("note", None, C3, "ring först", C2),
        Conflict("value", None, C3, "113", C2),
    ]
    assert all(c.kept_device == NODE_C and c.other_device == NODE_B for c in result.conflicts)


def test_delete_stands_even_with_a_lower_clock_than_the_fields():
    current = record(value=("113", C3))
    result = apply_delete(current, C1, {"value": C3})
    assert result.state.deleted and result.state.deleted_clock == C1
    assert result.conflicts == ()


@pytest.mark.parametrize("clock", [C1, C3])
def test_upsert_on_a_tombstone_leaves_the_tombstone_and_keeps_the_values_in_conflicts(clock: str):
    tombstone = apply_delete(record(value=("112", C1)), C2, {"value": C1}).state
    result = apply_upsert(tombstone, {"value": "113", "label": "SOS", "note": None}, clock, {"value": C1})
    assert result.state == tombstone
    assert result.state.deleted and result.state.deleted_clock == C2
    assert sorted(result.conflicts, key=lambda c: c.field) == [
        Conflict("label", None, C2, "SOS", clock),
        Conflict("value", None, C2, "113", clock),
    ]


def test_delete_of_a_missing_record_is_not_found():
    with pytest.raises(RecordNotFound):
        apply_delete(None, C1, {})


def test_delete_of_a_tombstone_changes_nothing():
    tombstone = apply_delete(record(value=("112", C1)), C2, {"value": C1}).state
    result = apply_delete(tombstone, C3, {})
    assert result.state == tombstone
    assert result.state.deleted_clock == C2
    assert result.conflicts == ()


def test_incoming_wins():
    assert incoming_wins(None, C1) is True  # nothing local
    assert incoming_wins(C1, None) is False
    assert incoming_wins(C1, C2) is True  # newer incoming
    assert incoming_wins(C2, C1) is False  # an unpushed local edit stays visible
    assert incoming_wins(C2, C2) is False
    assert incoming_wins(hlc(NOW_MS, 1, NODE_A), hlc(NOW_MS, 1, NODE_B)) is True  # node breaks ties
    assert incoming_wins(hlc(NOW_MS, 1, NODE_B), hlc(NOW_MS, 1, NODE_A)) is False


def test_node_of_keeps_dashes_of_the_node_id():
    assert node_of(hlc(NOW_MS, 0, NODE_A)) == NODE_A
    assert node_of(hlc(NOW_MS, 0, "a-b-c")) == "a-b-c"


@QUICK
@given(
    st.lists(node_ids, min_size=2, max_size=2, unique=True),
    st.integers(0, MAX_COUNTER),
)
def test_ties_are_decided_by_node_in_either_order(nodes: list[str], counter: int):
    clocks = {n: hlc(NOW_MS, counter, n) for n in nodes}
    start = record(value=("old", C1))
    outcomes = []
    for order in (nodes, nodes[::-1]):
        state, conflicts = start, []
        for n in order:
            result = apply_upsert(state, {"value": f"by {n}"}, clocks[n], {"value": C1})
            state, conflicts = result.state, conflicts + list(result.conflicts)
        outcomes.append((state, conflicts))
    winner = max(nodes, key=lambda n: Hlc.parse(clocks[n]))
    loser = min(nodes, key=lambda n: Hlc.parse(clocks[n]))
    for state, conflicts in outcomes:
        assert state == record(value=(f"by {winner}", clocks[winner]))
        assert conflicts == [Conflict("value", f"by {winner}", clocks[winner], f"by {loser}", clocks[loser])]


# ---------------------------------------------------------------------------------------------
# 4. The merge over any delivery order: several devices, one record
# ---------------------------------------------------------------------------------------------

FIELD_NAMES = ("value", "label", "note")
VALUE_POOL = ("x", "y", None)  # small, so that equal values and clears happen often


@dataclass(frozen=True)
class Change:
    idx: int
    device: int
    op: str  # "upsert" | "delete"
    fields: dict[str, Any]
    clock: str
    base: dict[str, str | None]
    after: frozenset[int]  # its causal past: every change that must reach the server before it


@dataclass
class Device:
    node: str
    clock: HybridClock
    wall: list[int]
    view: dict[str, tuple[Any, str]] = field(default_factory=dict)
    past: set[int] = field(default_factory=set)
    outbox: list[int] = field(default_factory=list)
    sees_tombstone: bool = False


@dataclass
class History:
    changes: list[Change]
    reference_order: list[int]
    delete: Change | None


def deliver(state: RecordState | None, change: Change):
    if change.op == "delete":
        return apply_delete(state, change.clock, change.base)
    return apply_upsert(state, change.fields, change.clock, change.base)


def build_history(data, *, with_delete: bool) -> History:
    """Play one realistic run: devices edit offline, push their outboxes, pull the server state.

    Every device has its own HybridClock with an injected wall that starts at (nearly) the same
    time for all and then steps back, stands still or moves forwards, so clocks are realistic,
    unique (distinct nodes) and often tie on wall+counter. When a device edits a field, its base
    is the clock of the last value it knows of that field. A pull applies the client rule
    (``incoming_wins``) and the HLC receive rule to every clock it learns. A change's causal
    past is everything its device had made or pulled before it; any delivery order that keeps
    causal pasts first is an order the real system can produce.
    """
    n = data.draw(st.integers(2, 4), label="devices")
    nodes = data.draw(st.lists(st.uuids().map(str), min_size=n, max_size=n, unique=True), label="nodes")
    fields_used = FIELD_NAMES[: data.draw(st.integers(1, 3), label="fields")]
    unique_values = data.draw(st.booleans(), label="unique values")
    devices: list[Device] = []
    for node in nodes:
        wall = [NOW_MS + data.draw(st.sampled_from([0, 0, 0, 0, 1, 5_000]), label="skew")]
        devices.append(Device(node, HybridClock(node, wall=lambda w=wall: w[0]), wall))
    changes: list[Change] = []
    delivered: list[int] = []
    server: RecordState | None = None
    delete: Change | None = None

    def value_for(field_name: str) -> Any:
        if unique_values:
            return f"{field_name}#{len(changes)}"
        return data.draw(st.sampled_from(VALUE_POOL), label="value")

    def make(d: int, op: str, chosen: list[str]) -> Change:
        dev = devices[d]
        dev.wall[0] += data.draw(st.sampled_from([0, 0, 1, -1, 2, -3]), label="wall step")
        clock = dev.clock.now()
        if op == "delete":
            fields_set: dict[str, Any] = {}
            base = {f: c for f, (_, c) in dev.view.items()}
        else:
            fields_set = {f: value_for(f) for f in chosen}
            base = {f: (dev.view[f][1] if f in dev.view else None) for f in chosen}
        change = Change(len(changes), d, op, fields_set, clock, base, frozenset(dev.past))
        changes.append(change)
        dev.past.add(change.idx)
        dev.outbox.append(change.idx)
        for f, v in fields_set.items():
            dev.view[f] = (v, clock)
        if op == "delete":
            dev.sees_tombstone = True
        return change

    def push(d: int) -> None:
        nonlocal server
        for i in devices[d].outbox:
            server = deliver(server, changes[i]).state
            delivered.append(i)
        devices[d].outbox.clear()

    def pull(d: int) -> None:
        dev = devices[d]
        if server is None:
            return
        dev.past.update(delivered)
        if server.deleted:
            dev.clock.receive(server.deleted_clock)
            dev.sees_tombstone = True
            return
        for f, held in server.fields.items():
            dev.clock.receive(held.clock)
            local = dev.view.get(f)
            if incoming_wins(local[1] if local else None, held.clock):
                dev.view[f] = (held.value, held.clock)

    def pick_fields() -> list[str]:
        return data.draw(
            st.lists(st.sampled_from(fields_used), min_size=1, max_size=len(fields_used), unique=True),
            label="fields set",
        )

    if with_delete or data.draw(st.booleans(), label="created and pulled first"):
        make(0, "upsert", pick_fields())
        push(0)
        for d in range(n):
            pull(d)
    steps = data.draw(st.integers(1, 20), label="steps")
    delete_at = data.draw(st.integers(0, steps), label="delete at") if with_delete else -1
    deleter = data.draw(st.integers(0, n - 1), label="deleter") if with_delete else -1
    for step in range(steps + 1):
        if step == delete_at:
            delete = make(deleter, "delete", [])
            if data.draw(st.booleans(), label="deleter pushes at once"):
                push(deleter)
        if step == steps:
            break
        kind = data.draw(st.sampled_from(["edit", "edit", "edit", "push", "pull", "sync"]), label="step")
        d = data.draw(st.integers(0, n - 1), label="device")
        if kind == "edit":
            if not devices[d].sees_tombstone:  # a device that knows of the delete edits no more
                make(d, "upsert", pick_fields())
        elif kind == "push":
            push(d)
        elif kind == "pull":
            pull(d)
        else:
            push(d)
            pull(d)
    if not changes:
        make(0, "upsert", pick_fields())
    for d in range(n):
        push(d)
    return History(changes, delivered, delete)


def draw_order(data, changes: list[Change], label: str) -> list[int]:
    """Any delivery order in which each change comes after its causal past (and so after the
    earlier changes of its own device)."""
    done: set[int] = set()
    order: list[int] = []
    while len(order) < len(changes):
        ready = [c.idx for c in changes if c.idx not in done and c.after <= done]
        chosen = data.draw(st.sampled_from(ready), label=label)
        done.add(chosen)
        order.append(chosen)
    return order


def greedy_order(changes: list[Change], newest_first: bool) -> list[int]:
    done: set[int] = set()
    order: list[int] = []
    while len(order) < len(changes):
        ready = [c.idx for c in changes if c.idx not in done and c.after <= done]
        chosen = max(ready) if newest_first else min(ready)
        done.add(chosen)
        order.append(chosen)
    return order


def check_step(before: RecordState | None, change: Change, result) -> None:
    """Rule 3/4 at one arrival, stated independently of merge.py's code."""
    after, conflicts = result.state, result.conflicts
    for c in conflicts:  # every conflict is about this change
        assert change.clock in (c.kept_clock, c.other_clock)
    if change.op == "delete":
        assert before is not None
        if before.deleted:
            assert after == before and conflicts == ()
            return
        assert after.deleted and after.deleted_clock == change.clock and dict(after.fields) == {}
        expected = {
            Conflict(f, None, change.clock, held.value, held.clock)
            for f, held in before.fields.items()
            if change.base.get(f) != held.clock and held.value is not None
        }
        assert set(conflicts) == expected and len(conflicts) == len(expected)
        return
    if before is not None and before.deleted:
        assert after == before
        expected = {
            Conflict(f, None, before.deleted_clock, v, change.clock)
            for f, v in change.fields.items()
            if v is not None
        }
        assert set(conflicts) == expected and len(conflicts) == len(expected)
        return
    before_fields = dict(before.fields) if before is not None else {}
    assert not after.deleted
    for f, held in before_fields.items():
        if f not in change.fields:
            assert after.fields[f] == held  # untouched
    assert set(after.fields) == set(before_fields) | set(change.fields)
    for f, value in change.fields.items():
        mine = [c for c in conflicts if c.field == f]
        held = before_fields.get(f)
        incoming = FieldState(value, change.clock)
        if held is None or change.base.get(f) == held.clock:
            assert after.fields[f] == incoming  # it saw what it replaces: it wins
            assert mine == []
            continue
        # concurrent: the higher clock wins; exactly one conflict unless the values are equal
        winner, loser = (
            (incoming, held) if Hlc.parse(change.clock) > Hlc.parse(held.clock) else (held, incoming)
        )
        assert after.fields[f] == winner
        if winner.value == loser.value:
            assert mine == []
        else:
            assert mine == [Conflict(f, winner.value, winner.clock, loser.value, loser.clock)]


def replay(changes: list[Change], order: list[int]) -> tuple[RecordState, list[Conflict]]:
    state: RecordState | None = None
    conflicts: list[Conflict] = []
    for i in order:
        result = deliver(state, changes[i])
        check_step(state, changes[i], result)
        state = result.state
        conflicts.extend(result.conflicts)
    assert state is not None
    return state, conflicts


def orders_for(data, history: History) -> list[list[int]]:
    changes = history.changes
    orders = [
        history.reference_order,
        greedy_order(changes, newest_first=False),
        greedy_order(changes, newest_first=True),
        draw_order(data, changes, "order 1"),
        draw_order(data, changes, "order 2"),
    ]
    for order in orders:  # every order is a valid delivery of every change once
        assert sorted(order) == list(range(len(changes)))
        seen: set[int] = set()
        for i in order:
            assert changes[i].after <= seen
            seen.add(i)
    return orders


def check_clocks_of_history(changes: list[Change]) -> None:
    """The generator's clocks are what HybridClock makes: valid, unique, and (receive rule) a
    change's clock is above every base clock it carries."""
    clocks = [c.clock for c in changes]
    assert len(set(clocks)) == len(clocks)
    for c in changes:
        assert is_valid_hlc(c.clock)
        for b in c.base.values():
            if b is not None:
                assert c.clock > b and Hlc.parse(c.clock) > Hlc.parse(b)


def setters_of(changes: list[Change], f: str) -> list[Change]:
    return [c for c in changes if c.op == "upsert" and f in c.fields]


def check_conflicts_are_truthful(changes: list[Change], conflicts: list[Conflict]) -> None:
    """Every conflict names a value some change really set, never pairs two equal values, no
    value (field, other_clock) is kept as 'other' twice, and a knowing replacement is never a
    conflict: the change that made kept_clock did not carry other_clock as its base for the
    field (so a purely sequential history makes no conflict at all)."""
    set_by = {(f, c.clock): v for c in changes if c.op == "upsert" for f, v in c.fields.items()}
    clock_of = {c.clock: c for c in changes}
    keys = [(c.field, c.other_clock) for c in conflicts]
    assert len(keys) == len(set(keys)), "one overwritten value kept in two conflicts"
    for c in conflicts:
        assert (c.field, c.other_clock) in set_by
        assert set_by[(c.field, c.other_clock)] == c.other_value
        assert c.kept_value != c.other_value, "a conflict between identical values"
        assert c.other_device == node_of(c.other_clock)
        kept_by = clock_of[c.kept_clock]
        assert kept_by.base.get(c.field) != c.other_clock, "a knowing replacement made a conflict"
        if kept_by.op == "upsert":
            assert set_by[(c.field, c.kept_clock)] == c.kept_value
            assert Hlc.parse(c.kept_clock) > Hlc.parse(c.other_clock)  # the higher clock is kept


@PROPERTIES
@given(st.data())
def test_concurrent_edits_converge_whatever_the_delivery_order(data):
    """Properties of rule 3 over every delivery order (each device's own order and its causal
    past kept):

    (a) the final record (every field's value AND clock) is the same for all orders drawn —
        the reference run, earliest-first, newest-first and two orders drawn by hypothesis;
    (b) each field's final value is the one carried by the highest clock, by clock order
        (wall, counter, node) computed from the parsed Hlc, among the changes that set it;
    (c) so ties on wall+counter are broken by node id, the same way in every order;
    (d) conflicts, in every order:
        - each arrival makes exactly the conflicts rule 3 asks (``check_step``): none when the
          base matched; for a concurrent overwrite exactly one, holding winner as kept and loser
          as other, unless the two values are equal, in which case none;
        - every conflict is truthful (both sides are values changes really set; kept has the
          higher clock), never between identical values, no overwritten (field, clock) is kept
          as other twice, and no conflict pairs a change with the value it knowingly replaced;
        - call a change's value of field f "knowingly replaced" when some later change's base for
          f equals its clock. A change whose value is not the final one, was not knowingly
          replaced, and is the only change setting f to that value appears in EXACTLY ONE
          conflict, as other_value/other_clock;
        - value level, whatever repeats: every value any change set on f that is not the final
          value appears as other_value of some conflict on f, unless some change setting f to
          that very value was knowingly replaced (a person saw that value and replaced it).
          (Which equal-valued copy lands in the conflict, and whether a value that was later
          knowingly replaced still gets a conflict from a concurrent overwrite that reached
          the server first, depends on the order; rule 3 decides per arrival.)
        - the final winner is never the 'other' of a conflict.
    """
    history = build_history(data, with_delete=False)
    changes = history.changes
    check_clocks_of_history(changes)
    outcomes = [replay(changes, order) for order in orders_for(data, history)]
    final = outcomes[0][0]
    for state, _ in outcomes[1:]:
        assert state == final  # (a)

    all_fields = {f for c in changes for f in c.fields}
    assert set(final.fields) == all_fields and not final.deleted
    knowingly_replaced = {(f, b) for c in changes for f, b in c.base.items() if b is not None}
    for f in all_fields:
        setters = setters_of(changes, f)
        winner = max(setters, key=lambda c: Hlc.parse(c.clock))
        assert final.fields[f] == FieldState(winner.fields[f], winner.clock)  # (b)
        top = Hlc.parse(winner.clock)
        tied = [
            c for c in setters
            if (Hlc.parse(c.clock).wall_ms, Hlc.parse(c.clock).counter) == (top.wall_ms, top.counter)
        ]
        if len(tied) > 1:
            event("the winning clock ties another on wall+counter")
            assert top.node == max(Hlc.parse(c.clock).node for c in tied)  # (c)

    wall_counters = [(Hlc.parse(c.clock).wall_ms, Hlc.parse(c.clock).counter) for c in changes]
    if len(set(wall_counters)) < len(wall_counters):
        event("two changes tie on wall+counter")
    for _, conflicts in outcomes:
        check_conflicts_are_truthful(changes, conflicts)
        others = Counter((c.field, c.other_clock) for c in conflicts)
        for f in all_fields:
            setters = setters_of(changes, f)
            final_f = final.fields[f]
            assert others[(f, final_f.clock)] == 0
            values = Counter(c.fields[f] for c in setters)
            for c in setters:
                v = c.fields[f]
                if c.clock == final_f.clock or (f, c.clock) in knowingly_replaced:
                    continue
                if values[v] == 1:
                    assert others[(f, c.clock)] == 1, (f, v, c.clock)
            for v in values:
                if v == final_f.value:
                    continue
                accounted = any(x.field == f and x.other_value == v for x in conflicts) or any(
                    c.fields[f] == v and (f, c.clock) in knowingly_replaced for c in setters
                )
                assert accounted, f"value {v!r} of {f} vanished without a conflict"
        if conflicts:
            event("conflicts made")


@PROPERTIES
@given(st.data())
def test_a_delete_stands_and_keeps_every_unseen_edit_whatever_the_delivery_order(data):
    """Rule 4 over every delivery order. One device deletes the record (its base: every field
    clock it knows); devices that learn of the tombstone edit no more, others go on offline.

    - In every order the record ends as the same tombstone: deleted, no fields, deleted_clock
      the delete's clock; each arrival makes exactly the conflicts rules 3/4 ask (``check_step``).
    - "Seen by the delete" = in the delete's causal past (made or pulled by the deleting device
      before it deleted). Every edit NOT seen by the delete that sets a field to a non-null
      value, was not knowingly replaced (no later change's base is its clock) and is the only
      change setting that field to that value appears in EXACTLY ONE conflict as
      other_value/other_clock. (A null value loses nothing.)
    - Value level, whatever repeats: every non-null value any change set on f appears as
      other_value of a conflict on f, unless a change setting f to that very value was
      knowingly replaced, or its clock is the delete's base for f (the deleter saw it).
    - Conflicts are truthful, never between identical values, never two for one (field, clock),
      and never pair a change (or the delete) with a value it knowingly replaced.
    """
    history = build_history(data, with_delete=True)
    changes, delete = history.changes, history.delete
    assert delete is not None
    check_clocks_of_history(changes)
    outcomes = [replay(changes, order) for order in orders_for(data, history)]
    for state, _ in outcomes:
        assert state == outcomes[0][0]
        assert state.deleted and dict(state.fields) == {} and state.deleted_clock == delete.clock

    knowingly_replaced = {
        (f, b) for c in changes if c.op == "upsert" for f, b in c.base.items() if b is not None
    }
    seen_by_delete = {(f, b) for f, b in delete.base.items() if b is not None}
    unseen = [c for c in changes if c.op == "upsert" and c.idx not in delete.after]
    if unseen:
        event("edits concurrent with the delete")
    all_fields = {f for c in changes for f in c.fields}
    for _, conflicts in outcomes:
        check_conflicts_are_truthful(changes, conflicts)
        others = Counter((c.field, c.other_clock) for c in conflicts)
        for c in unseen:
            for f, v in c.fields.items():
                if v is None or (f, c.clock) in knowingly_replaced:
                    continue
                if sum(1 for s in setters_of(changes, f) if s.fields[f] == v) == 1:
                    assert others[(f, c.clock)] == 1, (f, v, c.clock)
        for f in all_fields:
            setters = setters_of(changes, f)
            for v in {s.fields[f] for s in setters}:
                if v is None:
                    continue
                accounted = any(x.field == f and x.other_value == v for x in conflicts) or any(
                    s.fields[f] == v and ((f, s.clock) in knowingly_replaced or (f, s.clock) in seen_by_delete)
                    for s in setters
                )
                assert accounted, f"value {v!r} of {f} vanished without a conflict"
