"""The vault's errors: each carries a message key and its arguments, and reads as a sentence."""

from __future__ import annotations

from pathlib import Path

from desktop.vault.messages import vault_message


class VaultError(Exception):
    """Base of all vault errors. `str(err)` is the text for a person (SAMVERKA_LANG, sv default).

    `key` and `kwargs` let the UI look the text up itself; `path` names the file concerned when
    there is one; `detail` is a technical note in English for logs, never shown as the message.
    """

    default_key = "vault.error"

    def __init__(
        self,
        key: str | None = None,
        *,
        path: Path | None = None,
        detail: str | None = None,
        **kwargs: object,
    ) -> None:
        self.key = key or self.default_key
        self.path = path
        self.detail = detail
        self.kwargs: dict[str, object] = dict(kwargs)
        if path is not None:
            self.kwargs.setdefault("path", str(path))
        super().__init__(self.key)

    def __str__(self) -> str:
        return vault_message(self.key, **self.kwargs)

    def __repr__(self) -> str:
        parts = [repr(self.key)]
        if self.path is not None:
            parts.append(f"path={str(self.path)!r}")
        if self.detail:
            parts.append(f"detail={self.detail!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class WrongPassphrase(VaultError):
    """No passphrase slot opened with the given passphrase."""

    default_key = "vault.wrong_passphrase"


class WrongRecoveryKey(WrongPassphrase):
    """The recovery key is mistyped (key tells how) or opens no recovery slot."""

    default_key = "vault.wrong_recovery_key"


class WeakPassphrase(VaultError, ValueError):
    """A new passphrase is refused before anything is written."""

    default_key = "vault.passphrase_too_short"


class InvalidKdfParams(VaultError, ValueError):
    """Argon2id parameters below the OWASP minimum, or absurdly large."""

    default_key = "vault.kdf_too_weak"


class VaultCorrupt(VaultError):
    """The key-slot file (named in `path`) cannot be used as it is. It is never rewritten."""

    default_key = "vault.corrupt"


class UnsupportedVaultFormat(VaultCorrupt):
    """The key-slot file is from a newer program version."""

    default_key = "vault.format_too_new"


class VaultUnreadable(VaultError):
    """The key-slot file exists but the operating system refuses to read it."""

    default_key = "vault.unreadable"


class VaultWriteFailed(VaultError):
    """Writing the key-slot file failed; the previous file is still in place."""

    default_key = "vault.write_failed"


class VaultMissing(VaultError):
    """There is no key-slot file in the data folder."""

    default_key = "vault.missing"


class VaultExists(VaultError):
    """`create` found a vault (or a database without its key-slot file) already there."""

    default_key = "vault.exists"


class SlotNotFound(VaultError, LookupError):
    """No slot has the given id."""

    default_key = "vault.slot_not_found"


class LastSlot(VaultError):
    """Removing this slot would leave no slot, or no passphrase slot."""

    default_key = "vault.last_slot"


class NoSuchSlotKind(VaultError):
    """The vault has no (undamaged) slot of the kind asked for, e.g. no recovery slot."""

    default_key = "vault.no_recovery_slot"
