"""The one message bridge (qutebrowser's ``message`` module): errors and notices turned into words for a person.

Code that is not a widget (background ops, the session) reports here; the window shows the text
in its status bar, in the language chosen. Nothing record-like goes to the log: only the
error's type and its stable key.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from desktop.i18n import tr

log = logging.getLogger(__name__)


def describe_error(error: BaseException) -> str:
    """A sentence for a person: the project's own errors already are one (in the UI language)."""
    from desktop.activation.words import ActivationError
    from desktop.io.errors import IoError
    from desktop.store.errors import StoreError
    from desktop.syncer.errors import SyncError
    from desktop.vault.errors import VaultError

    if isinstance(error, (StoreError, SyncError, VaultError, ActivationError, IoError)):
        return str(error)
    if isinstance(error, OSError):
        return tr(
            "The computer refused a file operation ({error}). Your data is untouched; check free "
            "disk space and permissions, then try again.",
            error=error.strerror or type(error).__name__,
        )
    return tr(
        "An unexpected error occurred ({error}). Your data is untouched. Try again; if it "
        "happens again, start Samverka with SAMVERKA_DEBUG=1 and report the output.",
        error=type(error).__name__,
    )


class MessageBridge(QObject):
    error = Signal(str)
    info = Signal(str)

    def report_error(self, error: BaseException) -> None:
        key = getattr(error, "key", None)
        log.warning("shown to the user: %s%s", type(error).__name__, f" ({key})" if key else "")
        self.error.emit(describe_error(error))

    def report_info(self, text: str) -> None:
        self.info.emit(text)


_bridge: MessageBridge | None = None


def bridge() -> MessageBridge:
    global _bridge
    if _bridge is None:
        _bridge = MessageBridge()
    return _bridge
