"""The journal's hash chain: an activation's log entries linked in the order the server sequenced them.

The server computes each entry's link when it sequences the entry (under the lock that hands
out positions) and sends it with the record state as the server-made member ``journal``
(docs/PROTOCOL.md, "The journal's hash chain"). A client recomputes every link from the entries
it holds and compares: an entry changed afterwards, one taken away or put in between, or a
chain value changed, breaks the chain at that entry. The chain values come from the server and
every device holds the same ones (and the journal's printout carries the head), so a person
who edits one local database would have to recompute every later value there — which then no
longer agrees with the server, any other device or the paper.

Canonical form (version ``samverka-journal-v1``), byte for byte:

- ``entry_hash`` = SHA-256 (lower-case hex) of the UTF-8 bytes of the JSON array
  ``["samverka-journal-v1", record_id, activation_id, owner_org, clock, at,
  author_function_id, kind, text, corrects]`` serialised as RFC 8785 (JCS): no whitespace,
  strings escaped minimally (``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``, other control
  characters as ``\\u00xx`` in lower-case hex, everything else as the character itself), an
  absent optional value as ``null``. ``clock`` is the HLC the entry was created with (the
  clock of its ``text`` field; it names the device that wrote it). Ids are canonical
  lower-case UUIDs; times as stored (ISO 8601 UTC with ``Z``). ``visibility`` is not part of it.
- ``genesis`` = SHA-256 hex of UTF-8 ``"samverka-journal-v1\\n" + activation_id``.
- ``chain[i]`` = SHA-256 hex of UTF-8 ``chain[i-1] + ":" + str(i) + ":" + entry_hash[i]``,
  with ``chain[0]`` = genesis; ``i`` is the entry's 1-based ``index`` in the activation.

No Qt and no database here: both sides (sync/server/storage.py, desktop/activation) use it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

FORM = "samverka-journal-v1"
COLLECTION = "log_entries"
CONTENT_FIELDS = ("activation_id", "at", "author_function_id", "kind", "text", "corrects")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


@dataclass(frozen=True)
class Link:
    """What the server says of one sequenced entry: its activation, its place there and its
    two hashes. The activation is named so that an entry hidden from a device (another
    organisation's internal entry, sent without fields) still finds its place in the chain."""

    activation_id: str
    index: int
    entry_hash: str
    chain: str

    def as_member(self) -> dict[str, Any]:
        """The record state's ``journal`` member."""
        return {"activation_id": self.activation_id, "index": self.index,
                "entry_hash": self.entry_hash, "chain": self.chain}

    def as_json(self) -> str:
        """The member as compact JSON text (what the server stores and splices into a pull)."""
        return json.dumps(self.as_member(), separators=(",", ":"))

    @classmethod
    def from_member(cls, member: Any) -> Link | None:
        """A ``journal`` member as received, or None when it is not one (wrong shape)."""
        if not isinstance(member, Mapping):
            return None
        index, entry_hash, chain = member.get("index"), member.get("entry_hash"), member.get("chain")
        activation_id = member.get("activation_id")
        if not (isinstance(activation_id, str) and _UUID.match(activation_id)):
            return None
        if type(index) is not int or not 1 <= index <= 2**62:
            return None
        if not (isinstance(entry_hash, str) and _HEX64.match(entry_hash)):
            return None
        if not (isinstance(chain, str) and _HEX64.match(chain)):
            return None
        return cls(activation_id, index, entry_hash, chain)


@dataclass(frozen=True)
class Entry:
    """One log entry's content as the chain covers it."""

    record_id: str
    owner_org: str | None
    clock: str | None
    activation_id: str | None
    at: str | None
    author_function_id: str | None
    kind: str | None
    text: str | None
    corrects: str | None

    @classmethod
    def of(cls, record_id: str, owner_org: str | None, clock: str | None, values: Mapping[str, Any]) -> Entry:
        return cls(record_id, owner_org, clock, *(values.get(name) for name in CONTENT_FIELDS))

    @classmethod
    def from_stored(cls, record_id: str, owner_org: str | None, fields: Mapping[str, Any]) -> Entry:
        """From a stored state ``{field: {"value", "clock"}}`` (the server's, a pulled one)."""
        text = fields.get("text") or {}
        values = {name: (fields.get(name) or {}).get("value") for name in CONTENT_FIELDS}
        return cls.of(record_id, owner_org, text.get("clock"), values)

    def canonical(self) -> bytes:
        items = [FORM, self.record_id, self.activation_id, self.owner_org, self.clock, self.at,
                 self.author_function_id, self.kind, self.text, self.corrects]
        for item in items:
            if item is not None and not isinstance(item, str):
                raise TypeError("journal entries hold text and ids only")
        # For arrays of strings and nulls, Python's encoder with these options is RFC 8785.
        text = json.dumps(items, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8")  # a lone surrogate cannot be on the wire: UnicodeEncodeError

    def digest(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


def genesis(activation_id: str) -> str:
    return hashlib.sha256(f"{FORM}\n{activation_id}".encode()).hexdigest()


def link(previous_chain: str, index: int, entry_hash: str) -> str:
    return hashlib.sha256(f"{previous_chain}:{index}:{entry_hash}".encode()).hexdigest()


def next_link(previous: Link | None, activation_id: str, entry: Entry) -> Link:
    """The link of ``entry`` after ``previous`` (None: the activation's first entry)."""
    index = 1 if previous is None else previous.index + 1
    before = genesis(activation_id) if previous is None else previous.chain
    entry_hash = entry.digest()
    return Link(activation_id, index, entry_hash, link(before, index, entry_hash))


# --- checking a journal held by a client -----------------------------------------------------

# Why the chain breaks at an entry (stable codes; desktop/activation words them).
BREAK_CONTENT = "content"  # the entry's content is not what the server sequenced
BREAK_CHAIN = "chain"  # its chain value does not follow from the one before
BREAK_MISSING = "missing"  # an index is absent: an entry was taken away (or never arrived)
BREAK_DUPLICATE = "duplicate"  # two entries claim the same index


@dataclass(frozen=True)
class Held:
    """One entry as a client holds it: its link from the server (None: not sequenced yet) and
    its content (None: hidden from this organisation, so only the server's hash is known)."""

    record_id: str
    link: Link | None
    entry: Entry | None


@dataclass(frozen=True)
class Break:
    index: int
    record_id: str | None
    reason: str


@dataclass(frozen=True)
class Verification:
    """The outcome: ``ok`` when every sequenced entry links up; ``head`` the last chain value
    checked; ``first_break`` where it first fails."""

    activation_id: str
    sequenced: int
    unsequenced: tuple[str, ...]
    hidden: tuple[str, ...]
    head: str
    first_break: Break | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify(activation_id: str, held: Iterable[Held]) -> Verification:
    """Recompute the chain over the sequenced entries in index order and compare."""
    sequenced: list[Held] = []
    unsequenced: list[str] = []
    hidden: list[str] = []
    for item in held:
        if item.link is None:
            unsequenced.append(item.record_id)
        else:
            sequenced.append(item)
            if item.entry is None:
                hidden.append(item.record_id)
    sequenced.sort(key=lambda h: (h.link.index, h.record_id))  # type: ignore[union-attr]
    previous = genesis(activation_id)
    head = previous
    first_break: Break | None = None
    for expected, item in enumerate(sequenced, start=1):
        server = item.link
        assert server is not None
        if server.index != expected:
            if server.index < expected:
                first_break = Break(server.index, item.record_id, BREAK_DUPLICATE)
            else:
                first_break = Break(expected, None, BREAK_MISSING)
            break
        if item.entry is not None and _digest_or_none(item.entry) != server.entry_hash:
            first_break = Break(expected, item.record_id, BREAK_CONTENT)
            break
        if link(previous, expected, server.entry_hash) != server.chain:
            first_break = Break(expected, item.record_id, BREAK_CHAIN)
            break
        previous = head = server.chain
    return Verification(
        activation_id, len(sequenced), tuple(unsequenced), tuple(hidden), head, first_break
    )


def _digest_or_none(entry: Entry) -> str | None:
    try:
        return entry.digest()
    except (TypeError, UnicodeEncodeError):  # not text: it cannot be what the server hashed
        return None


def chain_of(activation_id: str, entries: Sequence[Entry]) -> list[Link]:
    """The links of ``entries`` in this order (the server's computation, for tests and tools)."""
    links: list[Link] = []
    for entry in entries:
        links.append(next_link(links[-1] if links else None, activation_id, entry))
    return links
