"""Lists of thousands: 100,000 functions under one organisation in the directory, ids first and lines on demand, the event loop never standing still."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import PASSPHRASE
from tests.ui.test_window_sync import LoopWatch

pytestmark = [pytest.mark.gui, pytest.mark.slow]

FUNCTIONS = 100_000


@pytest.fixture(scope="module")
def big_template(tmp_path_factory) -> Path:
    """A vault whose first organisation has 100,000 functions (one channel each), written
    straight into the encrypted file: the store's own bulk path would take ~20 s here, and the
    directory reads only rows, not the search index."""
    from desktop import session as sessions
    from desktop.app import SETUP_DONE, SETUP_META
    from desktop.store.connection import raw_connect
    from desktop.vault import KdfParams

    folder = tmp_path_factory.mktemp("big") / "data"
    opened = sessions.create_session(folder, PASSPHRASE, kdf=KdfParams.minimum())
    org = opened.store.create("organisations", {"name": "Aktör med många funktioner", "kind": "agency"})
    opened.store.create("organisations", {"name": "Bara en till"})
    opened.store.set_meta(SETUP_META, SETUP_DONE)
    key = opened.vault.unlock(PASSPHRASE)
    opened.close()
    db = raw_connect(folder / "samverka.db", key)
    try:
        functions, channels = [], []
        for number in range(FUNCTIONS):
            fid = str(uuid.uuid4())
            functions.append((fid, "{}", 0, org, f"Funktion {number:06d} i beredskap"))
            channels.append((str(uuid.uuid4()), "{}", 0, fid, "mobile", f"+4670174{number % 100:02d}{number % 97:02d}", 1))
        db.execute("BEGIN")
        db.executemany("INSERT INTO functions (record_id, clocks, deleted, organisation_id, name) VALUES (?,?,?,?,?)", functions)
        db.executemany("INSERT INTO channels (record_id, clocks, deleted, function_id, kind, value, priority) VALUES (?,?,?,?,?,?,?)", channels)
        db.execute("COMMIT")
    finally:
        db.close()
    return folder


def test_a_hundred_thousand_functions_list_without_the_window_standing_still(start_app, big_template, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(big_template, data_dir)
    app = start_app(data_dir)
    app.unlock()
    app.key(Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    view = app.main.views["directory"]
    model, table = view.functions_model, view.functions
    app.qtbot.waitUntil(lambda: view.orgs.rowCount() == 2, timeout=20_000)
    with LoopWatch() as watch:
        view.organisations.setCurrentIndex(view.orgs.index(1))
        app.qtbot.waitUntil(lambda: model.rowCount() == 0)
        view.organisations.setCurrentIndex(view.orgs.index(0))  # the one with 100,000
        app.qtbot.waitUntil(lambda: model.rowCount() == FUNCTIONS, timeout=30_000)
        for _ in range(3):
            table.scrollToBottom()
            app.qtbot.wait(100)
            table.scrollToTop()
            app.qtbot.wait(100)
        view.focus_functions()
        table.setCurrentIndex(model.index(FUNCTIONS // 2, 0))
        for _ in range(20):
            app.key(Qt.Key.Key_PageDown)
            app.qtbot.wait(15)
        current = table.currentIndex()
        app.qtbot.waitUntil(lambda: current.data() not in (None, "…"), timeout=10_000)
    print(f"longest gap {watch.longest:.0f} ms, of it not waiting for a CPU {watch.longest_own:.0f} ms")
    assert watch.longest_own <= 50, f"the event loop stood still for {watch.longest_own:.0f} ms"
    assert current.data().startswith("Funktion 0") and "i beredskap" in current.data()
    assert model.cached_lines < 5_000, "only the lines that were painted were read"
    app.qtbot.waitUntil(lambda: view.detail.detail is not None and view.detail.detail.function_id == current.data(Qt.ItemDataRole.UserRole + 1), timeout=10_000)
    assert view.detail.detail.channels[0].shown.startswith("070-174")
