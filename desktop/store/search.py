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
functions before channels) from each of three queries: the device's own organisation's
matches, matches with every word in the title, and all matches. A broad prefix ("t") matches
tens of thousands of documents; ranking only a bounded set keeps it in milliseconds, and the
three queries make sure the best kinds of match are in that set. Ranking (``_rank_key``), most
important first: the query is the record's whole name or short name; for words, organisations,
functions, forums and routines before channels (for a number or an address, channels first);
more of the query in the title; exact before prefix before folded before corrected; the
device's own organisation; shorter titles; rowid.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable

from desktop.store.search_index import BestChannel, org_token
from desktop.store.search_words import TOKEN_RE, Abbreviations, Vocabulary, fold, max_edits, words

DEFAULT_LIMIT = 20
MAX_QUERY_TOKENS = 12
CANDIDATES = 200  # per candidate query; see the module docstring

EXACT, PREFIX, FOLDED, FUZZY = range(4)
MATCH_NAMES = ("exact", "prefix", "folded", "fuzzy")
_NOT_IN_TITLE = 9

__all__ = ["BestChannel", "SearchHit", "Query", "parse", "run"]


@dataclass(frozen=True, slots=True)
class SearchHit:
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

    def expression(self, columns: str = "title body") -> str:
        return "{%s} : (%s)" % (columns, " AND ".join(g.expression() for g in self.groups))


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
        # Swedish numbers are indexed nationally ("070…") and internationally ("4670…").
        national = "0" + international[2:]
        if len(national) < 3:
            return None
        return Group([national], number=True, alternatives=[_quoted(international)])
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
    expression = "{title body} : (%s)" % group.expression()
    return db.execute(_MATCH_SQL, (expression, 1)).fetchone() is not None


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
    """The FTS5 expressions whose first CANDIDATES matches are ranked (see the docstring)."""
    everywhere = query.expression()
    queries = [query.expression("title"), everywhere]
    if own_org:
        queries.insert(0, '{org} : %s AND %s' % (_quoted(org_token(own_org), prefix=False), everywhere))
    return queries


# ------------------------------------------------------------------ ranking


def _title_words(title: str, short_name: str | None) -> list[str]:
    found = TOKEN_RE.findall(title)
    if short_name and short_name != title:
        found += TOKEN_RE.findall(short_name)
    return found


def _name_words(collection: str, title: str, short_name: str | None) -> list[tuple[str, ...]]:
    """The folded words of each name a record is known by: its name and its short name."""
    name = title
    if collection == "functions" and short_name and title.endswith(f" ({short_name})"):
        name = title[: -len(short_name) - 3]
    names = [tuple(fold(w) for w in words(name))]
    if short_name:
        names.append(tuple(fold(w) for w in words(short_name)))
    return names


def _word_class(typed: str, shown: _Shown) -> int:
    best = _NOT_IN_TITLE
    folded_typed = fold(typed)
    for lower, folded_word in zip(shown.lower, shown.folded):
        if lower == typed:
            return EXACT
        if lower.startswith(typed):
            best = min(best, PREFIX)
        elif folded_word.startswith(folded_typed):
            best = min(best, FOLDED)
    return best


def _group_class(group: Group, shown: _Shown, digits: str) -> tuple[int, str | None]:
    """How a group matched these shown words (_NOT_IN_TITLE if it did not) and, for a
    correction, the word it matched as shown."""
    if group.number:
        if not digits:
            return _NOT_IN_TITLE, None
        forms = [group.typed[0]] + [_unquoted(a) for a in group.alternatives]
        if any(digits.startswith(f) for f in forms):
            return EXACT, None
        return (PREFIX, None) if any(f in digits for f in forms) else (_NOT_IN_TITLE, None)
    best = max(_word_class(t, shown) for t in group.typed)
    if best != _NOT_IN_TITLE:
        return best, None
    folded_words = shown.folded
    for expansion in group.expansions:  # "tib" and a title that spells it out
        if all(any(w.startswith(e) for w in folded_words) for e in _significant(expansion)):
            return PREFIX, None
    for short in group.abbreviations:  # "vakthavande befäl" and a title that says "VB"
        if short in folded_words:
            return PREFIX, None
    for correction in group.corrections:
        for raw, folded_word in zip(shown.raw, folded_words):
            if folded_word.startswith(correction):
                return FUZZY, raw
    return _NOT_IN_TITLE, None


