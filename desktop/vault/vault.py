"""The Vault: creates, opens and unlocks a data folder's key slots, and changes them safely.

The database key is 32 random bytes; each slot wraps it with AES-256-GCM under a key Argon2id
derives from one secret (a passphrase or the recovery key). Changing a passphrase re-wraps the
key and leaves the database alone. Making a new recovery key, or resetting the passphrase with
the recovery key, also changes the database key (the caller's `rekey` re-encrypts the
database), so that an old copy of the key-slot file with a secret that was valid then no longer
opens today's data.

Changing the key touches two files that cannot change together, so the order is what keeps
the vault openable if the program is killed at any moment (see `_change_database_key`):
(1) the file gets slots for the new key next to the old ones; (2) the database is re-keyed in
one SQLite transaction; (3) the old key's slots are dropped. Until (2) commits the old secrets
open the database, afterwards the new ones do; the file holds slots for whichever key the
database has at every point. An unlock after an interruption tries each key the secret opens,
and `settle` then finishes step (3) or undoes step (1).

Reading (open, unlock, keys, slots) never writes. Every change re-reads the file first, so that
a second window or process that changed it meanwhile is not overwritten, and writes it
atomically.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from desktop.vault.errors import (
    LastSlot,
    NoSuchSlotKind,
    SlotNotFound,
    VaultCorrupt,
    VaultExists,
    VaultMissing,
    WeakPassphrase,
    VaultWriteFailed,
    WrongPassphrase,
    WrongRecoveryKey,
)
from desktop.vault.kdf import SALT_LENGTH, KdfParams, calibrate_kdf
from desktop.vault.recovery import generate_recovery_key, normalize_recovery_key
from desktop.vault.slotfile import (
    FORMAT_VERSION,
    NONCE_LENGTH,
    DamagedSlot,
    Slot,
    SlotFile,
    new_vault_id,
    read_slot_file,
    write_atomic,
)

log = logging.getLogger(__name__)

SLOT_FILE = "vault.json"
DATABASE_FILE = "samverka.db"
DATABASE_KEY_LENGTH = 32
MIN_PASSPHRASE_LENGTH = 8

PASSPHRASE = "passphrase"
RECOVERY = "recovery"

# The recovery key carries 190 random bits: no amount of key stretching changes whether it can
# be guessed (it cannot), so its slot uses the OWASP minimum rather than the calibrated cost.
# Keeping Argon2id (instead of, say, HKDF) keeps one slot format and one validation rule, and
# recovery stays fast on the slowest machine it may be typed into.
RECOVERY_KDF = KdfParams.minimum()

# What the caller does to re-encrypt the database under a new key (Store.rekey): it must switch
# atomically, so that the database has either the old key or the new one, never a mix.
Rekey = Callable[[bytes], None]


def key_id(database_key: bytes) -> str:
    """A name for a database key that reveals nothing about it (HMAC of a fixed text)."""
    return hmac.new(database_key, b"samverka database key id", hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class SlotInfo:
    """What the UI may show about a slot; nothing secret."""

    id: str
    kind: str  # "passphrase" | "recovery"
    created: datetime
    kdf: KdfParams


class Vault:
    """The key slots of one data folder. Get one from `create` or `open`."""

    def __init__(self, data_dir: Path, slot_file: SlotFile) -> None:
        self.data_dir = data_dir
        self.slot_path = data_dir / SLOT_FILE
        self.database_path = data_dir / DATABASE_FILE
        self._file = slot_file

    def __repr__(self) -> str:
        return f"Vault({str(self.data_dir)!r}, slots={len(self._file.entries)})"

    # ---------------------------------------------------------------- creating and opening

    @staticmethod
    def ensure_absent(data_dir: Path | str) -> None:
        """Raise VaultExists if ``create`` would refuse this folder (checked before asking for a passphrase)."""
        data_dir = Path(data_dir)
        _refuse_existing(data_dir, data_dir / SLOT_FILE, data_dir / DATABASE_FILE)

    @staticmethod
    def exists(data_dir: Path | str) -> bool:
        """Whether `data_dir` holds a key-slot file (intact or not)."""
        return (Path(data_dir) / SLOT_FILE).exists()

    @classmethod
    def create(
        cls, data_dir: Path | str, passphrase: str, *, kdf: KdfParams | None = None
    ) -> tuple[Vault, bytes]:
        """A new vault with one passphrase slot, and its new 32-byte database key.

        Refuses (VaultExists) when the folder already has a key-slot file or a database: a new
        key would make that database unreadable. `kdf=None` calibrates to ~0.5 s here.
        """
        data_dir = Path(data_dir)
        secret = _passphrase_bytes(passphrase, new=True)
        slot_path = data_dir / SLOT_FILE
        database_path = data_dir / DATABASE_FILE
        _refuse_existing(data_dir, slot_path, database_path)
        kdf = kdf or calibrate_kdf()
        database_key = secrets.token_bytes(DATABASE_KEY_LENGTH)
        vault_id = new_vault_id()
        slot = _wrap(database_key, secret, PASSPHRASE, kdf, vault_id)
        slot_file = SlotFile(vault_id, (slot,))
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            write_atomic(slot_path, slot_file.to_bytes(), exclusive=True)
        except FileExistsError:
            raise VaultExists(path=slot_path, data_dir=str(data_dir)) from None
        return cls(data_dir, slot_file), database_key

    @classmethod
    def open(cls, data_dir: Path | str) -> Vault:
        """Read and check the key-slot file; VaultMissing, VaultCorrupt or VaultUnreadable."""
        data_dir = Path(data_dir)
        return cls(data_dir, _load(data_dir))

    # ---------------------------------------------------------------- unlocking

    def unlock(self, passphrase: str) -> bytes:
        """The database key from the passphrase's slot (the newest, see `keys`)."""
        return self.keys(passphrase)[0]

    def unlock_with_recovery_key(self, recovery_key: str) -> bytes:
        """The database key from the recovery slot. Case, dashes and spaces do not matter."""
        return self.keys_with_recovery_key(recovery_key)[0]

    def keys(self, passphrase: str) -> list[bytes]:
        """Every database key the passphrase opens, the newest first: one, or two when a change of
        the database key was interrupted (the key that opens the database is the right one)."""
        return _distinct_keys(self._unwrap_all(PASSPHRASE, _passphrase_bytes(passphrase)))

    def keys_with_recovery_key(self, recovery_key: str) -> list[bytes]:
        """`keys` for the recovery key."""
        return _distinct_keys(self._unwrap_all(RECOVERY, lambda: _recovery_bytes(recovery_key)))

    def holds_other_keys(self, database_keys: list[bytes]) -> bool:
        """Whether some slot wraps a database key not in `database_keys`: after an interrupted
        key change, the secret a person typed may belong to the side the database is not on."""
        return bool(self._file.key_ids() - {key_id(key) for key in database_keys})

    def settle(
        self,
        database_key: bytes,
        *,
        passphrase: str | None = None,
        recovery_key: str | None = None,
    ) -> bool:
        """Tidy the file once `database_key` has opened the database; True if it was rewritten.

        Slots of any other database key are dropped: they are what an interrupted key change
        left behind and can never open the database again. A legacy (format 1) slot that the
        given secret opens is re-sealed in the current format, bound to this vault.
        """
        self._reload()
        current = key_id(database_key)
        secrets_by_kind: dict[str, bytes] = {}
        if passphrase is not None:
            secrets_by_kind[PASSPHRASE] = _passphrase_bytes(passphrase)
        if recovery_key is not None:
            secrets_by_kind[RECOVERY] = _recovery_bytes(recovery_key)
        entries: list[Slot | DamagedSlot] = []
        changed = self._file.version != FORMAT_VERSION
        for entry in self._file.entries:
            if isinstance(entry, Slot) and entry.key_id not in (None, current):
                changed = True
                continue
            if isinstance(entry, Slot) and entry.legacy and entry.kind in secrets_by_kind:
                resealed = _reseal_legacy(
                    entry, secrets_by_kind[entry.kind], database_key, self._file.vault_id
                )
                if resealed is not None:
                    entry, changed = resealed, True
            entries.append(entry)
        if changed:
            self._commit(entries)
        return changed

    # ---------------------------------------------------------------- changing slots

    def change_passphrase(self, old: str, new: str, *, kdf: KdfParams | None = None) -> None:
        """Re-wrap the database key under `new` in place of the slot `old` opens."""
        new_secret = _passphrase_bytes(new, new=True)
        kdf = kdf or calibrate_kdf()  # before reading: keeps the read-change-write window short
        self._reload()
        slot, database_key = self._unwrap_all(PASSPHRASE, _passphrase_bytes(old))[0]
        replacement = _wrap(database_key, new_secret, PASSPHRASE, kdf, self._file.vault_id)
        self._commit([replacement if entry is slot else entry for entry in self._file.entries])

    def add_recovery_key(
        self, passphrase: str, *, rekey: Rekey, kdf: KdfParams | None = None
    ) -> str:
        """A new recovery key, to be shown once, and a new database key.

        `rekey(new_key)` re-encrypts the open database. Afterwards the file holds the
        passphrase's slot and the new recovery slot, both for the new key: an earlier recovery
        key, and an old copy of the file, no longer open the data.
        """
        secret = _passphrase_bytes(passphrase)
        self._reload()
        slot, _ = self._unwrap_all(PASSPHRASE, secret)[0]
        recovery_key = generate_recovery_key()
        new_key = secrets.token_bytes(DATABASE_KEY_LENGTH)
        vault_id = self._file.vault_id
        fresh = [
            _wrap(new_key, secret, PASSPHRASE, slot.kdf, vault_id),
            _wrap(new_key, _recovery_bytes(recovery_key), RECOVERY, kdf or RECOVERY_KDF, vault_id),
        ]
        self._change_database_key(fresh, new_key, rekey)
        return recovery_key

    def reset_passphrase_with_recovery_key(
        self,
        recovery_key: str,
        new_passphrase: str,
        *,
        rekey: Rekey,
        kdf: KdfParams | None = None,
    ) -> None:
        """For a forgotten or damaged passphrase: a new passphrase and a new database key.

        `rekey(new_key)` re-encrypts the open database. Afterwards the file holds the new
        passphrase's slot and the same recovery key's slot, both for the new key; every other
        slot (the forgotten passphrase's, damaged ones) wrapped the old key and is dropped.
        """
        new_secret = _passphrase_bytes(new_passphrase, new=True)
        kdf = kdf or calibrate_kdf()
        self._reload()
        self._usable_slots(RECOVERY)  # "no recovery key" comes before a remark about typing
        recovery_secret = _recovery_bytes(recovery_key)
        slot, _ = self._unwrap_all(RECOVERY, recovery_secret)[0]
        new_key = secrets.token_bytes(DATABASE_KEY_LENGTH)
        vault_id = self._file.vault_id
        fresh = [
            _wrap(new_key, new_secret, PASSPHRASE, kdf, vault_id),
            _wrap(new_key, recovery_secret, RECOVERY, slot.kdf, vault_id),
        ]
        self._change_database_key(fresh, new_key, rekey)

    def remove_slot(self, passphrase: str, slot_id: str) -> None:
        """Remove a slot (a damaged one too), authorised by a passphrase.

        Refuses (LastSlot) to remove the only slot, or the last undamaged passphrase slot.
        """
        self._reload()
        self._unwrap_all(PASSPHRASE, _passphrase_bytes(passphrase))
        entries = self._file.entries
        target = next((entry for entry in entries if entry.id == slot_id), None)
        if target is None:
            raise SlotNotFound(path=self.slot_path, slot_id=slot_id)
        if len(entries) == 1:
            raise LastSlot(path=self.slot_path, slot_id=slot_id)
        remaining = [entry for entry in entries if entry is not target]
        if not any(isinstance(e, Slot) and e.kind == PASSPHRASE for e in remaining):
            raise LastSlot("vault.last_passphrase_slot", path=self.slot_path, slot_id=slot_id)
        self._commit(remaining)

    # ---------------------------------------------------------------- describing

    def slots(self) -> list[SlotInfo]:
        """The undamaged slots, in file order."""
        return [
            SlotInfo(slot.id, slot.kind, slot.created_at(), slot.kdf) for slot in self._file.slots
        ]

    def damaged_slots(self) -> list[DamagedSlot]:
        """Slot entries that could not be read; the UI should offer the recovery path."""
        return self._file.damaged

    # ---------------------------------------------------------------- internals

    def _change_database_key(self, fresh: list[Slot], new_key: bytes, rekey: Rekey) -> None:
        """Switch to `new_key` with `fresh` as the only slots, openable if killed at any point.

        1. The file gets the new slots in front of all old ones. Killed before or during this
           atomic write: nothing changed. Killed after: the database still has the old key,
           which the old slots open; the next unlock drops the unused new slots (`settle`).
        2. `rekey` switches the database in one transaction. Killed before it commits: as in 1.
           Killed after: the database has the new key, which the new slots open.
        3. The old slots are dropped. If this write fails or is killed, the file still holds the
           new slots; the next unlock drops the old ones.
        If `rekey` raises, which key the database has is not known here, so the file keeps
        both sides (never only the old slots: that could leave none that opens the database).
        """
        self._commit([*fresh, *self._file.entries])
        rekey(new_key)
        try:
            self._commit(list(fresh))
        except VaultWriteFailed as error:
            log.warning("database re-keyed; dropping old key slots failed (%r)", error)

    def _unwrap_all(
        self, kind: str, secret: bytes | Callable[[], bytes]
    ) -> list[tuple[Slot, bytes]]:
        """Every slot of `kind` that `secret` opens, with the database key it wraps, file order.

        `secret` may be a function, called only once there is a slot to try: "this vault has no
        recovery key" is more useful than a remark about how the key was typed. A legacy slot
        counts only if its key is one the current-format slots also wrap (when there are any),
        so that a format-1 slot pasted in from another vault does not open this one.
        """
        candidates = self._usable_slots(kind)
        if callable(secret):
            secret = secret()
        known = self._file.key_ids()
        opened = []
        for slot in candidates:
            database_key = _unwrap(slot, secret, self._file.vault_id)
            if database_key is None:
                continue
            if slot.legacy and known and key_id(database_key) not in known:
                continue
            opened.append((slot, database_key))
        if opened:
            return opened
        if kind == RECOVERY:
            raise WrongRecoveryKey(path=self.slot_path)
        raise WrongPassphrase(path=self.slot_path)

    def _usable_slots(self, kind: str) -> list[Slot]:
        candidates = [slot for slot in self._file.slots if slot.kind == kind]
        if candidates:
            return candidates
        damaged = [d for d in self._file.damaged if d.kind in (kind, None)]
        if damaged:
            detail = "; ".join(f"slot {d.index}: {d.detail}" for d in damaged)
            key = "vault.slot_damaged" if kind == PASSPHRASE else "vault.recovery_slot_damaged"
            raise VaultCorrupt(key, path=self.slot_path, detail=detail)
        key = "vault.no_passphrase_slot" if kind == PASSPHRASE else "vault.no_recovery_slot"
        raise NoSuchSlotKind(key, path=self.slot_path)

    def _reload(self) -> None:
        self._file = _load(self.data_dir)

    def _commit(self, entries: list[Slot | DamagedSlot]) -> None:
        updated = self._file.replace_entries(entries)
        write_atomic(self.slot_path, updated.to_bytes())
        self._file = SlotFile(updated.vault_id, updated.entries, updated.extra)


