"""The first-run wizard: a passphrase (strength shown, typed twice), the recovery key shown once, then the organisation's server or the demo region.

Each page's work runs on a worker thread (key derivation, enrolling over the network) with a
busy line; the page moves on when it is done, and says what went wrong in words when it fails.
What a page has done stays done: the vault is created when the first page is left, and each
later step leaves its mark in the encrypted store (app.FirstRun), so a run killed half-way is
finished by the next start, which unlocks and opens the wizard at the step that remains.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from desktop.i18n import tr
from desktop.ui import theme
from desktop.ui.messages import describe_error
from desktop.ui.ops import CollectionOp
from desktop.ui.widgets import BusyLine, PassphraseFields, error_label, show_error

PAGE_PASSPHRASE, PAGE_RECOVERY, PAGE_CONNECT = range(3)


def _wrapped(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    return label


class _WorkingPage(QWizardPage):
    """A page whose "next" runs slow work first; the wizard moves on when it is done."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.busy = BusyLine(self)
        self.error = error_label(self, "wizardError")
        self.working = False
        self.done = False

    def first_run(self):
        return self.wizard().first_run

    def isComplete(self) -> bool:  # noqa: N802
        return not self.working and self.ready()

    def ready(self) -> bool:
        return True

    def validatePage(self) -> bool:  # noqa: N802
        if self.done:
            return True
        if not self.working:
            self.begin()
        return False

    def begin(self) -> None:
        raise NotImplementedError

    def run(self, work: Callable[[], Any], busy_text: str, then: Callable[[Any], None] | None = None) -> None:
        self.working = True
        show_error(self.error, "")
        self.busy.start(busy_text)
        self.completeChanged.emit()
        CollectionOp(work, success=lambda result: self._succeeded(result, then), parent=self).failure(self._failed).run()

    def _succeeded(self, result: Any, then: Callable[[Any], None] | None) -> None:
        self.working = False
        self.busy.stop()
        self.completeChanged.emit()
        if then is not None:
            then(result)
        else:
            self.advance()

    def advance(self) -> None:
        self.done = True
        wizard = self.wizard()
        if wizard.nextId() == -1:
            wizard.accept()
        else:
            wizard.next()

    def _failed(self, error: BaseException) -> None:
        self.working = False
        self.busy.stop()
        self.completeChanged.emit()
        show_error(self.error, describe_error(error))


class PassphrasePage(_WorkingPage):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("passphrasePage")
        self.setTitle(tr("Welcome to Samverka"))
        self.setSubTitle(tr("Choose a passphrase. Everything Samverka keeps on this computer is encrypted with it."))
        self.fields = PassphraseFields(self)
        self.fields.changed.connect(lambda _ok: self.completeChanged.emit())
        self.fields.second.returnPressed.connect(lambda: self.wizard().next() if self.isComplete() else None)
        layout = QVBoxLayout(self)
        layout.addWidget(_wrapped(tr(
            "Use several words you will remember, at least 8 characters. There is no way to "
            "read the data without the passphrase or the recovery key you get on the next page."), self))
        layout.addWidget(self.fields)
        layout.addWidget(self.busy)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, tr("Create the encrypted vault"))

    def initializePage(self) -> None:  # noqa: N802
        self.fields.first.setFocus(Qt.FocusReason.OtherFocusReason)

    def ready(self) -> bool:
        return self.fields.acceptable()

    def begin(self) -> None:
        passphrase = self.fields.passphrase()
        first_run = self.first_run()
        self.fields.set_enabled(False)
        self.run(lambda: first_run.create(passphrase),
                 tr("Creating the encrypted vault … (measuring this computer for key derivation, a few seconds)"))

    def _failed(self, error: BaseException) -> None:
        self.fields.set_enabled(True)
        super()._failed(error)


