"""Words as search compares them: folding (case and diacritics), the abbreviation table, and typo
correction over the index's own vocabulary (rapidfuzz's Damerau–Levenshtein distance).

- ``fold`` is what the FTS5 tokenizer (unicode61, remove_diacritics 2) does to a word: lower case
  and no diacritics, so "Södertörn", "sodertorn" and "SÖDERTÖRN" are one token in the index. The
  ranking (search.py) still knows which spelling was typed and ranks the exact one first.
- ``Abbreviations``: "TiB" ↔ "Tjänsteman i beredskap" and the rest of
  resources/search/abbreviations.txt, plus an organisation's own ``abbreviations.txt`` in the
  data folder (the same format; it adds entries and expansions, it never removes any).
- ``Vocabulary``: the distinct words of the index (FTS5's fts5vocab), loaded when a query first
  needs a correction and kept until the index changes. A word typed with one or two mistakes
  ("polsi", "trafikverkt") is compared as the prefix it is while being typed: against the
  vocabulary's prefixes of about its length, so "polsi" → "polis" (a prefix of
  "polismyndigheten") and "trafikverkt" → "trafikverke" (of "trafikverket").
"""

from __future__ import annotations

import bisect
import itertools
import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

log = logging.getLogger(__name__)

# unicode61's token characters are letters, digits and private-use characters; everything else
# separates tokens. Splitting the same way means each quoted token is one FTS token. (Private-use
# characters are not matched here: users cannot type the organisation tokens of the index.)
TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)

ABBREVIATIONS_FILE = "abbreviations.txt"  # in resources/search/ and, optionally, the data folder

# Typo correction: how many edits a word of a given length may hold, and how many corrected
# prefixes one typed word may turn into (the closest first).
FUZZY_MIN_LENGTH = 4  # shorter words match too much of the vocabulary to guess from
FUZZY_TWO_EDITS_FROM = 8  # words of this length or longer may hold two mistakes, shorter ones one
FUZZY_MAX_ALTERNATIVES = 4


