"""Child process for the killed-wizard test: the real Application, its wizard driven to a page, then waiting to be killed.

Prints ``KEY <recovery key>`` when the key is shown and ``READY`` when it has reached the
stage asked for ("recovery": the key is on screen, not yet noted; "connect": noted, on the last
page), then idles until the parent kills it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("SAMVERKA_FAST_KDF", "1")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.app import Application  # noqa: E402

PASSPHRASE = "korrekt häst batteri"


def main() -> None:
    data_dir, stage = Path(sys.argv[1]), sys.argv[2]
    qapp = QApplication(sys.argv[:1])
    application = Application(qapp, data_dir, settings_path=data_dir.parent / "settings.json")
    application.start()
    reported = set()

    def say(line: str) -> None:
        print(line, flush=True)

    def step() -> None:
        wizard = application.wizard
        page = wizard.currentPage()
        name = page.objectName()
        if name == "passphrasePage" and "typed" not in reported:
            page.fields.first.setText(PASSPHRASE)
            page.fields.second.setText(PASSPHRASE)
            reported.add("typed")
            wizard.next()
        elif name == "recoveryPage" and page.recovery_key and "key" not in reported:
            reported.add("key")
            say(f"KEY {page.recovery_key}")
            if stage == "recovery":
                say("READY")
            else:
                page.noted.setChecked(True)
                wizard.next()
        elif name == "connectPage" and stage == "connect" and "ready" not in reported:
            reported.add("ready")
            say("READY")

    timer = QTimer()
    timer.timeout.connect(step)
    timer.start(50)
    qapp.exec()


if __name__ == "__main__":
    main()
