"""The store's user-facing texts and labels: stable keys to English source strings of the one catalog."""

from __future__ import annotations

from typing import Any

from desktop.i18n import N_, NP_, in_language, keyed, label, language

__all__ = [
    "STORE_MESSAGES", "COLLECTION_LABELS", "LEVEL_LABELS", "CHANNEL_KIND_LABELS",
    "collection_label", "level_label", "channel_kind_label", "message", "language",
]

# Placeholders are str.format fields; keys are stable (errors carry them), texts may be improved.
STORE_MESSAGES: dict[str, str] = {
    "store.error": N_("An error occurred in the local database."),
    "store.wrong_key": N_(
        "The database {path} could not be unlocked with this key. Check the passphrase and "
        "try again. The file has not been changed."
    ),
    "store.key_mismatch": N_(
        "The passphrase is right, but the database {path} does not open with the key in "
        "{slot_path}. The two files do not belong together (one of them was perhaps restored "
        "from another backup or copied from another computer), or the beginning of the "
        "database is damaged. Nothing has been changed. Restore both files from the same "
        "backup."
    ),
    "store.database_missing": N_(
        "The database {path} is missing. Nothing has been created in its place. Restore "
        "samverka.db from a backup into the same folder, next to vault.json. Without a "
        "backup the data is lost: move the folder aside and create a new vault with "
        "“samverka init”."
    ),
    "store.database_corrupt": N_(
        "The database {path} is damaged: part of it cannot be read. The file has not been "
        "changed. Run “samverka check” to see what is damaged, then restore samverka.db and "
        "vault.json from the same backup."
    ),
    "store.header_damaged": N_(
        "The beginning of the database {path} is damaged (the rest of it opens with this key, "
        "so the passphrase is right). The file has not been changed. Restore samverka.db and "
        "vault.json from the same backup."
    ),
    "store.not_a_file": N_(
        "{path} is not a file, so it cannot be the database. Nothing has been changed. Move it "
        "aside and restore samverka.db from a backup."
    ),
    "store.unencrypted": N_(
        "The file {path} is an unencrypted SQLite database, not a Samverka database. It has "
        "not been changed. Move it aside and restore samverka.db from a backup."
    ),
    "store.truncated": N_(
        "The database {path} is cut short ({size} bytes is not a whole number of pages): a "
        "copy was interrupted or the disk is failing. The file has not been changed. Restore "
        "samverka.db and vault.json from the same backup."
    ),
    "store.foreign_database": N_(
        "The file {path} is an encrypted database, but not a Samverka database. It has not "
        "been changed. Restore samverka.db from a backup, or choose another data folder."
    ),
    "store.closed": N_("The database is closed. Unlock Samverka again to continue."),
    "store.not_found": N_(
        "Record {record_id} does not exist in {collection_label}. It may have been deleted; "
        "refresh the view and try again."
    ),
    "store.deleted": N_(
        "Record {record_id} in {collection_label} has been deleted and cannot be changed. "
        "Create a new record instead."
    ),
    "store.append_only": N_(
        "{collection_label} can only be added to, never changed or deleted. Write a new entry "
        "that corrects the old one."
    ),
    "store.server_only": N_("{collection_label} are created by the server only."),
    "store.duplicate_id": N_("A record with id {record_id} already exists in the database."),
    "invalid.unknown_collection": N_("Unknown collection “{value}”."),
    "invalid.unknown_field": N_("{collection_label} has no field “{field}”."),
    "invalid.required": N_("The field “{field}” must be filled in."),
    "invalid.too_long": N_(
        "The field “{field}” is {length} characters long; at most {max} fit. Shorten the "
        "text."
    ),
    "invalid.text": N_("The field “{field}” must be text."),
    "invalid.int": N_("The field “{field}” must be a whole number."),
    "invalid.bool": N_("The field “{field}” must be yes or no."),
    "invalid.choice": N_("The field “{field}” has an unknown value “{value}”. Allowed: {choices}."),
    "invalid.date": N_("The field “{field}” must be a date (YYYY-MM-DD)."),
    "invalid.time": N_("The field “{field}” must be a UTC time (YYYY-MM-DDThh:mm:ssZ)."),
    "invalid.uuid": N_("The field “{field}” must be a record id (UUID)."),
    "invalid.position": N_("The field “{field}” may only contain letters a–z and digits."),
    "invalid.value": N_("The field “{field}” has an invalid value."),
    "invalid.phone": N_(
        "The field “{field}”: “{value}” is not a valid phone number. Include the area code, "
        "e.g. 08-123 456 78 or +46 70 174 06 05."
    ),
    "invalid.reference": N_(
        "The field “{field}” points to a record in {target_label} that does not exist (or has "
        "been deleted). Choose an existing record."
    ),
    "invalid.fields": N_("The fields must be given as names and values."),
    "invalid.record_id": N_("Record id “{value}” is not a valid UUID."),
    # Search
    "search.indexing": N_("Indexing the new records for search …"),
    "search.fuzzy_match": N_("“{typed}” read as “{word}”"),
    "search.own_org_help": N_(
        "your own organisation (name, short name or id): its hits first among equals"
    ),
    "search.unknown_organisation": N_(
        "No organisation is called “{text}”. Give your own organisation's name, short name or id."
    ),
}

