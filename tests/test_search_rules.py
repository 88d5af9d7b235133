"""The forgiving rules on generated data: typos corrected over the index's own words (and said
so), abbreviations both ways (with an organisation's own additions), and a ranking that knows
the duty officer: the own organisation first among equals, organisations and functions before
their channels, channels first for a number or an address."""

from __future__ import annotations

import logging

import pytest

from desktop.store import Store
from desktop.store.search_words import Abbreviations, Vocabulary, fold, load_abbreviations
from test_store_helpers import make_channel, make_function, make_org

MUNICIPALITIES = ["Botkyrka", "Huddinge", "Nacka", "Solna", "Täby", "Sigtuna", "Vaxholm"]


def ids(hits) -> list[str]:
    return [h.record_id for h in hits]


@pytest.fixture
def generated(store: Store) -> dict[str, str]:
    """Seven municipalities with a TiB each, then the county board (created last, so it is last
    in rowid order), with a "Bakjour TiB" created before its own TiB."""
    made: dict[str, str] = {}
    for n, name in enumerate(MUNICIPALITIES):
        org = make_org(store, f"{name} kommun", name[:4])
        made[f"org_{name}"] = org
        made[f"tib_{name}"] = fn = make_function(store, org, "Tjänsteman i beredskap", "TiB")
        make_channel(store, fn, f"070-174 06 {10 + n:02d}", label="Jourmobil TiB", priority=1)
    lst = made["lst"] = make_org(store, "Länsstyrelsen Stockholm", "Lst")
    made["bakjour"] = make_function(store, lst, "Bakjour TiB", None)
    made["tib_lst"] = make_function(store, lst, "Tjänsteman i beredskap", "TiB")
    made["tib_lst_mobile"] = make_channel(store, made["tib_lst"], "070-174 06 05", label="Jourmobil TiB", priority=1)
    polis = made["polis"] = make_org(store, "Polismyndigheten i Stockholms län", "Polisen")
    made["rlc"] = make_function(store, polis, "Regionledningscentralen, vakthavande befäl", None)
    trv = made["trv"] = make_org(store, "Trafikverket", "TRV")
    made["trv_tc"] = make_function(store, trv, "Trafikcentral", "TC", description="Trafikverkets trafikcentral")
    return made


# ------------------------------------------------------------------ typos


def test_a_typo_is_corrected_and_the_hit_says_to_what(store, generated):
    [first, *_] = store.search("polsi")
    assert first.record_id == generated["polis"]
    assert first.match == "fuzzy"
    assert first.fuzzy_words == (("polsi", "Polismyndigheten"),)
    hits = store.search("trafikverkt")
    assert generated["trv"] in ids(hits)[:2]
    assert ("trafikverkt", "Trafikverket") in hits[0].fuzzy_words
    # A hit that matched outside its title names the index's word for it.
    [rlc] = [h for h in store.search("regionledningscentarlen") if h.record_id == generated["rlc"]]
    assert rlc.fuzzy_words == (("regionledningscentarlen", "Regionledningscentralen"),)
    [tc] = [h for h in store.search("trafikverkts") if h.record_id == generated["trv_tc"]]
    assert tc.fuzzy_words == (("trafikverkts", "Trafikverkets"),) or tc.fuzzy_words[0][1] == "trafikverkets"


def test_typos_with_other_words_and_within_limits(store, generated):
    assert ids(store.search("tib solan"))[0] == generated["tib_Solna"]  # one word corrected
    assert ids(store.search("tjänstemna i beredskap nacka"))[0] == generated["tib_Nacka"]
    # Two mistakes in a long word, one in a shorter one.
    assert generated["polis"] in ids(store.search("polismyndgiheten"))
    assert store.search("pxlsi") == []  # two mistakes in five letters: not guessed
    assert store.search("tob") == []  # three letters: too short to guess from
    # A word that is a prefix of something is never "corrected", even if a typo is likelier.
    assert all(h.match != "fuzzy" for h in store.search("trafikc"))


def test_the_vocabulary_follows_edits(store, generated):
    assert store.search("zebrafink") == []
    make_org(store, "Zebrafinkarna ideell förening", None)
    assert store.search("zebrafnik")[0].fuzzy_words == (("zebrafnik", "Zebrafinkarna"),)


def test_corrections_are_prefixes_of_about_the_typed_length():
    vocabulary = Vocabulary({"polismyndigheten": 3, "polisen": 5, "politik": 1, "trafikverket": 4})
    assert vocabulary.corrections("polsi") == ["polis"]
    assert vocabulary.corrections("trafikverkt") == ["trafikverke"]
    assert vocabulary.corrections("plis") == ["polis"]  # a letter left out
    assert vocabulary.corrections("xyzzy") == []
    assert vocabulary.corrections("pol") == []  # too short
    assert vocabulary.word_for("polis") == "polisen"  # the commonest word with the prefix
    assert fold("Södertörn Élan") == "sodertorn elan"


