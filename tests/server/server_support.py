"""Test helpers for the sync server: a Server under TestClient, enrolled devices (Dev), a small region."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from sqlalchemy import select

from sync.clock import HybridClock
from sync.server import operations
from sync.server.app import create_app
from sync.server.config import Settings
from sync.server.db import make_engine, make_sessionmaker, write_session
from sync.server.models import Record


def _test_client():
    from fastapi.testclient import TestClient

    return TestClient


# --- the server and its devices --------------------------------------------------------------

@dataclass
class Dev:
    """An enrolled device, speaking the protocol through the test client."""

    server: "Server"
    token: str
    device_id: str
    org_id: str
    role: str
    clock: HybridClock = field(init=False)

    def __post_init__(self) -> None:
        self.clock = HybridClock(self.device_id)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs):
        return self.server.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, **kwargs):
        return self.server.client.post(path, headers=self.headers, **kwargs)

    def change(
        self,
        collection: str,
        record_id: str | None = None,
        fields: dict[str, Any] | None = None,
        *,
        op: str = "upsert",
        base: dict[str, str | None] | None = None,
        clock: str | None = None,
        change_id: str | None = None,
    ) -> dict[str, Any]:
        record_id = record_id or str(uuid.uuid4())
        fields = fields or {}
        if base is None:
            base = self.server.current_clocks(collection, record_id)
            if op == "upsert":
                base = {name: base.get(name) for name in fields}
        return {
            "change_id": change_id or str(uuid.uuid4()),
            "collection": collection,
            "record_id": record_id,
            "op": op,
            "fields": fields,
            "clock": clock or self.clock.now(),
            "base": base,
        }

    def push(self, *changes: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.post("/v1/sync/push", json={"changes": list(changes)})
        assert response.status_code == 200, response.text
        return response.json()["results"]

    def push_one(self, change: dict[str, Any]) -> dict[str, Any]:
        return self.push(change)[0]

    def create(self, collection: str, fields: dict[str, Any], record_id: str | None = None) -> str:
        change = self.change(collection, record_id, fields)
        result = self.push_one(change)
        assert result["status"] == "applied", result
        return change["record_id"]

    def update(self, collection: str, record_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self.push_one(self.change(collection, record_id, fields))

    def delete(self, collection: str, record_id: str) -> dict[str, Any]:
        return self.push_one(self.change(collection, record_id, op="delete"))

    def pull_page(self, cursor: str | None = None, limit: int | None = None):
        params: dict[str, Any] = {}
        if cursor is not None:
            params["cursor"] = cursor
        if limit is not None:
            params["limit"] = limit
        return self.get("/v1/sync/pull", params=params)

    def pull_all(self, cursor: str | None = None, limit: int = 1000) -> tuple[list[dict], str]:
        records: list[dict] = []
        while True:
            response = self.pull_page(cursor, limit)
            assert response.status_code == 200, response.text
            page = response.json()
            records.extend(page["records"])
            cursor = page["cursor"]
            if not page["has_more"]:
                return records, cursor

    def pulled(self, collection: str, record_id: str) -> dict | None:
        found = [
            r for r in self.pull_all()[0] if r["collection"] == collection and r["record_id"] == record_id
        ]
        return found[-1] if found else None


class Server:
    def __init__(self, client, db_url: str, settings: Settings) -> None:
        self.client = client
        self.db_url = db_url
        self.settings = settings
        self.engine = make_engine(db_url)
        self.sessions = make_sessionmaker(self.engine)
        self.orgs: dict[str, str] = {}

    def close(self) -> None:
        self.engine.dispose()

    def run(self, work):
        with write_session(self.sessions) as session:
            return work(session)

    def org(self, short: str, *, regional: bool = False, name: str | None = None, kind: str | None = None) -> str:
        org = self.run(
            lambda s: operations.add_organisation(
                s, name or f"Organisation {short}", short, regional_admin=regional, kind=kind
            )
        )
        self.orgs[short] = org.id
        return org.id

    def code(self, short: str, role: str = "member", ttl_ms: int = 3_600_000) -> str:
        return self.run(lambda s: operations.issue_code(s, short, role, ttl_ms)).code

    def enroll(self, short: str, role: str = "member", name: str = "test device") -> Dev:
        response = self.client.post(
            "/v1/devices/enroll", json={"code": self.code(short, role), "device_name": name}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return Dev(self, body["token"], body["device_id"], body["organisation"]["id"], body["role"])

    def record(self, collection: str, record_id: str) -> Record | None:
        with self.sessions() as session:
            return session.get(Record, (collection, record_id))

    def current_clocks(self, collection: str, record_id: str) -> dict[str, str | None]:
        row = self.record(collection, record_id)
        if row is None or row.deleted:
            return {}
        return {name: value["clock"] for name, value in row.fields.items()}

    def records(self, collection: str) -> list[Record]:
        with self.sessions() as session:
            return list(session.scalars(select(Record).where(Record.collection == collection)))


def start_server(db_url: str, *, client_address: tuple[str, int] = ("testclient", 50000), **overrides: Any):
    """The app under TestClient; requests come from ``client_address`` (the TCP peer it sees)."""
    settings = Settings(db_url=db_url, **overrides)
    client = _test_client()(create_app(settings), raise_server_exceptions=True, client=client_address)
    client.__enter__()
    return Server(client, db_url, settings)


def stop_server(server: Server) -> None:
    server.client.__exit__(None, None, None)
    server.close()


@dataclass
class Region:
    """Three organisations and devices: LST (regional administrator), SOS, KOM."""

    server: Server
    lst: str
    sos: str
    kom: str
    lst_admin: Dev  # regional_admin
    sos_member: Dev
    sos_admin: Dev  # org_admin
    kom_member: Dev


def make_region(server: Server) -> Region:
    lst = server.org("LST", regional=True, name="Länsstyrelsen Stockholm", kind="county_board")
    sos = server.org("SOS", name="SOS Alarm", kind="agency")
    kom = server.org("KOM", name="Kommunen", kind="municipality")
    return Region(
        server=server,
        lst=lst,
        sos=sos,
        kom=kom,
        lst_admin=server.enroll("LST", "regional_admin", "LST admin"),
        sos_member=server.enroll("SOS", "member", "SOS member"),
        sos_admin=server.enroll("SOS", "org_admin", "SOS admin"),
        kom_member=server.enroll("KOM", "member", "KOM member"),
    )


def assert_problem(response, status: int, token: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["type"] == f"/problems/{token}", body
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


# --- `samverka-server serve` as a real subprocess ---------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(server: subprocess.Popen, base: str) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            return False
        time.sleep(0.2)
    server.terminate()
    return False


def start_serve(db_url: str, args: list[str], log: BinaryIO) -> tuple[subprocess.Popen, str]:
    """`samverka-server serve ARGS --port <free>` on ``db_url``; (process, base URL on 127.0.0.1).

    Raises RuntimeError when it does not come up (its output is in ``log``)."""
    env = {**os.environ, "SAMVERKA_SERVER_DB": db_url}
    for _attempt in range(3):  # another process may take the free port before uvicorn binds it
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "sync.server.cli", "serve", "--port", str(port), "--log-level", "warning", *args],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        if wait_until_up(server, base):
            return server, base
        server.wait(timeout=30)
    raise RuntimeError("the server did not start")


def stop_serve(server: subprocess.Popen | None) -> None:
    if server is not None and server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
