"""Full-text search: the documents of searchable records, keeping them in step, and the ranked query.

Design (measured in tests/perf/bench_search.py, 100k functions and channels):
- One contentless FTS5 table ``search_index(title, body)`` (migration 0001): unicode61 with
  remove_diacritics 0, so case folds (Å → å) but å, ä, ö stay apart from a, o; prefix indexes
  for 1–6 characters (a keystroke query's last word is a short prefix; longer prefixes than
  the index covers merge many terms); detail=full (bm25 scores 0 on a contentless
  detail=column table); rank = bm25 with title weighted 10 over body 1.
- ``search_docs`` holds one row per searchable record, its rowid being the document's rowid,
  with the title, subtitle and best channel as shown in a hit: a search is the FTS query for
  the top rowids plus a primary-key join, never a look-up per hit.
- A document holds what a person would type to find it: a function's has its organisation's
  name and short name and its channels' labels and numbers, so "tib sos" finds the TiB of SOS
  Alarm; a channel's words are all body, so "tib" ranks functions above channels labelled
  "Jourmobil TiB". ``dependent_docs`` says which documents a change of a record touches; the
  store rebuilds them in the same transaction as the change (local edit or pulled page), each
  document once per transaction, from the rows just written where it can (``Fresh``).
- Numbers are indexed as digit runs (national and international); a typed number becomes
  one digit-run prefix, so "070-174 06", "0701740" and "+46 70 174" all find "070-174 06 05".
- Broad queries rank a bounded candidate set (CANDIDATES) and the index is merged after bulk
  writes (OPTIMIZE_*, PULLED_BULK_DOCS, bulk_indexing): see the notes at those.
- Deleted records have no document, so they never appear.
"""

from __future__ import annotations

import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Iterator, Mapping, Sequence

from desktop.i18n import language
from desktop.store.messages import channel_kind_label, level_label
from desktop.store.phones import format_phone, phone_search_terms
from desktop.store.schema import SYSTEM_COLUMNS
from sync.records import COLLECTIONS, PHONE_CHANNEL_KINDS, FieldType

# Bump when what goes into a document changes: the store rebuilds the index at open.
SEARCH_DOC_VERSION = 2

SEARCHED_COLLECTIONS = ("organisations", "functions", "channels", "forums", "routines")

DEFAULT_LIMIT = 20
RERANK_FACTOR = 2  # bm25's best limit*2 are re-ordered by what the hit shows (see run)
MAX_QUERY_TOKENS = 12
# Ranking costs ~1.5 µs per matching document (bm25 reads each one's size and positions), so
# a broad prefix ("t", "tib s" over 100k records) would spend 50+ ms ranking tens of thousands
# of matches. A query with more matches than this ranks only the first CANDIDATES matches in
# rowid order; rowids are laid out by collection (ROWID_BASE) so that organisations, forums,
# routines and functions come before channels. Narrower queries are ranked exactly.
CANDIDATES = 1000
ROWID_SPAN = 1 << 40
ROWID_BASE = {
    "organisations": 0,
    "forums": 1 * ROWID_SPAN,
    "routines": 2 * ROWID_SPAN,
    "functions": 3 * ROWID_SPAN,
    "channels": 4 * ROWID_SPAN,
}
# Every transaction adds FTS5 segments, and prefix queries pay for each segment they merge
# (and for the rows deleted from it): in tests/perf/bench_search.py an index left with one
# bulk batch unmerged on top of the rest answered 2.7x slower at p50, 3.6x at p95. So the
# store merges the index into one segment ('optimize', 1-1.5 s per 100k documents) at the end
# of a local transaction that rewrote at least OPTIMIZE_MIN_DOCS documents (a bulk load), and
# after smaller ones (edits, small pulled pages) once the documents rewritten since the last
# merge reach a quarter of the index.
OPTIMIZE_MIN_DOCS = 5000
OPTIMIZE_FRACTION = 0.25
# Pulled pages are different: an initial sync or a catch-up brings page after page, and merging
# after each one rewrote the whole index every page (quadratic: 20 merges for 100k records, 40%
# of the sync). A pulled page that rewrites at least PULLED_BULK_DOCS documents is indexed in
# bulk (bulk_indexing) and its merge is left to the next write transaction that is not such a
# page: the engine's own bookkeeping when the sync ends, a small last page, a local edit. One
# merge per run of pages; the store remembers a merge is due (meta search_merge_due) across a
# restart. Until then the index answers correctly, only slower (p95 about 2x).
PULLED_BULK_DOCS = 1000

