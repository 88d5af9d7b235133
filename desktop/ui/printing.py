"""Ctrl+P from every view: what the view shows, printed — a forum's call list, the directory as a binder, an activation's journal — with a print preview for paper and "Spara som PDF".

Which printout a view gives (``print_spec``): the forums view and a forum opened anywhere → its
call list; a routine of a forum → that forum's call list; the activations view → the chosen
activation's journal (the after-action record, with its call-out); the directory and
everything else → the directory binder. The printout is built from the store on a pool thread
(desktop/printing's ``*_job`` builders are Qt-free); the preview (QPrintPreviewDialog) lays it
out with ``desktop.printing.pages.paint`` on the GUI thread, as Qt's painting of a preview must.

"Spara som PDF" (in the preview's toolbar, and in the Arkiv menu) writes a PDF on a pool
thread. A PDF is plaintext by nature: the file dialog and the notice afterwards say so, and,
as for an export, a PDF is never written inside the data folder beside the vault.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QToolBar, QWidget

from desktop.i18n import tr
from desktop.ui.files import inside, remember, start_folder
from desktop.ui.messages import bridge
from desktop.ui.ops import QueryOp

PrintSpec = tuple[str, "str | None"]  # ("calllist", forum_id) | ("directory", None) | ("journal", activation_id)


def print_spec(view_key: str, view: QWidget) -> PrintSpec | None:
    """What Ctrl+P prints from ``view`` (None: nothing chosen to print)."""
    from desktop.views import ForumDetail, RoutineDetail

    own = getattr(view, "print_spec", None)
    if own is not None:
        return own()
    if view_key == "directory":
        return ("directory", None)
    if view_key == "forums":
        from desktop.ui.forums import ID_ROLE

        forum_id = view.tree.currentIndex().siblingAtColumn(0).data(ID_ROLE)
        if forum_id:
            return ("calllist", forum_id)
    detail = getattr(getattr(view, "detail", None), "detail", None)
    if isinstance(detail, ForumDetail):
        return ("calllist", detail.forum_id)
    if isinstance(detail, RoutineDetail) and detail.forum_id:
        return ("calllist", detail.forum_id)
    return ("directory", None)


def build_job(service: Any, spec: PrintSpec):
    """The printout (a desktop.printing.PrintJob), read from the store: for a pool thread."""
    from desktop.printing import calllist_job, directory_job, journal_job

    kind, record_id = spec
    if kind == "calllist":
        return calllist_job(service, record_id)
    if kind == "journal":
        return journal_job(service, record_id)
    return directory_job(service)


def plaintext_warning() -> str:
    return tr("A PDF is not encrypted: anyone who gets the file can read every name and number in it.")


class Printing(QObject):
    """The window's printing: ``print_current`` (Ctrl+P) and ``save_pdf``."""

    def __init__(self, window: QWidget, service: Any, data_dir: Path | None) -> None:
        super().__init__(window)
        self.window = window
        self.service = service
        self.data_dir = data_dir
        self.preview = None  # the open QPrintPreviewDialog
        self.file_dialog: QFileDialog | None = None
        self.job = None  # the printout shown or saved last
        self.written: Path | None = None  # the last PDF written

    def _build(self, spec: PrintSpec | None, then: Callable[[Any], None]) -> None:
        if spec is None:
            bridge().report_info(tr("Nothing to print here: choose a forum (Ctrl+3) or an activation (Ctrl+5)."))
            return
        service = self.service
        bridge().report_info(tr("Preparing the printout …"))
        QueryOp(lambda: build_job(service, spec), success=then, parent=self).run()

    def print_current(self, spec: PrintSpec | None) -> None:
        """Ctrl+P: the print preview of what the view shows (print to paper from it, or save a PDF)."""
        self._build(spec, self.show_preview)

    def show_preview(self, job) -> None:
        from PySide6.QtPrintSupport import QPrintPreviewDialog, QPrinter

        from desktop.printing.pages import paint

        self.job = job
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(job.title)
        dialog = QPrintPreviewDialog(printer, self.window)
        dialog.setObjectName("printPreview")
        dialog.setWindowTitle(tr("Print preview – {title}", title=job.title))
        dialog.paintRequested.connect(lambda device: paint(job, device))
        toolbar = dialog.findChild(QToolBar)
        pdf = QAction(tr("Save as PDF …"), dialog)
        pdf.setObjectName("previewSavePdf")
        pdf.setToolTip(plaintext_warning())
        pdf.triggered.connect(lambda: self.choose_pdf(job))
        if toolbar is not None:
            toolbar.addSeparator()
            toolbar.addAction(pdf)
        dialog.addAction(pdf)
        pdf.setShortcut("Ctrl+S")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        focus = QApplication.focusWidget()
        dialog.finished.connect(lambda _result: self._closed("preview", focus))
        dialog.resize(900, 1000)
        self.preview = dialog
        dialog.open()

    def _closed(self, which: str, focus: QWidget | None) -> None:
        """A dialog closed: the window active again, the focus where it was."""
        import shiboken6

        setattr(self, which, None)
        if self.preview is None and self.file_dialog is None:
            self.window.activateWindow()
            if focus is not None and shiboken6.isValid(focus) and focus.isVisible():
                focus.setFocus(Qt.FocusReason.PopupFocusReason)

    def save_pdf(self, spec: PrintSpec | None) -> None:
        """"Spara som PDF" without the preview."""
        self._build(spec, self.choose_pdf)

    def choose_pdf(self, job) -> None:
        self.job = job
        dialog = QFileDialog(self.preview or self.window, tr("Save as PDF – not encrypted"))
        dialog.setObjectName("pdfFileDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)  # the same dialog (and words) everywhere
        dialog.setNameFilter(tr("PDF files (*.pdf)"))
        dialog.setDefaultSuffix("pdf")
        dialog.setLabelText(QFileDialog.DialogLabel.Accept, tr("Save"))
        dialog.setDirectory(str(start_folder(self.data_dir)))  # never the current directory (files.py)
        dialog.selectFile(_file_name(job.title) + ".pdf")
        dialog.fileSelected.connect(lambda name: self.write_pdf(job, Path(name)))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        focus = QApplication.focusWidget()
        dialog.finished.connect(lambda _result: self._closed("file_dialog", focus))
        self.file_dialog = dialog
        bridge().report_info(plaintext_warning())
        dialog.open()

    def write_pdf(self, job, path: Path) -> None:
        if self.data_dir is not None and inside(path, self.data_dir):
            box = QMessageBox(QMessageBox.Icon.Warning, tr("Save as PDF"), tr(
                "A PDF is not encrypted, so it is not written inside the data folder {folder}, beside the "
                "vault. Choose another folder.", folder=self.data_dir), QMessageBox.StandardButton.Ok,
                self.preview or self.window)
            box.setObjectName("pdfRefused")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            self.refusal = box
            return
        from desktop.printing.pages import write_pdf

        def done(pages: int) -> None:
            remember(path)
            self.written = path
            bridge().report_info(tr("Saved {path} ({pages} pages). The PDF is not encrypted: keep it safe, and "
                                    "delete it when it is no longer needed.", path=path, pages=pages))

        QueryOp(lambda: write_pdf(job, path), success=done, parent=self).run()


def _file_name(title: str) -> str:
    """A file name from a printout's title: "Utlarmningslista Samverkanskonferens"."""
    kept = "".join(c if c.isalnum() or c in " -_" else " " for c in title)
    return " ".join(kept.split())[:80] or "Samverka"
