"""The issue's table on the demo region: what a new user typed, what was meant, found among the
first three hits, through the store and through `samverka search` (the real program)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.session import unlock_session
from desktop.store import Store
from desktop.store.demo import demo_record_id, load_demo
from desktop.store.store import META_SEARCH_OWN_ORG, META_SEARCH_PENDING
from test_cli import PASSPHRASE, run

# typed -> (the key of the demo record meant, what a hit line shows for it)
TABLE = {
    "polsi": ("org-polisen", "Polismyndigheten i Stockholms län"),
    "sodertorn": ("org-sbff", "Södertörns brandförsvarsförbund"),
    "lansstyrelsen": ("org-lansstyrelsen", "Länsstyrelsen Stockholm"),
    "0699": ("ch-sos-tib-mobil", "070-174 06 99"),
    "174 06 99": ("ch-sos-tib-mobil", "070-174 06 99"),
}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    with Store.open(folder / "samverka.db", bytes(range(32))) as store:
        load_demo(store)
        yield store


def channel_key(store: Store, value: str) -> str:
    [channel] = [c for c in store.list("channels") if c["fields"]["value"] == value]
    return channel["record_id"]


@pytest.mark.parametrize("typed", list(TABLE))
def test_each_row_of_the_table_through_the_store(demo_store, typed):
    key, shown = TABLE[typed]
    meant = channel_key(demo_store, "+46701740699") if key.startswith("ch-") else demo_record_id(key)
    hits = demo_store.search(typed)
    assert meant in [h.record_id for h in hits[:3]], [h.title for h in hits[:3]]
    assert shown in [h.title for h in hits[:3]]


def test_tib_on_a_lansstyrelsen_device_through_the_store(demo_store):
    lst = demo_record_id("org-lansstyrelsen")
    hits = demo_store.search("TiB", own_org=lst)
    assert hits[0].record_id == demo_record_id("fn-lst-tib")
    bakjour = [h.record_id for h in hits].index(demo_record_id("fn-lst-tib-bakjour"))
    assert bakjour > 3  # every organisation's own TiB before a function that only mentions it
    # Another organisation's device gets its own TiB first.
    assert demo_store.search("TiB", own_org=demo_record_id("org-solna"))[0].record_id == demo_record_id("fn-solna-tib")


def test_other_forgiving_queries_on_the_demo(demo_store):
    def first_three(text: str, **kwargs) -> list[str]:
        return [h.record_id for h in demo_store.search(text, **kwargs)[:3]]

    assert demo_record_id("org-trafikverket") in first_three("trafikverkt")
    assert demo_record_id("fn-sos-tib") == first_three("tib sos")[0]
    assert demo_record_id("fn-hamn-pfso") in first_three("hamnskyddschef")
    assert demo_record_id("fn-hamn-pfso") in first_three("pfso")
    assert demo_record_id("fn-pol-rlc") in first_three("rlc")
    assert demo_record_id("fn-ssbf-rcb") in first_three("räddningschef i beredskap storstockholm")
    assert demo_record_id("fn-ssbf-rcb") in first_three("rcb ssbf")
    assert demo_record_id("fn-sos-vb") in first_three("vb sos")
    assert demo_record_id("fn-lst-kib") in first_three("kib", own_org=demo_record_id("org-lansstyrelsen"))
    assert channel_key(demo_store, "+46701740699") in first_three("+46 70 174 06 99")


# ------------------------------------------------------------------ through the CLI


@pytest.fixture(scope="module")
def demo_vault(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli-search") / "data"
    result = run(data_dir, "init", "--demo")
    assert result.returncode == 0, result.stderr
    return data_dir


def hit_lines(output: str) -> list[str]:
    """The numbered lines (one per hit; the best channel follows each on its own line)."""
    return [line for line in output.splitlines() if line[:3].strip().rstrip(".").isdigit()]


@pytest.mark.parametrize("typed", list(TABLE))
def test_each_row_of_the_table_through_the_cli(demo_vault, typed):
    result = run(demo_vault, "search", *typed.split())
    assert result.returncode == 0, result.stderr
    first_three = hit_lines(result.stdout)[:3]
    assert any(TABLE[typed][1] in line for line in first_three), result.stdout


def test_tib_on_a_lansstyrelsen_device_through_the_cli(demo_vault):
    result = run(demo_vault, "search", "--org", "Lst", "TiB")
    assert result.returncode == 0, result.stderr
    first = hit_lines(result.stdout)[0]
    assert first.startswith(" 1. Tjänsteman i beredskap (TiB) · Länsstyrelsen Stockholm"), result.stdout
    result = run(demo_vault, "search", "--org", "solna stad", "TiB")
    assert "Solna stad" in hit_lines(result.stdout)[0]
    result = run(demo_vault, "search", "--org", "Ingen sådan aktör", "TiB")
    assert result.returncode == 1 and "Ingen aktör heter" in result.stderr


def test_a_demo_vault_takes_its_own_organisation_from_a_setting(tmp_path):
    data_dir = tmp_path / "data"
    assert run(data_dir, "init", "--demo").returncode == 0
    session = unlock_session(data_dir, PASSPHRASE)
    session.store.set_meta(META_SEARCH_OWN_ORG, "Solna stad")
    session.close()
    assert "Solna stad" in hit_lines(run(data_dir, "search", "TiB").stdout)[0]
    assert "Länsstyrelsen" in hit_lines(run(data_dir, "search", "--org", "lst", "TiB").stdout)[0]


def test_a_fuzzy_hit_says_which_word_it_matched_in_the_cli(demo_vault):
    result = run(demo_vault, "search", "polsi")
    first = hit_lines(result.stdout)[0]
    assert "Polismyndigheten i Stockholms län" in first
    assert "”polsi” tolkat som ”Polismyndigheten”" in first
    result = run(demo_vault, "--lang", "en", "search", "polsi")
    assert "“polsi” read as “Polismyndigheten”" in hit_lines(result.stdout)[0]


def test_the_cli_says_indexing_while_the_index_is_built(tmp_path):
    data_dir = tmp_path / "data"
    assert run(data_dir, "init", "--demo").returncode == 0
    assert "Sökindexet byggs" not in run(data_dir, "search", "tib").stderr
    # Documents left waiting, as when a sync or an import was interrupted.
    session = unlock_session(data_dir, PASSPHRASE)
    session.store.set_meta(META_SEARCH_PENDING, True)
    session.close()
    result = run(data_dir, "search", "tib", "sos")
    assert result.returncode == 0, result.stderr
    assert "Sökindexet byggs" in result.stderr
    assert "SOS Alarm" in hit_lines(result.stdout)[0]  # stdout holds the hits only
    assert "Sökindexet byggs" not in run(data_dir, "search", "tib").stderr