_CHUNK = 500  # ids per IN (...) list

# unicode61's token characters are letters, digits and private-use characters; everything
# else separates tokens. Splitting the same way means each quoted token is one FTS token.
_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class BestChannel:
    """The channel to try first: lowest priority number among the function's live channels."""

    channel_id: str
    kind: str
    value: str  # as shown: phone numbers in national format
    label: str | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    collection: str
    record_id: str
    title: str
    subtitle: str | None = None
    best_channel: BestChannel | None = None


_PHONE_LIKE_RE = re.compile(r"^\s*(\+|00)?[\d][\d\s\-()/.]*$")


def query_tokens(text: str) -> list[str]:
    """The words of a query. A typed phone number ("070-174 06", "+46 70 174") becomes one run
    of digits, a prefix of the national or international digits every number is indexed under."""
    if not isinstance(text, str):
        return []
    text = unicodedata.normalize("NFC", text)
    if _PHONE_LIKE_RE.match(text):
        if text.lstrip().startswith(("+", "00")):  # "+46 (0)70 …": the "(0)" is never dialled
            text = text.replace("(0)", "")
        digits = "".join(ch for ch in text if ch.isdigit())
        if text.lstrip().startswith("00"):
            digits = digits[2:]
        if len(digits) >= 4:
            return [digits]
    return _TOKEN_RE.findall(text)[:MAX_QUERY_TOKENS]


def match_expression(tokens: Sequence[str], column: str | None = None) -> str | None:
    """An FTS5 query: every token quoted (quotes doubled) as a prefix, all required.

    Nothing the user types reaches FTS5 as syntax: AND/OR/NEAR, *, ^, :, ( ) and quotes are
    either separators (dropped) or inside a quoted string.
    """
    if not tokens:
        return None
    terms = " ".join('"' + token.replace('"', '""') + '"*' for token in tokens)
    return f"{{{column}}} : ({terms})" if column else terms


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _join(*parts: Any) -> str:
    return " ".join(str(p) for p in parts if p not in (None, ""))


# Rows the current transaction has just inserted and not changed since, as the store hands them
# over: collection -> record_id -> the field values in the collection's field order. Documents of
# new records are built from these instead of reading the rows back (a pulled page of 5,000
# records read back 10,000 rows by key); see _fresh_columns for which values qualify.
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


def _channel_display(kind: str | None, value: str | None) -> str:
    if value and kind in PHONE_CHANNEL_KINDS:
        return format_phone(value)
    return value or ""


def _channel_terms(kind: str | None, value: str | None, label: str | None, lang: str | None = None) -> str:
    terms = [label, channel_kind_label(kind, lang)]
    if value and kind in PHONE_CHANNEL_KINDS and value.startswith("+"):
        terms.extend(phone_search_terms(value))
    else:
        terms.append(value)
    return _join(*terms)


def _sort_key_channel(row: tuple) -> tuple:
    # row: (record_id, function_id, kind, value, label, priority, rowid)
    priority = row[5]
    return (priority is None, priority if priority is not None else 0, row[6])


