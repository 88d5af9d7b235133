"""The vault: key slots on real files, what a person sees when something is wrong."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import string
import sys
from pathlib import Path

import pytest

from desktop.vault import (
    DATABASE_FILE,
    OWASP_MIN_ITERATIONS,
    OWASP_MIN_LANES,
    OWASP_MIN_MEMORY_KIB,
    SLOT_FILE,
    VAULT_MESSAGES,
    InvalidKdfParams,
    KdfParams,
    LastSlot,
    NoSuchSlotKind,
    SlotNotFound,
    UnsupportedVaultFormat,
    Vault,
    VaultCorrupt,
    VaultError,
    VaultExists,
    VaultMissing,
    VaultUnreadable,
    VaultWriteFailed,
    WeakPassphrase,
    WrongPassphrase,
    WrongRecoveryKey,
    calibrate_kdf,
)
from desktop.store import Store
from desktop.vault import slotfile

CHEAP = KdfParams.minimum()  # OWASP minimum: ~35 ms per derivation, keeps the suite fast
PASSPHRASE = "korrekt häst batteri häftklammer"
OTHER = "en helt annan lösenfras"
RECOVERY_KEY_SHAPE = re.compile(r"[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){7}")


@pytest.fixture(autouse=True)
def swedish(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAMVERKA_LANG", raising=False)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def vault(data_dir: Path) -> tuple[Vault, bytes]:
    return Vault.create(data_dir, PASSPHRASE, kdf=CHEAP)


@pytest.fixture
def database(vault: tuple[Vault, bytes]):
    """The vault's encrypted database, open: what a recovery key re-encrypts."""
    opened, key = vault
    store = Store.open(opened.database_path, key)
    yield store
    store.close()


def new_recovery_key(opened: Vault, database: Store, passphrase: str = PASSPHRASE) -> str:
    return opened.add_recovery_key(passphrase, rekey=database.rekey, kdf=CHEAP)


def recovery_key_and_new_key(opened: Vault, database: Store) -> tuple[str, bytes]:
    """A new recovery key, and the new database key that comes with it."""
    recovery_key = new_recovery_key(opened, database)
    return recovery_key, opened.unlock(PASSPHRASE)


def never_rekey(new_key: bytes) -> None:
    raise AssertionError("the database must not be re-keyed here")


