"""Server settings: where the database is, retention, limits; read from the environment or given in code."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import platformdirs

from sync.wire import MAX_BODY_BYTES

ENV_DB = "SAMVERKA_SERVER_DB"
ENV_MIN_CLIENT = "SAMVERKA_SERVER_MIN_CLIENT_VERSION"
ENV_RETENTION_DAYS = "SAMVERKA_SERVER_RETENTION_DAYS"


def server_version() -> str:
    try:
        return metadata.version("samverka")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0"


def default_db_url() -> str:
    """``SAMVERKA_SERVER_DB``, else a SQLite file in the per-user data folder."""
    env = os.environ.get(ENV_DB, "").strip()
    if env:
        return env
    folder = Path(platformdirs.user_data_dir("samverka-server"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'server.db'}"


@dataclass(frozen=True)
class Settings:
    db_url: str
    min_client_version: str = "0.1.0"
    retention_days: int = 180
    max_body_bytes: int = MAX_BODY_BYTES
    clock_skew_ms: int = 60_000
    enroll_failure_limit: int = 10
    enroll_failure_window_s: int = 15 * 60
    version: str = field(default_factory=server_version)

    @classmethod
    def from_env(cls, db_url: str | None = None) -> Settings:
        kwargs: dict = {"db_url": db_url or default_db_url()}
        if os.environ.get(ENV_MIN_CLIENT):
            kwargs["min_client_version"] = os.environ[ENV_MIN_CLIENT].strip()
        if os.environ.get(ENV_RETENTION_DAYS):
            kwargs["retention_days"] = int(os.environ[ENV_RETENTION_DAYS])
        return cls(**kwargs)