class _Docs:
    """Builds (title, body, subtitle, best channel) for a set of records, loading rows in batches."""

    def __init__(self, db, fresh: Fresh | None = None) -> None:
        self.db = db
        self.fresh = fresh
        self.lang = language()

    def build(self, collection: str, ids: set[str]) -> dict[str, tuple | None]:
        return getattr(self, f"_{collection}")(ids)

    def _orgs(self, ids: Iterable[str]) -> dict[str, tuple]:
        return _rows_by_id(
            self.db,
            "organisations",
            "record_id, name, short_name, kind, website, notes, deleted",
            ids,
            self.fresh,
        )

    def _organisations(self, ids: set[str]) -> dict[str, tuple | None]:
        rows = self._orgs(ids)
        out: dict[str, tuple | None] = {}
        for rid in ids:
            row = rows.get(rid)
            if row is None or row[6] or not row[1]:
                out[rid] = None
                continue
            _, name, short, _kind, website, notes, _ = row
            out[rid] = (_join(name, short), _join(website, notes), short, None, name)
        return out

    def _channels_of(self, function_ids: Iterable[str]) -> dict[str, list[tuple]]:
        by_function: dict[str, list[tuple]] = {}
        ids = list(function_ids)
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                "SELECT record_id, function_id, kind, value, label, priority, rowid "
                f"FROM channels WHERE deleted = 0 AND function_id IN ({marks})",
                chunk,
            ):
                by_function.setdefault(row[1], []).append(row)
        return by_function

    def _functions(self, ids: set[str]) -> dict[str, tuple | None]:
        rows = _rows_by_id(
            self.db,
            "functions",
            "record_id, organisation_id, name, short_name, description, deleted",
            ids,
            self.fresh,
        )
        orgs = self._orgs({r[1] for r in rows.values() if r[1]})
        channels = self._channels_of(rows.keys())
        out: dict[str, tuple | None] = {}
        for rid in ids:
            row = rows.get(rid)
            if row is None or row[5] or not row[2]:
                out[rid] = None
                continue
            _, org_id, name, short, description, _ = row
            org = orgs.get(org_id)
            org_live = org is not None and not org[6]
            org_name, org_short = (org[1], org[2]) if org_live else (None, None)
            own = sorted(channels.get(rid, ()), key=_sort_key_channel)
            body = _join(
                org_name,
                org_short,
                description,
                *(_channel_terms(c[2], c[3], c[4], self.lang) for c in own),
            )
            best = None
            if own:
                c = own[0]
                best = BestChannel(c[0], c[2], _channel_display(c[2], c[3]), c[4])
            title = f"{name} ({short})" if short and short != name else name
            out[rid] = (_join(name, short), body, org_name, best, title)
        return out

    def _channels(self, ids: set[str]) -> dict[str, tuple | None]:
        rows = _rows_by_id(
            self.db,
            "channels",
            "record_id, function_id, kind, value, label, note, deleted",
            ids,
            self.fresh,
        )
        functions = _rows_by_id(
            self.db,
            "functions",
            "record_id, organisation_id, name, short_name, deleted",
            {r[1] for r in rows.values() if r[1]},
            self.fresh,
        )
        orgs = self._orgs({f[1] for f in functions.values() if f[1]})
        out: dict[str, tuple | None] = {}
        for rid in ids:
            row = rows.get(rid)
            if row is None or row[6] or not row[3]:
                out[rid] = None
                continue
            _, function_id, kind, value, label, note, _ = row
            function = functions.get(function_id)
            fn_name = fn_short = org_name = org_short = None
            if function is not None and not function[4]:
                fn_name, fn_short = function[2], function[3]
                org = orgs.get(function[1])
                if org is not None and not org[6]:
                    org_name, org_short = org[1], org[2]
            display = _channel_display(kind, value)
            subtitle = ", ".join(
                p for p in (label or channel_kind_label(kind, self.lang), fn_name, org_short or org_name) if p
            )
            # A channel's words go in the body, not the title: "tib" should rank the function
            # TiB above its channels labelled "Jourmobil TiB"; a typed number still finds the
            # channel first (its document is much shorter than its function's).
            out[rid] = (
                "",
                _join(
                    _channel_terms(kind, value, label, self.lang),
                    fn_name, fn_short, org_name, org_short, note,
                ),
                subtitle,
                BestChannel(rid, kind or "", display, label),
                display,
            )
        return out

    def _forums(self, ids: set[str]) -> dict[str, tuple | None]:
        rows = _rows_by_id(
            self.db,
            "forums",
            "record_id, name, level, purpose, cadence, meeting_channel, deleted",
            ids,
            self.fresh,
        )
        out: dict[str, tuple | None] = {}
        for rid in ids:
            row = rows.get(rid)
            if row is None or row[6] or not row[1]:
                out[rid] = None
                continue
            _, name, level, purpose, cadence, meeting, _ = row
            label = level_label(level, self.lang)
            out[rid] = (name, _join(label, purpose, cadence, meeting), label or None, None)
        return out

    def _routines(self, ids: set[str]) -> dict[str, tuple | None]:
        rows = _rows_by_id(
            self.db,
            "routines",
            "record_id, title, forum_id, organisation_id, \"trigger\", body, deleted",
            ids,
            self.fresh,
        )
        forums = _rows_by_id(
            self.db, "forums", "record_id, name, deleted", {r[2] for r in rows.values() if r[2]},
            self.fresh,
        )
        orgs = self._orgs({r[3] for r in rows.values() if r[3]})
        out: dict[str, tuple | None] = {}
        for rid in ids:
            row = rows.get(rid)
            if row is None or row[6] or not row[1]:
                out[rid] = None
                continue
            _, title, forum_id, org_id, trigger, body, _ = row
            forum = forums.get(forum_id)
            org = orgs.get(org_id)
            forum_name = forum[1] if forum is not None and not forum[2] else None
            org_name = org[1] if org is not None and not org[6] else None
            # The forum's name is the subtitle, not body text: searching a forum's name should
            # rank the forum above its routines (their titles still match on their own words).
            out[rid] = (title, _join(org_name, trigger, body), forum_name or org_name, None)
        return out


