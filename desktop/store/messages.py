"""The store's user-facing message texts (Swedish first, English), keyed for the app's catalog."""

from __future__ import annotations

import os
from typing import Any

# One entry per message key: {"sv": ..., "en": ...}. Placeholders are str.format fields.
# The lead merges this catalog with the others; keys are stable, texts may be improved.
STORE_MESSAGES: dict[str, dict[str, str]] = {
    "store.error": {
        "sv": "Ett fel uppstod i den lokala databasen.",
        "en": "An error occurred in the local database.",
    },
    # Opening the database
    "store.wrong_key": {
        "sv": "Databasen {path} kunde inte låsas upp med den här nyckeln. "
        "Kontrollera lösenfrasen och försök igen. Filen har inte ändrats.",
        "en": "The database {path} could not be unlocked with this key. "
        "Check the passphrase and try again. The file has not been changed.",
    },
    "store.database_corrupt": {
        "sv": "Filen {path} är ingen läsbar Samverka-databas eller är skadad ({reason}). "
        "Filen har inte ändrats. Återställ den från en säkerhetskopia eller kontakta IT-stödet.",
        "en": "The file {path} is not a readable Samverka database or is damaged ({reason}). "
        "The file has not been changed. Restore it from a backup or contact IT support.",
    },
    "store.closed": {
        "sv": "Databasen är stängd. Lås upp Samverka igen för att fortsätta.",
        "en": "The database is closed. Unlock Samverka again to continue.",
    },
    # Records
    "store.not_found": {
        "sv": "Posten {record_id} finns inte i {collection_label}. Den kan ha tagits bort; "
        "uppdatera vyn och försök igen.",
        "en": "Record {record_id} does not exist in {collection_label}. It may have been "
        "deleted; refresh the view and try again.",
    },
    "store.deleted": {
        "sv": "Posten {record_id} i {collection_label} är borttagen och kan inte ändras. "
        "Skapa en ny post i stället.",
        "en": "Record {record_id} in {collection_label} has been deleted and cannot be "
        "changed. Create a new record instead.",
    },
    "store.append_only": {
        "sv": "{collection_label} kan bara kompletteras, aldrig ändras eller tas bort. "
        "Skriv en ny post som rättar den gamla.",
        "en": "{collection_label} can only be added to, never changed or deleted. "
        "Write a new entry that corrects the old one.",
    },
    "store.server_only": {
        "sv": "{collection_label} skapas bara av servern.",
        "en": "{collection_label} are created by the server only.",
    },
    "store.duplicate_id": {
        "sv": "Det finns redan en post med id {record_id} i databasen.",
        "en": "A record with id {record_id} already exists in the database.",
    },
    # Invalid input: the field is always named
    "invalid.unknown_collection": {
        "sv": "Okänd samling ”{value}”.",
        "en": "Unknown collection “{value}”.",
    },
    "invalid.unknown_field": {
        "sv": "{collection_label} har inget fält ”{field}”.",
        "en": "{collection_label} has no field “{field}”.",
    },
    "invalid.required": {
        "sv": "Fältet ”{field}” måste fyllas i.",
        "en": "The field “{field}” must be filled in.",
    },
    "invalid.too_long": {
        "sv": "Fältet ”{field}” är {length} tecken långt; högst {max} tecken får plats. "
        "Korta texten.",
        "en": "The field “{field}” is {length} characters long; at most {max} fit. "
        "Shorten the text.",
    },
    "invalid.text": {
        "sv": "Fältet ”{field}” ska vara text.",
        "en": "The field “{field}” must be text.",
    },
    "invalid.int": {
        "sv": "Fältet ”{field}” ska vara ett heltal.",
        "en": "The field “{field}” must be a whole number.",
    },
    "invalid.bool": {
        "sv": "Fältet ”{field}” ska vara ja eller nej.",
        "en": "The field “{field}” must be yes or no.",
    },
    "invalid.choice": {
        "sv": "Fältet ”{field}” har ett okänt värde ”{value}”. Tillåtna värden: {choices}.",
        "en": "The field “{field}” has an unknown value “{value}”. Allowed: {choices}.",
    },
    "invalid.date": {
        "sv": "Fältet ”{field}” ska vara ett datum (ÅÅÅÅ-MM-DD).",
        "en": "The field “{field}” must be a date (YYYY-MM-DD).",
    },
    "invalid.time": {
        "sv": "Fältet ”{field}” ska vara en tidpunkt i UTC (ÅÅÅÅ-MM-DDTtt:mm:ssZ).",
        "en": "The field “{field}” must be a UTC time (YYYY-MM-DDThh:mm:ssZ).",
    },
    "invalid.uuid": {
        "sv": "Fältet ”{field}” ska vara ett post-id (UUID).",
        "en": "The field “{field}” must be a record id (UUID).",
    },
    "invalid.position": {
        "sv": "Fältet ”{field}” får bara innehålla bokstäver a–z och siffror.",
        "en": "The field “{field}” may only contain letters a–z and digits.",
    },
    "invalid.value": {
        "sv": "Fältet ”{field}” har ett ogiltigt värde.",
        "en": "The field “{field}” has an invalid value.",
    },
    "invalid.phone": {
        "sv": "Fältet ”{field}”: ”{value}” är inget giltigt telefonnummer. "
        "Skriv numret med riktnummer, t.ex. 08-123 456 78 eller +46 70 174 06 05.",
        "en": "The field “{field}”: “{value}” is not a valid phone number. "
        "Include the area code, e.g. 08-123 456 78 or +46 70 174 06 05.",
    },
    "invalid.reference": {
        "sv": "Fältet ”{field}” pekar på en post i {target_label} som inte finns "
        "(eller är borttagen). Välj en befintlig post.",
        "en": "The field “{field}” points to a record in {target_label} that does not exist "
        "(or has been deleted). Choose an existing record.",
    },
    "invalid.fields": {
        "sv": "Fälten ska anges som namn och värden.",
        "en": "The fields must be given as names and values.",
    },
    "invalid.record_id": {
        "sv": "Post-id ”{value}” är inget giltigt UUID.",
        "en": "Record id “{value}” is not a valid UUID.",
    },
    # Search
    "search.indexing": {
        "sv": "Sökindexet byggs för de nya posterna …",
        "en": "Indexing the new records for search …",
    },
    "search.fuzzy_match": {
        "sv": "”{typed}” tolkat som ”{word}”",
        "en": "“{typed}” read as “{word}”",
    },
    "search.own_org_help": {
        "sv": "den egna organisationen (namn, kortnamn eller id): dess träffar först bland likvärdiga",
        "en": "your own organisation (name, short name or id): its hits first among equals",
    },
    "search.unknown_organisation": {
        "sv": "Ingen aktör heter ”{text}”. Ange den egna organisationens namn, kortnamn eller id.",
        "en": "No organisation is called “{text}”. Give your own organisation's name, short name or id.",
    },
}

