"""The `samverka-server` admin CLI, called in-process: init, org, enroll-code, devices, compact, demo."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from server_support import Server, assert_problem, start_server, stop_server

from sync.records import DEMO_NAMESPACE
from sync.server.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_creates_then_reports_up_to_date(tmp_path: Path, capsys, monkeypatch):
    url = f"sqlite:///{tmp_path / 'sub' / 'server.db'}"
    code, out, _ = run(capsys, "init", "--db", url)
    assert code == 0 and "Created" in out
    code, out, _ = run(capsys, "init", "--db", url)
    assert code == 0 and "up to date" in out
    monkeypatch.setenv("SAMVERKA_SERVER_DB", url)
    code, out, _ = run(capsys, "init")
    assert code == 0 and "up to date" in out


def test_commands_before_init_and_bad_urls_fail_in_words(tmp_path: Path, capsys):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    code, out, err = run(capsys, "org", "add", "SOS Alarm", "--short", "SOS", "--db", url)
    assert code == 1 and "samverka-server init" in err and "Traceback" not in err
    code, _, err = run(capsys, "init", "--db", "mysql://localhost/x")
    assert code == 1 and "unsupported" in err
    code, _, err = run(capsys, "init", "--db", "::::")
    assert code == 1 and "URL" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["enroll-code", "--org", "SOS", "--role", "emperor", "--db", url])
    assert exit_info.value.code == 2


def test_org_add_prints_id_and_makes_a_synced_record(db_url: str, capsys):
    code, out, _ = run(capsys, "org", "add", "Länsstyrelsen Stockholm", "--short", "LST",
                       "--kind", "county_board", "--regional-admin", "--db", db_url)
    assert code == 0
    org_id = out.strip()
    assert str(uuid.UUID(org_id)) == org_id
    code, _, err = run(capsys, "org", "add", "Another", "--short", "lst", "--db", db_url)
    assert code == 1 and "already exists" in err
    code, out, _ = run(capsys, "org", "list", "--db", db_url)
    assert org_id in out and "regional administrator" in out

    server = start_server(db_url)
    try:
        record = server.record("organisations", org_id)
        assert record.owner_org == org_id and record.fields["kind"]["value"] == "county_board"
        assert record.fields["short_name"]["value"] == "LST"
    finally:
        stop_server(server)


def test_enroll_code_devices_list_and_revoke(db_url: str, capsys):
    run(capsys, "org", "add", "SOS Alarm", "--short", "SOS", "--db", db_url)
    code, out, _ = run(capsys, "enroll-code", "--org", "SOS", "--role", "org_admin", "--ttl", "2h", "--db", db_url)
    assert code == 0
    enrollment = out.split()[-1]
    assert len(enrollment) == 19 and enrollment.count("-") == 3

    code, _, err = run(capsys, "enroll-code", "--org", "SOS", "--role", "regional_admin", "--db", db_url)
    assert code == 1 and "regional" in err
    code, _, err = run(capsys, "enroll-code", "--org", "SOS", "--role", "member", "--ttl", "soon", "--db", db_url)
    assert code == 1 and "duration" in err
    code, _, err = run(capsys, "enroll-code", "--org", "NOPE", "--role", "member", "--db", db_url)
    assert code == 1 and "SOS" in err

    server = start_server(db_url)
    try:
        response = server.client.post("/v1/devices/enroll", json={"code": enrollment, "device_name": "TiB"})
        assert response.status_code == 201
        device = response.json()
        headers = {"Authorization": f"Bearer {device['token']}"}
        code, out, _ = run(capsys, "devices", "list", "--org", "SOS", "--db", db_url)
        assert code == 0 and device["device_id"] in out and "active" in out
        code, out, _ = run(capsys, "devices", "revoke", device["device_id"], "--db", db_url)
        assert code == 0 and "Revoked" in out
        code, out, _ = run(capsys, "devices", "list", "--db", db_url)
        assert "revoked" in out
        assert_problem(server.client.get("/v1/me", headers=headers), 401, "unauthorized")
        code, _, err = run(capsys, "devices", "revoke", str(uuid.uuid4()), "--db", db_url)
        assert code == 1 and "no device" in err
    finally:
        stop_server(server)


def test_compact_reports_what_it_removed(db_url: str, capsys):
    code, out, _ = run(capsys, "compact", "--older-than-days", "0", "--db", db_url)
    assert code == 0 and "Removed 0" in out
    code, _, err = run(capsys, "compact", "--older-than-days", "-1", "--db", db_url)
    assert code == 1 and "negative" in err


def test_serve_refuses_half_tls_before_starting(db_url: str, tmp_path: Path, capsys):
    code, _, err = run(capsys, "serve", "--tls-cert", str(tmp_path / "c.pem"), "--db", db_url)
    assert code == 1 and "--tls-key" in err
    code, _, err = run(capsys, "serve", "--tls-cert", str(tmp_path / "c.pem"), "--tls-key",
                       str(tmp_path / "k.pem"), "--db", db_url)
    assert code == 1 and "no such file" in err


def _demo_file(tmp_path: Path) -> Path:
    records = [
        {"collection": "organisations", "key": "org-lst", "fields": {"name": "Länsstyrelsen", "short_name": "Lst", "kind": "county_board"}},
        {"collection": "organisations", "key": "org-sos", "fields": {"name": "SOS Alarm", "short_name": "SOS", "kind": "agency"}},
        {"collection": "functions", "key": "fn-sos", "fields": {"organisation_id": {"ref": "org-sos"}, "name": "TiB"}},
        {"collection": "channels", "key": "ch-sos", "fields": {"function_id": {"ref": "fn-sos"}, "kind": "phone", "value": "070-1740605"}},
        {"collection": "forums", "key": "forum", "fields": {"name": "RSS", "level": "coordinating", "convenor_function_id": {"ref": "fn-sos"}}},
        {"collection": "mandates", "key": "m", "fields": {"forum_id": {"ref": "forum"}, "function_id": {"ref": "fn-sos"}, "role": "member"}},
        {"collection": "routines", "key": "r-sos", "fields": {"title": "Larm", "organisation_id": {"ref": "org-sos"}, "visibility": "internal"}},
        {"collection": "routine_steps", "key": "s", "fields": {"routine_id": {"ref": "r-sos"}, "position": "a0", "text": "Ring"}},
        {"collection": "routines", "key": "r-forum", "fields": {"title": "Sammankalla", "forum_id": {"ref": "forum"}}},
    ]
    path = tmp_path / "region.json"
    path.write_text(json.dumps({"format": 1, "records": records}), encoding="utf-8")
    return path


def test_demo_builds_a_working_region_with_demo_ids_and_owners(db_url: str, tmp_path: Path, capsys):
    code, out, _ = run(capsys, "demo", "--file", str(_demo_file(tmp_path)), "--db", db_url)
    assert code == 0 and "2 organisations" in out
    codes = {line.split()[0] + "/" + line.split()[1]: line.split()[-1] for line in out.splitlines() if line.startswith("  ")}
    assert "Lst/regional_admin" in codes and "SOS/org_admin" in codes

    ids = {key: str(uuid.uuid5(DEMO_NAMESPACE, key)) for key in ("org-lst", "org-sos", "fn-sos", "ch-sos", "forum", "m", "r-sos", "s", "r-forum")}
    server = start_server(db_url)
    try:
        owner = lambda c, k: server.record(c, ids[k]).owner_org
        assert owner("organisations", "org-sos") == ids["org-sos"]
        assert owner("functions", "fn-sos") == ids["org-sos"] and owner("channels", "ch-sos") == ids["org-sos"]
        assert owner("forums", "forum") == ids["org-lst"] and owner("mandates", "m") == ids["org-lst"]
        assert owner("routines", "r-sos") == ids["org-sos"] and owner("routine_steps", "s") == ids["org-sos"]
        assert owner("routines", "r-forum") == ids["org-lst"]

        def enroll(code: str):
            body = server.client.post("/v1/devices/enroll", json={"code": code, "device_name": "d"}).json()
            return body, {"Authorization": f"Bearer {body['token']}"}

        lst, lst_headers = enroll(codes["Lst/regional_admin"])
        assert lst["organisation"]["id"] == ids["org-lst"] and lst["role"] == "regional_admin"
        sos, sos_headers = enroll(codes["SOS/org_admin"])
        assert sos["organisation"] == {"id": ids["org-sos"], "name": "SOS Alarm"}
        page = server.client.get("/v1/sync/pull", headers=lst_headers).json()
        by_id = {r["record_id"]: r for r in page["records"]}
        assert len(by_id) == 9 and by_id[ids["r-sos"]]["deleted"] is True  # internal to SOS
        page = server.client.get("/v1/sync/pull", headers=sos_headers).json()
        assert {r["record_id"]: r for r in page["records"]}[ids["r-sos"]]["deleted"] is False
    finally:
        stop_server(server)

    code, _, err = run(capsys, "demo", "--file", str(_demo_file(tmp_path)), "--db", db_url)
    assert code == 1 and "already has organisations" in err


def test_demo_reports_broken_data_in_words(db_url: str, tmp_path: Path, capsys):
    path = tmp_path / "broken.json"
    path.write_text('{"format": 1, "records": [{"collection": "functions", "key": "f", "fields": {"organisation_id": {"ref": "nowhere"}, "name": "x"}}]}')
    code, _, err = run(capsys, "demo", "--file", str(path), "--db", db_url)
    assert code == 1 and "nowhere" in err and "Traceback" not in err
    code, _, err = run(capsys, "demo", "--file", str(tmp_path / "missing.json"), "--db", db_url)
    assert code == 1 and "missing" in err


def test_demo_loads_the_shipped_region(db_url: str, capsys):
    from sync.server.operations import DEMO_FILE

    if not DEMO_FILE.exists():
        pytest.skip("resources/demo/region.json is not there yet")
    code, out, err = run(capsys, "demo", "--db", db_url)
    assert code == 0, err
    server: Server = start_server(db_url)
    try:
        data = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
        regional_code = next(line.split()[-1] for line in out.splitlines() if "regional_admin" in line)
        body = server.client.post("/v1/devices/enroll", json={"code": regional_code, "device_name": "d"}).json()
        assert body["organisation"]["name"].startswith("Länsstyrelsen")
        headers = {"Authorization": f"Bearer {body['token']}"}
        pulled = []
        cursor = None
        while True:
            params = {"cursor": cursor} if cursor else {}
            page = server.client.get("/v1/sync/pull", headers=headers, params=params).json()
            pulled += page["records"]
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        assert {r["record_id"] for r in pulled} == {
            str(uuid.uuid5(DEMO_NAMESPACE, item["key"])) for item in data["records"]
        }
    finally:
        stop_server(server)


# --- serve: plain HTTP only on loopback or behind a proxy (issue 7, item 16) -------------------

@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "sync.region.example"])
def test_serve_refuses_plain_http_beyond_loopback_and_says_why(db_url: str, host: str, capsys):
    code, _, err = run(capsys, "serve", "--host", host, "--db", db_url)
    assert code == 1
    assert "plain HTTP" in err and "--behind-proxy" in err and "--tls-cert" in err and "token" in err


def test_loopback_addresses_need_no_tls():
    from sync.server.cli import is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost", "LOCALHOST"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "example.org", ""))


def test_serve_behind_a_proxy_starts_on_every_interface(db_url: str, tmp_path: Path):
    import httpx
    from server_support import start_serve, stop_serve

    with open(tmp_path / "serve.log", "wb") as log:
        server = None
        try:
            server, base = start_serve(db_url, ["--host", "0.0.0.0", "--behind-proxy"], log)
            assert httpx.get(f"{base}/v1/health", timeout=5).json()["status"] == "ok"
        finally:
            stop_serve(server)


# --- compact also prunes the audit table (item 15) ---------------------------------------------

def test_compact_prunes_audit_rows_older_than_the_retention(db_url: str, capsys):
    from sqlalchemy import func, select

    from sync.server.models import Audit
    from sync.server.timeutil import now_ms

    server = start_server(db_url)
    try:
        day = 86_400_000
        server.run(lambda s: s.add_all([
            Audit(at=now_ms() - 200 * day, op="enroll", status="failed"),
            Audit(at=now_ms() - 181 * day, op="upsert", status="applied"),
            Audit(at=now_ms() - 179 * day, op="upsert", status="applied"),
        ]))
        before = server.run(lambda s: s.scalar(select(func.count()).select_from(Audit)))
        code, out, _ = run(capsys, "compact", "--older-than-days", "180", "--db", db_url)
        assert code == 0 and "Removed 2 audit row(s) older than 180 days" in out
        after = server.run(lambda s: s.scalar(select(func.count()).select_from(Audit)))
        assert after == before - 2
        assert server.run(lambda s: s.scalar(select(func.min(Audit.at)))) > now_ms() - 180 * day
    finally:
        stop_server(server)
