"""Where the program's data files are: the repository's resources/ folder, or the frozen build's copy of it.

A frozen build (PyInstaller, installer/samverka.spec) carries resources/ inside its own folder
(``sys._MEIPASS``), so nothing depends on the repository's layout at run time; from a checkout
or an editable install it is the repository's folder. The baked organisation profile is the
build's, so it lives beside them in the frozen case only.
"""

from __future__ import annotations

import sys
from pathlib import Path

BUNDLE_RESOURCES = "resources"  # the folder name inside a frozen build (the spec's datas)
BAKED_PROFILE = "profile.toml"  # installer/build.py writes the organisation's profile here
BUILD_INFO = "build-info.json"  # and what was built: version, organisation, time, commit


def frozen_dir() -> Path | None:
    """The frozen build's data folder (PyInstaller's ``sys._MEIPASS``); None from source."""
    if not getattr(sys, "frozen", False):
        return None
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) if bundle else Path(sys.executable).resolve().parent


def resources_dir() -> Path:
    """The resources folder: the frozen build's copy, else the repository's."""
    bundle = frozen_dir()
    if bundle is not None:
        return bundle / BUNDLE_RESOURCES
    return Path(__file__).resolve().parents[1] / "resources"


def baked_file(name: str) -> Path | None:
    """A file installer/build.py baked into this frozen build, if this is one and it has it."""
    bundle = frozen_dir()
    if bundle is None:
        return None
    path = bundle / BUNDLE_RESOURCES / name
    return path if path.is_file() else None
