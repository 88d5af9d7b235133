"""Import and export in the window: the import dialog (file, format said, columns adjustable and savable, preview, progress, cancel) and the export dialog.

Both wrap desktop/io (Qt-free) and run its work on pool threads through ops: reading and
planning an import are reads (QueryOp), applying it is a change (CollectionOp, one
transaction), an export reads. Progress comes back through a ``ProgressRelay``; Avbryt sets its
cancel event, and desktop/io stops at its next check and keeps nothing (the import's
transaction is rolled back, a half-written export file removed).

The import is all or nothing: a file with refused rows imports nothing unless "Importera
resten" is ticked. The preview says the file's format and encoding as detected, the columns
as understood — each adjustable, and savable as a mapping file for the next time or for the
command line — the counts, every refused row with its line and reason, and the changes.

An export is plaintext by nature: the dialog says so, and never writes inside the data folder
beside the encrypted vault.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTableView,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import N_, ngettext, tr
from desktop.ui.files import inside, remember, start_folder
from desktop.ui.messages import describe_error
from desktop.ui.ops import CollectionOp, ProgressRelay, QueryOp
from desktop.ui.widgets import error_label, show_error

PHASES = {"read": N_("Reading the file …"), "plan": N_("Comparing with the vault …"),
          "write": N_("Importing …"), "export": N_("Writing the export …")}
IGNORE = "ignore"
FORMATS = (("xlsx", N_("XLSX – for review rounds (one sheet per organisation)")),
           ("csv", N_("CSV – the same columns, for any spreadsheet program")),
           ("vcf", N_("vCard 4.0 – for phones and mail programs")))
SUFFIXES = {"xlsx": "xlsx", "csv": "csv", "vcf": "vcf"}


def _file_dialog(parent: QWidget, title: str, name_filter: str, *, save: bool, suffix: str = "",
                 data_dir: Path | None = None) -> QFileDialog:
    """Qt's own file dialog (the same words everywhere, and reachable by keyboard in tests),
    opening in the last folder used or the documents folder (files.py), never the current one."""
    dialog = QFileDialog(parent, title)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setDirectory(str(start_folder(data_dir)))
    dialog.fileSelected.connect(lambda name: remember(Path(name)))
    dialog.setNameFilter(name_filter)
    if save:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        if suffix:
            dialog.setDefaultSuffix(suffix)
    else:
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    return dialog


def chosen_path(text: str, data_dir: Path | None) -> Path:
    """The file a typed path names: a bare name lies in the dialogs' folder (files.py), not in
    whatever the current directory happens to be."""
    path = Path(text.strip()).expanduser()
    return path if path.is_absolute() else start_folder(data_dir) / path


class ChangesModel(QAbstractTableModel):
    """The preview's changes as a table — line in the file, new or changed, the record, what
    changes — read from the plan as rows are painted (a file of 10,000 rows makes no widgets)."""

    HEADERS = (N_("Line"), N_("Change"), N_("Function or channel"), N_("What changes"))

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.changes: list = []

    def set_plan(self, plan) -> None:
        self.beginResetModel()
        self.changes = [] if plan is None else [c for c in plan.changes if c.collection != "organisations"]
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.changes)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(self.HEADERS[section])
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole) or not index.isValid():
            return None
        from desktop.io.preview import change_details, change_subject

        change = self.changes[index.row()]
        column = index.column()
        if column == 0:
            return change.location.describe() if change.location is not None else "–"
        if column == 1:
            return "+ " + tr("New") if change.op == "create" else "~ " + tr("Changed")
        if column == 2:
            return change_subject(change)
        return change_details(change)


class Progress(QWidget):
    """A bar, what is being done, and [Avbryt]; ``start(relay)`` follows a job."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("transferProgress")
        self.bar = QProgressBar(self)
        self.bar.setObjectName("transferBar")
        self.words = QLabel(self)
        self.words.setObjectName("transferPhase")
        self.cancel_button = QPushButton(tr("Cancel"), self)
        self.cancel_button.setObjectName("transferCancel")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.words)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.cancel_button)
        self.relay: ProgressRelay | None = None
        self.hide()

    def start(self, relay: ProgressRelay, words: str) -> None:
        self.relay = relay
        relay.progressed.connect(self._progressed)
        self.bar.setRange(0, 0)
        self.words.setText(words)
        self.cancel_button.setEnabled(True)
        self.show()

    def _progressed(self, phase: str, done: int, total: Any) -> None:
        self.words.setText(tr(PHASES.get(phase, PHASES["read"])))
        if total:
            self.bar.setRange(0, int(total))
            self.bar.setValue(min(int(done), int(total)))
        else:
            self.bar.setRange(0, 0)
        self.bar.setAccessibleDescription(self.words.text())

    def cancel(self) -> None:
        if self.relay is not None:
            self.relay.cancel.set()
            self.words.setText(tr("Cancelling …"))
            self.cancel_button.setEnabled(False)

    def stop(self) -> None:
        self.relay = None
        self.hide()

    @property
    def running(self) -> bool:
        return self.relay is not None


