"""The Vault: creates, opens and unlocks a data folder's key slots, and changes them safely.

The database key is 32 random bytes, made once and never changed; each slot wraps it with
AES-256-GCM under a key Argon2id derives from one secret (a passphrase or the recovery key).
Changing a passphrase therefore re-wraps the key and leaves the database alone.

Reading (open, unlock, slots) never writes. Every change re-reads the file first, so that a second
window or process that changed it meanwhile is not overwritten, and writes it atomically.
"""

from __future__ import annotations

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
    WrongPassphrase,
    WrongRecoveryKey,
)
from desktop.vault.kdf import SALT_LENGTH, KdfParams, calibrate_kdf
from desktop.vault.recovery import generate_recovery_key, normalize_recovery_key
from desktop.vault.slotfile import (
    NONCE_LENGTH,
    DamagedSlot,
    Slot,
    SlotFile,
    read_slot_file,
    write_atomic,
)

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
        slot = _wrap(database_key, secret, PASSPHRASE, kdf)
        slot_file = SlotFile((slot,))
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
        """The database key, from the first passphrase slot the passphrase opens."""
        return self._unwrap_any(PASSPHRASE, _passphrase_bytes(passphrase))[1]

    def unlock_with_recovery_key(self, recovery_key: str) -> bytes:
        """The database key, from the recovery slot. Case, dashes and spaces do not matter."""
        return self._unwrap_any(RECOVERY, lambda: _recovery_bytes(recovery_key))[1]

    # ---------------------------------------------------------------- changing slots

    def change_passphrase(self, old: str, new: str, *, kdf: KdfParams | None = None) -> None:
        """Re-wrap the database key under `new` in place of the slot `old` opens."""
        new_secret = _passphrase_bytes(new, new=True)
        kdf = kdf or calibrate_kdf()  # before reading: keeps the read-change-write window short
        self._reload()
        slot, database_key = self._unwrap_any(PASSPHRASE, _passphrase_bytes(old))
        replacement = _wrap(database_key, new_secret, PASSPHRASE, kdf)
        self._commit([replacement if entry is slot else entry for entry in self._file.entries])

    def add_recovery_key(self, passphrase: str, *, kdf: KdfParams | None = None) -> str:
        """A new recovery key, to be shown once. It replaces any earlier recovery slot."""
        self._reload()
        _, database_key = self._unwrap_any(PASSPHRASE, _passphrase_bytes(passphrase))
        recovery_key = generate_recovery_key()
        slot = _wrap(database_key, _recovery_bytes(recovery_key), RECOVERY, kdf or RECOVERY_KDF)
        kept = [e for e in self._file.entries if not (isinstance(e, Slot) and e.kind == RECOVERY)]
        self._commit([*kept, slot])
        return recovery_key

    def reset_passphrase_with_recovery_key(
        self, recovery_key: str, new_passphrase: str, *, kdf: KdfParams | None = None
    ) -> None:
        """For a forgotten or damaged passphrase: one new passphrase slot replaces all others.

        Damaged slots stay in the file as they are (remove them with remove_slot).
        """
        new_secret = _passphrase_bytes(new_passphrase, new=True)
        kdf = kdf or calibrate_kdf()
        self._reload()
        _, database_key = self._unwrap_any(RECOVERY, lambda: _recovery_bytes(recovery_key))
        slot = _wrap(database_key, new_secret, PASSPHRASE, kdf)
        kept = [
            e for e in self._file.entries if not (isinstance(e, Slot) and e.kind == PASSPHRASE)
        ]
        self._commit([slot, *kept])

    def remove_slot(self, passphrase: str, slot_id: str) -> None:
        """Remove a slot (a damaged one too), authorised by a passphrase.

        Refuses (LastSlot) to remove the only slot, or the last undamaged passphrase slot.
        """
        self._reload()
        self._unwrap_any(PASSPHRASE, _passphrase_bytes(passphrase))
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

    def _unwrap_any(self, kind: str, secret: bytes | Callable[[], bytes]) -> tuple[Slot, bytes]:
        """The first slot of `kind` that `secret` opens, and the database key it wraps.

        `secret` may be a function, called only once there is a slot to try: "this vault has no
        recovery key" is more useful than a remark about how the key was typed.
        """
        candidates = self._usable_slots(kind)
        if callable(secret):
            secret = secret()
        for slot in candidates:
            database_key = _unwrap(slot, secret)
            if database_key is not None:
                return slot, database_key
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
        self._file = updated


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


def _wrap(database_key: bytes, secret: bytes, kind: str, kdf: KdfParams) -> Slot:
    kdf.validate()
    unsealed = Slot(
        id=uuid.uuid4().hex,
        kind=kind,
        created=datetime.now(UTC).replace(microsecond=0).isoformat(),
        kdf=kdf,
        salt=secrets.token_bytes(SALT_LENGTH),
        nonce=secrets.token_bytes(NONCE_LENGTH),
        wrapped_key=b"",
    )
    wrapping_key = kdf.derive(secret, unsealed.salt)
    wrapped_key = AESGCM(wrapping_key).encrypt(
        unsealed.nonce, database_key, unsealed.associated_data()
    )
    return replace(unsealed, wrapped_key=wrapped_key)


def _unwrap(slot: Slot, secret: bytes) -> bytes | None:
    """The database key, or None when the secret (or the slot's metadata) does not match."""
    wrapping_key = slot.kdf.derive(secret, slot.salt)
    try:
        return AESGCM(wrapping_key).decrypt(slot.nonce, slot.wrapped_key, slot.associated_data())
    except InvalidTag:
        return None


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
