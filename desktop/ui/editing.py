"""Editing in the window: the forms (Ctrl+E, Ctrl+N), deleting with a confirmation (Del), "Verified today" and moving a channel or step by keyboard.

Every change goes through the store and its outbox on the write thread (ops.CollectionOp);
nothing here writes SQL or waits. Before a form is offered, desktop/permissions.py has been
asked (views.rights, when the record was shown): what this device may not change is never
offered, and the reason is said ("Skrivskyddad: ägs av SOS Alarm."). Saving asks again with
the values typed (a function's organisation, a routine's forum), and the server judges again
when the change is sent.

A value the store refuses is said in words beside its field (the store's InvalidInput names
the field); phone numbers are normalised by the store (070-174 06 99 is kept as +46701740699
and shown as typed in the national format).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop import views
from desktop.i18n import NP_, label, ngettext, tr
from desktop.store.messages import CHANNEL_KIND_LABELS, LEVEL_LABELS, message
from desktop.ui.messages import bridge
from desktop.ui.ops import CollectionOp, LatestOnly, QueryOp
from desktop.ui.widgets import error_label, show_error
from sync.records import COLLECTIONS, FieldType

# --- what a person may do here -------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A record to change, delete, verify or move; or, with ``record_id`` None, one to make
    (``fixed``: the fields it gets from where it is made, e.g. its function)."""

    collection: str
    record_id: str | None
    title: str  # the record as a person names it, for the form's and the question's words
    permission: Any  # desktop.permissions.Permission (true, or false with .text)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    parent_title: str = ""  # "Tjänsteman i beredskap (TiB)" for a channel
    # What opens instead of a record form (an activation's journal entry, its correction): the
    # keys and the permission stay the same, the window opens this.
    run: Callable[[], None] | None = None


@dataclass(frozen=True)
class EditContext:
    """What Ctrl+E, Ctrl+N, Del, "Verified today" and Alt+↑/↓ do where the focus is."""

    edit: Target | None = None
    new: Target | None = None
    delete: Target | None = None
    verify: Target | None = None
    move: Target | None = None


class NotAllowed(Exception):
    """Saving was refused by the write rules (the reason is the Permission's text)."""


def allowed_or_raise(permission) -> None:
    if not permission:
        raise NotAllowed(permission.text)


# --- the words of the forms --------------------------------------------------------------------

FORM_LABELS: dict[str, tuple[str, str]] = {
    "name": NP_("form field", "Name"),
    "short_name": NP_("form field", "Short name"),
    "description": NP_("form field", "Description"),
    "availability": NP_("form field", "Reachable"),
    "is_contact_point": NP_("form field", "Contact point for direction and coordination (ISK)"),
    "visibility": NP_("form field", "Visible to"),
    "last_verified": NP_("form field", "Verified"),
    "kind": NP_("form field", "Kind"),
    "value": NP_("form field", "Number or address"),
    "label": NP_("form field", "Label"),
    "priority": NP_("form field", "Priority"),
    "resilient": NP_("form field", "Resilient: works during power and network outages"),
    "note": NP_("form field", "Note"),
    "website": NP_("form field", "Website"),
    "notes": NP_("form field", "Notes"),
    "level": NP_("form field", "Level"),
    "purpose": NP_("form field", "Purpose"),
    "convenor_function_id": NP_("form field", "Convenor"),
    "mode": NP_("form field", "Mode"),
    "cadence": NP_("form field", "Cadence"),
    "meeting_channel": NP_("form field", "Meeting channel"),
    "agenda": NP_("form field", "Agenda"),
    "function_id": NP_("form field", "Function"),
    "role": NP_("form field", "Role"),
    "mandate": NP_("form field", "Mandate"),
    "reports_back": NP_("form field", "Reports back"),
    "title": NP_("form field", "Title"),
    "owner": NP_("form field", "Owned by"),
    "trigger": NP_("form field", "Trigger"),
    "body": NP_("form field", "Text"),
    "version": NP_("form field", "Version"),
    "review_due": NP_("form field", "Review due"),
    "text": NP_("form field", "Step"),
    "responsible_function_id": NP_("form field", "Responsible function"),
}

VISIBILITY_LABELS: dict[str, tuple[str, str]] = {
    "regional": NP_("visibility", "Everyone in the region"),
    "internal": NP_("visibility", "Only our organisation"),
}

