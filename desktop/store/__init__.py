"""The encrypted local database (SQLCipher under SQLAlchemy, Alembic migrations), its outbox and search."""

from desktop.store.errors import (
    AppendOnly,
    DatabaseCorrupt,
    DatabaseMissing,
    InvalidInput,
    NotFound,
    RecordDeleted,
    StoreClosed,
    StoreError,
    WrongKey,
)
from desktop.store.filters import In, Range
from desktop.store.notify import ChangeSet
from desktop.store.outbox import OutboxEntry
from desktop.store.phones import format_phone, normalise_phone
from desktop.store.search import BestChannel, SearchHit
from desktop.store.meta import MetaKey
from desktop.store.store import IndexStatus, Store

__all__ = [
    "AppendOnly",
    "BestChannel",
    "ChangeSet",
    "DatabaseCorrupt",
    "DatabaseMissing",
    "In",
    "IndexStatus",
    "InvalidInput",
    "MetaKey",
    "NotFound",
    "OutboxEntry",
    "Range",
    "RecordDeleted",
    "SearchHit",
    "Store",
    "StoreClosed",
    "StoreError",
    "WrongKey",
    "format_phone",
    "normalise_phone",
]
