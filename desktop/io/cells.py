"""One cell's value: read into a field's type with a reason in words when it does not fit, and written safely.

Reading: a spreadsheet gives text, numbers, dates and booleans; each field takes what it can
("2" and 2.0 are priority 2, a date cell and "2026-03-01" are a date). Writing: a text cell that a
spreadsheet could take for a formula (OWASP's CSV injection rule: it begins with = + - @, a tab
or a carriage return) is written so that it never is one.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from desktop.io.columns import availability_vocabulary, fold, yes_no_vocabulary
from desktop.io.messages import number
from desktop.store.phones import normalise_phone
from sync.records import NAME_MAX, TEXT_MAX

# OWASP: cells starting with these are formulas to Excel, LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_CSV_ESCAPED = (*FORMULA_TRIGGERS, "'")  # "'" too, so that unescaping is exact


def csv_safe(text: str) -> str:
    """A text cell for CSV that no spreadsheet reads as a formula: a leading "'" when it could be.

    A value that itself begins with "'" gets one more, so ``csv_unescape`` gives back exactly
    the value (numbers are not text cells and are never escaped).
    """
    return "'" + text if text.startswith(_CSV_ESCAPED) else text


def csv_unescape(text: str) -> str:
    """The inverse of ``csv_safe``: a CSV cell this program (or the OWASP rule) escaped."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r'":
        return text[1:]
    return text


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


class Problem(Exception):
    """Why a cell does not fit its field: a message key of IO_MESSAGES and its values."""

    def __init__(self, key: str, values: dict[str, Any]) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def text_of(value: Any) -> str | None:
    """A cell as text with surrounding white space removed; None when empty."""
    if value is None:
        return None
    if type(value) is str:
        text = value.strip()
        if "\r" in text:
            text = text.replace("\r\n", "\n")
    elif isinstance(value, bool):
        text = "1" if value else "0"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, datetime):
        text = value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value).strip()
    return text or None


def _shown(value: Any) -> str:
    text = text_of(value) or ""
    return text if len(text) <= 60 else text[:57] + "…"


def _too_long(text: str, limit: int, column: str) -> None:
    if len(text) > limit:
        raise Problem("row.too_long", {"column": column, "length": number(len(text)), "max": number(limit)})


def name_cell(value: Any, column: str) -> str | None:
    text = text_of(value)
    if text is not None:
        _too_long(text, NAME_MAX, column)
    return text


def text_cell(value: Any, column: str) -> str | None:
    text = text_of(value)
    if text is not None:
        _too_long(text, TEXT_MAX, column)
    return text


def int_cell(value: Any, column: str) -> int | None:
    if isinstance(value, bool):
        raise Problem("row.bad_number", {"value": _shown(value), "column": column})
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = text_of(value)
        if text is None:
            return None
        if not re.fullmatch(r"[+-]?\d{1,9}", text):
            raise Problem("row.bad_number", {"value": _shown(value), "column": column})
        number = int(text)
    if not 0 <= number <= 1_000_000:
        raise Problem("row.bad_number", {"value": _shown(value), "column": column})
    return number


def yes_no_cell(value: Any, column: str) -> bool | None:
    if isinstance(value, bool):
        return value
    text = text_of(value)
    if text is None:
        return None
    answer = yes_no_vocabulary().get(fold(text))
    if answer is None:
        raise Problem("row.bad_yes_no", {"value": _shown(value), "column": column})
    return answer


def availability_cell(value: Any, column: str, choices: str) -> str | None:
    text = text_of(value)
    if text is None:
        return None
    code = availability_vocabulary().get(fold(text))
    if code is None:
        raise Problem("row.bad_choice", {"value": _shown(value), "column": column, "choices": choices})
    return code


_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?")


def date_cell(value: Any, column: str) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = text_of(value)
    if text is None:
        return None
    match = _ISO_DATE.fullmatch(text)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
        except ValueError:
            pass
    raise Problem("row.bad_date", {"value": _shown(value), "column": column})


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def phone_cell(value: Any, column: str) -> tuple[str, str]:
    """(the text as given, its E.164 form); Problem when it is not a valid number."""
    text = text_of(value) or ""
    _too_long(text, NAME_MAX, column)
    e164 = normalise_phone(text)
    if e164 is None:
        raise Problem("row.bad_phone", {"value": _shown(value), "column": column})
    return text, e164


def email_cell(value: Any, column: str) -> str:
    text = text_of(value) or ""
    _too_long(text, NAME_MAX, column)
    if not _EMAIL.fullmatch(text.removeprefix("mailto:")):
        raise Problem("row.bad_email", {"value": _shown(value), "column": column})
    return text.removeprefix("mailto:")


def shown(value: Any) -> str:
    """A cell's value as quoted in a message (cut at 60 characters)."""
    return _shown(value)