def rebuild_docs(db, docs: Mapping[str, set[str]], fresh: Fresh | None = None) -> int:
    """Write the documents of these records (removing those of deleted or missing records).
    Records in ``fresh`` were inserted by this transaction: they have no document yet.

    Returns how many documents were written or removed."""
    builder = _Docs(db, fresh)
    wanted = [(c, rid) for c, ids in docs.items() for rid in ids]
    if not wanted:
        return 0
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
    next_rowid: dict[str, int] = {}
    for collection, base in ROWID_BASE.items():
        top = db.execute(
            "SELECT max(rowid) FROM search_docs WHERE rowid > ? AND rowid < ?",
            (base, base + ROWID_SPAN),
        ).fetchone()[0]
        next_rowid[collection] = (top or base) + 1
    removals: list[tuple[int]] = []
    index_rows: list[tuple] = []
    doc_rows: list[tuple] = []
    for collection, ids in docs.items():
        if not ids:
            continue
        built = builder.build(collection, set(ids))
        for rid, doc in built.items():
            rowid = existing.get(rid)
            if doc is None:
                if rowid is not None:
                    removals.append((rowid,))
                continue
            if rowid is None:
                rowid = next_rowid[collection]
                next_rowid[collection] += 1
            title_terms, body, subtitle, best = doc[0], doc[1], doc[2], doc[3]
            shown_title = doc[4] if len(doc) > 4 else title_terms
            index_rows.append((rowid, title_terms, body))
            doc_rows.append(
                (
                    rowid,
                    collection,
                    rid,
                    shown_title,
                    subtitle,
                    best.channel_id if best else None,
                    best.kind if best else None,
                    best.value if best else None,
                    best.label if best else None,
                )
            )
    if removals:
        db.executemany("DELETE FROM search_index WHERE rowid = ?", removals)
        db.executemany("DELETE FROM search_docs WHERE rowid = ?", removals)
    if index_rows:
        db.executemany(
            "INSERT OR REPLACE INTO search_index(rowid, title, body) VALUES (?, ?, ?)", index_rows
        )
        db.executemany(
            "INSERT OR REPLACE INTO search_docs(rowid, collection, record_id, title, subtitle, "
            "channel_id, channel_kind, channel_value, channel_label) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            doc_rows,
        )
    return len(removals) + len(index_rows)


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
    write is followed by a full merge of the index ('optimize': at once for a local batch, after
    the run for pulled pages), so those merges are work done twice. Measured on 100k documents
    in pages of 5,000: 2.0 s to index with the defaults, 0.9 s with these settings (a segment
    per transaction: the pending terms of a page, at most 16 MB, are flushed once); in
    bench_bulk_load, whose channels rewrite their functions' documents, 11.7 s against 3.8 s.
    Between pulled pages up to 64 segments pile up before FTS5 merges them (a search meanwhile
    is slower, never wrong).
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
    total = db.execute("SELECT count(*) FROM search_docs").fetchone()[0]
    return rewritten_since >= OPTIMIZE_FRACTION * total


