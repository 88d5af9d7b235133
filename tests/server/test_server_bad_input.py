"""Bad requests get a 4xx problem+json, never a 5xx: JSON, types, sizes, cursors, paths."""

from __future__ import annotations

import json
import uuid

import pytest

from sync.server.storage import encode_cursor

from server_support import Region, assert_problem


def _push(dev, content: bytes, content_type: str = "application/json"):
    return dev.server.client.post(
        "/v1/sync/push", content=content, headers={**dev.headers, "Content-Type": content_type}
    )


@pytest.mark.parametrize(
    "body, status",
    [
        (b"{broken", 400),
        (b"", 422),
        (b"[]", 422),
        (b"null", 422),
        (b'{"changes": 3}', 422),
        (b'{"changes": [3]}', 422),
        (b'{"changes": [{"change_id": 1}]}', 422),
        (b'{"changes": [{"change_id": "a", "collection": "functions", "record_id": "b", "op": "upsert", "clock": "c", "fields": []}]}', 422),
        (b'{"changes": [{"change_id": "a", "collection": "functions", "record_id": "b", "op": "upsert", "clock": "c", "base": "x"}]}', 422),
        ("{\"changes\": [\"\udcff\"]}".encode("utf-8", "surrogatepass"), 422),
        (b"\xff\xfe{}", 400),
        (b'{"changes": [{"change_id": "a", "collection": "c", "record_id": "b", "op": "upsert", "clock": "c", "base": {"\\udc00": null}}]}', 422),
        (b"{\"changes\": [{\"change_id\": \"a\", \"collection\": \"functions\", \"record_id\": \"b\", \"op\": \"upsert\", \"clock\": \"c\", \"fields\": {\"name\": \"\\ud800\"}}]}", 422),
    ],
)
def test_malformed_push_bodies_are_problems(region: Region, body: bytes, status: int):
    response = _push(region.sos_member, body)
    assert 400 <= response.status_code < 500
    problem = assert_problem(response, response.status_code, "invalid")
    assert response.status_code == status, problem


def test_too_many_changes_is_413(region: Region):
    sos = region.sos_member
    change = sos.change("functions", fields={"organisation_id": sos.org_id, "name": "x"})
    changes = [dict(change, change_id=str(uuid.uuid4())) for _ in range(1001)]
    assert_problem(sos.post("/v1/sync/push", json={"changes": changes}), 413, "too-large")
    assert sos.post("/v1/sync/push", json={"changes": changes[:1000]}).status_code == 200


def test_body_over_4_mib_is_413(region: Region):
    huge = json.dumps({"changes": [], "padding": "x" * (4 * 1024 * 1024)}).encode()
    assert_problem(_push(region.sos_member, huge), 413, "too-large")


def test_body_over_4_mib_without_content_length_is_413(region: Region):
    def chunks():
        yield b'{"changes": [], "padding": "'
        for _ in range(5):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    sos = region.sos_member
    response = sos.server.client.post(
        "/v1/sync/push", content=chunks(), headers={**sos.headers, "Content-Type": "application/json"}
    )
    assert_problem(response, 413, "too-large")


@pytest.mark.parametrize(
    "cursor", ["garbage", "!!!", encode_cursor(1).upper(), "dj", "x" * 300, "djE6LTE", "djI6MQ"]
)
def test_unreadable_cursor_is_400_invalid(region: Region, cursor: str):
    response = region.sos_member.pull_page(cursor)
    assert response.status_code in (400, 422)
    assert_problem(response, response.status_code, "invalid")


@pytest.mark.parametrize("limit", ["0", "5001", "-1", "many"])
def test_limit_out_of_range_is_a_problem(region: Region, limit: str):
    response = region.sos_member.get("/v1/sync/pull", params={"limit": limit})
    assert_problem(response, 422, "invalid")


def test_limit_bounds_are_accepted(region: Region):
    for limit in (1, 5000):
        assert region.sos_member.pull_page(limit=limit).status_code == 200


def test_unknown_path_and_method_are_problems(region: Region):
    assert_problem(region.sos_member.get("/v1/nothing"), 404, "not-found")
    assert_problem(region.sos_member.get("/v1/sync/push"), 405, "invalid")


def test_enroll_with_bad_body_is_a_problem(region: Region):
    client = region.server.client
    assert_problem(client.post("/v1/devices/enroll", json={"code": "x"}), 422, "invalid")
    assert_problem(client.post("/v1/devices/enroll", json={"code": "ABCD", "device_name": "  "}), 422, "invalid")
    assert_problem(client.post("/v1/devices/enroll", content=b"{", headers={"Content-Type": "application/json"}), 400, "invalid")


def test_unknown_collection_and_field_are_rejected_per_change(region: Region):
    sos = region.sos_member
    results = sos.push(
        sos.change("weather", fields={"x": 1}),
        sos.change("functions", fields={"organisation_id": sos.org_id, "name": "x", "shoe_size": 42}),
    )
    assert [r["problem"]["field"] for r in results] == ["collection", "shoe_size"]
    assert all(r["problem"]["type"] == "/problems/invalid" for r in results)


def test_nested_values_are_rejected_not_crashed(region: Region):
    sos = region.sos_member
    result = sos.push_one(
        sos.change("functions", fields={"organisation_id": sos.org_id, "name": {"nested": [1, 2]}})
    )
    assert result["status"] == "rejected" and result["problem"]["field"] == "name"
    result = sos.push_one(
        sos.change("channels", fields={"function_id": [1], "kind": "phone", "value": "1"})
    )
    assert result["status"] == "rejected" and result["problem"]["field"] == "function_id"


def _nested(depth: int, opening: str = "[", closing: str = "]") -> str:
    return opening * depth + "1" + closing * depth


@pytest.mark.parametrize("depth", [40, 330, 10_000])
@pytest.mark.parametrize("where", ["fields", "base"])
def test_deeply_nested_values_are_a_bounded_422(region: Region, depth: int, where: str):
    """JSON nested hundreds of levels inside a change used to be a RecursionError (500)."""
    sos = region.sos_member
    change = sos.change("functions", fields={"organisation_id": sos.org_id, "name": "x"})
    change[where] = {"name": "PLACEHOLDER"}
    body = json.dumps({"changes": [change]}).replace('"PLACEHOLDER"', _nested(depth))
    problem = assert_problem(_push(sos, body.encode()), 422, "invalid")
    assert "nested" in problem["detail"], problem


def test_deeply_nested_objects_in_other_bodies_are_a_422(region: Region):
    sos = region.sos_member
    nested = '{"a":' * 10_000 + "1" + "}" * 10_000
    for path, body in (
        ("/v1/sync/push", '{"changes": [], "padding": %s}' % nested),
        ("/v1/devices/enroll", '{"code": %s, "device_name": "d"}' % nested),
        ("/v1/admin/enrollment-codes", '{"role": %s}' % nested),
    ):
        response = sos.server.client.post(
            path, content=body.encode(), headers={**sos.headers, "Content-Type": "application/json"}
        )
        assert_problem(response, 422, "invalid")
    assert sos.pull_page().status_code == 200  # the server is fine afterwards
