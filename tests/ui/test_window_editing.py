"""Editing by keyboard alone: forms (Ctrl+E, Ctrl+N), validation beside the field, deleting (Del) with a confirmation, "Verified today", moving channels and steps — real key events, a real SQLCipher store and its outbox."""

from __future__ import annotations

import datetime

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.store.demo import demo_record_id

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier


def open_tib_sos(running) -> None:
    """Type "tib sos", Enter: SOS Alarm's TiB is shown, its first channel chosen."""
    view = running.main.search_view
    running.type("tib sos")
    running.key(Qt.Key.Key_Return)
    running.qtbot.waitUntil(lambda: view.detail.detail is not None and view.detail.channels.hasFocus()
                            and view.detail.rights is not None)


def wait_form(running):
    editor = running.main.editor
    running.qtbot.waitUntil(lambda: editor.form is not None and editor.form.isVisible()
                            and editor.form.isAncestorOf(QApplication.focusWidget()), timeout=5000)
    return editor.form


def choose_in_list(running, key, view_key: str, record_id: str):
    """Ctrl+3 or Ctrl+4, then the record chosen in the view's list (its detail loaded)."""
    from desktop.views import detail_key

    running.key(key, CTRL)
    view = running.main.views[view_key]
    running.qtbot.waitUntil(lambda: view.loaded)
    view.tree.setCurrentIndex(view._find(record_id))  # noqa: SLF001
    running.qtbot.waitUntil(lambda: view.tree.hasFocus() and view.detail.rights is not None
                            and detail_key(view.detail.detail) == (view_key, record_id))
    return view


def closed(widget) -> bool:
    return not shiboken6.isValid(widget) or not widget.isVisible()


def replace_text(running, text: str) -> None:
    running.key(Qt.Key.Key_A, CTRL)
    running.key(Qt.Key.Key_Backspace)
    running.type(text)


def test_editing_a_function_by_keyboard_puts_the_change_in_the_outbox(running) -> None:
    store = running.application.session.store
    before = store.outbox_count()
    open_tib_sos(running)
    running.key(Qt.Key.Key_K, CTRL)  # back to the search field: Ctrl+E edits the record opened
    running.key(Qt.Key.Key_E, CTRL)
    form = wait_form(running)
    assert form.windowTitle() == "Redigera funktionen Tjänsteman i beredskap (TiB)"
    assert QApplication.focusWidget() is form.widgets["name"]
    running.key(Qt.Key.Key_Tab)  # to the short name
    replace_text(running, "TiB SOS")
    running.key(Qt.Key.Key_Return)
    running.qtbot.waitUntil(lambda: closed(form), timeout=5000)
    record = store.get("functions", demo_record_id("fn-sos-tib"))
    assert record["fields"]["short_name"] == "TiB SOS"
    assert store.outbox_count() == before + 1, "one change: the field that changed"
    [entry] = store.outbox_pending(limit=10_000)[-1:]
    assert entry.record_id == demo_record_id("fn-sos-tib") and entry.fields == {"short_name": "TiB SOS"}
    detail = running.main.search_view.detail
    running.qtbot.waitUntil(lambda: detail.title.text() == "Tjänsteman i beredskap (TiB SOS)", timeout=5000)


def test_a_refused_value_is_said_beside_its_field_and_nothing_is_saved(running) -> None:
    store = running.application.session.store
    before = store.outbox_count()
    open_tib_sos(running)
    running.key(Qt.Key.Key_E, CTRL)  # the focus is on the first channel: it is edited
    form = wait_form(running)
    assert form.windowTitle() == "Redigera kontaktvägen 070-174 06 99 (Mobil)"
    running.key(Qt.Key.Key_Tab)  # kind → number
    assert QApplication.focusWidget() is form.widgets["value"]
    replace_text(running, "ring växeln")
    running.key(Qt.Key.Key_Return)
    error = form.errors["value"]
    running.qtbot.waitUntil(error.isVisible, timeout=5000)
    assert "Nummer eller adress" in error.text() and "inget giltigt telefonnummer" in error.text()
    assert form.isVisible() and QApplication.focusWidget() is form.widgets["value"]
    assert store.outbox_count() == before
    replace_text(running, "070 174 06 55")
    running.key(Qt.Key.Key_Return)
    running.qtbot.waitUntil(lambda: closed(form), timeout=5000)
    assert store.get("channels", demo_record_id("ch-sos-tib-1"))["fields"]["value"] == "+46701740655"
    assert store.outbox_count() == before + 1


