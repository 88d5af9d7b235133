"""The running program's version, from one source: a frozen build's baked build info, else the installed distribution's metadata.

installer/build.py names each build (``--version``, default pyproject.toml's) and bakes that
name into the build's build-info.json, with the organisation, time and commit. The frozen
program is that build, so that is its version — not the package metadata PyInstaller copied
in, which is pyproject.toml's whatever the build was called. From source (an editable or a
wheel install) the distribution's metadata is the version. Everything that names the version
takes it from here: the User-Agent the server checks (``Samverka/<version>``, sync/server's
426 client-too-old), ``samverka --version``, the smoke test's first line, and the window's
About box.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

DISTRIBUTION = "samverka"
UNKNOWN = "0.0.0"  # neither built, installed nor a checkout (cannot happen in practice)


@lru_cache(maxsize=1)
def build_info() -> dict[str, Any]:
    """What installer/build.py recorded about this frozen build ({} when running from source,
    or when the file is missing or unreadable)."""
    from desktop.resources import BUILD_INFO, baked_file

    path = baked_file(BUILD_INFO)
    if path is None:
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


@lru_cache(maxsize=1)
def program_version() -> str:
    """The build's version when frozen, else the installed distribution's, else (a checkout
    that is not installed) pyproject.toml's."""
    baked = build_info().get("version")
    if isinstance(baked, str) and baked.strip():
        return baked.strip()
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    import tomllib
    from pathlib import Path

    try:
        project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
        return str(project["project"]["version"])
    except (OSError, ValueError, KeyError):
        return UNKNOWN


def version_text() -> str:
    """One line for a person: "Samverka 1.4.0" and, for a build, whose and when it was made."""
    info = build_info()
    text = f"Samverka {program_version()}"
    details = [str(info[key]) for key in ("organisation", "built_at", "commit") if info.get(key)]
    return f"{text} ({', '.join(details)})" if details else text


def user_agent() -> str:
    """``Samverka/<version>``: what the sync client sends (the server refuses versions older
    than its minimum)."""
    return f"Samverka/{program_version()}"
