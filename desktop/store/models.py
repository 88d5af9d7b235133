"""The local database schema as SQLAlchemy tables (for Alembic and the tests); desktop/store/schema.py says what it holds.

Built from sync.records: one ORM model per synced collection, one typed column per field, plus
the meta, outbox, server-state, quarantine and search tables. Imported only when asked for
(``desktop.store.schema.Base`` and friends), never on the way to an unlocked window.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, mapped_column

from desktop.store.schema import column_name
from sync.records import COLLECTIONS, Collection, FieldType


class Base(DeclarativeBase):
    metadata = MetaData()


def _sql_type(kind: FieldType) -> Any:
    if kind is FieldType.INT:
        return Integer()
    if kind is FieldType.BOOL:
        return Boolean()
    if kind is FieldType.ANY:
        return JSON()
    if kind in (FieldType.REF, FieldType.UUID):
        return String(36)
    if kind is FieldType.TEXT:
        return Text()
    return String()


def _class_name(collection: str) -> str:
    return "".join(part.capitalize() for part in collection.split("_"))


def _make_model(collection: Collection) -> type[Base]:
    attrs: dict[str, Any] = {
        "__tablename__": collection.name,
        "record_id": mapped_column(String(36), primary_key=True),
        "owner_org": mapped_column(String(36), nullable=True),
        "deleted": mapped_column(Boolean(), nullable=False, server_default=text("0")),
        # field -> HLC wire string of the value the row holds
        "clocks": mapped_column(JSON(), nullable=False, server_default=text("'{}'")),
        "deleted_clock": mapped_column(String(), nullable=True),
        # the server's seq of the state last pulled; null for records never pulled
        "server_seq": mapped_column(Integer(), nullable=True),
    }
    indexes = []
    for spec in collection.fields.values():
        name = column_name(spec.name)
        attrs[name] = mapped_column(name, _sql_type(spec.type), nullable=True)
        if spec.type is FieldType.REF:
            indexes.append(Index(f"ix_{collection.name}_{name}", name))
    attrs["__table_args__"] = tuple(indexes)
    return type(_class_name(collection.name), (Base,), attrs)


# collection name -> ORM class, e.g. MODELS["functions"] is class Functions
MODELS: dict[str, type[Base]] = {name: _make_model(c) for name, c in COLLECTIONS.items()}
TABLES: dict[str, Table] = {name: model.__table__ for name, model in MODELS.items()}  # type: ignore[misc]

meta_table = Table(
    "meta",
    Base.metadata,
    Column("key", String(), primary_key=True),
    Column("value", JSON(), nullable=True),
)

outbox_table = Table(
    "outbox",
    Base.metadata,
    # creation order: outbox_pending returns entries in this order
    Column("seq", Integer(), primary_key=True),
    Column("change_id", String(36), nullable=False, unique=True),
    Column("collection", String(), nullable=False),
    Column("record_id", String(36), nullable=False),
    Column("op", String(), nullable=False),
    Column("fields", JSON(), nullable=False),
    Column("clock", String(), nullable=False),
    Column("base", JSON(), nullable=False),
    Column("created_at", String(), nullable=False),
    Column("status", String(), nullable=False, server_default=text("'pending'")),
    Column("problem", JSON(), nullable=True),
    # revision 0002
    Column("rejected_at", String(), nullable=True),
    # revision 0003: the clock the change was made with, when it has been re-stamped since
    Column("original_clock", String(), nullable=True),
    Index("ix_outbox_status_seq", "status", "seq"),
    Index("ix_outbox_record", "record_id", "status"),
)

# The server's last known state of each record this device has changes for (revision 0003):
# what a discarded change returns the record to, and what a record with no change in flight
# must equal (outbox.py, "Server state").
server_state_table = Table(
    "server_state",
    Base.metadata,
    Column("record_id", String(36), primary_key=True),
    Column("collection", String(), nullable=False),
    Column("seq", Integer(), nullable=True),
    Column("owner_org", String(36), nullable=True),
    Column("deleted", Boolean(), nullable=False, server_default=text("0")),
    Column("deleted_clock", String(), nullable=True),
    # {field: {"value": …, "clock": HLC}}, as in a pulled RecordState
    Column("fields", JSON(), nullable=False, server_default=text("'{}'")),
)

# Pulled records that broke the schema (revision 0003): kept aside, never applied (quarantine.py).
quarantine_table = Table(
    "quarantine",
    Base.metadata,
    Column("id", Integer(), primary_key=True),
    Column("collection", String(), nullable=True),
    Column("record_id", String(), nullable=True),
    Column("seq", Integer(), nullable=True),
    Column("field", String(), nullable=True),
    Column("reason", String(), nullable=False),
    Column("record", Text(), nullable=True),  # the record as received (JSON text), if not huge
    Column("received_at", String(), nullable=False),
    Index("ix_quarantine_record", "record_id"),
)

# Each pulled log entry's link in its activation's journal hash chain (revision 0004): the
# server-made ``journal`` member of its record state (sync.journal), what the chain is checked
# against. A row also for an entry hidden from this organisation (its content is not here).
journal_links_table = Table(
    "journal_links",
    Base.metadata,
    Column("record_id", String(36), primary_key=True),
    Column("activation_id", String(36), nullable=False),
    Column("idx", Integer(), nullable=False),
    Column("entry_hash", String(), nullable=False),
    Column("chain", String(), nullable=False),
    Index("ix_journal_links_activation", "activation_id", "idx"),
)

# One row per searchable record; its rowid is the rowid of its document in the FTS5 table.
# title/subtitle/best channel are kept here so a search is indexed queries plus a look-up by
# rowid; short_name is what the ranking compares a query with (with the name in the title).
search_docs_table = Table(
    "search_docs",
    Base.metadata,
    Column("rowid", Integer(), primary_key=True),
    Column("collection", String(), nullable=False),
    Column("record_id", String(36), nullable=False),
    Column("title", String(), nullable=False),
    Column("subtitle", String(), nullable=True),
    # revision 0003
    Column("short_name", String(), nullable=True),
    Column("channel_id", String(36), nullable=True),
    Column("channel_kind", String(), nullable=True),
    Column("channel_value", String(), nullable=True),
    Column("channel_label", String(), nullable=True),
    Index("ix_search_docs_record_id", "record_id", unique=True),
)
