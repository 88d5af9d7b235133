"""Laying a PrintJob out on paper with Qt: QTextDocument pages, each with title, print date, freshness, page number, exercise mark.

``build_document(job, device)`` is the QTextDocument of the body (what a print preview
shows); ``paint(job, device)`` draws every page on any paged device — a ``QPdfWriter`` for a
PDF, a ``QPrinter`` for paper or a ``QPrintPreviewDialog``'s printer — and returns the page
count; ``write_pdf`` does it to a file. A ``QGuiApplication`` is enough (no window), and the
offscreen platform works headless: ``ensure_application``.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPagedPaintDevice,
    QPainter,
    QPdfWriter,
    QTextDocument,
)

from desktop.printing.documents import PrintJob

PDF_RESOLUTION = 300  # dots per inch of the PDF's coordinates (text stays vector text)
BODY_POINTS = 9.0
MARGINS_MM = QMarginsF(15, 14, 15, 14)
_application: QGuiApplication | None = None


def ensure_application() -> QGuiApplication:
    """The running Qt application, or a new QGuiApplication for printing without a window
    (offscreen unless QT_QPA_PLATFORM says otherwise)."""
    global _application
    existing = QGuiApplication.instance()
    if existing is not None:
        return existing  # type: ignore[return-value]
    arguments = ["samverka"]
    if not os.environ.get("QT_QPA_PLATFORM"):
        arguments += ["-platform", "offscreen"]
    _application = QGuiApplication(arguments)
    return _application


def _font(points: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(points)
    font.setBold(bold)
    return font


def build_document(job: PrintJob, device: QPagedPaintDevice | None = None, width: float | None = None) -> QTextDocument:
    """The body of ``job`` as a QTextDocument, laid out for ``device`` (its resolution) and
    the given text width in device pixels (the page's paintable width when omitted)."""
    document = QTextDocument()
    if device is not None:
        document.documentLayout().setPaintDevice(device)
    document.setDefaultFont(_font(BODY_POINTS))
    document.setDocumentMargin(0)
    document.setHtml(job.html)
    if device is not None:
        rect = device.pageLayout().paintRectPixels(device.resolution())
        document.setTextWidth(width or rect.width())
    return document


def _band_heights(device: QPagedPaintDevice) -> tuple[float, float]:
    header = QFontMetricsF(_font(8.5, True), device).height()
    return header * 2.6, header * 1.8


def paint(job: PrintJob, device: QPagedPaintDevice) -> int:
    """Draw every page of ``job`` on ``device``; returns the number of pages."""
    device.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     MARGINS_MM, QPageLayout.Unit.Millimeter))
    rect = device.pageLayout().paintRectPixels(device.resolution())
    width, height = float(rect.width()), float(rect.height())
    header, footer = _band_heights(device)
    body = height - header - footer
    document = build_document(job, device, width)
    document.setPageSize(QSizeF(width, body))
    pages = max(1, document.pageCount())
    painter = QPainter()
    if not painter.begin(device):
        raise OSError("the printer or PDF file could not be opened for writing")
    try:
        for page in range(pages):
            if page:
                device.newPage()
            _decorate(painter, job, page + 1, pages, width, height, header, footer)
            painter.save()
            painter.translate(0, header - page * body)
            document.drawContents(painter, QRectF(0, page * body, width, body))
            painter.restore()
    finally:
        painter.end()
    return pages


def _decorate(painter: QPainter, job: PrintJob, page: int, pages: int, width: float, height: float,
              header: float, footer: float) -> None:
    """Title, print date, freshness and page number; the exercise mark for an exercise."""
    line = QFontMetricsF(_font(8.5), painter.device()).height()
    painter.setPen(QColor("#000000"))
    painter.setFont(_font(8.5, True))
    painter.drawText(QRectF(0, 0, width * 0.62, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, job.title)
    painter.setFont(_font(8.5))
    painter.drawText(QRectF(width * 0.38, 0, width * 0.62, line), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, job.printed)
    painter.drawText(QRectF(width * 0.38, line, width * 0.62, line), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, job.freshness)
    painter.drawLine(QPointF(0, header - line * 0.4), QPointF(width, header - line * 0.4))
    painter.drawLine(QPointF(0, height - footer + line * 0.4), QPointF(width, height - footer + line * 0.4))
    painter.drawText(QRectF(0, height - line, width, line), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, job.page_text(page, pages))
    painter.drawText(QRectF(0, height - line, width * 0.6, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "Samverka")
    if job.exercise:
        painter.setFont(_font(10, True))
        painter.drawText(QRectF(0, line, width * 0.5, line * 1.3), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, job.exercise_mark)
        painter.drawText(QRectF(width * 0.3, height - line, width * 0.4, line), Qt.AlignmentFlag.AlignCenter, job.exercise_mark)
        painter.save()  # a faint diagonal mark across the page as well (the words above carry it)
        painter.setPen(QColor(0, 0, 0, 28))
        painter.setFont(_font(64, True))
        painter.translate(width / 2, height / 2)
        painter.rotate(-35)
        painter.drawText(QRectF(-width, -height / 8, 2 * width, height / 4), Qt.AlignmentFlag.AlignCenter, job.exercise_mark)
        painter.restore()


def write_pdf(job: PrintJob, path: Path | str) -> int:
    """Write ``job`` as a PDF file; returns the number of pages."""
    ensure_application()
    target = Path(path)
    writer = QPdfWriter(str(target))
    writer.setResolution(PDF_RESOLUTION)
    writer.setTitle(job.title)
    writer.setCreator("Samverka")
    pages = paint(job, writer)
    del writer  # the file is complete when the writer is gone
    return pages
