"""Fixtures for the sync server: a fresh database per test (SQLite, and PostgreSQL when
SAMVERKA_TEST_PG_URL is set), the app under TestClient, organisations and enrolled devices."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from sync.server.db import make_engine, upgrade

from server_support import Region, Server, make_region, start_server, stop_server

PG_ENV = "SAMVERKA_TEST_PG_URL"


def pytest_configure(config: pytest.Config) -> None:
    # Starlette's TestClient warns that it wants httpx2; the warning is about Starlette, not us.
    config.addinivalue_line(
        "filterwarnings", "ignore:Using `httpx` with `starlette.testclient` is deprecated"
    )


# --- databases -------------------------------------------------------------------------------

class Backend:
    """Makes fresh, migrated databases quickly by copying a migrated template."""

    name: str

    def new_url(self) -> str:
        raise NotImplementedError

    def drop(self, url: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SqliteBackend(Backend):
    name = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.template = folder / "template.db"
        engine = make_engine(f"sqlite:///{self.template}")
        upgrade(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()

    def new_url(self) -> str:
        target = self.folder / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.template = f"samverka_tmpl_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.template}"'))
        engine = make_engine(self._url_for(self.template))
        upgrade(engine)
        engine.dispose()

    def _url_for(self, database: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + "/" + database

    def new_url(self) -> str:
        name = f"samverka_t_{uuid.uuid4().hex[:16]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return self._url_for(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    if request.param == "sqlite":
        made: Backend = SqliteBackend(tmp_path_factory.mktemp("sqlite"))
    else:
        url = os.environ.get(PG_ENV)
        if not url:
            pytest.skip(f"PostgreSQL tests need {PG_ENV} (scripts/pg-start prints it)")
        made = PostgresBackend(url)
    yield made
    made.close()


@pytest.fixture
def db_url(backend: Backend) -> Iterator[str]:
    url = backend.new_url()
    yield url
    backend.drop(url)


@pytest.fixture
def server(db_url: str) -> Iterator[Server]:
    made = start_server(db_url)
    yield made
    stop_server(made)


@pytest.fixture
def region(server: Server) -> Region:
    return make_region(server)


