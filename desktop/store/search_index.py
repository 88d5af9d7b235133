"""The search index: each searchable record's document, kept in step with its records, and the
one-pass build after an initial sync or a bulk import.

Layout (migration 0003; figures in tests/perf/bench_search.py and the README):
- One contentless FTS5 table ``search_index(title, context, body)``: unicode61 with
  remove_diacritics 2, so case and diacritics fold (Södertörn, sodertorn and SÖDERTÖRN are one
  token; the ranking tells them apart, see search.py); prefix indexes for 1–3 characters;
  detail=column (which column a word is in, not where: enough for the candidate queries, half
  of detail=full's size; phrases are not needed, an abbreviation's expansion is matched as its
  words). ``title`` holds what a hit's title shows (and the short name), ``context`` what its
  subtitle shows (a function's organisation; a channel's label, function and organisation),
  ``body`` the rest. ``context`` also holds one token naming the record's organisation
  (ORG_MARK + its id), so "this organisation's matches" is one indexed FTS query; a typed word
  never matches it (the mark is a private-use character, which the query's words never hold).
- ``search_docs`` holds one row per searchable record, its rowid being the document's rowid,
  with what a hit shows (title, subtitle, best channel) and the short name the ranking compares.
  Rowids are laid out by collection (ROWID_BASE): organisations, forums, routines and functions
  come before channels in FTS5's rowid order, which is the order a bounded candidate set keeps.
- A document holds what a person would type to find it: a function's has its organisation's
  name and short name and its channels' labels and numbers, so "tib sos" finds the TiB of SOS
  Alarm; a channel's title is its value, its context the function's and organisation's names.
- A phone number is indexed nationally and internationally ("0701740605", "46701740605"); a
  channel's document also holds every tail of its digits of three or more ("1740605", "0605",
  "605"), so a number is found by any fragment typed (a prefix of one of those). Digit runs of
  other channel values (a Rakel ISSI) get the same.

Keeping up: an edit rebuilds the documents it affects in its own transaction
(``dependent_docs``, ``rebuild_docs``). A transaction that writes many records (a pulled page,
a bulk import) leaves them to one pass after the last of them (the store decides when;
``build_all`` when most of the index is new, else ``rebuild_docs``), so a 100k-record sync
writes each document once and merges the index once.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from desktop.i18n import language
from desktop.store.messages import channel_kind_label, level_label
from desktop.store.phones import format_phone
from desktop.store.schema import SYSTEM_COLUMNS
from sync.records import COLLECTIONS, PHONE_CHANNEL_KINDS, FieldType

# Bump when what goes into a document changes: the store rebuilds the index (after opening).
SEARCH_DOC_VERSION = 3

SEARCHED_COLLECTIONS = ("organisations", "functions", "channels", "forums", "routines")

ROWID_SPAN = 1 << 40
ROWID_BASE = {
    "organisations": 0,
    "forums": 1 * ROWID_SPAN,
    "routines": 2 * ROWID_SPAN,
    "functions": 3 * ROWID_SPAN,
    "channels": 4 * ROWID_SPAN,
}
ORG_MARK = "\ue000"  # a private-use character: a token character to FTS5, never typed

MIN_FRAGMENT = 3  # the shortest digit fragment a number is found by
_DIGITS_RE = re.compile(r"[0-9]+")
# Every transaction adds FTS5 segments, and prefix queries pay for each segment they merge, so
# the index is merged into one segment ('optimize') after a write that rewrote at least
# OPTIMIZE_MIN_DOCS documents, and after smaller ones once the documents rewritten since the
# last merge reach OPTIMIZE_FRACTION of the index.
OPTIMIZE_MIN_DOCS = 5000
OPTIMIZE_FRACTION = 0.25

_CHUNK = 500  # ids per IN (...) list
PROGRESS_STEP = 10_000  # documents between progress reports of a long pass

Progress = Callable[[int, int], None]  # (documents done, documents in the pass)


@dataclass(frozen=True, slots=True)
class BestChannel:
    """The channel to try first: lowest priority number among the function's live channels."""

    channel_id: str
    kind: str
    value: str  # as shown: phone numbers in national format
    label: str | None = None


# A document, as the builders make it: a plain tuple (100k of them are made in one pass), the
# FTS5 columns first and then search_docs' columns after (rowid, collection, record_id).
Doc = tuple
# (title_terms: the FTS title column, what the hit's title shows and the short name;
#  context: the FTS context column, what its subtitle shows, and its organisation's token;
#  body: the FTS body column, the rest a person might type to find it;
#  title, subtitle, short_name, channel_id, channel_kind, channel_value, channel_label: as shown)
DOC_INDEX_COLUMNS = 3


