"""The meta table's keys: each declared once, with the type of its value.

The meta table holds small JSON values (the clock, the sync cursor, flags). A key used with
one type in one place and compared as another elsewhere (``True`` stored, ``"1"`` expected)
fails silently, so the store's own keys are ``MetaKey`` values: ``Store.set_meta`` refuses a
value of the wrong type and ``Store.get_meta`` returns the declared type or the default.
Plain string keys still work, for callers that keep their own small settings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MetaKey:
    """A meta key and the Python type of its value (None always means "not set")."""

    name: str
    type: type

    def _fits(self, value: Any) -> bool:
        # bool is an int to Python; a flag stored where a number belongs (or back) is a mistake.
        return isinstance(value, self.type) and (self.type is bool or not isinstance(value, bool))

    def check(self, value: Any) -> None:
        """Raise TypeError unless ``value`` is None or of this key's type."""
        if value is not None and not self._fits(value):
            raise TypeError(
                f"meta key {self.name!r} holds {self.type.__name__}, not {type(value).__name__}"
            )

    def read(self, value: Any, default: Any = None) -> Any:
        """A stored value as this key's type; ``default`` for None or a value of another type."""
        if value is None:
            return default
        if not self._fits(value):
            log.warning("meta key %r holds a %s; ignored", self.name, type(value).__name__)
            return default
        return value


NODE_ID = MetaKey("node_id", str)
HLC_LAST = MetaKey("hlc_last", str)
SYNC_CURSOR = MetaKey("sync_cursor", str)
SERVER_OFFSET_MS = MetaKey("server_offset_ms", int)
DEMO = MetaKey("demo", bool)
CREATED_AT = MetaKey("created_at", str)
SEARCH_INDEX_VERSION = MetaKey("search_index_version", str)
