"""Fixtures for the window's tests: real vaults (OWASP-minimum KDF), the real Application offscreen, keys through qtbot.

A vault with the demo region is made once per module and copied for each test that changes it
(copying two files is faster than a key derivation and a demo load). Settings go to a folder of
the test's own; the language is reset after each test.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "syncer"))

PASSPHRASE = "korrekt häst batteri"


@pytest.fixture
def documents(tmp_path_factory) -> Path:
    """The folder the window's file dialogs open in during a test (beside tmp_path, which some
    tests expect to hold only what the program made)."""
    return tmp_path_factory.mktemp("documents")


@pytest.fixture(autouse=True)
def _window_environment(monkeypatch, tmp_path: Path, documents: Path):
    from desktop.i18n import set_language

    monkeypatch.setenv("SAMVERKA_FAST_KDF", "1")
    monkeypatch.setenv("SAMVERKA_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("SAMVERKA_LANG", raising=False)
    # the window's file dialogs open in the test's own documents folder (a quick Enter in a
    # test must never write into the checkout or the real home folder)
    from desktop.ui import files

    monkeypatch.setattr(files, "_last", documents)
    set_language(None)
    yield
    set_language(None)


def make_vault(data_dir: Path, *, demo: bool = True, recovery: bool = False) -> str | None:
    """A vault in ``data_dir`` with the OWASP-minimum KDF; returns the recovery key if made."""
    from desktop import session as sessions
    from desktop.app import SETUP_DONE, SETUP_META
    from desktop.store.demo import load_demo
    from desktop.vault import KdfParams

    opened = sessions.create_session(data_dir, PASSPHRASE, kdf=KdfParams.minimum())
    try:
        if demo:
            load_demo(opened.store)
        opened.store.set_meta(SETUP_META, SETUP_DONE)
        key = opened.new_recovery_key(PASSPHRASE) if recovery else None
    finally:
        opened.close()
    return key


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("demo-vault") / "data"
    key = make_vault(folder, recovery=True)
    return folder, key


@pytest.fixture
def demo_dir(demo_template, tmp_path: Path) -> Path:
    """A fresh copy of the module's demo vault."""
    source, _key = demo_template
    target = tmp_path / "data"
    shutil.copytree(source, target)
    return target


@pytest.fixture
def recovery_key(demo_template) -> str:
    return demo_template[1]


class Running:
    """The Application under test and helpers to reach its windows."""

    def __init__(self, application, qtbot) -> None:
        self.application = application
        self.qtbot = qtbot

    @property
    def main(self):
        return self.application.main

    @property
    def unlock_window(self):
        return self.application.unlock_window

    def unlock(self, passphrase: str = PASSPHRASE) -> None:
        from PySide6.QtCore import Qt

        window = self.unlock_window
        self.qtbot.waitUntil(lambda: window.passphrase.hasFocus())
        self.type(passphrase)
        self.qtbot.keyClick(window.passphrase, Qt.Key.Key_Return)
        self.qtbot.waitUntil(lambda: self.main is not None and self.main.field.hasFocus(), timeout=20_000)

    def type(self, text: str) -> None:
        """Key presses into whatever has focus, as a person would type them (QTest knows only
        ASCII keys; å, ä, ö go as the key events a Swedish keyboard sends)."""
        from PySide6.QtCore import QEvent, Qt
        from PySide6.QtGui import QKeyEvent
        from PySide6.QtWidgets import QApplication

        for character in text:
            target = focused_widget()
            if character.isascii():
                self.qtbot.keyClicks(target, character)
                continue
            key = {"å": Qt.Key.Key_Aring, "ä": Qt.Key.Key_Adiaeresis, "ö": Qt.Key.Key_Odiaeresis}.get(
                character.lower(), Qt.Key.Key_unknown)
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(target, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, character))

    def key(self, key, modifier=None) -> None:
        from PySide6.QtCore import Qt

        self.qtbot.keyClick(focused_widget(), key, modifier or Qt.KeyboardModifier.NoModifier)


def focused_widget():
    """The widget with the keyboard focus; a test that types with no focus fails (QTest would
    abort the whole run)."""
    from PySide6.QtWidgets import QApplication

    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus (the window is not active)"
    return widget


@pytest.fixture
def start_app(qtbot, tmp_path: Path):
    """``start_app(data_dir)`` → Running; everything it opened is closed afterwards."""
    from desktop.app import Application
    from desktop.ui.ops import wait_for_background_work

    started = []

    def start(data_dir: Path, **kwargs) -> Running:
        from PySide6.QtWidgets import QApplication

        application = Application(QApplication.instance(), data_dir,
                                  settings_path=tmp_path / "config" / "settings.json", **kwargs)
        application.qapp.quit = lambda: None  # the tests run no event loop of the app's own
        application.start()
        started.append(application)
        return Running(application, qtbot)

    yield start
    from PySide6.QtWidgets import QApplication

    for application in started:
        application.shutdown()
    wait_for_background_work()
    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QApplication.processEvents()


@pytest.fixture
def running(start_app, demo_dir) -> Running:
    """The demo vault, unlocked, its main window showing."""
    app = start_app(demo_dir)
    app.unlock()
    return app


class SlowASGI:
    """Wraps the server's ASGI app: every HTTP request waits ``delay`` seconds before it is
    served (a server far away, or busy), the answer itself unchanged."""

    def __init__(self, app, delay: float) -> None:
        self.app = app
        self.delay = delay

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        await self.app(scope, receive, send)


@pytest.fixture
def sync_server(tmp_path: Path):
    """``sync_server(delay=0.0, preload=0)`` → a real server (uvicorn on loopback, SQLite) with
    three organisations; ``preload`` functions (with a channel each) of SOS Alarm on it."""
    from syncer_helpers import ServerThread, SyncServer, prepare_server_db, preload_records

    from sync.server.app import create_app
    from sync.server.config import Settings

    started = []

    def make(*, delay: float = 0.0, preload: int = 0) -> SyncServer:
        db_url, sessions, org_ids = prepare_server_db(tmp_path / f"server{len(started)}.db")
        if preload:
            preload_records(sessions, org_ids["sos"], org_ids["sos"], preload)
        thread = ServerThread(SlowASGI(create_app(Settings(db_url=db_url)), delay)).start()
        started.append(thread)
        return SyncServer(thread.url, db_url, sessions, org_ids, thread)

    yield make
    for thread in started:
        thread.stop()


def enrolled_vault(data_dir: Path, server, org: str = "sos") -> None:
    """A vault in ``data_dir`` enrolled with ``server`` for ``org``, set up, never synced."""
    from desktop import session as sessions
    from desktop.app import SETUP_DONE, SETUP_META
    from desktop.syncer.enroll import enroll
    from desktop.vault import KdfParams

    opened = sessions.create_session(data_dir, PASSPHRASE, kdf=KdfParams.minimum())
    try:
        enroll(opened.store, server.url, server.code(org, "member"), device_name="test")
        opened.store.set_meta(SETUP_META, SETUP_DONE)
    finally:
        opened.close()
