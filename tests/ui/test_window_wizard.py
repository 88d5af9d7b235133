"""The first-run wizard: standalone with the demo region, joining a real server, and a run killed half-way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWizard

from tests.ui.conftest import PASSPHRASE

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]


def _passphrase_page(app) -> None:
    wizard = app.application.wizard
    page = wizard.currentPage()
    assert page.objectName() == "passphrasePage"
    app.qtbot.waitUntil(lambda: QApplication.focusWidget() is page.fields.first)
    app.type(PASSPHRASE)
    app.key(Qt.Key.Key_Tab)
    app.type(PASSPHRASE)
    assert "Mycket stark" in page.fields.words.text() or "Stark" in page.fields.words.text()
    app.key(Qt.Key.Key_Return)
    app.qtbot.waitUntil(lambda: wizard.currentPage().objectName() == "recoveryPage", timeout=20_000)


def _recovery_page(app) -> str:
    wizard = app.application.wizard
    page = wizard.currentPage()
    app.qtbot.waitUntil(lambda: page.recovery_key is not None, timeout=10_000)
    shown = page.key.text()
    assert all(group in shown for group in page.recovery_key.split("-"))
    assert not wizard.button(QWizard.WizardButton.CommitButton).isEnabled(), "not before it is noted"
    page.noted.setChecked(True)
    wizard.next()
    app.qtbot.waitUntil(lambda: wizard.currentPage().objectName() == "connectPage", timeout=10_000)
    return page.recovery_key


def _finish_standalone(app) -> None:
    wizard = app.application.wizard
    page = wizard.currentPage()
    assert page.demo_choice.isChecked(), "without a profile the demo region is the default"
    wizard.button(QWizard.WizardButton.FinishButton).click()
    app.qtbot.waitUntil(lambda: app.main is not None and app.main.isVisible(), timeout=20_000)


def test_the_wizard_makes_a_standalone_vault_with_the_demo_region(start_app, tmp_path: Path) -> None:
    from desktop.vault import Vault

    data_dir = tmp_path / "new"
    app = start_app(data_dir)
    assert app.application.wizard.windowTitle() == "Samverka – kom igång"
    _passphrase_page(app)
    key = _recovery_page(app)
    _finish_standalone(app)
    assert app.main.windowTitle() == "Samverka — fristående (demoregion)"
    app.qtbot.waitUntil(lambda: app.main.status.state.text().startswith("Fristående"))
    assert len(Vault.open(data_dir).unlock_with_recovery_key(key)) == 32
    app.type("tib sos")
    app.qtbot.waitUntil(lambda: app.main.search_view.model.rowCount() > 0)


def test_skipping_the_recovery_key_warns_and_leaves_none(start_app, tmp_path: Path, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    from desktop.vault import NoSuchSlotKind, Vault

    asked = []

    def answer(*args, **kwargs):
        asked.append(args[2])
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "warning", answer)
    data_dir = tmp_path / "new"
    app = start_app(data_dir)
    _passphrase_page(app)
    wizard = app.application.wizard
    page = wizard.currentPage()
    app.qtbot.waitUntil(lambda: page.recovery_key is not None, timeout=10_000)
    page.skip.click()
    app.qtbot.waitUntil(lambda: wizard.currentPage().objectName() == "connectPage", timeout=10_000)
    assert "ingen – inte ens IT-supporten" in asked[0]
    with pytest.raises(NoSuchSlotKind):
        Vault.open(data_dir).unlock_with_recovery_key(page.recovery_key)
    _finish_standalone(app)


@pytest.mark.slow
def test_the_wizard_joins_the_organisations_server(start_app, tmp_path: Path, sync_server) -> None:
    server = sync_server()
    data_dir = tmp_path / "new"
    app = start_app(data_dir)
    _passphrase_page(app)
    _recovery_page(app)
    wizard = app.application.wizard
    page = wizard.currentPage()
    page.server_choice.setChecked(True)
    page.server.setText(server.url)
    page.code.setText("fel-kod-123")
    wizard.button(QWizard.WizardButton.FinishButton).click()
    app.qtbot.waitUntil(lambda: page.error.text() != "", timeout=20_000)
    assert app.main is None, "a refused code keeps the wizard open, saying why"
    page.code.setText(server.code("sos", "member"))
    wizard.button(QWizard.WizardButton.FinishButton).click()
    app.qtbot.waitUntil(lambda: app.main is not None and app.main.isVisible(), timeout=20_000)
    assert app.main.windowTitle() == "Samverka — SOS Alarm"
    status = app.main.status
    app.qtbot.waitUntil(lambda: status.state.text() == "● Ansluten" and "Senast synkad" in status.last.text(), timeout=20_000)
    assert status.sync_now.isVisible() and status.sync_now.isEnabled()


def test_a_profile_presets_the_server(start_app, tmp_path: Path) -> None:
    from desktop.profile import Profile

    profile = Profile("Länsstyrelsen Stockholm", server_url="https://samverka.lst.example", ca_pem="-----BEGIN CERTIFICATE-----\n")
    app = start_app(tmp_path / "new", profile=profile)
    _passphrase_page(app)
    _recovery_page(app)
    page = app.application.wizard.currentPage()
    assert page.server_choice.isChecked() and page.server.text() == "https://samverka.lst.example"
    assert page.ca_from_profile.text() == "Från profilen för Länsstyrelsen Stockholm"
    app.qtbot.waitUntil(lambda: QApplication.focusWidget() is page.code)


@pytest.mark.end2end
@pytest.mark.parametrize("stage", ["recovery", "connect"])
def test_a_run_killed_half_way_is_finished_by_the_next_start(start_app, tmp_path: Path, stage: str) -> None:
    """The real program's wizard in a subprocess, killed (SIGKILL) on the recovery page or the
    last page; the next start unlocks and goes on from the step that remains."""
    from desktop.vault import Vault, WrongRecoveryKey

    data_dir = tmp_path / "data"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("wizard_child.py")), str(data_dir), stage],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        lines = []
        for line in child.stdout:
            lines.append(line.strip())
            if line.startswith("READY"):
                break
        assert lines and lines[-1].startswith("READY"), (lines, child.stderr.read() if child.poll() is not None else "")
        first_key = next(line.split(" ", 1)[1] for line in lines if line.startswith("KEY "))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        child.stdout.close()
        child.stderr.close()
    assert Vault.exists(data_dir)

    app = start_app(data_dir)
    assert app.unlock_window is not None, "the vault exists: the next start asks for the passphrase"
    window = app.unlock_window
    app.qtbot.waitUntil(lambda: window.passphrase.hasFocus())
    app.type(PASSPHRASE)
    app.key(Qt.Key.Key_Return)
    app.qtbot.waitUntil(lambda: app.application.wizard is not None, timeout=20_000)
    wizard = app.application.wizard
    if stage == "recovery":
        assert wizard.currentPage().objectName() == "recoveryPage"
        new_key = _recovery_page(app)
        assert new_key != first_key, "the key shown before the kill may never have been noted"
        with pytest.raises(WrongRecoveryKey):
            Vault.open(data_dir).unlock_with_recovery_key(first_key)
    else:
        assert wizard.currentPage().objectName() == "connectPage", "the noted key is not asked for again"
        assert len(Vault.open(data_dir).unlock_with_recovery_key(first_key)) == 32
    _finish_standalone(app)
    assert app.main.windowTitle() == "Samverka — fristående (demoregion)"