# Each form's fields in order; the rest of a collection's fields are not edited in the window
# (references fixed by where the record is made, positions set by moving).
FORMS: dict[str, tuple[str, ...]] = {
    "functions": ("name", "short_name", "description", "availability", "is_contact_point", "visibility"),
    "channels": ("kind", "value", "label", "priority", "resilient", "note"),
    "organisations": ("name", "short_name", "kind", "website", "notes", "visibility"),
    "forums": ("name", "level", "purpose", "convenor_function_id", "mode", "cadence", "meeting_channel",
               "agenda", "visibility"),
    "mandates": ("function_id", "role", "mandate", "reports_back"),
    "routines": ("title", "owner", "mode", "trigger", "body", "version", "review_due", "visibility"),
    "routine_steps": ("text", "responsible_function_id"),
}

RECORD_WORDS: dict[str, tuple[tuple[str, str], tuple[str, str], tuple[str, str]]] = {
    # (edit title, new title, delete question) with {name} and {parent}
    "functions": (NP_("form", "Edit the function {name}"), NP_("form", "New function of {parent}"),
                  NP_("form", "Delete the function {name}?")),
    "channels": (NP_("form", "Edit the channel {name}"), NP_("form", "New channel for {parent}"),
                 NP_("form", "Delete the channel {name} of {parent}?")),
    "organisations": (NP_("form", "Edit the organisation {name}"), NP_("form", "New organisation"),
                      NP_("form", "Delete the organisation {name}?")),
    "forums": (NP_("form", "Edit the forum {name}"), NP_("form", "New forum"), NP_("form", "Delete the forum {name}?")),
    "mandates": (NP_("form", "Edit the mandate of {name}"), NP_("form", "New mandate in {parent}"),
                 NP_("form", "Delete the mandate of {name} in {parent}?")),
    "routines": (NP_("form", "Edit the routine {name}"), NP_("form", "New routine"),
                 NP_("form", "Delete the routine {name}?")),
    "routine_steps": (NP_("form", "Edit the step {name}"), NP_("form", "New step in {parent}"),
                      NP_("form", "Delete the step {name} of {parent}?")),
}

_FUNCTION_REFS = ("convenor_function_id", "function_id", "responsible_function_id")
# An empty field that means a value: shown as that value, and saved as empty while it stays so
# (a form saved untouched changes nothing).
_EMPTY_MEANS = {"visibility": "regional"}
_MULTILINE = (FieldType.TEXT,)
_NO_CHOICE = "\x00"  # an optional choice left empty


def form_label(name: str) -> str:
    return label(FORM_LABELS.get(name), name)


def choice_label(collection: str, name: str, value: str) -> str:
    if name == "visibility":
        return label(VISIBILITY_LABELS.get(value), value)
    if collection == "channels" and name == "kind":
        return label(CHANNEL_KIND_LABELS.get(value), value)
    if name == "level":
        return label(LEVEL_LABELS.get(value), value)
    if collection == "organisations" and name == "kind":
        return views.organisation_kind_label(value)
    return views.value_label(value)


def field_error_text(error) -> str:
    """The store's refusal of a field, naming the field as the form does."""
    fields = dict(error.kwargs)
    fields["field"] = form_label(error.field)
    return message(error.key, **fields)


# --- reading what a form shows (pool thread) -----------------------------------------------------


@dataclass(frozen=True)
class FormData:
    values: Mapping[str, Any]  # the record's fields (a new one: its fixed fields)
    ref_names: Mapping[str, str]  # a function reference's name, for its field
    owners: tuple[tuple[str, str, str], ...] = ()  # routines: (collection, id, name) to choose from


def read_form(store: Any, target: Target) -> FormData:
    values: dict[str, Any] = dict(target.fixed)
    if target.record_id is not None:
        record = store.get(target.collection, target.record_id)
        if record is None or record["deleted"]:
            from desktop.store.errors import RecordDeleted

            raise RecordDeleted(collection=target.collection, record_id=target.record_id)
        values = dict(record["fields"])
    refs = views.function_refs(store, [values.get(name) for name in _FUNCTION_REFS])
    names = {
        name: f"{refs[values[name]].name}, {refs[values[name]].organisation_name}"
        for name in _FUNCTION_REFS if values.get(name) in refs
    }
    owners: tuple[tuple[str, str, str], ...] = ()
    if target.collection == "routines":
        owners = tuple(
            [("organisations", r["record_id"], r["fields"].get("name") or "") for r in store.list("organisations", order_by="name")]
            + [("forums", r["record_id"], r["fields"].get("name") or "") for r in store.list("forums", order_by="name")]
        )
    return FormData(values, names, owners)