def org_token(org_id: str | None) -> str | None:
    return ORG_MARK + org_id.replace("-", "") if org_id else None


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _join(*parts: Any) -> str:
    """The non-empty parts, space-separated (a pulled value may be a number: as text)."""
    return " ".join([p if type(p) is str else str(p) for p in parts if p is not None and p != ""])


# ------------------------------------------------------------------ numbers


def _tails(digits: str) -> list[str]:
    """Every tail of ``digits`` of MIN_FRAGMENT or more, the whole run excluded."""
    return [digits[i:] for i in range(1, len(digits) - MIN_FRAGMENT + 1)]


@lru_cache(maxsize=65_536)
def number_terms(kind: str | None, value: str | None, fragments: bool) -> str:
    """What the index holds for a channel's value: a phone number's national and international
    digits ("0701740605 46701740605"), the value itself otherwise; with ``fragments`` also the
    tails of its digits (a channel's own document, not its function's)."""
    if not value:
        return ""
    if kind in PHONE_CHANNEL_KINDS and value.startswith("+") and value[1:].isdigit():
        international = value[1:]
        if international.startswith("46"):
            national = "0" + international[2:]
            terms = [national, international]
        else:
            national = international
            terms = [international]
        if fragments:
            terms.extend(_tails(national))
        return " ".join(terms)
    if not fragments:
        return value
    runs = [run for run in _DIGITS_RE.findall(value) if len(run) > MIN_FRAGMENT]
    return _join(value, *(tail for run in runs for tail in _tails(run)))


def _channel_display(kind: str | None, value: str | None) -> str:
    if value and kind in PHONE_CHANNEL_KINDS:
        return format_phone(value)
    return value or ""


def _channel_terms(kind: str | None, value: str | None, label: str | None, kind_label: str) -> str:
    """A channel as its function's document holds it: label, kind and number (no fragments)."""
    return _join(label, kind_label, number_terms(kind, value, False))


# ------------------------------------------------------------------ rows


# Rows the current transaction has just inserted and not changed since, as the store hands them
# over: collection -> record_id -> the field values in the collection's field order. Documents of
# new records are built from these instead of reading the rows back; see _fresh_columns for
# which values qualify.
Fresh = Mapping[str, Mapping[str, Sequence[Any]]]

_RECORD_ID, _DELETED, _TEXT, _INT = range(4)


@lru_cache(maxsize=None)
def _fresh_columns(table: str, columns: str) -> tuple[tuple[int, int], ...] | None:
    """How to make a selected row from a fresh one: (kind, field position) per column, or None
    when a column is not one a fresh row can give exactly as SQLite would return it."""
    coll = COLLECTIONS.get(table)
    if coll is None:
        return None
    positions = {name: i for i, name in enumerate(coll.fields)}
    plan: list[tuple[int, int]] = []
    for column in columns.split(","):
        name = column.strip().strip('"')
        if name == "record_id":
            plan.append((_RECORD_ID, 0))
        elif name == "deleted":
            plan.append((_DELETED, 0))
        elif name in positions and name not in SYSTEM_COLUMNS:
            kind = coll.fields[name].type
            if kind is FieldType.INT:
                plan.append((_INT, positions[name]))
            elif kind in (FieldType.BOOL, FieldType.ANY):
                return None  # stored converted (0/1, JSON text): read them from the table
            else:
                plan.append((_TEXT, positions[name]))  # a text column: str or None as stored
        else:
            return None
    return tuple(plan)


def _fresh_row(record_id: str, values: Sequence[Any], plan: tuple[tuple[int, int], ...]) -> tuple | None:
    """The row SQLite would return, or None when a value would come back converted (a number in
    a text column, text in an integer column: only a misbehaving peer sends those)."""
    row: list[Any] = []
    for kind, position in plan:
        if kind == _TEXT:
            value = values[position]
            if value is not None and type(value) is not str:
                return None
        elif kind == _INT:
            value = values[position]
            if value is not None and type(value) is not int:
                return None
        elif kind == _RECORD_ID:
            value = record_id
        else:
            value = 0  # fresh rows are live
        row.append(value)
    return tuple(row)