def test_an_empty_name_is_refused_in_words(running) -> None:
    open_tib_sos(running)
    running.key(Qt.Key.Key_K, CTRL)
    running.key(Qt.Key.Key_E, CTRL)
    form = wait_form(running)
    replace_text(running, "")
    running.key(Qt.Key.Key_Return)
    running.qtbot.waitUntil(form.errors["name"].isVisible, timeout=5000)
    assert form.errors["name"].text() == "⚠ Fältet ”Namn” måste fyllas i."
    running.key(Qt.Key.Key_Escape)
    running.qtbot.waitUntil(lambda: closed(form))
    assert running.application.session.store.get("functions", demo_record_id("fn-sos-tib"))["fields"]["name"] == "Tjänsteman i beredskap"


def test_a_channel_is_created_and_deleted_by_keyboard(running) -> None:
    store = running.application.session.store
    function_id = demo_record_id("fn-sos-tib")
    open_tib_sos(running)
    detail = running.main.search_view.detail
    running.key(Qt.Key.Key_N, CTRL)
    form = wait_form(running)
    assert form.windowTitle() == "Ny kontaktväg för Tjänsteman i beredskap (TiB)"
    running.key(Qt.Key.Key_Down)  # kind: Telefon → Mobil
    assert form.widgets["kind"].currentData() == "mobile"
    running.key(Qt.Key.Key_Tab)
    running.type("070-174 06 50")
    running.key(Qt.Key.Key_Tab)
    running.type("Reservmobil")
    running.key(Qt.Key.Key_Return)
    running.qtbot.waitUntil(lambda: closed(form), timeout=5000)
    [made] = [c for c in store.list("channels", function_id=function_id) if c["fields"]["label"] == "Reservmobil"]
    assert made["fields"]["value"] == "+46701740650" and made["fields"]["kind"] == "mobile"
    running.qtbot.waitUntil(lambda: detail.current_channel_id() == made["record_id"] and detail.channels.hasFocus(),
                            timeout=5000)
    outbox = store.outbox_count()

    running.key(Qt.Key.Key_Delete)
    running.qtbot.waitUntil(lambda: running.main.editor.question is not None and running.main.editor.question.isVisible())
    box: QMessageBox = running.main.editor.question
    assert box.text() == "Ta bort kontaktvägen 070-174 06 50 (Mobil) från Tjänsteman i beredskap (TiB)?"
    assert box.defaultButton().text().replace("&", "") == "Behåll", "Enter alone never deletes"
    running.key(Qt.Key.Key_T, ALT)  # &Ta bort
    running.qtbot.waitUntil(lambda: store.get("channels", made["record_id"])["deleted"], timeout=5000)
    assert store.outbox_count() == outbox + 1
    running.qtbot.waitUntil(lambda: len(detail.detail.channels) == 3, timeout=5000)


def test_deleting_a_function_names_its_channels_and_takes_them_with_it(running) -> None:
    store = running.application.session.store
    main = running.main
    main.show_view("directory")
    directory = main.views["directory"]
    running.qtbot.waitUntil(lambda: directory.orgs.rowCount() > 0)
    directory.organisations.setCurrentIndex(directory.orgs.index(directory.orgs.row_of(demo_record_id("org-sos"))))
    running.qtbot.waitUntil(lambda: directory.functions_model.rowCount() == 5)
    directory.organisations.setFocus()
    running.key(Qt.Key.Key_Right)
    running.qtbot.waitUntil(lambda: directory.detail.rights is not None
                            and getattr(directory.detail.detail, "function_id", None) == directory.functions_model.ids[0])
    press = directory.functions_model.ids[0]
    assert store.get("functions", press)["fields"]["name"] == "Presstjänst"
    running.key(Qt.Key.Key_Delete)
    running.qtbot.waitUntil(lambda: main.editor.question is not None and main.editor.question.isVisible())
    assert main.editor.question.text() == "Ta bort funktionen Presstjänst och dess 2 kontaktvägar?"
    running.key(Qt.Key.Key_T, ALT)
    running.qtbot.waitUntil(lambda: store.get("functions", press)["deleted"], timeout=5000)
    assert store.count("channels", function_id=press) == 0
    running.qtbot.waitUntil(lambda: directory.functions_model.rowCount() == 4, timeout=5000)


def test_delete_in_the_search_field_deletes_a_character_not_a_record(running) -> None:
    store = running.application.session.store
    before = store.outbox_count()
    open_tib_sos(running)
    running.key(Qt.Key.Key_K, CTRL)
    running.key(Qt.Key.Key_Home)
    running.key(Qt.Key.Key_Delete)
    assert running.main.field.text() == "ib sos"
    assert running.main.editor.question is None and store.outbox_count() == before


