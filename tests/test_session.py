"""Vault and store together: changing the database key (also when killed half-way), upgrading an
old key-slot file, a missing database, and a data folder private to the user."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from desktop import session as sessions
from desktop.store import DatabaseMissing, Store, WrongKey
from desktop.vault import (
    DATABASE_FILE,
    SLOT_FILE,
    KdfParams,
    Vault,
    VaultError,
    WrongPassphrase,
    WrongRecoveryKey,
)
from desktop.vault.recovery import generate_recovery_key

CHEAP = KdfParams.minimum()
PASSPHRASE = "korrekt häst batteri häftklammer"
NEW_PASSPHRASE = "en helt annan lösenfras"
ROOT = Path(__file__).resolve().parents[1]
# Made by the code before key slots had a vault id (main at 5ba413d): a passphrase slot and a
# recovery slot, format 1, wrapping this key.
FORMAT_1 = ROOT / "tests" / "fixtures" / "vault_format_1.json"
FORMAT_1_RECOVERY_KEY = "BB249-0BZWA-DX9A5-6DY6Y-Z3QPS-1TWYA-9YPV2-Y6VHA"
FORMAT_1_KEY = bytes.fromhex("7b145293277a6f4a780cc3d3d6275dd22836cc7f895b46ea6013aae8a50f75e2")
ORGANISATION = {"name": "Länsstyrelsen Stockholm", "short_name": "LST", "kind": "county_board"}


@pytest.fixture(autouse=True)
def swedish(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAMVERKA_LANG", raising=False)


def make_vault(data_dir: Path) -> str:
    """A vault with one organisation and a recovery key; returns the recovery key."""
    made = sessions.create_session(data_dir, PASSPHRASE, kdf=CHEAP)
    try:
        made.store.create("organisations", ORGANISATION)
        return made.new_recovery_key(PASSPHRASE)
    finally:
        made.close()


def names(opened: sessions.Session) -> list[str]:
    return sorted(r["fields"]["name"] for r in opened.store.list("organisations"))


def opens_with(data_dir: Path, *, passphrase: str | None = None, recovery_key: str | None = None):
    """The organisation names if the secret opens today's data, else the error it gives."""
    try:
        if passphrase is not None:
            opened = sessions.unlock_session(data_dir, passphrase)
        else:
            opened = sessions.unlock_session_with_recovery_key(data_dir, recovery_key)
    except (VaultError, WrongKey) as error:
        return type(error).__name__, error.key
    try:
        return names(opened)
    finally:
        opened.close()


# ------------------------------------------------------------------------- the key changes


def test_a_new_recovery_key_shuts_out_an_old_copy_of_the_slot_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    old_recovery_key = make_vault(data_dir)
    backup = (data_dir / SLOT_FILE).read_bytes()  # e.g. yesterday's backup, or a stolen copy
    old_key = Vault.open(data_dir).unlock(PASSPHRASE)

    opened = sessions.unlock_session(data_dir, PASSPHRASE)
    new_recovery_key = opened.new_recovery_key(PASSPHRASE)
    opened.store.create("organisations", {"name": "Efter bytet"})
    opened.close()

    # Today's file: the passphrase and the new recovery key open today's data.
    assert opens_with(data_dir, passphrase=PASSPHRASE) == ["Efter bytet", ORGANISATION["name"]]
    assert opens_with(data_dir, recovery_key=new_recovery_key) == ["Efter bytet", ORGANISATION["name"]]
    assert opens_with(data_dir, recovery_key=old_recovery_key) == (
        "WrongRecoveryKey", "vault.wrong_recovery_key"
    )
    # The old copy still unwraps the old key, but that key no longer opens the database.
    (data_dir / SLOT_FILE).write_bytes(backup)
    assert Vault.open(data_dir).unlock_with_recovery_key(old_recovery_key) == old_key
    with pytest.raises(WrongKey):
        Store.open(data_dir / DATABASE_FILE, old_key, create=False)
    assert opens_with(data_dir, recovery_key=old_recovery_key) == ("WrongKey", "store.key_mismatch")