COLLECTION_LABELS: dict[str, tuple[str, str]] = {
    "organisations": NP_("collection", "organisations"),
    "functions": NP_("collection", "functions"),
    "channels": NP_("collection", "channels"),
    "forums": NP_("collection", "forums"),
    "mandates": NP_("collection", "mandates"),
    "routines": NP_("collection", "routines"),
    "routine_steps": NP_("collection", "routine steps"),
    "activations": NP_("collection", "activations"),
    "callout_events": NP_("collection", "call-out events"),
    "log_entries": NP_("collection", "log entries"),
    "checklist_marks": NP_("collection", "checklist marks"),
    "report_backs": NP_("collection", "report-backs"),
    "conflicts": NP_("collection", "conflicts"),
}

LEVEL_LABELS: dict[str, tuple[str, str]] = {
    "directing": NP_("level", "Regional direction"),
    "coordinating": NP_("level", "Regional coordination"),
    "executive": NP_("level", "Executive"),
}

CHANNEL_KIND_LABELS: dict[str, tuple[str, str]] = {
    "phone": NP_("channel kind", "Phone"),
    "mobile": NP_("channel kind", "Mobile"),
    "rakel": NP_("channel kind", "Rakel"),
    "satellite": NP_("channel kind", "Satellite phone"),
    "email": NP_("channel kind", "E-mail"),
    "functional_mailbox": NP_("channel kind", "Functional mailbox"),
    "radio": NP_("channel kind", "Radio"),
    "web": NP_("channel kind", "Web"),
    "other": NP_("channel kind", "Other"),
}


def collection_label(name: str, lang: str | None = None) -> str:
    """A collection's name as a person reads it (plural, lower case), e.g. "kontaktvägar"."""
    with in_language(lang):
        return label(COLLECTION_LABELS.get(name), name)


def level_label(level: str | None, lang: str | None = None) -> str:
    with in_language(lang):
        return label(LEVEL_LABELS.get(level or ""), level or "")


def channel_kind_label(kind: str | None, lang: str | None = None) -> str:
    with in_language(lang):
        return label(CHANNEL_KIND_LABELS.get(kind or ""), kind or "")


def message(key: str, /, **kwargs: Any) -> str:
    """The text of ``key`` in the current language with its placeholders filled."""
    if "collection" in kwargs and "collection_label" not in kwargs:
        kwargs["collection_label"] = collection_label(str(kwargs["collection"]))
    if "target" in kwargs and "target_label" not in kwargs:
        kwargs["target_label"] = collection_label(str(kwargs["target"]))
    return keyed(STORE_MESSAGES, key, "store.error", **kwargs)