def _rows_by_id(
    db, table: str, columns: str, ids: Iterable[str], fresh: Fresh | None = None
) -> dict[str, tuple]:
    """Rows of ``table`` by record_id (first selected column must be record_id); rows in
    ``fresh`` are made from it, the others read."""
    ids = list(ids)
    out: dict[str, tuple] = {}
    known = fresh.get(table) if fresh else None
    plan = _fresh_columns(table, columns) if known else None
    if plan is not None:
        missing = []
        for rid in ids:
            values = known.get(rid)
            row = None if values is None else _fresh_row(rid, values, plan)
            if row is None:
                missing.append(rid)
            else:
                out[rid] = row
        ids = missing
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for row in db.execute(
            f'SELECT {columns} FROM "{table}" WHERE record_id IN ({marks})', chunk
        ):
            out[row[0]] = row
    return out


def _ids_where(db, table: str, column: str, values: Iterable[str]) -> set[str]:
    values = [v for v in set(values) if v]
    found: set[str] = set()
    for chunk in _chunks(values):
        marks = ",".join("?" * len(chunk))
        found.update(
            r[0]
            for r in db.execute(
                f'SELECT record_id FROM "{table}" WHERE "{column}" IN ({marks})', chunk
            )
        )
    return found


def dependent_docs(
    db, changed: Mapping[str, set[str]], fresh: Fresh | None = None
) -> dict[str, set[str]]:
    """The documents to rebuild after the records in ``changed`` (collection → ids) changed."""
    docs: dict[str, set[str]] = {name: set() for name in SEARCHED_COLLECTIONS}
    orgs = changed.get("organisations", set())
    functions = set(changed.get("functions", set()))
    channels = changed.get("channels", set())
    forums = changed.get("forums", set())
    docs["organisations"] |= orgs
    docs["routines"] |= changed.get("routines", set())
    docs["forums"] |= forums
    if orgs:
        org_functions = _ids_where(db, "functions", "organisation_id", orgs)
        docs["functions"] |= org_functions
        docs["channels"] |= _ids_where(db, "channels", "function_id", org_functions)
        docs["routines"] |= _ids_where(db, "routines", "organisation_id", orgs)
    if functions:
        docs["functions"] |= functions
        docs["channels"] |= _ids_where(db, "channels", "function_id", functions)
    if channels:
        docs["channels"] |= channels
        owners = _rows_by_id(db, "channels", "record_id, function_id", channels, fresh)
        docs["functions"] |= {row[1] for row in owners.values() if row[1]}
    if forums:
        docs["routines"] |= _ids_where(db, "routines", "forum_id", forums)
    return docs


# ------------------------------------------------------------------ documents

_ORG_COLUMNS = "record_id, name, short_name, website, notes, deleted"
_FUNCTION_COLUMNS = "record_id, organisation_id, name, short_name, description, deleted"
# A channel's own document and its function's both read these (one scan in the one-pass build).
_CHANNEL_COLUMNS = "record_id, function_id, kind, value, label, priority, rowid, note, deleted"
_FORUM_COLUMNS = "record_id, name, level, purpose, cadence, meeting_channel, deleted"
_ROUTINE_COLUMNS = 'record_id, title, forum_id, organisation_id, "trigger", body, deleted'


def _channel_order(row: tuple) -> tuple:
    # row: _CHANNEL_COLUMNS; no priority sorts last, then priority, then creation order
    priority = row[5]
    return (priority is None, priority if priority is not None else 0, row[6])


