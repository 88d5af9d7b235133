"""User-facing texts outside Qt widgets (CLI output, error messages), in Swedish and English.

Swedish is the default; ``SAMVERKA_LANG=en`` or ``set_language("en")`` selects English. Each
package keeps its own catalog next to its code; this module joins them and looks texts up.
The Qt window will use Qt's own translation files for its widgets.
"""

from __future__ import annotations

import os
from typing import Mapping

LANGUAGES = ("sv", "en")
_language: str | None = None

CLI_MESSAGES: dict[str, dict[str, str]] = {
    "cli.passphrase_prompt": {"sv": "Lösenfras: ", "en": "Passphrase: "},
    "cli.new_passphrase_prompt": {"sv": "Ny lösenfras: ", "en": "New passphrase: "},
    "cli.repeat_passphrase_prompt": {"sv": "Upprepa lösenfrasen: ", "en": "Repeat the passphrase: "},
    "cli.passphrases_differ": {
        "sv": "Lösenfraserna är olika. Försök igen.",
        "en": "The passphrases differ. Try again.",
    },
    "cli.no_tty": {
        "sv": "Ingen terminal att fråga efter lösenfrasen i. Sätt SAMVERKA_PASSPHRASE för skript.",
        "en": "No terminal to ask for the passphrase. Set SAMVERKA_PASSPHRASE for scripts.",
    },
    "cli.created": {
        "sv": "Nytt krypterat valv skapat i {path}.",
        "en": "New encrypted vault created in {path}.",
    },
    "cli.kdf_calibrating": {
        "sv": "Mäter den här datorns hastighet för nyckelhärledningen …",
        "en": "Measuring this computer's speed for key derivation …",
    },
    "cli.demo_loaded": {
        "sv": "Demoregionen är inläst: {summary}.",
        "en": "The demo region is loaded: {summary}.",
    },
    "cli.demo_already": {
        "sv": "Demoregionen finns redan i valvet; inget ändrat.",
        "en": "The demo region is already in the vault; nothing changed.",
    },
    "cli.no_hits": {
        "sv": "Inga träffar för ”{text}”. Pröva färre eller kortare ord.",
        "en": "No matches for “{text}”. Try fewer or shorter words.",
    },
    "cli.passphrase_changed": {
        "sv": "Lösenfrasen är bytt. Databasen behövde inte krypteras om.",
        "en": "The passphrase is changed. The database did not need re-encrypting.",
    },
    "cli.recovery_key_intro": {
        "sv": "Återställningsnyckel (visas bara nu – skriv av den och förvara den säkert):",
        "en": "Recovery key (shown only now – copy it down and keep it safe):",
    },
    "cli.recovery_key_outro": {
        "sv": "Med den kan valvet låsas upp om lösenfrasen glöms bort. En tidigare nyckel gäller inte längre.",
        "en": "It unlocks the vault if the passphrase is forgotten. Any earlier key no longer works.",
    },
    "cli.not_found": {
        "sv": "Hittade ingenting som heter ”{text}”. Sök först med: samverka search",
        "en": "Found nothing called “{text}”. Search first with: samverka search",
    },
    "cli.interrupted": {"sv": "Avbrutet.", "en": "Interrupted."},
    "cli.interactive_intro": {
        "sv": "Sök på funktion, aktör, forum eller rutin. Tom rad avslutar.",
        "en": "Search for a function, organisation, forum or routine. An empty line quits.",
    },
    "cli.search_prompt": {"sv": "Sök: ", "en": "Search: "},
    "cli.internal_error": {
        "sv": "Ett oväntat fel inträffade ({error}). Dina data är orörda. Kör igen med SAMVERKA_DEBUG=1 och rapportera utskriften.",
        "en": "An unexpected error occurred ({error}). Your data is untouched. Run again with SAMVERKA_DEBUG=1 and report the output.",
    },
}


def set_language(language: str | None) -> None:
    global _language
    _language = language if language in LANGUAGES else None


def language() -> str:
    if _language:
        return _language
    chosen = os.environ.get("SAMVERKA_LANG", "sv").split("_")[0].lower()
    return chosen if chosen in LANGUAGES else "sv"


def _catalog() -> Mapping[str, Mapping[str, str]]:
    # Imported late: the vault and the store import this module for `language()`.
    from desktop.store.messages import STORE_MESSAGES
    from desktop.syncer.messages import SYNCER_MESSAGES
    from desktop.vault.messages import VAULT_MESSAGES

    return {**VAULT_MESSAGES, **STORE_MESSAGES, **SYNCER_MESSAGES, **CLI_MESSAGES}


def tr(key: str, **kwargs: object) -> str:
    """The text for ``key`` in the current language, with ``{name}`` fields filled in."""
    texts = _catalog().get(key)
    if texts is None:
        return key
    template = texts.get(language()) or texts["sv"]
    try:
        return template.format(**kwargs)
    except (KeyError, IndexError):
        return template
