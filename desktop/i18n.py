"""The one message catalog and the one language setting for every text a person reads (CLI and window).

English source strings, translated through gettext (Picard's way): the Swedish catalog is
``desktop/locale/sv/LC_MESSAGES/samverka.po`` with its compiled ``.mo`` beside it, kept up to
date by ``scripts/i18n`` (``pybabel extract/update/compile``). Swedish is the default language.

Which language a start speaks, window and command line alike (the one place this is written):
``--lang``, else ``SAMVERKA_LANG``, else the window's setting (``settings.json``,
desktop/ui/settings.py), else the organisation profile's ``defaults.language``
(desktop/profile.py), else Swedish. The window applies it in desktop/app.py (where a settings
file not yet written holds the profile's language), the command line in
``desktop.cli.start_language``.

How code marks its texts:
- ``tr("No matches for “{text}”.", text=text)``: translate now and fill ``{name}`` fields;
- ``N_("…")``: mark a text for the catalog without translating it yet (tables of messages
  keyed by a stable id, e.g. the errors' keys, are translated when they are shown);
- ``NP_("channel kind", "Other")`` / ``ptr(context, text)``: the same with a context, for
  short words that mean different things in different places (enum values, labels).

The locale folder lives inside the package (not in ``resources/`` as ARCHITECTURE.md
sketched) so that an installed wheel and a frozen build carry it without extra data rules.
"""

from __future__ import annotations

import gettext
import os
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

DOMAIN = "samverka"
LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_chosen: str | None = None
# A language for one piece of work only (``in_language``), without changing the process's.
_scoped: ContextVar[str | None] = ContextVar("samverka_language", default=None)


def _normalise(lang: str | None) -> str | None:
    """'en', 'EN', 'en_GB.UTF-8' -> 'en'; anything not supported -> None."""
    if not lang:
        return None
    short = lang.strip().lower().replace("-", "_").split("_")[0].split(".")[0]
    return short if short in LANGUAGES else None


def set_language(lang: str | None) -> None:
    """Choose the language for this process (None: back to SAMVERKA_LANG or Swedish)."""
    global _chosen
    _chosen = _normalise(lang)


def language_from_environment() -> str | None:
    """``SAMVERKA_LANG`` when it names a language Samverka speaks, else None."""
    return _normalise(os.environ.get("SAMVERKA_LANG"))


def language() -> str:
    """The language in use: the chosen one, else SAMVERKA_LANG, else Swedish."""
    return (
        _scoped.get() or _chosen or language_from_environment() or DEFAULT_LANGUAGE
    )


@contextmanager
def in_language(lang: str | None) -> Iterator[None]:
    """Texts made inside the block are in ``lang`` (this thread only); None changes nothing."""
    chosen = _normalise(lang)
    if chosen is None:  # None (or an unknown language): the surrounding choice stands
        yield
        return
    token = _scoped.set(chosen)
    try:
        yield
    finally:
        _scoped.reset(token)


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English is the source language: no catalog)."""
    if lang == "en":
        return gettext.NullTranslations()
    try:
        return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang])
    except OSError:
        # A broken install must still speak: the English source texts are complete.
        return gettext.NullTranslations()


def _(text: str) -> str:
    """``text`` in the current language."""
    return translations(language()).gettext(text)


def ngettext(singular: str, plural: str, count: int) -> str:
    return translations(language()).ngettext(singular, plural, count)


def pgettext(context: str, text: str) -> str:
    return translations(language()).pgettext(context, text)


def N_(text: str) -> str:
    """Mark ``text`` for the catalog; it is translated later, where it is shown."""
    return text


def NP_(context: str, text: str) -> tuple[str, str]:
    """Mark a text with a context for the catalog; ``ptr`` translates the pair later."""
    return (context, text)


def fill(template: str, values: Mapping[str, Any]) -> str:
    """``template.format(**values)``, or the template itself when a value is missing: a
    message about an error must never fail because of the message."""
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError):
        return template


def tr(message: str, /, **values: Any) -> str:
    """``message`` translated into the current language, with its ``{name}`` fields filled."""
    return fill(_(message), values) if values else _(message)


def ptr(context: str, message: str, /, **values: Any) -> str:
    """``tr`` with a context."""
    translated = pgettext(context, message)
    return fill(translated, values) if values else translated


def label(marked: tuple[str, str] | None, fallback: str = "") -> str:
    """A label marked with ``NP_``, translated; ``fallback`` when there is none."""
    if marked is None:
        return fallback
    return pgettext(*marked)


def keyed(
    table: Mapping[str, str], key: str, default_key: str | None = None, /, **values: Any
) -> str:
    """The message ``key`` of a table of ``N_``-marked texts, translated and filled in.

    Errors carry such a stable key (tests and the window branch on it); the text is looked up
    only when a person reads it, so it follows the language chosen after the error was made.
    """
    template = table.get(key)
    if template is None:
        template = table.get(default_key or "", key)
    return fill(_(template), values)