class _Docs:
    """Builds the documents of a set of records, loading the rows they need in batches: by id
    (an edit, a pulled page), or every live row at once (``everything``: the one-pass build)."""

    def __init__(self, db, fresh: Fresh | None = None, everything: bool = False) -> None:
        self.db = db
        self.fresh = fresh
        self.everything = everything
        self.lang = language()
        self._kind_labels: dict[str | None, str] = {}  # a channel kind's label in self.lang
        self._all: dict[tuple[str, str], dict[str, tuple]] = {}
        self._all_channels: dict[str, list[tuple]] | None = None

    def _rows(self, table: str, columns: str, ids: Iterable[str]) -> Mapping[str, tuple]:
        if not self.everything:
            return _rows_by_id(self.db, table, columns, ids, self.fresh)
        rows = self._all.get((table, columns))
        if rows is None:
            rows = {r[0]: r for r in self.db.execute(
                f'SELECT {columns} FROM "{table}" WHERE deleted = 0'
            )}
            self._all[(table, columns)] = rows
        return rows

    def _channels_of(self, function_ids: Iterable[str]) -> Mapping[str, list[tuple]]:
        """Each function's live channels, best first."""
        if self.everything:
            if self._all_channels is None:
                grouped: dict[str, list[tuple]] = {}
                for row in self._rows("channels", _CHANNEL_COLUMNS, ()).values():
                    grouped.setdefault(row[1], []).append(row)
                for rows in grouped.values():
                    if len(rows) > 1:
                        rows.sort(key=_channel_order)
                self._all_channels = grouped
            return self._all_channels
        by_function: dict[str, list[tuple]] = {}
        for chunk in _chunks(list(function_ids)):
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                f"SELECT {_CHANNEL_COLUMNS} FROM channels "
                f"WHERE deleted = 0 AND function_id IN ({marks})",
                chunk,
            ):
                by_function.setdefault(row[1], []).append(row)
        for rows in by_function.values():
            rows.sort(key=_channel_order)
        return by_function

    def _kind_label(self, kind: str | None) -> str:
        text = self._kind_labels.get(kind)
        if text is None:
            text = self._kind_labels[kind] = channel_kind_label(kind, self.lang)
        return text

    def _orgs(self, ids: Iterable[str]) -> Mapping[str, tuple]:
        return self._rows("organisations", _ORG_COLUMNS, ids)

    @staticmethod
    def _live(
        rows: Mapping[str, tuple], ids: Iterable[str], out: dict[str, Doc | None], required: int
    ) -> Iterator[tuple[str, tuple]]:
        """(record_id, row) of the live rows with a value in column ``required`` (every column
        list ends with ``deleted``); the others get no document."""
        for rid in ids:
            row = rows.get(rid)
            if row is None or row[-1] or not row[required]:
                out[rid] = None
            else:
                yield rid, row

    def build(self, collection: str, ids: Iterable[str]) -> dict[str, Doc | None]:
        return getattr(self, f"_{collection}")(ids)

    def _org_context(self, orgs: Mapping[str, tuple], org_id: str | None) -> tuple[str | None, str | None, str | None]:
        """A live organisation's (name, short name, token), or Nones."""
        org = orgs.get(org_id) if org_id else None
        if org is None or org[5]:
            return None, None, None
        return org[1], org[2], org_token(org_id)

    def _organisations(self, ids: Iterable[str]) -> dict[str, Doc | None]:
        out: dict[str, Doc | None] = {}
        for rid, row in self._live(self._orgs(ids), ids, out, 1):
            _, name, short, website, notes, _ = row
            out[rid] = (
                _join(name, short), org_token(rid), _join(website, notes), name, short, short,
                None, None, None, None,
            )
        return out

    def _functions(self, ids: Iterable[str]) -> dict[str, Doc | None]:
        rows = self._rows("functions", _FUNCTION_COLUMNS, ids)
        wanted = rows.keys() if not self.everything else ()
        orgs = self._orgs({r[1] for r in rows.values() if r[1]} if not self.everything else ())
        channels = self._channels_of(wanted)
        kind_label = self._kind_label
        out: dict[str, Doc | None] = {}
        for rid, row in self._live(rows, ids, out, 2):
            _, org_id, name, short, description, _ = row
            org_name, org_short, token = self._org_context(orgs, org_id)
            own = channels.get(rid, ())
            body = _join(description, *[_channel_terms(c[2], c[3], c[4], kind_label(c[2])) for c in own])
            title = f"{name} ({short})" if short and short != name else name
            if own:
                c = own[0]
                best = (c[0], c[2], _channel_display(c[2], c[3]), c[4])
            else:
                best = (None, None, None, None)
            out[rid] = (
                _join(name, short), _join(org_name, org_short, token), body, title, org_name,
                short, *best,
            )
        return out

    def _channels(self, ids: Iterable[str]) -> dict[str, Doc | None]:
        rows = self._rows("channels", _CHANNEL_COLUMNS, ids)
        everything = self.everything
        functions = self._rows(
            "functions", _FUNCTION_COLUMNS, () if everything else {r[1] for r in rows.values() if r[1]}
        )
        orgs = self._orgs(() if everything else {f[1] for f in functions.values() if f[1]})
        out: dict[str, Doc | None] = {}
        for rid, row in self._live(rows, ids, out, 3):
            _, function_id, kind, value, label, _, _, note, _ = row
            function = functions.get(function_id) if function_id else None
            fn_name = fn_short = org_name = org_short = token = None
            if function is not None and not function[5]:
                fn_name, fn_short = function[2], function[3]
                org_name, org_short, token = self._org_context(orgs, function[1])
            display = _channel_display(kind, value)
            kind_label = self._kind_label(kind)
            subtitle = ", ".join([p for p in (label or kind_label, fn_name, org_short or org_name) if p])
            # The value is the channel's title (a typed number or address finds the channel
            # itself first); label, kind, function and organisation are its context.
            out[rid] = (
                number_terms(kind, value, True),
                _join(label, kind_label, fn_name, fn_short, org_name, org_short, token),
                note or "", display, subtitle, None, rid, kind or "", display, label,
            )
        return out

    def _forums(self, ids: Iterable[str]) -> dict[str, Doc | None]:
        out: dict[str, Doc | None] = {}
        for rid, row in self._live(self._rows("forums", _FORUM_COLUMNS, ids), ids, out, 1):
            _, name, level, purpose, cadence, meeting, _ = row
            label = level_label(level, self.lang)
            out[rid] = (
                name, label, _join(purpose, cadence, meeting), name, label or None, None,
                None, None, None, None,
            )
        return out

    def _routines(self, ids: Iterable[str]) -> dict[str, Doc | None]:
        rows = self._rows("routines", _ROUTINE_COLUMNS, ids)
        everything = self.everything
        forums = self._rows(
            "forums", "record_id, name, deleted",
            () if everything else {r[2] for r in rows.values() if r[2]},
        )
        orgs = self._orgs(() if everything else {r[3] for r in rows.values() if r[3]})
        out: dict[str, Doc | None] = {}
        for rid, row in self._live(rows, ids, out, 1):
            _, title, forum_id, org_id, trigger, body, _ = row
            forum = forums.get(forum_id) if forum_id else None
            forum_name = forum[1] if forum is not None and not forum[-1] else None
            org_name, _, token = self._org_context(orgs, org_id)
            # The forum's name is the subtitle but not indexed: searching a forum's name should
            # find the forum, not every routine of it (their titles match on their own words).
            out[rid] = (
                title, _join(org_name, token), _join(trigger, body), title, forum_name or org_name,
                None, None, None, None, None,
            )
        return out


