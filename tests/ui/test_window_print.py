"""Ctrl+P from the views: a forum's call list in three actions, the directory binder, an activation's journal — the print preview, and "Spara som PDF" read back with pypdf (text, pages, ÖVNING on every page of an exercise)."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrintPreviewWidget
from PySide6.QtWidgets import QApplication

from desktop.activation import ActivationService
from desktop.store.demo import demo_record_id

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
FORUM = demo_record_id("forum-samverkanskonferens")


def preview_pages(running) -> int:
    """Wait for the print preview and its pages; their number."""
    printing = running.main.printing
    running.qtbot.waitUntil(lambda: printing.preview is not None and printing.preview.isVisible(), timeout=10_000)
    widget = printing.preview.findChild(QPrintPreviewWidget)
    running.qtbot.waitUntil(lambda: widget.pageCount() > 0, timeout=10_000)
    return widget.pageCount()


def save_pdf_from_preview(running, documents: Path) -> Path:
    """Ctrl+S in the preview ("Spara som PDF"): the file dialog opens in the documents folder
    (never the current directory) with a name made from the title; Enter saves it there."""
    printing = running.main.printing
    running.key(Qt.Key.Key_S, CTRL)
    running.qtbot.waitUntil(lambda: printing.file_dialog is not None and printing.file_dialog.isVisible())
    dialog = printing.file_dialog
    running.qtbot.waitUntil(lambda: QApplication.focusWidget() is not None
                            and dialog.isAncestorOf(QApplication.focusWidget()))
    assert QApplication.focusWidget().objectName() == "fileNameEdit"
    assert Path(dialog.directory().absolutePath()) == documents
    name = QApplication.focusWidget().text()
    assert name.endswith(".pdf") and "/" not in name
    running.key(Qt.Key.Key_Return)
    running.qtbot.waitUntil(lambda: printing.written is not None, timeout=20_000)
    assert printing.written == documents / name
    return printing.written


def pdf_pages(path: Path) -> list[str]:
    assert path.read_bytes().startswith(b"%PDF")
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(str(path)).pages]


def test_a_forums_call_list_is_three_actions_away_and_saved_as_pdf(running, documents) -> None:
    main = running.main
    actions = 0
    running.key(Qt.Key.Key_3, CTRL)  # the forums view
    actions += 1
    forums = main.views["forums"]
    running.qtbot.waitUntil(lambda: forums.loaded and forums.tree.hasFocus())
    running.type("samverkansk")  # the forum, chosen by typing its name in the list
    actions += 1
    running.key(Qt.Key.Key_P, CTRL)  # print
    actions += 1
    pages = preview_pages(running)
    assert actions <= 3
    assert main.printing.job.title == "Larmlista: Samverkanskonferens (veckovis)"
    assert not main.printing.job.exercise

    target = save_pdf_from_preview(running, documents)
    texts = pdf_pages(target)
    assert len(texts) == pages
    whole = " ".join(texts)
    assert "Larmlista: Samverkanskonferens (veckovis)" in texts[0]
    assert all(f"Sida {number} av {pages}" in text for number, text in enumerate(texts, 1))
    assert "Tjänsteman i beredskap (TiB) — Länsstyrelsen Stockholm" in whole  # a function, its organisation
    assert "070-174 06 05" in whole  # a number to dial
    assert "Reservväg" in whole  # resilient channels flagged
    assert "ÖVNING" not in whole
    assert "inte krypterad" in main.status.currentMessage()
    assert not list(Path.cwd().glob("*.pdf")), "nothing written into the current directory"


def test_an_exercise_activation_marks_the_call_list_on_every_page(running, documents) -> None:
    main = running.main
    ActivationService(running.application.session.store).activate(FORUM, "Övning Södertörn", exercise=True)
    main.refresh_views()
    running.key(Qt.Key.Key_3, CTRL)
    forums = main.views["forums"]
    running.qtbot.waitUntil(lambda: forums.loaded and forums.tree.hasFocus())
    running.type("samverkansk")
    running.key(Qt.Key.Key_P, CTRL)
    pages = preview_pages(running)
    assert main.printing.job.exercise
    texts = pdf_pages(save_pdf_from_preview(running, documents))
    assert len(texts) == pages
    assert all("ÖVNING" in text for text in texts), "the exercise mark on every page"
    assert "Övning Södertörn" in texts[0]


def test_an_exercise_journal_prints_ovning_on_every_page(running, documents) -> None:
    main = running.main
    store = running.application.session.store
    service = ActivationService(store)
    activation_id = service.activate(FORUM, "Övning Södertörn", exercise=True)
    for number in range(90):
        service.write_entry(activation_id, f"Post {number}: läget följs, reservkraft i drift i kommunerna.")
    main.refresh_views()
    running.key(Qt.Key.Key_5, CTRL)
    page = main.views["activations"].page
    running.qtbot.waitUntil(lambda: page.activation_id == activation_id and page.journal is not None, timeout=10_000)
    running.key(Qt.Key.Key_P, CTRL)
    pages = preview_pages(running)
    assert pages > 1
    assert main.printing.job.exercise and main.printing.job.title == "Dagbok: Samverkanskonferens (veckovis)"
    texts = pdf_pages(save_pdf_from_preview(running, documents))
    assert len(texts) == pages
    assert all("ÖVNING" in text for text in texts), "the exercise mark on every page"
    assert "Post 89:" in "".join(texts)


def test_the_directory_binder_and_a_pdf_never_inside_the_data_folder(running, demo_dir) -> None:
    main = running.main
    running.key(Qt.Key.Key_2, CTRL)
    running.qtbot.waitUntil(lambda: main.views["directory"].organisations.hasFocus())
    running.key(Qt.Key.Key_P, CTRL)
    assert preview_pages(running) > 3
    assert main.printing.job.title == "Katalogpärm"
    printing = main.printing
    running.key(Qt.Key.Key_S, CTRL)
    running.qtbot.waitUntil(lambda: printing.file_dialog is not None and printing.file_dialog.isVisible())
    dialog = printing.file_dialog
    assert not Path(dialog.directory().absolutePath()).is_relative_to(demo_dir), "never proposed"
    dialog.setDirectory(str(demo_dir))  # the person goes there anyway
    running.qtbot.waitUntil(lambda: QApplication.focusWidget() is not None
                            and dialog.isAncestorOf(QApplication.focusWidget()))
    running.key(Qt.Key.Key_Return)
    running.qtbot.waitUntil(lambda: getattr(printing, "refusal", None) is not None and printing.refusal.isVisible())
    assert "inte i datamappen" in printing.refusal.text() or "datamappen" in printing.refusal.text()
    assert not list(demo_dir.glob("*.pdf"))


def test_file_dialogs_open_in_the_last_folder_or_the_documents_folder_never_the_data_folder(
        monkeypatch, tmp_path, documents) -> None:
    from PySide6.QtCore import QStandardPaths

    from desktop.ui import files

    assert files.start_folder() == documents  # the last one used (this test's)
    home = tmp_path / "home"
    (home / "Dokument").mkdir(parents=True)
    monkeypatch.setattr(QStandardPaths, "writableLocation", lambda _where: str(home / "Dokument"))
    monkeypatch.setattr(files, "_last", None)
    assert files.start_folder() == home / "Dokument"  # nothing used yet: the documents folder
    data_dir = tmp_path / "data"
    (data_dir / "export").mkdir(parents=True)
    files.remember(data_dir / "export" / "katalog.csv")
    assert files.start_folder(data_dir) == home / "Dokument", "never proposed inside the data folder"
    files.remember(documents / "a.pdf")
    assert files.start_folder(data_dir) == documents