def slot_file_state(data_dir: Path) -> tuple[bytes, int]:
    """The key-slot file's bytes and mtime (the open database's own files change by themselves)."""
    path = data_dir / SLOT_FILE
    return path.read_bytes(), path.stat().st_mtime_ns


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file in the folder with its bytes and mtime: "touches no file" made checkable."""
    return {
        path.name: (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(directory.iterdir())
    }


def read_document(data_dir: Path) -> dict:
    return json.loads((data_dir / SLOT_FILE).read_text("utf-8"))


def write_document(data_dir: Path, document: dict, *, fix_checksums: bool = False) -> None:
    if fix_checksums:  # what a deliberate tamperer would do
        for slot in document["slots"]:
            content = {name: value for name, value in slot.items() if name != "checksum"}
            canonical = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
            slot["checksum"] = "sha256:" + hashlib.sha256(canonical).hexdigest()
    (data_dir / SLOT_FILE).write_text(json.dumps(document, indent=2), "utf-8")


def flip_base64_byte(value: str, index: int) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


# ------------------------------------------------------------------------- round trips


def test_create_then_unlock_gives_the_same_database_key(data_dir: Path) -> None:
    vault, key = Vault.create(data_dir, PASSPHRASE, kdf=CHEAP)

    assert len(key) == 32
    assert Vault.exists(data_dir)
    assert vault.slot_path == data_dir / SLOT_FILE
    assert vault.database_path == data_dir / DATABASE_FILE
    assert not vault.database_path.exists()  # the store creates the database, not the vault
    assert vault.unlock(PASSPHRASE) == key
    assert Vault.open(data_dir).unlock(PASSPHRASE) == key


def test_each_vault_gets_its_own_random_key(tmp_path: Path) -> None:
    _, first = Vault.create(tmp_path / "a", PASSPHRASE, kdf=CHEAP)
    _, second = Vault.create(tmp_path / "b", PASSPHRASE, kdf=CHEAP)
    assert first != second


def test_passphrase_is_compared_after_unicode_normalisation(data_dir: Path) -> None:
    decomposed = "la\u030agkammare och sa\u030aga"  # "å" as a + combining ring
    composed = "lågkammare och såga"
    _, key = Vault.create(data_dir, decomposed, kdf=CHEAP)
    assert Vault.open(data_dir).unlock(composed) == key


def test_slots_describe_kind_time_and_parameters(vault: tuple[Vault, bytes]) -> None:
    opened, _ = vault
    [slot] = opened.slots()
    assert slot.kind == "passphrase"
    assert slot.kdf == CHEAP
    assert slot.created.tzinfo is not None
    assert opened.damaged_slots() == []


# ------------------------------------------------------------------------- wrong passphrase


def test_wrong_passphrase_is_a_clear_error_and_touches_no_file(
    vault: tuple[Vault, bytes], data_dir: Path
) -> None:
    before = snapshot(data_dir)

    with pytest.raises(WrongPassphrase) as caught:
        Vault.open(data_dir).unlock(OTHER)

    assert "Fel lösenfras" in str(caught.value)
    assert snapshot(data_dir) == before  # same files, same bytes, same mtimes, no temp files


def test_error_text_follows_samverka_lang(
    vault: tuple[Vault, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened, _ = vault
    monkeypatch.setenv("SAMVERKA_LANG", "en")
    with pytest.raises(WrongPassphrase) as caught:
        opened.unlock(OTHER)
    assert str(caught.value).startswith("Wrong passphrase")
    assert caught.value.key == "vault.wrong_passphrase"


# ------------------------------------------------------------------------- weak passphrases


@pytest.mark.parametrize("weak", ["", "kort", "sju-tec", "        ", "\t\t\t\t\t\t\t\t"])
def test_create_refuses_a_weak_passphrase_and_writes_nothing(data_dir: Path, weak: str) -> None:
    with pytest.raises(WeakPassphrase) as caught:
        Vault.create(data_dir, weak, kdf=CHEAP)
    assert "Lösenfrasen" in str(caught.value)
    assert not data_dir.exists()


def test_change_refuses_a_weak_new_passphrase(
    vault: tuple[Vault, bytes], data_dir: Path
) -> None:
    opened, _ = vault
    before = snapshot(data_dir)
    with pytest.raises(WeakPassphrase):
        opened.change_passphrase(PASSPHRASE, "kort", kdf=CHEAP)
    assert snapshot(data_dir) == before


# ------------------------------------------------------------------------- changing the passphrase


def test_change_passphrase_rewraps_the_same_key(vault: tuple[Vault, bytes], data_dir: Path) -> None:
    opened, key = vault
    old_wrapped = read_document(data_dir)["slots"][0]["wrapped_key"]

    opened.change_passphrase(PASSPHRASE, OTHER, kdf=CHEAP)

    reopened = Vault.open(data_dir)
    with pytest.raises(WrongPassphrase):
        reopened.unlock(PASSPHRASE)
    assert reopened.unlock(OTHER) == key
    [slot] = read_document(data_dir)["slots"]
    assert slot["wrapped_key"] != old_wrapped  # new salt and nonce, not a copy
    assert sorted(p.name for p in data_dir.iterdir()) == [SLOT_FILE]  # no temp file left


def test_change_passphrase_with_the_wrong_old_one_changes_nothing(
    vault: tuple[Vault, bytes], data_dir: Path
) -> None:
    opened, _ = vault
    before = snapshot(data_dir)
    with pytest.raises(WrongPassphrase):
        opened.change_passphrase(OTHER, "ytterligare en lösenfras", kdf=CHEAP)
    assert snapshot(data_dir) == before


def test_change_keeps_slots_another_window_added_meanwhile(
    vault: tuple[Vault, bytes], database: Store, data_dir: Path
) -> None:
    first, _ = vault
    second = Vault.open(data_dir)
    recovery_key = new_recovery_key(second, database)

    first.change_passphrase(PASSPHRASE, OTHER, kdf=CHEAP)

    reopened = Vault.open(data_dir)
    assert reopened.unlock_with_recovery_key(recovery_key) == reopened.unlock(OTHER)


# ------------------------------------------------------------------------- recovery key


def test_recovery_key_unlocks_with_the_passphrases_key(
    vault: tuple[Vault, bytes], database: Store, data_dir: Path
) -> None:
    opened, _ = vault
    recovery_key = new_recovery_key(opened, database)

    assert RECOVERY_KEY_SHAPE.fullmatch(recovery_key)
    reopened = Vault.open(data_dir)
    key = reopened.unlock(PASSPHRASE)
    assert reopened.unlock_with_recovery_key(recovery_key) == key
    assert [slot.kind for slot in opened.slots()] == ["passphrase", "recovery"]
    database.close()
    with Store.open(opened.database_path, key, create=False) as reopened_database:
        assert reopened_database.check_integrity() == []


def test_recovery_key_is_read_back_forgivingly(vault: tuple[Vault, bytes], database: Store) -> None:
    opened, _ = vault
    recovery_key, key = recovery_key_and_new_key(opened, database)
    groups = recovery_key.split("-")

    typed_variants = [
        recovery_key.lower(),
        recovery_key.replace("-", ""),
        " ".join(groups).lower(),
        f"  {recovery_key}\n",
        "–".join(groups),  # en dash, as word processors print it
        recovery_key.replace("0", "o").replace("1", "l"),  # Crockford look-alikes
    ]
    for typed in typed_variants:
        assert opened.unlock_with_recovery_key(typed) == key, typed


def test_a_mistyped_recovery_key_is_told_apart_from_a_wrong_one(
    vault: tuple[Vault, bytes], database: Store, tmp_path: Path
) -> None:
    opened, _ = vault
    recovery_key = new_recovery_key(opened, database)
    position = 7
    replacement = "X" if recovery_key[position] != "X" else "Y"
    mistyped = recovery_key[:position] + replacement + recovery_key[position + 1 :]
    other_vault, other_key = Vault.create(tmp_path / "other", PASSPHRASE, kdf=CHEAP)
    with Store.open(other_vault.database_path, other_key) as other_database:
        foreign_key = new_recovery_key(other_vault, other_database)

    with pytest.raises(WrongRecoveryKey) as typo:
        opened.unlock_with_recovery_key(mistyped)
    with pytest.raises(WrongRecoveryKey) as too_short:
        opened.unlock_with_recovery_key(recovery_key[:-6])
    with pytest.raises(WrongRecoveryKey) as bad_character:
        opened.unlock_with_recovery_key(recovery_key[:-1] + "U")
    with pytest.raises(WrongRecoveryKey) as foreign:
        opened.unlock_with_recovery_key(foreign_key)

    assert typo.value.key == "vault.recovery_key_typo"
    assert too_short.value.key == "vault.recovery_key_length"
    assert "35" in str(too_short.value)  # the last group is missing
    assert bad_character.value.key == "vault.recovery_key_character"
    assert "”U”" in str(bad_character.value)
    assert foreign.value.key == "vault.wrong_recovery_key"
    assert isinstance(foreign.value, WrongPassphrase)  # callers catching the broader error work


def test_a_new_recovery_key_replaces_the_old_one(
    vault: tuple[Vault, bytes], database: Store
) -> None:
    opened, _ = vault
    old = new_recovery_key(opened, database)
    new = new_recovery_key(opened, database)

    assert new != old
    assert [slot.kind for slot in opened.slots()] == ["passphrase", "recovery"]
    assert opened.unlock_with_recovery_key(new) == opened.unlock(PASSPHRASE)
    with pytest.raises(WrongRecoveryKey):
        opened.unlock_with_recovery_key(old)


def test_recovery_key_needs_the_passphrase_to_be_made(
    vault: tuple[Vault, bytes], data_dir: Path
) -> None:
    opened, _ = vault
    before = snapshot(data_dir)
    with pytest.raises(WrongPassphrase):
        opened.add_recovery_key(OTHER, rekey=never_rekey, kdf=CHEAP)
    assert snapshot(data_dir) == before


def test_forgotten_passphrase_is_reset_with_the_recovery_key(
    vault: tuple[Vault, bytes], database: Store, data_dir: Path
) -> None:
    opened, _ = vault
    recovery_key = new_recovery_key(opened, database)

    opened.reset_passphrase_with_recovery_key(
        recovery_key.lower(), OTHER, rekey=database.rekey, kdf=CHEAP
    )

    reopened = Vault.open(data_dir)
    key = reopened.unlock(OTHER)
    with pytest.raises(WrongPassphrase):
        reopened.unlock(PASSPHRASE)
    assert reopened.unlock_with_recovery_key(recovery_key) == key  # still valid
    assert [slot.kind for slot in reopened.slots()] == ["passphrase", "recovery"]


def test_unlocking_with_a_recovery_key_when_there_is_none(vault: tuple[Vault, bytes]) -> None:
    opened, _ = vault
    with pytest.raises(NoSuchSlotKind) as caught:  # said before any complaint about typing
        opened.unlock_with_recovery_key("00000-00000-00000-00000-00000-00000-00000-00000")
    assert "ingen återställningsnyckel" in str(caught.value)


# ------------------------------------------------------------------------- removing slots


def test_remove_the_recovery_slot(
    vault: tuple[Vault, bytes], database: Store, data_dir: Path
) -> None:
    opened, _ = vault
    recovery_key, key = recovery_key_and_new_key(opened, database)
    recovery_id = next(slot.id for slot in opened.slots() if slot.kind == "recovery")

    opened.remove_slot(PASSPHRASE, recovery_id)

    reopened = Vault.open(data_dir)
    assert [slot.kind for slot in reopened.slots()] == ["passphrase"]
    with pytest.raises(NoSuchSlotKind):
        reopened.unlock_with_recovery_key(recovery_key)
    assert reopened.unlock(PASSPHRASE) == key


def test_refuses_to_remove_the_last_slot(vault: tuple[Vault, bytes], data_dir: Path) -> None:
    opened, key = vault
    [only] = opened.slots()
    before = snapshot(data_dir)

    with pytest.raises(LastSlot) as caught:
        opened.remove_slot(PASSPHRASE, only.id)

    assert caught.value.key == "vault.last_slot"
    assert snapshot(data_dir) == before
    assert Vault.open(data_dir).unlock(PASSPHRASE) == key


def test_refuses_to_remove_the_last_passphrase_slot(
    vault: tuple[Vault, bytes], database: Store, data_dir: Path
) -> None:
    opened, _ = vault
    new_recovery_key(opened, database)
    passphrase_id = next(slot.id for slot in opened.slots() if slot.kind == "passphrase")
    before = slot_file_state(data_dir)

    with pytest.raises(LastSlot) as caught:
        opened.remove_slot(PASSPHRASE, passphrase_id)

    assert caught.value.key == "vault.last_passphrase_slot"
    assert slot_file_state(data_dir) == before


def test_remove_slot_needs_the_passphrase_and_a_known_id(
    vault: tuple[Vault, bytes], database: Store, data_dir: Path
) -> None:
    opened, _ = vault
    new_recovery_key(opened, database)
    recovery_id = next(slot.id for slot in opened.slots() if slot.kind == "recovery")
    before = slot_file_state(data_dir)

    with pytest.raises(WrongPassphrase):
        opened.remove_slot(OTHER, recovery_id)
    with pytest.raises(SlotNotFound):
        opened.remove_slot(PASSPHRASE, "no-such-slot")
    assert slot_file_state(data_dir) == before


# ------------------------------------------------------------------------- damaged files


def _truncate(data_dir: Path) -> None:
    path = data_dir / SLOT_FILE
    path.write_bytes(path.read_bytes()[:100])


def _not_json(data_dir: Path) -> None:
    (data_dir / SLOT_FILE).write_bytes(b"\x00\xff this is not json")


def _empty(data_dir: Path) -> None:
    (data_dir / SLOT_FILE).write_bytes(b"")


def _format_zero(data_dir: Path) -> None:
    document = read_document(data_dir)
    document["format"] = 0
    write_document(data_dir, document)


def _format_as_string(data_dir: Path) -> None:
    document = read_document(data_dir)
    document["format"] = "2"
    write_document(data_dir, document)


def _no_vault_id(data_dir: Path) -> None:
    document = read_document(data_dir)
    del document["vault_id"]
    write_document(data_dir, document)


def _no_slots(data_dir: Path) -> None:
    document = read_document(data_dir)
    document["slots"] = []
    write_document(data_dir, document)


def _flipped_byte_in_wrapped_key(data_dir: Path) -> None:
    document = read_document(data_dir)
    slot = document["slots"][0]
    slot["wrapped_key"] = flip_base64_byte(slot["wrapped_key"], 5)
    write_document(data_dir, document)


def _flipped_character_in_salt(data_dir: Path) -> None:
    path = data_dir / SLOT_FILE
    salt = read_document(data_dir)["slots"][0]["kdf"]["salt"]
    damaged = salt[:3] + ("A" if salt[3] != "A" else "B") + salt[4:]
    path.write_text(path.read_text("utf-8").replace(salt, damaged), "utf-8")


def _tampered_memory(data_dir: Path) -> None:
    document = read_document(data_dir)
    document["slots"][0]["kdf"]["memory_kib"] += 1024
    write_document(data_dir, document)


def _tampered_iterations(data_dir: Path) -> None:
    document = read_document(data_dir)
    document["slots"][0]["kdf"]["iterations"] = 3
    write_document(data_dir, document)


def _params_below_minimum(data_dir: Path) -> None:
    document = read_document(data_dir)
    document["slots"][0]["kdf"]["memory_kib"] = 1024
    write_document(data_dir, document, fix_checksums=True)


def _params_absurdly_high(data_dir: Path) -> None:
    document = read_document(data_dir)
    document["slots"][0]["kdf"]["memory_kib"] = 2**40
    write_document(data_dir, document, fix_checksums=True)


def _bad_base64(data_dir: Path) -> None:
    document = read_document(data_dir)
    document["slots"][0]["nonce"] = "not base64!"
    write_document(data_dir, document, fix_checksums=True)


def _short_nonce(data_dir: Path) -> None:
    document = read_document(data_dir)
    document["slots"][0]["nonce"] = base64.b64encode(b"short").decode()
    write_document(data_dir, document, fix_checksums=True)


def _unknown_kind(data_dir: Path) -> None:
    document = read_document(data_dir)
    document["slots"][0]["kind"] = "keychain"
    write_document(data_dir, document, fix_checksums=True)


def _missing_field(data_dir: Path) -> None:
    document = read_document(data_dir)
    del document["slots"][0]["nonce"]
    write_document(data_dir, document, fix_checksums=True)


def _kdf_not_argon2(data_dir: Path) -> None:
    document = read_document(data_dir)
    document["slots"][0]["kdf"]["name"] = "pbkdf2"
    write_document(data_dir, document, fix_checksums=True)


def _duplicate_key(data_dir: Path) -> None:
    path = data_dir / SLOT_FILE
    path.write_text(path.read_text("utf-8").replace('"format": 2,', '"format": 2, "format": 2,'))


DAMAGE = [
    _truncate,
    _not_json,
    _empty,
    _format_zero,
    _format_as_string,
    _no_vault_id,
    _no_slots,
    _flipped_byte_in_wrapped_key,
    _flipped_character_in_salt,
    _tampered_memory,
    _tampered_iterations,
    _params_below_minimum,
    _params_absurdly_high,
    _bad_base64,
    _short_nonce,
    _unknown_kind,
    _missing_field,
    _kdf_not_argon2,
    _duplicate_key,
]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda damage: damage.__name__.strip("_"))
def test_a_damaged_slot_file_is_named_and_left_alone(
    vault: tuple[Vault, bytes], data_dir: Path, damage
) -> None:
    damage(data_dir)
    before = snapshot(data_dir)

    with pytest.raises(VaultCorrupt) as caught:
        Vault.open(data_dir)

    error = caught.value
    assert error.path == data_dir / SLOT_FILE
    assert str(data_dir / SLOT_FILE) in str(error)
    assert "säkerhetskopia" in str(error)
    assert "Radera varken" in str(error)  # warns against deleting, never suggests it
    assert error.detail  # a technical note for the log
    assert snapshot(data_dir) == before


def test_a_file_from_a_newer_version_asks_for_an_update(
    vault: tuple[Vault, bytes], data_dir: Path
) -> None:
    document = read_document(data_dir)
    document["format"] = 3
    write_document(data_dir, document)

    with pytest.raises(UnsupportedVaultFormat) as caught:
        Vault.open(data_dir)

    assert isinstance(caught.value, VaultCorrupt)
    assert "nyare version" in str(caught.value)
    assert str(data_dir / SLOT_FILE) in str(caught.value)


def test_deliberate_tampering_with_a_recomputed_checksum_fails_like_a_wrong_passphrase(
    vault: tuple[Vault, bytes], data_dir: Path
) -> None:
    # GCM cannot tell a wrong key from altered data. The checksum tells accidental damage
    # apart (tests above); someone who recomputes it gets the same answer as a wrong guess.
    # `created` does not enter the key derivation, so this failure comes from the associated
    # data alone: the slot's metadata is bound to its wrapped key.
    document = read_document(data_dir)
    document["slots"][0]["created"] = "2020-01-01T00:00:00+00:00"
    write_document(data_dir, document, fix_checksums=True)
    before = snapshot(data_dir)

    opened = Vault.open(data_dir)
    with pytest.raises(WrongPassphrase):
        opened.unlock(PASSPHRASE)
    assert snapshot(data_dir) == before


@pytest.mark.parametrize("field", ["memory_kib", "iterations"])
def test_weakened_parameters_with_a_recomputed_checksum_do_not_unlock(
    vault: tuple[Vault, bytes], data_dir: Path, field: str
) -> None:
    document = read_document(data_dir)
    document["slots"][0]["kdf"][field] += 1
    write_document(data_dir, document, fix_checksums=True)

    with pytest.raises(WrongPassphrase):
        Vault.open(data_dir).unlock(PASSPHRASE)


def test_a_damaged_passphrase_slot_leaves_the_recovery_key_working(
    vault: tuple[Vault, bytes], database: Store, data_dir: Path
) -> None:
    opened, _ = vault
    recovery_key, key = recovery_key_and_new_key(opened, database)
    _flipped_byte_in_wrapped_key(data_dir)  # slot 0 is the passphrase slot
    before = slot_file_state(data_dir)

    reopened = Vault.open(data_dir)
    with pytest.raises(VaultCorrupt) as caught:
        reopened.unlock(PASSPHRASE)

    assert caught.value.key == "vault.slot_damaged"
    assert str(data_dir / SLOT_FILE) in str(caught.value)
    assert "återställningsnyckeln" in str(caught.value)
    assert slot_file_state(data_dir) == before
    [damaged] = reopened.damaged_slots()
    assert damaged.kind == "passphrase"
    assert reopened.unlock_with_recovery_key(recovery_key) == key

    # A new passphrase through the recovery key. The damaged entry kept the old database key,
    # which no longer opens anything after the reset, so it goes with the other old slots.
    reopened.reset_passphrase_with_recovery_key(
        recovery_key, OTHER, rekey=database.rekey, kdf=CHEAP
    )
    assert Vault.open(data_dir).damaged_slots() == []
    assert Vault.open(data_dir).unlock(OTHER) == reopened.unlock_with_recovery_key(recovery_key)


# ------------------------------------------------------------------------- the file itself


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_slot_file_is_private_to_the_user(
    vault: tuple[Vault, bytes], database: Store, data_dir: Path
) -> None:
    opened, _ = vault
    assert (data_dir / SLOT_FILE).stat().st_mode & 0o777 == 0o600
    opened.change_passphrase(PASSPHRASE, OTHER, kdf=CHEAP)
    new_recovery_key(opened, database, OTHER)
    assert (data_dir / SLOT_FILE).stat().st_mode & 0o777 == 0o600
    assert data_dir.stat().st_mode & 0o777 == 0o700  # created by the vault


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_slot_file_is_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        Vault.create(tmp_path / "data", PASSPHRASE, kdf=CHEAP)
    finally:
        os.umask(previous)
    assert (tmp_path / "data" / SLOT_FILE).stat().st_mode & 0o777 == 0o600


def test_no_secret_appears_in_the_slot_file(
    vault: tuple[Vault, bytes], database: Store, data_dir: Path
) -> None:
    opened, old_key = vault
    recovery_key = new_recovery_key(opened, database)
    content = (data_dir / SLOT_FILE).read_bytes()
    text = content.decode("utf-8")

    for secret in (PASSPHRASE, "häst", recovery_key, recovery_key.replace("-", "")):
        assert secret.lower() not in text.lower()
    for key in (old_key, opened.unlock(PASSPHRASE)):
        for encoding in (key, key.hex().encode(), base64.b64encode(key), key[:16]):
            assert encoding not in content
            assert encoding.hex().encode() not in content


def test_create_refuses_an_existing_vault(vault: tuple[Vault, bytes], data_dir: Path) -> None:
    _, key = vault
    before = snapshot(data_dir)

    with pytest.raises(VaultExists) as caught:
        Vault.create(data_dir, OTHER, kdf=CHEAP)

    assert str(data_dir) in str(caught.value)
    assert snapshot(data_dir) == before
    assert Vault.open(data_dir).unlock(PASSPHRASE) == key


def test_create_refuses_a_folder_with_a_database_but_no_slot_file(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / DATABASE_FILE).write_bytes(b"encrypted pages")

    with pytest.raises(VaultExists) as caught:
        Vault.create(data_dir, PASSPHRASE, kdf=CHEAP)

    assert caught.value.key == "vault.exists_database"
    assert not (data_dir / SLOT_FILE).exists()


def test_create_loses_a_race_without_overwriting(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process creates the vault between our check and our write.
    data_dir.mkdir()
    original = slotfile.write_atomic

    def write_after_rival(path: Path, data: bytes, *, exclusive: bool = False) -> None:
        path.write_bytes(b"rival")
        original(path, data, exclusive=exclusive)

    monkeypatch.setattr("desktop.vault.vault.write_atomic", write_after_rival)
    with pytest.raises(VaultExists):
        Vault.create(data_dir, PASSPHRASE, kdf=CHEAP)
    assert (data_dir / SLOT_FILE).read_bytes() == b"rival"
    assert sorted(p.name for p in data_dir.iterdir()) == [SLOT_FILE]


def test_open_a_folder_without_a_vault(tmp_path: Path) -> None:
    with pytest.raises(VaultMissing) as caught:
        Vault.open(tmp_path)
    assert not Vault.exists(tmp_path)
    assert caught.value.key == "vault.missing"


def test_a_database_without_its_slot_file_asks_for_a_restore(tmp_path: Path) -> None:
    (tmp_path / DATABASE_FILE).write_bytes(b"encrypted pages")
    with pytest.raises(VaultMissing) as caught:
        Vault.open(tmp_path)
    assert caught.value.key == "vault.missing_with_database"
    assert "säkerhetskopia" in str(caught.value)


def test_an_unreadable_slot_file_is_named(tmp_path: Path) -> None:
    (tmp_path / SLOT_FILE).mkdir()  # something that exists but cannot be read as a file
    with pytest.raises(VaultUnreadable) as caught:
        Vault.open(tmp_path)
    assert str(tmp_path / SLOT_FILE) in str(caught.value)
    assert "{" not in str(caught.value)


def test_a_failed_write_keeps_the_old_file(
    vault: tuple[Vault, bytes], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened, key = vault
    before = snapshot(data_dir)

    def disk_full(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(slotfile.os, "replace", disk_full)
    with pytest.raises(VaultWriteFailed) as caught:
        opened.change_passphrase(PASSPHRASE, OTHER, kdf=CHEAP)
    monkeypatch.undo()

    assert str(data_dir / SLOT_FILE) in str(caught.value)
    assert snapshot(data_dir) == before  # the temp file is gone too
    assert Vault.open(data_dir).unlock(PASSPHRASE) == key
    assert opened.unlock(PASSPHRASE) == key  # the object did not take the failed change


# ------------------------------------------------------------------------- KDF parameters


@pytest.mark.parametrize(
    ("memory_kib", "iterations", "lanes"),
    [
        (OWASP_MIN_MEMORY_KIB - 1, 2, 1),
        (OWASP_MIN_MEMORY_KIB, 1, 1),
        (OWASP_MIN_MEMORY_KIB, 2, 0),
        (1024, 10, 1),
        (2**40, 2, 1),  # so much memory that a tampered file could hang or crash an unlock
        (OWASP_MIN_MEMORY_KIB, 1000, 1),
        (float(OWASP_MIN_MEMORY_KIB), 2, 1),
        (OWASP_MIN_MEMORY_KIB, True, 1),
    ],
)
def test_kdf_params_outside_the_allowed_range_are_refused(
    memory_kib: object, iterations: object, lanes: object
) -> None:
    with pytest.raises(InvalidKdfParams):
        KdfParams(memory_kib, iterations, lanes)  # type: ignore[arg-type]


def test_the_minimum_is_owasps() -> None:
    minimum = KdfParams.minimum()
    assert (minimum.memory_kib, minimum.iterations, minimum.lanes) == (19 * 1024, 2, 1)
    assert (OWASP_MIN_ITERATIONS, OWASP_MIN_LANES) == (2, 1)


def test_calibration_never_goes_below_the_minimum() -> None:
    assert calibrate_kdf(target_seconds=0.0) == KdfParams.minimum()
    calibrated = calibrate_kdf()
    assert calibrated.memory_kib >= OWASP_MIN_MEMORY_KIB
    assert calibrated.iterations >= OWASP_MIN_ITERATIONS
    assert calibrated.lanes >= OWASP_MIN_LANES


# ------------------------------------------------------------------------- messages


def test_every_error_class_has_a_message() -> None:
    import desktop.vault.errors as errors

    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, VaultError)
    ]
    assert classes
    for error_class in classes:
        assert error_class.default_key in VAULT_MESSAGES, error_class.__name__