def test_a_reset_with_the_recovery_key_shuts_out_the_old_passphrase(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    recovery_key = make_vault(data_dir)
    backup = (data_dir / SLOT_FILE).read_bytes()

    opened = sessions.unlock_session_with_recovery_key(data_dir, recovery_key)
    opened.reset_passphrase(recovery_key, NEW_PASSPHRASE, kdf=CHEAP)
    opened.close()

    assert opens_with(data_dir, passphrase=NEW_PASSPHRASE) == [ORGANISATION["name"]]
    assert opens_with(data_dir, recovery_key=recovery_key) == [ORGANISATION["name"]]
    assert opens_with(data_dir, passphrase=PASSPHRASE) == ("WrongPassphrase", "vault.wrong_passphrase")
    (data_dir / SLOT_FILE).write_bytes(backup)  # the old passphrase with an old copy of the file
    assert opens_with(data_dir, passphrase=PASSPHRASE) == ("WrongKey", "store.key_mismatch")


def test_a_slot_copied_from_another_vault_is_refused(tmp_path: Path) -> None:
    make_vault(tmp_path / "ours")
    make_vault(tmp_path / "theirs")
    theirs = Vault.open(tmp_path / "theirs")
    theirs.change_passphrase(PASSPHRASE, NEW_PASSPHRASE, kdf=CHEAP)
    foreign_slot = json.loads((tmp_path / "theirs" / SLOT_FILE).read_text())["slots"][0]
    ours_path = tmp_path / "ours" / SLOT_FILE
    document = json.loads(ours_path.read_text())
    document["slots"].append(foreign_slot)  # checksum intact: the slot itself is undamaged
    ours_path.write_text(json.dumps(document))

    ours = Vault.open(tmp_path / "ours")
    assert len(ours.slots()) == 3
    with pytest.raises(WrongPassphrase):
        ours.unlock(NEW_PASSPHRASE)  # it opens in its own vault only
    assert theirs.unlock(NEW_PASSPHRASE)


# ------------------------------------------------------------------------- killed half-way

CHILD = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from desktop import session as sessions
    from desktop.store import store as store_module
    from desktop.vault import KdfParams
    from desktop.vault import vault as vault_module

    data_dir, operation, point = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    secret, new_secret = os.environ["OLD_SECRET"], os.environ["NEW_SECRET"]
    writes = []
    real_write = vault_module.write_atomic
    real_rekey_connection = store_module.rekey_connection

    def write_atomic(path, data, **options):
        real_write(path, data, **options)
        writes.append(path)
        if point == "slots-written":
            os._exit(9)  # killed: no cleanup, no close, no checkpoint

    def rekey_connection(connection, new_key):
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute(f"PRAGMA rekey = \\"x'{new_key.hex()}'\\"")
        if point == "rekey-committed":
            os._exit(9)  # committed into the WAL, not yet checkpointed
        real_rekey_connection(connection, new_key)
        if point == "rekey-done":
            os._exit(9)  # the old slots not yet dropped

    vault_module.write_atomic = write_atomic
    store_module.rekey_connection = rekey_connection
    if operation == "recovery-key":
        vault_module.generate_recovery_key = lambda: new_secret
        opened = sessions.unlock_session(data_dir, secret)
        opened.new_recovery_key(secret)
    else:
        opened = sessions.unlock_session_with_recovery_key(data_dir, secret)
        opened.reset_passphrase(secret, new_secret, kdf=KdfParams.minimum())
    sys.exit("the change finished: no kill point was reached")
""")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, str]:
    data_dir = tmp_path_factory.mktemp("template") / "data"
    recovery_key = make_vault(data_dir)
    return data_dir, recovery_key


def kill_during(template: tuple[Path, str], tmp_path: Path, operation: str, point: str):
    source, recovery_key = template
    data_dir = tmp_path / "data"
    shutil.copytree(source, data_dir)
    if operation == "recovery-key":
        old, new = PASSPHRASE, generate_recovery_key()
    else:
        old, new = recovery_key, NEW_PASSPHRASE
    environment = {**os.environ, "OLD_SECRET": old, "NEW_SECRET": new, "PYTHONPATH": str(ROOT)}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(data_dir), operation, point],
        capture_output=True, text=True, env=environment, timeout=120,
    )
    assert child.returncode == 9, child.stderr
    return data_dir, recovery_key, new


@pytest.mark.parametrize("point", ["slots-written", "rekey-committed", "rekey-done"])
def test_killed_while_making_a_recovery_key_the_vault_still_opens(template, tmp_path, point):
    data_dir, old_recovery_key, new_recovery_key = kill_during(
        template, tmp_path, "recovery-key", point
    )
    rekeyed = point != "slots-written"
    winner, loser = (
        (new_recovery_key, old_recovery_key) if rekeyed else (old_recovery_key, new_recovery_key)
    )
    # The side the database is not on says what happened instead of "wrong key".
    assert opens_with(data_dir, recovery_key=loser) == ("VaultError", "vault.key_change_interrupted")
    # The passphrase is on both sides: it always opens, and the unlock tidies the file.
    assert opens_with(data_dir, passphrase=PASSPHRASE) == [ORGANISATION["name"]]
    assert len(json.loads((data_dir / SLOT_FILE).read_text())["slots"]) == 2
    assert opens_with(data_dir, recovery_key=winner) == [ORGANISATION["name"]]
    assert opens_with(data_dir, recovery_key=loser) == ("WrongRecoveryKey", "vault.wrong_recovery_key")
    # And the change can simply be made again.
    opened = sessions.unlock_session(data_dir, PASSPHRASE)
    again = opened.new_recovery_key(PASSPHRASE)
    opened.close()
    assert opens_with(data_dir, recovery_key=again) == [ORGANISATION["name"]]


@pytest.mark.parametrize("point", ["slots-written", "rekey-committed", "rekey-done"])
def test_killed_while_resetting_the_passphrase_the_vault_still_opens(template, tmp_path, point):
    data_dir, recovery_key, _ = kill_during(template, tmp_path, "reset", point)
    rekeyed = point != "slots-written"
    winner, loser = (NEW_PASSPHRASE, PASSPHRASE) if rekeyed else (PASSPHRASE, NEW_PASSPHRASE)

    assert opens_with(data_dir, passphrase=loser) == ("VaultError", "vault.key_change_interrupted")
    assert opens_with(data_dir, passphrase=winner) == [ORGANISATION["name"]]
    assert opens_with(data_dir, passphrase=loser) == ("WrongPassphrase", "vault.wrong_passphrase")
    assert opens_with(data_dir, recovery_key=recovery_key) == [ORGANISATION["name"]]
    with sessions.unlock_session(data_dir, winner).store as store:
        assert store.check_integrity() == []


# ------------------------------------------------------------------------- format 1


def test_a_format_1_vault_opens_and_is_brought_to_the_current_format(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(FORMAT_1, data_dir / SLOT_FILE)
    with Store.open(data_dir / DATABASE_FILE, FORMAT_1_KEY) as store:
        store.create("organisations", ORGANISATION)

    vault = Vault.open(data_dir)
    assert vault.unlock(PASSPHRASE) == FORMAT_1_KEY
    assert vault.unlock_with_recovery_key(FORMAT_1_RECOVERY_KEY) == FORMAT_1_KEY
    assert (data_dir / SLOT_FILE).read_bytes() == FORMAT_1.read_bytes()  # reading never writes

    assert opens_with(data_dir, passphrase=PASSPHRASE) == [ORGANISATION["name"]]
    document = json.loads((data_dir / SLOT_FILE).read_text())
    assert document["format"] == 2 and len(document["vault_id"]) == 32
    passphrase_slot, recovery_slot = document["slots"]
    assert "key_id" in passphrase_slot  # re-sealed with the secret that was just typed
    assert "key_id" not in recovery_slot  # its secret was not typed: kept as it was
    assert opens_with(data_dir, recovery_key=FORMAT_1_RECOVERY_KEY) == [ORGANISATION["name"]]
    assert all("key_id" in slot for slot in json.loads((data_dir / SLOT_FILE).read_text())["slots"])
    assert opens_with(data_dir, passphrase=PASSPHRASE) == [ORGANISATION["name"]]


def test_a_format_1_slot_from_another_vault_does_not_open_an_upgraded_one(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    make_vault(data_dir)
    legacy_slot = json.loads(FORMAT_1.read_text())["slots"][1]  # another vault's recovery slot
    document = json.loads((data_dir / SLOT_FILE).read_text())
    document["slots"] = [slot for slot in document["slots"] if slot["kind"] != "recovery"]
    document["slots"].append(legacy_slot)
    (data_dir / SLOT_FILE).write_text(json.dumps(document))

    with pytest.raises(WrongRecoveryKey):
        Vault.open(data_dir).unlock_with_recovery_key(FORMAT_1_RECOVERY_KEY)


# ------------------------------------------------------------------------- files


def test_a_missing_database_is_named_and_nothing_is_created(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    make_vault(data_dir)
    (data_dir / DATABASE_FILE).unlink()
    before = sorted(p.name for p in data_dir.iterdir())

    with pytest.raises(DatabaseMissing) as caught:
        sessions.unlock_session(data_dir, PASSPHRASE)
    with pytest.raises(DatabaseMissing):
        Store.open(data_dir / DATABASE_FILE, FORMAT_1_KEY, create=False)

    assert str(data_dir / DATABASE_FILE) in str(caught.value)
    assert "säkerhetskopia" in str(caught.value)
    assert sorted(p.name for p in data_dir.iterdir()) == before == [SLOT_FILE]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_an_existing_folder_and_database_are_made_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    make_vault(data_dir)
    os.chmod(data_dir, 0o755)  # as an older version, or a restore, left them
    os.chmod(data_dir / DATABASE_FILE, 0o644)

    opened = sessions.unlock_session(data_dir, PASSPHRASE)
    try:
        opened.store.create("organisations", {"name": "Skrivning"})  # the WAL is in use
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data_dir.iterdir()}
        assert {f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm"} <= set(modes)
    finally:
        opened.close()
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert modes == dict.fromkeys(modes, 0o600)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_new_database_is_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        opened = sessions.create_session(tmp_path / "data", PASSPHRASE, kdf=CHEAP)
        opened.store.create("organisations", {"name": "Skrivning"})
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "data").iterdir()}
        opened.close()
    finally:
        os.umask(previous)
    assert {DATABASE_FILE, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm"} <= set(modes)
    assert modes == dict.fromkeys(modes, 0o600)
