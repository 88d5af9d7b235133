"""The vault's user-facing texts, Swedish and English; to be merged into desktop.messages."""

from __future__ import annotations

import os

# Every text names the thing that is wrong and says what to do. None of them suggests deleting
# anything: without the key-slot file the database cannot be read by anyone.
VAULT_MESSAGES: dict[str, dict[str, str]] = {
    "vault.error": {
        "sv": "Något gick fel med valvet i {path}.",
        "en": "Something went wrong with the vault in {path}.",
    },
    "vault.wrong_passphrase": {
        "sv": "Fel lösenfras. Försök igen och kontrollera Caps Lock och tangentbordslayouten.",
        "en": "Wrong passphrase. Try again, and check Caps Lock and the keyboard layout.",
    },
    "vault.wrong_recovery_key": {
        "sv": "Återställningsnyckeln hör inte till det här valvet. Kontrollera att du har "
        "nyckeln för rätt dator och organisation.",
        "en": "The recovery key does not belong to this vault. Check that you have the key "
        "for the right computer and organisation.",
    },
    "vault.recovery_key_length": {
        "sv": "En återställningsnyckel har 40 tecken (8 grupper om 5), men du skrev {count}. "
        "Kontrollera att ingen grupp saknas eller har skrivits två gånger.",
        "en": "A recovery key has 40 characters (8 groups of 5), but you entered {count}. "
        "Check that no group is missing or typed twice.",
    },
    "vault.recovery_key_character": {
        "sv": "Tecknet ”{character}” förekommer inte i återställningsnycklar. De består av "
        "siffror och bokstäverna A–Z utom I, L, O och U.",
        "en": "The character “{character}” does not occur in recovery keys. They consist of "
        "digits and the letters A–Z except I, L, O and U.",
    },
    "vault.recovery_key_typo": {
        "sv": "Återställningsnyckeln innehåller ett skrivfel. Jämför grupp för grupp med "
        "den nedskrivna nyckeln.",
        "en": "The recovery key contains a typing mistake. Compare it group by group with "
        "the written-down key.",
    },
    "vault.passphrase_too_short": {
        "sv": "Lösenfrasen är för kort. Den måste ha minst {minimum} tecken; flera ord i "
        "följd är lättare att minnas än krångliga tecken.",
        "en": "The passphrase is too short. It needs at least {minimum} characters; several "
        "words in a row are easier to remember than odd characters.",
    },
    "vault.passphrase_blank": {
        "sv": "Lösenfrasen får inte bestå av bara mellanslag.",
        "en": "The passphrase must not consist of spaces only.",
    },
    "vault.kdf_too_weak": {
        "sv": "Parametrarna för nyckelhärledningen ({params}) är svagare än minimikravet "
        "({minimum}) och används inte.",
        "en": "The key-derivation parameters ({params}) are weaker than the minimum "
        "({minimum}) and are not used.",
    },
    "vault.kdf_out_of_range": {
        "sv": "Parametrarna för nyckelhärledningen ({params}) ligger utanför det tillåtna "
        "området och används inte.",
        "en": "The key-derivation parameters ({params}) are out of the allowed range and "
        "are not used.",
    },
    "vault.corrupt": {
        "sv": "Nyckelfilen {path} är skadad och kan inte läsas. Ingenting har ändrats. "
        "Återställ filen från en säkerhetskopia. Radera varken den eller databasen: utan "
        "nyckelfilen går informationen inte att läsa.",
        "en": "The key-slot file {path} is damaged and cannot be read. Nothing has been "
        "changed. Restore the file from a backup. Do not delete it or the database: without "
        "the key-slot file the data cannot be read.",
    },
    "vault.slot_damaged": {
        "sv": "Lösenfrasens nyckelplats i {path} är skadad. Ingenting har ändrats. Lås upp "
        "med återställningsnyckeln och välj en ny lösenfras, eller återställ filen från en "
        "säkerhetskopia.",
        "en": "The passphrase's key slot in {path} is damaged. Nothing has been changed. "
        "Unlock with the recovery key and choose a new passphrase, or restore the file from "
        "a backup.",
    },
    "vault.recovery_slot_damaged": {
        "sv": "Återställningsnyckelns plats i {path} är skadad. Ingenting har ändrats. Lås "
        "upp med lösenfrasen och skapa en ny återställningsnyckel, eller återställ filen "
        "från en säkerhetskopia.",
        "en": "The recovery key's slot in {path} is damaged. Nothing has been changed. "
        "Unlock with the passphrase and create a new recovery key, or restore the file from "
        "a backup.",
    },
    "vault.format_too_new": {
        "sv": "Nyckelfilen {path} har skapats av en nyare version av Samverka (format "
        "{found}). Uppdatera programmet. Ändra inte filen.",
        "en": "The key-slot file {path} was written by a newer version of Samverka (format "
        "{found}). Update the program. Do not change the file.",
    },
    "vault.unreadable": {
        "sv": "Nyckelfilen {path} går inte att läsa ({reason}). Kontrollera att filen finns "
        "och att ditt konto har behörighet till den.",
        "en": "The key-slot file {path} cannot be read ({reason}). Check that the file exists "
        "and that your account may read it.",
    },
    "vault.write_failed": {
        "sv": "Nyckelfilen {path} kunde inte sparas ({reason}). Den gamla filen är oförändrad. "
        "Kontrollera att disken inte är full och att ditt konto får skriva i mappen.",
        "en": "The key-slot file {path} could not be saved ({reason}). The old file is "
        "unchanged. Check that the disk is not full and that your account may write to the "
        "folder.",
    },
    "vault.missing": {
        "sv": "Det finns inget valv i {data_dir}. Skapa ett nytt valv, eller välj mappen där "
        "ditt valv ligger.",
        "en": "There is no vault in {data_dir}. Create a new vault, or choose the folder "
        "your vault is in.",
    },
    "vault.missing_with_database": {
        "sv": "Databasen {database} finns, men nyckelfilen {path} saknas. Återställ "
        "nyckelfilen från en säkerhetskopia. Skapa inte ett nytt valv: då går den befintliga "
        "databasen inte att läsa.",
        "en": "The database {database} exists, but the key-slot file {path} is missing. "
        "Restore the key-slot file from a backup. Do not create a new vault: the existing "
        "database could then not be read.",
    },
    "vault.exists": {
        "sv": "Det finns redan ett valv i {data_dir} ({path}). Lås upp det i stället, eller "
        "välj en annan mapp för ett nytt valv.",
        "en": "There already is a vault in {data_dir} ({path}). Unlock it instead, or choose "
        "another folder for a new vault.",
    },
    "vault.exists_database": {
        "sv": "Databasen {database} finns redan men nyckelfilen {path} saknas. Ett nytt valv "
        "skulle göra databasen oläslig. Återställ nyckelfilen från en säkerhetskopia, eller "
        "välj en annan mapp.",
        "en": "The database {database} already exists but the key-slot file {path} is "
        "missing. A new vault would make the database unreadable. Restore the key-slot file "
        "from a backup, or choose another folder.",
    },
    "vault.slot_not_found": {
        "sv": "Nyckelplatsen {slot_id} finns inte i {path}. Den kan redan ha tagits bort.",
        "en": "The key slot {slot_id} is not in {path}. It may already have been removed.",
    },
    "vault.last_slot": {
        "sv": "Nyckelplatsen {slot_id} är den enda och kan inte tas bort: då skulle valvet "
        "aldrig mer gå att låsa upp.",
        "en": "The key slot {slot_id} is the only one and cannot be removed: the vault could "
        "then never be unlocked again.",
    },
    "vault.last_passphrase_slot": {
        "sv": "Nyckelplatsen {slot_id} är valvets enda lösenfras och kan inte tas bort. Byt "
        "lösenfras i stället.",
        "en": "The key slot {slot_id} is the vault's only passphrase and cannot be removed. "
        "Change the passphrase instead.",
    },
    "vault.no_recovery_slot": {
        "sv": "Valvet i {path} har ingen återställningsnyckel. Lås upp med lösenfrasen.",
        "en": "The vault in {path} has no recovery key. Unlock with the passphrase.",
    },
    "vault.no_passphrase_slot": {
        "sv": "Valvet i {path} har ingen lösenfras. Lås upp med återställningsnyckeln och "
        "välj en ny lösenfras.",
        "en": "The vault in {path} has no passphrase. Unlock with the recovery key and "
        "choose a new passphrase.",
    },
}

DEFAULT_LANGUAGE = "sv"


def current_language() -> str:
    """The language from SAMVERKA_LANG ("sv" or "en", also "en_GB.UTF-8"); Swedish otherwise."""
    language = os.environ.get("SAMVERKA_LANG", DEFAULT_LANGUAGE)[:2].lower()
    return language if language in ("sv", "en") else DEFAULT_LANGUAGE


def vault_message(key: str, **kwargs: object) -> str:
    """The text for `key` in the current language; a stand-in until desktop.messages.tr exists."""
    texts = VAULT_MESSAGES.get(key) or VAULT_MESSAGES["vault.error"]
    text = texts.get(current_language()) or texts[DEFAULT_LANGUAGE]
    try:
        return text.format(**kwargs)
    except (KeyError, IndexError):
        # A missing argument must not hide the error being reported; show the template.
        return text
