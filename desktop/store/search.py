"""Search as a duty officer types it: what a query means, the FTS5 queries it becomes, and the
ranking of what they find.

Matching, in this order of trust (the ranking says which one a hit got, ``SearchHit.match``):
exact word, prefix, the same word with or without diacritics (å→a, ä→a, ö→o, é→e, both ways:
the index folds them, see search_index.py), and, for a word the index has nothing for at all,
one or two typing mistakes (search_words.Vocabulary: "polsi" → "polis", "trafikverkt" →
"trafikverket"; the hit says which word it matched, ``SearchHit.fuzzy_words``). An abbreviation
in the table (TiB, RCB, …) also matches its expansion, and a typed expansion its abbreviation.
A typed phone number, or any run of three or more of its digits with or without spaces, dashes
or +46, finds every channel whose number contains it.

Candidates: up to CANDIDATES matches in FTS5's rowid order (organisations, forums, routines and
functions before channels) from each of up to four queries: the device's own organisation's
matches; every word in the title; every word in the title or the context (what the subtitle
shows: "tib sos" is the TiB of SOS Alarm); anywhere. The later queries run only while the
earlier ones found fewer than the hits asked for in the tier that comes first (their matches
cannot outrank those). A broad prefix ("t") matches tens of thousands of documents; ranking a
bounded set keeps a search in milliseconds, and the query tiers put the best kinds of match in
that set (tests/perf/bench_search.py measured the bound: with 50 per query, the top hits of the
bench's phrases are those of ranking every match). Ranking (``_Ranker.key``), most important
first: the query is the record's whole name or short name; for words, organisations, functions,
forums and routines before channels (for a number or an address, channels first); more of the
query shown (title or subtitle); more in the title; more words that are a whole name ("tib" is
the TiB's short name, a word of "Bakjour TiB"); exact before prefix before folded before
corrected; the device's own organisation; shorter titles; rowid.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Sequence

from desktop.store.search_index import ROWID_BASE, BestChannel, org_token
from desktop.store.search_words import TOKEN_RE, Abbreviations, Vocabulary, fold, max_edits, words

DEFAULT_LIMIT = 20
MAX_QUERY_TOKENS = 12
CANDIDATES = 50  # per candidate query; see the module docstring

EXACT, PREFIX, FOLDED, FUZZY = range(4)
MATCH_NAMES = ("exact", "prefix", "folded", "fuzzy")
CHANNEL_BASE = ROWID_BASE["channels"]  # channels' documents come last in rowid order
_NOT_SHOWN = 9  # a query word the hit does not show (it matched in the document's body)

__all__ = ["BestChannel", "SearchHit", "Query", "parse", "run"]


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One hit as a list shows it; a function's hit carries its best channel, a channel's itself."""

    collection: str
    record_id: str
    title: str
    subtitle: str | None = None
    best_channel: BestChannel | None = None
    # How the title matched the query, the weakest of its words: "exact", "prefix", "folded"
    # (the same word without/with diacritics) or "fuzzy" (a word corrected for typos).
    match: str = "exact"
    # For a corrected word: (what was typed, the word of the record it matched), e.g.
    # (("polsi", "Polismyndigheten"),).
    fuzzy_words: tuple[tuple[str, str], ...] = ()


# ------------------------------------------------------------------ the query

_PHONE_LIKE_RE = re.compile(r"^\s*(\+|00)?[\d][\d\s\-()/.]*$")
_ADDRESS_RE = re.compile(r"@|://|^\s*www\.", re.IGNORECASE)


def _quoted(token: str, prefix: bool = True) -> str:
    """A token as an FTS5 string: nothing typed reaches FTS5 as syntax (quotes are doubled;
    AND/OR/NEAR, *, ^, :, ( ) are separators the tokenizer dropped or text inside quotes)."""
    return '"' + token.replace('"', '""') + ('"*' if prefix else '"')


