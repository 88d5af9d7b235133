"""The one message catalog: complete, compiled, consistent, and Swedish runs that speak only Swedish."""

from __future__ import annotations

import gettext
import io
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from desktop import i18n
from desktop.i18n import in_language, set_language, tr
from tests.test_cli import run

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "desktop" / "locale" / "sv" / "LC_MESSAGES" / "samverka.po"
MO = PO.with_suffix(".mo")
# The keywords scripts/i18n gives pybabel: one list, so the test sees what the script extracts.
KEYWORDS = {
    "_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
    "N_": None, "tr": None, "ptr": ((1, "c"), 2), "NP_": ((1, "c"), 2),
}


def _source_messages() -> set[tuple[str | None, str]]:
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT / "desktop"), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        found.add((context, message[0] if isinstance(message, tuple) else message))
    return found


def _catalog():
    with PO.open("rb") as handle:
        return read_po(handle, locale="sv")


def test_every_text_in_the_code_has_a_swedish_translation() -> None:
    catalog = _catalog()
    missing, fuzzy = [], []
    for context, text in sorted(_source_messages(), key=lambda m: (m[0] or "", m[1])):
        entry = catalog.get(text, context=context)
        if entry is None or not entry.string:
            missing.append(text)
        elif entry.fuzzy:
            fuzzy.append(text)
    assert not missing, f"run scripts/i18n and translate in {PO.name}: {missing[:10]}"
    assert not fuzzy, f"fuzzy entries in {PO.name}: {fuzzy[:10]}"


def _placeholders(text: str) -> set[str]:
    braces = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    percents = set(re.findall(r"%\((\w+)\)", text))
    return braces | percents


def test_translations_keep_every_placeholder() -> None:
    for entry in _catalog():
        if entry.id and entry.string:
            if isinstance(entry.id, tuple):  # a plural: no form may name a field the source lacks
                allowed = _placeholders(entry.id[0]) | _placeholders(entry.id[1])
                assert all(_placeholders(form) <= allowed for form in entry.string), entry.id
            else:
                assert _placeholders(entry.id) == _placeholders(entry.string), entry.id


def test_the_compiled_catalog_is_the_po_file() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, _catalog())
    compiled.seek(0)
    expected = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    with MO.open("rb") as handle:
        actual = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    expected.pop("", None)  # the header: Babel stamps dates into it when it reads the .po
    actual.pop("", None)
    assert actual == expected, "the .mo is stale: run scripts/i18n"


def test_one_language_setting_reaches_every_layer(tmp_path: Path) -> None:
    from desktop.store.errors import InvalidInput
    from desktop.vault.errors import WrongPassphrase

    try:
        set_language("en")
        assert str(WrongPassphrase()).startswith("Wrong passphrase")
        assert "must be filled in" in str(InvalidInput("invalid.required", field="name"))
        set_language("sv")
        assert str(WrongPassphrase()).startswith("Fel lösenfras")
        with in_language("en"):
            assert tr("Search: ") == "Search: "
        assert tr("Search: ") == "Sök: "
    finally:
        set_language(None)


def test_a_missing_catalog_falls_back_to_the_english_source(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        with in_language("sv"):
            assert tr("Search: ") == "Search: "
    finally:
        i18n.translations.cache_clear()


# Words that are English and never Swedish: none of them may appear in a Swedish run.
ENGLISH_WORDS = {
    "the", "and", "not", "with", "usage", "error", "found", "required", "arguments", "options",
    "this", "of", "to", "are", "never", "unknown", "could", "was", "has", "you", "your",
    "please", "message", "invalid", "expected", "choose", "from",
    "passphrase", "wrong", "vault", "device", "synchronisation", "matches", "record",
}


def _english_words(text: str) -> set[str]:
    text = re.sub(r"(https?://|/)[^\s]+", " ", text)  # paths and addresses are not words
    return {word for word in re.findall(r"[a-zåäö]+", text.lower())} & ENGLISH_WORDS


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("search", "--help"),
        ("resolve", "--help"),
        ("search",),  # argparse's own error
        ("search", "tib", "sos"),
        ("search", "xyzzyqq"),
        ("show", "Samverkanskonferens"),
        ("show", "ingenting-som-finns"),
        ("status",),
        ("sync",),
        ("conflicts",),
        ("import", "--help"),
        ("export", "--help"),
        ("import", "saknas.csv", "--org", "SOS Alarm"),
        ("import", "saknas.csv"),
        ("export", "--out", "katalog.csv"),
        ("export", "--out", "katalog.pdf", "--yes"),
        ("activate", "--help"),
        ("activations",),
        ("callout", "Samverkanskonferens"),  # no activation yet: said in Swedish
        ("log", "--help"),
        ("verify-journal", "--help"),
        ("report-back", "--help"),
        ("checklist", "--help"),
        ("print", "--help"),
        ("activate", "Samverkanskonferens", "--reason", "Storm", "--exercise"),
        ("callout", "Samverkanskonferens", "vb sos", "2"),
        ("log", "Samverkanskonferens", "Beslut", "--kind", "beslut"),
        ("log", "Samverkanskonferens"),
        ("verify-journal", "Samverkanskonferens"),
        ("end", "Samverkanskonferens"),
    ],
    ids=lambda args: "-".join(args),
)
def test_a_swedish_run_of_the_cli_speaks_only_swedish(demo_vault, args) -> None:
    result = run(demo_vault, *args)
    words = _english_words(result.stdout + result.stderr)
    assert not words, (words, result.stdout + result.stderr)


def test_an_import_preview_and_an_export_speak_only_swedish(demo_vault, tmp_path) -> None:
    exported = tmp_path / "sos.csv"
    first = run(demo_vault, "export", "--org", "SOS Alarm", "--out", str(exported), "--yes")
    lines = exported.read_text(encoding="utf-8-sig").splitlines()
    lines[1] = lines[1].replace("070-174 06 67", "12")  # a refused row
    lines.append("SOS Alarm;Ny funktion;;;dygnet runt;Ja;;Mobil;070-174 06 44;;;;;;")
    edited = tmp_path / "sos-rättad.csv"
    edited.write_text("\n".join(lines), encoding="utf-8-sig")
    preview = run(demo_vault, "import", str(edited), "--org", "SOS Alarm", "--dry-run")
    assert "Skapas:" in preview.stdout and "Avvisad: 1 rad." in preview.stdout
    for result in (first, preview):
        words = _english_words(result.stdout + result.stderr)
        assert not words, (words, result.stdout + result.stderr)


def test_a_wrong_passphrase_is_told_in_the_language_chosen_on_the_command_line(demo_vault) -> None:
    swedish = run(demo_vault, "search", "tib", passphrase="fel fras fel fras")
    english = run(demo_vault, "--lang", "en", "search", "tib", passphrase="fel fras fel fras")
    assert "Fel lösenfras" in swedish.stderr
    assert "Wrong passphrase" in english.stderr and "Fel" not in english.stderr


@pytest.fixture(scope="module")
def demo_vault(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("i18n") / "data"
    result = run(data_dir, "init", "--demo")
    assert result.returncode == 0, result.stderr
    return data_dir


def test_a_language_block_without_a_language_keeps_the_surrounding_one() -> None:
    from desktop.store.messages import channel_kind_label

    with in_language("en"):
        with in_language(None):
            assert tr("Search: ") == "Search: "
        assert channel_kind_label("mobile") == "Mobile"  # passes lang=None inside
    with in_language("sv"):
        assert channel_kind_label("mobile") == "Mobil"
