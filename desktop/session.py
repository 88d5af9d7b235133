"""An unlocked user session: where the data folder is, and opening its vault and store together.

The CLI and the window both come through here, so that "unlock" means the same thing
everywhere: read the key slots, unwrap the database key, open the encrypted store (which
applies migrations). Both calls are slow on purpose (key derivation) and safe to run in a
worker thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from desktop.store import Store
from desktop.vault import KdfParams, Vault

APP_NAME = "Samverka"


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


def create_session(data_dir: Path, passphrase: str, *, kdf: KdfParams | None = None) -> Session:
    """Create a new vault and an empty store in ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    vault, key = Vault.create(data_dir, passphrase, kdf=kdf)
    return Session(vault, Store.open(vault.database_path, key))


def unlock_session(data_dir: Path, passphrase: str) -> Session:
    vault = Vault.open(data_dir)
    key = vault.unlock(passphrase)
    return Session(vault, Store.open(vault.database_path, key))


def unlock_session_with_recovery_key(data_dir: Path, recovery_key: str) -> Session:
    vault = Vault.open(data_dir)
    key = vault.unlock_with_recovery_key(recovery_key)
    return Session(vault, Store.open(vault.database_path, key))
