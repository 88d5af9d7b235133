"""Where the window's file dialogs open: the folder used last in this run, else the user's documents folder — never the current directory, never the data folder.

A file dialog given only a file name opens in the process's current directory, which for a
program started from a menu is anything (the home folder, the install folder, a test run's
checkout): a PDF or an export saved with a quick Enter would land there unseen. So every
dialog is given a folder: the one the last file was written to or read from (kept for this
run only, as the settings file holds no paths), else QStandardPaths' documents folder, else
the home folder. A folder inside the data folder is never proposed, since plaintext files do
not belong beside the encrypted vault.
"""

from __future__ import annotations

from pathlib import Path

_last: Path | None = None  # the folder of the last file chosen in any of the window's dialogs


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies below it (links resolved)."""
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def documents_folder() -> Path:
    from PySide6.QtCore import QStandardPaths

    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if found and Path(found).is_dir():
        return Path(found)
    return Path.home()


def start_folder(data_dir: Path | None = None) -> Path:
    """The folder a file dialog opens in (see the module's docstring)."""
    for folder in (_last, documents_folder(), Path.home()):
        if folder is not None and folder.is_dir() and (data_dir is None or not inside(folder, data_dir)):
            return folder
    return Path.home()


def remember(path: Path) -> None:
    """A file was written or read: its folder is where the next dialog opens."""
    global _last
    _last = Path(path).expanduser().resolve().parent
