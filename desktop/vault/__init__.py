"""Key slots, key derivation and the database key: what it takes to open the encrypted database.

A data folder holds `vault.json` (the key slots) next to `samverka.db` (the SQLCipher database).
The store asks the vault for the 32-byte database key and hands it to SQLCipher as a raw key.
"""

from desktop.vault.errors import (
    InvalidKdfParams,
    LastSlot,
    NoSuchSlotKind,
    SlotNotFound,
    UnsupportedVaultFormat,
    VaultCorrupt,
    VaultError,
    VaultExists,
    VaultMissing,
    VaultUnreadable,
    VaultWriteFailed,
    WeakPassphrase,
    WrongPassphrase,
    WrongRecoveryKey,
)
from desktop.vault.kdf import OWASP_MIN_ITERATIONS, OWASP_MIN_LANES, OWASP_MIN_MEMORY_KIB
from desktop.vault.kdf import KdfParams, calibrate_kdf
from desktop.vault.messages import VAULT_MESSAGES
from desktop.vault.recovery import format_recovery_key, normalize_recovery_key
from desktop.vault.slotfile import DamagedSlot
from desktop.vault.vault import (
    DATABASE_FILE,
    MIN_PASSPHRASE_LENGTH,
    RECOVERY_KDF,
    SLOT_FILE,
    SlotInfo,
    Vault,
)

__all__ = [
    "DATABASE_FILE",
    "MIN_PASSPHRASE_LENGTH",
    "OWASP_MIN_ITERATIONS",
    "OWASP_MIN_LANES",
    "OWASP_MIN_MEMORY_KIB",
    "RECOVERY_KDF",
    "SLOT_FILE",
    "VAULT_MESSAGES",
    "DamagedSlot",
    "InvalidKdfParams",
    "KdfParams",
    "LastSlot",
    "NoSuchSlotKind",
    "SlotInfo",
    "SlotNotFound",
    "UnsupportedVaultFormat",
    "Vault",
    "VaultCorrupt",
    "VaultError",
    "VaultExists",
    "VaultMissing",
    "VaultUnreadable",
    "VaultWriteFailed",
    "WeakPassphrase",
    "WrongPassphrase",
    "WrongRecoveryKey",
    "calibrate_kdf",
    "format_recovery_key",
    "normalize_recovery_key",
]