@dataclass
class Group:
    """One required part of a query: a typed word (or digit fragment), or a run of typed words
    that spell out an abbreviation's expansion; with the other ways it may match."""

    typed: list[str]  # the words as typed (NFC, lower case)
    number: bool = False  # a digit fragment (found inside channel numbers)
    alternatives: list[str] = field(default_factory=list)  # more FTS5 sub-expressions
    expansions: tuple[tuple[str, ...], ...] = ()  # the abbreviation's expansions (folded words)
    abbreviations: tuple[str, ...] = ()  # the abbreviations this run of words spells out
    corrections: list[str] = field(default_factory=list)  # typo corrections (folded prefixes)

    @property
    def folded(self) -> list[str]:
        return [fold(w) for w in self.typed]

    def expression(self) -> str:
        words_ = " AND ".join(_quoted(w) for w in self.typed)
        if len(self.typed) > 1:
            words_ = f"({words_})"
        parts = [words_, *self.alternatives]
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


@dataclass
class Query:
    text: str
    kind: str  # "words", "number" (a phone number or part of one) or "address" (e-mail, web)
    groups: list[Group]

    @property
    def fuzzy(self) -> bool:
        """Did some word need the typo step?"""
        return any(g.corrections for g in self.groups)

    def expression(self, column: str | None = None) -> str:
        """The FTS5 query: every group required; in these columns, or anywhere. (Anywhere
        needs no column filter, which would cost: a typed word never matches the
        organisation tokens of the context column, see search_index.ORG_MARK.)"""
        expression = " AND ".join(g.expression() for g in self.groups)
        return f"{{{column}}} : ({expression})" if column else expression


def _number_group(text: str) -> Group | None:
    """A typed phone number or fragment ("070-174 06", "174 06 99", "+46 70 174", "0699") as
    one run of digits, or None when the text is not one (or has fewer than three digits)."""
    if not _PHONE_LIKE_RE.match(text):
        return None
    cleaned = text.replace("(0)", "")
    digits = "".join(ch for ch in cleaned if "0" <= ch <= "9")
    stripped = cleaned.lstrip()
    international = None
    if stripped.startswith("+"):
        international = digits
    elif stripped.startswith("00"):
        international = digits[2:]
    if international is not None and international.startswith("46"):
        # A Swedish number is indexed nationally ("070…") wherever it is indexed
        # internationally ("4670…"): the national digits find it alone.
        national = "0" + international[2:]
        if len(national) < 3:
            return None
        return Group([national], number=True)
    digits = international if international is not None else digits
    if len(digits) < 3:
        return None
    return Group([digits], number=True)


# Words of an expansion that say too little to require: "tjänsteman i beredskap" is matched
# as tjänsteman* AND beredskap* (FTS5 with detail=column has no phrases; "i*" would only cost).
_STOPWORDS = frozenset({"i", "och", "av", "for", "vid", "pa", "mot", "till", "med", "of", "and", "the"})


def _significant(expansion: tuple[str, ...]) -> tuple[str, ...]:
    kept = tuple(w for w in expansion if w not in _STOPWORDS)
    return kept or expansion


def _abbreviation_groups(tokens: list[str], table: Abbreviations) -> list[Group]:
    """One group per typed word, except that a run of words spelling out an expansion in the
    table ("vakthavande befäl") becomes one group that also matches its abbreviation ("VB")."""
    folded = [fold(t) for t in tokens]
    groups: list[Group] = []
    i = 0
    while i < len(tokens):
        run = None
        for expansion, shorts in table.abbreviations.items():
            n = len(expansion)
            if tuple(folded[i : i + n]) == expansion and (run is None or n > len(run[0])):
                run = (expansion, shorts)
        if run is not None:
            expansion, shorts = run
            n = len(expansion)
            groups.append(Group(
                tokens[i : i + n],
                alternatives=[_quoted(s, prefix=False) for s in shorts],
                abbreviations=shorts,
            ))
            i += n
            continue
        group = Group([tokens[i]])
        expansions = table.expand(folded[i])
        if expansions:
            group.expansions = expansions
            for expansion in map(_significant, expansions):
                group.alternatives.append(
                    "(" + " AND ".join(_quoted(w) for w in expansion) + ")"
                    if len(expansion) > 1 else _quoted(expansion[0])
                )
        groups.append(group)
        i += 1
    return groups