def _load(data_dir: Path) -> SlotFile:
    slot_path = data_dir / SLOT_FILE
    try:
        return read_slot_file(slot_path)
    except FileNotFoundError:
        database_path = data_dir / DATABASE_FILE
        if database_path.exists():
            raise VaultMissing(
                "vault.missing_with_database", path=slot_path, database=str(database_path)
            ) from None
        raise VaultMissing(path=slot_path, data_dir=str(data_dir)) from None


def _refuse_existing(data_dir: Path, slot_path: Path, database_path: Path) -> None:
    if slot_path.exists():
        raise VaultExists(path=slot_path, data_dir=str(data_dir))
    if database_path.exists():
        raise VaultExists("vault.exists_database", path=slot_path, database=str(database_path))


def _wrap(
    database_key: bytes, secret: bytes, kind: str, kdf: KdfParams, vault_id: str
) -> Slot:
    kdf.validate()
    unsealed = Slot(
        id=uuid.uuid4().hex,
        kind=kind,
        created=datetime.now(UTC).replace(microsecond=0).isoformat(),
        kdf=kdf,
        salt=secrets.token_bytes(SALT_LENGTH),
        nonce=secrets.token_bytes(NONCE_LENGTH),
        wrapped_key=b"",
        key_id=key_id(database_key),
    )
    return _seal(unsealed, kdf.derive(secret, unsealed.salt), database_key, vault_id)


