"""The FastAPI application: create_app(settings), and app_from_env() for uvicorn's workers."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from sync.server import problems
from sync.server.config import Settings
from sync.server.db import make_engine, make_sessionmaker, schema_is_current
from sync.server.deps import ServerState
from sync.server.middleware import BodyLimitMiddleware, ClientVersionMiddleware
from sync.server.routes import admin, devices, directory, feed, health


class SchemaNotReady(RuntimeError):
    """The database has no schema, or an older one: run `samverka-server init`."""


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = make_engine(settings.db_url)
        try:
            if not schema_is_current(engine):
                raise SchemaNotReady(
                    "the database schema is missing or out of date; run `samverka-server init` first"
                )
            app.state.server = ServerState(settings=settings, sessions=make_sessionmaker(engine))
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Samverka sync server",
        version=settings.version,
        description="The sync protocol v1 (see docs/PROTOCOL.md). Errors are RFC 9457 problems.",
        lifespan=lifespan,
    )
    problems.install(app)
    for module in (health, devices, directory, feed, admin):
        app.include_router(module.router)
    app.add_middleware(ClientVersionMiddleware, min_version=settings.min_client_version)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    return app


def app_from_env() -> FastAPI:
    """For `uvicorn --factory`: settings from the environment (SAMVERKA_SERVER_DB, …)."""
    return create_app(Settings.from_env())