# --- the fields ----------------------------------------------------------------------------


class FunctionPicker(QWidget):
    """A function chosen by typing (a search narrowed to functions): ↓/↑ through the hits, Enter
    takes one; an empty field is no function."""

    chosen = Signal()

    def __init__(self, store: Any, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.value: str | None = None
        self.line = QLineEdit(self)
        self.line.setPlaceholderText(tr("Type to find a function …"))
        self.hits = QListWidget(self)
        self.hits.setObjectName("functionHits")
        self.hits.setMaximumHeight(140)
        self.hits.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.hits.hide()
        self._search = LatestOnly(self)
        self._shown_text = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.line)
        layout.addWidget(self.hits)
        self.setFocusProxy(self.line)
        self.line.textEdited.connect(self._typed)
        self.line.installEventFilter(self)
        self.hits.itemClicked.connect(lambda item: self._take(item))

    def set_value(self, function_id: str | None, text: str) -> None:
        self.value = function_id
        self._shown_text = text
        self.line.setText(text)

    def _typed(self, text: str) -> None:
        if not text.strip():
            self.value = None
            self.hits.hide()
            return
        store, query = self.store, text.strip()
        self._search.submit(lambda: store.search_in(query, ["functions"], limit=8), self._show_hits)

    def _show_hits(self, hits) -> None:
        self.hits.clear()
        for hit in hits:
            item = QListWidgetItem(f"{hit.title}, {hit.subtitle}" if hit.subtitle else hit.title)
            item.setData(Qt.ItemDataRole.UserRole, hit.record_id)
            self.hits.addItem(item)
        self.hits.setVisible(bool(hits))
        if hits:
            self.hits.setCurrentRow(0)

    def _take(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        self.set_value(item.data(Qt.ItemDataRole.UserRole), item.text())
        self.hits.hide()
        self.chosen.emit()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        from PySide6.QtCore import QEvent

        if watched is self.line and event.type() == QEvent.Type.KeyPress and self.hits.isVisible():
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = self.hits.currentRow() + (1 if key == Qt.Key.Key_Down else -1)
                self.hits.setCurrentRow(min(max(row, 0), self.hits.count() - 1))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._take(self.hits.currentItem())
                return True
            if key == Qt.Key.Key_Escape:
                self.hits.hide()
                self.line.setText(self._shown_text)
                return True
        return False


class RecordForm(QDialog):
    """One record's fields, each with its error in words below it; Enter (or Ctrl+Enter in a
    text of several lines) saves, Esc cancels."""

    saved = Signal(str)  # the record id

    def __init__(self, store: Any, target: Target, data: FormData, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("recordForm")
        self.store = store
        self.target = target
        self.data = data
        edit_title, new_title, _question = RECORD_WORDS[target.collection]
        words = {"name": target.title, "parent": target.parent_title}
        self.setWindowTitle(
            label(edit_title).format(**words) if target.record_id else label(new_title).format(**words)
        )
        self.widgets: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name in FORMS[target.collection]:
            widget = self._widget(name)
            widget.setObjectName(f"field_{name}")
            widget.setAccessibleName(form_label(name))
            self.widgets[name] = widget
            error = error_label(self, f"error_{name}")
            error.hide()
            self.errors[name] = error
            box = QWidget(self)
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(1)
            column.addWidget(widget)
            column.addWidget(error)
            if isinstance(widget, QCheckBox):  # its own text is its label
                form.addRow("", box)
                continue
            caption = QLabel(form_label(name) + ":", self)
            caption.setBuddy(widget)
            form.addRow(caption, box)
        self.general = error_label(self, "formError")
        self.buttons = QDialogButtonBox(self)
        self.save_button = self.buttons.addButton(tr("Save"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("saveRecord")
        self.save_button.setDefault(True)
        cancel = self.buttons.addButton(tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        cancel.setObjectName("cancelRecord")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        for keys in ("Ctrl+Return", "Ctrl+Enter", "Ctrl+S"):
            QShortcut(QKeySequence(keys), self, activated=self.save)
        hint = QLabel(tr("Enter saves (Ctrl+Enter in a text of several lines); Esc cancels."), self)
        hint.setObjectName("formHint")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.general)
        layout.addWidget(hint)
        layout.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())
        first = self.widgets[FORMS[target.collection][0]]
        first.setFocus(Qt.FocusReason.OtherFocusReason)
        self._saving = False

    # --- widgets ---------------------------------------------------------------------------

    def _widget(self, name: str) -> QWidget:
        collection = self.target.collection
        value = self.data.values.get(name)
        if name == "owner":
            return self._owner_widget()
        spec = COLLECTIONS[collection].fields[name]
        if name in _FUNCTION_REFS:
            picker = FunctionPicker(self.store, self)
            picker.set_value(value, self.data.ref_names.get(name, ""))
            return picker
        if spec.type is FieldType.ENUM:
            combo = QComboBox(self)
            if value is None and name in _EMPTY_MEANS:
                value = _EMPTY_MEANS[name]
            elif not spec.required:
                combo.addItem("–", _NO_CHOICE)
            for choice in spec.choices:
                combo.addItem(choice_label(collection, name, choice), choice)
            index = combo.findData(value if value is not None else (_NO_CHOICE if not spec.required else spec.choices[0]))
            combo.setCurrentIndex(max(index, 0))
            return combo
        if spec.type is FieldType.BOOL:
            box = QCheckBox(form_label(name), self)
            box.setChecked(bool(value))
            return box
        if spec.type is FieldType.INT:
            spin = QSpinBox(self)
            spin.setRange(0, 99)
            spin.setSpecialValueText("–")  # 0: no priority given
            spin.setValue(value or 0)
            return spin
        if spec.type in _MULTILINE:
            text = QPlainTextEdit(self)
            text.setTabChangesFocus(True)
            text.setPlainText(value or "")
            text.setFixedHeight(text.fontMetrics().lineSpacing() * 4 + 12)
            return text
        line = QLineEdit(self)
        if spec.type is FieldType.DATE:
            line.setPlaceholderText(tr("YYYY-MM-DD"))
        line.setText(views.shown_value(self.data.values.get("kind"), value) if name == "value" else (value or ""))
        return line

    def _owner_widget(self) -> QComboBox:
        combo = QComboBox(self)
        values = self.data.values
        for collection, record_id, name in self.data.owners:
            kind = tr("forum") if collection == "forums" else tr("organisation")
            combo.addItem(f"{name} ({kind})", (collection, record_id))
        current = ("forums", values["forum_id"]) if values.get("forum_id") else ("organisations", values.get("organisation_id"))
        combo.setCurrentIndex(max(combo.findData(current), 0))
        return combo

    def _value(self, name: str) -> Any:
        widget = self.widgets[name]
        if isinstance(widget, FunctionPicker):
            return widget.value if widget.line.text().strip() else None
        if isinstance(widget, QComboBox):
            data = widget.currentData()
            return None if data == _NO_CHOICE else data
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QSpinBox):
            return widget.value() or None
        if isinstance(widget, QPlainTextEdit):
            return widget.toPlainText().strip() or None
        text = widget.text().strip()
        return text or None

    def values(self) -> dict[str, Any]:
        """What saving sets: every field of the form (the store leaves out what is unchanged)."""
        out: dict[str, Any] = {}
        for name in self.widgets:
            value = self._value(name)
            if name == "owner":
                collection, record_id = value or (None, None)
                out["forum_id"] = record_id if collection == "forums" else None
                out["organisation_id"] = record_id if collection == "organisations" else None
                continue
            if isinstance(self.widgets[name], QCheckBox) and not value and self.data.values.get(name) is None:
                continue  # an unticked box on a field never set stays unset
            if self.data.values.get(name) is None and value == _EMPTY_MEANS.get(name):
                continue
            out[name] = value
        if self.target.record_id is None:
            out = {**self.target.fixed, **{k: v for k, v in out.items() if v is not None}}
        return out

    # --- saving -----------------------------------------------------------------------------

    def save(self) -> None:
        if self._saving:
            return
        self._saving = True
        for error in self.errors.values():
            error.hide()
        show_error(self.general, "")
        self.save_button.setEnabled(False)
        store, target, values = self.store, self.target, self.values()
        CollectionOp(lambda: save_record(store, target, values), success=self._saved, parent=self).failure(
            self._failed).run()

    def _saved(self, record_id: str) -> None:
        self._saving = False
        self.saved.emit(record_id)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        from desktop.store.errors import InvalidInput

        self._saving = False
        self.save_button.setEnabled(True)
        if isinstance(error, InvalidInput) and error.field in self.errors:
            label_widget = self.errors[error.field]
            show_error(label_widget, field_error_text(error))
            label_widget.show()
            self.widgets[error.field].setFocus(Qt.FocusReason.OtherFocusReason)
            return
        if isinstance(error, InvalidInput) and error.field in ("forum_id", "organisation_id") and "owner" in self.errors:
            show_error(self.errors["owner"], field_error_text(error))
            self.errors["owner"].show()
            return
        from desktop.ui.messages import describe_error

        show_error(self.general, str(error) if isinstance(error, NotAllowed) else describe_error(error))


def save_record(store: Any, target: Target, values: Mapping[str, Any]) -> str:
    """Create or change the record (pool thread): asked of the write rules with the values."""
    from desktop.permissions import may_write

    if target.record_id is None:
        allowed_or_raise(may_write(store, target.collection, "create", None, dict(values)))
        if target.collection == "routine_steps":
            steps = store.list("routine_steps", routine_id=values["routine_id"])
            last = steps[-1]["fields"]["position"] if steps else None
            values = {**values, "position": views.position_after(last)}
        return store.create(target.collection, values)
    allowed_or_raise(may_write(store, target.collection, "update", target.record_id, dict(values)))
    store.update(target.collection, target.record_id, values)
    return target.record_id


# --- deleting, verifying, moving (pool thread) ------------------------------------------------

# What is deleted with a record: what hangs on it and is its owner's (a function's channels, a
# forum's mandates, a routine's steps).
DEPENDENTS = {"functions": ("channels", "function_id"), "forums": ("mandates", "forum_id"),
              "routines": ("routine_steps", "routine_id")}


def dependents_words(collection: str, count: int) -> str:
    """"och dess 3 kontaktvägar": what goes with a deleted record."""
    if collection == "channels":
        return ngettext("and its {count} channel", "and its {count} channels", count).format(count=count)
    if collection == "mandates":
        return ngettext("and its {count} mandate", "and its {count} mandates", count).format(count=count)
    return ngettext("and its {count} step", "and its {count} steps", count).format(count=count)


def dependents(store: Any, target: Target) -> list[str]:
    spec = DEPENDENTS.get(target.collection)
    return store.ids(spec[0], **{spec[1]: target.record_id}) if spec else []


def delete_record(store: Any, target: Target) -> int:
    """Delete the record and what hangs on it, in one transaction; how many records went."""
    from desktop.permissions import may_write

    allowed_or_raise(may_write(store, target.collection, "delete", target.record_id, {}))
    spec = DEPENDENTS.get(target.collection)
    with store.batch():
        gone = 0
        for child in dependents(store, target):
            gone += store.delete(spec[0], child)
        gone += store.delete(target.collection, target.record_id)
    return gone


def verify_today(store: Any, target: Target) -> str:
    from desktop.permissions import may_write

    today = views.today()
    allowed_or_raise(may_write(store, target.collection, "update", target.record_id, {"last_verified": today}))
    store.update(target.collection, target.record_id, {"last_verified": today})
    return today


def move_record(store: Any, target: Target, steps: int) -> bool:
    """Move a channel (its priority) or a routine step (its position) up or down among its
    siblings, writing only the records whose order value changes. False when nothing moved."""
    from desktop.permissions import may_write

    if target.collection == "channels":
        function_id = store.get("channels", target.record_id)["fields"]["function_id"]
        channels = views.channels_by_function(store, [function_id])[function_id]
        order = views.moved([c.channel_id for c in channels], target.record_id, steps)
        changes = {cid: {"priority": p} for cid, p in views.priorities_for(
            order, {c.channel_id: c.priority for c in channels}).items()}
    else:
        routine_id = store.get("routine_steps", target.record_id)["fields"]["routine_id"]
        current = {s["record_id"]: s["fields"]["position"] for s in store.list("routine_steps", routine_id=routine_id)}
        order = views.moved(list(current), target.record_id, steps)
        changes = {sid: {"position": p} for sid, p in views.positions_for(order, current).items()}
    if not changes:
        return False
    with store.batch():
        for record_id, fields in changes.items():
            allowed_or_raise(may_write(store, target.collection, "update", record_id, fields))
            store.update(target.collection, record_id, fields)
    return True


# --- the controller (GUI thread) -------------------------------------------------------------


class Editor:
    """Opens forms and asks questions for a window; every change runs as a CollectionOp."""

    def __init__(self, store: Any, window: QWidget) -> None:
        self.store = store
        self.window = window
        self.form: RecordForm | None = None
        self.question: QMessageBox | None = None

    def _closed(self, which: str, dialog: QWidget, focus: QWidget | None) -> None:
        """A form or question closed: the window is active again, the focus where it was (not
        every platform gives it back by itself)."""
        if getattr(self, which) is dialog:
            setattr(self, which, None)
        self.window.activateWindow()
        if focus is not None and shiboken6.isValid(focus) and focus.isVisible():
            focus.setFocus(Qt.FocusReason.PopupFocusReason)

    def _refused(self, target: Target | None) -> bool:
        if target is None:
            return True
        if not target.permission:
            bridge().report_info(target.permission.text)
            return True
        return False

    def open_form(self, target: Target | None, done: Callable[[str], None] | None = None) -> None:
        if self._refused(target):
            return
        if target.run is not None:
            target.run()
            return
        store = self.store

        def show(data: FormData) -> None:
            form = RecordForm(store, target, data, self.window)
            form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            form.saved.connect(lambda record_id: self._saved(target, record_id, done))
            focus = QApplication.focusWidget()
            form.finished.connect(lambda _result: self._closed("form", form, focus))
            self.form = form
            form.open()

        QueryOp(lambda: read_form(store, target), success=show, parent=self.window).run()

    def _saved(self, target: Target, record_id: str, done) -> None:
        bridge().report_info(tr("Saved. The change is sent at the next synchronisation."))
        if done is not None:
            done(record_id)

    def delete(self, target: Target | None) -> None:
        if self._refused(target):
            return
        store = self.store
        QueryOp(lambda: len(dependents(store, target)), success=lambda count: self._confirm_delete(target, count),
                parent=self.window).run()

    def _confirm_delete(self, target: Target, count: int) -> None:
        _edit, _new, question = RECORD_WORDS[target.collection]
        text = label(question).format(name=target.title, parent=target.parent_title)
        if count:
            spec = DEPENDENTS[target.collection]
            text = text.rstrip("?") + " " + dependents_words(spec[0], count) + "?"
        box = QMessageBox(QMessageBox.Icon.Warning, tr("Delete"), text, QMessageBox.StandardButton.NoButton, self.window)
        box.setObjectName("confirmDelete")
        box.setInformativeText(tr("The deletion is sent to the others at the next synchronisation."))
        delete = box.addButton(tr("&Delete"), QMessageBox.ButtonRole.DestructiveRole)
        delete.setObjectName("confirmDeleteButton")
        keep = box.addButton(tr("&Keep"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        store = self.store

        def answered(button) -> None:
            if box.clickedButton() is delete:
                CollectionOp(lambda: delete_record(store, target), parent=self.window,
                             success=lambda _n: bridge().report_info(tr("Deleted: {name}.", name=target.title))).run()

        box.buttonClicked.connect(answered)
        focus = QApplication.focusWidget()
        box.finished.connect(lambda _result: self._closed("question", box, focus))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.question = box
        box.open()

    def verify(self, target: Target | None) -> None:
        if self._refused(target):
            return
        store = self.store
        CollectionOp(lambda: verify_today(store, target), parent=self.window, success=lambda day: bridge().report_info(
            tr("{name}: verified {date}.", name=target.title, date=day))).run()

    def move(self, target: Target | None, steps: int, done: Callable[[], None] | None = None) -> None:
        if self._refused(target):
            return
        store = self.store
        CollectionOp(lambda: move_record(store, target, steps), parent=self.window,
                     success=lambda _moved: done() if done else None).run()
