"""The import and export's error types: each carries a message key and its values; str() is for a person."""

from __future__ import annotations

from typing import Any

from desktop.i18n import in_language
from desktop.io.messages import io_message


class IoError(Exception):
    """Base of every error desktop.io raises on purpose; nothing was imported or written.

    ``key`` names the message in ``IO_MESSAGES``; ``values`` fill it. ``str(error)`` is the
    message in the user's language; ``error.text("en")`` gives another.
    """

    default_key = "io.error"

    def __init__(self, key: str | None = None, /, **values: Any) -> None:
        self.key = key or self.default_key
        self.values = values
        super().__init__(self.key)

    def text(self, lang: str | None = None) -> str:
        with in_language(lang):
            return io_message(self.key, **self.values)

    def __str__(self) -> str:
        return self.text()


class FileRefused(IoError):
    """The file as a whole cannot be imported (damaged, encrypted, too large, no header …)."""


class MappingError(FileRefused):
    """The mapping file is missing or wrong."""


class OrganisationError(IoError):
    """Whose list it is cannot be decided (not named, unknown, not this device's)."""


class RowsRefused(IoError):
    """The plan refused rows and the user did not choose to import the rest."""

    default_key = "import.refused_rows"


class PlanOutdated(IoError):
    """The vault changed between the preview and the import; nothing was imported."""

    default_key = "import.outdated"


class Cancelled(IoError):
    """The user cancelled; nothing was changed or written."""

    default_key = "import.cancelled"


def check_cancel(cancel: Any, key: str = "import.cancelled") -> None:
    """Raise Cancelled when ``cancel`` (anything with ``is_set()``, e.g. threading.Event) is set."""
    if cancel is not None and cancel.is_set():
        raise Cancelled(key)
