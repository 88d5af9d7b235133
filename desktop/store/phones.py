"""Phone numbers of channels: parsed and validated with phonenumbers, stored E.164, shown nationally."""

from __future__ import annotations

from functools import lru_cache

# phonenumbers is imported where a number is first parsed or formatted, not with the store: its
# metadata takes a noticeable part of a cold start (about 15 ms here), and the first screen
# (unlock, then the search field) has no number to show yet. PyInstaller still finds it: it
# follows imports inside functions.

DEFAULT_REGION = "SE"


# Parsing costs ~0.3 ms a number; a directory reuses numbers (switchboards) and search
# documents are rebuilt often, so results are cached (pure functions of their arguments).
_CACHE = 65_536


@lru_cache(maxsize=_CACHE)
def normalise_phone(text: str, region: str = DEFAULT_REGION) -> str | None:
    """The E.164 form of a phone number a person typed, or None when it is not a valid number."""
    if not isinstance(text, str) or not text.strip():
        return None
    import phonenumbers

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=_CACHE)
def format_phone(e164: str | None, region: str = DEFAULT_REGION) -> str:
    """A stored number as a Swedish user reads it: "070-174 06 05"; foreign numbers internationally.

    Anything that does not parse is returned as it is (a value pulled from another client).
    """
    if not e164:
        return ""
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, region)
    except phonenumbers.NumberParseException:
        return e164
    if not phonenumbers.is_valid_number(number):
        return e164
    if phonenumbers.region_code_for_number(number) == region:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_search_terms(e164: str) -> list[str]:
    """What the search index holds for a stored number: its digits nationally ("0701740605")
    and internationally ("46701740605"). A typed number becomes one run of digits (see
    search.query_tokens), a prefix of one of these; no parsing needed here."""
    digits = e164.lstrip("+")
    if e164.startswith("+46"):
        return ["0" + digits[2:], digits]
    return [digits]