class RecoveryPage(_WorkingPage):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("recoveryPage")
        self.setTitle(tr("Your recovery key"))
        self.setSubTitle(tr("It opens the vault if the passphrase is forgotten. It is shown only now."))
        self.key = QLabel(self)
        self.key.setObjectName("recoveryKeyShown")
        self.key.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.key.setAccessibleName(tr("Recovery key"))
        self.noted = QCheckBox(tr("I have written the recovery key down and will keep it safe, apart from this computer"), self)
        self.noted.setObjectName("recoveryNoted")
        self.noted.setEnabled(False)
        self.noted.toggled.connect(lambda _on: self.completeChanged.emit())
        self.skip = QPushButton(tr("Skip (not recommended) …"), self)
        self.skip.setObjectName("skipRecovery")
        self.skip.clicked.connect(self.ask_skip)
        layout = QVBoxLayout(self)
        layout.addWidget(_wrapped(tr(
            "Write the key down on paper, group by group, and keep it where you keep other "
            "emergency papers. Nobody – not Samverka, not IT support – can open the vault "
            "without the passphrase or this key."), self))
        layout.addWidget(self.key)
        layout.addWidget(self.noted)
        layout.addWidget(self.busy)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(self.skip, 0, Qt.AlignmentFlag.AlignLeft)
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, tr("Next"))
        self.recovery_key: str | None = None

    def initializePage(self) -> None:  # noqa: N802
        self.key.setFont(theme.monospace_font(self.font(), 1.5))
        if self.recovery_key is None and not self.working:
            first_run = self.first_run()
            self.run(first_run.make_recovery_key, tr("Making the recovery key …"), self._show_key)

    def _show_key(self, key: str) -> None:
        self.recovery_key = key
        groups = key.split("-")
        self.key.setText("   ".join(groups[:4]) + "\n" + "   ".join(groups[4:]))
        self.noted.setEnabled(True)
        self.noted.setFocus(Qt.FocusReason.OtherFocusReason)

    def ready(self) -> bool:
        return self.recovery_key is not None and self.noted.isChecked()

    def begin(self) -> None:
        first_run = self.first_run()
        self.run(first_run.recovery_noted, tr("Saving …"))

    def ask_skip(self) -> None:
        answer = QMessageBox.warning(
            self, tr("Skip the recovery key?"),
            tr("Without a recovery key nobody – not even IT support – can open the vault if the "
               "passphrase is forgotten, and everything in it is lost for this computer. You can "
               "make a key later with: samverka recovery-key\n\nSkip it anyway?"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.skip_now()

    def skip_now(self) -> None:
        first_run = self.first_run()
        self.key.setText(tr("(no recovery key)"))
        self.noted.setEnabled(False)
        self.run(first_run.skip_recovery, tr("Removing the recovery key …"), lambda _r: self.advance())


class ConnectPage(_WorkingPage):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("connectPage")
        self.setTitle(tr("Your organisation's server, or the demo region"))
        self.setSubTitle(tr("Samverka works without a network either way; a server shares the region's data and your changes."))
        self.server_choice = QRadioButton(tr("&Connect to my organisation's server"), self)
        self.server_choice.setObjectName("chooseServer")
        self.demo_choice = QRadioButton(tr("Start &standalone with the demo region (fictitious data, for trying Samverka)"), self)
        self.demo_choice.setObjectName("chooseDemo")
        group = QButtonGroup(self)
        group.addButton(self.server_choice)
        group.addButton(self.demo_choice)
        self.server = QLineEdit(self)
        self.server.setObjectName("serverUrl")
        self.server.setPlaceholderText("https://samverka.example.se")
        self.server.setAccessibleName(tr("Server address"))
        self.ca = QLineEdit(self)
        self.ca.setObjectName("caFile")
        self.ca.setPlaceholderText(tr("the organisation's CA certificate (PEM), if your IT staff gave you one"))
        self.ca.setAccessibleName(tr("CA certificate file"))
        self.ca_button = QPushButton(tr("Choose file …"), self)
        self.ca_button.clicked.connect(self._choose_ca)
        self.ca_from_profile = QLabel(self)
        self.ca_from_profile.setWordWrap(True)
        self.code = QLineEdit(self)
        self.code.setObjectName("enrollmentCode")
        self.code.setAccessibleName(tr("Enrollment code"))
        self.code.setPlaceholderText(tr("the one-time code from your administrator"))
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca, 1)
        ca_row.addWidget(self.ca_button)
        self.server_form = QWidget(self)
        form = QFormLayout(self.server_form)
        form.addRow(tr("Server &address:"), self.server)
        form.addRow(tr("CA certificate:"), ca_row)
        form.addRow("", self.ca_from_profile)
        form.addRow(tr("Enrollment c&ode:"), self.code)
        self.demo_note = _wrapped(tr(
            "The demo region holds the parties of the Stockholm region's model with fictitious "
            "numbers. A demo vault stays standalone: to join a server later, set Samverka up "
            "again in a new data folder."), self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.server_choice)
        layout.addWidget(self.server_form)
        layout.addWidget(self.demo_choice)
        layout.addWidget(self.demo_note)
        layout.addWidget(self.busy)
        layout.addWidget(self.error)
        layout.addStretch(1)
        for widget in (self.server, self.code, self.ca):
            widget.textChanged.connect(lambda _t: self.completeChanged.emit())
        self.server_choice.toggled.connect(self._choice_changed)
        self.setButtonText(QWizard.WizardButton.FinishButton, tr("Start Samverka"))
        self.ca_pem: str | None = None

    def initializePage(self) -> None:  # noqa: N802
        profile = self.first_run().profile
        if profile is not None and profile.server_url:
            self.server.setText(profile.server_url)
            self.server_choice.setChecked(True)
        else:
            self.demo_choice.setChecked(True)
        if profile is not None and profile.ca_pem:
            self.ca_pem = profile.ca_pem
            self.ca.hide()
            self.ca_button.hide()
            self.ca_from_profile.setText(tr("From {organisation}'s profile", organisation=profile.organisation_name))
        else:
            self.ca_from_profile.hide()
        self._choice_changed()

    def _choice_changed(self) -> None:
        server = self.server_choice.isChecked()
        self.server_form.setEnabled(server)
        self.completeChanged.emit()
        # after the wizard has given the page its own first focus
        QTimer.singleShot(0, self._focus_first_empty)

    def _focus_first_empty(self) -> None:
        if self.server_choice.isChecked():
            (self.code if self.server.text() else self.server).setFocus(Qt.FocusReason.OtherFocusReason)

    def _choose_ca(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(self, tr("The organisation's CA certificate"), "",
                                                    tr("Certificates (*.pem *.crt *.cer);;All files (*)"))
        if name:
            self.ca.setText(name)

    def ready(self) -> bool:
        if self.demo_choice.isChecked():
            return True
        return bool(self.server.text().strip() and self.code.text().strip())

    def begin(self) -> None:
        first_run = self.first_run()
        if self.demo_choice.isChecked():
            self.run(first_run.start_demo, tr("Loading the demo region …"))
            return
        url, code = self.server.text().strip(), self.code.text().strip()
        ca_file = self.ca.text().strip() or None
        ca_pem = self.ca_pem
        self.run(lambda: first_run.enroll(url, code, ca_file=ca_file, ca_pem=ca_pem),
                 tr("Connecting to {server} …", server=url))


class FirstRunWizard(QWizard):
    """``steps``: the pages still to do when resuming after an interrupted run (None: all)."""

    finishedSetup = Signal(object)  # the AppSession

    def __init__(self, first_run, steps: tuple[str, ...] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRunWizard")
        self.first_run = first_run
        self.setWindowTitle(tr("Samverka – getting started"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        if steps is None:
            self.setPage(PAGE_PASSPHRASE, PassphrasePage(self))
        if steps is None or "recovery" in steps:
            self.setPage(PAGE_RECOVERY, RecoveryPage(self))
        self.setPage(PAGE_CONNECT, ConnectPage(self))
        self.setStartId(self.pageIds()[0])
        self.resize(680, 520)
        self.accepted.connect(lambda: self.finishedSetup.emit(self.first_run.session))