# ------------------------------------------------------------------ writing documents

_INSERT_INDEX = "INSERT INTO search_index(rowid, title, context, body) VALUES (?, ?, ?, ?)"
_INSERT_DOCS = (
    "INSERT INTO search_docs(rowid, collection, record_id, title, subtitle, short_name, "
    "channel_id, channel_kind, channel_value, channel_label) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def rebuild_docs(
    db,
    docs: Mapping[str, set[str]],
    fresh: Fresh | None = None,
    texts: list[str] | None = None,
) -> int:
    """Write the documents of these records (removing those of deleted or missing records).
    Records in ``fresh`` were inserted by this transaction: they have no document yet. The
    words written are appended to ``texts`` when given (for the typo vocabulary).

    Returns how many documents were written or removed."""
    wanted = [(c, rid) for c, ids in docs.items() for rid in ids]
    if not wanted:
        return 0
    builder = _Docs(db, fresh)
    existing: dict[str, int] = {}
    all_ids = [rid for c, rid in wanted if not (fresh and rid in fresh.get(c, ()))]
    for chunk in _chunks(all_ids):
        marks = ",".join("?" * len(chunk))
        existing.update(
            (r[1], r[0])
            for r in db.execute(
                f"SELECT rowid, record_id FROM search_docs WHERE record_id IN ({marks})", chunk
            )
        )
    next_rowid = _next_rowids(db)
    removals: list[tuple[int]] = []
    index_rows: list[tuple] = []
    doc_rows: list[tuple] = []
    for collection, ids in docs.items():
        if not ids:
            continue
        for rid, doc in builder.build(collection, set(ids)).items():
            rowid = existing.get(rid)
            if doc is None:
                if rowid is not None:
                    removals.append((rowid,))
                continue
            if rowid is None:
                rowid = next_rowid[collection]
                next_rowid[collection] += 1
            index_rows.append((rowid, *doc[:DOC_INDEX_COLUMNS]))
            doc_rows.append((rowid, collection, rid, *doc[DOC_INDEX_COLUMNS:]))
            if texts is not None:
                texts.extend(doc[:DOC_INDEX_COLUMNS])
    if removals:
        db.executemany("DELETE FROM search_index WHERE rowid = ?", removals)
        db.executemany("DELETE FROM search_docs WHERE rowid = ?", removals)
    if index_rows:
        # A document already indexed is replaced (contentless_delete=1 allows it).
        db.executemany(_INSERT_INDEX.replace("INSERT", "INSERT OR REPLACE", 1), index_rows)
        db.executemany(_INSERT_DOCS.replace("INSERT", "INSERT OR REPLACE", 1), doc_rows)
    return len(removals) + len(index_rows)


