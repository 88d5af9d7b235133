"""The store's error types: each carries a message key and its arguments, str() is for a person."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop.i18n import in_language
from desktop.store.messages import message


class StoreError(Exception):
    """Base of every error the store raises on purpose.

    ``key`` names the message in ``STORE_MESSAGES``; ``kwargs`` fill it. ``str(error)`` is the
    message in the user's language (desktop.i18n, Swedish by default); ``error.text("en")``
    gives another language.
    """

    default_key = "store.error"

    def __init__(self, key: str | None = None, **kwargs: Any) -> None:
        self.key = key or self.default_key
        self.kwargs = kwargs
        super().__init__(self.text())

    def text(self, lang: str | None = None) -> str:
        with in_language(lang):
            return message(self.key, **self.kwargs)

    def __str__(self) -> str:
        return self.text()


class InvalidInput(StoreError):
    """A value the user gave breaks the schema; ``field`` names it (``collection`` for a bad one)."""

    default_key = "invalid.value"

    def __init__(self, key: str | None = None, *, field: str, **kwargs: Any) -> None:
        self.field = field
        self.detail = kwargs.pop("detail", None)
        super().__init__(key, field=field, **kwargs)


class NotFound(StoreError):
    default_key = "store.not_found"

    def __init__(self, key: str | None = None, *, collection: str, record_id: str, **kw: Any):
        self.collection = collection
        self.record_id = record_id
        super().__init__(key, collection=collection, record_id=record_id, **kw)


class RecordDeleted(NotFound):
    """An edit of a record that is a tombstone."""

    default_key = "store.deleted"


class AppendOnly(StoreError):
    """An update or delete of a record in an append-only collection (SYNC.md rule 5)."""

    default_key = "store.append_only"

    def __init__(self, key: str | None = None, *, collection: str, **kw: Any) -> None:
        self.collection = collection
        super().__init__(key, collection=collection, **kw)


class StoreClosed(StoreError):
    default_key = "store.closed"


class _FileError(StoreError):
    def __init__(self, key: str | None = None, *, path: Path | str, **kw: Any) -> None:
        self.path = Path(path)
        super().__init__(key, path=str(path), **kw)


class WrongKey(_FileError):
    """The key does not open this database (the file is left exactly as it was)."""

    default_key = "store.wrong_key"


class DatabaseMissing(_FileError):
    """The vault's database file is not there; nothing was created in its place."""

    default_key = "store.database_missing"


class DatabaseCorrupt(_FileError):
    """The file is not a Samverka database or is damaged (the file is left exactly as it was).

    ``key`` says which (see STORE_MESSAGES); ``reason`` is SQLite's own words, for the log."""

    default_key = "store.database_corrupt"

    def __init__(self, key: str | None = None, *, path: Path | str, reason: str = "", **kw: Any):
        self.reason = reason
        super().__init__(key, path=path, reason=reason, **kw)
