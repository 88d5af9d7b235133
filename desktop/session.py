"""An unlocked user session: where the data folder is, and opening its vault and store together.

The CLI and the window both come through here, so that "unlock" means the same thing
everywhere: read the key slots, unwrap the database key, open the encrypted store (which
applies migrations), then let the vault tidy up after an interrupted key change. Changes that
need both files (a new recovery key, a passphrase reset with the recovery key: both re-key the
database) are made here too. Every call that derives a key is slow on purpose and safe to run
in a worker thread.

The data folder is made private to the user (0700) whenever it is opened, also when it was
made by someone or something else before.

The store is imported where a store is opened, not with this module: unlocking derives the key
first, and the key derivation (Argon2id) lets other threads run, so the window's start imports
the store, the sync engine and the main window meanwhile (``desktop.app.prewarm_imports``).
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from desktop.vault import KdfParams, Vault, VaultError, VaultWriteFailed

if TYPE_CHECKING:
    from desktop.store import Store

APP_NAME = "Samverka"
PRIVATE_FOLDER_MODE = 0o700

log = logging.getLogger(__name__)


def default_data_dir() -> Path:
    """``SAMVERKA_DATA_DIR`` if set, else the operating system's per-user data folder."""
    chosen = os.environ.get("SAMVERKA_DATA_DIR")
    if chosen:
        return Path(chosen).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass
class Session:
    vault: Vault
    store: Store

    def close(self) -> None:
        self.store.close()

    def new_recovery_key(self, passphrase: str) -> str:
        """A new recovery key (show it once) and a new database key; earlier keys stop working."""
        return self.vault.add_recovery_key(passphrase, rekey=self.store.rekey)

    def reset_passphrase(
        self, recovery_key: str, new_passphrase: str, *, kdf: KdfParams | None = None
    ) -> None:
        """A new passphrase through the recovery key, and a new database key."""
        self.vault.reset_passphrase_with_recovery_key(
            recovery_key, new_passphrase, kdf=kdf, rekey=self.store.rekey
        )


def make_folder_private(data_dir: Path) -> None:
    """Group and others lose access to the data folder (POSIX; Windows has per-user folders)."""
    if os.name != "posix":
        return
    try:
        mode = stat.S_IMODE(data_dir.stat().st_mode)
        if mode & 0o077:
            os.chmod(data_dir, PRIVATE_FOLDER_MODE)
    except PermissionError:  # not the owner; the files themselves are still 0600
        log.warning("cannot make the data folder private (not the owner)")


def open_vault(data_dir: Path) -> Vault:
    """The folder's vault, checked before any passphrase is asked: its key slots are readable
    and its database is there (DatabaseMissing names it: nothing is created in its place)."""
    vault = Vault.open(data_dir)
    make_folder_private(data_dir)
    if not vault.database_path.exists():
        from desktop.store import DatabaseMissing

        raise DatabaseMissing(path=vault.database_path)
    return vault


def create_session(data_dir: Path, passphrase: str, *, kdf: KdfParams | None = None) -> Session:
    """Create a new vault and an empty store in ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER_MODE)
    make_folder_private(data_dir)
    vault, key = Vault.create(data_dir, passphrase, kdf=kdf)
    from desktop.store import Store

    return Session(vault, Store.open(vault.database_path, key))


def unlock_session(data_dir: Path, passphrase: str) -> Session:
    vault = open_vault(data_dir)
    return _open(vault, vault.keys(passphrase), passphrase=passphrase)


def unlock_session_with_recovery_key(data_dir: Path, recovery_key: str) -> Session:
    vault = open_vault(data_dir)
    return _open(vault, vault.keys_with_recovery_key(recovery_key), recovery_key=recovery_key)


def _open(
    vault: Vault,
    keys: list[bytes],
    *,
    passphrase: str | None = None,
    recovery_key: str | None = None,
) -> Session:
    """Open the store with the first of ``keys`` that opens it, then let the vault settle.

    Normally there is one key. After an interrupted change of the database key the secret may
    open slots of both keys; the database decides which one is current.
    """
    from desktop.store import Store, WrongKey

    for key in keys:
        try:
            store = Store.open(vault.database_path, key, create=False)
        except WrongKey:
            continue
        try:
            vault.settle(key, passphrase=passphrase, recovery_key=recovery_key)
        except VaultWriteFailed as error:  # tidying up can wait for the next unlock
            log.warning("could not tidy the key-slot file: %r", error)
        return Session(vault, store)
    if vault.holds_other_keys(keys):
        raise VaultError("vault.key_change_interrupted", path=vault.slot_path)
    # The secret opened a slot, so it is right; the database is not the one the slots are for.
    raise WrongKey("store.key_mismatch", path=vault.database_path, slot_path=str(vault.slot_path))
