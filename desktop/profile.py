"""A per-organisation profile: which server to join, which CA to trust, and the organisation's defaults.

An installer bakes one profile into each organisation's build (ARCHITECTURE.md, "Profiles");
loading and validating it from TOML is a later step. The window takes an optional Profile: the
first-run wizard presets the server address and the CA from it, and its language, auto-lock and
sync interval are the defaults until a person changes them in the settings.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_AUTO_LOCK_MINUTES = 15
DEFAULT_SYNC_INTERVAL_SECONDS = 300


@dataclass(frozen=True)
class Profile:
    organisation_name: str
    organisation_id: str | None = None
    server_url: str | None = None
    ca_pem: str | None = None  # the organisation's CA certificate, PEM text
    language: str | None = None  # "sv" or "en"; None: the user's setting or Swedish
    auto_lock_minutes: int = DEFAULT_AUTO_LOCK_MINUTES
    sync_interval_seconds: int = DEFAULT_SYNC_INTERVAL_SECONDS
