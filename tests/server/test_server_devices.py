"""Health, versions, enrollment (one-time, expiry, rate limit), /v1/me, tokens and revocation, admin endpoints."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from sync.server import operations
from sync.server.auth import hash_secret
from sync.server.models import Audit, Device, EnrollmentCode

from server_support import Region, Server, assert_problem, start_server, stop_server


def test_health_needs_no_auth_and_names_versions(server: Server):
    response = server.client.get("/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["protocol_versions"] == ["v1"]
    assert body["min_client_version"] == "0.1.0" and body["version"]
    assert body["server_time"].endswith("Z")


def test_too_old_client_gets_426_in_words(db_url: str):
    server = start_server(db_url, min_client_version="0.3.0")
    try:
        old = {"User-Agent": "Samverka/0.2.9"}
        for path in ("/v1/health", "/v1/me", "/v1/sync/pull"):
            body = assert_problem(server.client.get(path, headers=old), 426, "client-too-old")
            assert "0.3.0" in body["detail"] and body["min_client_version"] == "0.3.0"
        for agent in ("Samverka/0.3.0", "Samverka/0.3", "Samverka/1.0.0 (Windows)", "curl/8"):
            assert server.client.get("/v1/health", headers={"User-Agent": agent}).status_code == 200
    finally:
        stop_server(server)


def test_enroll_answers_device_token_organisation_and_role(server: Server):
    org = server.org("SOS", name="SOS Alarm")
    code = server.code("SOS", "org_admin")
    response = server.client.post("/v1/devices/enroll", json={"code": code.lower(), "device_name": "TiB-laptop"})
    assert response.status_code == 201
    body = response.json()
    assert body["organisation"] == {"id": org, "name": "SOS Alarm"} and body["role"] == "org_admin"
    assert len(body["token"]) >= 43 and uuid.UUID(body["device_id"])
    with server.sessions() as session:
        device = session.get(Device, body["device_id"])
        assert device.token_hash == hash_secret(body["token"]) and body["token"] not in device.token_hash
        assert session.get(EnrollmentCode, hash_secret(code)).used_by == body["device_id"]
    me = server.client.get("/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["device_id"] == body["device_id"] and me.json()["device_name"] == "TiB-laptop"
    assert me.json()["organisation"]["short_name"] == "SOS" and me.json()["role"] == "org_admin"


def test_enrollment_code_shape_is_readable_over_the_phone(server: Server):
    server.org("SOS")
    code = server.code("SOS")
    groups = code.split("-")
    assert len(groups) == 4 and all(len(g) == 4 for g in groups)
    assert not set(code) & set("01ILO")


def test_codes_are_one_time_and_expire(server: Server, monkeypatch):
    server.org("SOS")
    code = server.code("SOS")
    enroll = lambda c: server.client.post("/v1/devices/enroll", json={"code": c, "device_name": "d"})
    assert enroll(code).status_code == 201
    assert_problem(enroll(code), 410, "unauthorized")
    assert_problem(enroll("ABCD-EFGH-JKMN-PQRS"), 401, "unauthorized")
    assert_problem(enroll("not a code"), 401, "unauthorized")
    expiring = server.code("SOS", ttl_ms=60_000)
    from sync.server import timeutil

    later = timeutil.now_ms() + 61_000
    monkeypatch.setattr("sync.server.auth.now_ms", lambda: later)
    body = assert_problem(enroll(expiring), 410, "unauthorized")
    assert "expired" in body["detail"]


def test_failed_enrollments_are_rate_limited_per_address(server: Server):
    server.org("SOS")
    good = server.code("SOS")
    enroll = lambda c: server.client.post("/v1/devices/enroll", json={"code": c, "device_name": "d"})
    assert enroll(good).status_code == 201  # a success does not count
    for _ in range(10):
        assert enroll("ABCD-EFGH-JKMN-PQRS").status_code == 401
    limited = enroll(server.code("SOS"))
    body = assert_problem(limited, 429, "rate-limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 900
    assert body["detail"]


def test_bad_missing_and_revoked_tokens_get_401_everywhere(region: Region):
    server = region.server
    calls = [
        ("get", "/v1/me", None),
        ("get", "/v1/sync/pull", None),
        ("get", "/v1/sync/digest", None),
        ("post", "/v1/sync/push", {"changes": []}),
        ("get", "/v1/admin/devices", None),
        ("post", "/v1/admin/enrollment-codes", {"role": "member"}),
        ("post", f"/v1/admin/devices/{region.sos_member.device_id}/revoke", None),
    ]
    target = region.sos_admin
    assert target.get("/v1/me").status_code == 200
    response = region.lst_admin.post(f"/v1/admin/devices/{target.device_id}/revoke")
    assert response.status_code == 200 and response.json()["revoked_at"]
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}, target.headers):
        for method, path, body in calls:
            kwargs = {"json": body} if body is not None else {}
            response = getattr(server.client, method)(path, headers=headers, **kwargs)
            assert_problem(response, 401, "unauthorized")
    assert region.sos_member.get("/v1/me").status_code == 200


def test_admin_creates_codes_for_own_organisation_only(region: Region):
    admin, member, lst = region.sos_admin, region.sos_member, region.lst_admin
    response = admin.post("/v1/admin/enrollment-codes", json={"role": "member", "ttl_hours": 2})
    assert response.status_code == 201
    body = response.json()
    assert body["organisation"]["id"] == region.sos and body["expires_at"].endswith("Z")
    enrolled = region.server.client.post("/v1/devices/enroll", json={"code": body["code"], "device_name": "n"})
    assert enrolled.json()["organisation"]["id"] == region.sos and enrolled.json()["role"] == "member"

    assert_problem(member.post("/v1/admin/enrollment-codes", json={"role": "member"}), 403, "forbidden")
    other = {"role": "member", "organisation_id": region.kom}
    assert_problem(admin.post("/v1/admin/enrollment-codes", json=other), 403, "forbidden")
    assert_problem(
        admin.post("/v1/admin/enrollment-codes", json={"role": "regional_admin"}), 403, "forbidden"
    )
    assert lst.post("/v1/admin/enrollment-codes", json=other).status_code == 201
    body = assert_problem(
        lst.post("/v1/admin/enrollment-codes", json={"role": "regional_admin", "organisation_id": region.kom}),
        422, "invalid",
    )
    assert body["field"] == "role"
    assert lst.post("/v1/admin/enrollment-codes", json={"role": "regional_admin"}).status_code == 201
    assert_problem(
        lst.post("/v1/admin/enrollment-codes", json={"role": "member", "organisation_id": str(uuid.uuid4())}),
        404, "not-found",
    )
    assert_problem(admin.post("/v1/admin/enrollment-codes", json={"role": "king"}), 422, "invalid")
    assert_problem(
        admin.post("/v1/admin/enrollment-codes", json={"role": "member", "ttl_hours": 0}), 422, "invalid"
    )


def test_admin_lists_and_revokes_devices_in_scope(region: Region):
    admin, lst = region.sos_admin, region.lst_admin
    listed = admin.get("/v1/admin/devices").json()["devices"]
    assert {d["device_id"] for d in listed} == {region.sos_member.device_id, admin.device_id}
    assert all(d["organisation"]["id"] == region.sos for d in listed)
    everyone = lst.get("/v1/admin/devices").json()["devices"]
    assert len(everyone) == 4
    only_kom = lst.get("/v1/admin/devices", params={"organisation_id": region.kom}).json()["devices"]
    assert [d["device_id"] for d in only_kom] == [region.kom_member.device_id]
    assert_problem(admin.get("/v1/admin/devices", params={"organisation_id": region.kom}), 403, "forbidden")
    assert_problem(region.sos_member.get("/v1/admin/devices"), 403, "forbidden")

    assert_problem(admin.post(f"/v1/admin/devices/{region.kom_member.device_id}/revoke"), 403, "forbidden")
    assert_problem(admin.post(f"/v1/admin/devices/{uuid.uuid4()}/revoke"), 404, "not-found")
    assert_problem(admin.post("/v1/admin/devices/xyz/revoke"), 422, "invalid")
    revoked = admin.post(f"/v1/admin/devices/{region.sos_member.device_id}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert_problem(region.sos_member.get("/v1/sync/pull"), 401, "unauthorized")
    assert lst.post(f"/v1/admin/devices/{region.kom_member.device_id}/revoke").status_code == 200
    assert_problem(region.kom_member.get("/v1/me"), 401, "unauthorized")


def test_audit_records_pushes_and_admin_actions_without_secrets(region: Region):
    sos = region.sos_member
    sos.create("functions", {"organisation_id": sos.org_id, "name": "TiB"})
    sos.push(sos.change("weather", fields={}))
    region.sos_admin.post(f"/v1/admin/devices/{sos.device_id}/revoke")
    with region.server.sessions() as session:
        rows = list(session.scalars(select(Audit)))
    ops = {(r.op, r.status.split(":")[0]) for r in rows}
    assert {("upsert", "applied"), ("upsert", "rejected"), ("revoke", "applied"), ("enroll", "applied")} <= ops
    text = repr([(r.op, r.status, r.record_id, r.change_id, r.collection) for r in rows])
    for dev in (region.sos_member, region.sos_admin, region.lst_admin, region.kom_member):
        assert dev.token not in text


def test_no_secret_in_log_lines(region: Region, caplog: pytest.LogCaptureFixture):
    caplog.set_level("DEBUG")
    server = region.server
    code = server.code("SOS")
    response = server.client.post("/v1/devices/enroll", json={"code": code, "device_name": "d"})
    token = response.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    server.client.get("/v1/me", headers=headers)
    server.client.post("/v1/sync/push", headers=headers, content=b"{broken")
    assert token not in caplog.text and code not in caplog.text


def test_enrollment_code_rows_hold_only_hashes(server: Server):
    server.org("SOS")
    code = server.code("SOS")
    with server.sessions() as session:
        rows = list(session.scalars(select(EnrollmentCode)))
    assert [r.code_hash for r in rows] == [hash_secret(code)]
    assert all(code not in repr(vars(r)) for r in rows)


def test_org_admin_device_list_from_operations_matches_api(region: Region):
    pairs = region.server.run(lambda s: operations.list_devices(s, "SOS"))
    assert {d.id for d, _ in pairs} == {region.sos_member.device_id, region.sos_admin.device_id}


# --- admin scope (issue 7, item 14) -----------------------------------------------------------

def _code_for(dev, organisation_id: str, role: str = "member"):
    return dev.post("/v1/admin/enrollment-codes", json={"role": role, "organisation_id": organisation_id})


def test_regional_admin_issues_codes_for_another_organisation_only_to_bootstrap_it(region: Region):
    server, lst = region.server, region.lst_admin
    kom_first = _code_for(lst, region.kom, "org_admin")  # KOM has no org_admin yet
    assert kom_first.status_code == 201, kom_first.text
    enrolled = server.client.post("/v1/devices/enroll", json={"code": kom_first.json()["code"], "device_name": "KOM admin"})
    kom_admin = enrolled.json()
    body = assert_problem(_code_for(lst, region.kom), 403, "forbidden")
    assert body["field"] == "organisation_id" and "org_admin" in body["detail"]
    assert_problem(_code_for(lst, region.sos), 403, "forbidden")  # SOS has had its admin all along
    assert _code_for(lst, region.lst).status_code == 201  # its own organisation: always
    headers = {"Authorization": f"Bearer {kom_admin['token']}"}
    assert server.client.post("/v1/admin/enrollment-codes", headers=headers, json={"role": "member"}).status_code == 201
    # The organisation's admins are gone: the regional administrator may start it again.
    assert lst.post(f"/v1/admin/devices/{kom_admin['device_id']}/revoke").status_code == 200
    assert _code_for(lst, region.kom).status_code == 201
    # The server administrator's command line is not limited.
    assert server.code("SOS", "org_admin")


def test_an_org_admin_cannot_revoke_a_regional_admin_device(region: Region):
    lst_org_admin = region.server.enroll("LST", "org_admin", "LST IT")
    body = assert_problem(lst_org_admin.post(f"/v1/admin/devices/{region.lst_admin.device_id}/revoke"), 403, "forbidden")
    assert body["field"] == "device_id"
    assert region.lst_admin.get("/v1/me").status_code == 200
    other_ra = region.server.enroll("LST", "regional_admin", "LST 2")
    assert other_ra.post(f"/v1/admin/devices/{region.lst_admin.device_id}/revoke").status_code == 200
    member = region.server.enroll("LST", "member", "LST member")
    assert lst_org_admin.post(f"/v1/admin/devices/{member.device_id}/revoke").status_code == 200


# --- enrollment limits (item 15) --------------------------------------------------------------

def test_a_burst_of_failed_enrollments_is_held_to_the_limit(db_url: str):
    """Concurrent failures from one address: no count-then-insert race lets more through."""
    import threading

    limit, attempts = 3, 24
    server = start_server(db_url, enroll_failure_limit=limit)
    try:
        server.org("SOS")
        gate = threading.Barrier(attempts)
        statuses: list[int] = []

        def attempt() -> None:
            gate.wait()
            response = server.client.post("/v1/devices/enroll", json={"code": "ABCD-EFGH-JKMN-PQRS", "device_name": "d"})
            statuses.append(response.status_code)

        threads = [threading.Thread(target=attempt) for _ in range(attempts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sorted(set(statuses)) == [401, 429] and len(statuses) == attempts
        assert statuses.count(401) == limit, statuses
    finally:
        stop_server(server)


def test_ipv6_peers_are_limited_by_their_64_network(db_url: str):
    from sync.server.auth import rate_limit_key

    assert rate_limit_key("2001:db8:1:2:aaaa::1") == rate_limit_key("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert rate_limit_key("2001:db8:1:3::1") != rate_limit_key("2001:db8:1:2::1")
    assert rate_limit_key("::ffff:192.0.2.7") == rate_limit_key("192.0.2.7") == "192.0.2.7"
    assert rate_limit_key("fe80::1%eth0") == "fe80::/64"

    def attempts_from(address: str, count: int) -> list[int]:
        server = start_server(db_url, client_address=(address, 40000), enroll_failure_limit=2)
        try:
            return [
                server.client.post("/v1/devices/enroll", json={"code": "ABCD-EFGH-JKMN-PQRS", "device_name": "d"}).status_code
                for _ in range(count)
            ]
        finally:
            stop_server(server)

    assert attempts_from("2001:db8:1:2::1", 2) == [401, 401]
    assert attempts_from("2001:db8:1:2::99", 1) == [429]  # another address in the same /64
    assert attempts_from("2001:db8:1:3::1", 1) == [401]  # the next /64 is someone else


# --- last seen (what a new user ran into) ------------------------------------------------------

def test_every_authenticated_call_notes_the_device_as_seen_at_most_once_a_minute(region: Region, monkeypatch):
    server, kom = region.server, region.kom_member

    def seen() -> int | None:
        return {d.id: d.last_seen_at for d, _ in server.run(lambda s: operations.list_devices(s))}[kom.device_id]

    assert seen() is None
    assert kom.pull_page().status_code == 200
    first = seen()
    assert first is not None
    assert kom.get("/v1/sync/digest").status_code == 200 and kom.get("/v1/me").status_code == 200
    assert seen() == first  # within the minute: no write

    from sync.server import timeutil

    later = timeutil.now_ms() + 61_000
    monkeypatch.setattr("sync.server.deps.now_ms", lambda: later)
    assert kom.pull_page().status_code == 200
    assert seen() == later