class ImportDialog(QDialog):
    """Importera: choose a file, read the preview, adjust the columns, import (or cancel)."""

    imported = Signal(object)  # desktop.io.ImportResult

    def __init__(self, store: Any, parent=None) -> None:
        from desktop.io import ColumnMapping

        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle(tr("Import a contact list"))
        self.store = store
        self.mapping = ColumnMapping()
        self.plan = None
        self.own_organisation: str | None = None
        self.file_dialog: QFileDialog | None = None
        self.result = None
        self.path = QLineEdit(self)
        self.path.setObjectName("importPath")
        self.path.setAccessibleName(tr("The file to import"))
        self.path.setPlaceholderText(tr("An XLSX or CSV file"))
        self.path.returnPressed.connect(self.preview)
        choose = QPushButton(tr("&Choose …"), self)
        choose.setObjectName("importChoose")
        choose.clicked.connect(self.choose_file)
        self.organisation = QComboBox(self)
        self.organisation.setObjectName("importOrganisation")
        self.organisation.setAccessibleName(tr("The organisation the list belongs to"))
        self.organisation_note = QLabel(self)
        self.organisation_note.setWordWrap(True)
        load_map = QPushButton(tr("Read a &mapping file …"), self)
        load_map.setObjectName("importLoadMapping")
        load_map.clicked.connect(self.choose_mapping)
        self.mapping_words = QLabel(tr("Columns are recognised from their headers."), self)
        self.mapping_words.setWordWrap(True)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(choose)
        map_row = QHBoxLayout()
        map_row.addWidget(self.mapping_words, 1)
        map_row.addWidget(load_map)
        form = QFormLayout()
        path_caption = QLabel(tr("&File:"), self)
        path_caption.setBuddy(self.path)
        org_caption = QLabel(tr("&Organisation:"), self)
        org_caption.setBuddy(self.organisation)
        form.addRow(path_caption, file_row)
        form.addRow(org_caption, self.organisation)
        form.addRow("", self.organisation_note)
        form.addRow(tr("Columns:"), map_row)
        self.format_words = QLabel(self)
        self.format_words.setObjectName("importFormat")
        self.format_words.setWordWrap(True)
        self.columns = QTableWidget(0, 2, self)
        self.columns.setObjectName("importColumns")
        self.columns.setAccessibleName(tr("The file's columns and what they hold"))
        self.columns.setHorizontalHeaderLabels([tr("Header in the file"), tr("Holds")])
        self.columns.verticalHeader().hide()
        self.columns.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.columns.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.columns.setMaximumHeight(170)
        save_map = QPushButton(tr("&Save the columns as a mapping file …"), self)
        save_map.setObjectName("importSaveMapping")
        save_map.clicked.connect(self.choose_mapping_to_save)
        self.counts = QLabel(self)
        self.counts.setObjectName("importCounts")
        self.counts.setWordWrap(True)
        self.refused = QListWidget(self)
        self.refused.setObjectName("importRefused")
        self.refused.setAccessibleName(tr("Refused rows, with their line and reason"))
        self.refused.setMaximumHeight(110)
        self.refused.setWordWrap(True)
        self.changes_model = ChangesModel(self)
        self.changes = QTableView(self)
        self.changes.setObjectName("importPreview")
        self.changes.setAccessibleName(tr("What the import changes, row by row"))
        self.changes.setModel(self.changes_model)
        self.changes.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.changes.setWordWrap(False)
        self.changes.verticalHeader().hide()
        self.changes.verticalHeader().setDefaultSectionSize(self.changes.fontMetrics().height() + 8)
        self.changes.horizontalHeader().setStretchLastSection(True)
        self.changes.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        self.changes.setColumnWidth(0, 90)
        self.changes.setColumnWidth(1, 100)
        self.changes.setColumnWidth(2, 330)
        self.rest = QCheckBox(self)
        self.rest.setObjectName("importRest")
        self.rest.toggled.connect(self._ready)
        self.progress = Progress(self)
        self.error = error_label(self, "importError")
        self.buttons = QDialogButtonBox(self)
        self.import_button = self.buttons.addButton(tr("&Import"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setObjectName("importRun")
        self.close_button = self.buttons.addButton(tr("Close"), QDialogButtonBox.ButtonRole.RejectRole)
        self.close_button.setObjectName("importClose")
        self.buttons.accepted.connect(self.run_import)
        self.buttons.rejected.connect(self.reject)
        self.preview_part = QWidget(self)
        part = QVBoxLayout(self.preview_part)
        part.setContentsMargins(0, 0, 0, 0)
        part.addWidget(self.format_words)
        part.addWidget(self.columns)
        part.addWidget(save_map, 0, Qt.AlignmentFlag.AlignLeft)
        part.addWidget(self.counts)
        part.addWidget(self.refused)
        part.addWidget(self.changes, 1)
        part.addWidget(self.rest)
        self.preview_part.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview_part, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self._replan = QTimer(self)
        self._replan.setSingleShot(True)
        self._replan.setInterval(250)
        self._replan.timeout.connect(self.preview)
        self._generation = 0
        self._ready()
        self.resize(820, 720)
        self._load_organisations()
        self.path.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- whose list ------------------------------------------------------------------------

    def _load_organisations(self) -> None:
        store = self.store

        def read() -> tuple[str | None, list[tuple[str, str]]]:
            own = store.get_meta("sync.organisation_id")
            organisations = sorted(((r["record_id"], r["fields"].get("name") or "") for r in store.list("organisations")),
                                   key=lambda o: o[1].casefold())
            return own, organisations

        QueryOp(read, success=self._organisations, parent=self).run()

    def _organisations(self, loaded: tuple[str | None, list[tuple[str, str]]]) -> None:
        own, organisations = loaded
        self.own_organisation = own
        self.organisation.clear()
        for organisation_id, name in organisations:
            if own is None or organisation_id == own:
                self.organisation.addItem(name, organisation_id)
        if own is not None:
            self.organisation.setEnabled(False)
            self.organisation_note.setText(tr("This device writes its own organisation's list only; rows of other "
                                              "organisations are refused."))
        else:
            self.organisation_note.setText(tr("This vault is not connected to a server: choose whose list it is."))
        self.organisation.currentIndexChanged.connect(lambda _i: self._schedule())

    # --- choosing files --------------------------------------------------------------------

    def choose_file(self) -> None:
        dialog = _file_dialog(self, tr("Import a contact list"), tr("Contact lists (*.xlsx *.csv *.txt);;All files (*)"),
                              save=False)
        dialog.setObjectName("importFileDialog")
        dialog.fileSelected.connect(lambda name: (self.path.setText(name), self.preview()))
        self.file_dialog = dialog
        dialog.open()

    def choose_mapping(self) -> None:
        dialog = _file_dialog(self, tr("Read a mapping file"), tr("Mapping files (*.toml)"), save=False)
        dialog.setObjectName("mappingFileDialog")
        dialog.fileSelected.connect(self.load_mapping)
        self.file_dialog = dialog
        dialog.open()

    def load_mapping(self, name: str) -> None:
        from desktop.io import IoError, load_mapping

        try:
            self.mapping = load_mapping(name)
        except IoError as error:
            show_error(self.error, str(error))
            return
        self.mapping_words.setText(tr("Columns from the mapping file {path}.", path=name))
        self._schedule()

    def choose_mapping_to_save(self) -> None:
        dialog = _file_dialog(self, tr("Save the columns as a mapping file"), tr("Mapping files (*.toml)"),
                              save=True, suffix="toml")
        dialog.setObjectName("mappingSaveDialog")
        dialog.fileSelected.connect(lambda name: self.save_mapping(Path(name)))
        self.file_dialog = dialog
        dialog.open()

    def mapping_as_understood(self):
        """The mapping file that reads this file as the preview shows it (the command line's
        --save-map): every header with what it holds, the unknown ones ignored."""
        from desktop.io import ColumnMapping

        columns = dict(self.mapping.columns)
        if self.plan is not None:
            for sheet in self.plan.table.sheets:
                for header, column in sheet.columns:
                    columns.setdefault(header, column)
            for header in self.plan.table.ignored_headers:
                columns.setdefault(header, IGNORE)
        m = self.mapping
        return ColumnMapping(columns, dict(m.kinds), m.sheet, m.header_row, m.encoding, m.delimiter)

    def save_mapping(self, path: Path) -> None:
        from desktop.io import save_mapping

        try:
            save_mapping(path, self.mapping_as_understood())
        except OSError as error:
            show_error(self.error, describe_error(error))
            return
        self.mapping_words.setText(tr("Saved the columns in {path}: use it next time (or with samverka import --map).",
                                      path=path))

    # --- the preview -----------------------------------------------------------------------

    def _schedule(self) -> None:
        if self.path.text().strip():
            self._replan.start()

    def preview(self) -> None:
        """Read the file and plan the import (nothing is changed); a running preview is dropped."""
        from desktop.io import choose_organisation, plan_import, read_table

        if not self.path.text().strip():
            return
        path = chosen_path(self.path.text(), None)
        if self.progress.running:
            self.progress.cancel()
        self._generation += 1
        generation = self._generation
        store, mapping = self.store, self.mapping
        own, requested = self.own_organisation, self.organisation.currentData()
        relay = ProgressRelay(self)
        show_error(self.error, "")
        self.plan = None
        self._ready()
        self.progress.start(relay, tr(PHASES["read"]))

        def work():
            table = read_table(path, mapping, progress=relay, cancel=relay.cancel)
            organisation = choose_organisation(store, requested if own is None else None, device_organisation=own)
            return plan_import(store, table, organisation, mapping=mapping, progress=relay, cancel=relay.cancel)

        QueryOp(work, success=lambda plan: self._previewed(generation, plan), parent=self).failure(
            lambda error: self._failed(generation, error)).run()

    def _previewed(self, generation: int, plan) -> None:
        if generation != self._generation:
            return
        from desktop.io.preview import count_words, refused_lines

        self.progress.stop()
        self.plan = plan
        self.format_words.setText(" · ".join([tr("File: {format}", format=plan.table.describe()),
                                              tr("Organisation: {name} (new: it is created)", name=plan.organisation.name)
                                              if plan.organisation.create else
                                              tr("Organisation: {name}", name=plan.organisation.name),
                                              *plan.table.notice_texts()]))
        self._show_columns(plan)
        created = {c: plan.count("create", c) for c in ("functions", "channels")}
        updated = {c: plan.count("update", c) for c in ("functions", "channels")}
        counts = [tr("To create: {counts}.", counts=count_words(created)),
                  tr("To update: {counts}.", counts=count_words(updated)),
                  ngettext("Unchanged: {n} row.", "Unchanged: {n} rows.", plan.unchanged_rows).format(n=plan.unchanged_rows)]
        if plan.refused:
            counts.append("⚠ " + ngettext("Refused: {n} row.", "Refused: {n} rows.", len(plan.refused)).format(n=len(plan.refused)))
        self.counts.setText(" ".join(counts))
        self.refused.clear()
        for where, reason in refused_lines(plan):
            item = QListWidgetItem(f"⚠ {where}: {reason}")
            self.refused.addItem(item)
        self.refused.setVisible(bool(plan.refused))
        self.changes_model.set_plan(plan)
        count = len(plan.refused)
        self.rest.setText(ngettext("Import the &rest (leave the {n} refused row out)",
                                   "Import the &rest (leave the {n} refused rows out)", count).format(n=count))
        self.rest.setVisible(bool(plan.refused))
        self.rest.setChecked(False)
        self.preview_part.show()
        self._ready()

    def _show_columns(self, plan) -> None:
        from desktop.io.columns import COLUMNS_BY_ID

        rows: list[tuple[str, str]] = []
        seen = set()
        for sheet in plan.table.sheets:
            for header, column in sheet.columns:
                if header not in seen:
                    rows.append((header, column))
                    seen.add(header)
        rows += [(header, IGNORE) for header in plan.table.ignored_headers if header not in seen]
        self.columns.setRowCount(len(rows))
        for number, (header, column) in enumerate(rows):
            name = QLabel(header, self.columns)
            self.columns.setCellWidget(number, 0, name)
            combo = QComboBox(self.columns)
            combo.setAccessibleName(tr("What “{header}” holds", header=header))
            combo.addItem(tr("(not imported)"), IGNORE)
            for spec in COLUMNS_BY_ID.values():
                combo.addItem(spec.title(), spec.id)
            combo.setCurrentIndex(max(combo.findData(column), 0))
            combo.currentIndexChanged.connect(lambda _i, header=header, combo=combo: self._column_chosen(header, combo))
            self.columns.setCellWidget(number, 1, combo)

    def _column_chosen(self, header: str, combo: QComboBox) -> None:
        self.mapping.columns[header] = combo.currentData()
        self.mapping_words.setText(tr("Columns as chosen below (save them as a mapping file to use again)."))
        self._schedule()

    def _failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        from desktop.io.errors import Cancelled

        self.progress.stop()
        if isinstance(error, Cancelled):
            show_error(self.error, tr("Cancelled: nothing was read or changed."))
        else:
            show_error(self.error, describe_error(error))
        self.preview_part.setVisible(False)
        self._ready()

    def _ready(self, *_args) -> None:
        plan = self.plan
        allowed = plan is not None and bool(plan.changes) and (not plan.refused or self.rest.isChecked())
        self.import_button.setEnabled(allowed and not self.progress.running)
        if plan is not None and plan.refused and not self.rest.isChecked():
            self.import_button.setToolTip(tr("The file has refused rows: nothing is imported unless you choose to "
                                             "import the rest."))
        elif plan is not None and not plan.changes:
            self.import_button.setToolTip(tr("Nothing to change: the vault already holds what the file says."))
        else:
            self.import_button.setToolTip("")

    # --- importing -------------------------------------------------------------------------

    def run_import(self) -> None:
        from desktop.io import apply_import

        plan = self.plan
        if plan is None or not self.import_button.isEnabled():
            return
        store, rest = self.store, self.rest.isChecked()
        relay = ProgressRelay(self)
        self.progress.start(relay, tr(PHASES["write"]))
        self.import_button.setEnabled(False)
        show_error(self.error, "")
        CollectionOp(lambda: apply_import(store, plan, import_valid_rows=rest, progress=relay, cancel=relay.cancel),
                     success=self._imported, parent=self).failure(self._import_failed).run()

    def _imported(self, result) -> None:
        from desktop.io.preview import count_words

        self.progress.stop()
        self.result = result
        text = tr("Imported: {created} created, {updated} updated.", created=count_words(result.created),
                  updated=count_words(result.updated))
        if result.left_out:
            text += " " + ngettext("{n} refused row was left out.", "{n} refused rows were left out.",
                                   result.left_out).format(n=result.left_out)
        self.counts.setText("✓ " + text + " " + tr("The changes are sent at the next synchronisation."))
        self.plan = None
        self._ready()
        self.imported.emit(result)
        from desktop.ui.messages import bridge

        bridge().report_info(text)

    def _import_failed(self, error: BaseException) -> None:
        from desktop.io.errors import Cancelled, PlanOutdated

        self.progress.stop()
        if isinstance(error, Cancelled):
            show_error(self.error, tr("Cancelled: nothing was imported."))
        elif isinstance(error, PlanOutdated):
            show_error(self.error, describe_error(error))
            self.preview()
            return
        else:
            show_error(self.error, describe_error(error))
        self._ready()

    def reject(self) -> None:
        if self.progress.running:
            self.progress.cancel()  # nothing is kept; the dialog closes when asked again
            return
        super().reject()


class ExportDialog(QDialog):
    """Exportera: format, which organisations, the file — with the plaintext warning."""

    exported = Signal(object)  # desktop.io.ExportResult

    def __init__(self, store: Any, data_dir: Path | None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle(tr("Export the directory"))
        self.store = store
        self.data_dir = data_dir
        self.file_dialog: QFileDialog | None = None
        self.result = None
        self.format = QComboBox(self)
        self.format.setObjectName("exportFormat")
        self.format.setAccessibleName(tr("Format"))
        for code, words in FORMATS:
            self.format.addItem(tr(words), code)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.every = QCheckBox(tr("&Every organisation"), self)
        self.every.setObjectName("exportEvery")
        self.every.setChecked(True)
        self.every.toggled.connect(self._every_toggled)
        self.organisations = QListWidget(self)
        self.organisations.setObjectName("exportOrganisations")
        self.organisations.setAccessibleName(tr("Organisations to export"))
        self.organisations.setEnabled(False)
        self.path = QLineEdit(self)
        self.path.setObjectName("exportPath")
        self.path.setAccessibleName(tr("The file to write"))
        choose = QPushButton(tr("&Choose …"), self)
        choose.setObjectName("exportChoose")
        choose.clicked.connect(self.choose_file)
        warning = QLabel("⚠ " + tr("An export is not encrypted: anyone who gets the file can read every name and "
                                   "number in it. Keep it safe, and delete it when it is no longer needed. It is never "
                                   "written inside the data folder beside the vault."), self)
        warning.setObjectName("exportWarning")
        warning.setWordWrap(True)
        self.progress = Progress(self)
        self.error = error_label(self, "exportError")
        self.done_words = QLabel(self)
        self.done_words.setObjectName("exportDone")
        self.done_words.setWordWrap(True)
        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton(tr("&Export"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("exportRun")
        close = self.buttons.addButton(tr("Close"), QDialogButtonBox.ButtonRole.RejectRole)
        close.setObjectName("exportClose")
        self.buttons.accepted.connect(self.run_export)
        self.buttons.rejected.connect(self.reject)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(choose)
        form = QFormLayout()
        format_caption = QLabel(tr("&Format:"), self)
        format_caption.setBuddy(self.format)
        path_caption = QLabel(tr("&File:"), self)
        path_caption.setBuddy(self.path)
        form.addRow(format_caption, self.format)
        form.addRow(tr("Organisations:"), self.every)
        form.addRow("", self.organisations)
        form.addRow(path_caption, file_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(warning)
        layout.addWidget(self.progress)
        layout.addWidget(self.error)
        layout.addWidget(self.done_words)
        layout.addWidget(self.buttons)
        self.resize(640, 520)
        QueryOp(lambda: sorted(((r["record_id"], r["fields"].get("name") or "") for r in store.list("organisations")),
                               key=lambda o: o[1].casefold()), success=self._organisations, parent=self).run()
        self.format.setFocus(Qt.FocusReason.OtherFocusReason)

    def _organisations(self, organisations: list[tuple[str, str]]) -> None:
        for organisation_id, name in organisations:
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, organisation_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.organisations.addItem(item)

    def _every_toggled(self, every: bool) -> None:
        self.organisations.setEnabled(not every)
        if not every:
            self.organisations.setFocus(Qt.FocusReason.OtherFocusReason)
            if self.organisations.count() and self.organisations.currentRow() < 0:
                self.organisations.setCurrentRow(0)

    def _format_changed(self) -> None:
        text = self.path.text().strip()
        if text:
            path = Path(text)
            if path.suffix.lower().lstrip(".") in SUFFIXES.values():
                self.path.setText(str(path.with_suffix("." + self.format.currentData())))

    def chosen_organisations(self) -> list[str] | None:
        if self.every.isChecked():
            return None
        return [self.organisations.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.organisations.count())
                if self.organisations.item(row).checkState() == Qt.CheckState.Checked]

    def choose_file(self) -> None:
        code = self.format.currentData()
        dialog = _file_dialog(self, tr("Export – not encrypted"), f"{code.upper()} (*.{code})", save=True, suffix=code,
                              data_dir=self.data_dir)
        dialog.setObjectName("exportFileDialog")
        dialog.selectFile("samverka-katalog." + code)
        dialog.fileSelected.connect(self.path.setText)
        self.file_dialog = dialog
        dialog.open()

    def _refuse(self, text: str) -> None:
        show_error(self.error, text)

    def run_export(self) -> None:
        from desktop.io import export_directory

        text = self.path.text().strip()
        if not text:
            self._refuse(tr("Choose the file to write (Alt+C)."))
            return
        out = chosen_path(text, self.data_dir)
        if out.is_dir():
            self._refuse(tr("{path} is a folder. Name the file to write.", path=out))
            return
        if not out.parent.is_dir():
            self._refuse(tr("The folder {path} does not exist.", path=out.parent))
            return
        if self.data_dir is not None and inside(out, self.data_dir):
            self._refuse(tr("An export is not encrypted, so it is not written inside the data folder {folder}, "
                            "beside the vault. Choose another folder.", folder=self.data_dir))
            return
        organisations = self.chosen_organisations()
        if organisations == []:
            self._refuse(tr("Tick at least one organisation, or export every organisation."))
            return
        store, fmt = self.store, self.format.currentData()
        relay = ProgressRelay(self)
        show_error(self.error, "")
        self.done_words.setText("")
        self.export_button.setEnabled(False)
        self.progress.start(relay, tr(PHASES["export"]))
        QueryOp(lambda: export_directory(store, fmt, out, organisation_ids=organisations, progress=relay,
                                         cancel=relay.cancel),
                success=self._exported, parent=self).failure(self._failed).run()

    def _exported(self, result) -> None:
        from desktop.io.preview import count_words

        self.progress.stop()
        self.export_button.setEnabled(True)
        self.result = result
        remember(Path(result.path))
        organisations = ngettext("{n} organisation", "{n} organisations", result.organisations).format(n=result.organisations)
        counts = count_words({"functions": result.functions, "channels": result.channels})
        text = tr("Wrote {path}: {organisations}, {counts}.", path=result.path, organisations=organisations, counts=counts)
        self.done_words.setText("✓ " + text + " " + tr("The file is not encrypted."))
        self.exported.emit(result)

    def _failed(self, error: BaseException) -> None:
        from desktop.io.errors import Cancelled

        self.progress.stop()
        self.export_button.setEnabled(True)
        show_error(self.error, tr("Cancelled: no file was written.") if isinstance(error, Cancelled) else describe_error(error))

    def reject(self) -> None:
        if self.progress.running:
            self.progress.cancel()
            return
        super().reject()


def open_dialog(window: QWidget, dialog: QDialog, keep: Callable[[QDialog | None], None]) -> QDialog:
    """Show a dialog over the window, kept (for tests and to stay alive) until it closes; then
    the window is active again with the focus where it was."""
    from PySide6.QtWidgets import QApplication

    focus = QApplication.focusWidget()

    def closed(_result: int) -> None:
        import shiboken6

        keep(None)
        window.activateWindow()
        if focus is not None and shiboken6.isValid(focus) and focus.isVisible():
            focus.setFocus(Qt.FocusReason.PopupFocusReason)

    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.finished.connect(closed)
    keep(dialog)
    dialog.open()
    return dialog
