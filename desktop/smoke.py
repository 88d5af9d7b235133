"""``samverka --smoke-test``: does this installation work? The real program, offscreen, through its first run, a lock and an unlock, and a search.

installer/build.py runs it on every frozen build and fails the build on a non-zero exit or on
any stderr line it does not expect; IT staff can run it on an installed computer. Step by step,
each with one line on stdout:

1. the profile this start uses (the build's baked one, or ``SAMVERKA_PROFILE``), checked
   against the schema, and its CA parsed and loaded into a TLS context;
2. the message catalog and Qt's own Swedish translations (``qtbase_sv.qm``);
3. the first-run wizard, offscreen, with the server address and the CA preset from the profile
   (and the organisation named beside the CA);
4. a temporary vault made through the wizard's own steps (OWASP-minimum key derivation, so the
   test takes seconds), the demo region loaded, the main window shown;
5. the window locked (the store closed) and unlocked again with the passphrase;
6. a search typed into the main window's field, answered.

Nothing is kept: the vault and the settings live in a temporary folder removed at the end, and
the user's own data and settings folders are not touched. Exit 0 when every step passed, 1 with
the failed step and the reason on stderr.
"""

from __future__ import annotations

import importlib
import os
import secrets
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from desktop.i18n import tr
from desktop.version import build_info, program_version

EXIT_FAILED = 1
STEP_SECONDS = 60.0  # a step that takes longer than this is broken, not slow
QUERY = "tib sos"
# Imported at their first use, not at start (tests/test_lazy_imports.py): a build must hold them.
LATER_IMPORTS = ("requests", "phonenumbers", "rapidfuzz.process", "rapidfuzz.distance")


class SmokeFailure(Exception):
    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


def _say(text: str) -> None:
    print(text, flush=True)


def _wait(condition: Callable[[], bool], seconds: float = STEP_SECONDS) -> bool:
    """Run the event loop until ``condition()`` holds or ``seconds`` have passed."""
    from PySide6.QtCore import QEventLoop, QTimer

    if condition():
        return True
    loop = QEventLoop()
    deadline = time.monotonic() + seconds

    def check() -> None:
        if condition() or time.monotonic() > deadline:
            loop.quit()

    poll = QTimer()
    poll.setInterval(10)
    poll.timeout.connect(check)
    poll.start()
    loop.exec()
    poll.stop()
    return condition()


def check_profile() -> Any:
    import ssl

    from desktop.profile import ProfileError, parse_certificates, startup_profile

    step = tr("profile")
    try:
        profile = startup_profile()
    except ProfileError as error:
        raise SmokeFailure(step, str(error)) from None
    if profile is None:
        _say(tr("  profile: none (standalone, the demo region offered)"))
        return None
    _say(tr("  profile: {organisation} — server {server}, language {language}, auto-lock {minutes} min, sync every {seconds} s",
            organisation=profile.organisation_name, server=profile.server_url, language=profile.language or "-",
            minutes=profile.auto_lock_minutes, seconds=profile.sync_interval_seconds))
    if profile.ca_pem:
        certificates = parse_certificates(profile.ca_pem)
        try:
            ssl.create_default_context(cadata=profile.ca_pem)
        except ssl.SSLError as error:
            raise SmokeFailure(tr("CA certificate"), str(error)) from None
        for certificate in certificates:
            _say(tr("  CA: {subject}, valid until {date}", subject=certificate.subject.rfc4514_string(),
                    date=certificate.not_valid_after_utc.date().isoformat()))
    return profile


def check_translations() -> None:
    import gettext

    from PySide6.QtCore import QLibraryInfo, QTranslator

    from desktop.i18n import translations

    if not isinstance(translations("sv"), gettext.GNUTranslations):
        raise SmokeFailure(tr("translations"), tr("the Swedish message catalog (samverka.mo) is missing"))
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not QTranslator().load("qtbase_sv", folder):
        raise SmokeFailure(tr("translations"), tr("Qt's Swedish translations (qtbase_sv.qm) are missing in {folder}", folder=folder))
    _say(tr("  translations: the Swedish catalog and Qt's qtbase_sv.qm"))


