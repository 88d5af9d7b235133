"""Recovery keys: made at random, written by hand in groups, read back forgivingly.

A key is 40 characters of Crockford base32 (digits and A-Z without I, L, O, U), shown as 8 groups
of 5: 38 random characters (190 bits) and 2 check characters, so that a typing mistake is told
apart from a key that belongs to another vault. Reading accepts any case, dashes, spaces and the
look-alikes Crockford allows (O for 0, I and L for 1).
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata

from desktop.vault.errors import WrongRecoveryKey

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS = 8
GROUP_LENGTH = 5
KEY_LENGTH = GROUPS * GROUP_LENGTH
CHECK_LENGTH = 2
RANDOM_LENGTH = KEY_LENGTH - CHECK_LENGTH
RANDOM_BITS = RANDOM_LENGTH * 5

_LOOK_ALIKES = {"O": "0", "I": "1", "L": "1"}
# Separators people type or that copying from a document brings along.
_SEPARATORS = frozenset(" \t\r\n-_.\u00a0\u2010\u2011\u2012\u2013\u2014\u2212")


def generate_recovery_key() -> str:
    """A new random key, formatted for showing once ("XXXXX-XXXXX-…")."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return format_recovery_key(body + _check_characters(body))


def format_recovery_key(canonical: str) -> str:
    """40 canonical characters as 8 dash-separated groups of 5."""
    return "-".join(
        canonical[start : start + GROUP_LENGTH] for start in range(0, KEY_LENGTH, GROUP_LENGTH)
    )


def normalize_recovery_key(text: str) -> str:
    """The 40 canonical characters of a typed key; WrongRecoveryKey says what is wrong with it."""
    # NFKC folds full-width letters and digits that some input methods produce.
    folded = unicodedata.normalize("NFKC", text).upper()
    characters: list[str] = []
    for character in folded:
        if character in _SEPARATORS:
            continue
        character = _LOOK_ALIKES.get(character, character)
        if character not in ALPHABET:
            raise WrongRecoveryKey("vault.recovery_key_character", character=character)
        characters.append(character)
    if len(characters) != KEY_LENGTH:
        raise WrongRecoveryKey("vault.recovery_key_length", count=len(characters))
    canonical = "".join(characters)
    if not secrets.compare_digest(
        canonical[RANDOM_LENGTH:], _check_characters(canonical[:RANDOM_LENGTH])
    ):
        raise WrongRecoveryKey("vault.recovery_key_typo")
    return canonical


def _check_characters(body: str) -> str:
    digest = hashlib.sha256(b"samverka recovery key check\n" + body.encode("ascii")).digest()
    value = int.from_bytes(digest[:2], "big") >> (16 - 5 * CHECK_LENGTH)
    return "".join(
        ALPHABET[(value >> (5 * (CHECK_LENGTH - 1 - index))) & 0b11111]
        for index in range(CHECK_LENGTH)
    )
