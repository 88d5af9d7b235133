"""Activated mode in the window by keyboard alone, on the demo region: activate a forum, call it out with 1–4 and Ctrl+C, tick a step, write an entry and its correction, a situation report, report back, end — real key events, a real SQLCipher store."""

from __future__ import annotations

import shiboken6
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from desktop.activation import ActivationService
from desktop.store.demo import demo_record_id

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
FORUM = demo_record_id("forum-samverkanskonferens")


def closed(widget) -> bool:
    return widget is None or not shiboken6.isValid(widget) or not widget.isVisible()


def focused(name: str) -> bool:
    widget = QApplication.focusWidget()
    return widget is not None and widget.objectName() == name


def choose_forum(running, typed: str = "samverkansk") -> None:
    """Ctrl+3, then the forum typed (the tree finds it as it is typed)."""
    running.key(Qt.Key.Key_3, CTRL)
    forums = running.main.views["forums"]
    running.qtbot.waitUntil(lambda: forums.loaded and forums.tree.hasFocus())
    running.type(typed)
    running.qtbot.waitUntil(lambda: running.main.current_forum() is not None
                            and running.main.current_forum()[0] == FORUM)


def activate(running, reason: str, *, exercise: bool) -> str:
    """Ctrl+Shift+A on the chosen forum, the reason typed, exercise or real chosen, Enter."""
    main = running.main
    running.key(Qt.Key.Key_A, CTRL | SHIFT)
    running.qtbot.waitUntil(lambda: main.activate_dialog is not None and main.activate_dialog.reason.hasFocus())
    dialog = main.activate_dialog
    running.type(reason)
    assert not dialog.save_button.isEnabled(), "exercise or real is chosen, never assumed"
    running.key(Qt.Key.Key_V if exercise else Qt.Key.Key_S, ALT)  # Ö&vning, &Skarpt läge
    chosen = dialog.exercise if exercise else dialog.real
    running.qtbot.waitUntil(chosen.isChecked)
    running.key(Qt.Key.Key_Return)
    running.qtbot.waitUntil(lambda: main.activate_dialog is None and "activations" in main.views, timeout=10_000)
    view = main.views["activations"]
    running.qtbot.waitUntil(lambda: view.page.call is not None and view.page.summary is not None
                            and view.page.summary.reason == reason and focused("callList"), timeout=10_000)
    return view.page.activation_id