def _next_rowids(db) -> dict[str, int]:
    out = {}
    for collection, base in ROWID_BASE.items():
        top = db.execute(
            "SELECT max(rowid) FROM search_docs WHERE rowid > ? AND rowid < ?",
            (base, base + ROWID_SPAN),
        ).fetchone()[0]
        out[collection] = (top or base) + 1
    return out


def build_all(db, progress: Progress | None = None) -> int:
    """Drop every document and index every live searchable record again, in one pass: each
    table read once, documents written in rowid order, the index merged once. Returns how many
    documents it wrote."""
    db.execute("INSERT INTO search_index(search_index) VALUES ('delete-all')")
    db.execute("DELETE FROM search_docs")
    builder = _Docs(db, everything=True)
    ids = {
        name: [r[0] for r in db.execute(f'SELECT record_id FROM "{name}" WHERE deleted = 0 ORDER BY rowid')]
        for name in SEARCHED_COLLECTIONS
    }
    total = sum(len(v) for v in ids.values())
    done = 0
    if progress is not None:
        progress(0, total)
    with bulk_indexing(db):
        for collection, base in ROWID_BASE.items():  # rowid order
            rowid = base
            for chunk in _chunks(ids[collection], PROGRESS_STEP):
                index_rows, doc_rows = [], []
                for rid, doc in builder.build(collection, chunk).items():
                    if doc is None:
                        continue
                    rowid += 1
                    index_rows.append((rowid, *doc[:DOC_INDEX_COLUMNS]))
                    doc_rows.append((rowid, collection, rid, *doc[DOC_INDEX_COLUMNS:]))
                db.executemany(_INSERT_INDEX, index_rows)
                db.executemany(_INSERT_DOCS, doc_rows)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    optimize(db)
    return done


# ------------------------------------------------------------------ FTS5 maintenance

# FTS5's merge settings while a bulk write is indexed (see bulk_indexing), and their defaults.
BULK_MERGE_SETTINGS = {"automerge": 0, "crisismerge": 64, "hashsize": 16 << 20}
FTS5_DEFAULTS = {"automerge": 4, "crisismerge": 16, "hashsize": 1 << 20}


@contextmanager
def bulk_indexing(db, bulk: bool = True) -> Iterator[None]:
    """Index a bulk write without FTS5's own incremental merging; the settings come back before
    the transaction commits (a failed one rolls them back with everything else).

    FTS5 flushes its pending terms to a new segment about every megabyte of text, and after each
    flush merges segments (automerge: four at a level; crisismerge: sixteen) and, with
    contentless_delete, any segment that lost a tenth of its rows to rewritten documents. A bulk
    write is followed by a full merge of the index ('optimize'), so those merges are work done
    twice (measured on 100k documents in pages of 5,000: 2.0 s to index with the defaults, 0.9 s
    with these settings).
    """
    if not bulk:
        yield
        return
    keys = tuple(BULK_MERGE_SETTINGS)
    saved = dict(
        db.execute(
            f"SELECT k, v FROM search_index_config WHERE k IN ({','.join('?' * len(keys))})", keys
        ).fetchall()
    )
    for key, value in BULK_MERGE_SETTINGS.items():
        db.execute("INSERT INTO search_index(search_index, rank) VALUES (?, ?)", (key, value))
    yield
    for key in keys:
        db.execute(
            "INSERT INTO search_index(search_index, rank) VALUES (?, ?)",
            (key, int(saved.get(key, FTS5_DEFAULTS[key]))),
        )


def optimize(db) -> None:
    """Merge the index's segments into one (drops the entries of replaced documents)."""
    db.execute("INSERT INTO search_index(search_index) VALUES ('optimize')")


def optimize_due(db, rewritten_now: int, rewritten_since: int) -> bool:
    if rewritten_now >= OPTIMIZE_MIN_DOCS:
        return True
    if rewritten_since < OPTIMIZE_MIN_DOCS:
        return False
    return rewritten_since >= OPTIMIZE_FRACTION * document_count(db)


def document_count(db) -> int:
    return db.execute("SELECT count(*) FROM search_docs").fetchone()[0]