# Collection names as a person reads them (for messages and search subtitles).
COLLECTION_LABELS: dict[str, dict[str, str]] = {
    "organisations": {"sv": "aktörer", "en": "organisations"},
    "functions": {"sv": "funktioner", "en": "functions"},
    "channels": {"sv": "kontaktvägar", "en": "channels"},
    "forums": {"sv": "forum", "en": "forums"},
    "mandates": {"sv": "mandat", "en": "mandates"},
    "routines": {"sv": "rutiner", "en": "routines"},
    "routine_steps": {"sv": "rutinsteg", "en": "routine steps"},
    "activations": {"sv": "aktiveringar", "en": "activations"},
    "callout_events": {"sv": "utlarmningshändelser", "en": "call-out events"},
    "log_entries": {"sv": "loggposter", "en": "log entries"},
    "checklist_marks": {"sv": "checklistmarkeringar", "en": "checklist marks"},
    "conflicts": {"sv": "konflikter", "en": "conflicts"},
}

LEVEL_LABELS: dict[str, dict[str, str]] = {
    "directing": {"sv": "Regionalt inriktande", "en": "Regional direction"},
    "coordinating": {"sv": "Regionalt samordnande", "en": "Regional coordination"},
    "executive": {"sv": "Verkställande", "en": "Executive"},
}


CHANNEL_KIND_LABELS: dict[str, dict[str, str]] = {
    "phone": {"sv": "Telefon", "en": "Phone"},
    "mobile": {"sv": "Mobil", "en": "Mobile"},
    "rakel": {"sv": "Rakel", "en": "Rakel"},
    "satellite": {"sv": "Satellittelefon", "en": "Satellite phone"},
    "email": {"sv": "E-post", "en": "E-mail"},
    "functional_mailbox": {"sv": "Funktionsbrevlåda", "en": "Functional mailbox"},
    "radio": {"sv": "Radio", "en": "Radio"},
    "web": {"sv": "Webb", "en": "Web"},
    "other": {"sv": "Övrigt", "en": "Other"},
}


def language() -> str:
    """The message language: SAMVERKA_LANG (``sv`` or ``en``), Swedish by default."""
    lang = os.environ.get("SAMVERKA_LANG", "sv").strip().lower()[:2]
    return lang if lang in ("sv", "en") else "sv"


def collection_label(name: str, lang: str | None = None) -> str:
    labels = COLLECTION_LABELS.get(name)
    return labels[lang or language()] if labels else name


def level_label(level: str | None, lang: str | None = None) -> str:
    labels = LEVEL_LABELS.get(level or "")
    return labels[lang or language()] if labels else (level or "")


def channel_kind_label(kind: str | None, lang: str | None = None) -> str:
    labels = CHANNEL_KIND_LABELS.get(kind or "")
    return labels[lang or language()] if labels else (kind or "")


def message(key: str, lang: str | None = None, **kwargs: Any) -> str:
    """The text of ``key`` in ``lang`` with its placeholders filled; the key itself if unknown."""
    lang = lang or language()
    texts = STORE_MESSAGES.get(key)
    if texts is None:
        return key
    template = texts.get(lang) or texts["sv"]
    if "collection" in kwargs and "collection_label" not in kwargs:
        kwargs["collection_label"] = collection_label(str(kwargs["collection"]), lang)
    if "target" in kwargs and "target_label" not in kwargs:
        kwargs["target_label"] = collection_label(str(kwargs["target"]), lang)
    try:
        return template.format(**kwargs)
    except (KeyError, IndexError, ValueError):
        return template
