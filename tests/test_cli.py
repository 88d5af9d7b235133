"""The `samverka` command line end to end: the real program in a subprocess, real vault files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.vault.recovery import generate_recovery_key

PASSPHRASE = "korrekt häst batteri häftklammer"
DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo" / "region.json"


def run(
    data_dir: Path, *args: str, passphrase: str | None = PASSPHRASE, stdin: str = "", **env: str
):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SAMVERKA_")
    }
    environment.update({"SAMVERKA_FAST_KDF": "1", "SAMVERKA_LANG": "sv", **env})
    if passphrase is not None:
        environment["SAMVERKA_PASSPHRASE"] = passphrase
    # A new session has no controlling terminal: nothing can be asked, as in a script or CI.
    # It runs beside the data folder (a test's temporary folder), so that a relative path a
    # command is given can never write into the checkout.
    return subprocess.run(
        [sys.executable, "-m", "desktop", "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, env=environment, input=stdin, timeout=120,
        start_new_session=True, cwd=data_dir.parent,
    )


def assert_clean_failure(result, *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def folder_snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def demo_vault(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli") / "data"
    result = run(data_dir, "init", "--demo")
    assert result.returncode == 0, result.stderr
    assert "Demoregionen är inläst" in result.stdout
    return data_dir


def test_search_finds_function_by_prefixes_with_its_best_channel(demo_vault):
    result = run(demo_vault, "search", "tib", "sos")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert "SOS Alarm" in first and "TiB" in first
    # The best channel is shown in Swedish national format, not E.164.
    assert "070-174 06" in result.stdout
    assert "+46" not in result.stdout


def test_search_folds_swedish_letters(demo_vault):
    result = run(demo_vault, "search", "RÄDDN")
    assert result.returncode == 0, result.stderr
    assert "Räddningschef i beredskap" in result.stdout


def test_search_without_hits_says_what_to_do(demo_vault):
    result = run(demo_vault, "search", "xyzzyqq")
    assert result.returncode == 0
    assert "Inga träffar" in result.stdout


# `samverka show` as it printed before it was moved onto desktop/views.py (the window's details).
SHOWN_BEFORE_VIEWS = {
    ("tib", "sos"): """Funktion: Tjänsteman i beredskap
  SOS Alarm
  Kortnamn: TiB
  Nås: dygnet runt
  Beskrivning: SOS Alarms nationella tjänsteman i beredskap. Stöttar vakthavande befäl vid stora händelser och kan besluta om förstärkt utlarmning.
  1. 070-174 06 99 (Mobil, Jourmobil TiB)
       Svarar inom 5 minuter.
  2. ISSI 9990199 (fiktiv) (Rakel, individnummer) ⚡
       Fungerar vid strömavbrott och avbrott i tele- och mobilnät.
  3. tib@sosalarm.example (Funktionsbrevlåda)
       Bevakas av den som har funktionen.
""",
    ("SOS", "Alarm"): """Aktör: SOS Alarm
  Presstjänst – 070-174 06 67 (Mobil, Pressjour)
  SOS-centralen Stockholm – 070-174 06 65 (Telefon, Samverkanslinje)
  Tjänsteman i beredskap – 070-174 06 99 (Mobil, Jourmobil TiB)
  Utlarmning av samverkansfunktioner – 070-174 06 66 (Telefon, Beställning av utlarmning)
  Vakthavande befäl, SOS Alarm Stockholm – 070-174 06 63 (Telefon, Vakthavande befäl, direkt)