def parse(text: str, abbreviations: Abbreviations | None = None) -> Query | None:
    """What ``text`` asks for, or None when there is nothing to search for."""
    if not isinstance(text, str):
        return None
    text = unicodedata.normalize("NFC", text)
    number = _number_group(text)
    if number is not None:
        return Query(text, "number", [number])
    tokens = words(text)[:MAX_QUERY_TOKENS]
    if not tokens:
        return None
    kind = "address" if _ADDRESS_RE.search(text) else "words"
    if abbreviations is None:
        return Query(text, kind, [Group([t]) for t in tokens])
    return Query(text, kind, _abbreviation_groups(tokens, abbreviations))


_MATCH_SQL = "SELECT rowid FROM search_index WHERE search_index MATCH ? LIMIT ?"
_DOCS_SQL = (
    "SELECT rowid, collection, record_id, title, subtitle, short_name, channel_id, channel_kind, "
    "channel_value, channel_label FROM search_docs WHERE rowid IN ({marks})"
)


def _matches_anything(db, group: Group) -> bool:
    return db.execute(_MATCH_SQL, (group.expression(), 1)).fetchone() is not None


def add_corrections(db, query: Query, vocabulary: Callable[[], Vocabulary]) -> bool:
    """The typo step: each word the index has nothing for gets the vocabulary's nearest
    prefixes as alternatives. Returns whether any word was corrected."""
    corrected = False
    for group in query.groups:
        if group.number or len(group.typed) != 1 or not max_edits(group.typed[0]):
            continue
        if _matches_anything(db, group):
            continue
        group.corrections = vocabulary().corrections(fold(group.typed[0]))
        group.alternatives.extend(_quoted(c) for c in group.corrections)
        corrected = corrected or bool(group.corrections)
    return corrected


def candidate_queries(query: Query, own_org: str | None) -> list[str]:
    """The FTS5 expressions whose first CANDIDATES matches are ranked (see the docstring): the
    own organisation's matches (with ``own_org``); every word in the title; every word in the
    title or the context (what the subtitle shows: "tib sos" is the TiB of SOS); anywhere."""
    everywhere = query.expression()
    queries = [query.expression("title"), query.expression("title context"), everywhere]
    if own_org:
        token = _quoted(org_token(own_org), prefix=False)
        queries.insert(0, "{context} : %s AND (%s)" % (token, everywhere))
    return queries


# ------------------------------------------------------------------ ranking