def _seal(unsealed: Slot, wrapping_key: bytes, database_key: bytes, vault_id: str) -> Slot:
    wrapped_key = AESGCM(wrapping_key).encrypt(
        unsealed.nonce, database_key, unsealed.associated_data(vault_id)
    )
    return replace(unsealed, wrapped_key=wrapped_key)


def _unwrap(slot: Slot, secret: bytes, vault_id: str) -> bytes | None:
    """The database key, or None when the secret (or the slot's metadata) does not match."""
    return _open_sealed(slot, slot.kdf.derive(secret, slot.salt), vault_id)


def _open_sealed(slot: Slot, wrapping_key: bytes, vault_id: str) -> bytes | None:
    try:
        database_key = AESGCM(wrapping_key).decrypt(
            slot.nonce, slot.wrapped_key, slot.associated_data(vault_id)
        )
    except InvalidTag:
        return None
    # The key id is sealed with the key, so this holds unless the slot was made wrongly.
    if slot.key_id is not None and not hmac.compare_digest(slot.key_id, key_id(database_key)):
        return None
    return database_key


def _reseal_legacy(slot: Slot, secret: bytes, database_key: bytes, vault_id: str) -> Slot | None:
    """A legacy slot that `secret` opens to `database_key`, sealed again in the current format.

    Same salt and so the same wrapping key (one derivation, not two), a fresh nonce, and the
    current associated data: the format-2 slot is bound to this vault and names its key."""
    wrapping_key = slot.kdf.derive(secret, slot.salt)
    opened = _open_sealed(slot, wrapping_key, vault_id)
    if opened is None or not hmac.compare_digest(opened, database_key):
        return None
    current = replace(
        slot, nonce=secrets.token_bytes(NONCE_LENGTH), key_id=key_id(database_key)
    )
    return _seal(current, wrapping_key, database_key, vault_id)


def _distinct_keys(opened: list[tuple[Slot, bytes]]) -> list[bytes]:
    keys: list[bytes] = []
    for _, database_key in opened:
        if database_key not in keys:
            keys.append(database_key)
    return keys


def _passphrase_bytes(passphrase: str, *, new: bool = False) -> bytes:
    """NFC, then UTF-8: "å" typed as one code point or as a + ring unlocks the same slot."""
    if not isinstance(passphrase, str):
        raise TypeError("passphrase must be a str")
    normalized = unicodedata.normalize("NFC", passphrase)
    if new:
        if len(normalized) < MIN_PASSPHRASE_LENGTH:
            raise WeakPassphrase(minimum=MIN_PASSPHRASE_LENGTH)
        if not normalized.strip():
            raise WeakPassphrase("vault.passphrase_blank")
    # surrogatepass: a lone surrogate cannot come from a keyboard, but must not crash an unlock.
    return normalized.encode("utf-8", "surrogatepass")


def _recovery_bytes(recovery_key: str) -> bytes:
    if not isinstance(recovery_key, str):
        raise TypeError("recovery_key must be a str")
    return normalize_recovery_key(recovery_key).encode("ascii")
