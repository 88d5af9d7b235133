"""The vault's user-facing texts: stable keys to English source strings of the one catalog."""

from __future__ import annotations

from desktop.i18n import N_, keyed

# Every text names the thing that is wrong and says what to do. None of them suggests deleting
# anything: without the key-slot file the database cannot be read by anyone.
VAULT_MESSAGES: dict[str, str] = {
    "vault.error": N_("Something went wrong with the vault in {path}."),
    "vault.wrong_passphrase": N_(
        "Wrong passphrase. Try again, and check Caps Lock and the keyboard layout."
    ),
    "vault.wrong_recovery_key": N_(
        "The recovery key does not belong to this vault. Check that you have the key for the "
        "right computer and organisation."
    ),
    "vault.recovery_key_length": N_(
        "A recovery key has 40 characters (8 groups of 5), but you entered {count}. Check "
        "that no group is missing or typed twice."
    ),
    "vault.recovery_key_character": N_(
        "The character “{character}” does not occur in recovery keys. They consist of digits "
        "and the letters A–Z except I, L, O and U."
    ),
    "vault.recovery_key_typo": N_(
        "The recovery key contains a typing mistake. Compare it group by group with the "
        "written-down key."
    ),
    "vault.passphrase_too_short": N_(
        "The passphrase is too short. It needs at least {minimum} characters; several words "
        "in a row are easier to remember than odd characters."
    ),
    "vault.passphrase_blank": N_("The passphrase must not consist of spaces only."),
    "vault.kdf_too_weak": N_(
        "The key-derivation parameters ({params}) are weaker than the minimum ({minimum}) and "
        "are not used."
    ),
    "vault.kdf_out_of_range": N_(
        "The key-derivation parameters ({params}) are out of the allowed range and are not "
        "used."
    ),
    "vault.corrupt": N_(
        "The key-slot file {path} is damaged and cannot be read. Nothing has been changed. "
        "Restore the file from a backup. Do not delete it or the database: without the "
        "key-slot file the data cannot be read."
    ),
    "vault.slot_damaged": N_(
        "The passphrase's key slot in {path} is damaged. Nothing has been changed. Unlock "
        "with the recovery key and choose a new passphrase, or restore the file from a "
        "backup."
    ),
    "vault.recovery_slot_damaged": N_(
        "The recovery key's slot in {path} is damaged. Nothing has been changed. Unlock with "
        "the passphrase and create a new recovery key, or restore the file from a backup."
    ),
    "vault.format_too_new": N_(
        "The key-slot file {path} was written by a newer version of Samverka (format "
        "{found}). Update the program. Do not change the file."
    ),
    "vault.unreadable": N_(
        "The key-slot file {path} cannot be read ({reason}). Check that the file exists and "
        "that your account may read it."
    ),
    "vault.write_failed": N_(
        "The key-slot file {path} could not be saved ({reason}). The old file is unchanged. "
        "Check that the disk is not full and that your account may write to the folder."
    ),
    "vault.missing": N_(
        "There is no vault in {data_dir}. Create a new vault, or choose the folder your vault "
        "is in."
    ),
    "vault.missing_with_database": N_(
        "The database {database} exists, but the key-slot file {path} is missing. Restore the "
        "key-slot file from a backup. Do not create a new vault: the existing database could "
        "then not be read."
    ),
    "vault.exists": N_(
        "There already is a vault in {data_dir} ({path}). Unlock it instead, or choose "
        "another folder for a new vault."
    ),
    "vault.exists_database": N_(
        "The database {database} already exists but the key-slot file {path} is missing. A "
        "new vault would make the database unreadable. Restore the key-slot file from a "
        "backup, or choose another folder."
    ),
    "vault.slot_not_found": N_(
        "The key slot {slot_id} is not in {path}. It may already have been removed."
    ),
    "vault.last_slot": N_(
        "The key slot {slot_id} is the only one and cannot be removed: the vault could then "
        "never be unlocked again."
    ),
    "vault.last_passphrase_slot": N_(
        "The key slot {slot_id} is the vault's only passphrase and cannot be removed. Change "
        "the passphrase instead."
    ),
    "vault.no_recovery_slot": N_(
        "The vault in {path} has no recovery key. Unlock with the passphrase."
    ),
    "vault.key_change_interrupted": N_(
        "Samverka was interrupted while changing the vault's keys, and this passphrase or "
        "recovery key belongs to the side of the change that did not take effect. Unlock with "
        "the other one (the one from before the change, or the new one); the change is then "
        "completed or undone."
    ),
    "vault.no_passphrase_slot": N_(
        "The vault in {path} has no passphrase. Unlock with the recovery key and choose a new "
        "passphrase."
    ),
}


def vault_message(key: str, /, **kwargs: object) -> str:
    """The text for ``key`` in the current language (desktop.i18n), its fields filled in."""
    return keyed(VAULT_MESSAGES, key, "vault.error", **kwargs)