""",
}


def test_show_prints_what_it_printed_before_it_shared_the_windows_details(demo_vault):
    """The move onto desktop/views.py changed no substance: the same lines, with a function's
    short name after its name ("(TiB)") where other records name it."""
    for reference, before in SHOWN_BEFORE_VIEWS.items():
        result = run(demo_vault, "show", *reference)
        assert result.returncode == 0, result.stderr
        now = re.sub(r" \((TiB|Utlarmning|VB SOS)\)(?= –)", "", result.stdout)
        assert now == before


def test_show_forum_lists_its_fields_and_every_member_with_role_and_mandate(demo_vault):
    result = run(demo_vault, "show", "samverkanskonferens")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "Forum: Samverkanskonferens (veckovis)",
        "  Nivå: regionalt samordnande",
        "  Syfte: Återkommande samverkanskonferens mellan aktörernas ISK-funktioner för informationsdelning, samordning och gemensam regional lägesbild.",
        "  Mötesrytm: Varje tisdag 09.00; tätare vid aktiverat läge",
    ]
    assert "  Dagordning: 1. Inledning och närvaro per funktion" in lines
    assert "    7. Tid för nästa möte" in lines, "a text of several lines keeps its lines indented"
    members = [line for line in lines if line.startswith("  [")]
    assert len(members) == 12
    assert members[0] == (
        "  [sammankallande] Tjänsteman i beredskap (TiB), Länsstyrelsen Stockholm: Sammankallar och leder "
        "konferensen; beslutar om aktiverat läge och om att förstärka den regionala samordningsfunktionen.")
    assert members[-1].startswith("  [observatör] Beredskapssamordnare, Kommunförbundet Stockholms län: ")
    assert sum(m.startswith("  [ledamot] Räddningschef i beredskap (RCB), ") for m in members) == 3


def test_show_routine_lists_its_steps_in_order_with_who_does_them(demo_vault):
    result = run(demo_vault, "show", "sammankalla")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Rutin: Sammankalla samverkanskonferens i aktiverat läge"
    assert "  Läge: aktiverat läge" in lines and "  Version: 1.0" in lines
    steps = [line for line in lines if re.match(r"  \d\. ", line)]
    assert [s.split(".")[0].strip() for s in steps] == [str(n) for n in range(1, 9)]
    assert steps[2].endswith(" – Utlarmning av samverkansfunktioner (Utlarmning), SOS Alarm")
    assert steps[0].startswith("  1. Bedöm behovet av regional samordning")


def test_show_a_channel_names_it_and_its_function(demo_vault):
    result = run(demo_vault, "show", "9990199")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:4] == [
        "Kontaktväg: ISSI 9990199 (fiktiv)", "  ISSI 9990199 (fiktiv) (Rakel, individnummer) ⚡",
        "Funktion: Tjänsteman i beredskap", "  SOS Alarm",
    ]


def test_wrong_passphrase_fails_clearly_and_changes_nothing(demo_vault):
    before = folder_snapshot(demo_vault)
    result = run(demo_vault, "search", "tib", passphrase="fel lösenfras här")
    assert_clean_failure(result, "lösenfras")
    assert folder_snapshot(demo_vault) == before


def test_no_passphrase_and_no_terminal_says_how_to_script(tmp_path, demo_vault):
    result = run(demo_vault, "search", "tib", passphrase=None)
    assert_clean_failure(result, "SAMVERKA_PASSPHRASE")


def test_missing_vault_is_named(tmp_path):
    result = run(tmp_path / "nowhere", "search", "tib")
    assert_clean_failure(result, "nowhere", "valv")


def test_init_refuses_existing_vault(demo_vault):
    result = run(demo_vault, "init")
    assert_clean_failure(result, "finns redan")


def test_corrupt_slot_file_is_named_and_left_alone(tmp_path):
    data_dir = tmp_path / "data"
    assert run(data_dir, "init").returncode == 0
    slot_file = data_dir / "vault.json"
    slot_file.write_bytes(slot_file.read_bytes()[:40])
    before = slot_file.read_bytes()
    result = run(data_dir, "search", "tib")
    assert_clean_failure(result, "vault.json")
    assert slot_file.read_bytes() == before


def test_corrupt_database_is_named_and_left_alone(tmp_path):
    data_dir = tmp_path / "data"
    assert run(data_dir, "init").returncode == 0
    database = data_dir / "samverka.db"
    database.write_bytes(os.urandom(8192))
    before = database.read_bytes()
    result = run(data_dir, "search", "tib")
    assert_clean_failure(result, "samverka.db")
    assert database.read_bytes() == before


def test_passwd_then_recovery_key(tmp_path):
    data_dir = tmp_path / "data"
    assert run(data_dir, "init", "--demo").returncode == 0
    new = "ett helt annat lösenord"
    changed = run(data_dir, "passwd", SAMVERKA_NEW_PASSPHRASE=new)
    assert changed.returncode == 0, changed.stderr
    assert_clean_failure(run(data_dir, "search", "tib"), "lösenfras")
    assert run(data_dir, "search", "tib", passphrase=new).returncode == 0

    made = run(data_dir, "recovery-key", passphrase=new)
    assert made.returncode == 0, made.stderr
    key_line = next(line.strip() for line in made.stdout.splitlines() if line.count("-") >= 7)
    assert len(key_line.split("-")) == 8

    from desktop.vault import Vault

    vault = Vault.open(data_dir)
    assert vault.unlock_with_recovery_key(key_line.lower()) == vault.unlock(new)


def test_no_plaintext_anywhere_in_the_data_folder(demo_vault):
    """Names, numbers and addresses of the demo region never reach the disk in the clear."""
    region = json.loads(DEMO.read_text(encoding="utf-8"))
    markers = set()
    for record in region["records"]:
        fields = record["fields"]
        for key in ("name", "value", "title", "description"):
            value = fields.get(key)
            if isinstance(value, str) and len(value) >= 8:
                markers.add(value)
    markers |= {"Länsstyrelsen Stockholm", "Tjänsteman i beredskap", "lansstyrelsen.example"}
    # Digits of the fictitious mobiles as stored (E.164) and as typed.
    markers |= {"+46701740", "070-174 06"}
    assert len(markers) > 100
    files = [p for p in demo_vault.rglob("*") if p.is_file()]
    assert any(p.name == "samverka.db" for p in files)
    for path in files:
        content = path.read_bytes()
        for marker in markers:
            for encoded in (marker.encode("utf-8"), marker.encode("utf-16-le")):
                assert encoded not in content, f"{marker!r} readable in {path.name}"


def test_standard_sqlite_cannot_read_the_database(demo_vault):
    import sqlite3

    connection = sqlite3.connect(demo_vault / "samverka.db")
    with pytest.raises(sqlite3.DatabaseError):
        connection.execute("SELECT name FROM sqlite_master").fetchall()
    connection.close()


# ------------------------------------------------------------------------- files that went wrong


def copy_of(vault: Path, tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    shutil.copytree(vault, data_dir)
    return data_dir


def flip_bytes(path: Path, offsets) -> None:
    with path.open("r+b") as handle:
        for offset in offsets:
            handle.seek(offset)
            byte = handle.read(1)
            handle.seek(offset)
            handle.write(bytes([byte[0] ^ 0x01]))


def assert_no_sqlcipher_log(result) -> None:
    assert "ERROR" not in result.stderr and "hmac" not in result.stderr.lower(), result.stderr


@pytest.mark.parametrize("args", [("search", "rlc"), ("show", "rlc"), ("demo",), ()])
def test_a_deleted_database_is_not_replaced_by_an_empty_one(demo_vault, tmp_path, args):
    data_dir = copy_of(demo_vault, tmp_path)
    (data_dir / "samverka.db").unlink()
    result = run(data_dir, *args)
    assert_clean_failure(result, str(data_dir / "samverka.db"), "saknas", "säkerhetskopia")
    assert result.returncode == 1
    assert sorted(p.name for p in data_dir.iterdir()) == ["vault.json"]  # nothing created


def test_a_damaged_header_is_called_damage_not_a_wrong_passphrase(demo_vault, tmp_path):
    data_dir = copy_of(demo_vault, tmp_path)
    database = data_dir / "samverka.db"
    flip_bytes(database, [200])  # inside the first page, after its salt
    before = database.read_bytes()
    for args in (("search", "rlc"), ("check",)):
        result = run(data_dir, *args)
        assert_clean_failure(result, str(database), "skadad", "säkerhetskopia")
        assert result.returncode == 1
        assert "Fel lösenfras" not in result.stderr
        assert_no_sqlcipher_log(result)
    assert database.read_bytes() == before


def test_damaged_pages_are_called_damage_and_found_by_check(demo_vault, tmp_path):
    data_dir = copy_of(demo_vault, tmp_path)
    database = data_dir / "samverka.db"
    pages = database.stat().st_size // 4096
    flip_bytes(database, [4096 * (pages - 2) + 100])  # one page near the end
    checked = run(data_dir, "check")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "skadad" in checked.stdout and f"{pages - 1}." in checked.stdout
    assert "säkerhetskopia" in checked.stdout
    assert_no_sqlcipher_log(checked)

    flip_bytes(database, [4096 * page + 100 for page in range(8, pages)])  # every later page
    for args in (("search", "rlc"), ("show", "tib", "sos")):
        result = run(data_dir, *args)
        assert_clean_failure(result, str(database), "skadad", "samverka check")
        assert result.returncode == 1
        assert_no_sqlcipher_log(result)


def test_check_of_an_intact_vault(demo_vault):
    result = run(demo_vault, "check")
    assert result.returncode == 0, result.stderr
    assert "hela" in result.stdout or "oskadad" in result.stdout


def test_passwd_with_the_recovery_key_rekeys_the_database(demo_vault, tmp_path):
    data_dir = copy_of(demo_vault, tmp_path)
    made = run(data_dir, "recovery-key")
    assert made.returncode == 0, made.stderr
    recovery_key = re.search(r"[0-9A-Z]{5}(-[0-9A-Z]{5}){7}", made.stdout).group(0)
    old_slot_file = (data_dir / "vault.json").read_bytes()
    new = "ett nytt lösenord för valvet"

    no_key = run(data_dir, "passwd", "--recovery-key", passphrase=None)
    assert_clean_failure(no_key, "SAMVERKA_RECOVERY_KEY")
    wrong = run(
        data_dir, "passwd", "--recovery-key", passphrase=None,
        SAMVERKA_RECOVERY_KEY=generate_recovery_key(),  # well-formed, another vault's
        SAMVERKA_NEW_PASSPHRASE=new,
    )
    assert_clean_failure(wrong, "Återställningsnyckeln hör inte till")
    reset = run(
        data_dir, "passwd", "--recovery-key", passphrase=None,
        SAMVERKA_RECOVERY_KEY=recovery_key.lower(), SAMVERKA_NEW_PASSPHRASE=new,
    )
    assert reset.returncode == 0, reset.stderr
    assert run(data_dir, "search", "tib", passphrase=new).returncode == 0
    assert_clean_failure(run(data_dir, "search", "tib"), "Fel lösenfras")
    # An old copy of vault.json with the old passphrase no longer opens today's data.
    (data_dir / "vault.json").write_bytes(old_slot_file)
    stale = run(data_dir, "search", "tib")
    assert_clean_failure(stale, "samma säkerhetskopia")
    assert "Fel lösenfras" not in stale.stderr


def test_channel_lines_do_not_repeat_the_kind(demo_vault):
    shown = run(demo_vault, "show", "tib", "sos")
    searched = run(demo_vault, "search", "tib", "sos")
    for result in (shown, searched):
        assert result.returncode == 0, result.stderr
        assert "Funktionsbrevlåda, Funktionsbrevlåda" not in result.stdout
        assert "Rakel, Rakel" not in result.stdout
    assert "(Rakel, individnummer)" in shown.stdout
    assert "(Funktionsbrevlåda)" in shown.stdout
    assert "(Mobil, Jourmobil TiB)" in shown.stdout  # a label that adds something still follows


def test_demo_a_second_time_says_it_is_there(demo_vault):
    result = run(demo_vault, "demo")
    assert result.returncode == 0, result.stderr
    assert "finns redan" in result.stdout
    assert "inläst: ." not in result.stdout


def test_piped_start_answers_one_search_per_line(demo_vault):
    result = run(demo_vault, stdin="tib sos\n\nräddningschef\n")
    assert result.returncode == 0, result.stderr
    assert "användning" not in result.stdout.lower() and "usage" not in result.stdout.lower()
    assert result.stdout.count("Sök: ") == 2
    first, second = result.stdout.split("Sök: ")[1:]
    assert first.startswith("tib sos") and "SOS Alarm" in first
    assert second.startswith("räddningschef") and "Räddningschef i beredskap" in second


def test_secrets_leave_the_environment_once_read(demo_vault, tmp_path, monkeypatch, capsys):
    from desktop import cli

    data_dir = copy_of(demo_vault, tmp_path)
    monkeypatch.setenv("SAMVERKA_FAST_KDF", "1")
    monkeypatch.setenv("SAMVERKA_PASSPHRASE", PASSPHRASE)
    assert cli.main(["--data-dir", str(data_dir), "search", "tib"]) == 0
    assert "SAMVERKA_PASSPHRASE" not in os.environ

    monkeypatch.setenv("SAMVERKA_PASSPHRASE", PASSPHRASE)
    assert cli.main(["--data-dir", str(data_dir), "recovery-key"]) == 0
    recovery_key = re.search(r"[0-9A-Z]{5}(-[0-9A-Z]{5}){7}", capsys.readouterr().out).group(0)
    monkeypatch.setenv("SAMVERKA_RECOVERY_KEY", recovery_key)
    monkeypatch.setenv("SAMVERKA_NEW_PASSPHRASE", "ett nytt lösenord för valvet")
    assert cli.main(["--data-dir", str(data_dir), "passwd", "--recovery-key"]) == 0
    assert not {"SAMVERKA_PASSPHRASE", "SAMVERKA_RECOVERY_KEY", "SAMVERKA_NEW_PASSPHRASE"} & set(os.environ)


def test_check_names_a_damaged_key_slot(demo_vault, tmp_path):
    data_dir = copy_of(demo_vault, tmp_path)
    assert run(data_dir, "recovery-key").returncode == 0
    slot_file = data_dir / "vault.json"
    document = json.loads(slot_file.read_text())
    recovery = next(slot for slot in document["slots"] if slot["kind"] == "recovery")
    recovery["nonce"] = recovery["nonce"][::-1]  # the checksum no longer matches
    slot_file.write_text(json.dumps(document))

    result = run(data_dir, "check")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Skadad nyckelplats" in result.stdout and "återställningsnyckel" in result.stdout
    assert "Databasen är hel" in result.stdout and "samverka recovery-key" in result.stdout


def test_the_cli_speaks_the_language_chosen_in_the_window(demo_vault, tmp_path):
    """One language setting: --lang, else SAMVERKA_LANG, else the window's setting, else Swedish."""
    from desktop.ui.settings import Settings, save_settings

    config = tmp_path / "config"
    save_settings(Settings(language="en"), config / "settings.json")

    def search(*options: str, **env: str):
        result = run(demo_vault, *options, "search", "xyzzyqq", SAMVERKA_CONFIG_DIR=str(config), **env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "No matches" in search(SAMVERKA_LANG="")  # the window's choice
    assert "Inga träffar" in search(SAMVERKA_LANG="sv")  # the environment before the setting
    assert "Inga träffar" in search("--lang", "sv", SAMVERKA_LANG="")  # the option before both
    save_settings(Settings(language=None), config / "settings.json")
    assert "Inga träffar" in search(SAMVERKA_LANG="")  # nothing chosen: Swedish


def test_help_lists_every_option_and_version_names_the_program(tmp_path):
    shown = run(tmp_path, "--help", passphrase=None, SAMVERKA_LANG="en")
    assert shown.returncode == 0
    for option in ("--smoke-test", "--version", "--data-dir", "--lang"):
        assert option in shown.stdout
    from desktop.version import program_version

    version = run(tmp_path, "--version", passphrase=None)
    assert version.returncode == 0 and version.stdout.strip() == f"Samverka {program_version()}"
    together = run(tmp_path, "--smoke-test", "search", "tib", passphrase=None, SAMVERKA_LANG="en")
    assert together.returncode == 2 and "--smoke-test takes no command" in together.stderr


PROFILE_IN_ENGLISH = '''format = 1
[organisation]
name = "SOS Alarm"
id = "2f50df03-40f6-513b-8f64-36a63d4f40b9"
slug = "sos-alarm"
[server]
url = "https://samverka.sosalarm.example"
[defaults]
language = "en"
'''


@pytest.mark.parametrize("lang_option, environment, setting, expected", [
    (None, "", None, "en"),  # the profile's language, when nothing else says
    (None, "", "sv", "sv"),  # the window's setting before the profile's
    (None, "sv", None, "sv"),  # SAMVERKA_LANG before the window's setting and the profile
    ("en", "sv", "sv", "en"),  # --lang before everything
])
def test_the_command_line_speaks_the_language_chosen_in_the_documented_order(
        tmp_path, lang_option, environment, setting, expected):
    profile = tmp_path / "profile.toml"
    profile.write_text(PROFILE_IN_ENGLISH, encoding="utf-8")
    config = tmp_path / "config"
    config.mkdir()
    if setting is not None:
        (config / "settings.json").write_text(json.dumps({"version": 1, "language": setting}), encoding="utf-8")
    args = ["--lang", lang_option] if lang_option else []
    shown = run(tmp_path / "data", *args, "--help", passphrase=None, SAMVERKA_LANG=environment,
                SAMVERKA_PROFILE=str(profile), SAMVERKA_CONFIG_DIR=str(config))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith({"en": "usage:", "sv": "användning:"}[expected]), shown.stdout[:40]


def test_without_a_profile_or_a_setting_the_command_line_speaks_swedish(tmp_path):
    shown = run(tmp_path / "data", "--help", passphrase=None, SAMVERKA_LANG="", SAMVERKA_CONFIG_DIR=str(tmp_path))
    assert shown.stdout.startswith("användning:")
