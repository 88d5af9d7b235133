"""Alembic migrations of the local database, run by Store.open when the file is behind; no alembic.ini needed.

To write a new revision (a static script, never generated at run time)::

    from alembic import command
    from desktop.store.migrations import make_config
    command.revision(make_config(), "what changes", rev_id="0004")

then fill in upgrade() by hand and check it with tests/test_store_migrations.py.

Alembic (with the SQLAlchemy it needs, 0.2–0.3 s to import here) is imported only when a
migration is due: ``head_revision`` reads the newest revision from the scripts' own lines, and
Store.open compares it with the file's ``alembic_version`` in one query.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent

_REVISION = re.compile(r"^revision\s*(?::[^=]+)?=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]+)?=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")


def make_config(connection=None) -> Config:
    """An Alembic Config built in code; ``connection`` is handed to env.py through attributes."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")  # install paths may hold spaces
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str | None:
    """The newest revision of the scripts in ``versions/`` (the one no other revises), read as
    Alembic reads it; None when that is not one revision (Store.open then asks Alembic)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = script.read_text(encoding="utf-8")
        revision = _REVISION.search(text)
        if revision is None:
            continue
        revisions.add(revision.group(1))
        down = _DOWN_REVISION.search(text)
        if down is not None:
            revised.update(_QUOTED.findall(down.group(1)))
    heads = revisions - revised
    return next(iter(heads)) if len(heads) == 1 else None
