"""Printing and PDF: a forum's call list, the directory as a binder, an activation's journal (QTextDocument + QPdfWriter/QPrinter).

``documents`` builds each printout as a ``PrintJob`` (HTML and what goes on every page; no
Qt); ``pages`` lays it out with Qt — ``build_document`` for a print preview, ``paint`` onto a
QPrinter or QPdfWriter, ``write_pdf`` to a file. The three ``print_*`` functions are what the
CLI (and a window's "Skriv ut … PDF") call; each returns the number of pages written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop.printing.documents import PrintJob, calllist_job, directory_job, journal_job


def print_calllist(service: Any, forum_id: str, path: Path | str) -> int:
    from desktop.printing.pages import write_pdf

    return write_pdf(calllist_job(service, forum_id), path)


def print_directory(service: Any, path: Path | str) -> int:
    from desktop.printing.pages import write_pdf

    return write_pdf(directory_job(service), path)


def print_journal(service: Any, activation_id: str, path: Path | str) -> int:
    from desktop.printing.pages import write_pdf

    return write_pdf(journal_job(service, activation_id), path)


__all__ = ["PrintJob", "calllist_job", "directory_job", "journal_job", "print_calllist", "print_directory", "print_journal"]
