"""Activated mode across organisations, against a real server: an activation made on Länsstyrelsen's device reaches SOS Alarm's window after a sync (banner, tray decision, the same verified journal), and a non-member's window may read but not write."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.activation import ActivationService
from tests.ui.conftest import enrolled_vault

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


class Device:
    """Another real device (store and sync engine) of an organisation on the server."""

    def __init__(self, server, org: str, role: str, folder: Path, name: str) -> None:
        from desktop.store import Store
        from desktop.syncer.engine import SyncEngine
        from desktop.syncer.enroll import enroll

        self.store = Store.open(folder / "samverka.db", os.urandom(32))
        enroll(self.store, server.url, server.code(org, role), device_name=name)
        self.engine = SyncEngine(self.store, digest_interval=0)
        self.engine.sync_now()
        self.service = ActivationService(self.store)

    def sync(self):
        return self.engine.sync_now()

    def close(self) -> None:
        self.engine.close()
        self.store.close()


@dataclass
class Region:
    server: object
    lst: Device  # Länsstyrelsen: the regional administrator, the forum's convenor
    forum: str
    lst_tib: str
    sos_vb: str


def _function(device: Device, org_id: str, name: str, short: str, phone: str) -> str:
    with device.store.batch():
        function_id = device.store.create("functions", {"organisation_id": org_id, "name": name, "short_name": short})
        device.store.create("channels", {"function_id": function_id, "kind": "mobile", "value": phone, "priority": 1})
        device.store.create("channels", {"function_id": function_id, "kind": "rakel", "value": "ISSI 9990121",
                                         "priority": 2, "resilient": True})
    return function_id


@pytest.fixture
def region(sync_server, tmp_path: Path):
    """Länsstyrelsen convenes "Samverkanskonferens"; SOS Alarm's duty officer sits in it; the
    fire service (SBFF) does not."""
    server = sync_server()
    lst = Device(server, "lst", "regional_admin", tmp_path / "lst", "Laptop LST")
    sos = Device(server, "sos", "member", tmp_path / "sos", "Laptop SOS")
    try:
        lst_tib = _function(lst, server.org_ids["lst"], "Tjänsteman i beredskap", "TiB", "070-174 06 05")
        sos_vb = _function(sos, server.org_ids["sos"], "Vakthavande befäl", "VB SOS", "070-174 06 63")
        sos.sync()
        lst.sync()
        with lst.store.batch():
            forum = lst.store.create("forums", {"name": "Samverkanskonferens", "level": "coordinating",
                                                "convenor_function_id": lst_tib})
            lst.store.create("mandates", {"forum_id": forum, "function_id": sos_vb, "role": "member",
                                          "mandate": "Rapporterar SOS Alarms läge"})
            routine = lst.store.create("routines", {"title": "Sammankalla", "forum_id": forum, "mode": "activated"})
            lst.store.create("routine_steps", {"routine_id": routine, "position": "a0", "text": "Larma ut"})
        lst.sync()
    finally:
        sos.close()
    yield Region(server, lst, forum, lst_tib, sos_vb)
    lst.close()


def start_window(start_app, tmp_path: Path, server, org: str):
    data_dir = tmp_path / f"window-{org}"
    enrolled_vault(data_dir, server, org)
    app = start_app(data_dir)
    app.unlock()
    store = app.application.session.store
    app.qtbot.waitUntil(lambda: app.main.status.state.text() == "● Ansluten" and store.count("forums") == 1,
                        timeout=20_000)
    return app


def focused(name: str) -> bool:
    widget = QApplication.focusWidget()
    return widget is not None and widget.objectName() == name


def sync_window(app) -> None:
    """Ctrl+Shift+S, and wait until the sync has ended and nothing is left to send."""
    status = app.main.status
    store = app.application.session.store
    app.key(Qt.Key.Key_S, CTRL | SHIFT)
    app.qtbot.waitUntil(lambda: status.state.text() == "● Ansluten" and store.outbox_count() == 0
                        and not app.application.session.engine.status().state == "syncing", timeout=20_000)


def test_an_activation_arrives_after_a_sync_with_banner_notification_and_the_same_verified_journal(
        start_app, tmp_path, region) -> None:
    app = start_window(start_app, tmp_path, region.server, "sos")
    main, qtbot = app.main, app.qtbot
    assert not main.banner.isVisible()
    lst = region.lst.service
    activation_id = lst.activate(region.forum, "Strömavbrott Södertörn", exercise=True)
    first = lst.write_entry(activation_id, "Beslut: regionalt aktiverat läge", kind="decision")
    lst_event = lst.record_callout(activation_id, region.sos_vb, "no_answer")  # Länsstyrelsen's officer calls SOS
    region.lst.sync()

    sync_window(app)
    qtbot.waitUntil(lambda: main.banner.isVisible() and bool(main.banner.texts()), timeout=10_000)
    assert main.banner.texts()[0].startswith("◆ ÖVNING · AKTIVERAT: Samverkanskonferens — Strömavbrott Södertörn — ")
    qtbot.waitUntil(lambda: bool(main.notifier.decisions))
    [(decision, title, text)] = main.notifier.decisions
    assert decision == "no-tray" and not main.notifier.available()  # offscreen: no system tray
    assert title == "ÖVNING – AKTIVERAT: Samverkanskonferens"
    assert text == "Skäl: Strömavbrott Södertörn\nAktiverat av Tjänsteman i beredskap (TiB), Länsstyrelsen Stockholm"
    store = app.application.session.store
    from desktop.ui.activation_watch import META_ANNOUNCED

    # announced once (kept in the store): a restart does not announce it again
    qtbot.waitUntil(lambda: store.get_meta(META_ANNOUNCED) == [activation_id])

    # The forum marked in the lists.
    app.key(Qt.Key.Key_3, CTRL)
    forums = main.views["forums"]
    qtbot.waitUntil(lambda: forums.loaded and forums.tree.hasFocus())
    app.type("samv")
    qtbot.waitUntil(lambda: forums.tree.currentIndex().siblingAtColumn(1).data() == "● AKTIVERAT · ◆ ÖVNING")

    # The journal, as the server ordered and chained it.
    app.key(Qt.Key.Key_5, CTRL)
    page = main.views["activations"].page
    qtbot.waitUntil(lambda: page.activation_id == activation_id and page.journal is not None
                    and page.call is not None, timeout=10_000)
    app.key(Qt.Key.Key_Return)  # from the list into the page
    app.key(Qt.Key.Key_D, ALT)
    qtbot.waitUntil(lambda: focused("journal"))
    assert page.journal_model.index(0, 0).data() == "#1"
    assert page.chain.text().startswith("✓ Dagboken är oförändrad. Dagbokens kedja är intakt: 1 post i")

    # SOS Alarm writes an entry by keyboard: not sequenced until the next sync, then #2.
    app.key(Qt.Key.Key_N, CTRL)
    qtbot.waitUntil(lambda: page.dialog is not None and focused("entryText"))
    app.type("SOS: hög belastning på 112")
    app.key(Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: page.journal_model.rowCount() == 2)
    assert page.journal_model.index(1, 0).data() == "ej i ordning än"
    assert page.journal_model.index(1, 3).data() == "Vakthavande befäl (VB SOS), SOS Alarm"
    # and marks Länsstyrelsen's TiB reached in the call list
    app.key(Qt.Key.Key_U, ALT)
    qtbot.waitUntil(lambda: focused("callList"))
    assert page.current_row().function_id == region.lst_tib
    app.key(Qt.Key.Key_2)
    qtbot.waitUntil(lambda: page.call_model.rows[0].status == "reached")
    sync_window(app)
    qtbot.waitUntil(lambda: page.journal is not None and page.journal.check.sequenced == 2, timeout=10_000)
    assert [page.journal_model.index(r, 0).data() for r in range(2)] == ["#1", "#2"]
    assert page.chain.text().startswith("✓ Dagboken är oförändrad. Dagbokens kedja är intakt: 2 poster")

    # Länsstyrelsen's device holds the same journal, in the same order, with the same chain head.
    region.lst.sync()
    theirs = lst.journal(activation_id)
    ours = ActivationService(store).journal(activation_id)
    assert [e.entry_id for e in theirs.entries] == [e.entry_id for e in ours.entries]
    assert theirs.entries[0].entry_id == first
    assert theirs.check.ok and ours.check.ok and theirs.check.head == ours.check.head
    assert {r.function_id: r.status for r in lst.call_list(activation_id).rows}[region.lst_tib] == "reached"
    # both officers' call-out events on both devices, in the same order (Länsstyrelsen's first)
    theirs_events = [(e.function_id, e.status) for e in lst.call_list(activation_id).events]
    ours_events = [(e.function_id, e.status) for e in ActivationService(store).call_list(activation_id).events]
    assert theirs_events == ours_events == [(region.sos_vb, "no_answer"), (region.lst_tib, "reached")]
    assert lst_event in {e.event_id for e in ActivationService(store).call_list(activation_id).events}
    assert {r.function_id: r.status for r in page.call_model.rows}[region.sos_vb] == "no_answer"


def test_a_non_member_reads_the_activation_but_may_not_write_and_is_told_why(start_app, tmp_path, region) -> None:
    app = start_window(start_app, tmp_path, region.server, "sbff")  # Storstockholms brandförsvar: not in the forum
    main, qtbot = app.main, app.qtbot
    store = app.application.session.store

    # Aktivera forum: refused, in the rules' words.
    app.key(Qt.Key.Key_3, CTRL)
    forums = main.views["forums"]
    qtbot.waitUntil(lambda: forums.loaded and forums.tree.hasFocus())
    app.type("samv")
    qtbot.waitUntil(lambda: main.current_forum() is not None)
    app.key(Qt.Key.Key_A, CTRL | SHIFT)
    qtbot.waitUntil(lambda: main.activation_refusal is not None and main.activation_refusal.isVisible())
    refusal = ActivationService(store).may_activate(region.forum)
    assert not refusal and main.activation_refusal.text() == refusal.text
    assert "Länsstyrelsen" in refusal.text or "sammankallande" in refusal.text
    app.key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: main.activation_refusal is None and forums.tree.hasFocus())
    assert store.count("activations") == 0

    # Länsstyrelsen activates; the fire service sees it (marked) but has no banner: not its forum.
    activation_id = region.lst.service.activate(region.forum, "Storm", exercise=False)
    region.lst.sync()
    sync_window(app)
    qtbot.waitUntil(lambda: main.activation_watch.for_forum(region.forum) is not None, timeout=10_000)
    assert not main.banner.isVisible() and not main.notifier.decisions
    qtbot.waitUntil(lambda: forums.tree.currentIndex().siblingAtColumn(1).data() == "● AKTIVERAT")

    app.key(Qt.Key.Key_5, CTRL)
    page = main.views["activations"].page
    qtbot.waitUntil(lambda: page.activation_id == activation_id and page.call is not None, timeout=10_000)
    reason = ActivationService(store).may_write_journal(activation_id)
    assert not reason
    assert page.refusal.isVisible() and page.refusal.text() == f"⊘ {reason.text}"
    for button in (page.new_entry_button, page.situation_button, page.report_button):
        assert not button.isEnabled() and button.toolTip() == reason.text
    app.key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: focused("callList"))
    main.update_edit_actions()
    new = main.edit_actions["new"]
    assert not new.isEnabled() and new.toolTip() == reason.text
    assert not main.activation_actions["situation"].isEnabled()
    assert main.activation_actions["situation"].toolTip() == reason.text
    before = store.outbox_count()
    app.key(Qt.Key.Key_2)
    app.key(Qt.Key.Key_N, CTRL)
    qtbot.wait(300)
    assert page.dialog is None and store.outbox_count() == before
    assert main.status.currentMessage() == reason.text
