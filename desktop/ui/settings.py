"""The window's non-secret settings (language, theme, auto-lock, window geometry) in one small file.

They live outside the vault because they are needed before it is unlocked (the unlock window
is already in the chosen language and theme), and so they never hold record content: only the
fields below. The file is ``settings.json`` in the per-user configuration folder
(``platformdirs``; ``SAMVERKA_CONFIG_DIR`` chooses another), written atomically. A damaged or
unknown file gives the defaults and is replaced at the next save; ``version`` with an upgrade
step keeps older files readable (Picard's config upgrades).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from desktop.i18n import LANGUAGES
from desktop.profile import DEFAULT_AUTO_LOCK_MINUTES, Profile

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1
FILE_NAME = "settings.json"
THEMES = ("system", "light", "dark")
AUTO_LOCK_RANGE = (1, 240)  # minutes


@dataclass(frozen=True)
class Settings:
    language: str | None = None  # None: SAMVERKA_LANG or Swedish
    theme: str = "system"
    auto_lock_minutes: int = DEFAULT_AUTO_LOCK_MINUTES
    window_geometry: str | None = None  # QWidget.saveGeometry(), base64
    version: int = SETTINGS_VERSION

    def with_geometry(self, geometry: bytes) -> Settings:
        return replace(self, window_geometry=base64.b64encode(geometry).decode("ascii"))

    def geometry(self) -> bytes | None:
        if not self.window_geometry:
            return None
        try:
            return base64.b64decode(self.window_geometry, validate=True)
        except ValueError:
            return None


def settings_dir() -> Path:
    chosen = os.environ.get("SAMVERKA_CONFIG_DIR")
    if chosen:
        return Path(chosen).expanduser()
    return Path(platformdirs.user_config_dir("Samverka", appauthor=False))


def settings_path() -> Path:
    return settings_dir() / FILE_NAME


def defaults(profile: Profile | None = None) -> Settings:
    if profile is None:
        return Settings()
    return Settings(language=profile.language, auto_lock_minutes=profile.auto_lock_minutes)


def _upgrade(raw: dict[str, Any]) -> dict[str, Any]:
    """Older versions to the current one (none yet: version 1 is the first)."""
    return raw


def _checked(raw: dict[str, Any], base: Settings) -> Settings:
    known = {f.name for f in fields(Settings)}
    values = {k: v for k, v in raw.items() if k in known}
    settings = replace(base, **values)
    if settings.language not in (None, *LANGUAGES):
        settings = replace(settings, language=base.language)
    if settings.theme not in THEMES:
        settings = replace(settings, theme=base.theme)
    minutes = settings.auto_lock_minutes
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not (
        AUTO_LOCK_RANGE[0] <= minutes <= AUTO_LOCK_RANGE[1]
    ):
        settings = replace(settings, auto_lock_minutes=base.auto_lock_minutes)
    if settings.window_geometry is not None and not isinstance(settings.window_geometry, str):
        settings = replace(settings, window_geometry=None)
    return replace(settings, version=SETTINGS_VERSION)


def load_settings(path: Path | None = None, profile: Profile | None = None) -> Settings:
    path = path or settings_path()
    base = defaults(profile)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return base
    except (OSError, ValueError) as error:
        log.warning("settings file %s unreadable (%s); using the defaults", path, type(error).__name__)
        return base
    if not isinstance(raw, dict):
        return base
    return _checked(_upgrade(raw), base)


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically (a temporary file renamed over the old one)."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(asdict(settings), indent=2, sort_keys=True) + "\n"
    handle, temporary = tempfile.mkstemp(prefix=".settings-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
