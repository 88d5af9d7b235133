"""Wiring of the desktop window: the application session (store, sync engine, scheduler, closed in order), first-run state, and the window's life: wizard or unlock → main window → lock.

Two halves:
- Qt-free (safe on a worker thread): ``AppSession`` opens a vault's store with its sync engine
  and, when enrolled, a scheduler, and closes them scheduler → engine → store; ``FirstRun`` is
  what the first-run wizard does (create the vault, make the recovery key, enroll or load the
  demo), each step leaving a mark in the encrypted store so that a run killed half-way is
  finished by the next start (``remaining_setup``).
- ``Application`` (Qt) decides which window shows, owns the settings, theme and translators,
  locks after the idle time or on Ctrl+L (the main window and everything it read is thrown
  away, the session closed), and rebuilds the window when the language changes.

Heavy modules (SQLAlchemy, the store, the sync engine) are imported on a worker thread while
the first window is built, so the unlock window appears as fast as Qt allows.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.i18n import set_language, tr
from desktop.profile import Profile

log = logging.getLogger(__name__)

SETUP_META = "ui.first_run"  # the first-run wizard's progress, kept in the encrypted store
STEP_RECOVERY = "recovery"
STEP_CONNECT = "connect"
SETUP_DONE = "done"


def choose_kdf():
    """Calibrated key derivation (~0.5 s here); OWASP's minimum under ``SAMVERKA_FAST_KDF=1``
    (tests start the window many times; the minimum is still OWASP's floor)."""
    from desktop.vault import KdfParams, calibrate_kdf

    if os.environ.get("SAMVERKA_FAST_KDF") == "1":
        return KdfParams.minimum()
    return calibrate_kdf()


_prewarm: threading.Thread | None = None


def prewarm_imports() -> threading.Thread:
    """Import what unlocking needs on a side thread while the person types the passphrase and
    while the key is derived (Argon2id lets this thread run meanwhile), once per process."""
    global _prewarm
    if _prewarm is not None:
        return _prewarm

    def work() -> None:
        try:
            import desktop.store  # noqa: F401 — what unlocking needs once the key is derived, first
            import desktop.syncer.engine  # noqa: F401
            import desktop.ui.mainwindow  # noqa: F401 — then the main window's modules
        except Exception:  # the real import on the unlock path will say what is wrong
            log.debug("prewarm import failed", exc_info=True)

    _prewarm = threading.Thread(target=work, name="samverka-prewarm", daemon=True)
    _prewarm.start()
    return _prewarm


# --- the session --------------------------------------------------------------------------


@dataclass
class AppSession:
    """One unlocked vault for the window: store, sync engine and (when enrolled) scheduler."""

    data_dir: Path
    vault: Any
    store: Any
    engine: Any
    scheduler: Any = None
    enrolled: bool = False
    organisation_name: str | None = None
    demo: bool = False
    _closed: bool = field(default=False, repr=False)

    @classmethod
    def attach(cls, data_dir: Path, opened: Any) -> AppSession:
        """Wrap a ``desktop.session.Session`` (vault + store) with its sync engine."""
        from desktop.syncer import engine as E

        store = opened.store
        try:
            # The window's engine pulls pages of 2,000 also from scratch: decoding a page holds
            # the interpreter, and a 5,000-record page (the command line's first download)
            # stood the event loop still ~15 ms longer under load (tests/ui/test_window_sync.py).
            engine = E.SyncEngine(store, pull_limit=E.PULL_LIMIT_CATCHING_UP)
            enrolled = bool(store.get_meta(E.META_DEVICE_ID))
            organisation = store.get_meta(E.META_ORGANISATION_NAME) if enrolled else None
            demo = bool(store.get_meta("demo"))
        except BaseException:
            store.close()
            raise
        return cls(data_dir, opened.vault, store, engine, None, enrolled, organisation, demo)

    @classmethod
    def unlock(cls, data_dir: Path, passphrase: str) -> AppSession:
        """Key derivation and opening the store: slow, for a worker thread."""
        from desktop import session as sessions

        return cls.attach(data_dir, sessions.unlock_session(data_dir, passphrase))

    @classmethod
    def recover(cls, data_dir: Path, recovery_key: str, new_passphrase: str) -> AppSession:
        """Forgotten passphrase: the recovery key opens the vault and sets a new passphrase, and
        the database gets a new key (an old copy of the slot file no longer opens it)."""
        from desktop import session as sessions

        opened = sessions.unlock_session_with_recovery_key(data_dir, recovery_key)
        try:
            opened.reset_passphrase(recovery_key, new_passphrase, kdf=choose_kdf())
        except BaseException:
            opened.close()
            raise
        return cls.attach(data_dir, opened)

    def refresh_enrollment(self) -> None:
        from desktop.syncer import engine as E

        self.enrolled = bool(self.store.get_meta(E.META_DEVICE_ID))
        self.organisation_name = self.store.get_meta(E.META_ORGANISATION_NAME) if self.enrolled else None
        self.demo = bool(self.store.get_meta("demo"))

    def start_sync(self, interval_seconds: float) -> None:
        """Enrolled: sync now and then every ``interval_seconds`` on the scheduler's thread."""
        if not self.enrolled or self.scheduler is not None or self._closed:
            return
        from desktop.syncer.scheduler import SyncScheduler

        self.scheduler = SyncScheduler(self.engine, interval=interval_seconds)
        self.scheduler.start(sync_first=True)

    def close(self) -> None:
        """Scheduler (a sync in progress ends its current request), engine, store — in that
        order, so that nothing writes to a closed store. Blocks: call it off the GUI thread."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.scheduler is not None:
                if not self.scheduler.stop(timeout=30.0):
                    log.warning("the sync thread did not stop within 30 s")
        finally:
            try:
                self.engine.close()
            finally:
                self.store.close()


# --- first run ----------------------------------------------------------------------------


def remaining_setup(marker: str | None, *, enrolled: bool, demo: bool, has_recovery_slot: bool) -> tuple[str, ...]:
    """The wizard steps still to do after an unlock.

    ``marker`` is the store's SETUP_META (None in a vault made before the window existed or
    killed right after it was created). A vault with data or a server is set up; otherwise the
    recovery key is made again when the wizard had got that far (the one shown may not have
    been written down), and the choice of server or demo always remains.
    """
    if marker == SETUP_DONE or enrolled or demo:
        return ()
    steps = []
    if marker == STEP_RECOVERY or (marker is None and not has_recovery_slot):
        steps.append(STEP_RECOVERY)
    steps.append(STEP_CONNECT)
    return tuple(steps)


def session_setup_steps(session: AppSession) -> tuple[str, ...]:
    from desktop.vault.vault import RECOVERY

    return remaining_setup(
        session.store.get_meta(SETUP_META),
        enrolled=session.enrolled,
        demo=session.demo,
        has_recovery_slot=any(slot.kind == RECOVERY for slot in session.vault.slots()),
    )


class FirstRun:
    """What the wizard does, step by step; every method is slow and runs on a worker thread."""

    def __init__(self, data_dir: Path, profile: Profile | None = None) -> None:
        self.data_dir = data_dir
        self.profile = profile
        self.session: AppSession | None = None
        self.passphrase: str | None = None

    def create(self, passphrase: str) -> AppSession:
        from desktop import session as sessions
        from desktop.vault import Vault

        Vault.ensure_absent(self.data_dir)
        opened = sessions.create_session(self.data_dir, passphrase, kdf=choose_kdf())
        opened.store.set_meta(SETUP_META, STEP_RECOVERY)
        self.session = AppSession.attach(self.data_dir, opened)
        self.passphrase = passphrase
        return self.session

    def resume(self, session: AppSession, passphrase: str) -> None:
        self.session = session
        self.passphrase = passphrase

    def make_recovery_key(self) -> str:
        """A new recovery key, shown once (it replaces one made by an interrupted run)."""
        assert self.session is not None and self.passphrase is not None
        self.session.store.set_meta(SETUP_META, STEP_RECOVERY)
        return self.session.vault.add_recovery_key(self.passphrase, rekey=self.session.store.rekey)

    def recovery_noted(self) -> None:
        assert self.session is not None
        self.session.store.set_meta(SETUP_META, STEP_CONNECT)

    def skip_recovery(self) -> None:
        """No recovery key after all: remove the slot the page made, so none exists unseen."""
        from desktop.vault.vault import RECOVERY

        assert self.session is not None and self.passphrase is not None
        vault = self.session.vault
        for slot in vault.slots():
            if slot.kind == RECOVERY:
                vault.remove_slot(self.passphrase, slot.id)
        self.session.store.set_meta(SETUP_META, STEP_CONNECT)

    def enroll(self, server_url: str, code: str, *, ca_file: str | None = None, ca_pem: str | None = None):
        """Join the organisation's server. A CA given as PEM text (from the profile) is handed
        to the enrollment as a private temporary file, removed afterwards (the PEM itself is
        kept in the encrypted store, as for a CA file)."""
        from desktop.syncer.enroll import enroll

        assert self.session is not None
        store = self.session.store
        temporary: Path | None = None
        try:
            if ca_pem and not ca_file:
                handle, name = tempfile.mkstemp(prefix=".profile-ca-", suffix=".pem", dir=self.data_dir)
                with os.fdopen(handle, "w", encoding="ascii") as out:
                    out.write(ca_pem)
                temporary = Path(name)
                ca_file = name
            enrolled = enroll(store, server_url, code, ca_file=ca_file)
        finally:
            if temporary is not None:
                temporary.unlink(missing_ok=True)
        store.set_meta(SETUP_META, SETUP_DONE)
        self.session.refresh_enrollment()
        return enrolled

    def start_demo(self) -> dict[str, int]:
        from desktop.store.demo import load_demo

        assert self.session is not None
        counts = load_demo(self.session.store)
        self.session.store.set_meta(SETUP_META, SETUP_DONE)
        self.session.refresh_enrollment()
        return counts


# --- the application (Qt) -------------------------------------------------------------------


def _qt_translations_dir() -> str:
    from PySide6.QtCore import QLibraryInfo

    return QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)


class Application:
    """Which window shows, and the session behind it. One per process."""

    def __init__(self, qapp, data_dir: Path, *, profile: Profile | None = None, lang: str | None = None,
                 settings_path: Path | None = None) -> None:
        from PySide6.QtCore import QTranslator

        from desktop.ui import settings as settings_mod

        self.qapp = qapp
        self.data_dir = data_dir
        self.profile = profile
        self.settings_path = settings_path or settings_mod.settings_path()
        self.settings = settings_mod.load_settings(self.settings_path, profile)
        if lang:
            set_language(lang)
        elif self.settings.language and not os.environ.get("SAMVERKA_LANG"):
            set_language(self.settings.language)
        self._qt_translator = QTranslator(qapp)
        self._install_translator()
        self.session: AppSession | None = None
        self.main = None
        self.unlock_window = None
        self.wizard = None
        self._closing = threading.Event()
        self._closing.set()  # nothing is closing
        self._opened: list[AppSession] = []  # every session opened, to close at exit
        self._idle = None
        self._network = None
        self.apply_theme()
        hints = qapp.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(lambda _scheme: self.apply_theme() if self.settings.theme == "system" else None)

    # --- language, theme, settings --------------------------------------------------------

    def _install_translator(self) -> None:
        from desktop.i18n import language

        self.qapp.removeTranslator(self._qt_translator)
        if language() == "sv" and self._qt_translator.load("qtbase_sv", _qt_translations_dir()):
            self.qapp.installTranslator(self._qt_translator)

    def apply_theme(self) -> None:
        from desktop.ui import theme

        theme.apply(self.qapp, theme.resolve(self.settings.theme))

    def save_settings(self) -> None:
        from desktop.ui import settings as settings_mod

        try:
            settings_mod.save_settings(self.settings, self.settings_path)
        except OSError as error:
            log.warning("settings not saved: %s", error.strerror)

    def change_settings(self, new) -> None:
        from dataclasses import replace

        old, self.settings = self.settings, replace(new, window_geometry=self.settings.window_geometry)
        self.save_settings()
        if new.theme != old.theme:
            self.apply_theme()
            if self.main is not None:
                self.main.refresh_views()
        if self._idle is not None:
            self._idle.set_minutes(new.auto_lock_minutes)
        if new.language != old.language:
            set_language(new.language)
            self._install_translator()
            self.rebuild_windows()

    def choose_theme(self, choice: str) -> None:
        from dataclasses import replace

        self.change_settings(replace(self.settings, theme=choice))

    # --- windows --------------------------------------------------------------------------

    def start(self) -> None:
        from PySide6.QtCore import QTimer

        from desktop.vault import Vault

        if Vault.exists(self.data_dir):
            self.show_unlock()
        else:
            self.show_wizard()
        # The store's imports (~0.5–1 s of SQLAlchemy, Alembic, SQLCipher here) start once the
        # first window is up, while the person types: started before it, they delayed that
        # window from 0.37 to 0.62 s (tests/perf/bench_window.py).
        QTimer.singleShot(0, prewarm_imports)

    def _position(self, window) -> None:
        geometry = self.settings.geometry()
        if geometry:
            window.restoreGeometry(geometry)

    def show_unlock(self) -> None:
        from desktop.ui.unlock import UnlockWindow

        closing = self._closing
        data_dir = self.data_dir

        opened = self._opened

        def unlock(passphrase: str) -> AppSession:
            closing.wait(60)  # a locked session finishes closing before the file is opened again
            session = AppSession.unlock(data_dir, passphrase)
            opened.append(session)
            return session

        def recover(recovery_key: str, new_passphrase: str) -> AppSession:
            closing.wait(60)
            session = AppSession.recover(data_dir, recovery_key, new_passphrase)
            opened.append(session)
            return session

        window = UnlockWindow(unlock, recover)
        window.unlocked.connect(self._unlocked)
        window.closed.connect(self._unlock_closed)
        self.unlock_window = window
        bring_to_front(window)

    def _unlock_closed(self) -> None:
        if self.session is None and self.main is None and self.wizard is None:
            self.qapp.quit()

    def _unlocked(self, session: AppSession, passphrase: str) -> None:
        from desktop.ui.ops import QueryOp

        window, self.unlock_window = self.unlock_window, None
        self.session = session

        def decided(steps: tuple[str, ...]) -> None:
            if window is not None:
                window.close_quietly()
            if steps:
                self.show_wizard(resume=(session, passphrase, steps))
            else:
                self.show_main()

        QueryOp(lambda: session_setup_steps(session), success=decided).failure(
            lambda error: (self._report(error), decided(()))
        ).run()

    def _report(self, error: BaseException) -> None:
        from desktop.ui.messages import bridge

        bridge().report_error(error)

    def show_wizard(self, resume: tuple[AppSession, str, tuple[str, ...]] | None = None) -> None:
        from desktop.ui.wizard import FirstRunWizard

        first_run = FirstRun(self.data_dir, self.profile)
        steps = None
        if resume is not None:
            session, passphrase, steps = resume
            first_run.resume(session, passphrase)
        wizard = FirstRunWizard(first_run, steps=steps)
        wizard.finishedSetup.connect(self._setup_finished)
        wizard.rejected.connect(self._wizard_cancelled)
        self.wizard = wizard
        bring_to_front(wizard)

    def _setup_finished(self, session: AppSession) -> None:
        self.wizard = None
        self.session = session
        self.show_main()

    def _wizard_cancelled(self) -> None:
        """Closed half-way: what was done stays (the next start goes on from there)."""
        first_run = self.wizard.first_run if self.wizard is not None else None
        self.wizard = None
        session = first_run.session if first_run is not None else self.session
        self.session = None
        if session is not None:
            session.close()
        self.qapp.quit()

    def show_main(self) -> None:
        from desktop.ui.autolock import IdleWatcher
        from desktop.ui.mainwindow import MainWindow

        session = self.session
        assert session is not None
        main = MainWindow(session, theme_choice=self.settings.theme)
        main.lockRequested.connect(self.lock)
        main.quitRequested.connect(self.quit)
        main.settingsRequested.connect(self.open_settings)
        main.themeChosen.connect(self.choose_theme)
        main.syncRequested.connect(self.sync_now)
        self._position(main)
        self.main = main
        bring_to_front(main)
        # What is alive now (Qt, SQLAlchemy, the window) lives as long as the window: keep it out
        # of the cyclic collector's full passes. Measured: a full collection over it took 93 ms on
        # the sync's pull thread in the middle of a sync, and the GUI thread waited for the GIL
        # all that time; frozen, full passes scan only what the sync itself allocates.
        gc.freeze()
        interval = self.profile.sync_interval_seconds if self.profile else 300
        session.start_sync(interval)
        if self._idle is None:
            self._idle = IdleWatcher(self.qapp, self.settings.auto_lock_minutes)
            self._idle.idle.connect(self.lock)
        self._idle.start()
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, self._watch_network)

    def rebuild_windows(self) -> None:
        """After a language change: the same session in a new window, the same view and search."""
        if self.main is not None:
            old = self.main
            view, text = old.current_view_key(), old.field.text()
            self._remember_geometry(old)
            old.detach()
            old.hide()
            old.deleteLater()
            self.main = None
            self.show_main()
            self.main.show_view(view, focus=False)
            self.main.field.setText(text)
        elif self.unlock_window is not None:
            old = self.unlock_window
            old.close_quietly()
            self.show_unlock()

    def open_settings(self) -> None:
        from PySide6.QtCore import Qt

        from desktop.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, self.settings_path, self.main)
        dialog.accepted.connect(lambda: self.change_settings(dialog.result_settings()))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.settings_dialog = dialog
        dialog.open()

    def sync_now(self) -> None:
        session = self.session
        if session is None or not session.enrolled:
            return
        if session.scheduler is None:
            session.start_sync(self.profile.sync_interval_seconds if self.profile else 300)
        else:
            session.scheduler.request_now()

    # --- network hint ---------------------------------------------------------------------

    def _watch_network(self) -> None:
        """The system's reachability as a hint; the engine's probe of /v1/health confirms."""
        if self._network is not None or self.session is None or not self.session.enrolled:
            return
        try:
            from PySide6.QtNetwork import QNetworkInformation
        except ImportError:
            return
        if not QNetworkInformation.loadBackendByFeatures(QNetworkInformation.Feature.Reachability):
            return
        info = QNetworkInformation.instance()
        if info is None:
            return
        self._network = info
        info.reachabilityChanged.connect(self._reachability_changed)

    def _reachability_changed(self, reachability) -> None:
        from PySide6.QtNetwork import QNetworkInformation

        from desktop.ui.ops import QueryOp

        session = self.session
        if session is None or session.scheduler is None:
            return
        online = reachability in (QNetworkInformation.Reachability.Online, QNetworkInformation.Reachability.Site)
        session.scheduler.connectivity_changed(online)
        if online and self.main is not None:
            engine = session.engine
            QueryOp(engine.probe, parent=self.main).failure(lambda _error: None).run()

    # --- locking and quitting ---------------------------------------------------------------

    def _remember_geometry(self, window) -> None:
        self.settings = self.settings.with_geometry(bytes(window.saveGeometry().data()))
        self.save_settings()

    def _drop_main(self) -> AppSession | None:
        main, self.main = self.main, None
        if main is not None:
            self._remember_geometry(main)
            main.detach()
            main.hide()
            main.deleteLater()
        for widget in self.qapp.topLevelWidgets():  # dialogs over it (palette, settings)
            if widget is not main and widget.isVisible() and widget is not self.unlock_window:
                widget.close()
        if self._idle is not None:
            self._idle.stop()
        session, self.session = self.session, None
        return session

    def lock(self) -> None:
        """Hide all data until unlocked: the window and its rows go, the store is closed."""
        if self.main is None:
            return
        session = self._drop_main()
        if session is not None:
            self._closing.clear()
            closing = self._closing

            def close() -> None:
                try:
                    session.close()
                finally:
                    closing.set()

            threading.Thread(target=close, name="samverka-lock", daemon=True).start()
        self.show_unlock()
        self.unlock_window.show_locked_notice()

    def quit(self) -> None:
        session = self._drop_main()
        if session is not None:
            session.close()
        self._closing.wait(60)
        self.qapp.quit()

    def shutdown(self) -> None:
        """At exit (the event loop has ended): close what is still open."""
        from desktop.ui.ops import wait_for_background_work

        self.qapp.removeTranslator(self._qt_translator)
        if self.main is not None or self.session is not None:
            session = self._drop_main() or self.session
            if session is not None:
                session.close()
        wait_for_background_work(10_000)
        self._closing.wait(60)
        if self.wizard is not None and self.wizard.first_run.session is not None:
            self._opened.append(self.wizard.first_run.session)
        for session in self._opened:  # unlocked while its window was closing, or left by the wizard
            session.close()


def bring_to_front(window) -> None:
    """Show, raise and focus a top-level window (where the platform can: offscreen cannot raise)."""
    from PySide6.QtGui import QGuiApplication

    window.show()
    if QGuiApplication.platformName() not in ("offscreen", "minimal"):
        window.raise_()
    window.activateWindow()


def display_available() -> bool:
    """Can a window open here? Always on Windows and macOS; elsewhere an X or Wayland display
    (or a Qt platform chosen by hand, e.g. offscreen)."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform.startswith(("win", "darwin")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(data_dir: Path, *, lang: str | None = None, profile: Profile | None = None) -> int:
    """Open the window and run until it is closed; the exit code."""
    from PySide6.QtWidgets import QApplication

    QApplication.setApplicationName("Samverka")
    QApplication.setOrganizationName("Samverka")
    QApplication.setApplicationDisplayName("Samverka")
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    application = Application(qapp, data_dir, profile=profile, lang=lang)
    application.start()
    try:
        return qapp.exec()
    finally:
        application.shutdown()


def no_display_message() -> str:
    return tr(
        "There is no display here (neither DISPLAY nor WAYLAND_DISPLAY is set), so the window "
        "cannot open. The command line works without one: samverka search TEXT, samverka show "
        "TEXT, samverka sync, samverka status — samverka --help lists every command."
    )
