"""The main window: the search field on top, a banner for open activations, the views (Sök, Katalog, Forum, Rutiner, Aktiveringar) below, the sync status at the bottom.

Keyboard first: the search field has focus on open and on Ctrl+K or Ctrl+F from anywhere;
Ctrl+1 … Ctrl+5 switch views; Esc comes back to the search; every action is in the menus and in
the command palette (Ctrl+Shift+P) with its shortcut. Editing acts on what has the focus
(Ctrl+E, Ctrl+N, Del, "Verified today", Alt+↑/↓; desktop/ui/editing.py): an action this device
may not take is disabled, its reason in its tooltip and under the record's title. Ctrl+P prints
what the view shows (printing.py); the Arkiv menu imports and exports (transfer.py); the
Aktivering menu activates the chosen forum and acts on the activation shown (activations.py),
and an open activation of one's own forums is announced across the top (activation_watch.py).
The window
owns no data: it shows what the session's store and sync engine give it, and is thrown away on
lock (so nothing read stays in memory while locked) and rebuilt on unlock or when the language
changes.

Its parts, for those who add to it: ``VIEWS`` and ``_make_view`` (a view is a widget with
``refresh()``, ``focus_list()``, ``copy()`` and ``edit_context()``; ``refresh(collections)`` when
it can tell which changes touch it, ``print_spec()`` when it prints something of its own);
``banner_area`` with the activation banner; the menus built in
``_build_actions``; the status bar (statusbar.py) with the lists behind its counters
(syncissues.py).
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import N_, _, tr
from desktop.ui import theme
from desktop.ui.activation_watch import ActivationBanner, ActivationWatch, TrayNotifier
from desktop.ui.messages import bridge
from desktop.ui.editing import EditContext, Editor, Target
from desktop.ui.ops import QueryOp, StoreEvents, SyncEvents
from desktop.ui.search import SearchField, SearchView
from desktop.ui.statusbar import SyncStatusBar

# The views in order (Ctrl+1 …).
VIEWS = (
    ("search", N_("Search"), "Ctrl+1"),
    ("directory", N_("Directory"), "Ctrl+2"),
    ("forums", N_("Forums"), "Ctrl+3"),
    ("routines", N_("Routines"), "Ctrl+4"),
    ("activations", N_("Activations"), "Ctrl+5"),
)
REFRESH_DELAY_MS = 400  # a sync's pages arrive in bursts: refresh once the burst settles
REFRESH_WHILE_SYNCING_MS = 2000  # during a long pull: now and then, not after every page


def window_title(organisation: str | None, standalone: bool, demo: bool) -> str:
    if organisation:
        return f"Samverka — {organisation}"
    if standalone and demo:
        return tr("Samverka — standalone (demo region)")
    if standalone:
        return tr("Samverka — standalone")
    return "Samverka"


class MainWindow(QMainWindow):
    lockRequested = Signal()
    settingsRequested = Signal()
    themeChosen = Signal(str)
    syncRequested = Signal()
    quitRequested = Signal()

    def __init__(self, session: Any, *, theme_choice: str = "system", parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.session = session
        self.store = session.store
        self.setWindowTitle(window_title(session.organisation_name, not session.enrolled, session.demo))
        self.field = SearchField(self)
        self.nav = QListWidget(self)
        self.nav.setObjectName("views")
        self.nav.setAccessibleName(tr("Views"))
        self.nav.setMaximumWidth(150)
        self.stack = QStackedWidget(self)
        self.views: dict[str, QWidget] = {}
        self.search_view = SearchView(self.store, self.field, self)
        self._add_view("search", self.search_view)
        for key, name, shortcut in VIEWS:
            item = QListWidgetItem(f"{_(name)}\t{shortcut}")
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{_(name)}, {shortcut}")
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(lambda row: self.show_view(VIEWS[row][0]))
        top = QWidget(self)
        top_layout = QHBoxLayout(top)
        top_layout.setContentsMargins(10, 8, 10, 4)
        top_layout.addWidget(self.field)
        # Open activations of one's own forums, across the window; hidden while there are none.
        self.banner_area = QWidget(self)
        self.banner_area.setObjectName("bannerArea")
        QVBoxLayout(self.banner_area).setContentsMargins(10, 0, 10, 0)
        self.banner_area.hide()
        self.activation_watch = ActivationWatch(self.store, self)
        self.banner = ActivationBanner(self.activation_watch, self.banner_area)
        self.banner.openRequested.connect(self.open_activation)
        self.banner_area.layout().addWidget(self.banner)
        self.notifier = TrayNotifier(self)
        self.activation_watch.arrived.connect(self.notifier.announce)
        self.activation_watch.changed.connect(self._activations_changed)
        from desktop.ui.printing import Printing

        self.printing = Printing(self, self.activation_watch.service, getattr(session, "data_dir", None))
        self.transfer_dialog = None
        body = QWidget(self)
        body_layout = QHBoxLayout(body)
        body_layout.setContentsMargins(6, 0, 6, 0)
        body_layout.addWidget(self.nav)
        body_layout.addWidget(self.stack, 1)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(top)
        layout.addWidget(self.banner_area)
        layout.addWidget(body, 1)
        self.setCentralWidget(central)
        self.status = SyncStatusBar(self)
        self.setStatusBar(self.status)
        self.status.syncRequested.connect(self.syncRequested)
        self.status.conflictsRequested.connect(self.show_conflicts)
        self.status.rejectedRequested.connect(self.show_rejected)
        self.editor = Editor(self.store, self)
        self.sync_issues = None
        self.activation_refusal = None
        self.activate_dialog = None
        self._changed_collections: set[str] = set()
        self.menu_actions: list[tuple[str, QAction]] = []
        self._build_actions(theme_choice)
        self.nav.setCurrentRow(0)
        bridge().info.connect(self._info)
        bridge().error.connect(self._error)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.refresh_views)
        self.store_events = StoreEvents(self.store, self)
        self.store_events.changed.connect(self._data_changed)
        self.sync_events = SyncEvents(session.engine, self)
        self.sync_events.status.connect(self.status.show_status)
        self.sync_events.status.connect(self._sync_state)
        # Local edits change the unsent count without the engine noticing: ask it again.
        self._status_timer = QTimer(self)
        self._status_timer.setSingleShot(True)
        self._status_timer.setInterval(REFRESH_DELAY_MS)
        self._status_timer.timeout.connect(self.refresh_status)
        self.refresh_status()
        self.activation_watch.refresh()
        QApplication.instance().focusChanged.connect(self._focus_changed)
        self.update_edit_actions()
        self.resize(1280, 800)

    # --- views -----------------------------------------------------------------------------

    def _add_view(self, key: str, widget: QWidget) -> None:
        self.views[key] = widget
        self.stack.addWidget(widget)
        detail = getattr(widget, "detail", None)
        if detail is not None:
            detail.contextChanged.connect(self.update_edit_actions)
        changed = getattr(widget, "contextChanged", None)
        if changed is not None:
            changed.connect(self.update_edit_actions)

    def _make_view(self, key: str) -> QWidget:
        if key == "directory":
            from desktop.ui.directory import DirectoryView

            return DirectoryView(self.store, self)
        if key == "activations":
            from desktop.ui.activations import ActivationsView

            return ActivationsView(self.store, self)
        from desktop.ui.forums import ForumsView, RoutinesView

        return {"forums": ForumsView, "routines": RoutinesView}[key](self.store, self)

    def view(self, key: str) -> QWidget:
        if key not in self.views:
            self._add_view(key, self._make_view(key))
        return self.views[key]

    def show_view(self, key: str, *, focus: bool = True) -> None:
        widget = self.view(key)
        self.stack.setCurrentWidget(widget)
        if widget.property("stale"):
            widget.setProperty("stale", False)
            widget.refresh()
        row = next(i for i, v in enumerate(VIEWS) if v[0] == key)
        if self.nav.currentRow() != row:
            self.nav.blockSignals(True)
            self.nav.setCurrentRow(row)
            self.nav.blockSignals(False)
        if focus:
            if key == "search":
                self.focus_search()
            else:
                widget.focus_list()

    def current_view_key(self) -> str:
        return next(k for k, w in self.views.items() if w is self.stack.currentWidget())

    def focus_search(self) -> None:
        if self.stack.currentWidget() is not self.search_view:
            self.show_view("search", focus=False)
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()

    def copy_channel(self) -> None:
        widget = self.stack.currentWidget()
        widget.copy()

    # --- actions -----------------------------------------------------------------------------

    def _action(self, menu: Any, menu_name: str, text: str, slot: Callable[[], None],
                shortcuts: tuple[str, ...] = (), name: str = "") -> QAction:
        action = QAction(text, self)
        if name:
            action.setObjectName(name)
        if shortcuts:
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)  # works from anywhere in the window, menu bar shown or not
        self.menu_actions.append((menu_name, action))
        return action

    def _build_actions(self, theme_choice: str) -> None:
        bar = self.menuBar()
        file_name, view_name, sync_name, help_name = tr("File"), tr("View"), tr("Synchronisation"), tr("Help")
        activation_name = tr("Activation")
        file_menu = bar.addMenu(tr("&File"))
        edit_name = tr("Edit")
        edit_menu = bar.addMenu(tr("&Edit"))
        edit_menu.setToolTipsVisible(True)  # a disabled action says why in its tooltip
        view_menu = bar.addMenu(tr("&View"))
        activation_menu = bar.addMenu(tr("Ac&tivation"))
        activation_menu.setToolTipsVisible(True)
        sync_menu = bar.addMenu(tr("&Synchronisation"))
        help_menu = bar.addMenu(tr("&Help"))
        self.edit_actions = {
            "edit": self._action(edit_menu, edit_name, tr("Edit …"), self.edit_current, ("Ctrl+E",), "actionEdit"),
            "new": self._action(edit_menu, edit_name, tr("New …"), self.new_record, ("Ctrl+N",), "actionNew"),
            "delete": self._action(edit_menu, edit_name, tr("Delete …"), self.delete_current, ("Del",), "actionDelete"),
            "verify": self._action(edit_menu, edit_name, tr("Verified today"), self.verify_current, ("Ctrl+Shift+V",),
                                   "actionVerified"),
            "move_up": self._action(edit_menu, edit_name, tr("Move up"), lambda: self.move_current(-1), ("Alt+Up",),
                                    "actionMoveUp"),
            "move_down": self._action(edit_menu, edit_name, tr("Move down"), lambda: self.move_current(1), ("Alt+Down",),
                                      "actionMoveDown"),
        }
        # Del and Alt+↑/↓ belong to the views: in the search field Del deletes a character.
        for key in ("delete", "move_up", "move_down"):
            action = self.edit_actions[key]
            self.removeAction(action)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.stack.addAction(action)
        self._action(view_menu, view_name, tr("Go to the search field"), self.focus_search, ("Ctrl+K", "Ctrl+F"), "actionSearch")
        for key, name, shortcut in VIEWS:
            self._action(view_menu, view_name, tr("Show {view}", view=_(name)),
                         lambda _checked=False, key=key: self.show_view(key), (shortcut,), f"actionView_{key}")
        self._action(view_menu, view_name, tr("Back to the search"), self.focus_search, ("Esc",), "actionBack")
        self._action(view_menu, view_name, tr("Copy the chosen channel"), self.copy_channel, ("Ctrl+C",), "actionCopy")
        view_menu.addSeparator()
        self._action(view_menu, view_name, tr("Command palette …"), self.open_palette, ("Ctrl+Shift+P",), "actionPalette")
        view_menu.addSeparator()
        themes = QActionGroup(self)
        for choice in ("system", "light", "dark"):
            action = self._action(view_menu, view_name, tr("Theme: {theme}", theme=theme.theme_label(choice)),
                                  lambda _checked=False, choice=choice: self.themeChosen.emit(choice), (), f"actionTheme_{choice}")
            action.setCheckable(True)
            action.setChecked(choice == theme_choice)
            themes.addAction(action)
        self.sync_action = self._action(sync_menu, sync_name, tr("Synchronise now"), self.syncRequested.emit, ("Ctrl+Shift+S",), "actionSync")
        self.sync_action.setEnabled(self.session.enrolled)
        sync_menu.addSeparator()
        self._action(sync_menu, sync_name, tr("Conflicts …"), self.show_conflicts, (), "actionConflicts")
        self._action(sync_menu, sync_name, tr("Rejected changes …"), self.show_rejected, (), "actionRejected")
        self.activation_actions = {
            "activate": self._action(activation_menu, activation_name, tr("Activate forum …"), self.activate_forum,
                                     ("Ctrl+Shift+A",), "actionActivate"),
            "situation": self._action(activation_menu, activation_name, tr("Situation report …"),
                                      lambda: self._on_page("new_situation_report"), ("Ctrl+Shift+L",), "actionSituation"),
            "report_back": self._action(activation_menu, activation_name, tr("Record our report-back …"),
                                        lambda: self._on_page("record_report_back"), (), "actionReportBack"),
            "end": self._action(activation_menu, activation_name, tr("End the activation …"),
                                lambda: self._on_page("end_activation"), (), "actionEndActivation"),
        }
        self._action(file_menu, file_name, tr("Print …"), self.print_current, ("Ctrl+P",), "actionPrint")
        self._action(file_menu, file_name, tr("Save as PDF …"), self.save_pdf, (), "actionSavePdf")
        file_menu.addSeparator()
        self._action(file_menu, file_name, tr("Import a contact list …"), self.import_file, ("Ctrl+I",), "actionImport")
        self._action(file_menu, file_name, tr("Export the directory …"), self.export_directory, ("Ctrl+Shift+E",),
                     "actionExport")
        file_menu.addSeparator()
        self._action(file_menu, file_name, tr("Settings …"), self.settingsRequested.emit, ("Ctrl+,",), "actionSettings")
        self._action(file_menu, file_name, tr("Lock now"), self.lockRequested.emit, ("Ctrl+L",), "actionLock")
        file_menu.addSeparator()
        self._action(file_menu, file_name, tr("Quit"), self.quitRequested.emit, ("Ctrl+Q",), "actionQuit")
        self._action(help_menu, help_name, tr("Keyboard shortcuts"), self.show_shortcuts, ("F1",), "actionShortcuts")
        self._action(help_menu, help_name, tr("About Samverka"), self.show_about, (), "actionAbout")

    def open_palette(self) -> None:
        from desktop.ui.palette import CommandPalette

        palette = CommandPalette([(m, a) for m, a in self.menu_actions if a.objectName() != "actionPalette"], self)
        self.command_palette = palette
        palette.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        palette.open()

    def shortcut_rows(self) -> list[tuple[str, str]]:
        rows = []
        for _menu, action in self.menu_actions:
            keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
            if keys:
                rows.append((action.text().replace("&", ""), keys))
        rows.append((tr("Move through the hits"), "↓ ↑"))
        rows.append((tr("Open the hit, call or write to the channel"), "Enter"))
        rows.append((tr("In a call list: no answer, reached, attending, declined"), "1 2 3 4"))
        rows.append((tr("In a checklist: tick or untick the step"), tr("Space")))
        return rows

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td style='padding-right:16px'>{text}</td><td><b>{keys}</b></td></tr>" for text, keys in self.shortcut_rows())
        box = QMessageBox(QMessageBox.Icon.NoIcon, tr("Keyboard shortcuts"), f"<table>{rows}</table>", QMessageBox.StandardButton.Close, self)
        box.setObjectName("shortcutsDialog")
        box.open()

    def show_about(self) -> None:
        QMessageBox.about(self, tr("About Samverka"), tr(
            "Samverka – contact channels, forums and routines for regional crisis collaboration, "
            "also without a network. Everything on this computer is stored encrypted."))

    # --- editing ------------------------------------------------------------------------------

    def edit_context(self) -> EditContext:
        widget = self.stack.currentWidget()
        context = getattr(widget, "edit_context", None)
        return context() if context is not None else EditContext()

    def _focus_changed(self, _old, _new) -> None:
        self.update_edit_actions()

    def update_edit_actions(self) -> None:
        """Enable what may be done where the focus is; a refused action says why."""
        if not hasattr(self, "edit_actions"):
            return
        context = self.edit_context()
        targets = {"edit": context.edit, "new": context.new, "delete": context.delete, "verify": context.verify,
                   "move_up": context.move, "move_down": context.move}
        for key, action in self.edit_actions.items():
            target = targets[key]
            allowed = target is not None and bool(target.permission)
            action.setEnabled(allowed)
            reason = target.permission.text if target is not None and not target.permission else ""
            action.setToolTip(reason or action.text())
            action.setStatusTip(reason)
        self.update_activation_actions()

    def update_activation_actions(self) -> None:
        """Aktivering: "Aktivera forum" where a forum is chosen; the rest on an activation's page,
        disabled with the reason where this device may not write."""
        if not hasattr(self, "activation_actions"):
            return
        page = self._page()
        call = page.call if page is not None else None
        write = call.may_write if call is not None else None
        for key in ("situation", "report_back", "end"):
            permission = (call.may_end if key == "end" else write) if call is not None else None
            allowed = permission is not None and bool(permission)
            if key == "end":
                allowed = allowed and page.summary is not None and page.summary.is_open
            action = self.activation_actions[key]
            action.setEnabled(allowed)
            reason = permission.text if permission is not None and not permission else ""
            action.setToolTip(reason or action.text())
            action.setStatusTip(reason)
        # "Aktivera forum" stays enabled: with no forum chosen it says where to choose one (a
        # disabled shortcut would be silent, and its state can lag a selection by a moment).

    def _detail(self):
        return getattr(self.stack.currentWidget(), "detail", None)

    def edit_current(self) -> None:
        self.editor.open_form(self.edit_context().edit)

    def new_record(self) -> None:
        target = self.edit_context().new
        detail = self._detail()
        self.editor.open_form(target, done=lambda record_id: self._show_new(detail, target, record_id))

    def _show_new(self, detail, target: Target, record_id: str) -> None:
        """The new record, chosen where it was made."""
        if detail is None:
            return
        if target.collection == "channels":
            detail.open("channels", record_id, focus=True)
        elif target.collection in ("mandates", "routine_steps"):
            parent = "forums" if target.collection == "mandates" else "routines"
            parent_id = target.fixed["forum_id" if parent == "forums" else "routine_id"]
            detail.open(parent, parent_id, select=record_id, focus=True)
        else:
            detail.open(target.collection, record_id)

    def delete_current(self) -> None:
        self.editor.delete(self.edit_context().delete)

    def verify_current(self) -> None:
        self.editor.verify(self.edit_context().verify)

    def move_current(self, steps: int) -> None:
        self.editor.move(self.edit_context().move, steps)

    # --- activations -----------------------------------------------------------------------------

    def _page(self):
        """The activation page shown (None in the other views)."""
        widget = self.stack.currentWidget()
        page = getattr(widget, "page", None)
        return page if page is not None and getattr(page, "activation_id", None) else None

    def _on_page(self, method: str) -> None:
        page = self._page()
        if page is None:
            bridge().report_info(tr("Choose an activation first: Activations (Ctrl+5)."))
            return
        getattr(page, method)()

    def current_forum(self) -> tuple[str, str] | None:
        """The forum chosen where the focus is: (id, name), or None."""
        from desktop.views import ForumDetail

        widget = self.stack.currentWidget()
        key = self.current_view_key() if self.views else ""
        if key == "forums":
            from desktop.ui.forums import ID_ROLE

            index = widget.tree.currentIndex().siblingAtColumn(0)
            if index.data(ID_ROLE):
                return index.data(ID_ROLE), index.data() or ""
            return None
        if key == "activations":
            summary = getattr(widget.page, "summary", None)
            return (summary.forum_id, summary.forum_name) if summary is not None else None
        detail = getattr(getattr(widget, "detail", None), "detail", None)
        if isinstance(detail, ForumDetail):
            return detail.forum_id, detail.name
        return None

    def activate_forum(self) -> None:
        """Aktivera forum (Ctrl+Shift+A): asked of the rules first; an open activation of the
        forum is opened instead; a refusal is said in its words."""
        forum = self.current_forum()
        if forum is None:
            bridge().report_info(tr("Choose a forum first: Forums (Ctrl+3), then Ctrl+Shift+A."))
            return
        forum_id, name = forum
        service = self.activation_watch.service

        def ask():
            open_one = next((a for a in service.activations(forum_id=forum_id) if a.is_open), None)
            return open_one, service.may_activate(forum_id)

        QueryOp(ask, success=lambda answer: self._may_activate(forum_id, name, *answer), parent=self).run()

    def _may_activate(self, forum_id: str, name: str, open_one, permission) -> None:
        if open_one is not None:
            bridge().report_info(tr("{forum} is already activated (“{reason}”): here it is.", forum=name,
                                    reason=open_one.reason))
            self.open_activation(open_one.activation_id)
            return
        if not permission:
            box = QMessageBox(QMessageBox.Icon.Information, tr("Activate {forum}", forum=name), permission.text,
                              QMessageBox.StandardButton.Ok, self)
            box.setObjectName("activationRefused")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            focus = QApplication.focusWidget()
            box.finished.connect(lambda _r: (setattr(self, "activation_refusal", None), self._refocus(focus)))
            self.activation_refusal = box
            bridge().report_info(permission.text)
            box.open()
            return
        from desktop.ui.activation_dialogs import ActivateDialog

        dialog = ActivateDialog(self.activation_watch.service, forum_id, name, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._activated)
        focus = QApplication.focusWidget()
        dialog.finished.connect(lambda _r: (setattr(self, "activate_dialog", None), self._refocus(focus)))
        self.activate_dialog = dialog
        dialog.open()

    def _refocus(self, focus: QWidget | None) -> None:
        """A dialog closed: the window active again, the focus where it was (not every platform
        gives it back by itself)."""
        import shiboken6

        self.activateWindow()
        if focus is not None and shiboken6.isValid(focus) and focus.isVisible():
            focus.setFocus(Qt.FocusReason.PopupFocusReason)

    def _activated(self, activation_id: str) -> None:
        bridge().report_info(tr("Activated. The others see it after the next synchronisation."))
        self.activation_watch.refresh()

        def show() -> None:  # once the dialog has closed: the window active, the call list focused
            self.activateWindow()
            self.open_activation(activation_id)

        QTimer.singleShot(0, show)

    def open_activation(self, activation_id: str) -> None:
        self.show_view("activations", focus=False)
        self.views["activations"].open_activation(activation_id)

    def _activations_changed(self) -> None:
        """An activation opened or ended: the forums' marks in every list follow."""
        by_forum = self.activation_watch.by_forum
        self.search_view.set_activated(by_forum)
        for widget in self.views.values():
            mark = getattr(widget, "set_activated", None)
            if mark is not None and widget is not self.search_view:
                mark(by_forum)
            detail = getattr(widget, "detail", None)
            if detail is not None:
                detail.activation_marks_changed()

    # --- printing, import, export ----------------------------------------------------------------

    def print_spec(self):
        from desktop.ui.printing import print_spec

        return print_spec(self.current_view_key(), self.stack.currentWidget())

    def print_current(self) -> None:
        self.printing.print_current(self.print_spec())

    def save_pdf(self) -> None:
        self.printing.save_pdf(self.print_spec())

    def _keep_transfer(self, dialog) -> None:
        self.transfer_dialog = dialog

    def import_file(self) -> None:
        from desktop.ui.transfer import ImportDialog, open_dialog

        open_dialog(self, ImportDialog(self.store, self), self._keep_transfer)

    def export_directory(self) -> None:
        from desktop.ui.transfer import ExportDialog, open_dialog

        open_dialog(self, ExportDialog(self.store, getattr(self.session, "data_dir", None), self), self._keep_transfer)

    # --- conflicts and rejected changes ---------------------------------------------------------

    def _sync_issues(self):
        from desktop.ui.syncissues import SyncIssuesDialog

        if self.sync_issues is None:
            self.sync_issues = SyncIssuesDialog(self.session, self)
            self.sync_issues.syncRequested.connect(self.syncRequested)
        return self.sync_issues

    def show_conflicts(self) -> None:
        self._sync_issues().show_page("conflicts")

    def show_rejected(self) -> None:
        self._sync_issues().show_page("rejected")

    # --- data and messages --------------------------------------------------------------------

    def _sync_state(self, status: Any) -> None:
        syncing = status.state == "syncing"
        self._refresh_timer.setInterval(REFRESH_WHILE_SYNCING_MS if syncing else REFRESH_DELAY_MS)
        if not syncing and self._refresh_timer.isActive():
            self._refresh_timer.start()  # the sync ended: refresh soon

    def refresh_status(self) -> None:
        engine = self.session.engine
        QueryOp(engine.status, success=self.status.show_status, parent=self).failure(lambda _error: None).run()

    def _data_changed(self, changes: Any) -> None:
        if changes.source == "local" and not self._status_timer.isActive():
            self._status_timer.start()  # a sync reports its own counts
        if changes.collections - {"outbox", "conflicts"}:
            self._changed_collections |= set(changes.collections)
            if not self._refresh_timer.isActive():
                self._refresh_timer.start()

    def refresh_views(self) -> None:
        changed, self._changed_collections = self._changed_collections, set()
        self.activation_watch.refresh()
        for widget in self.views.values():
            refresh = getattr(widget, "refresh", None)
            if refresh is not None and widget.isVisible():
                if getattr(widget, "refreshes_by_collection", False) and changed:
                    refresh(changed)
                else:
                    refresh()
            elif refresh is not None:
                widget.setProperty("stale", True)

    def _info(self, text: str) -> None:
        self.status.showMessage(text, 8000)

    def _error(self, text: str) -> None:
        self.status.showMessage(f"⚠ {text}", 20000)

    def detach(self) -> None:
        """Stop listening to the store and engine (before they close)."""
        QApplication.instance().focusChanged.disconnect(self._focus_changed)
        self.activation_watch.stop()
        self.notifier.hide()
        if self.sync_issues is not None:
            self.sync_issues.detach()
        self.store_events.detach()
        self.sync_events.detach()
        bridge().info.disconnect(self._info)
        bridge().error.disconnect(self._error)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        QTimer.singleShot(0, self.focus_search)

    def closeEvent(self, event) -> None:  # noqa: N802
        event.ignore()
        self.quitRequested.emit()
