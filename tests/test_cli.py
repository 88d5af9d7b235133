"""The `samverka` command line end to end: the real program in a subprocess, real vault files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PASSPHRASE = "korrekt häst batteri häftklammer"
DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo" / "region.json"


def run(data_dir: Path, *args: str, passphrase: str | None = PASSPHRASE, **env: str):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SAMVERKA_")
    }
    environment.update({"SAMVERKA_FAST_KDF": "1", "SAMVERKA_LANG": "sv", **env})
    if passphrase is not None:
        environment["SAMVERKA_PASSPHRASE"] = passphrase
    return subprocess.run(
        [sys.executable, "-m", "desktop", "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, env=environment, stdin=subprocess.DEVNULL, timeout=120,
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


def test_show_function_lists_channels_in_priority_order(demo_vault):
    result = run(demo_vault, "show", "tib", "sos")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Funktion:")
    assert any(line.strip().startswith("1.") for line in lines)


def test_show_forum_lists_mandates(demo_vault):
    result = run(demo_vault, "show", "samverkanskonferens")
    assert result.returncode == 0, result.stderr
    assert "[" in result.stdout  # role markers such as [convenor]


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