# ------------------------------------------------------------------ abbreviations


@pytest.mark.parametrize(("short", "long"), [
    ("TiB", "Tjänsteman i beredskap"),
    ("RCB", "Räddningschef i beredskap"),
    ("RLC", "Regionledningscentralen"),
    ("KIB", "Kommunikatör i beredskap"),
    ("ISK", "Inriktnings- och samordningskontakt"),
    ("PFSO", "Hamnskyddschef"),
    ("VB", "Vakthavande befäl"),
])
def test_abbreviations_match_their_expansions_both_ways(store, short, long):
    org = make_org(store, "Aktör", None)
    spelled_out = make_function(store, org, long, None)
    abbreviated = make_function(store, org, f"Jour {short}", None)
    assert ids(store.search(short))[:2] == [spelled_out, abbreviated] or \
        set(ids(store.search(short))[:2]) == {spelled_out, abbreviated}
    assert store.search(short)[0].record_id == spelled_out  # the whole name is what was typed
    assert abbreviated in ids(store.search(long.lower()))[:2]


def test_an_organisation_extends_the_table(db_path, db_key, caplog):
    (db_path.parent / "abbreviations.txt").write_text(
        "# egna\nSO = Samverkansofficer\nTiB = Tjänsteperson i beredskap\nnot a line\n", encoding="utf-8"
    )
    with caplog.at_level(logging.WARNING), Store.open(db_path, db_key) as store:
        org = make_org(store, "Försvarsmakten", "FM")
        officer = make_function(store, org, "Samverkansofficer", None)
        person = make_function(store, org, "Tjänsteperson i beredskap", None)
        classic = make_function(store, org, "Tjänsteman i beredskap", None)
        assert ids(store.search("so fm"))[0] == officer
        assert {person, classic} <= set(ids(store.search("tib")))  # added to, not replaced
    assert any("line 4" in r.getMessage() and "abbreviations.txt" in r.getMessage() for r in caplog.records)


def test_the_built_in_table_holds_the_issue_s_abbreviations():
    table = load_abbreviations(None)
    for short in ("tib", "rcb", "rlc", "kib", "isk", "pfso", "vb"):
        assert table.expand(short), short
    assert ("tjansteman", "i", "beredskap") in table.expand("tib")
    assert Abbreviations.parse([("x", "bad line\nA B = c\n= d\n")]).expansions == {}


# ------------------------------------------------------------------ ranking


def test_own_organisation_first_among_equals(store, generated):
    # Without an organisation the county board's TiB comes after the municipalities' (rowid).
    hits = store.search("tib")
    assert ids(hits)[0] == generated["tib_Botkyrka"]
    # A Länsstyrelsen device: its own TiB first, above its own "Bakjour TiB" (not an equal:
    # "TiB" is the function's short name, only a word of the other's).
    hits = store.search("TiB", own_org=generated["lst"])
    assert ids(hits)[0] == generated["tib_lst"]
    assert ids(hits).index(generated["bakjour"]) > ids(hits).index(generated["tib_Vaxholm"])
    assert ids(store.search("tib", own_org=generated["org_Nacka"]))[0] == generated["tib_Nacka"]
    # An enrolled device's organisation is the default.
    store.set_meta("sync.organisation_id", generated["org_Solna"])
    assert ids(store.search("tib"))[0] == generated["tib_Solna"]
    assert ids(store.search("tib", own_org=generated["lst"]))[0] == generated["tib_lst"]


def test_own_organisation_found_beyond_the_candidate_bound(store, generated, monkeypatch):
    monkeypatch.setattr("desktop.store.search.CANDIDATES", 2)
    hits = store.search("tjänsteman", limit=2, own_org=generated["lst"])
    assert ids(hits)[0] == generated["tib_lst"]


def test_functions_and_organisations_before_their_channels(store, generated):
    hits = store.search("jourmobil tib")
    kinds = [h.collection for h in hits]
    assert kinds.index("channels") > max(i for i, k in enumerate(kinds) if k == "functions")
    hits = store.search("länsstyrelsen")
    assert ids(hits)[0] == generated["lst"]
    [tib] = [h for h in hits if h.record_id == generated["tib_lst"]]
    assert tib.best_channel.channel_id == generated["tib_lst_mobile"]  # shown with its function
    # A number or an address is a channel's: it comes first.
    assert ids(store.search("070-174 06 05"))[0] == generated["tib_lst_mobile"]
    assert store.search("0605")[0].collection == "channels"


def test_the_whole_name_ranks_first(store, generated):
    org = generated["lst"]
    stab = make_function(store, org, "Stabschef", None)
    make_function(store, org, "Stabschefens assistent", None)
    make_function(store, org, "Biträdande stabschef", None)
    assert ids(store.search("stabschef"))[0] == stab
    assert ids(store.search("trv"))[0] == generated["trv"]