def test_the_whole_activation_by_keyboard(running) -> None:
    main, qtbot = running.main, running.qtbot
    store = running.application.session.store
    service = ActivationService(store)
    choose_forum(running)
    activation_id = activate(running, "Strömavbrott Södertörn", exercise=True)
    page = main.views["activations"].page

    # The banner across the window, the notification decision, the forum marked in every list.
    banner = main.findChild(QWidget, "activationBanner")
    qtbot.waitUntil(lambda: banner.isVisible() and bool(main.banner.texts()))
    [text] = main.banner.texts()
    assert text == "◆ ÖVNING · AKTIVERAT: Samverkanskonferens (veckovis) — Strömavbrott Södertörn — 00:00 sedan aktivering"
    qtbot.waitUntil(lambda: bool(main.notifier.decisions))
    decision, title, words = main.notifier.decisions[0]
    assert decision == "no-tray"  # offscreen has no system tray: the banner alone carries it
    assert title == "ÖVNING – AKTIVERAT: Samverkanskonferens (veckovis)"
    assert "Strömavbrott Södertörn" in words
    assert page.exercise.isVisible() and page.exercise.text().strip() == "◆ ÖVNING"
    listed = main.views["activations"].list_model
    qtbot.waitUntil(lambda: listed.rowCount() == 1)  # the list is read again on a pool thread
    assert listed.item(0).text().startswith("● Pågår · ◆ ÖVNING")

    # The call list: 1 2 3 4 on four functions, Ctrl+C the number to dial.
    rows = page.call_model.rows
    assert rows[0].role == "convenor" and all(row.unreached for row in rows)
    assert page.call_summary.text().startswith(f"⚠ {len(rows)} av {len(rows)} ännu inte nådda")
    assert page.call_model.index(0, 0).data() == "⚠ ej försökt"
    for key, status in ((Qt.Key.Key_2, "reached"), (Qt.Key.Key_1, "no_answer"), (Qt.Key.Key_3, "attending"),
                        (Qt.Key.Key_4, "declined")):
        row = page.call_table.currentIndex().row()
        running.key(key)
        qtbot.waitUntil(lambda row=row, status=status: page.call_model.rows[row].status == status, timeout=5000)
        running.key(Qt.Key.Key_Down)
    statuses = {r.function_id: r.status for r in service.call_list(activation_id).rows}
    assert [statuses[r.function_id] for r in rows[:4]] == ["reached", "no_answer", "attending", "declined"]
    assert page.call_model.index(0, 0).data() == "● nådd"
    assert page.call_model.index(1, 0).data() == "⚠ inget svar", "no answer is still unreached: it stands out"
    assert page.call_model.index(0, 5).data().startswith("efter ")
    running.key(Qt.Key.Key_Up)
    running.key(Qt.Key.Key_C, CTRL)
    row = page.current_row()
    assert QGuiApplication.clipboard().text() == row.channels[0].dial
    running.key(Qt.Key.Key_Return)  # to the function's channels, the second one copied
    qtbot.waitUntil(lambda: focused("callChannels"))
    running.key(Qt.Key.Key_Down)
    running.key(Qt.Key.Key_C, CTRL)
    assert QGuiApplication.clipboard().text() == row.channels[1].dial

    # A checklist step ticked with space (an append-only mark), and unticked, and ticked again.
    running.key(Qt.Key.Key_L, ALT)  # Check&listor
    qtbot.waitUntil(lambda: focused("checklists") and page.current_step() is not None)
    step_id, done = page.current_step()
    assert not done
    running.key(Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: page.current_step() == (step_id, True))
    running.key(Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: page.current_step() == (step_id, False))
    running.key(Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: page.current_step() == (step_id, True))
    [step] = [s for c in service.checklists(activation_id) for s in c.steps if s.step_id == step_id]
    assert step.done and step.marks == 3
    assert page.steps.currentIndex().siblingAtColumn(0).data() == "☑ klar"

    # The journal: an entry, then a correction of it (Ctrl+N, Ctrl+E), threaded.
    running.key(Qt.Key.Key_D, ALT)  # &Dagbok
    qtbot.waitUntil(lambda: focused("journal"))
    running.key(Qt.Key.Key_N, CTRL)
    qtbot.waitUntil(lambda: page.dialog is not None and focused("entryText"))
    assert page.dialog.windowTitle() == "ÖVNING – Ny dagbokspost – Samverkanskonferens (veckovis)"
    running.type("Beslut: regional samordning i aktiverat läge")
    running.key(Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: page.dialog is None and page.journal_model.rowCount() == 1 and focused("journal"))
    running.key(Qt.Key.Key_E, CTRL)
    qtbot.waitUntil(lambda: page.dialog is not None and focused("entryText"))
    assert page.dialog.windowTitle().startswith("ÖVNING – Rättelse av post")
    running.type("Gäller Södertörn och Nynäshamn")
    running.key(Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: page.dialog is None and page.journal_model.rowCount() == 2)
    journal = service.journal(activation_id)
    [(first, first_depth), (correction, correction_depth)] = journal.threaded()
    assert (first_depth, correction_depth) == (0, 1)
    assert correction.corrects == first.entry_id and first.text.startswith("Beslut:")
    assert page.journal_model.index(1, 4).data().startswith("↳ Rättelse av ")
    assert page.chain.text().startswith("✓ Dagboken är oförändrad")
    assert "2 poster är ännu inte ordnade" in page.chain.text(), "not sequenced: a standalone vault never syncs"
    assert page.journal_model.index(0, 0).data() == "ej i ordning än"

    # A situation report in the agenda's sections (Ctrl+Shift+L).
    running.key(Qt.Key.Key_L, CTRL | SHIFT)
    qtbot.waitUntil(lambda: page.dialog is not None and focused("situationParty"))
    first_party = page.dialog.parties[0][0]
    running.type("Läget är stabilt")
    running.key(Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: page.dialog is None and page.journal_model.rowCount() == 3)
    report = service.journal(activation_id).entries[-1]
    assert report.kind == "situation_report"
    assert [(p.party, p.text) for p in report.situation.party_reports] == [(first_party, "Läget är stabilt")]
    assert "Lägesbild" in page.journal_model.index(2, 4).data()

    # Report-back through the command palette (a standalone vault names the organisation).
    running.key(Qt.Key.Key_P, CTRL | SHIFT)
    qtbot.waitUntil(lambda: getattr(main, "command_palette", None) is not None and focused("commandPaletteField"))
    running.type("återrapportering")
    running.key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.dialog is not None and focused("reportBackMeeting"))
    organisation = page.dialog.organisation.currentText()
    running.type("14:30")
    running.key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.dialog is None and focused("reportBacks"))
    backs = service.report_backs(activation_id)
    assert [r.organisation_name for r in backs.reported()] == [organisation]
    qtbot.waitUntil(lambda: page.report_summary.text().startswith("Efter mötet "))
    assert "1 av " in page.report_summary.text()

    # End it: asked first; Enter alone keeps it going.
    running.key(Qt.Key.Key_P, CTRL | SHIFT)
    qtbot.waitUntil(lambda: focused("commandPaletteField"))
    running.type("avsluta aktivering")
    running.key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.dialog is not None and focused("endNote"))
    end_dialog = page.dialog
    running.key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: closed(end_dialog) and focused("reportBacks"))
    assert service.summary(activation_id).is_open
    running.key(Qt.Key.Key_P, CTRL | SHIFT)
    qtbot.waitUntil(lambda: focused("commandPaletteField"))
    running.type("avsluta aktivering")
    running.key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.dialog is not None and focused("endNote"))
    running.type("Elen är tillbaka")
    running.key(Qt.Key.Key_A, ALT)
    qtbot.waitUntil(lambda: not service.summary(activation_id).is_open)
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: page.summary is not None and not page.summary.is_open)
    assert page.state.text().startswith("✓ Avslutad ")
    assert service.summary(activation_id).ended_at, "ended_at set"
    closing = service.journal(activation_id).entries[-1]
    assert closing.text.endswith("Elen är tillbaka") and closing.text != "Elen är tillbaka", "a closing entry"
    assert store.get_meta("sync.organisation_id") is None, "a standalone vault: all of it offline"
    assert not page.end_button.isEnabled()


