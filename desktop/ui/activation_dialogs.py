"""The small forms of activated mode: activate a forum, end an activation, write a journal entry or its correction, the situation report, record a report-back.

Each is a dialog over the main window that saves through ``ActivationService`` on the write
thread (ops.CollectionOp) and says a refusal in words beside its buttons (the service's
ActivationError: the rules' reason, an empty text, a time it cannot read); nothing is written
then. Enter saves in a dialog of one-line fields, Ctrl+Enter where a text has several lines;
Esc cancels. Everything that belongs to an exercise says ÖVNING in its title.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.activation.model import ActivationSummary, JournalEntry
from desktop.activation.situation import SECTIONS, PartyReport, SituationReport
from desktop.activation.words import exercise_word, kind_label
from desktop.i18n import tr
from desktop.ui.ops import CollectionOp
from desktop.ui.widgets import error_label, show_error

# The kinds a person writes in the entry form (a situation report has its own form).
ENTRY_KINDS = ("information", "decision", "action", "other")


def titled(text: str, summary: ActivationSummary | None) -> str:
    """A dialog's title, with "ÖVNING" in front for an exercise."""
    return f"{exercise_word()} – {text}" if summary is not None and summary.exercise else text


def _text_box(parent: QWidget, lines: int = 5, name: str = "") -> QPlainTextEdit:
    box = QPlainTextEdit(parent)
    box.setTabChangesFocus(True)
    box.setObjectName(name)
    box.setMinimumHeight(box.fontMetrics().lineSpacing() * lines + 12)
    return box


