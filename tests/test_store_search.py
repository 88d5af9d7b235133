"""Search as a duty officer uses it: prefixes, folded letters, typos, number fragments,
abbreviations, a ranking that knows the duty officer, and an index that follows every rename and
delete in the same transaction (bulk writes and the index pass: test_store_search_index.py; the
issue's table on the demo region: test_search_demo.py)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.store import Store
from desktop.store.search import parse
from desktop.store.search_words import Abbreviations
from test_store_helpers import make_channel, make_function, make_org


def titles(hits) -> list[str]:
    return [h.title for h in hits]


def ids(hits) -> list[str]:
    return [h.record_id for h in hits]


@pytest.fixture
def region(store: Store) -> dict[str, str]:
    sos = make_org(store, "SOS Alarm", "SOS")
    lst = make_org(store, "Länsstyrelsen Stockholm", "Lst", notes="Sammankallar forumen.")
    ssbf = make_org(store, "Storstockholms brandförsvar", "SSBF")
    tib_sos = make_function(store, sos, "Tjänsteman i beredskap", "TiB")
    tib_lst = make_function(store, lst, "Tjänsteman i beredskap", "TiB")
    rcb = make_function(store, ssbf, "Räddningschef i beredskap", "RCB")
    stab = make_function(store, ssbf, "Stabschef", None, description="Leder staben.")
    ch_mobile = make_channel(store, tib_sos, "070-174 06 05", priority=2, label="Jourmobil")
    ch_rakel = make_channel(store, tib_sos, "ISSI 9990121", kind="rakel", priority=1, label="Rakel")
    make_channel(store, tib_lst, "070-174 06 07", priority=None)
    make_channel(store, rcb, "070-174 06 85", priority=1)
    forum = store.create("forums", {"name": "Regional samverkanskonferens", "level": "coordinating"})
    routine = store.create("routines", {"title": "Utlarmning av ISK", "forum_id": forum, "body": "Ring SOS."})
    return {
        "sos": sos, "lst": lst, "ssbf": ssbf, "tib_sos": tib_sos, "tib_lst": tib_lst,
        "rcb": rcb, "stab": stab, "ch_mobile": ch_mobile, "ch_rakel": ch_rakel,
        "forum": forum, "routine": routine,
    }


def test_tib_sos_finds_the_function_of_the_organisation(store, region):
    hits = store.search("tib sos")
    assert hits[0].record_id == region["tib_sos"]
    assert hits[0].collection == "functions"
    assert hits[0].title == "Tjänsteman i beredskap (TiB)"
    assert hits[0].subtitle == "SOS Alarm"
    assert region["tib_lst"] not in ids(hits)


def test_prefixes_as_typed(store, region):
    for typed in ["r", "rä", "räd", "räddn", "räddningschef", "RÄDDN", "Räddn i ber"]:
        assert region["rcb"] in ids(store.search(typed)), typed
        assert store.search(typed)[0].match in ("exact", "prefix"), typed
    assert store.search("räddningschefxyz") == []  # three letters too many: not a typo


def test_letters_fold_both_ways(store):
    org = make_org(store, "Åre Älvdalen Östhammar", "ÅÄÖ")
    cafe = make_org(store, "Café Kärnan", None)
    for typed in ["åre", "ÅRE", "Åre", "älv", "ÄLVDALEN", "öst", "ÖSTHAMMAR", "åäö",
                  "are", "alvdalen", "osthammar", "aao", "ÄRE", "Alvdålen"]:
        assert ids(store.search(typed)) == [org], typed
    assert store.search("are")[0].match == "folded"
    assert store.search("åre")[0].match == "exact"
    assert ids(store.search("cafe karnan")) == [cafe]
    assert ids(store.search("CAFÉ")) == [cafe]


def test_the_exact_spelling_ranks_first(store):
    folded_first = make_org(store, "Sodertorn Energi", None)  # created first: lower rowid
    exact = make_org(store, "Södertörn Energi", None)
    assert ids(store.search("södertörn"))[:2] == [exact, folded_first]
    assert ids(store.search("sodertorn"))[:2] == [folded_first, exact]
    [first, second] = store.search("Södertörn")
    assert (first.match, second.match) == ("exact", "folded")


def test_title_ranks_over_body(store, region):
    hits = store.search("stabschef")
    assert hits[0].record_id == region["stab"]
    leader = make_function(store, region["ssbf"], "Ledningsstöd", None, description="Ersätter stabschef.")
    hits = store.search("stabschef")
    assert ids(hits)[:2] == [region["stab"], leader]
    sos_hits = store.search("sos")
    assert sos_hits[0].record_id == region["sos"]  # the organisation named SOS before its functions
    assert region["tib_sos"] in ids(sos_hits)


def test_best_channel_is_lowest_priority_live_channel(store, region):
    [hit] = [h for h in store.search("tib sos") if h.collection == "functions"]
    assert (hit.best_channel.kind, hit.best_channel.value) == ("rakel", "ISSI 9990121")
    store.delete("channels", region["ch_rakel"])
    [hit] = [h for h in store.search("tib sos") if h.collection == "functions"]
    assert (hit.best_channel.kind, hit.best_channel.value) == ("mobile", "070-174 06 05")
    assert hit.best_channel.channel_id == region["ch_mobile"]
    store.delete("channels", region["ch_mobile"])
    [hit] = [h for h in store.search("tib sos") if h.collection == "functions"]
    assert hit.best_channel is None
    [lst_hit] = [h for h in store.search("tib lst") if h.collection == "functions"]
    assert lst_hit.best_channel.value == "070-174 06 07"  # no priority: still shown


def test_numbers_are_found_however_typed(store, region):
    for prefix in ["070174", "070-174 0", "+46 70 17", "070 174 06", "0046 70 174", "+46 (0)70 174"]:
        assert region["ch_mobile"] in ids(store.search(prefix)), prefix
    for typed in ["070-174 06 05", "0701740605", "46701740605", "+46 70 174 06 05", "0046 70 174 06 05"]:
        hits = store.search(typed)
        assert hits and hits[0].record_id == region["ch_mobile"], typed
        assert hits[0].collection == "channels"
        assert hits[0].title == "070-174 06 05"
        assert region["tib_sos"] in ids(hits)


def test_index_follows_organisation_rename_and_delete(store, region):
    store.update("organisations", region["sos"], {"name": "SOS Larmcentral", "short_name": "SOSL"})
    assert all(h.match == "fuzzy" for h in store.search("tib alarm"))  # the old name is gone
    [hit] = [h for h in store.search("tib larmcentral") if h.collection == "functions"]
    assert hit.record_id == region["tib_sos"] and hit.subtitle == "SOS Larmcentral"
    assert region["ch_mobile"] in ids(store.search("jourmobil sosl"))
    store.delete("organisations", region["sos"])
    assert region["sos"] not in ids(store.search("sos"))
    assert region["tib_sos"] not in ids(store.search("tib larmcentral"))
    [hit] = [h for h in store.search("tjänsteman") if h.record_id == region["tib_sos"]]
    assert hit.subtitle is None


def test_index_follows_function_rename_and_delete(store, region):
    store.update("functions", region["tib_sos"], {"name": "Vakthavande befäl", "short_name": "VB"})
    assert region["tib_sos"] not in ids(store.search("tib sos"))
    assert ids(store.search("vb sos"))[0] == region["tib_sos"]
    channel_hit = next(h for h in store.search("jourmobil") if h.record_id == region["ch_mobile"])
    assert "Vakthavande befäl" in channel_hit.subtitle
    store.delete("functions", region["tib_sos"])
    assert region["tib_sos"] not in ids(store.search("vakthavande"))


def test_index_follows_channel_edit_move_and_delete(store, region):
    store.update("channels", region["ch_mobile"], {"value": "070-174 06 99", "label": "Reservmobil"})
    assert store.search("0701740605") == []
    assert region["tib_sos"] in ids(store.search("reservmobil"))
    assert region["tib_sos"] in ids(store.search("070-174 06 99"))
    # Move the channel to another function: both functions' documents change.
    store.update("channels", region["ch_mobile"], {"function_id": region["stab"]})
    found = ids(store.search("reservmobil"))
    assert region["stab"] in found and region["tib_sos"] not in found
    store.delete("channels", region["ch_mobile"])
    assert store.search("reservmobil") == []


def test_forums_and_routines_are_searchable_and_follow_forum(store, region):
    assert ids(store.search("samverkanskonf")) == [region["forum"]]
    assert store.search("samverkanskonf")[0].subtitle == "Regionalt samordnande"
    [hit] = store.search("utlarmning isk")
    assert hit.record_id == region["routine"] and hit.subtitle == "Regional samverkanskonferens"
    store.update("forums", region["forum"], {"name": "Regionalt samverkansmöte"})
    assert store.search("utlarmning isk")[0].subtitle == "Regionalt samverkansmöte"
    # A forum ranks above a routine that repeats its name in the title.
    named = store.create("routines", {"title": "Veckovis samverkansmöte – ordinarie läge", "forum_id": region["forum"]})
    assert ids(store.search("samverkansmöte"))[:2] == [region["forum"], named]


def test_other_collections_and_tombstones_never_appear(store, region):
    store.create("mandates", {"forum_id": region["forum"], "function_id": region["stab"], "role": "member", "mandate": "Unikordet"})
    assert store.search("unikordet") == []
    store.delete("forums", region["forum"])
    assert store.search("samverkanskonf") == []


def test_internal_records_are_searchable_locally(store):
    org = make_org(store, "Intern aktör", visibility="internal")
    assert ids(store.search("intern")) == [org]


def test_limit_and_one_letter_queries(store, region):
    for i in range(30):
        make_function(store, region["sos"], f"Tjänst {i}", None)
    assert len(store.search("tj", limit=5)) == 5
    assert len(store.search("tj")) == 20
    one = store.search("t")
    assert len(one) == 20 and all(h.collection in {"functions", "organisations", "channels", "forums", "routines"} for h in one)
    assert store.search("tj", limit=0) == []


def test_numbers_are_found_by_any_fragment(store, region):
    other = make_channel(store, region["rcb"], "08-454 06 05", kind="phone")
    for fragment in ["0605", "06 05", "174 06 05", "1740605", "74-06-05", "605"]:
        found = ids(store.search(fragment))
        assert found[:2] and set(found[:2]) <= {region["ch_mobile"], other}, fragment
        assert region["ch_mobile"] in found, fragment
    assert region["ch_mobile"] in ids(store.search("174 06"))
    assert ids(store.search("454 06"))[0] == other
    assert other not in ids(store.search("0701740605"))
    # Fragments find channels (the number is theirs); the full number finds the function too.
    assert {h.collection for h in store.search("40605")} == {"channels"}
    assert region["tib_sos"] in ids(store.search("0701740605"))
    # Two digits are too few to be a number: they are an ordinary prefix.
    assert region["ch_mobile"] not in ids(store.search("05"))
    # Other channel values keep their digit runs too (a Rakel ISSI).
    assert ids(store.search("990121"))[0] == region["ch_rakel"]


def test_functional_addresses_by_any_part(store, region):
    mailbox = make_channel(store, region["tib_lst"], "bakjour-tib@lansstyrelsen.example",
                           kind="functional_mailbox", label="Funktionsbrevlåda")
    web = make_channel(store, region["tib_lst"], "https://lansstyrelsen.example/krisinformation", kind="web")
    for typed in ["bakjour-tib@lansstyrelsen.example", "tib@lansstyrelsen", "bakjour-tib@",
                  "@lansstyrelsen.example"]:
        assert ids(store.search(typed))[0] == mailbox, typed  # an address: the channel first
    for typed in ["lansstyrelsen.example", "bakjour", "bakjour tib"]:
        assert mailbox in ids(store.search(typed))[:3], typed
    assert ids(store.search("https://lansstyrelsen.example/kris"))[0] == web


@pytest.mark.parametrize(
    "typed",
    ["", "   ", '"', '""', "*", "-", "^", ":", "(", ")", "AND", "OR tib", "NOT", "NEAR(tib sos)",
     'tib" OR "sos', "title:tib", "{title}: tib", "tib*", "t-i-b", "\x00", "🚒", "a'b", "\\", "%_"],
)
def test_fts_syntax_never_raises(store, region, typed):
    hits = store.search(typed)
    assert isinstance(hits, list)


def test_operator_words_are_plain_words(store, region):
    org = make_org(store, "Or and Not Near")
    assert ids(store.search("or and not near")) == [org]
    assert ids(store.search("NEAR")) == [org]


def test_queries_become_quoted_fts5_expressions():
    assert [g.typed for g in parse("Tib  SOS-alarm").groups] == [["tib"], ["sos"], ["alarm"]]
    assert parse("+46 (0)70-174 06").groups[0].typed == ["07017406"]
    assert parse("+46 (0)70-174 06").groups[0].alternatives == []
    assert parse("070-174 06 05").groups[0].typed == ["0701740605"]
    assert parse("0046 8 454").groups[0].typed == ["08454"]
    assert parse("+47 22 12").groups[0].typed == ["472212"]
    assert parse("112").kind == "number" and parse("12").kind == "words"
    assert parse("tib@lst.example").kind == "address"
    assert parse('a"b').expression() == '"a"* AND "b"*'
    assert parse('a"b').expression("title") == '{title} : ("a"* AND "b"*)'
    assert parse("") is None and parse(" - ") is None and parse(None) is None
    table = Abbreviations.parse([("t", "TiB = Tjänsteman i beredskap\nVB = Vakthavande befäl")])
    assert parse("tib sos", table).expression() == (
        '("tib"* OR ("tjansteman"* AND "beredskap"*)) AND "sos"*'
    )
    assert parse("vakthavande befäl", table).expression() == '(("vakthavande"* AND "befäl"*) OR "vb")'


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=40))
def test_any_text_searches_without_error(store, text):
    assert isinstance(store.search(text), list)


def test_broad_queries_rank_a_bounded_candidate_set(store, region, monkeypatch):
    monkeypatch.setattr("desktop.store.search.CANDIDATES", 3)
    extra = [make_function(store, region["ssbf"], f"Räddningsledare {i}", None) for i in range(10)]
    hits = store.search("r", limit=3)  # far more than 3 matches: only the first candidates are ranked
    assert 1 <= len(hits) <= 3
    everything = set(ids(store.search("r", limit=1000)))
    assert set(ids(hits)) <= everything
    # Organisations and functions come before channels in the candidate order.
    assert all(h.collection != "channels" for h in hits)
    # A narrow query (at most CANDIDATES matches) is ranked exactly.
    assert ids(store.search("räddningschef"))[0] == region["rcb"]
    monkeypatch.undo()  # every candidate ranked again: each of the ten is found
    assert set(ids(store.search("räddningsledare", limit=20))) == set(extra)


def test_optimize_keeps_results(store, region, monkeypatch):
    before = [(h.record_id, h.title) for h in store.search("tib")]
    store.optimize()
    assert [(h.record_id, h.title) for h in store.search("tib")] == before
    # A large transaction merges the index by itself (threshold lowered for the test).
    monkeypatch.setattr("desktop.store.search_index.OPTIMIZE_MIN_DOCS", 5)
    calls = []
    real = __import__("desktop.store.search_index", fromlist=["optimize"]).optimize
    monkeypatch.setattr("desktop.store.search_index.optimize", lambda db: (calls.append(1), real(db)))
    store.bulk_create("functions", [{"organisation_id": region["sos"], "name": f"Larmoperatör {i}"} for i in range(6)])
    assert calls == [1]
    assert len([h for h in store.search("larmoperatör") if h.collection == "functions"]) == 6