def test_an_activated_forum_is_marked_in_the_forums_list_search_hits_and_its_detail(running) -> None:
    main, qtbot = running.main, running.qtbot
    store = running.application.session.store
    ActivationService(store).activate(FORUM, "Storm", exercise=False)  # as if a sync brought it
    main.refresh_views()
    qtbot.waitUntil(lambda: main.banner.texts() == [
        "● AKTIVERAT: Samverkanskonferens (veckovis) — Storm — 00:00 sedan aktivering"])
    choose_forum(running)
    forums = main.views["forums"]
    mode = forums.tree.currentIndex().siblingAtColumn(1)
    assert mode.data() == "● AKTIVERAT"
    qtbot.waitUntil(lambda: "AKTIVERAT" in forums.detail.body.toPlainText())
    assert "sedan " in forums.detail.body.toPlainText() and "Storm" in forums.detail.body.toPlainText()
    running.key(Qt.Key.Key_K, CTRL)
    running.type("samverkanskonferens")
    view = main.search_view
    qtbot.waitUntil(lambda: view.model.query == "samverkanskonferens" and bool(view.model.hits))
    from desktop.ui.search import ACTIVATION_ROLE

    forum_rows = [row for row in range(view.model.rowCount()) if view.model.hits[row].collection == "forums"]
    assert forum_rows
    index = view.model.index(forum_rows[0])
    assert index.data(ACTIVATION_ROLE) is not None
    assert index.data(Qt.ItemDataRole.AccessibleTextRole).endswith(", ● AKTIVERAT")
    # Activating it again opens the activation instead.
    choose_forum(running)
    running.key(Qt.Key.Key_A, CTRL | SHIFT)
    qtbot.waitUntil(lambda: main.current_view_key() == "activations"
                    and main.views["activations"].page.summary is not None)
    assert main.activate_dialog is None
    assert main.views["activations"].page.summary.reason == "Storm"