class _SavingDialog(QDialog):
    """A dialog whose save runs ``work`` on the write thread; a refusal shown in words."""

    saved = Signal(object)  # what ``work`` returned

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.error = error_label(self, "activationFormError")
        self.buttons = QDialogButtonBox(self)
        self.save_button = self.buttons.addButton(tr("Save"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("activationFormSave")
        self.save_button.setDefault(True)
        cancel = self.buttons.addButton(tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        cancel.setObjectName("activationFormCancel")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self._saving = False

    def work(self) -> Callable[[], Any] | None:
        """What saving does (made on the GUI thread from the fields); None: not ready."""
        raise NotImplementedError

    def save(self) -> None:
        if self._saving or not self.save_button.isEnabled():
            return
        work = self.work()
        if work is None:
            return
        self._saving = True
        show_error(self.error, "")
        self.save_button.setEnabled(False)
        CollectionOp(work, success=self._saved, parent=self).failure(self._failed).run()

    def _saved(self, result: Any) -> None:
        self._saving = False
        self.saved.emit(result)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        from desktop.ui.messages import describe_error

        self._saving = False
        self.save_button.setEnabled(True)
        show_error(self.error, describe_error(error))


class ActivateDialog(_SavingDialog):
    """Aktivera forum: the reason, and whether it is an exercise or real — chosen, never assumed."""

    def __init__(self, service: Any, forum_id: str, forum_name: str, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("activateDialog")
        self.service = service
        self.forum_id = forum_id
        self.setWindowTitle(tr("Activate {forum}", forum=forum_name))
        self.reason = QLineEdit(self)
        self.reason.setObjectName("activationReason")
        self.reason.setAccessibleName(tr("Reason"))
        self.reason.setPlaceholderText(tr("What has happened, e.g. “Strömavbrott Södertörn”"))
        self.exercise = QRadioButton(tr("&Exercise (övning)"), self)
        self.exercise.setObjectName("activationExercise")
        self.real = QRadioButton(tr("&Real event"), self)
        self.real.setObjectName("activationReal")
        self.choice = QButtonGroup(self)
        self.choice.addButton(self.exercise)
        self.choice.addButton(self.real)
        self.save_button.setText(tr("Activate"))
        form = QFormLayout()
        caption = QLabel(tr("&Reason:"), self)
        caption.setBuddy(self.reason)
        form.addRow(caption, self.reason)
        kinds = QVBoxLayout()
        kinds.addWidget(self.exercise)
        kinds.addWidget(self.real)
        form.addRow(tr("Kind:"), kinds)
        hint = QLabel(tr("Every device of the forum's organisations shows the activation after its next "
                         "synchronisation. Choose whether it is an exercise or a real event."), self)
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.reason.textChanged.connect(self._ready)
        self.choice.buttonToggled.connect(self._ready)
        self._ready()
        self.resize(520, self.sizeHint().height())
        self.reason.setFocus(Qt.FocusReason.OtherFocusReason)

    def _ready(self, *_args) -> None:
        self.save_button.setEnabled(bool(self.reason.text().strip()) and self.choice.checkedButton() is not None)

    def work(self):
        service, forum_id = self.service, self.forum_id
        reason, exercise = self.reason.text().strip(), self.exercise.isChecked()
        return lambda: service.activate(forum_id, reason, exercise=exercise)


class EndDialog(_SavingDialog):
    """Avsluta aktivering: asked first (the answer chosen at first keeps it going), with an
    optional closing note for the journal."""

    def __init__(self, service: Any, summary: ActivationSummary, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("endDialog")
        self.service = service
        self.summary = summary
        self.setWindowTitle(titled(tr("End the activation"), summary))
        question = QLabel(tr("End the activation of {forum} (“{reason}”)? A closing entry is written in the "
                             "journal; the activation then shows as past on every device.",
                             forum=summary.forum_name, reason=summary.reason), self)
        question.setWordWrap(True)
        self.note = QLineEdit(self)
        self.note.setObjectName("endNote")
        self.note.setAccessibleName(tr("Closing note"))
        self.note.setPlaceholderText(tr("Closing note for the journal (optional)"))
        self.save_button.setText(tr("&End the activation"))
        self.save_button.setObjectName("endConfirm")
        self.save_button.setDefault(False)
        self.save_button.setAutoDefault(False)
        keep = self.buttons.buttons()[-1]
        keep.setText(tr("&Keep it going"))
        keep.setDefault(True)  # Enter alone never ends it
        layout = QVBoxLayout(self)
        layout.addWidget(question)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())
        self.note.setFocus(Qt.FocusReason.OtherFocusReason)

    def work(self):
        service, activation_id, note = self.service, self.summary.activation_id, self.note.text().strip() or None
        return lambda: service.end(activation_id, note)


class EntryDialog(_SavingDialog):
    """A journal entry (kind, text), or a correction of one: a new entry that points at it."""

    def __init__(self, service: Any, summary: ActivationSummary, corrects: JournalEntry | None = None,
                 parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("entryDialog")
        self.service = service
        self.summary = summary
        self.corrects = corrects
        if corrects is None:
            title = tr("New journal entry – {forum}", forum=summary.forum_name)
        else:
            from desktop.ui.activation_models import JournalModel

            place = JournalModel.reference(corrects)
            title = tr("Correction of entry {place}", place=place)
        self.setWindowTitle(titled(title, summary))
        self.kind = QComboBox(self)
        self.kind.setObjectName("entryKind")
        self.kind.setAccessibleName(tr("Kind of entry"))
        for kind in ENTRY_KINDS:
            self.kind.addItem(kind_label(kind), kind)
        self.text = _text_box(self, 6, "entryText")
        self.text.setAccessibleName(tr("Text"))
        form = QFormLayout()
        layout = QVBoxLayout(self)
        if corrects is not None:
            self.kind.setCurrentIndex(max(self.kind.findData(corrects.kind), 0))
            original = QLabel(tr("Corrects: {text}", text=corrects.text), self)
            original.setObjectName("entryCorrected")
            original.setWordWrap(True)
            original.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(original)
            note = QLabel(tr("The entry stays as it is; this correction is shown right after it."), self)
            note.setWordWrap(True)
            layout.addWidget(note)
        kind_caption = QLabel(tr("&Kind:"), self)
        kind_caption.setBuddy(self.kind)
        text_caption = QLabel(tr("&Text:"), self)
        text_caption.setBuddy(self.text)
        form.addRow(kind_caption, self.kind)
        form.addRow(text_caption, self.text)
        layout.addLayout(form)
        hint = QLabel(tr("Ctrl+Enter saves; Esc cancels. An entry is never changed afterwards: a mistake is "
                         "corrected by a new entry."), self)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self.save)
        self.resize(600, self.sizeHint().height())
        self.text.setFocus(Qt.FocusReason.OtherFocusReason)

    def work(self):
        service, activation_id = self.service, self.summary.activation_id
        text, kind = self.text.toPlainText(), self.kind.currentData()
        corrects = self.corrects.entry_id if self.corrects is not None else None
        return lambda: service.write_entry(activation_id, text, kind=kind, corrects=corrects)


class SituationDialog(_SavingDialog):
    """The situation report (lägesbild) in the samverkanskonferens agenda's sections: each
    party's report, information sharing, coordination needs, the regional picture, next meeting."""

    def __init__(self, service: Any, summary: ActivationSummary, template: SituationReport, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("situationDialog")
        self.service = service
        self.summary = summary
        self.setWindowTitle(titled(tr("Situation report – {forum}", forum=summary.forum_name), summary))
        inner = QWidget(self)
        form = QFormLayout(inner)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.parties: list[tuple[str, QPlainTextEdit]] = []
        heading = QLabel(f"<b>{tr(SECTIONS[0][1])}</b>", inner)
        form.addRow(heading)
        for party in template.party_reports:
            box = _text_box(inner, 2, "situationParty")
            box.setAccessibleName(f"{tr(SECTIONS[0][1])}: {party.party}")
            box.setPlainText(party.text)
            form.addRow(party.party + ":", box)
            self.parties.append((party.party, box))
        self.sections: dict[str, QPlainTextEdit] = {}
        for key, title in SECTIONS[1:]:
            box = _text_box(inner, 3, f"situation_{key}")
            box.setAccessibleName(tr(title))
            box.setPlainText(getattr(template, key))
            caption = QLabel(f"<b>{tr(title)}</b>", inner)
            form.addRow(caption)
            form.addRow(box)
            self.sections[key] = box
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        hint = QLabel(tr("Ctrl+Enter saves the situation report as a journal entry; Esc cancels. Empty parts "
                         "are left out of the parties' reports."), self)
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self.save)
        self.resize(680, 640)
        (self.parties[0][1] if self.parties else self.sections["information_sharing"]).setFocus(
            Qt.FocusReason.OtherFocusReason)

    def report(self) -> SituationReport:
        return SituationReport(
            party_reports=tuple(PartyReport(name, box.toPlainText().strip()) for name, box in self.parties
                                if box.toPlainText().strip()),
            **{key: box.toPlainText().strip() for key, box in self.sections.items()},
        )

    def work(self):
        service, activation_id, report = self.service, self.summary.activation_id, self.report()
        return lambda: service.write_situation_report(activation_id, report)


class ReportBackDialog(_SavingDialog):
    """Återrapportering: this organisation has reported back to its home organisation after a
    meeting (its time typed as 14:30 or 2026-12-06 14:30). A vault that is not enrolled names
    the organisation (it has none of its own)."""

    def __init__(self, service: Any, summary: ActivationSummary, meeting: str | None,
                 organisations: list[tuple[str, str]] | None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("reportBackDialog")
        self.service = service
        self.summary = summary
        self.setWindowTitle(titled(tr("Record report-back – {forum}", forum=summary.forum_name), summary))
        form = QFormLayout()
        self.organisation: QComboBox | None = None
        if organisations is not None:
            self.organisation = QComboBox(self)
            self.organisation.setObjectName("reportBackOrganisation")
            self.organisation.setAccessibleName(tr("Organisation"))
            for organisation_id, name in organisations:
                self.organisation.addItem(name, organisation_id)
            caption = QLabel(tr("&Organisation:"), self)
            caption.setBuddy(self.organisation)
            form.addRow(caption, self.organisation)
        self.meeting = QLineEdit(self)
        self.meeting.setObjectName("reportBackMeeting")
        self.meeting.setAccessibleName(tr("The meeting reported on"))
        self.meeting.setPlaceholderText(tr("e.g. 14:30 or 2026-12-06 14:30 (empty: no particular meeting)"))
        if meeting:
            from desktop.syncer.messages import when_text

            self.meeting.setText(when_text(meeting))
        self.note = QLineEdit(self)
        self.note.setObjectName("reportBackNote")
        self.note.setAccessibleName(tr("Note"))
        meeting_caption = QLabel(tr("&Meeting:"), self)
        meeting_caption.setBuddy(self.meeting)
        note_caption = QLabel(tr("&Note:"), self)
        note_caption.setBuddy(self.note)
        form.addRow(meeting_caption, self.meeting)
        form.addRow(note_caption, self.note)
        self.save_button.setText(tr("Record"))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())
        self.meeting.setFocus(Qt.FocusReason.OtherFocusReason)

    def work(self):
        from desktop.activation.lookup import parse_time_text
        from desktop.activation.words import ActivationError

        typed = self.meeting.text().strip()
        try:
            meeting = parse_time_text(typed) if typed else None
        except ActivationError as error:
            show_error(self.error, str(error))
            return None
        service, activation_id, note = self.service, self.summary.activation_id, self.note.text().strip() or None
        organisation = self.organisation.currentData() if self.organisation is not None else None
        return lambda: service.record_report_back(activation_id, meeting_at=meeting, note=note,
                                                  organisation_id=organisation)