def test_channels_move_up_and_down_in_priority_by_keyboard(running) -> None:
    store = running.application.session.store
    open_tib_sos(running)
    detail = running.main.search_view.detail
    running.key(Qt.Key.Key_Down)  # Rakel, priority 2
    running.key(Qt.Key.Key_Up, ALT)
    rakel, mobile = demo_record_id("ch-sos-tib-2"), demo_record_id("ch-sos-tib-1")
    running.qtbot.waitUntil(lambda: store.get("channels", rakel)["fields"]["priority"] == 1, timeout=5000)
    assert store.get("channels", mobile)["fields"]["priority"] == 2
    running.qtbot.waitUntil(lambda: [c.channel_id for c in detail.detail.channels][:2] == [rakel, mobile], timeout=5000)
    assert detail.current_channel_id() == rakel, "the moved channel stays chosen"
    running.key(Qt.Key.Key_Down, ALT)
    running.qtbot.waitUntil(lambda: store.get("channels", rakel)["fields"]["priority"] == 2, timeout=5000)


def test_verified_today_is_one_key(running) -> None:
    store = running.application.session.store
    open_tib_sos(running)
    running.key(Qt.Key.Key_V, CTRL | Qt.KeyboardModifier.ShiftModifier)
    today = datetime.date.today().isoformat()
    running.qtbot.waitUntil(lambda: store.get("functions", demo_record_id("fn-sos-tib"))["fields"]["last_verified"] == today,
                            timeout=5000)
    detail = running.main.search_view.detail
    running.qtbot.waitUntil(lambda: today in detail.body.toPlainText(), timeout=5000)


def test_a_mandate_is_added_to_a_forum_by_keyboard_with_a_function_found_by_typing(running) -> None:
    store = running.application.session.store
    main = running.main
    forum = demo_record_id("forum-samverkanskonferens")
    view = choose_in_list(running, Qt.Key.Key_3, "forums", forum)
    members = len(view.detail.detail.members)
    running.key(Qt.Key.Key_Return)  # into the forum's members
    running.qtbot.waitUntil(lambda: view.detail.items.hasFocus())
    assert view.detail.items.objectName() == "members"
    running.key(Qt.Key.Key_N, CTRL)
    form = wait_form(running)
    assert form.windowTitle() == "Nytt mandat i Samverkanskonferens (veckovis)"
    running.type("presstjänst sos")
    picker = form.widgets["function_id"]
    running.qtbot.waitUntil(lambda: picker.hits.isVisible(), timeout=5000)
    running.key(Qt.Key.Key_Return)  # takes the first hit
    assert picker.value == demo_record_id("fn-sos-press")
    running.key(Qt.Key.Key_Tab)  # the role: observer
    for _ in range(4):
        running.key(Qt.Key.Key_Down)
    assert form.widgets["role"].currentData() == "observer"
    running.key(Qt.Key.Key_Tab)
    running.type("Tar del av lägesbilden för SOS Alarms kommunikation.")
    running.key(Qt.Key.Key_Return, CTRL)
    running.qtbot.waitUntil(lambda: closed(form), timeout=5000)
    [made] = store.list("mandates", forum_id=forum, function_id=demo_record_id("fn-sos-press"))
    assert made["fields"]["role"] == "observer"
    running.qtbot.waitUntil(lambda: view.detail.detail is not None and len(view.detail.detail.members) == members + 1
                            and view.detail.items.current_id() == made["record_id"], timeout=5000)


def test_routine_steps_move_by_keyboard(running) -> None:
    store = running.application.session.store
    routine = demo_record_id("routine-sammankalla-aktiverat")
    view = choose_in_list(running, Qt.Key.Key_4, "routines", routine)
    running.key(Qt.Key.Key_Return)
    running.qtbot.waitUntil(lambda: view.detail.items.hasFocus())
    first, second = view.detail.items.ids()[:2]
    running.key(Qt.Key.Key_Down, ALT)
    running.qtbot.waitUntil(lambda: store.ids("routine_steps", routine_id=routine)[:2] == [second, first], timeout=5000)
    running.qtbot.waitUntil(lambda: view.detail.items.ids()[:2] == [second, first] and view.detail.items.current_id() == first,
                            timeout=5000)
    running.key(Qt.Key.Key_Up, ALT)
    running.qtbot.waitUntil(lambda: store.ids("routine_steps", routine_id=routine)[:2] == [first, second], timeout=5000)