def check_window(profile: Any, folder: Path) -> None:
    from PySide6.QtWidgets import QApplication

    from desktop.app import Application, prewarm_imports
    from desktop.ui.wizard import PAGE_CONNECT

    QApplication.setApplicationName("Samverka")
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    data_dir = folder / "data"
    application = Application(qapp, data_dir, profile=profile, settings_path=folder / "settings.json")
    try:
        application.start()
        step = tr("first-run wizard")
        wizard = application.wizard
        if wizard is None:
            raise SmokeFailure(step, tr("the wizard did not open"))
        connect = wizard.page(PAGE_CONNECT)
        connect.initializePage()
        if profile is not None and profile.server_url and connect.server.text() != profile.server_url:
            raise SmokeFailure(step, tr("the server address is not preset from the profile"))
        if profile is not None and profile.ca_pem and (
            connect.ca_pem != profile.ca_pem or profile.organisation_name not in connect.ca_from_profile.text()
        ):
            raise SmokeFailure(step, tr("the CA is not preset from the organisation's profile"))
        _say(tr("  wizard: “{title}”, server address {server}", title=wizard.windowTitle(), server=connect.server.text() or "-"))

        step = tr("vault")
        passphrase = secrets.token_urlsafe(24)
        first_run = wizard.first_run
        started = time.perf_counter()
        first_run.create(passphrase)
        first_run.make_recovery_key()
        first_run.recovery_noted()
        counts = first_run.start_demo()
        wizard.finishedSetup.emit(first_run.session)  # what "Start Samverka" ends with
        wizard.hide()
        if not _wait(lambda: application.main is not None):
            raise SmokeFailure(step, tr("the main window did not open"))
        _say(tr("  vault: created (OWASP-minimum key derivation), {records} demo records, main window shown in {seconds:.2f} s",
                records=sum(counts.values()), seconds=time.perf_counter() - started))

        step = tr("lock and unlock")
        application.lock()
        unlock = application.unlock_window
        if unlock is None or application.main is not None:
            raise SmokeFailure(step, tr("the window did not lock"))
        unlock.passphrase.setText(passphrase)
        unlock.submit()
        if not _wait(lambda: application.main is not None):
            raise SmokeFailure(step, unlock.error.text() or tr("the main window did not open again"))
        _say(tr("  lock and unlock: the store closed and opened again with the passphrase"))

        step = tr("search")
        main = application.main
        answers: list[tuple[str, int]] = []
        main.search_view.resultsShown.connect(lambda query, hits: answers.append((query, hits)))
        started = time.perf_counter()
        main.field.setText(QUERY)
        if not _wait(lambda: any(query == QUERY for query, _hits in answers)):
            raise SmokeFailure(step, tr("no answer"))
        hits = next(hits for query, hits in answers if query == QUERY)
        if not hits:
            raise SmokeFailure(step, tr("“{query}” found nothing in the demo region", query=QUERY))
        _say(tr("  search: “{query}” → {hits} hits in the main window, {ms:.0f} ms",
                query=QUERY, hits=hits, ms=(time.perf_counter() - started) * 1000))
        prewarm_imports().join(STEP_SECONDS)  # its imports too (it swallows their errors)
        for name in ("desktop.session", "desktop.syncer.engine", "desktop.ui.mainwindow"):
            if name not in sys.modules:
                raise SmokeFailure(tr("imports"), name)
        # What the first screens leave for their first use (a sync, a number, a typo) is there too.
        for name in LATER_IMPORTS:
            try:
                importlib.import_module(name)
            except ImportError:
                raise SmokeFailure(tr("imports"), name) from None
        application.quit()
    finally:
        application.shutdown()


def run_smoke_test() -> int:
    """The whole test; the exit code."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["SAMVERKA_FAST_KDF"] = "1"  # the vault is thrown away: OWASP's minimum is enough
    started = time.perf_counter()
    info = build_info()  # the version is the build's (desktop/version.py), as the server is told
    which = ", ".join([program_version(), (info.get("organisation") or "-") if info else tr("from source")])
    _say(tr("Samverka smoke test ({build})", build=which))
    try:
        with tempfile.TemporaryDirectory(prefix="samverka-smoke-") as folder:
            profile = check_profile()
            check_translations()
            check_window(profile, Path(folder))
    except SmokeFailure as failure:
        print(tr("Smoke test FAILED at “{step}”: {reason}", step=failure.step, reason=failure.reason), file=sys.stderr)
        return EXIT_FAILED
    except Exception:  # the traceback is what the person fixing the build needs
        traceback.print_exc()
        print(tr("Smoke test FAILED: an unexpected error (above)."), file=sys.stderr)
        return EXIT_FAILED
    _say(tr("Smoke test passed in {seconds:.1f} s.", seconds=time.perf_counter() - started))
    return 0