@lru_cache(maxsize=65_536)
def fold(word: str) -> str:
    """Lower case without diacritics (å→a, ä→a, ö→o, é→e): what the index holds for ``word``."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    if decomposed.isascii():
        return decomposed
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


def words(text: str) -> list[str]:
    """The tokens of ``text`` as typed (NFC, lower case), split as the index splits them."""
    return TOKEN_RE.findall(unicodedata.normalize("NFC", text).lower())


def max_edits(word: str) -> int:
    """How many typing mistakes a word of this length may hold and still be corrected."""
    if len(word) < FUZZY_MIN_LENGTH:
        return 0
    return 2 if len(word) >= FUZZY_TWO_EDITS_FROM else 1


# ---------------------------------------------------------------------------- abbreviations


@dataclass(frozen=True)
class Abbreviations:
    """Abbreviation ↔ expansions, all as folded word tuples: ("tib",) ↔ (("tjansteman", "i",
    "beredskap"),)."""

    expansions: Mapping[str, tuple[tuple[str, ...], ...]]  # folded abbreviation -> expansions
    abbreviations: Mapping[tuple[str, ...], tuple[str, ...]]  # expansion words -> abbreviations

    @classmethod
    def parse(cls, sources: Iterable[tuple[str, str]]) -> Abbreviations:
        """From (name, text) pairs in the abbreviations.txt format; a line that does not parse
        is logged with its file and line number and skipped (the others still count)."""
        expansions: dict[str, list[tuple[str, ...]]] = {}
        for name, text in sources:
            for number, line in enumerate(text.splitlines(), 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                short, sep, rest = line.partition("=")
                short_words = [fold(w) for w in words(short)]
                long_forms = [tuple(fold(w) for w in words(part)) for part in rest.split(";")]
                long_forms = [form for form in long_forms if form]
                if not sep or len(short_words) != 1 or not long_forms:
                    log.warning(
                        "%s, line %d: not 'ABBREVIATION = expansion; expansion' (skipped; "
                        "correct the line to use it)", name, number,
                    )
                    continue
                known = expansions.setdefault(short_words[0], [])
                known.extend(form for form in long_forms if form not in known)
        reverse: dict[tuple[str, ...], list[str]] = {}
        for short, forms in expansions.items():
            for form in forms:
                reverse.setdefault(form, []).append(short)
        return cls(
            {k: tuple(v) for k, v in expansions.items()},
            {k: tuple(v) for k, v in reverse.items()},
        )

    def expand(self, folded_word: str) -> tuple[tuple[str, ...], ...]:
        return self.expansions.get(folded_word, ())


def _resources_file() -> Path:
    from desktop.store.demo import resources_dir  # demo.py imports the store: import late

    return resources_dir() / "search" / ABBREVIATIONS_FILE


def load_abbreviations(data_dir: Path | None) -> Abbreviations:
    """The built-in table, extended by ``data_dir/abbreviations.txt`` when that file exists."""
    sources = []
    for path in (_resources_file(), data_dir / ABBREVIATIONS_FILE if data_dir else None):
        if path is None or not path.is_file():
            continue
        try:
            sources.append((str(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("%s cannot be read (%s); search uses the other abbreviations", path, exc)
    return Abbreviations.parse(sources)


# ---------------------------------------------------------------------------- vocabulary


class Vocabulary:
    """The index's words (letters only) and how many documents hold each, for typo correction."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        self.counts = {w: n for w, n in counts.items() if w.isalpha()}
        self._prefixes: dict[int, tuple[list[str], dict[str, int]]] = {}
        self._sorted: list[str] | None = None

    @classmethod
    def load(cls, db) -> Vocabulary:
        """Read the distinct terms of search_index (through a per-connection fts5vocab table).
        Terms sort digits first: starting at 'a' skips the numbers and their fragments."""
        db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab "
            "USING fts5vocab(main, search_index, row)"
        )
        return cls(dict(db.execute("SELECT term, doc FROM temp.search_vocab WHERE term >= 'a'")))

    def add(self, texts: Iterable[str]) -> None:
        """Words of documents just written (a small edit): known at once, without a reload."""
        for text in texts:
            for word in words(text):
                word = fold(word)
                if word.isalpha() and word not in self.counts:
                    self.counts[word] = 1
                    self._prefixes.clear()
                    self._sorted = None

    def _prefixes_of_length(self, length: int) -> tuple[list[str], dict[str, int]]:
        """Distinct prefixes of this length (words shorter than it count whole), with how many
        documents hold a word that starts with each."""
        cached = self._prefixes.get(length)
        if cached is None:
            frequency: dict[str, int] = {}
            for word, count in self.counts.items():
                prefix = word[:length]
                frequency[prefix] = frequency.get(prefix, 0) + count
            cached = (list(frequency), frequency)
            self._prefixes[length] = cached
        return cached

    def has_prefix(self, folded_word: str) -> bool:
        choices, frequency = self._prefixes_of_length(len(folded_word))
        return folded_word in frequency

    def corrections(self, folded_word: str) -> list[str]:
        """Prefixes of the vocabulary's words within ``max_edits`` of the typed word, the closest
        first: the fewest edits, then the length nearest the typed one, then the most common."""
        limit = max_edits(folded_word)
        if not limit or not folded_word.isalpha():
            return []
        # Imported at the first typo, not with the store (a cold start does not need it).
        from rapidfuzz import process
        from rapidfuzz.distance import DamerauLevenshtein

        found: list[tuple[int, int, int, str]] = []
        length = len(folded_word)
        for size in range(max(1, length - limit), length + limit + 1):
            choices, frequency = self._prefixes_of_length(size)
            for choice, distance, _ in process.extract(
                folded_word, choices, scorer=DamerauLevenshtein.distance,
                score_cutoff=limit, limit=None,
            ):
                if distance:
                    found.append((distance, abs(size - length), -frequency[choice], choice))
        found.sort()
        best: list[str] = []
        for distance, _, _, choice in found:
            if distance > found[0][0] or len(best) == FUZZY_MAX_ALTERNATIVES:
                break
            # A shorter correction already kept covers its extensions ("poli" covers "polis").
            if not any(choice.startswith(kept) or kept.startswith(choice) for kept in best):
                best.append(choice)
        return best

    def word_for(self, prefix: str) -> str | None:
        """The most common word starting with ``prefix`` (to say what a correction matched)."""
        if self._sorted is None:
            self._sorted = sorted(self.counts)
        start = bisect.bisect_left(self._sorted, prefix)
        best: tuple[int, str] | None = None
        for word in itertools.islice(self._sorted, start, None):
            if not word.startswith(prefix):
                break
            if best is None or self.counts[word] > best[0]:
                best = (self.counts[word], word)
        return best[1] if best else None

