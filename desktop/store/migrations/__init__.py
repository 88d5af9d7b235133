"""Alembic migrations of the local database, run by Store.open; no alembic.ini needed.

To write a new revision (a static script, never generated at run time)::

    from alembic import command
    from desktop.store.migrations import make_config
    command.revision(make_config(), "what changes", rev_id="0003")

then fill in upgrade() by hand and check it with tests/test_store_migrations.py.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent


def make_config(connection=None) -> Config:
    """An Alembic Config built in code; ``connection`` is handed to env.py through attributes."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")  # install paths may hold spaces
    if connection is not None:
        config.attributes["connection"] = connection
    return config