@dataclass(frozen=True)
class _Row:
    rowid: int
    collection: str
    record_id: str
    title: str
    subtitle: str | None
    short_name: str | None
    best: BestChannel | None


class _Shown:
    """The words a hit shows (title or subtitle) as typed, lower case and folded."""

    __slots__ = ("raw", "lower", "folded")

    def __init__(self, raw: list[str]) -> None:
        self.raw = raw
        self.lower = [w.lower() for w in raw]
        self.folded = [fold(w) for w in self.lower]


def _rank(query: Query, row: _Row, own: bool, vocabulary: Callable[[], Vocabulary]) -> tuple[tuple, SearchHit]:
    """The sort key of a candidate (see the module docstring) and its hit."""
    title = _Shown(_title_words(row.title, row.short_name))
    subtitle = _Shown(TOKEN_RE.findall(row.subtitle or ""))
    digits = "".join(ch for ch in row.title if "0" <= ch <= "9") if row.collection == "channels" else ""
    in_title = shown = 0
    worst = EXACT
    fuzzy_words: list[tuple[str, str]] = []
    for group in query.groups:
        cls, matched = _group_class(group, title, digits)
        if cls != _NOT_IN_TITLE:
            in_title += 1
        else:
            cls, matched = _group_class(group, subtitle, "")
        if cls != _NOT_IN_TITLE:
            shown += 1
            worst = max(worst, cls)
        if group.corrections:
            worst = FUZZY
            fuzzy_words.append((group.typed[0], matched or _word_in_index(group, vocabulary)))
    if query.kind == "number":
        number = query.groups[0]
        whole = digits != "" and digits in {number.typed[0], *(_unquoted(a) for a in number.alternatives)}
    else:
        names = _name_words(row.collection, row.title, row.short_name)
        typed = tuple(fold(w) for g in query.groups for w in g.typed)
        whole = typed in names or (
            len(query.groups) == 1 and any(e in names for e in query.groups[0].expansions)
        )
    channel = row.collection == "channels"
    tier = int(channel) if query.kind == "words" else int(not channel)
    key = (
        not whole, tier, -shown, -in_title, worst if shown else _NOT_IN_TITLE, not own,
        len(title.raw), row.rowid,
    )
    hit = SearchHit(
        row.collection, row.record_id, row.title, row.subtitle, row.best,
        MATCH_NAMES[worst], tuple(fuzzy_words),
    )
    return key, hit


def _unquoted(alternative: str) -> str:
    return alternative.strip('"*')


def _word_in_index(group: Group, vocabulary: Callable[[], Vocabulary]) -> str:
    """The word a corrected word matched where the hit does not show it: the index's most
    common word that starts with the correction."""
    for correction in group.corrections:
        word = vocabulary().word_for(correction)
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
    rows = _candidates(db, query, own_org, limit)
    if not rows[0] and vocabulary is not None and add_corrections(db, query, vocabulary):
        rows = _candidates(db, query, own_org, limit)
    candidates, own = rows
    ranked = sorted(
        (_rank(query, row, row.rowid in own, vocabulary or _no_vocabulary) for row in candidates),
        key=lambda pair: pair[0],
    )
    return [hit for _, hit in ranked[:limit]]


def _no_vocabulary() -> Vocabulary:
    return Vocabulary({})


def _candidates(db, query: Query, own_org: str | None, limit: int) -> tuple[list[_Row], set[int]]:
    """The rows of the candidate documents, and which of them are the own organisation's."""
    rowids: dict[int, None] = {}
    own: set[int] = set()
    for n, expression in enumerate(candidate_queries(query, own_org)):
        found = [r[0] for r in db.execute(_MATCH_SQL, (expression, max(CANDIDATES, limit)))]
        if own_org and n == 0:
            own.update(found)
        rowids.update(dict.fromkeys(found))
    rows: list[_Row] = []
    ordered = list(rowids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        for rowid, collection, rid, title, subtitle, short, ch_id, ch_kind, ch_value, ch_label in db.execute(
            _DOCS_SQL.format(marks=",".join("?" * len(chunk))), chunk
        ):
            best = BestChannel(ch_id, ch_kind, ch_value, ch_label) if ch_id else None
            rows.append(_Row(rowid, collection, rid, title, subtitle, short, best))
    return rows, own

