"""An organisation's program icon when it has none of its own: its initials on a colour of its own, drawn with Qt, written as .ico (PNG images inside) and .png.

installer/build.py makes one per build (``--icon FILE`` takes the organisation's own .ico
instead); the Windows executable and the Inno Setup installer show it, so that two
organisations' Samverka on one computer are told apart.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256)


def initials(name: str) -> str:
    words = [word for word in name.replace("-", " ").split() if word[:1].isalnum()]
    return "".join(word[0] for word in words[:2]).upper() or "S"


def colour(organisation_id: str) -> tuple[int, int, int]:
    """A stable colour (hue, saturation, lightness 0–255), dark enough for white letters, from
    the organisation's id."""
    digest = hashlib.sha256(organisation_id.encode("utf-8")).digest()
    return digest[0] * 359 // 255, 140, 87


def _png(size: int, text: str, fill: tuple[int, int, int]) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter

    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor.fromHsl(*fill))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(QRectF(0, 0, size, size), size * 0.2, size * 0.2)
    font = QFont("DejaVu Sans")
    font.setBold(True)
    font.setPixelSize(max(7, int(size * (0.46 if len(text) > 1 else 0.6))))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def write_icon(name: str, organisation_id: str, folder: Path) -> tuple[Path, Path]:
    """``folder/samverka.ico`` (every size in SIZES) and ``folder/samverka.png`` (256 px)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication([])
    text, fill = initials(name), colour(organisation_id)
    images = [(size, _png(size, text, fill)) for size in SIZES]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, blobs = b"", b""
    for size, png in images:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), offset + len(blobs))
        blobs += png
    folder.mkdir(parents=True, exist_ok=True)
    ico, png_path = folder / "samverka.ico", folder / "samverka.png"
    ico.write_bytes(header + entries + blobs)
    png_path.write_bytes(images[-1][1])
    return ico, png_path
