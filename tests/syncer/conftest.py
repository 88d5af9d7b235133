"""Fixtures for the syncer's tests: a real sync server (uvicorn on loopback, SQLite) and devices with real stores."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from syncer_helpers import ServerThread, SyncServer, prepare_server_db  # noqa: E402

from desktop.store import Store  # noqa: E402
from desktop.syncer.engine import SyncEngine  # noqa: E402
from desktop.syncer.enroll import enroll  # noqa: E402
from sync.server.app import create_app  # noqa: E402
from sync.server.config import Settings  # noqa: E402


@pytest.fixture
def server_factory(tmp_path: Path):
    started: list[ServerThread] = []

    def make(settings_overrides: dict | None = None, *, ssl: dict | None = None) -> SyncServer:
        db_url, sessions, org_ids = prepare_server_db(tmp_path / f"server{len(started)}.db")
        settings = Settings(db_url=db_url, **(settings_overrides or {}))
        thread = ServerThread(
            create_app(settings),
            ssl_certfile=str(ssl["cert"]) if ssl else None,
            ssl_keyfile=str(ssl["key"]) if ssl else None,
        ).start()
        started.append(thread)
        return SyncServer(thread.url, db_url, sessions, org_ids, thread)

    yield make
    for thread in started:
        thread.stop()


@pytest.fixture
def server(server_factory) -> SyncServer:
    return server_factory()


@dataclass
class Device:
    name: str
    store: Store
    engine: SyncEngine
    path: Path
    key: bytes

    def sync(self):
        return self.engine.sync_now()


@pytest.fixture
def device_factory(tmp_path: Path):
    opened: list[Device] = []

    def make(
        server: SyncServer, org: str, role: str = "member", *, name: str | None = None,
        url: str | None = None, initial_sync: bool = True, **engine_kwargs,
    ) -> Device:
        name = name or f"dev{len(opened)}"
        key = os.urandom(32)
        path = tmp_path / name / "samverka.db"
        store = Store.open(path, key)
        enroll(store, url or server.url, server.code(org, role), device_name=name)
        engine_kwargs.setdefault("digest_interval", 0)
        engine = SyncEngine(store, **engine_kwargs)
        device = Device(name, store, engine, path, key)
        opened.append(device)
        if initial_sync:
            engine.sync_now()
        return device

    yield make
    for device in opened:
        device.engine.close()
        device.store.close()


@pytest.fixture
def make_function() -> Callable:
    def make(store: Store, org_id: str, name: str, phone: str = "070-174 06 10") -> tuple[str, str]:
        with store.batch():
            function_id = store.create("functions", {"organisation_id": org_id, "name": name})
            channel_id = store.create(
                "channels", {"function_id": function_id, "kind": "mobile", "value": phone, "priority": 1}
            )
        return function_id, channel_id

    return make