@lru_cache(maxsize=65_536)
def _shown(text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The words of a text a hit shows: as shown, lower case, folded."""
    raw = tuple(TOKEN_RE.findall(text))
    lower = tuple(w.lower() for w in raw)
    return raw, lower, tuple(fold(w) for w in lower)


@lru_cache(maxsize=65_536)
def _names(collection: str, title: str, short_name: str | None) -> tuple[tuple[str, ...], ...]:
    """The folded words of each name a record is known by: its name and its short name."""
    name = title
    if collection == "functions" and short_name and title.endswith(f" ({short_name})"):
        name = title[: -len(short_name) - 3]
    names = [_shown(name)[2]]
    if short_name:
        names.append(_shown(short_name)[2])
    return tuple(names)


def _word_class(typed: str, lower: Sequence[str], folded: Sequence[str]) -> int:
    best = _NOT_SHOWN
    folded_typed = fold(typed)
    for word, folded_word in zip(lower, folded):
        if word == typed:
            return EXACT
        if word.startswith(typed):
            best = PREFIX
        elif best > FOLDED and folded_word.startswith(folded_typed):
            best = FOLDED
    return best


def _group_class(group: Group, text: str, digits: str | None) -> tuple[int, str | None]:
    """How a group matched a shown text (_NOT_SHOWN if it did not) and, for a correction, the
    word it matched as shown. ``digits``: a channel title's digits (numbers match inside)."""
    if group.number:
        if not digits:
            return _NOT_SHOWN, None
        forms = [group.typed[0], *(_unquoted(a) for a in group.alternatives)]
        if any(digits.startswith(f) for f in forms):
            return EXACT, None
        return (PREFIX, None) if any(f in digits for f in forms) else (_NOT_SHOWN, None)
    raw, lower, folded = _shown(text)
    best = max(_word_class(t, lower, folded) for t in group.typed)
    if best != _NOT_SHOWN:
        return best, None
    for expansion in group.expansions:  # "tib" and a title that spells it out
        if all(any(w.startswith(e) for w in folded) for e in _significant(expansion)):
            return PREFIX, None
    for short in group.abbreviations:  # "vakthavande befäl" and a title that says "VB"
        if short in folded:
            return PREFIX, None
    for correction in group.corrections:
        for word, folded_word in zip(raw, folded):
            if folded_word.startswith(correction):
                return FUZZY, word
    return _NOT_SHOWN, None


def _unquoted(alternative: str) -> str:
    return alternative.strip('"*')


class _Ranker:
    """Orders one query's candidates (see the module docstring for the order). What depends
    only on a shown text is worked out once per distinct text: thousands of functions share a
    title, hundreds of channels a subtitle."""

    def __init__(self, query: Query, vocabulary: Callable[[], Vocabulary]) -> None:
        self.query = query
        self.vocabulary = vocabulary
        self.typed = tuple(fold(w) for g in query.groups for w in g.typed)
        expansions = query.groups[0].expansions if len(query.groups) == 1 else ()
        self.whole_names = {self.typed, *expansions}
        # What each group would be as a whole name: "tib" is the name of the TiB, only a
        # word of "Bakjour TiB"
        self.group_names = [{tuple(g.folded), *g.expansions} for g in query.groups]
        self.channel_tier = 1 if query.kind == "words" else 0
        number = query.groups[0] if query.kind == "number" else None
        self.numbers = {number.typed[0], *map(_unquoted, number.alternatives)} if number else set()
        self._matches: dict[tuple[str, bool], tuple[tuple[int, str | None], ...]] = {}
        self._whole: dict[tuple[str, str, str | None], tuple[bool, int]] = {}

    def matches(self, text: str, channel_title: bool) -> tuple[tuple[int, str | None], ...]:
        """Each group's (class, corrected word) in a shown text."""
        cache_key = (text, channel_title)
        found = self._matches.get(cache_key)
        if found is None:
            digits = "".join(ch for ch in text if "0" <= ch <= "9") if channel_title else None
            found = tuple(_group_class(g, text, digits) for g in self.query.groups)
            self._matches[cache_key] = found
        return found

    def key(self, row: tuple, own: bool) -> tuple:
        rowid, collection, _, title, subtitle, short = row[:6]
        channel = collection == "channels"
        shown_title = title if not short or short in title else f"{title} {short}"
        in_title = self.matches(shown_title, channel)
        in_subtitle = self.matches(subtitle or "", False)
        titled = shown = 0
        worst = EXACT
        for (title_class, _), (subtitle_class, _), group in zip(in_title, in_subtitle, self.query.groups):
            if title_class != _NOT_SHOWN:
                titled += 1
                shown += 1
                worst = max(worst, title_class)
            elif subtitle_class != _NOT_SHOWN:
                shown += 1
                worst = max(worst, subtitle_class)
            if group.corrections:
                worst = FUZZY
        if self.numbers:
            whole = channel and "".join(ch for ch in title if "0" <= ch <= "9") in self.numbers
            named = 0
        else:
            whole, named = self._named(collection, title, short)
        tier = self.channel_tier if channel else 1 - self.channel_tier
        return (
            not whole, tier, -shown, -titled, -named, worst if shown else _NOT_SHOWN, not own,
            len(_shown(shown_title)[0]), rowid,
        )

    def _named(self, collection: str, title: str, short: str | None) -> tuple[bool, int]:
        """Is the query the record's whole name, and how many of its groups are one of them."""
        names_key = (collection, title, short)
        found = self._whole.get(names_key)
        if found is None:
            names = _names(collection, title, short)
            found = (
                not self.whole_names.isdisjoint(names),
                sum(1 for group_names in self.group_names if not group_names.isdisjoint(names)),
            )
            self._whole[names_key] = found
        return found

    def hit(self, row: tuple, key: tuple) -> SearchHit:
        _, collection, record_id, title, subtitle, short, ch_id, ch_kind, ch_value, ch_label = row
        worst = key[5] if key[5] != _NOT_SHOWN else (FUZZY if self.query.fuzzy else PREFIX)
        fuzzy_words = []
        if self.query.fuzzy:
            shown_title = title if not short or short in title else f"{title} {short}"
            in_title = self.matches(shown_title, collection == "channels")
            in_subtitle = self.matches(subtitle or "", False)
            for group, (_, word), (_, sub_word) in zip(self.query.groups, in_title, in_subtitle):
                if group.corrections:
                    fuzzy_words.append((group.typed[0], word or sub_word or self._word_in_index(group)))
        best = BestChannel(ch_id, ch_kind, ch_value, ch_label) if ch_id else None
        return SearchHit(
            collection, record_id, title, subtitle, best, MATCH_NAMES[worst], tuple(fuzzy_words)
        )

    def _word_in_index(self, group: Group) -> str:
        """Where the hit does not show the corrected word: the index's most common word that
        starts with the correction."""
        for correction in group.corrections:
            word = self.vocabulary().word_for(correction)
            if word:
                return word
        return group.corrections[0]


def run(
    db,
    text: str,
    limit: int = DEFAULT_LIMIT,
    *,
    own_org: str | None = None,
    abbreviations: Abbreviations | None = None,
    vocabulary: Callable[[], Vocabulary] | None = None,
) -> list[SearchHit]:
    query = parse(text, abbreviations)
    if query is None or limit <= 0:
        return []
    rows, own = _candidates(db, query, own_org, limit)
    if not rows and vocabulary is not None and add_corrections(db, query, vocabulary):
        rows, own = _candidates(db, query, own_org, limit)
    ranker = _Ranker(query, vocabulary or _no_vocabulary)
    ranked = sorted((ranker.key(row, row[0] in own), row) for row in rows)
    return [ranker.hit(row, key) for key, row in ranked[:limit]]


def _no_vocabulary() -> Vocabulary:
    return Vocabulary({})


def _candidates(db, query: Query, own_org: str | None, limit: int) -> tuple[list[tuple], set[int]]:
    """The search_docs rows of the candidate documents, and which are the own organisation's."""
    rowids: dict[int, None] = {}
    own: set[int] = set()
    count = max(CANDIDATES, limit)
    *first, in_title, shown, everywhere = candidate_queries(query, own_org)
    if first:
        own.update(r[0] for r in db.execute(_MATCH_SQL, (first[0], count)))
        rowids.update(dict.fromkeys(own))
    # Each query's matches rank above the next one's in their tier (every word in the title,
    # then every word shown, then anywhere): once enough of the tier that comes first are in,
    # the next query's cannot reach the top.
    channels_first = query.kind != "words"
    first_tier: set[int] = set()
    for expression in (in_title, shown, everywhere):
        found = [r[0] for r in db.execute(_MATCH_SQL, (expression, count))]
        rowids.update(dict.fromkeys(found))
        first_tier.update(r for r in found if (r >= CHANNEL_BASE) == channels_first)
        if len(first_tier) >= limit:
            break
    rows: list[tuple] = []
    ordered = list(rowids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        rows += db.execute(_DOCS_SQL.format(marks=",".join("?" * len(chunk))), chunk).fetchall()
    return rows, own
