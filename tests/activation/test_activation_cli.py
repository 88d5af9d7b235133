"""Activated mode from the command line, end to end: the real program in subprocesses on a demo vault, PDFs read back."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pypdf
import pytest

from tests.test_cli import run

FORUM = "Samverkanskonferens"


def _ok(result) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def _pages(path: Path) -> list[str]:
    """Each page's text, whitespace and ligatures folded (pypdf splits words with tabs)."""
    assert path.read_bytes().startswith(b"%PDF")
    reader = pypdf.PdfReader(str(path))
    return [" ".join(unicodedata.normalize("NFKC", page.extract_text()).split()) for page in reader.pages]


@pytest.fixture(scope="module")
def vault(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("activation") / "data"
    _ok(run(data_dir, "init", "--demo"))
    return data_dir


@pytest.fixture(scope="module")
def activated(vault) -> Path:
    out = _ok(run(vault, "activate", FORUM, "--reason", "Strömavbrott Södertörn", "--exercise"))
    assert "ÖVNING" in out and "Strömavbrott Södertörn" in out
    return vault


def test_a_forum_is_activated_once_and_listed_as_an_exercise(activated):
    listed = _ok(run(activated, "activations"))
    assert "[ÖVNING]" in listed and "Samverkanskonferens (veckovis)" in listed
    again = run(activated, "activate", FORUM, "--reason", "igen")
    assert again.returncode == 1 and "redan aktiverat" in again.stderr


def test_call_out_by_key_or_word_and_the_list_shows_who_is_unreached(activated):
    assert "nådd" in _ok(run(activated, "callout", FORUM, "vb sos", "2"))
    assert "deltar" in _ok(run(activated, "callout", FORUM, "rcb attunda", "deltar", "--note", "kommer"))
    listing = _ok(run(activated, "callout", FORUM))
    assert "[nådd] Vakthavande befäl, SOS Alarm Stockholm" in listing
    assert re.search(r"^!\s+\d+\. \[ej försökt\] Tjänsteman i beredskap \(TiB\), Länsstyrelsen", listing, re.M)
    assert "⚡ reservväg" in listing and "070-174 06 63" in listing
    wrong = run(activated, "callout", FORUM, "vb sos", "7")
    assert wrong.returncode == 1 and "Okänd status" in wrong.stderr


def test_journal_entries_corrections_and_the_chain(activated):
    written = _ok(run(activated, "log", FORUM, "Beslut:", "öppna", "telefonbryggan", "--kind", "beslut"))
    entry = re.search(r"Dagbokspost (\w{8})", written).group(1)
    _ok(run(activated, "log", FORUM, "Rättelse: bryggan öppnas 09.30", "--corrects", entry))
    listing = _ok(run(activated, "log", FORUM))
    assert listing.index("Beslut: öppna telefonbryggan") < listing.index("rättelse:") < listing.index("Rättelse: bryggan")
    assert "[ej i ordning än]" in listing  # written offline: not sequenced by a server
    verified = run(activated, "verify-journal", FORUM)
    # nothing sequenced yet: nothing altered, and no chain to check (not "intact: 0 entries")
    assert verified.returncode == 0 and "ingen kedja att kontrollera" in verified.stdout
    assert "2 poster är ännu inte ordnade" in verified.stdout
    edit = run(activated, "log", FORUM, "--corrects", entry)
    assert edit.returncode == 1


def test_checklist_and_report_back(activated):
    ticked = _ok(run(activated, "checklist", FORUM, "1.1"))
    assert "1.1 [x]" in ticked and "Återrapportering till hemorganisationen" in ticked
    reported = _ok(run(activated, "report-back", FORUM, "--done", "--org", "SOS Alarm", "--meeting", "10:00"))
    assert re.search(r"✓ SOS Alarm: återrapporterade", reported)
    assert re.search(r"✗ Trafikverket: har inte återrapporterat", reported)


def test_printouts_carry_title_date_freshness_pages_and_the_exercise_mark(activated, tmp_path):
    calllist = tmp_path / "calllist.pdf"
    out = _ok(run(activated, "print", "calllist", "--forum", FORUM, "--out", str(calllist)))
    assert "Skrivet" in out
    pages = _pages(calllist)
    assert len(pages) >= 2
    for number, text in enumerate(pages, 1):
        assert f"Sida {number} av {len(pages)}" in text and "ÖVNING" in text
        assert "Aldrig synkad" in text and "Utskriven" in text and "Samverkanskonferens" in text
    everything = " ".join(pages)
    assert "Vakthavande befäl, SOS Alarm Stockholm" in everything and "070-174 06 63" in everything
    assert "Reservväg" in everything and "Mandat" in everything

    journal = tmp_path / "journal.pdf"
    _ok(run(activated, "print", "journal", "--activation", FORUM, "--out", str(journal)))
    pages = _pages(journal)
    assert all("ÖVNING" in text and f"av {len(pages)}" in text for text in pages)
    everything = " ".join(pages)
    for expected in ("Dagbok: Samverkanskonferens", "Strömavbrott Södertörn", "Utlarmning", "nådd",
                     "Beslut: öppna telefonbryggan", "Rättelse av", "Kedjans huvud", "Återrapportering"):
        assert expected in everything, expected

    directory = tmp_path / "directory.pdf"
    _ok(run(activated, "print", "directory", "--out", str(directory)))
    pages = _pages(directory)
    assert len(pages) >= 5
    assert all("ÖVNING" not in text and "Sida" in text for text in pages)  # no exercise in a binder
    everything = " ".join(pages)
    assert "Regionalt samordnande" in everything and "Trafikverket" in everything


def test_ending_adds_a_closing_entry_and_mistakes_are_told(activated):
    assert "avslutad" in _ok(run(activated, "end", FORUM, "--note", "Elen är tillbaka"))
    assert "Aktiveringen är avslutad. Elen är tillbaka" in _ok(run(activated, "log", FORUM))
    again = run(activated, "end", FORUM)
    assert again.returncode == 1 and "redan avslutad" in again.stderr
    unknown = run(activated, "activate", "Finns inte alls", "--reason", "x")
    assert unknown.returncode == 1 and "Inget forum" in unknown.stderr
