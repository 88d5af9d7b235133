"""The local database schema: ORM models generated from sync.records, plus meta, outbox and search tables.

One table per synced collection, one typed column per field, named as on the wire, plus the
columns every synced row carries (``SYSTEM_COLUMNS``). A field whose name clashes with a system
column (only ``conflicts.record_id``) gets the column ``field_<name>``. The Alembic revisions
under ``migrations/versions`` are static scripts; ``tests/test_store_migrations.py`` checks that
they and this metadata agree, so a new field here needs a new revision there.

The SQLAlchemy half (``Base``, ``MODELS``, ``TABLES`` and the other tables) is built in
``desktop/store/models.py`` on first use: only Alembic and the tests need it, and importing
SQLAlchemy's ORM to build it cost 0.2–0.3 s of every unlock. The names are still read from here
(``from desktop.store.schema import Base``).
"""

from __future__ import annotations

from typing import Any

SYSTEM_COLUMNS = ("record_id", "owner_org", "deleted", "clocks", "deleted_clock", "server_seq")

SEARCH_INDEX_TABLE = "search_index"  # the FTS5 virtual table (created by the migrations only)


def column_name(field_name: str) -> str:
    """The column that holds a field (a field may not shadow a system column)."""
    return f"field_{field_name}" if field_name in SYSTEM_COLUMNS else field_name


_MODEL_NAMES = frozenset({
    "Base", "MODELS", "TABLES", "meta_table", "outbox_table", "server_state_table",
    "quarantine_table", "journal_links_table", "search_docs_table",
})


def __getattr__(name: str) -> Any:
    if name in _MODEL_NAMES:
        from desktop.store import models

        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