def rebuild_all(db) -> None:
    """Drop every document and index every live searchable record again (after a version change)."""
    db.execute("INSERT INTO search_index(search_index) VALUES ('delete-all')")
    db.execute("DELETE FROM search_docs")
    docs = {
        name: {r[0] for r in db.execute(f'SELECT record_id FROM "{name}" WHERE deleted = 0')}
        for name in SEARCHED_COLLECTIONS
    }
    with bulk_indexing(db, sum(len(ids) for ids in docs.values()) >= OPTIMIZE_MIN_DOCS):
        rebuild_docs(db, docs)
    optimize(db)


_HIT_SQL = (
    "SELECT d.collection, d.record_id, d.title, d.subtitle, d.channel_id, d.channel_kind, "
    "d.channel_value, d.channel_label "
    "FROM ({inner}) AS m JOIN search_docs AS d ON d.rowid = m.rowid ORDER BY m.rank"
)
RANKED_SQL = "SELECT rowid, rank FROM search_index WHERE search_index MATCH ? ORDER BY rank LIMIT ?"
BOUND_SQL = "SELECT rowid FROM search_index WHERE search_index MATCH ? LIMIT 1 OFFSET ?"
BOUNDED_SQL = (
    "SELECT rowid, rank FROM search_index WHERE search_index MATCH ? AND rowid <= ? "
    "ORDER BY rank LIMIT ?"
)


def plan(db, text: str, limit: int) -> tuple[str, tuple] | None:
    """The SQL and parameters for a search, or None when there is nothing to search for."""
    expression = match_expression(query_tokens(text))
    if expression is None or limit <= 0:
        return None
    bound = db.execute(BOUND_SQL, (expression, CANDIDATES - 1)).fetchone()
    if bound is None:  # at most CANDIDATES matches: rank them all
        return _HIT_SQL.format(inner=RANKED_SQL), (expression, limit)
    return _HIT_SQL.format(inner=BOUNDED_SQL), (expression, bound[0], limit)


def _rerank_key(tokens: Sequence[str], hit: SearchHit, position: int) -> tuple:
    """bm25 normalises by the whole document's length, so a routine whose long body repeats a
    forum's name can outrank the forum itself. What the person sees settles it: hits whose
    shown title has every query word (as a word prefix) come first, shorter titles first
    ("Samverkanskonferens (veckovis)" before "Veckovis samverkanskonferens – ordinarie läge");
    then the rest in bm25's order. A channel's title is its value, so channels are not promoted."""
    if hit.collection != "channels" and tokens:
        words = _TOKEN_RE.findall(unicodedata.normalize("NFC", hit.title).lower())
        if all(any(w.startswith(t) for w in words) for t in tokens):
            return (0, len(words), position)
    return (1, 0, position)


def run(db, text: str, limit: int = DEFAULT_LIMIT) -> list[SearchHit]:
    fetch = limit * RERANK_FACTOR
    planned = plan(db, text, fetch)
    if planned is None:
        return []
    sql, params = planned
    hits = []
    for collection, rid, title, subtitle, ch_id, ch_kind, ch_value, ch_label in db.execute(
        sql, params
    ):
        best = BestChannel(ch_id, ch_kind, ch_value, ch_label) if ch_id else None
        hits.append(SearchHit(collection, rid, title, subtitle, best))
    tokens = [t.lower() for t in query_tokens(text)]
    order = sorted(range(len(hits)), key=lambda i: _rerank_key(tokens, hits[i], i))
    return [hits[i] for i in order[:limit]]
